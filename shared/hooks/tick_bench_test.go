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
// them fire hourly and are due at benchStart+1m, the rest fire once a year
// and are never due during the benchmark.
func loadHooks(b *testing.B, st store.Store, stored, due int) {
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
				h := store.Hook{HookGroupID: group, HookID: id, TriggerToken: "t", NextTaskID: fmt.Sprintf("task%07d", i)}
				if i < due {
					h.Definition = def(group, id, "0 0 * * * *")
					h.NextScheduledDate = benchStart
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

// benchTick runs one tick per iteration, each an hour after the last, so
// the same `due` hooks are due every time while the rest never are.
func benchTick(b *testing.B, newStore func(b *testing.B) store.Store, stored, due int) {
	st := newStore(b)
	loadHooks(b, st, stored, due)
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
		tick = benchStart.Add(time.Duration(i)*time.Hour + time.Minute)
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

// BenchmarkTickEmbedded: the cost of a tick follows the due hooks, not the
// stored ones. Each due hook costs three durable writes (fire claim, fire
// record, advance).
func BenchmarkTickEmbedded(b *testing.B) {
	for _, c := range []struct{ stored, due int }{{100_000, 1_000}, {10_000, 1_000}, {100_000, 100}} {
		b.Run(fmt.Sprintf("stored=%d/due=%d", c.stored, c.due), func(b *testing.B) {
			benchTick(b, newEmbedded, c.stored, c.due)
		})
	}
}
