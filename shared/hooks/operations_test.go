package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/taskcluster"
)

// newOperateEnv is a schedEnv whose clock moves a millisecond at every
// reading, so decisions sort in the order they were made.
func newOperateEnv(t *testing.T, edits ...func(*Options)) *schedEnv {
	e := newSchedEnv(t, edits...)
	e.clock.step = time.Millisecond
	return e
}

// operableHook creates an hourly hook (first slot 10:00) whose trigger
// schema takes any object, so every fire kind can reach it.
func (e *schedEnv) operableHook(t *testing.T, group, id string) {
	t.Helper()
	in := input(id, "0 0 * * * *")
	in.Task = json.RawMessage(`{"provisionerId":"p","workerType":"w","payload":{"firedBy":"${firedBy}","p":{"$if":"defined('payload')","then":{"$eval":"payload"}}}}`)
	in.TriggerSchema = json.RawMessage(`{"type":"object"}`)
	if _, err := e.svc.Definitions.CreateHook(context.Background(), group, id, in); err != nil {
		t.Fatal(err)
	}
}

func (e *schedEnv) decisions(t *testing.T, group, id string) []Decision {
	t.Helper()
	page, err := e.svc.Operations.ListDecisions(context.Background(), group, id, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	return page.Decisions
}

func (e *schedEnv) lastDecision(t *testing.T, group, id string) Decision {
	t.Helper()
	ds := e.decisions(t, group, id)
	if len(ds) == 0 {
		t.Fatalf("%s/%s has no decisions", group, id)
	}
	return ds[0]
}

// fireKind fires hook g/id one way and reports the task created ("" for
// none) and the error.
type fireKind struct {
	name string
	fire func(t *testing.T, e *schedEnv, group, id string) (string, error)
}

var fireKinds = []fireKind{
	{FiredBySchedule, func(t *testing.T, e *schedEnv, group, id string) (string, error) {
		rec, err := e.store.GetHook(context.Background(), group, id)
		if err != nil {
			t.Fatal(err)
		}
		e.tick(t, rec.NextScheduledDate.Add(time.Second))
		if after, _ := e.store.GetHook(context.Background(), group, id); !after.NextScheduledDate.After(rec.NextScheduledDate) {
			t.Fatalf("the slot %s did not advance", rec.NextScheduledDate)
		}
		if _, ok := e.queue.tasks[rec.NextTaskID]; ok {
			return rec.NextTaskID, nil
		}
		return "", nil
	}},
	{FiredByTriggerHook, func(t *testing.T, e *schedEnv, group, id string) (string, error) {
		res, err := e.svc.Firing.TriggerHook(context.Background(), group, id, map[string]any{"n": "api"}, "client-a", "")
		return res.TaskID, err
	}},
	{FiredByTriggerHookWithToken, func(t *testing.T, e *schedEnv, group, id string) (string, error) {
		rec, err := e.store.GetHook(context.Background(), group, id)
		if err != nil {
			t.Fatal(err)
		}
		res, err := e.svc.Firing.TriggerHookWithToken(context.Background(), group, id, rec.TriggerToken, map[string]any{"n": "token"}, "")
		return res.TaskID, err
	}},
	{FiredByPulseMessage, func(t *testing.T, e *schedEnv, group, id string) (string, error) {
		res, err := e.svc.Intake.FirePulseMessage(context.Background(), PulseMessage{
			HookGroupID: group, HookID: id, Exchange: "exchange/x/v1/y", RoutingKey: "rk." + fmt.Sprint(e.clock.Now().UnixNano()),
			Payload: json.RawMessage(`{"n":"pulse"}`),
		})
		if err != nil {
			return "", err
		}
		switch res.Outcome {
		case PulseFired:
			return res.TaskID, nil
		case PulsePaused:
			return "", nil
		}
		return "", fmt.Errorf("pulse outcome %s: %s", res.Outcome, res.Reason)
	}},
}

func TestPauseAtEachLevelStopsEveryFireKind(t *testing.T) {
	ctx := context.Background()
	for _, target := range []PauseTarget{{}, {HookGroupID: "g"}, {HookGroupID: "g", HookID: "h"}} {
		for _, kind := range fireKinds {
			t.Run(target.level()+"/"+kind.name, func(t *testing.T) {
				e := newOperateEnv(t)
				e.operableHook(t, "g", "h")
				e.operableHook(t, "other", "h")
				if _, err := e.svc.Operations.SetPause(ctx, target, true, "incident 42", "oncall"); err != nil {
					t.Fatal(err)
				}

				taskID, err := kind.fire(t, e, "g", "h")
				// (A tick also fires the other group's hook: count tasks
				// only where nothing else can fire.)
				if taskID != "" || (kind.name != FiredBySchedule && e.queue.taskCount() != 0) {
					t.Fatalf("a paused hook created task %q (%d tasks)", taskID, e.queue.taskCount())
				}
				apiTrigger := kind.name == FiredByTriggerHook || kind.name == FiredByTriggerHookWithToken
				if apiTrigger != errors.Is(err, ErrPaused) {
					t.Fatalf("error %v: API and token triggers, and only they, answer ErrPaused", err)
				}
				if apiTrigger && !strings.Contains(err.Error(), "incident 42") {
					t.Fatalf("the error %q does not name the pause", err)
				}
				d := e.lastDecision(t, "g", "h")
				if d.Outcome != OutcomePaused || d.Pause == nil || d.Pause.Level != target.level() || d.Pause.Reason != "incident 42" || d.Pause.By != "oncall" || d.FiredBy != kind.name {
					t.Fatalf("decision %+v (pause %+v)", d, d.Pause)
				}

				// A hook outside the paused scope still fires (except
				// under the kill switch).
				other, err := kind.fire(t, e, "other", "h")
				if target.level() == PauseGlobal {
					if other != "" {
						t.Fatal("the kill switch let another hook fire")
					}
				} else if err != nil || other == "" {
					t.Fatalf("a hook of another group did not fire: %q, %v", other, err)
				}

				if _, err := e.svc.Operations.SetPause(ctx, target, false, "", "oncall"); err != nil {
					t.Fatal(err)
				}
				if taskID, err := kind.fire(t, e, "g", "h"); err != nil || taskID == "" {
					t.Fatalf("after resume: %q, %v", taskID, err)
				}
				if d := e.lastDecision(t, "g", "h"); d.Outcome != OutcomeCreated {
					t.Fatalf("after resume the decision is %s", d.Outcome)
				}
			})
		}
	}
}

func TestResumeFiresNoMissedSlots(t *testing.T) {
	ctx := context.Background()
	e := newOperateEnv(t)
	e.operableHook(t, "g", "h")
	if _, err := e.svc.Operations.SetPause(ctx, PauseTarget{HookGroupID: "g"}, true, "maintenance", "me"); err != nil {
		t.Fatal(err)
	}
	for _, at := range []time.Time{ten.Add(time.Second), ten.Add(time.Hour + time.Second)} {
		if rep := e.tick(t, at); rep.Paused != 1 || rep.Fired != 0 {
			t.Fatalf("tick at %s: %+v", at, rep)
		}
	}
	if _, err := e.svc.Operations.SetPause(ctx, PauseTarget{HookGroupID: "g"}, false, "", "me"); err != nil {
		t.Fatal(err)
	}
	if rep := e.tick(t, ten.Add(90*time.Minute)); rep.Due != 0 || e.queue.taskCount() != 0 {
		t.Fatalf("resuming fired a missed slot: %+v", rep)
	}
	if rep := e.tick(t, ten.Add(2*time.Hour+time.Second)); rep.Fired != 1 {
		t.Fatalf("the first slot after resume: %+v", rep)
	}
	var paused int
	for _, d := range e.decisions(t, "g", "h") {
		if d.Outcome == OutcomePaused {
			paused++
		}
	}
	if paused != 2 {
		t.Fatalf("%d paused decisions, want one per skipped slot (2)", paused)
	}
}

func TestPauseKeepsItsStartAndNeedsAReason(t *testing.T) {
	ctx := context.Background()
	e := newOperateEnv(t)
	e.operableHook(t, "g", "h")
	target := PauseTarget{HookGroupID: "g", HookID: "h"}
	if _, err := e.svc.Operations.SetPause(ctx, target, true, "  ", "me"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("a pause without a reason: %v", err)
	}
	first, err := e.svc.Operations.SetPause(ctx, target, true, "first", "alice")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Set(e.clock.Now().Add(time.Hour))
	second, err := e.svc.Operations.SetPause(ctx, target, true, "second", "bob")
	if err != nil {
		t.Fatal(err)
	}
	if !second.Pause.Since.Equal(first.Pause.Since) || second.Pause.By != "alice" || second.Pause.Reason != "second" {
		t.Fatalf("re-pausing: %+v, first %+v", second.Pause, first.Pause)
	}
	got, err := e.svc.Operations.GetPause(ctx, target)
	if err != nil || !got.Paused || got.Pause.Reason != "second" {
		t.Fatalf("GetPause: %+v, %v", got, err)
	}
	// The pause lives in the hook's settings, beside its webhook.
	st, err := e.svc.Operations.GetSettings(ctx, "g", "h")
	if err != nil || st.Paused == nil {
		t.Fatalf("settings: %+v, %v", st, err)
	}
	if _, err := e.svc.Operations.GetPause(ctx, PauseTarget{HookGroupID: "g", HookID: "missing"}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("pause of a missing hook: %v", err)
	}
}

func TestDecisionKinds(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name     string
		task     string
		filters  []string
		queueErr error
		fire     func(e *schedEnv) error
		check    func(t *testing.T, d Decision)
		lastFire string // the listLastFires result, "" for none
	}{
		{
			name: "created",
			fire: func(e *schedEnv) error {
				_, err := e.svc.Firing.TriggerHook(ctx, "g", "h", map[string]any{"a": 1.0}, "c", "")
				return err
			},
			check: func(t *testing.T, d Decision) {
				if d.Outcome != OutcomeCreated || d.TaskID == "" || d.ClientID != "c" || string(d.Payload) != `{"a":1}` {
					t.Fatalf("%+v", d)
				}
			},
			lastFire: "success",
		},
		{
			name: "declined",
			task: `{"$if":"payload.go","then":{"provisionerId":"p","workerType":"w"}}`,
			fire: func(e *schedEnv) error {
				_, err := e.svc.Firing.TriggerHook(ctx, "g", "h", map[string]any{"go": false}, "c", "")
				return err
			},
			check: func(t *testing.T, d Decision) {
				if d.Outcome != OutcomeDeclined || !strings.Contains(d.Reason, "null") {
					t.Fatalf("%+v", d)
				}
			},
		},
		{
			name:    "filtered",
			filters: []string{`firedBy == "triggerHook"`, `payload.branch == "main"`},
			fire: func(e *schedEnv) error {
				res, err := e.svc.Firing.TriggerHook(ctx, "g", "h", map[string]any{"branch": "dev"}, "c", "")
				if err == nil && !res.Filtered {
					return errors.New("the result does not say filtered")
				}
				return err
			},
			check: func(t *testing.T, d Decision) {
				if d.Outcome != OutcomeFiltered || d.Filter != `payload.branch == "main"` || d.Error != "" {
					t.Fatalf("%+v", d)
				}
			},
		},
		{
			name:    "filter that cannot be evaluated",
			filters: []string{`payload.repo.name == "x"`},
			fire: func(e *schedEnv) error {
				_, err := e.svc.Firing.TriggerHook(ctx, "g", "h", map[string]any{}, "c", "")
				return err
			},
			check: func(t *testing.T, d Decision) {
				if d.Outcome != OutcomeFiltered || d.Error == "" || !strings.Contains(d.Reason, "could not be evaluated") {
					t.Fatalf("%+v", d)
				}
			},
		},
		{
			name: "rejected",
			fire: func(e *schedEnv) error {
				_, err := e.svc.Firing.TriggerHook(ctx, "g", "h", []any{"not an object"}, "c", "")
				if !errors.Is(err, ErrInvalid) {
					return fmt.Errorf("want ErrInvalid, got %v", err)
				}
				return nil
			},
			check: func(t *testing.T, d Decision) {
				if d.Outcome != OutcomeRejected || !strings.Contains(d.Error, "object") || string(d.Payload) != `["not an object"]` {
					t.Fatalf("%+v", d)
				}
			},
		},
		{
			name: "render error",
			task: `{"provisionerId":"p","workerType":"w","x":{"$eval":"payload.n + 1"}}`,
			fire: func(e *schedEnv) error {
				_, err := e.svc.Firing.TriggerHook(ctx, "g", "h", map[string]any{"n": "s"}, "c", "")
				var fe *FireError
				if !errors.As(err, &fe) {
					return fmt.Errorf("want a FireError, got %v", err)
				}
				return nil
			},
			check: func(t *testing.T, d Decision) {
				if d.Outcome != OutcomeRenderError || d.Error == "" {
					t.Fatalf("%+v", d)
				}
			},
			lastFire: "error",
		},
		{
			name:     "queue error",
			queueErr: &taskcluster.APIError{StatusCode: 403, Code: "InsufficientScopes", Message: "needs queue:create-task:highest:p/w"},
			fire: func(e *schedEnv) error {
				_, err := e.svc.Firing.TriggerHook(ctx, "g", "h", map[string]any{}, "c", "")
				if err == nil {
					return errors.New("want an error")
				}
				return nil
			},
			check: func(t *testing.T, d Decision) {
				if d.Outcome != OutcomeQueueError || d.WillRetry || !strings.Contains(d.Error, "InsufficientScopes (403): needs queue:create-task") {
					t.Fatalf("%+v", d)
				}
			},
			lastFire: "error",
		},
		{
			name:     "scheduled queue error that will be retried",
			queueErr: &taskcluster.APIError{StatusCode: 503, Code: "ServiceUnavailable", Message: "try later"},
			fire: func(e *schedEnv) error {
				if rep := e.tick(t, ten.Add(time.Second)); rep.Retry != 1 {
					return fmt.Errorf("tick %+v", rep)
				}
				return nil
			},
			check: func(t *testing.T, d Decision) {
				if d.Outcome != OutcomeQueueError || !d.WillRetry || d.FiredBy != FiredBySchedule || d.ScheduledFor == nil || !d.ScheduledFor.Equal(ten) || d.Late {
					t.Fatalf("%+v", d)
				}
			},
			lastFire: "error",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newOperateEnv(t)
			in := input("h", "0 0 * * * *")
			in.TriggerSchema = json.RawMessage(`{"type":"object"}`)
			in.Task = json.RawMessage(`{"provisionerId":"p","workerType":"w"}`)
			if tt.task != "" {
				in.Task = json.RawMessage(tt.task)
			}
			if _, err := e.svc.Definitions.CreateHook(ctx, "g", "h", in); err != nil {
				t.Fatal(err)
			}
			if tt.filters != nil {
				if _, err := e.svc.Operations.PutSettings(ctx, "g", "h", Settings{Filters: tt.filters}); err != nil {
					t.Fatal(err)
				}
			}
			if tt.queueErr != nil {
				e.queue.fail = func(string) error { return tt.queueErr }
			}
			if err := tt.fire(e); err != nil {
				t.Fatal(err)
			}
			ds := e.decisions(t, "g", "h")
			if len(ds) != 1 {
				t.Fatalf("%d decisions, want 1: %+v", len(ds), ds)
			}
			tt.check(t, ds[0])
			if ds[0].DecisionID == "" || ds[0].HookGroupID != "g" || ds[0].HookID != "h" || ds[0].Time.IsZero() {
				t.Fatalf("decision identity: %+v", ds[0])
			}
			fires, _, err := e.store.ListLastFires(ctx, "g", "h", store.Page{})
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tt.lastFire == "" && len(fires) != 0:
				t.Fatalf("listLastFires shows %+v; upstream records only tasks and errors", fires)
			case tt.lastFire != "" && (len(fires) != 1 || fires[0].Result != tt.lastFire):
				t.Fatalf("listLastFires %+v, want one %s", fires, tt.lastFire)
			}
		})
	}
}

