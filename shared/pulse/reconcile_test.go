package pulse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookline/hookline/shared/hooks"
)

// fakeTopo is a broker: queues with their bindings and consumers, counting
// the channels the AMQP implementation would open (one per bind, one per
// unbind call, one per consumer) and recording every call.
type fakeTopo struct {
	queues    map[string][]hooks.Binding
	consumers map[string]hookRef
	others    map[string]int // consumers of other connections (replicas)
	channels  int
	calls     []string
	bindErr   func(b hooks.Binding) error
}

func newFakeTopo() *fakeTopo {
	return &fakeTopo{queues: map[string][]hooks.Binding{}, consumers: map[string]hookRef{}, others: map[string]int{}}
}

func (f *fakeTopo) declareQueue(_ context.Context, q string) error {
	f.calls = append(f.calls, "declare "+q)
	if _, ok := f.queues[q]; !ok {
		f.queues[q] = nil
	}
	return nil
}

func (f *fakeTopo) queueInfo(_ context.Context, q string) (int, int, error) {
	if _, ok := f.queues[q]; !ok {
		return 0, 0, errNoQueue
	}
	n := f.others[q]
	if _, ok := f.consumers[q]; ok {
		n++
	}
	return 0, n, nil
}

func (f *fakeTopo) deleteQueue(_ context.Context, q string) error {
	f.calls = append(f.calls, "delete "+q)
	delete(f.queues, q)
	return nil
}

func (f *fakeTopo) bind(_ context.Context, q string, b hooks.Binding) error {
	f.channels++
	f.calls = append(f.calls, fmt.Sprintf("bind %s %s %s", q, b.Exchange, b.RoutingKeyPattern))
	if f.bindErr != nil {
		if err := f.bindErr(b); err != nil {
			return err
		}
	}
	if !slices.Contains(f.queues[q], b) {
		f.queues[q] = append(f.queues[q], b)
	}
	return nil
}

func (f *fakeTopo) unbind(_ context.Context, q string, bs []hooks.Binding) error {
	f.channels++
	for _, b := range bs {
		f.calls = append(f.calls, fmt.Sprintf("unbind %s %s %s", q, b.Exchange, b.RoutingKeyPattern))
		f.queues[q] = slices.DeleteFunc(f.queues[q], func(x hooks.Binding) bool { return x == b })
	}
	return nil
}

func (f *fakeTopo) consuming(q string) bool { _, ok := f.consumers[q]; return ok }

func (f *fakeTopo) startConsumer(_ context.Context, q string, h hookRef) error {
	f.channels++
	f.calls = append(f.calls, "consume "+q)
	f.consumers[q] = h
	return nil
}

func (f *fakeTopo) stopConsumer(q string) {
	if _, ok := f.consumers[q]; ok {
		f.calls = append(f.calls, "stop "+q)
		delete(f.consumers, q)
	}
}

// fakeHooks is a HookSource. If then is set, it is the answer from the
// second call on (the store changed in between).
type fakeHooks struct {
	list  []hooks.HookBindings
	err   error
	then  []hooks.HookBindings
	calls int
}

func (f *fakeHooks) PulseBindings(context.Context) ([]hooks.HookBindings, error) {
	f.calls++
	if f.then != nil && f.calls > 1 {
		return f.then, f.err
	}
	return f.list, f.err
}

var (
	bA = hooks.Binding{Exchange: "exchange/a", RoutingKeyPattern: "#"}
	bB = hooks.Binding{Exchange: "exchange/b", RoutingKeyPattern: "route.*"}
	bC = hooks.Binding{Exchange: "exchange/c", RoutingKeyPattern: "x"}
)

func quiet() *slog.Logger { return slog.New(slog.DiscardHandler) }

