package app

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/queue"
	"github.com/hookline/hookline/shared/queue/sqstest"
	"github.com/hookline/hookline/shared/store/embedded"
	"github.com/hookline/hookline/shared/taskcluster"
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

func testParts(t *testing.T, q Queue, opts ...Option) *Parts {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	parts, err := Build(context.Background(), cfg, slog.New(slog.DiscardHandler), st, q, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return parts
}

func createPulseHook(t *testing.T, svc *hooks.Service, group, id string) {
	t.Helper()
	bindings := []hooks.Binding{{Exchange: "exchange/taskcluster-github/v1/push", RoutingKeyPattern: "primary.#"}}
	_, err := svc.CreateHook(context.Background(), group, id, hooks.Input{
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
func TestTriggerHandlerSampleBatch(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "infra", "events", "trigger-batch.json"))
	if err != nil {
		t.Skipf("no sample event: %v", err)
	}
	var ev events.SQSEvent
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	q := &countingQueue{tasks: map[string]json.RawMessage{}}
	parts := testParts(t, q)
	first, err := DecodePulseMessage([]byte(ev.Records[0].Body))
	if err != nil {
		t.Fatal(err)
	}
	createPulseHook(t, parts.Service, first.HookGroupID, first.HookID)
	h := newTriggerHandler(hooks.NewPulseListener(parts.Service), slog.New(slog.DiscardHandler))
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

func TestTriggerHandlerFailures(t *testing.T) {
	q := &countingQueue{tasks: map[string]json.RawMessage{}}
	parts := testParts(t, q)
	createPulseHook(t, parts.Service, "g", "h")
	body := func(hookID, payload string) string {
		b, _ := json.Marshal(hooks.PulseMessage{HookGroupID: "g", HookID: hookID, Exchange: "exchange/taskcluster-github/v1/push", RoutingKey: "primary.x", Payload: json.RawMessage(payload)})
		return string(b)
	}
	retryMsg, _ := DecodePulseMessage([]byte(body("h", `{"repository":"flaky"}`)))
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
	h := newTriggerHandler(hooks.NewPulseListener(parts.Service), slog.New(slog.DiscardHandler))
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

// The service built with a notifier announces every change on the queue,
// as hooks.Change JSON.
func TestChangeNotifier(t *testing.T) {
	changes := queue.NewMemory(nil)
	parts := testParts(t, &countingQueue{tasks: map[string]json.RawMessage{}}, WithNotifier(NewChangeNotifier(changes)))
	createPulseHook(t, parts.Service, "g", "h")
	if err := parts.Service.RemoveHook(context.Background(), "g", "h"); err != nil {
		t.Fatal(err)
	}
	var got []hooks.Change
	for _, b := range changes.Bodies() {
		var c hooks.Change
		if err := json.Unmarshal(b, &c); err != nil {
			t.Fatal(err)
		}
		got = append(got, c)
	}
	want := []hooks.Change{{Kind: hooks.HookCreated, HookGroupID: "g", HookID: "h"}, {Kind: hooks.HookDeleted, HookGroupID: "g", HookID: "h"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("changes (-want +got):\n%s", diff)
	}
}

// The api function's notifier sends to HOOKLINE_CHANGES_QUEUE_URL through
// the SQS endpoint the environment names; without the URL there is none.
func TestLambdaChangeNotifier(t *testing.T) {
	srv := sqstest.New(t)
	url := srv.CreateQueue("changes", time.Second)
	env := map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_ENDPOINT_URL_SQS": srv.URL, "HOOKLINE_CHANGES_QUEUE_URL": url,
	}
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Load(getenv)
	if err != nil {
		t.Fatal(err)
	}
	n, err := lambdaChangeNotifier(getenv, cfg)
	if err != nil || n == nil {
		t.Fatalf("notifier: %v %v", n, err)
	}
	if err := n.HookChanged(context.Background(), hooks.Change{Kind: hooks.HookUpdated, HookGroupID: "g", HookID: "h"}); err != nil {
		t.Fatal(err)
	}
	bodies := srv.Queue(url).Bodies()
	if len(bodies) != 1 || string(bodies[0]) != `{"kind":"hook-updated","hookGroupId":"g","hookId":"h"}` {
		t.Fatalf("sent %q", bodies)
	}
	cfg.Pulse.ChangesQueueURL = ""
	if n, err := lambdaChangeNotifier(getenv, cfg); n != nil || err != nil {
		t.Fatalf("without a URL: %v %v", n, err)
	}
	srv.SetFault(func(string, string, []byte) *sqstest.Fault { return &sqstest.Fault{Status: 500} })
	cfg.Pulse.ChangesQueueURL = url
	n, _ = lambdaChangeNotifier(getenv, cfg)
	if err := n.HookChanged(context.Background(), hooks.Change{Kind: hooks.HookUpdated, HookGroupID: "g", HookID: "h"}); err == nil {
		t.Fatal("a failed send must be an error (the API answers 500)")
	}
}

func TestPulseMessageHandler(t *testing.T) {
	q := &countingQueue{tasks: map[string]json.RawMessage{}}
	parts := testParts(t, q)
	createPulseHook(t, parts.Service, "g", "h")
	handle := PulseMessageHandler(hooks.NewPulseListener(parts.Service))
	if err := handle(context.Background(), []byte("{")); !errors.Is(err, queue.ErrPermanent) {
		t.Errorf("malformed: %v", err)
	}
	good, _ := json.Marshal(hooks.PulseMessage{HookGroupID: "g", HookID: "h", Exchange: "e", RoutingKey: "k", Payload: json.RawMessage(`{"repository":"r"}`)})
	if err := handle(context.Background(), good); err != nil || len(q.ids()) != 1 {
		t.Errorf("good: %v, tasks %v", err, q.ids())
	}
	q.fail = func(string) error { return fmt.Errorf("down: %w", taskcluster.ErrNetwork) }
	other, _ := json.Marshal(hooks.PulseMessage{HookGroupID: "g", HookID: "h", Exchange: "e", RoutingKey: "k2", Payload: json.RawMessage(`{"repository":"r"}`)})
	if err := handle(context.Background(), other); err == nil || errors.Is(err, queue.ErrPermanent) {
		t.Errorf("network error must be retryable: %v", err)
	}
}