func TestLateAndCollapsedSlots(t *testing.T) {
	e := newOperateEnv(t)
	e.hourly(t, "h", nil)
	// The scheduler was down from before 10:00 until 13:20: the 10:00
	// slot fires (late), 11:00, 12:00 and 13:00 collapse into it.
	if rep := e.tick(t, ten.Add(3*time.Hour+20*time.Minute)); rep.Fired != 1 {
		t.Fatalf("tick %+v", rep)
	}
	ds := e.decisions(t, "g", "h")
	if len(ds) != 2 {
		t.Fatalf("decisions %+v", ds)
	}
	byOutcome := map[string]Decision{}
	for _, d := range ds {
		byOutcome[d.Outcome] = d
	}
	fired, collapsed := byOutcome[OutcomeCreated], byOutcome[OutcomeCollapsed]
	if !fired.Late || fired.LateSeconds != 200*60 || !fired.ScheduledFor.Equal(ten) {
		t.Fatalf("fired slot %+v", fired)
	}
	want := []time.Time{ten.Add(time.Hour), ten.Add(2 * time.Hour), ten.Add(3 * time.Hour)}
	if collapsed.MissedSlots != 3 || fmt.Sprint(collapsed.Slots) != fmt.Sprint(want) || !collapsed.ScheduledFor.Equal(ten) {
		t.Fatalf("collapsed %+v", collapsed)
	}
	// An on-time slot is neither late nor collapsing.
	if rep := e.tick(t, ten.Add(4*time.Hour+30*time.Second)); rep.Fired != 1 {
		t.Fatalf("tick %+v", rep)
	}
	if d := e.lastDecision(t, "g", "h"); d.Late || d.Outcome != OutcomeCreated {
		t.Fatalf("on-time slot %+v", d)
	}
	if n := len(e.decisions(t, "g", "h")); n != 3 {
		t.Fatalf("%d decisions, want 3", n)
	}
}

