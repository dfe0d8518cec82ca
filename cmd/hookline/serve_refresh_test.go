package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/taskcluster"
	"github.com/hookline/hookline/shared/taskcluster/localqueue"
)

// downQueue is a queue that cannot be reached.
type downQueue struct{}

func (downQueue) CreateTask(context.Context, string, json.RawMessage, []string) (json.RawMessage, error) {
	return nil, &taskcluster.APIError{StatusCode: 503, Method: "createTask", Message: "the queue is down"}
}

func (downQueue) Status(context.Context, string) (json.RawMessage, error) {
	return nil, &taskcluster.APIError{StatusCode: 503, Method: "status", Message: "the queue is down"}
}

// A Pulse message whose fire failed while the queue was down, three hours
// ago, comes back (SQS retries, the dead-letter queue, `hookline
// redrive`) to serve's in-process trigger. Its claim holds a task created
// three hours ago, which serve's local queue, like Taskcluster's, refuses
// (created more than 15 minutes in the past): the retry refreshes the
// claim and the task is created, under the message's taskId.
func TestServeRetryAfterLongQueueOutage(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Load(envFrom(map[string]string{"HOOKLINE_DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	local, err := buildServer(ctx, cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer local.cleanup()
	if _, ok := local.svc.Queue.(*localqueue.Joint); !ok {
		t.Fatalf("serve without a root URL must use its local queue, joint with the embedded store, not %T", local.svc.Queue)
	}
	_, err = local.svc.Hooks.Definitions.CreateHook(ctx, "g", "h", hooks.Input{
		Metadata: hooks.Metadata{Name: "n", Description: "d", Owner: "o@example.com"},
		Task:     json.RawMessage(`{"provisionerId":"p","workerType":"w","payload":{"n":{"$eval":"payload.n"}},"metadata":{"name":"t","description":"t","owner":"o@example.com","source":"https://example.com"}}`),
		Schedule: []string{}, TriggerSchema: json.RawMessage(`{}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	msg := hooks.PulseMessage{HookGroupID: "g", HookID: "h", Exchange: "exchange/x", RoutingKey: "k", Payload: json.RawMessage(`{"n":7}`)}

	// The first attempt, three hours ago, over the same store.
	reg, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	then := time.Now().Add(-3 * time.Hour)
	past, err := hooks.NewService(local.svc.Store, reg, hooks.Options{Queue: downQueue{}, Now: func() time.Time { return then }, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := past.Intake.FirePulseMessage(ctx, msg); err == nil {
		t.Fatal("the fire while the queue was down must fail for a retry")
	}

	// The redriven message, through serve's trigger.
	body, err := json.Marshal(msg)
	if err != nil {
		t.Fatal(err)
	}
	before := time.Now()
	if err := localTrigger(local.svc.Hooks.Intake, local.svc.Hooks.Outcomes)(ctx, body); err != nil {
		t.Fatalf("the redriven message: %v", err)
	}

	// The task, read back as any Taskcluster client would.
	rec := httptest.NewRecorder()
	local.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://localhost/api/queue/v1/task/"+msg.TaskID(), nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("task %s: %d %s", msg.TaskID(), rec.Code, rec.Body)
	}
	var task struct {
		Created, Deadline time.Time
		Payload           struct{ N int }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &task); err != nil {
		t.Fatal(err)
	}
	if task.Created.Before(before.Truncate(time.Millisecond)) || task.Payload.N != 7 || task.Deadline.Sub(task.Created) != 24*time.Hour {
		t.Errorf("task %s: want it created now (after %s), its deadline a day later", rec.Body, before)
	}
	fires, _, err := local.svc.Hooks.Firing.ListLastFires(ctx, "g", "h", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(fires) != 1 || fires[0].Result != "success" || fires[0].TaskID != msg.TaskID() {
		t.Errorf("last fires %+v: want the one fire, now a success", fires)
	}
}
