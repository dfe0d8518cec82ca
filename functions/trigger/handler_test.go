package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/service"
	"github.com/hookline/hookline/shared/service/servicetest"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/embedded"
	"github.com/hookline/hookline/shared/taskcluster"
	"github.com/hookline/hookline/shared/testutil"
)

// countingQueue is a Taskcluster queue that keeps tasks by id (an
// identical re-create is a no-op, as the real queue's) and can fail.
type countingQueue struct {
	mu    sync.Mutex
	tasks map[string]json.RawMessage
	fail  func(taskID string) error
}

func (q *countingQueue) CreateTask(_ context.Context, taskID string, task json.RawMessage, _ []string) (json.RawMessage, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fail != nil {
		if err := q.fail(taskID); err != nil {
			return nil, err
		}
	}
	if old, ok := q.tasks[taskID]; ok && !bytes.Equal(old, task) {
		return nil, &taskcluster.APIError{StatusCode: 409, Code: "RequestConflict", Method: "createTask"}
	}
	q.tasks[taskID] = task
	return json.RawMessage(`{}`), nil
}

func (q *countingQueue) Status(_ context.Context, taskID string) (json.RawMessage, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.tasks[taskID]; ok {
		return json.RawMessage(`{"status":{"runs":[]}}`), nil
	}
	return nil, &taskcluster.APIError{StatusCode: 404, Code: "ResourceNotFound", Method: "status"}
}