// Upstream listeners_test "syncBindings", cases 1-5.
func TestSyncBindings(t *testing.T) {
	ctx := context.Background()
	notFound := &amqp.Error{Code: amqp.NotFound, Reason: "NOT_FOUND - no exchange 'exchange/b'"}
	for _, tt := range []struct {
		name         string
		old, desired []hooks.Binding
		bindErr      error // for bB
		want         []hooks.Binding
		wantErr      bool
		wantCalls    []string
		wantChannels int
	}{
		{name: "1 adding binds only the new one", old: []hooks.Binding{bA}, desired: []hooks.Binding{bA, bB},
			want: []hooks.Binding{bA, bB}, wantCalls: []string{"bind q exchange/b route.*"}, wantChannels: 1},
		{name: "2 a missing exchange is skipped, each bind on its own channel", old: nil, desired: []hooks.Binding{bA, bB, bC}, bindErr: notFound,
			want: []hooks.Binding{bA, bC}, wantCalls: []string{"bind q exchange/a #", "bind q exchange/b route.*", "bind q exchange/c x"}, wantChannels: 3},
		{name: "2b access refused is skipped too", old: nil, desired: []hooks.Binding{bB, bC}, bindErr: &amqp.Error{Code: amqp.AccessRefused},
			want: []hooks.Binding{bC}, wantCalls: []string{"bind q exchange/b route.*", "bind q exchange/c x"}, wantChannels: 2},
		{name: "3 another error is raised", old: nil, desired: []hooks.Binding{bB, bC}, bindErr: &amqp.Error{Code: amqp.InternalError},
			want: []hooks.Binding{}, wantErr: true, wantCalls: []string{"bind q exchange/b route.*"}, wantChannels: 1},
		{name: "4 removing unbinds only what went away", old: []hooks.Binding{bA, bB}, desired: []hooks.Binding{bA},
			want: []hooks.Binding{bA}, wantCalls: []string{"unbind q exchange/b route.*"}, wantChannels: 1},
		{name: "5 no change opens no channel", old: []hooks.Binding{bA, bB}, desired: []hooks.Binding{bB, bA},
			want: []hooks.Binding{bA, bB}, wantChannels: 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			topo := newFakeTopo()
			topo.queues["q"] = slices.Clone(tt.old)
			topo.bindErr = func(b hooks.Binding) error {
				if b == bB {
					return tt.bindErr
				}
				return nil
			}
			got, err := syncBindings(ctx, topo, "q", tt.old, tt.desired, quiet())
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, want error %v", err, tt.wantErr)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("bound (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantCalls, topo.calls); diff != "" {
				t.Errorf("calls (-want +got):\n%s", diff)
			}
			if topo.channels != tt.wantChannels {
				t.Errorf("%d channels, want %d", topo.channels, tt.wantChannels)
			}
		})
	}
}

const ns = "hookline-test"

func hook(id string, bs ...hooks.Binding) hooks.HookBindings {
	return hooks.HookBindings{HookGroupID: "g", HookID: id, Bindings: bs}
}

