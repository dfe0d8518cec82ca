package hooks

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// eventLog is an EventSink that keeps what it hears.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) Publish(_ context.Context, ev Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.events = append(l.events, ev)
}

func (l *eventLog) kinds() []EventKind {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []EventKind
	for _, ev := range l.events {
		out = append(out, ev.Kind)
	}
	return out
}

func (l *eventLog) of(kind EventKind) []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []Event
	for _, ev := range l.events {
		if ev.Kind == kind {
			out = append(out, ev)
		}
	}
	return out
}

func TestEventsOfTheScheduler(t *testing.T) {
	events := &eventLog{}
	e := newOperateEnv(t, func(o *Options) { o.Events = events })
	e.hourly(t, "h", nil)
	// Down from before 10:00 until 13:20: the 10:00 slot fires late and
	// three slots collapse into it.
	e.tick(t, ten.Add(3*time.Hour+20*time.Minute))
	if got := events.kinds(); !slices.Equal(got, []EventKind{EventSlotLate, EventSlotMissed}) {
		t.Fatalf("events %v", got)
	}
	late, missed := events.of(EventSlotLate)[0], events.of(EventSlotMissed)[0]
	if late.LateSeconds != 200*60 || !late.ScheduledFor.Equal(ten) || late.TaskID == "" || late.ID != "slot-late/"+late.TaskID {
		t.Fatalf("late %+v", late)
	}
	if missed.MissedSlots != 3 || !missed.ScheduledFor.Equal(ten) || missed.DecisionID == "" || missed.HookID != "h" {
		t.Fatalf("missed %+v", missed)
	}
	// An on-time slot is no event.
	e.tick(t, ten.Add(4*time.Hour+30*time.Second))
	if n := len(events.kinds()); n != 2 {
		t.Fatalf("%d events after an on-time slot", n)
	}
}

func TestEventsOfFireErrorsAndPauses(t *testing.T) {
	ctx := context.Background()
	events := &eventLog{}
	e := newOperateEnv(t, func(o *Options) { o.Events = events })
	in := input("broken")
	in.Task = json.RawMessage(`{"$eval":"nope("}`)
	if _, err := e.svc.Definitions.CreateHook(ctx, "g", "broken", in); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Firing.TriggerHook(ctx, "g", "broken", map[string]any{}, "c", "k1"); err == nil {
		t.Fatal("a broken template fired")
	}
	fe := events.of(EventFireError)
	if len(fe) != 1 || fe[0].Outcome != OutcomeRenderError || fe[0].FiredBy != FiredByTriggerHook || fe[0].Error == "" || fe[0].ID != "fire-error/"+fe[0].TaskID+"/render-error" {
		t.Fatalf("fire errors %+v", fe)
	}

	e.operableHook(t, "g", "h")
	target := PauseTarget{HookGroupID: "g", HookID: "h"}
	for range 2 { // pausing a paused hook is no second event
		if _, err := e.svc.Operations.SetPause(ctx, target, true, "maintenance", "alice"); err != nil {
			t.Fatal(err)
		}
	}
	// A paused fire is a choice, not an error.
	e.svc.Firing.TriggerHook(ctx, "g", "h", map[string]any{}, "c", "")
	if _, err := e.svc.Operations.SetPause(ctx, target, false, "", "alice"); err != nil {
		t.Fatal(err)
	}
	// Group pauses concern many hooks and are no hook event.
	e.svc.Operations.SetPause(ctx, PauseTarget{HookGroupID: "g"}, true, "all of g", "bob")
	if got := events.kinds(); !slices.Equal(got, []EventKind{EventFireError, EventHookPaused, EventHookResumed}) {
		t.Fatalf("events %v", got)
	}
	paused, resumed := events.of(EventHookPaused)[0], events.of(EventHookResumed)[0]
	// Both name the pause by its start.
	if paused.Pause == nil || paused.Pause.Reason != "maintenance" || strings.TrimPrefix(paused.ID, "hook-paused/") != strings.TrimPrefix(resumed.ID, "hook-resumed/") {
		t.Fatalf("paused %+v resumed %+v", paused, resumed)
	}
}
