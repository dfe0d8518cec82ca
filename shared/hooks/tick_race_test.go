package hooks

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/store"
)

// Two schedulers over one table, as two scheduler functions (or two
// `serve`s) would be: one task and one decision per slot, whoever wins.

// raceKinds are the hooks of a race, by what their slots come to: the
// outcomes a tick records on its own (declined, filtered, paused, a
// render error, an excluded slot) as well as created tasks.
var raceKinds = []struct {
	name     string
	task     string
	settings string
	paused   bool
}{
	{name: "created", task: slotTemplate},
	{name: "excluded", task: slotTemplate, settings: `{"schedule":{"exclude":[{"from":"2026-03-04T10:01:00Z","to":"2026-03-04T10:02:00Z"}]}}`},
	{name: "declined", task: `{"$if":"false","then":{}}`},
	{name: "filtered", task: slotTemplate, settings: `{"filters":["false"]}`},
	{name: "paused", task: slotTemplate, paused: true},
	{name: "renderError", task: `{"$eval":"1 +"}`},
	{name: "refused", task: `{"provisionerId":"p","workerType":"w","extra":{"refuse":true,"now":"${now}"}}`},
}

// raceResult is what a race produced.
type raceResult struct {
	slots, tasks, decisions, created int
	// recorded sums the outcomes both schedulers' reports counted; taken
	// their alreadyTaken.
	recorded, taken int
}

// raceTicks creates hooks per-minute hooks on e's store (cycling through
// raceKinds, first slot 09:59), then ticks two schedulers at once, one
// second after each of the next minutes slots: e's and a second service
// over the same store, queue and clock.
func raceTicks(t *testing.T, e *schedEnv, hooks, minutes int) raceResult {
	t.Helper()
	ctx := context.Background()
	other := newServiceOn(t, e.store, e.svc.Options())
	for i := range hooks {
		k := raceKinds[i%len(raceKinds)]
		id := fmt.Sprintf("%s-%03d", k.name, i)
		in := input(id, "0 * * * * *")
		in.Task = json.RawMessage(k.task)
		if _, err := e.svc.Definitions.CreateHook(ctx, "g", id, in); err != nil {
			t.Fatal(err)
		}
		if k.settings != "" {
			var s Settings
			if err := json.Unmarshal([]byte(k.settings), &s); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.Operations.PutSettings(ctx, "g", id, s); err != nil {
				t.Fatal(err)
			}
		}
		if k.paused {
			if _, err := e.svc.Operations.SetPause(ctx, PauseTarget{HookGroupID: "g", HookID: id}, true, "race", "me"); err != nil {
				t.Fatal(err)
			}
		}
	}
	e.queue.refuse = []byte(`"refuse":true`)
	var r raceResult
	first := time.Date(2026, 3, 4, 9, 59, 1, 0, time.UTC)
	for m := range minutes {
		at := first.Add(time.Duration(m) * time.Minute)
		e.clock.Set(at)
		var mu sync.Mutex
		var wg sync.WaitGroup
		for _, svc := range []*Service{e.svc, other} {
			wg.Go(func() {
				rep, err := svc.Scheduler.Tick(ctx, at, TickOptions{Concurrency: 4})
				if err != nil {
					t.Error(err)
				}
				mu.Lock()
				defer mu.Unlock()
				r.recorded += rep.Fired + rep.Declined + rep.Failed + rep.Paused + rep.Skipped + rep.Collapsed
				r.taken += rep.AlreadyTaken
			})
		}
		wg.Wait()
	}
	r.slots, r.tasks = hooks*minutes, e.queue.taskCount()
	if t.Failed() {
		return r
	}
	taskIDs := map[string]bool{}
	for i := range hooks {
		id := fmt.Sprintf("%s-%03d", raceKinds[i%len(raceKinds)].name, i)
		for page := (store.Page{}); ; {
			got, err := e.svc.Operations.ListDecisions(ctx, "g", id, page)
			if err != nil {
				t.Fatal(err)
			}
			r.decisions += len(got.Decisions)
			for _, d := range got.Decisions {
				if d.Outcome == OutcomeCreated {
					r.created++
					if taskIDs[d.TaskID] {
						t.Errorf("%s: task %s has two created decisions", id, d.TaskID)
					}
					taskIDs[d.TaskID] = true
				}
			}
			if got.ContinuationToken == "" {
				break
			}
			page.Token = got.ContinuationToken
		}
	}
	return r
}

// checkRace fails unless every slot made one decision, every created
// decision one task, and the reports counted every slot once.
func checkRace(t *testing.T, r raceResult) {
	t.Helper()
	t.Logf("%d slots: %d tasks, %d decisions (%d created); reports: %d recorded, %d already taken",
		r.slots, r.tasks, r.decisions, r.created, r.recorded, r.taken)
	if r.decisions != r.slots || r.tasks != r.created || r.recorded != r.slots {
		t.Fatalf("%d slots: %d decisions, %d tasks for %d created decisions, %d slots counted as recorded",
			r.slots, r.decisions, r.tasks, r.created, r.recorded)
	}
}

