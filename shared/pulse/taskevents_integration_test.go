//go:build integration

package pulse

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/queue"
	"github.com/hookline/hookline/shared/slugid"
)

// queueExchanges declares the three task exchanges of a stand-in queue
// service under the test's namespace and returns their prefix.
func (h *harness) queueExchanges() string {
	h.t.Helper()
	prefix := "exchange/" + h.ns + "/queue/v1/"
	ch, err := h.admin.Channel()
	if err != nil {
		h.t.Fatal(err)
	}
	defer ch.Close()
	for _, name := range taskEventExchanges {
		if err := ch.ExchangeDeclare(prefix+name, amqp.ExchangeTopic, false, false, false, false, nil); err != nil {
			h.t.Fatal(err)
		}
		h.mu.Lock()
		h.exchanges = append(h.exchanges, prefix+name)
		h.mu.Unlock()
	}
	h.mu.Lock()
	h.queues = append(h.queues, TaskEventsQueue(h.ns))
	h.mu.Unlock()
	return prefix
}

// taskMessage is the queue's message about a resolved task: its exchange
// (by state), primary routing key and body.
func taskMessage(taskID string, i int) (exchange, key string, body []byte) {
	state, reason := "completed", "completed"
	switch i % 3 {
	case 1:
		state, reason = "failed", "failed"
	case 2:
		state, reason = "exception", "deadline-exceeded"
	}
	key = fmt.Sprintf("primary.%s.0.wg.wi.prov.wt.sched.%s._", taskID, taskID)
	body, _ = json.Marshal(map[string]any{
		"version": 1, "runId": 0, "workerGroup": "wg", "workerId": "wi",
		"status": map[string]any{"taskId": taskID, "provisionerId": "prov", "workerType": "wt", "schedulerId": "sched", "taskGroupId": taskID,
			"deadline": "2030-01-01T00:00:00.000Z", "expires": "2031-01-01T00:00:00.000Z", "retriesLeft": 5, "state": state,
			"runs": []any{map[string]any{"runId": 0, "state": state, "reasonCreated": "scheduled", "reasonResolved": reason,
				"scheduled": "2029-12-31T00:00:00.000Z", "resolved": "2029-12-31T00:01:00.000Z"}}},
		"task": map[string]any{"tags": map[string]any{}},
	})
	return "task-" + state, key, body
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// Task events published on the queue's exchanges for 10,000 tasks, 100 of
// them created by hooks: exactly those 100 are matched and forwarded,
// with their outcomes. The log notes the bridge's CPU per 1,000 foreign
// events (the process's CPU while a bridge started against the full queue
// drains it).
func TestTaskEventsMatchHooksTasks(t *testing.T) {
	const total, ours = 10_000, 100
	h := newHarness(t)
	prefix := h.queueExchanges()
	ctx := context.Background()
	if _, err := h.svc.Definitions.CreateHook(ctx, "g", "h", hooks.Input{
		Metadata: hooks.Metadata{Name: "h", Description: "d", Owner: "o@example.com"},
		Task:     json.RawMessage(`{"provisionerId":"prov","workerType":"wt","payload":{}}`), Schedule: []string{}, TriggerSchema: json.RawMessage(`{}`),
	}); err != nil {
		t.Fatal(err)
	}
	mine := map[string]bool{}
	for range ours {
		res, err := h.svc.Firing.TriggerHook(ctx, "g", "h", map[string]any{}, "c", "")
		if err != nil {
			t.Fatal(err)
		}
		mine[res.TaskID] = true
	}
	// The messages, the hooks' spread among the others.
	type msg struct {
		exchange, key string
		body          []byte
	}
	var msgs []msg
	hookIDs := make([]string, 0, ours)
	for id := range mine {
		hookIDs = append(hookIDs, id)
	}
	for i := range total {
		id := slugid.New()
		if i%(total/ours) == 0 {
			id = hookIDs[i/(total/ours)]
		}
		ex, key, body := taskMessage(id, i)
		msgs = append(msgs, msg{prefix + ex, key, body})
	}

	opts := h.options(nil)
	opts.Changes = nil
	opts.TaskEvents = prefix
	opts.Logger = quiet()
	// A first bridge declares and binds the task-events queue.
	setup := opts
	setup.Sink, setup.Fires = queue.NewMemory(nil), h.svc.Outcomes.NewFireIndex(hooks.FireIndexOptions{})
	first := h.start(setup)
	waitFor(t, 30*time.Second, "the task-events queue", func() bool { _, ok := h.queueExists(TaskEventsQueue(h.ns)); return ok })
	first.stop(t)
	pub := h.publisher()
	for _, m := range msgs {
		if _, err := pub.ch.PublishWithDeferredConfirmWithContext(ctx, m.exchange, m.key, false, false, amqp.Publishing{ContentType: "application/json", Body: m.body}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, 60*time.Second, "the events to be queued", func() bool { n, _ := h.queueExists(TaskEventsQueue(h.ns)); return n == total })

	// The bridge under measure: from its start until the queue is drained.
	sink := queue.NewMemory(nil)
	opts.Sink, opts.Fires = sink, h.svc.Outcomes.NewFireIndex(hooks.FireIndexOptions{})
	cpu0, wall0 := cpuTime(), time.Now()
	br := h.start(opts)
	waitFor(t, 60*time.Second, "the events to be read", func() bool {
		n, _ := h.queueExists(TaskEventsQueue(h.ns))
		return n == 0 && metricValue(br.b, `hookline_bridge_task_events_total{result="foreign"}`) == total-ours && sink.Len() == ours
	})
	cpu, wall := cpuTime()-cpu0, time.Since(wall0)
	t.Logf("bridge read %d task events (%d foreign) in %v wall, %v CPU: %v CPU per 1,000 foreign events",
		total, total-ours, wall.Round(time.Millisecond), cpu.Round(time.Millisecond), (cpu / time.Duration((total-ours)/1000)).Round(10*time.Microsecond))

	matched := map[string]bool{}
	for _, b := range sink.Bodies() {
		m, ok, err := hooks.ParseTaskOutcomeMessage(b)
		if !ok || err != nil || !mine[m.Fire.TaskID] || m.Fire.HookID != "h" || m.Outcome.Source != "event" {
			t.Fatalf("forwarded %s (%v)", b, err)
		}
		matched[m.Fire.TaskID] = true
	}
	if len(matched) != ours || metricValue(br.b, `hookline_bridge_task_events_total{result="matched"}`) != ours {
		t.Fatalf("matched %d distinct hook tasks of %d", len(matched), ours)
	}
	// Recording them: each fire gets its outcome.
	for _, b := range sink.Bodies() {
		m, _, _ := hooks.ParseTaskOutcomeMessage(b)
		if ok, err := h.svc.Outcomes.Record(ctx, m.Fire, m.Outcome); !ok || err != nil {
			t.Fatalf("record %s: %v %v", m.Fire.TaskID, ok, err)
		}
	}
}

// lateIndex is a FireMatcher that learns of its fire only at its second
// refresh, as a bridge whose index lags a fire does.
type lateIndex struct {
	mu        sync.Mutex
	ref       hooks.FireRef
	refreshes int
}

func (x *lateIndex) Match(taskID string) (hooks.FireRef, bool) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.ref, x.refreshes >= 2 && taskID == x.ref.TaskID
}

func (x *lateIndex) Refresh(context.Context) (int, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.refreshes++
	if x.refreshes == 2 {
		return 1, nil
	}
	return 0, nil
}

func (x *lateIndex) Forget(string) {}

// An event that arrives before its fire is in the index is kept, and
// forwarded once a refresh learns of the fire.
func TestTaskEventsMatchLate(t *testing.T) {
	h := newHarness(t)
	prefix := h.queueExchanges()
	sink := queue.NewMemory(nil)
	id := slugid.New()
	x := &lateIndex{ref: hooks.FireRef{HookGroupID: "g", HookID: "h", TaskID: id, TaskCreateTime: time.Now()}}
	opts := h.options(sink)
	opts.Changes, opts.TaskEvents, opts.Fires, opts.RefreshEvery = nil, prefix, x, 300*time.Millisecond
	br := h.start(opts)
	waitFor(t, 30*time.Second, "the task-events queue", func() bool { _, ok := h.queueExists(TaskEventsQueue(h.ns)); return ok })
	x.mu.Lock()
	x.refreshes = 0 // the fire is new from here
	x.mu.Unlock()
	ex, key, body := taskMessage(id, 1)
	h.publisher().publish(t, prefix+ex, key, body)
	waitFor(t, 30*time.Second, "the late match", func() bool { return sink.Len() == 1 })
	if metricValue(br.b, `hookline_bridge_task_events_total{result="matched-late"}`) != 1 {
		t.Fatal("not counted as matched late")
	}
	m, _, err := hooks.ParseTaskOutcomeMessage(sink.Bodies()[0])
	if err != nil || m.Fire.TaskID != id || m.Outcome.State != "failed" {
		t.Fatalf("%+v %v", m, err)
	}
}