func TestFiltersAreCheckedWhenSaved(t *testing.T) {
	ctx := context.Background()
	e := newOperateEnv(t)
	e.operableHook(t, "g", "h")
	for _, tt := range []struct {
		filters []string
		want    string
	}{
		{[]string{`payload.`}, "filters[0] is not a JSON-e expression"},
		{[]string{`true`, ``}, "filters[1] is empty"},
		{[]string{strings.Repeat("a", maxFilterLength+1)}, "longer than"},
		{make([]string, maxFilters+1), "at most 10 filters"},
	} {
		_, err := e.svc.Operations.PutSettings(ctx, "g", "h", Settings{Filters: tt.filters})
		if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: %v, want %q", tt.filters, err, tt.want)
		}
	}
	if st, err := e.svc.Operations.GetSettings(ctx, "g", "h"); err != nil || st.Filters != nil {
		t.Fatalf("a refused put changed the settings: %+v, %v", st, err)
	}
}

func TestFiltersSeeTheFireContext(t *testing.T) {
	ctx := context.Background()
	e := newOperateEnv(t)
	e.operableHook(t, "g", "h")
	filters := []string{`firedBy != "triggerHook" || clientId == "trusted"`, `firedBy == "schedule" || payload.ok`}
	if _, err := e.svc.Operations.PutSettings(ctx, "g", "h", Settings{Filters: filters}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		client  string
		payload map[string]any
		fires   bool
	}{
		{"trusted", map[string]any{"ok": true}, true},
		{"stranger", map[string]any{"ok": true}, false},
		{"trusted", map[string]any{"ok": false}, false},
	} {
		res, err := e.svc.Firing.TriggerHook(ctx, "g", "h", tt.payload, tt.client, "")
		if err != nil || (res.TaskID != "") != tt.fires || res.Filtered == tt.fires {
			t.Errorf("%s %v: %+v, %v", tt.client, tt.payload, res, err)
		}
	}
	// Schedules have no payload; the second filter lets them through.
	if rep := e.tick(t, ten.Add(time.Second)); rep.Fired != 1 {
		t.Fatalf("tick %+v", rep)
	}
}