func TestRacingSchedulersOneDecisionPerSlot(t *testing.T) {
	t.Run("instant queue", func(t *testing.T) {
		checkRace(t, raceTicks(t, newSchedEnv(t), 24, 10))
	})
	// A queue that takes its time holds the slots in flight longer: the
	// other tick finds claims without records.
	t.Run("slow queue", func(t *testing.T) {
		e := newSchedEnv(t)
		e.queue.delay = 2 * time.Millisecond
		checkRace(t, raceTicks(t, e, 24, 5))
	})
}

// crashScenarios are ticks after one that died mid-slot; they run on
// every store backend (tick_race_dynamo_integration_test.go).
var crashScenarios = []struct {
	name string
	run  func(t *testing.T, e *schedEnv)
}{
	{"ClaimerDiedBeforeItsRecord", scenarioClaimerDied},
	{"DiedAfterItsRecordBeforeItsAdvance", scenarioDiedBeforeAdvance},
}

func TestTickAfterACrash(t *testing.T) {
	for _, sc := range crashScenarios {
		t.Run(sc.name, func(t *testing.T) { sc.run(t, newSchedEnv(t)) })
	}
}

// A tick that died between its claim on a slot and its record (here:
// the claim is written as the pipeline writes it, and nothing else)
// holds the slot for inFlightFor: the next ticks record nothing and leave
// it due; then a tick sends the claimed task and records it, once.
func scenarioClaimerDied(t *testing.T, e *schedEnv) {
	ctx := context.Background()
	h := e.hourly(t, "h", nil)
	at := ten.Add(time.Minute)
	task := json.RawMessage(`{"provisionerId":"p","workerType":"w","extra":{"claimed":true}}`)
	key := "fire/g/h/" + h.NextTaskID
	if _, _, won, err := e.svc.Scheduler.writeClaim(ctx, key, fireClaim{Task: task, FiredBy: FiredBySchedule, Created: at}, at); err != nil || !won {
		t.Fatalf("claim: won %v, %v", won, err)
	}
	for _, later := range []time.Duration{0, time.Minute, inFlightFor - time.Second} {
		rep := e.tick(t, at.Add(later))
		if rep.AlreadyTaken != 1 || rep.Fired != 0 || e.queue.taskCount() != 0 || len(e.decisions(t, "g", "h")) != 0 {
			t.Fatalf("%s after the claim: %+v, %d tasks, %d decisions", later, rep, e.queue.taskCount(), len(e.decisions(t, "g", "h")))
		}
		if e.get(t, "h").NextTaskID != h.NextTaskID {
			t.Fatalf("%s after the claim: the slot was not kept due", later)
		}
	}
	rep := e.tick(t, at.Add(inFlightFor))
	if rep.Fired != 1 || rep.AlreadyTaken != 0 || string(e.queue.tasks[h.NextTaskID]) != string(task) {
		t.Fatalf("after inFlightFor: %+v, task %s", rep, e.queue.tasks[h.NextTaskID])
	}
	if ds := e.decisions(t, "g", "h"); len(ds) != 1 || ds[0].Outcome != OutcomeCreated || ds[0].TaskID != h.NextTaskID {
		t.Fatalf("decisions %+v", ds)
	}
	if e.get(t, "h").NextTaskID == h.NextTaskID {
		t.Fatal("the hook did not advance")
	}
}

// A tick that died after recording its fire but before advancing the
// hook leaves the slot due: the next tick finds the fire done, records
// nothing and advances.
func scenarioDiedBeforeAdvance(t *testing.T, e *schedEnv) {
	ctx := context.Background()
	before := e.hourly(t, "h", nil)
	if rep := e.tick(t, ten.Add(time.Minute)); rep.Fired != 1 {
		t.Fatalf("first tick %+v", rep)
	}
	// Undo the advance, as if the tick had died before it.
	back := e.get(t, "h")
	back.NextScheduledDate, back.NextSlot, back.NextTaskID = before.NextScheduledDate, before.NextSlot, before.NextTaskID
	if _, err := e.store.UpdateHook(ctx, back); err != nil {
		t.Fatal(err)
	}
	rep := e.tick(t, ten.Add(2*time.Minute))
	if rep.AlreadyTaken != 1 || rep.Fired != 0 || rep.Lost != 0 {
		t.Fatalf("second tick %+v", rep)
	}
	if n := len(e.decisions(t, "g", "h")); n != 1 || e.queue.taskCount() != 1 {
		t.Fatalf("%d decisions, %d tasks", n, e.queue.taskCount())
	}
	if next := e.get(t, "h").NextScheduledDate; !next.Equal(ten.Add(time.Hour)) {
		t.Fatalf("next %v", next)
	}
	if !strings.Contains(e.logs.String(), `"alreadyTaken":1`) {
		t.Fatalf("the tick log line does not count it:\n%s", e.logs)
	}
}