// Upstream listeners_test "reconcileConsumers", cases 6-11, and 17.
func TestReconcile(t *testing.T) {
	ctx := context.Background()
	q := func(id string) string { return QueueName(ns, "g", id) }

	t.Run("6 no hooks and no queues does nothing", func(t *testing.T) {
		topo := newFakeTopo()
		r := newReconciler(ns, &fakeHooks{}, quiet())
		if _, err := r.reconcile(ctx, topo, nil); err != nil {
			t.Fatal(err)
		}
		if len(topo.calls) != 0 {
			t.Errorf("calls %v", topo.calls)
		}
	})

	t.Run("7 a new hook gets its queue, bindings and a consumer", func(t *testing.T) {
		topo := newFakeTopo()
		r := newReconciler(ns, &fakeHooks{list: []hooks.HookBindings{hook("h", bA, bB)}}, quiet())
		rep, err := r.reconcile(ctx, topo, nil)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"declare queue/hookline-test/g/h", "bind queue/hookline-test/g/h exchange/a #", "bind queue/hookline-test/g/h exchange/b route.*", "consume queue/hookline-test/g/h"}
		if diff := cmp.Diff(want, topo.calls); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		if topo.consumers[q("h")] != (hookRef{"g", "h"}) {
			t.Errorf("consumers %v", topo.consumers)
		}
		if diff := cmp.Diff(map[string][]hooks.Binding{q("h"): {bA, bB}}, r.boundSnapshot()); diff != "" {
			t.Errorf("recorded bindings (-want +got):\n%s", diff)
		}
		if rep.Hooks != 1 || rep.Queues != 1 || rep.Bindings != 2 || rep.Bound != 2 {
			t.Errorf("report %+v", rep)
		}
	})

	t.Run("8 known bindings, no consumer in this process: consumed and bound again", func(t *testing.T) {
		// Upstream syncs with old = new (binding nothing). We bind
		// again: a queue we do not consume may have been deleted and
		// re-created without bindings, and binding twice is a no-op.
		topo := newFakeTopo()
		topo.queues[q("h")] = []hooks.Binding{bA}
		r := newReconciler(ns, &fakeHooks{list: []hooks.HookBindings{hook("h", bA)}}, quiet())
		r.bound[q("h")] = []hooks.Binding{bA}
		if _, err := r.reconcile(ctx, topo, nil); err != nil {
			t.Fatal(err)
		}
		want := []string{"declare queue/hookline-test/g/h", "bind queue/hookline-test/g/h exchange/a #", "consume queue/hookline-test/g/h"}
		if diff := cmp.Diff(want, topo.calls); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string][]hooks.Binding{q("h"): {bA}}, r.boundSnapshot()); diff != "" {
			t.Errorf("recorded (-want +got):\n%s", diff)
		}
		// A second pass, consumer running, bindings equal: nothing.
		topo.calls, topo.channels = nil, 0
		if _, err := r.reconcile(ctx, topo, nil); err != nil {
			t.Fatal(err)
		}
		if len(topo.calls) != 0 || topo.channels != 0 {
			t.Errorf("second pass: calls %v, %d channels", topo.calls, topo.channels)
		}
	})

	t.Run("9 changed bindings are synced from the recorded ones", func(t *testing.T) {
		topo := newFakeTopo()
		src := &fakeHooks{list: []hooks.HookBindings{hook("h", bA, bB)}}
		r := newReconciler(ns, src, quiet())
		r.reconcile(ctx, topo, nil)
		topo.calls = nil
		src.list = []hooks.HookBindings{hook("h", bB, bC)}
		if _, err := r.reconcile(ctx, topo, nil); err != nil {
			t.Fatal(err)
		}
		want := []string{"unbind queue/hookline-test/g/h exchange/a #", "bind queue/hookline-test/g/h exchange/c x"}
		if diff := cmp.Diff(want, topo.calls); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(map[string][]hooks.Binding{q("h"): {bB, bC}}, r.boundSnapshot()); diff != "" {
			t.Errorf("recorded (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]hooks.Binding{bB, bC}, topo.queues[q("h")]); diff != "" {
			t.Errorf("broker (-want +got):\n%s", diff)
		}
	})

	t.Run("10 bindings became empty: queue deleted, no sync", func(t *testing.T) {
		topo := newFakeTopo()
		topo.queues[q("h")] = []hooks.Binding{bA}
		r := newReconciler(ns, &fakeHooks{list: nil}, quiet()) // the hook has bindings: []
		r.bound[q("h")] = []hooks.Binding{bA}                  // known from before, no consumer here
		if _, err := r.reconcile(ctx, topo, nil); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"delete queue/hookline-test/g/h"}, topo.calls); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		if len(r.boundSnapshot()) != 0 {
			t.Errorf("record kept: %v", r.boundSnapshot())
		}
	})

	t.Run("11 and 17 a removed hook: consumer stopped, queue deleted, no listeners left", func(t *testing.T) {
		topo := newFakeTopo()
		src := &fakeHooks{list: []hooks.HookBindings{hook("h", bA), hook("k", bB)}}
		r := newReconciler(ns, src, quiet())
		r.reconcile(ctx, topo, nil)
		topo.calls = nil
		src.list = nil
		if _, err := r.reconcile(ctx, topo, nil); err != nil {
			t.Fatal(err)
		}
		want := []string{"stop queue/hookline-test/g/h", "delete queue/hookline-test/g/h", "stop queue/hookline-test/g/k", "delete queue/hookline-test/g/k"}
		if diff := cmp.Diff(want, topo.calls); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		if len(topo.consumers) != 0 || len(topo.queues) != 0 || len(r.boundSnapshot()) != 0 {
			t.Errorf("left: consumers %v queues %v recorded %v", topo.consumers, topo.queues, r.boundSnapshot())
		}
	})
}

