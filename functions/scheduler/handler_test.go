package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/notify"
	"github.com/hookline/hookline/shared/service"
	"github.com/hookline/hookline/shared/service/servicetest"
	"github.com/hookline/hookline/shared/store/embedded"
	"github.com/hookline/hookline/shared/testutil"
)

// taskQueue keeps the tasks it is asked to create.
type taskQueue struct {
	mu    sync.Mutex
	tasks map[string]json.RawMessage
}

func (q *taskQueue) CreateTask(_ context.Context, taskID string, task json.RawMessage, _ []string) (json.RawMessage, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.tasks[taskID] = task
	return json.RawMessage(`{}`), nil
}

func (q *taskQueue) Status(context.Context, string) (json.RawMessage, error) {
	return json.RawMessage(`{"status":{"runs":[]}}`), nil
}

// The sample EventBridge event of infra/events fires, at the event's time,
// the hooks due then; a retried event fires nothing twice.
func TestHandleSampleEvent(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "infra", "events", "scheduler-tick.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.EventBridgeEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	st, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	q := &taskQueue{tasks: map[string]json.RawMessage{}}
	created := ev.Time.Add(-time.Hour) // the hook exists an hour before the tick
	svc, err := service.New(cfg, service.Deps{Store: st, Queue: q, Logger: slog.New(slog.DiscardHandler), Now: func() time.Time { return created }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	_, err = svc.Hooks.Definitions.CreateHook(context.Background(), "g", "every-minute", hooks.Input{
		Metadata:      hooks.Metadata{Name: "n", Description: "d", Owner: "o@example.com"},
		Task:          json.RawMessage(`{"provisionerId":"p","workerType":"w","payload":{"at":"${now}"}}`),
		Schedule:      []string{"0 * * * * *"},
		TriggerSchema: json.RawMessage(`{}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	h := newHandler(svc, slog.New(slog.DiscardHandler))
	for range 2 {
		if err := h.handle(context.Background(), ev); err != nil {
			t.Fatal(err)
		}
	}
	if len(q.tasks) != 1 {
		t.Fatalf("%d tasks, want 1 (the hook's oldest missed slot, once)", len(q.tasks))
	}
	if err := h.handle(context.Background(), events.EventBridgeEvent{ID: "no-time"}); err == nil {
		t.Fatal("an event without a time must fail, for Lambda to retry it")
	}
}

// The function honours the settings every entry point honours, and sends
// failure emails through SES only when a sender is configured.
func TestBuildHonoursConfig(t *testing.T) {
	quiet := slog.New(slog.DiscardHandler)
	h, err := build(context.Background(), servicetest.Env(nil), quiet)
	if err != nil {
		t.Fatal(err)
	}
	servicetest.CheckHooks(t, h.svc.Hooks)
	if m := h.svc.Hooks.Options().Mailer; m != nil {
		t.Errorf("mailer %T without HOOKLINE_EMAIL_SENDER", m)
	}
	h, err = build(context.Background(), servicetest.Env(map[string]string{"HOOKLINE_EMAIL_SENDER": "hooks@example.com"}), quiet)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := h.svc.Hooks.Options().Mailer.(*notify.SES); !ok {
		t.Errorf("mailer %T, want SES", h.svc.Hooks.Options().Mailer)
	}
}

// Ticking once a minute, with an hour's outage, the function fires every
// slot that GET .../schedule lists for hooks in Lord Howe's zone across
// its half-hour DST gap, with a jitter, and catching up all missed slots:
// each once, after its jittered time. (serve's loop is held to the same
// listing in cmd/hookline's TestServeSchedulerLoop.)
func TestHandleFiresTheListedSlots(t *testing.T) {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	q := &taskQueue{tasks: map[string]json.RawMessage{}}
	var mu sync.Mutex
	clock := time.Date(2026, 10, 3, 14, 0, 0, 0, time.UTC) // 00:30 +10:30 on the night Lord Howe jumps 02:00 -> 02:30
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return clock }
	svc, err := service.New(cfg, service.Deps{Store: st, Queue: q, Logger: slog.New(slog.DiscardHandler), Now: now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	ctx := context.Background()
	settings := map[string]*hooks.ScheduleSettings{
		"gap":    {TimeZone: "Australia/Lord_Howe", Cron: []string{"*/30 * * * *"}, CatchUp: hooks.CatchUpAll},
		"jitter": {TimeZone: "Australia/Lord_Howe", Cron: []string{"15 * * * *"}, Jitter: "20m", CatchUp: hooks.CatchUpAll},
	}
	end := clock.Add(4 * time.Hour)
	want := map[string]bool{}
	for id, s := range settings {
		_, err := svc.Hooks.Definitions.CreateHook(ctx, "g", id, hooks.Input{
			Metadata:      hooks.Metadata{Name: id, Description: "d", Owner: "o@example.com"},
			Task:          json.RawMessage(`{"provisionerId":"p","workerType":"w","payload":{"hook":"` + id + `","at":"${now}"}}`),
			Schedule:      []string{},
			TriggerSchema: json.RawMessage(`{}`),
		})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Hooks.Operations.PutSettings(ctx, "g", id, hooks.Settings{Schedule: s}); err != nil {
			t.Fatal(err)
		}
		// A hook created now fires from its first slot after now.
		listing, err := svc.Hooks.Operations.ListSchedule(ctx, "g", id, clock.Add(time.Second), 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range listing.Fires {
			// Fires due a minute before the end have had their tick.
			if f.FireAt.Before(end.Add(-time.Minute)) {
				want[id+" "+f.Slot.Format("2006-01-02T15:04:05.000Z")] = true
			}
		}
	}
	h := newHandler(svc, slog.New(slog.DiscardHandler))
	for at := clock.Add(time.Minute); at.Before(end); at = at.Add(time.Minute) {
		if at.After(clock.Add(time.Hour)) && at.Before(clock.Add(2*time.Hour)) {
			continue // an hour without ticks
		}
		mu.Lock()
		clock = at
		mu.Unlock()
		if err := h.handle(ctx, events.EventBridgeEvent{ID: at.String(), Time: at}); err != nil {
			t.Fatal(err)
		}
	}
	got := map[string]bool{}
	for _, task := range q.tasks {
		var v struct{ Payload struct{ Hook, At string } }
		json.Unmarshal(task, &v)
		got[v.Payload.Hook+" "+v.Payload.At] = true
	}
	if len(got) != len(q.tasks) || len(want) < 10 {
		t.Fatalf("%d tasks for %d slots; %d listed", len(q.tasks), len(got), len(want))
	}
	for k := range want {
		if !got[k] {
			t.Errorf("listed but not fired: %s", k)
		}
	}
	for k := range got {
		if !want[k] {
			t.Errorf("fired but not listed: %s", k)
		}
	}
}

type fakePoller struct{ polls int }

func (p *fakePoller) Poll(context.Context, hooks.PollOptions) (hooks.PollReport, error) {
	p.polls++
	return hooks.PollReport{}, nil
}

type fakeDeliverer struct{ runs int }

func (d *fakeDeliverer) Deliver(context.Context, int) (hooks.DeliverReport, error) {
	d.runs++
	return hooks.DeliverReport{}, nil
}

// Every tick runs the outcome poller and the notification loop beside it,
// and the scheduler is built as the one deliverer of notifications.
func TestHandleRunsUpkeep(t *testing.T) {
	h, err := build(context.Background(), servicetest.Env(nil), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	if !h.svc.Hooks.Options().Notify.Deliverer {
		t.Fatal("the scheduler does not deliver notifications")
	}
	if h.poller != h.svc.Hooks.Outcomes || h.deliverer != h.svc.Hooks.Notifications || h.pollMax != 500 {
		t.Fatalf("upkeep wiring %+v", h)
	}
	p, d := &fakePoller{}, &fakeDeliverer{}
	h.poller, h.deliverer = p, d
	h.scheduler = noTicks{}
	if err := h.handle(context.Background(), events.EventBridgeEvent{Time: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if p.polls != 1 || d.runs != 1 {
		t.Fatalf("polls %d, deliveries %d", p.polls, d.runs)
	}
}

type noTicks struct{}

func (noTicks) Tick(context.Context, time.Time, hooks.TickOptions) (hooks.TickReport, error) {
	return hooks.TickReport{}, nil
}
