package hooks

import (
	"context"
	"encoding/json"
	"fmt"
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
	checkRace(t, raceTicks(t, newSchedEnv(t), 24, 10))
}