func (q *countingQueue) ids() []string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []string
	for id := range q.tasks {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

// testHandler is the function's handler over the embedded store and q.
func testHandler(t *testing.T, q *countingQueue) *handler {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	svc, err := service.New(cfg, service.Deps{Store: st, Queue: q, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	return newHandler(svc, quiet)
}

func createPulseHook(t *testing.T, h *handler, group, id string) {
	t.Helper()
	bindings := []hooks.Binding{{Exchange: "exchange/taskcluster-github/v1/push", RoutingKeyPattern: "primary.#"}}
	_, err := h.svc.Hooks.Definitions.CreateHook(context.Background(), group, id, hooks.Input{
		Bindings:      &bindings,
		Metadata:      hooks.Metadata{Name: id, Description: "d", Owner: "o@example.com"},
		Task:          json.RawMessage(`{"provisionerId":"p","workerType":"w","payload":{"firedBy":"${firedBy}","repo":{"$eval":"payload.repository"}}}`),
		Schedule:      []string{},
		TriggerSchema: json.RawMessage(`{"type":"object"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The sample batch of infra/events (what the bridge sends), handled twice
// as SQS would redeliver it: one task per message, however often.
func TestHandleSampleBatch(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "infra", "events", "trigger-batch.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	q := &countingQueue{tasks: map[string]json.RawMessage{}}
	h := testHandler(t, q)
	first, err := hooks.ParsePulseMessage([]byte(ev.Records[0].Body))
	if err != nil {
		t.Fatal(err)
	}
	createPulseHook(t, h, first.HookGroupID, first.HookID)
	for round := range 2 {
		resp, err := h.handle(context.Background(), ev)
		if err != nil || len(resp.BatchItemFailures) != 0 {
			t.Fatalf("round %d: %+v %v", round, resp, err)
		}
		if n := len(q.ids()); n != len(ev.Records) {
			t.Fatalf("round %d: %d tasks, want %d", round, n, len(ev.Records))
		}
	}
}

func TestHandleFailures(t *testing.T) {
	q := &countingQueue{tasks: map[string]json.RawMessage{}}
	h := testHandler(t, q)
	createPulseHook(t, h, "g", "h")
	body := func(hookID, payload string) string {
		b, _ := json.Marshal(hooks.PulseMessage{HookGroupID: "g", HookID: hookID, Exchange: "exchange/taskcluster-github/v1/push", RoutingKey: "primary.x", Payload: json.RawMessage(payload)})
		return string(b)
	}
	retryMsg, _ := hooks.ParsePulseMessage([]byte(body("h", `{"repository":"flaky"}`)))
	q.fail = func(taskID string) error {
		if taskID == retryMsg.TaskID() {
			return &taskcluster.APIError{StatusCode: 502, Method: "createTask", Message: "bad gateway"}
		}
		return nil
	}
	ev := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "ok", Body: body("h", `{"repository":"a"}`)},
		{MessageId: "retry", Body: body("h", `{"repository":"flaky"}`)},
		{MessageId: "gone", Body: body("no-such-hook", `{}`)},
		{MessageId: "discarded", Body: body("h", `"not an object"`)},
		{MessageId: "malformed", Body: `{"hookGroupId":"g"`},
	}}
	resp, err := h.handle(context.Background(), ev)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range resp.BatchItemFailures {
		ids = append(ids, f.ItemIdentifier)
	}
	sort.Strings(ids)
	if diff := cmp.Diff([]string{"malformed", "retry"}, ids); diff != "" {
		t.Errorf("batch item failures (-want +got):\n%s", diff)
	}
	if n := len(q.ids()); n != 1 {
		t.Errorf("%d tasks, want 1", n)
	}
	// The retry, once the queue is back, creates the task with the same id.
	q.fail = nil
	resp, _ = h.handle(context.Background(), events.SQSEvent{Records: ev.Records[1:2]})
	if len(resp.BatchItemFailures) != 0 || !containsID(q.ids(), retryMsg.TaskID()) {
		t.Errorf("retry: %+v, tasks %v", resp, q.ids())
	}

	// A batch the invocation could not finish is an error as a whole.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := h.handle(ctx, events.SQSEvent{Records: ev.Records[:1]}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled invocation: %v", err)
	}
}

func containsID(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}

// The function honours the settings every entry point honours.
func TestBuildHonoursConfig(t *testing.T) {
	h, err := build(context.Background(), servicetest.Env(nil), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	servicetest.CheckHooks(t, h.svc.Hooks)
	// Lambda functions keep no state on their own disk.
	if _, err := build(context.Background(), servicetest.Env(map[string]string{"HOOKLINE_STORE": "embedded:" + t.TempDir()}), slog.New(slog.DiscardHandler)); err == nil {
		t.Fatal("an embedded store must be refused")
	}
}

// A task outcome the bridge matched is recorded on the fire; one whose
// fire is gone is done; a malformed one goes to the dead-letter queue.
func TestHandleTaskOutcomes(t *testing.T) {
	q := &countingQueue{tasks: map[string]json.RawMessage{}}
	h := testHandler(t, q)
	createPulseHook(t, h, "g", "h")
	ctx := context.Background()
	res, err := h.svc.Hooks.Firing.TriggerHook(ctx, "g", "h", map[string]any{"repository": "r"}, "c", "")
	if err != nil {
		t.Fatal(err)
	}
	fires, _, _ := h.svc.Store.ListLastFires(ctx, "g", "h", store.Page{})
	msg := func(taskID string) string {
		b, _ := json.Marshal(hooks.TaskOutcomeMessage{Kind: hooks.KindTaskOutcome,
			Fire:    hooks.FireRef{HookGroupID: "g", HookID: "h", TaskID: taskID, TaskCreateTime: fires[0].TaskCreateTime},
			Outcome: hooks.TaskOutcome{State: "failed", ReasonResolved: "failed", Source: "event"}})
		return string(b)
	}
	ev := events.SQSEvent{Records: []events.SQSMessage{
		{MessageId: "ours", Body: msg(res.TaskID)},
		{MessageId: "gone", Body: msg("someOtherTaskId0000000")},
		{MessageId: "malformed", Body: `{"kind":"task-outcome","fire":{}}`},
	}}
	for range 2 { // redelivered: recorded once
		resp, err := h.handle(ctx, ev)
		if err != nil || len(resp.BatchItemFailures) != 1 || resp.BatchItemFailures[0].ItemIdentifier != "malformed" {
			t.Fatalf("%+v %v", resp, err)
		}
	}
	fires, _, _ = h.svc.Store.ListLastFires(ctx, "g", "h", store.Page{})
	if fires[0].TaskState != "failed" {
		t.Fatalf("fire %+v", fires[0])
	}
}
