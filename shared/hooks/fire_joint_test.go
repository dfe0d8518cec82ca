package hooks

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/embedded"
	"github.com/hookline/hookline/shared/taskcluster/localqueue"
)

// Fires through a joint queue (serve's: the local queue in the embedded
// store's file): concurrent fires under one idempotency key create one
// task and one fire record, every caller gets that task, and a later
// retry finds it; a queue refusal records the failure.
func TestJointFires(t *testing.T) {
	ctx := context.Background()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	db, commit := st.File()
	q, err := localqueue.OpenShared(db, commit, nil)
	if err != nil {
		t.Fatal(err)
	}
	j, err := localqueue.NewJoint(q, st)
	if err != nil {
		t.Fatal(err)
	}
	svc := newServiceOn(t, st, Options{Queue: j, Now: time.Now, Logger: slog.New(slog.DiscardHandler)})
	in := input("joint")
	in.Task = json.RawMessage(`{"provisionerId":"p","workerType":"w","payload":{},"metadata":{"name":"t","description":"d","owner":"o@example.com","source":"https://example.com"}}`)
	in.TriggerSchema = json.RawMessage(`{}`)
	if _, err := svc.Definitions.CreateHook(ctx, "g", "h", in); err != nil {
		t.Fatal(err)
	}

	const n = 8
	ids := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			res, err := svc.Firing.TriggerHook(ctx, "g", "h", map[string]any{}, "c", "same-key")
			if err != nil {
				t.Errorf("fire %d: %v", i, err)
			}
			ids[i] = res.TaskID
		})
	}
	wg.Wait()
	for _, id := range ids {
		if id == "" || id != ids[0] {
			t.Fatalf("taskIds %v: want one, the same for all", ids)
		}
	}
	if _, err := q.Task(ctx, ids[0]); err != nil {
		t.Errorf("task %s: %v", ids[0], err)
	}
	if _, err := st.GetClaim(ctx, "fire/g/h/"+ids[0], time.Now()); err != nil {
		t.Errorf("claim: %v", err)
	}
	fires, _, err := st.ListLastFires(ctx, "g", "h", store.Page{})
	if err != nil || len(fires) != 1 || fires[0].TaskID != ids[0] || fires[0].Result != "success" {
		t.Errorf("fire records %+v %v: want the one task's", fires, err)
	}

	// A retry later finds the task: created, "already existed".
	res, err := svc.Firing.TriggerHook(ctx, "g", "h", map[string]any{}, "c", "same-key")
	if err != nil || res.TaskID != ids[0] || res.Decision.Outcome != OutcomeCreated {
		t.Errorf("retry: %+v %v", res, err)
	}

	// A task the queue refuses (its deadline before created): no task, a
	// queue-error decision and an error fire record.
	in.Task = json.RawMessage(`{"provisionerId":"p","workerType":"w","created":"2026-01-02T00:00:00.000Z","deadline":"2026-01-01T00:00:00.000Z","payload":{},"metadata":{"name":"t","description":"d","owner":"o@example.com","source":"https://example.com"}}`)
	if _, err := svc.Definitions.CreateHook(ctx, "g", "bad", in); err != nil {
		t.Fatal(err)
	}
	res, err = svc.Firing.TriggerHook(ctx, "g", "bad", map[string]any{}, "c", "")
	if err == nil || res.Decision.Outcome != OutcomeQueueError {
		t.Errorf("refused: %+v %v", res, err)
	}
	fires, _, err = st.ListLastFires(ctx, "g", "bad", store.Page{})
	if err != nil || len(fires) != 1 || fires[0].Result != "error" {
		t.Errorf("refused fire records %+v %v", fires, err)
	}
}
