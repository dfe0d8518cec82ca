package hooks

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/embedded"
)

// nopQueue accepts every task at once: the tick benchmarks measure the
// scheduler and the store, not a queue.
type nopQueue struct{}

func (nopQueue) CreateTask(context.Context, string, json.RawMessage, []string) (json.RawMessage, error) {
	return json.RawMessage(`{}`), nil
}

var benchStart = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)

// loadHooks stores `stored` hooks directly (32 writers at a time): `due` of
// them fire hourly and are due by benchStart+11m, the rest fire once a year
// and are never due during the benchmark. With featured, a tenth of the
// due hooks have a 10-minute jitter and another tenth a time zone (Berlin,
// whose hours are UTC's), set in their settings as the API would.
func loadHooks(b *testing.B, st store.Store, stored, due int, featured bool) {
	b.Helper()
	def := func(group, id string, schedule string) []byte {
		d, _ := json.Marshal(Definition{
			HookGroupID: group, HookID: id, Bindings: []Binding{},
			Metadata:      Metadata{Name: "n", Description: "d", Owner: "o@example.com"},
			Task:          json.RawMessage(`{"provisionerId":"p","workerType":"w","payload":{},"metadata":{"name":"t","description":"t","owner":"o@example.com","source":"https://example.com"}}`),
			Schedule:      []string{schedule},
			TriggerSchema: json.RawMessage(`{"type":"object","additionalProperties":false}`),
		})
		return d
	}
	work := make(chan int)
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for i := range work {
				group, id := fmt.Sprintf("group%03d", i%500), fmt.Sprintf("hook%07d", i)
				h := store.Hook{HookGroupID: group, HookID: id, TriggerToken: "t", NextTaskID: fmt.Sprintf("task%07d", i), ScheduleKey: "k"}
				if i < due {
					h.Definition = def(group, id, "0 0 * * * *")
					h.NextScheduledDate = benchStart
					if settings := benchSettings(i, featured); settings != nil {
						body, _ := json.Marshal(Settings{Schedule: settings})
						if _, err := st.PutSettings(context.Background(), store.Settings{HookGroupID: group, HookID: id, Body: body}); err != nil {
							b.Error(err)
						}
						p, err := compilePlan([]string{"0 0 * * * *"}, settings)
						if err != nil {
							b.Error(err)
						}
						(&core{newID: func() string { return "k" }}).setNext(&h, p, benchStart, true)
					}
				} else {
					h.Definition = def(group, id, "0 0 0 1 1 *")
					h.NextScheduledDate = benchStart.AddDate(1, 0, 0)
				}
				if _, err := st.CreateHook(context.Background(), h); err != nil {
					b.Error(err)
				}
			}
		})
	}
	for i := range stored {
		work <- i
	}
	close(work)
	wg.Wait()
}

// benchSettings are the schedule settings of due hook i: a jitter for a
// tenth, a zone for another tenth, none for the rest.
func benchSettings(i int, featured bool) *ScheduleSettings {
	switch {
	case !featured:
		return nil
	case i%10 == 0:
		return &ScheduleSettings{Jitter: "10m"}
	case i%10 == 1:
		return &ScheduleSettings{TimeZone: "Europe/Berlin"}
	}
	return nil
}

// benchTick runs one tick per iteration, each an hour after the last, so
// the same `due` hooks are due every time while the rest never are. Ticks
// come 11 minutes past the hour, after every jittered fire.
func benchTick(b *testing.B, newStore func(b *testing.B) store.Store, stored, due int, featured bool) {
	st := newStore(b)
	loadHooks(b, st, stored, due, featured)
	reg, err := schemas.New()
	if err != nil {
		b.Fatal(err)
	}
	var tick time.Time
	svc, err := NewService(st, reg, Options{Queue: nopQueue{}, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), Now: func() time.Time { return tick }})
	if err != nil {
		b.Fatal(err)
	}
	i := 0
	for b.Loop() {
		tick = benchStart.Add(time.Duration(i)*time.Hour + 11*time.Minute)
		rep, err := svc.Scheduler.Tick(context.Background(), tick, TickOptions{Budget: time.Hour})
		if err != nil || rep.Fired != due {
			b.Fatalf("tick %d: %+v %v", i, rep, err)
		}
		i++
	}
}

func newEmbedded(b *testing.B) store.Store {
	st, err := embedded.Open(filepath.Join(b.TempDir(), "bench.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	return st
}

// tickCases are the benchmarks' sizes; "featured" has a tenth of the due
// hooks jittered and a tenth zoned.
var tickCases = []struct {
	stored, due int
	featured    bool
}{{100_000, 1_000, false}, {100_000, 1_000, true}, {10_000, 1_000, false}, {100_000, 100, false}}

func tickCaseName(stored, due int, featured bool) string {
	s := fmt.Sprintf("stored=%d/due=%d", stored, due)
	if featured {
		s += "/jittered=10%/zoned=10%"
	}
	return s
}

// BenchmarkTickEmbedded: the cost of a tick follows the due hooks, not the
// stored ones. Each due hook costs three durable writes (fire claim, fire
// record, advance).
func BenchmarkTickEmbedded(b *testing.B) {
	for _, c := range tickCases {
		b.Run(tickCaseName(c.stored, c.due, c.featured), func(b *testing.B) {
			benchTick(b, newEmbedded, c.stored, c.due, c.featured)
		})
	}
}
