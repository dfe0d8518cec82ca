package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/embedded"
)

var now = time.Date(2026, 3, 4, 10, 0, 30, 0, time.UTC)

func newService(t *testing.T) (*Service, store.Store) {
	t.Helper()
	return newServiceWith(t, Options{Now: func() time.Time { return now }, Logger: slog.New(slog.DiscardHandler)})
}

// newServiceWith is a service over a fresh embedded store.
func newServiceWith(t *testing.T, opts Options) (*Service, store.Store) {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newServiceOn(t, st, opts), st
}

// newServiceOn is a service over st.
func newServiceOn(t testing.TB, st store.Store, opts Options) *Service {
	t.Helper()
	reg, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := NewService(st, reg, opts)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func input(name string, schedule ...string) Input {
	if schedule == nil {
		schedule = []string{}
	}
	return Input{
		Metadata:      Metadata{Name: name, Description: "d", Owner: "o@example.com", EmailOnError: true},
		Task:          json.RawMessage(`{"provisionerId":"p","workerType":"w","n":1.0}`),
		Schedule:      schedule,
		TriggerSchema: json.RawMessage(`{"type":"object","additionalProperties":false}`),
	}
}

func TestCreateStoresSystemFields(t *testing.T) {
	svc, st := newService(t)
	ctx := context.Background()
	if _, err := svc.Definitions.CreateHook(ctx, "g", "scheduled", input("n", "0 0 * * * *")); err != nil {
		t.Fatal(err)
	}
	rec, err := st.GetHook(ctx, "g", "scheduled")
	if err != nil {
		t.Fatal(err)
	}
	if rec.TriggerToken == "" || rec.NextTaskID == "" || rec.TriggerToken == rec.NextTaskID {
		t.Fatalf("token %q nextTaskId %q", rec.TriggerToken, rec.NextTaskID)
	}
	// The first fire is the first slot strictly after the create.
	if want := time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC); !rec.NextScheduledDate.Equal(want) {
		t.Fatalf("next = %v, want %v", rec.NextScheduledDate, want)
	}
	if _, err := svc.Definitions.CreateHook(ctx, "g", "unscheduled", input("n")); err != nil {
		t.Fatal(err)
	}
	rec, _ = st.GetHook(ctx, "g", "unscheduled")
	if !rec.NextScheduledDate.IsZero() {
		t.Fatalf("unscheduled hook has next date %v", rec.NextScheduledDate)
	}
}

// A task template that spells a number differently (1.0 vs 1) or orders
// keys differently is the same hook: re-creating it is idempotent.
func TestCreateIdempotentIgnoresSpelling(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	if _, err := svc.Definitions.CreateHook(ctx, "g", "h", input("n")); err != nil {
		t.Fatal(err)
	}
	again := input("n")
	again.Task = json.RawMessage(`{"n":1,"workerType":"w","provisionerId":"p"}`)
	if _, err := svc.Definitions.CreateHook(ctx, "g", "h", again); err != nil {
		t.Fatalf("identical re-create: %v", err)
	}
	other := input("n")
	other.Task = json.RawMessage(`{"n":2,"workerType":"w","provisionerId":"p"}`)
	_, err := svc.Definitions.CreateHook(ctx, "g", "h", other)
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("different re-create: %v", err)
	}
}

// The next taskId is the next slot's: an update that moves the slot
// changes it, one that keeps the slot keeps it (no attempt of a future
// slot can have claimed it).
func TestUpdateNextTaskIDIsTheSlots(t *testing.T) {
	svc, st := newService(t)
	ctx := context.Background()
	svc.Definitions.CreateHook(ctx, "g", "h", input("n", "0 0 * * * *"))
	before, _ := st.GetHook(ctx, "g", "h")
	if _, err := svc.Definitions.UpdateHook(ctx, "g", "h", input("n2", "0 0 * * * *")); err != nil {
		t.Fatal(err)
	}
	same, _ := st.GetHook(ctx, "g", "h")
	if same.NextTaskID != before.NextTaskID || same.ScheduleKey != before.ScheduleKey || !same.NextScheduledDate.Equal(before.NextScheduledDate) {
		t.Fatalf("same slot, other taskId: %+v then %+v", before, same)
	}
	if same.TriggerToken != before.TriggerToken {
		t.Fatal("update changed the trigger token")
	}
	if _, err := svc.Definitions.UpdateHook(ctx, "g", "h", input("n3", "0 30 * * * *")); err != nil {
		t.Fatal(err)
	}
	moved, _ := st.GetHook(ctx, "g", "h")
	if moved.NextTaskID == before.NextTaskID || moved.NextScheduledDate.Equal(before.NextScheduledDate) {
		t.Fatalf("a new slot kept the old taskId: %+v", moved)
	}
}

// Concurrent updates each read, modify and write with a version check; the
// losers retry, so every update lands and none is lost silently.
func TestConcurrentUpdatesAllApply(t *testing.T) {
	svc, st := newService(t)
	ctx := context.Background()
	svc.Definitions.CreateHook(ctx, "g", "h", input("start"))
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i := range 4 {
		wg.Go(func() {
			_, err := svc.Definitions.UpdateHook(ctx, "g", "h", input(fmt.Sprintf("writer-%d", i)))
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("update failed: %v", err)
		}
	}
	rec, _ := st.GetHook(ctx, "g", "h")
	if rec.Version != 5 {
		t.Fatalf("version = %d, want 5 (create + 4 updates)", rec.Version)
	}
}

func TestDenylistIsAPrefixRegexp(t *testing.T) {
	deny, err := NewDenylist(nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		exchange string
		denied   bool
	}{
		{"exchange/taskcluster-queue/v1/task-created", true},
		{"exchange/taskcluster-queue/v1/task-created-extra", true},
		{"exchange/taskcluster-queue/v1/task-completed", false},
		{"exchange/taskcluster-hooks/v1/hook-created", true},
		{"my/exchange/taskcluster-hooks/x", false},
	} {
		err := deny.check([]Binding{{Exchange: tt.exchange, RoutingKeyPattern: "#"}})
		if (err != nil) != tt.denied {
			t.Errorf("%s: err %v, want denied=%v", tt.exchange, err, tt.denied)
		}
	}
	if _, err := NewService(nil, nil, Options{Denylist: []string{"("}}); err == nil {
		t.Fatal("an invalid denylist expression must be refused")
	}
}
