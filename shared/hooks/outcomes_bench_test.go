package hooks

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/slugid"
	"github.com/hookline/hookline/shared/store/embedded"
)

// BenchmarkMatchTaskEventMiss is the bridge's cheap negative check for one
// task event of a task no hook created: the taskId from the routing key,
// looked up among 10,000 awaited fires. Goal: under 2 µs.
func BenchmarkMatchTaskEventMiss(b *testing.B) {
	x := &FireIndex{byTask: map[string]FireRef{}}
	for range 10_000 {
		id := slugid.New()
		x.byTask[id] = FireRef{HookGroupID: "g", HookID: "h", TaskID: id}
	}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("primary.%s.0.wg.wi.prov.wt.sched.%s._", slugid.New(), slugid.New())
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		id, ok := TaskIDOfRoutingKey(keys[i&1023])
		if !ok {
			b.Fatal("routing key")
		}
		if _, hit := x.Match(id); hit {
			b.Fatal("a foreign task matched")
		}
		i++
	}
}

// BenchmarkRecordOutcome records the outcome of one fire's task on the
// embedded store: the fire record and its decision read and rewritten in
// one durable write, and the event published (to a sink that keeps
// nothing).
func BenchmarkRecordOutcome(b *testing.B) {
	ctx := context.Background()
	st, err := embedded.Open(filepath.Join(b.TempDir(), "h.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	svc, err := NewService(st, nil, Options{Events: discardEvents{}, Now: time.Now, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	p := svc.Outcomes
	at := time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		b.StopTimer()
		t := at.Add(time.Duration(i) * time.Millisecond)
		taskID := slugid.New()
		d, err := p.writeDecision(ctx, Decision{HookGroupID: "g", HookID: "h", FiredBy: FiredByTriggerHook, TaskID: taskID, Time: t, Outcome: OutcomeCreated, keep: DefaultHistoryMax},
			lastFire(Definition{HookGroupID: "g", HookID: "h"}, FiredByTriggerHook, taskID, t, nil))
		if err != nil || d.DecisionID == "" {
			b.Fatal(err)
		}
		b.StartTimer()
		ok, err := p.Record(ctx, FireRef{HookGroupID: "g", HookID: "h", TaskID: taskID, TaskCreateTime: t}, TaskOutcome{State: TaskFailed, ReasonResolved: TaskFailed})
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
		i++
	}
}

type discardEvents struct{}

func (discardEvents) Publish(context.Context, Event) {}