func TestReplay(t *testing.T) {
	ctx := context.Background()
	e := newOperateEnv(t)
	e.operableHook(t, "g", "h")
	if _, err := e.svc.Operations.SetPause(ctx, PauseTarget{HookGroupID: "g", HookID: "h"}, true, "deploy", "me"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Intake.FirePulseMessage(ctx, PulseMessage{HookGroupID: "g", HookID: "h", Exchange: "exchange/e", RoutingKey: "r", Payload: json.RawMessage(`{"build": 7}`)}); err != nil {
		t.Fatal(err)
	}
	paused := e.lastDecision(t, "g", "h")
	if paused.Outcome != OutcomePaused || string(paused.Payload) != `{"build":7}` {
		t.Fatalf("paused decision %+v", paused)
	}
	// Replaying while still paused is refused, and recorded.
	if _, err := e.svc.Operations.Replay(ctx, "g", "h", paused.DecisionID, "alice", ""); !errors.Is(err, ErrPaused) {
		t.Fatalf("replay while paused: %v", err)
	}
	if _, err := e.svc.Operations.SetPause(ctx, PauseTarget{HookGroupID: "g", HookID: "h"}, false, "", "me"); err != nil {
		t.Fatal(err)
	}
	res, err := e.svc.Operations.Replay(ctx, "g", "h", paused.DecisionID, "alice", "key-1")
	if err != nil {
		t.Fatal(err)
	}
	d := res.Decision
	if d.Outcome != OutcomeCreated || d.ReplayOf != paused.DecisionID || d.ClientID != "alice" || d.FiredBy != FiredByPulseMessage || d.TaskID == paused.TaskID || d.Pulse == nil {
		t.Fatalf("replay decision %+v", d)
	}
	var task struct {
		Payload struct {
			FiredBy string         `json:"firedBy"`
			P       map[string]any `json:"p"`
		} `json:"payload"`
	}
	if err := json.Unmarshal(e.queue.tasks[d.TaskID], &task); err != nil || task.Payload.FiredBy != FiredByPulseMessage || task.Payload.P["build"] != 7.0 {
		t.Fatalf("replayed task %s: %v", e.queue.tasks[d.TaskID], err)
	}
	// The same idempotency key replays once.
	again, err := e.svc.Operations.Replay(ctx, "g", "h", paused.DecisionID, "alice", "key-1")
	if err != nil || again.TaskID != d.TaskID || e.queue.taskCount() != 1 {
		t.Fatalf("second replay with the same key: %+v, %v (%d tasks)", again, err, e.queue.taskCount())
	}
	// A scheduled decision replays as a schedule fire with a new taskId.
	e.tick(t, ten.Add(time.Second))
	sched := e.lastDecision(t, "g", "h")
	if sched.FiredBy != FiredBySchedule {
		t.Fatalf("%+v", sched)
	}
	res, err = e.svc.Operations.Replay(ctx, "g", "h", sched.DecisionID, "alice", "")
	if err != nil || res.TaskID == "" || res.TaskID == sched.TaskID {
		t.Fatalf("schedule replay: %+v, %v", res, err)
	}

	if _, err := e.svc.Operations.Replay(ctx, "g", "h", "20260101T000000.000000000Z-00000000", "alice", ""); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("replay of an unknown decision: %v", err)
	}
	big := `{"x":"` + strings.Repeat("y", maxDecisionPayload) + `"}`
	if _, err := e.svc.Firing.TriggerHook(ctx, "g", "h", map[string]any{"x": strings.Repeat("y", maxDecisionPayload)}, "c", ""); err != nil {
		t.Fatal(err)
	}
	omitted := e.lastDecision(t, "g", "h")
	if !omitted.PayloadOmitted || omitted.Payload != nil || len(big) <= maxDecisionPayload {
		t.Fatalf("a large payload was kept: %d bytes", len(omitted.Payload))
	}
	if _, err := e.svc.Operations.Replay(ctx, "g", "h", omitted.DecisionID, "alice", ""); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "not kept") {
		t.Fatalf("replay without a payload: %v", err)
	}
}