// Beyond upstream: what periodic reconciliation and change events fix.
func TestReconcileRepairs(t *testing.T) {
	ctx := context.Background()
	q := QueueName(ns, "g", "h")

	t.Run("a queue deleted behind our back is re-created and re-bound", func(t *testing.T) {
		topo := newFakeTopo()
		r := newReconciler(ns, &fakeHooks{list: []hooks.HookBindings{hook("h", bA, bB)}}, quiet())
		r.reconcile(ctx, topo, nil)
		delete(topo.queues, q) // deleted; the cancel has not reached the consumer yet
		topo.calls = nil
		if _, err := r.reconcile(ctx, topo, nil); err != nil {
			t.Fatal(err)
		}
		want := []string{"stop " + q, "declare " + q, "bind " + q + " exchange/a #", "bind " + q + " exchange/b route.*", "consume " + q}
		if diff := cmp.Diff(want, topo.calls); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff([]hooks.Binding{bA, bB}, topo.queues[q]); diff != "" {
			t.Errorf("broker (-want +got):\n%s", diff)
		}
	})

	t.Run("a consumer that ended is restarted with its bindings", func(t *testing.T) {
		topo := newFakeTopo()
		r := newReconciler(ns, &fakeHooks{list: []hooks.HookBindings{hook("h", bA)}}, quiet())
		r.reconcile(ctx, topo, nil)
		delete(topo.consumers, q) // the broker cancelled it: queue deleted
		delete(topo.queues, q)
		topo.calls = nil
		r.reconcile(ctx, topo, nil)
		if !topo.consuming(q) || !slices.Equal(topo.queues[q], []hooks.Binding{bA}) {
			t.Errorf("not repaired: calls %v", topo.calls)
		}
	})

	t.Run("bindings refused are tried again next time", func(t *testing.T) {
		topo := newFakeTopo()
		missing := true
		topo.bindErr = func(b hooks.Binding) error {
			if b == bB && missing {
				return &amqp.Error{Code: amqp.NotFound}
			}
			return nil
		}
		r := newReconciler(ns, &fakeHooks{list: []hooks.HookBindings{hook("h", bA, bB)}}, quiet())
		rep, _ := r.reconcile(ctx, topo, nil)
		if rep.SkippedBindings != 1 || !topo.consuming(q) {
			t.Fatalf("report %+v", rep)
		}
		missing = false
		topo.calls = nil
		rep, _ = r.reconcile(ctx, topo, nil)
		if diff := cmp.Diff([]string{"bind " + q + " exchange/b route.*"}, topo.calls); diff != "" || rep.SkippedBindings != 0 {
			t.Errorf("calls (-want +got):\n%s\nreport %+v", diff, rep)
		}
	})

	t.Run("a queue named by a change but unknown here is deleted, in our namespace only", func(t *testing.T) {
		topo := newFakeTopo()
		gone := QueueName(ns, "g", "deleted-while-down")
		foreign := QueueName("someone-else", "g", "h")
		topo.queues[gone] = []hooks.Binding{bA}
		topo.queues[foreign] = []hooks.Binding{bA}
		r := newReconciler(ns, &fakeHooks{}, quiet())
		if _, err := r.reconcile(ctx, topo, []string{gone, foreign, "queue/" + ns + "/dropped"}); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"delete " + gone}, topo.calls); diff != "" {
			t.Errorf("calls (-want +got):\n%s", diff)
		}
	})

	t.Run("a store failure touches nothing", func(t *testing.T) {
		topo := newFakeTopo()
		src := &fakeHooks{list: []hooks.HookBindings{hook("h", bA)}}
		r := newReconciler(ns, src, quiet())
		r.reconcile(ctx, topo, nil)
		topo.calls = nil
		src.list, src.err = nil, errors.New("store down")
		if _, err := r.reconcile(ctx, topo, []string{q}); err == nil {
			t.Fatal("no error")
		}
		if len(topo.calls) != 0 || !topo.consuming(q) {
			t.Errorf("touched the broker: %v", topo.calls)
		}
	})
}

