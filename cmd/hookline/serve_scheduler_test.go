package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/store/embedded"
)

// clockedQueue records when each task was created, by the bubble's clock.
type clockedQueue struct {
	mu    sync.Mutex
	at    map[string]time.Time
	tasks map[string]json.RawMessage
}

func (q *clockedQueue) CreateTask(_ context.Context, taskID string, task json.RawMessage, _ []string) (json.RawMessage, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.at[taskID]; !ok {
		q.at[taskID], q.tasks[taskID] = time.Now(), task
	}
	return json.RawMessage(`{}`), nil
}

// sent is one task created: for which hook and slot, and when.
type sent struct {
	now string
	at  time.Time
}

// created lists the tasks by hook.
func (q *clockedQueue) created() map[string][]sent {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := map[string][]sent{}
	for id, at := range q.at {
		var task struct{ Extra struct{ Now, Hook string } }
		json.Unmarshal(q.tasks[id], &task)
		out[task.Extra.Hook] = append(out[task.Extra.Hook], sent{task.Extra.Now, at})
	}
	return out
}

// serve's scheduler loop, in virtual time: an hourly hook fires at the
// first tick after its slot; a hook in Lord Howe's zone with a jitter
// fires at the first tick after its jittered time, not before, with the
// slot as its now.
func TestServeSchedulerLoop(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		// The bubble's clock starts at 2000-01-01T00:00:00Z.
		st, err := embedded.Open(filepath.Join(t.TempDir(), "hooks.db"), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		reg, err := schemas.New()
		if err != nil {
			t.Fatal(err)
		}
		q := &clockedQueue{at: map[string]time.Time{}, tasks: map[string]json.RawMessage{}}
		log := slog.New(slog.NewJSONHandler(io.Discard, nil))
		svc, err := hooks.NewService(st, reg, hooks.Options{Queue: q, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		for id, schedule := range map[string][]string{"plain": {"0 0 * * * *"}, "zoned": {}} {
			in := hooks.Input{Metadata: hooks.Metadata{Name: id, Description: "d", Owner: "o@example.com"}, Schedule: schedule,
				Task:          json.RawMessage(`{"provisionerId":"p","workerType":"w","extra":{"now":"${now}","hook":"` + id + `"}}`),
				TriggerSchema: json.RawMessage(`{"type":"object"}`)}
			if _, err := svc.Definitions.CreateHook(ctx, "g", id, in); err != nil {
				t.Fatal(err)
			}
		}
		// Noon in Lord Howe (+11:00 in January) is 01:00 UTC.
		zoned := &hooks.ScheduleSettings{TimeZone: "Australia/Lord_Howe", Cron: []string{"0 12 * * *"}, Jitter: "30m"}
		if _, err := svc.Operations.PutSettings(ctx, "g", "zoned", hooks.Settings{Schedule: zoned}); err != nil {
			t.Fatal(err)
		}
		listing, err := svc.Operations.ListSchedule(ctx, "g", "zoned", time.Time{}, 1)
		if err != nil {
			t.Fatal(err)
		}
		slot, fireAt := listing.Fires[0].Slot, listing.Fires[0].FireAt
		if want := time.Date(2000, 1, 1, 1, 0, 0, 0, time.UTC); !slot.Equal(want) || fireAt.Before(slot) || !fireAt.Before(slot.Add(30*time.Minute)) {
			t.Fatalf("slot %s fires at %s", slot, fireAt)
		}

		loopCtx, stop := context.WithCancel(ctx)
		done := make(chan struct{})
		go func() {
			defer close(done)
			runScheduler(loopCtx, svc.Scheduler, time.Minute, log)
		}()
		time.Sleep(time.Until(slot) - time.Second)
		if n := len(q.created()); n != 0 {
			t.Fatalf("%d tasks before the slot", n)
		}
		time.Sleep(time.Until(fireAt.Add(2 * time.Minute)))
		stop()
		<-done

		created := q.created()
		const slotNow = "2000-01-01T01:00:00.000Z"
		plain, zonedFires := created["plain"], created["zoned"]
		if len(plain) != 1 || plain[0].now != slotNow || !plain[0].at.Equal(slot.Add(time.Minute)) {
			t.Fatalf("the hourly hook sent %+v: want its 01:00 slot at the 01:01 tick", plain)
		}
		// The loop ticks each whole minute from 00:00: the jittered fire
		// goes out at the first tick after its time.
		firstTick := fireAt.Truncate(time.Minute).Add(time.Minute)
		if len(zonedFires) != 1 || zonedFires[0].now != slotNow || !zonedFires[0].at.Equal(firstTick) {
			t.Fatalf("the zoned hook sent %+v: want its 01:00 slot at %s, the first tick after %s", zonedFires, firstTick, fireAt)
		}
	})
}