func TestDecisionLogOff(t *testing.T) {
	ctx := context.Background()
	svc, st := newServiceWith(t, Options{Queue: &fakeQueue{}, Logger: slog.New(slog.DiscardHandler), DecisionRetention: -1})
	in := input("h")
	in.TriggerSchema = json.RawMessage(`{"type":"object"}`)
	if _, err := svc.Definitions.CreateHook(ctx, "g", "h", in); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Firing.TriggerHook(ctx, "g", "h", map[string]any{}, "c", ""); err != nil {
		t.Fatal(err)
	}
	if ds, _, err := st.ListDecisions(ctx, "g", "h", store.Page{}); err != nil || len(ds) != 0 {
		t.Fatalf("decisions with the log off: %d, %v", len(ds), err)
	}
	if fires, _, err := st.ListLastFires(ctx, "g", "h", store.Page{}); err != nil || len(fires) != 1 {
		t.Fatalf("the fire record must still be written: %d, %v", len(fires), err)
	}
}

func TestDecisionsNewestFirstAndRemovedWithTheHook(t *testing.T) {
	ctx := context.Background()
	e := newOperateEnv(t)
	e.operableHook(t, "g", "h")
	for i := range 5 {
		e.clock.Set(ten.Add(time.Duration(i) * time.Minute))
		if _, err := e.svc.Firing.TriggerHook(ctx, "g", "h", map[string]any{"i": float64(i)}, "c", ""); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	page := store.Page{Limit: 2}
	for {
		p, err := e.svc.Operations.ListDecisions(ctx, "g", "h", page)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range p.Decisions {
			seen = append(seen, string(d.Payload))
		}
		if p.ContinuationToken == "" {
			break
		}
		page.Token = p.ContinuationToken
	}
	if got := strings.Join(seen, " "); got != `{"i":4} {"i":3} {"i":2} {"i":1} {"i":0}` {
		t.Fatalf("order %s", got)
	}
	if _, err := e.svc.Operations.ListDecisions(ctx, "g", "h", store.Page{Token: "garbage"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad token: %v", err)
	}
	if err := e.svc.Definitions.RemoveHook(ctx, "g", "h"); err != nil {
		t.Fatal(err)
	}
	if ds, _, err := e.store.ListDecisions(ctx, "g", "h", store.Page{}); err != nil || len(ds) != 0 {
		t.Fatalf("decisions outlived their hook: %d, %v", len(ds), err)
	}
	if _, err := e.svc.Operations.ListDecisions(ctx, "g", "h", store.Page{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("decisions of a removed hook: %v", err)
	}
}

// Pulse messages that fail the triggerSchema, or a filter, create nothing
// and are acknowledged, as upstream, but now leave a decision saying why.
func TestPulseDecisions(t *testing.T) {
	ctx := context.Background()
	e := newOperateEnv(t)
	in := input("h")
	in.TriggerSchema = json.RawMessage(`{"type":"object","required":["build"]}`)
	if _, err := e.svc.Definitions.CreateHook(ctx, "g", "h", in); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Operations.PutSettings(ctx, "g", "h", Settings{Filters: []string{`payload.build > 5`}}); err != nil {
		t.Fatal(err)
	}
	l := e.svc.Intake
	for _, tt := range []struct {
		payload string
		outcome PulseOutcome
		want    string
	}{
		{`{"other":1}`, PulseDiscarded, OutcomeRejected},
		{`not json`, PulseDiscarded, OutcomeRejected},
		{`{"build":3}`, PulseFiltered, OutcomeFiltered},
		{`{"build":9}`, PulseFired, OutcomeCreated},
	} {
		res, err := l.FirePulseMessage(ctx, PulseMessage{HookGroupID: "g", HookID: "h", Exchange: "exchange/x", RoutingKey: "r", Payload: json.RawMessage(tt.payload)})
		if err != nil || res.Outcome != tt.outcome {
			t.Fatalf("%s: %+v, %v", tt.payload, res, err)
		}
		d := e.lastDecision(t, "g", "h")
		if d.Outcome != tt.want || d.Pulse == nil || d.Pulse.RoutingKey != "r" || d.TaskID != res.TaskID {
			t.Fatalf("%s: decision %+v", tt.payload, d)
		}
	}
	if c := l.PulseCounts(); c.Discarded != 2 || c.Filtered != 1 || c.Fired != 1 {
		t.Fatalf("counts %+v", c)
	}
}