// Two replicas reconciling one namespace: neither deletes a queue the
// other needs.
func TestReconcileReplicas(t *testing.T) {
	ctx := context.Background()
	q := QueueName(ns, "g", "h")

	t.Run("a removed hook's queue another replica consumes is left until it is free", func(t *testing.T) {
		topo := newFakeTopo()
		src := &fakeHooks{list: []hooks.HookBindings{hook("h", bA)}}
		r := newReconciler(ns, src, quiet())
		r.reconcile(ctx, topo, nil)
		topo.others[q] = 1 // the other replica consumes it too
		src.list = nil
		topo.calls = nil
		rep, err := r.reconcile(ctx, topo, nil)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff([]string{"stop " + q}, topo.calls); diff != "" || rep.InUse != 1 || rep.Deleted != 0 {
			t.Errorf("calls (-want +got):\n%s\nreport %+v", diff, rep)
		}
		// The other replica lets go (it heard of the deletion): the
		// next reconciliation deletes the queue.
		delete(topo.others, q)
		topo.calls = nil
		rep, _ = r.reconcile(ctx, topo, nil)
		if diff := cmp.Diff([]string{"delete " + q}, topo.calls); diff != "" || rep.Deleted != 1 || len(r.boundSnapshot()) != 0 {
			t.Errorf("calls (-want +got):\n%s\nreport %+v", diff, rep)
		}
	})

	t.Run("a queue the other replica deleted first is forgotten", func(t *testing.T) {
		topo := newFakeTopo()
		src := &fakeHooks{list: []hooks.HookBindings{hook("h", bA)}}
		r := newReconciler(ns, src, quiet())
		r.reconcile(ctx, topo, nil)
		src.list = nil
		delete(topo.queues, q)
		topo.calls = nil
		r.reconcile(ctx, topo, nil)
		if diff := cmp.Diff([]string{"stop " + q}, topo.calls); diff != "" || len(r.boundSnapshot()) != 0 {
			t.Errorf("calls (-want +got):\n%s\nrecorded %v", diff, r.boundSnapshot())
		}
	})

	t.Run("a hook re-created since the listing keeps its queue", func(t *testing.T) {
		// The other replica handled "deleted" then "created" for the
		// same hook; our listing fell between the two.
		topo := newFakeTopo()
		topo.queues[q] = []hooks.Binding{bA}
		src := &fakeHooks{list: nil, then: []hooks.HookBindings{hook("h", bA)}}
		r := newReconciler(ns, src, quiet())
		rep, err := r.reconcile(ctx, topo, []string{q})
		if err != nil {
			t.Fatal(err)
		}
		if len(topo.calls) != 0 || rep.Deleted != 0 {
			t.Errorf("calls %v, report %+v", topo.calls, rep)
		}
	})

	t.Run("no second look at the store, no deletion", func(t *testing.T) {
		topo := newFakeTopo()
		topo.queues[q] = []hooks.Binding{bA}
		r := newReconciler(ns, &failSecond{}, quiet())
		if _, err := r.reconcile(ctx, topo, []string{q}); err != nil {
			t.Fatal(err)
		}
		if len(topo.calls) != 0 {
			t.Errorf("calls %v", topo.calls)
		}
	})
}

// failSecond lists no hooks, then fails.
type failSecond struct{ calls int }

func (f *failSecond) PulseBindings(context.Context) ([]hooks.HookBindings, error) {
	f.calls++
	if f.calls > 1 {
		return nil, errors.New("store down")
	}
	return nil, nil
}

func TestNames(t *testing.T) {
	if got := QueueName("taskcluster-hooks", "g", "a/b"); got != "queue/taskcluster-hooks/g/a/b" {
		t.Error(got)
	}
	if got := ExchangeName("taskcluster-hooks", hooks.HookCreated); got != "exchange/taskcluster-hooks/v1/hook-created" {
		t.Error(got)
	}
	for name, want := range map[string]bool{
		"queue/ns/g/h": true, "queue/ns/g/h/i": true, "queue/ns/dropped": false, "queue/ns/hookChanged": false,
		"queue/other/g/h": false, "queue/ns//h": false, "queue/nsx/g/h": false,
		ParkedQueue("ns"): false, DroppedQueue("ns"): false, changesQueuePrefix("ns") + "0123abcd": false,
	} {
		if got := ownQueue("ns", name); got != want {
			t.Errorf("ownQueue(%q) = %v", name, got)
		}
	}
	for name, want := range map[string]hookRef{
		"queue/ns/g/h": {"g", "h"}, "queue/ns/g/a/b.c": {"g", "a/b.c"}, "queue/ns/dropped": {}, "queue/other/g/h": {},
	} {
		if got, ok := hookOfQueue("ns", name); got != want || ok != (want != hookRef{}) {
			t.Errorf("hookOfQueue(%q) = %v %v", name, got, ok)
		}
	}
}
