//go:build integration

package pulse

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/queue"
)

// staleHooks is a HookSource that lags: it hides the hooks in hide, as a
// replica's listing taken just before a hook was (re-)created would.
type staleHooks struct {
	next HookSource
	hide atomic.Pointer[string]
}

func (s *staleHooks) PulseBindings(ctx context.Context) ([]hooks.HookBindings, error) {
	all, err := s.next.PulseBindings(ctx)
	if hide := s.hide.Load(); hide != nil {
		all = slices.DeleteFunc(all, func(h hooks.HookBindings) bool { return h.HookID == *hide })
	}
	return all, err
}

// Two replicas on one namespace do not undo each other's work: one whose
// view of the store lags (it believes a hook gone that the other has) does
// not delete the hook's queue while the other consumes it, so the
// messages waiting in it are not lost; once the hook is really removed,
// its queue goes.
func TestBridgeReplicasDoNotFight(t *testing.T) {
	const total = 1000
	h := newHarness(t)
	ex := h.exchange("e")
	q := h.hook("h", hooks.Binding{Exchange: ex, RoutingKeyPattern: "#"})
	// Both sinks wait for the gate, so messages pile up in the queue.
	gate := make(chan struct{})
	local := h.localSink()
	gated := sinkFunc(func(ctx context.Context, entries []queue.Entry) ([]queue.EntryError, error) {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return local.SendBatch(ctx, entries)
	})
	stale := &staleHooks{next: h.svc.Definitions}
	optsA := h.options(gated)
	optsA.Hooks = stale
	optsA.ConnectionName = h.ns + "-a"
	a := h.start(optsA)
	optsB := h.options(gated)
	optsB.ConnectionName = h.ns + "-b"
	h.start(optsB)
	info := func() (ready, consumers int) {
		ch, err := h.admin.Channel()
		if err != nil {
			t.Fatal(err)
		}
		defer ch.Close()
		info, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
		if err != nil {
			return -1, -1
		}
		return info.Messages, info.Consumers
	}
	waitFor(t, 30*time.Second, "both replicas consuming", func() bool { _, c := info(); return c == 2 })
	bodies := make([][]byte, total)
	for i := range bodies {
		bodies[i] = body(i)
	}
	h.publisher().publishMany(t, ex, "k", bodies)
	waitFor(t, 30*time.Second, "both prefetch windows full", func() bool { r, _ := info(); return r == total-200 })

	id := "h"
	stale.hide.Store(&id)
	a.b.checkQueue(q)
	waitFor(t, 30*time.Second, "the lagging replica to let go of the queue", func() bool { _, c := info(); return c == 1 })
	// The pass that let go may still be running and could yet delete the
	// queue: wait for two more passes to end, the second begun after the
	// consumer was let go.
	passes := func() float64 { return metricValue(a.b, `hookline_bridge_reconciles_total{result="ok"}`) }
	after := passes() + 2
	waitFor(t, 30*time.Second, "two more reconciliations of the lagging replica", func() bool {
		a.b.checkQueue(q)
		return passes() >= after
	})
	if r, c := info(); c != 1 || r < total-200 {
		t.Fatalf("%d messages ready and %d consumers: the queue of a hook the other replica has was deleted", r, c)
	}
	close(gate)
	waitFor(t, 60*time.Second, "a task for every message", func() bool { n, _ := h.tasks.count(); return n == total })

	if err := h.svc.Definitions.RemoveHook(context.Background(), "g", "h"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the removed hook's queue to go", func() bool { _, c := info(); return c == -1 })
}
