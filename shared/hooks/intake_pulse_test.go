package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/slugid"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/embedded"
	"github.com/hookline/hookline/shared/taskcluster"
)

// pulseEnv is a service over the embedded store and a fake queue, with its
// JSON log captured.
type pulseEnv struct {
	svc    *Service
	store  store.Store
	queue  *fakeQueue
	logs   *bytes.Buffer
	intake *Intake
}

func newPulseEnv(t *testing.T) *pulseEnv {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return newPulseEnvOver(t, st)
}

func newPulseEnvOver(t *testing.T, st store.Store) *pulseEnv {
	t.Helper()
	reg, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	e := &pulseEnv{store: st, queue: &fakeQueue{}, logs: &bytes.Buffer{}}
	e.svc, err = NewService(st, reg, Options{Now: func() time.Time { return now }, Queue: e.queue, Logger: slog.New(slog.NewJSONHandler(e.logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	e.intake = e.svc.Intake
	return e
}

func (e *pulseEnv) hook(t *testing.T, id string, triggerSchema string, bindings ...Binding) {
	t.Helper()
	in := input(id)
	in.Task = json.RawMessage(`{"provisionerId":"p","workerType":"w","payload":{"firedBy":"${firedBy}","got":{"$eval":"payload"},"hasExchange":{"$eval":"defined('exchange')"}}}`)
	in.TriggerSchema = json.RawMessage(triggerSchema)
	if bindings == nil {
		bindings = []Binding{{Exchange: "e", RoutingKeyPattern: "rkp"}}
	}
	in.Bindings = &bindings
	if _, err := e.svc.Definitions.CreateHook(context.Background(), "g", id, in); err != nil {
		t.Fatal(err)
	}
}

// discardLines returns the hook-pulse-message-discarded log lines.
func (e *pulseEnv) discardLines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(e.logs.String()), "\n") {
		var m map[string]any
		if json.Unmarshal([]byte(line), &m) == nil && m["msg"] == "hook-pulse-message-discarded" {
			out = append(out, m)
		}
	}
	return out
}

func message(hookID, payload string) PulseMessage {
	return PulseMessage{HookGroupID: "g", HookID: hookID, Exchange: "e", RoutingKey: "rkp", Payload: json.RawMessage(payload)}
}

// Upstream listeners_test "firing hooks" 12: a message on a bound exchange
// fires the hook with firedBy pulseMessage and the message body as the
// payload (and nothing else: no exchange or routing key in the context).
func TestFirePulseMessageFires(t *testing.T) {
	e := newPulseEnv(t)
	e.hook(t, "h", `{}`)
	msg := message("h", `{"location":"Orlando","n":12345678901234567890}`)
	res, err := e.intake.FirePulseMessage(context.Background(), msg)
	if err != nil || res.Outcome != PulseFired || res.TaskID != msg.TaskID() {
		t.Fatalf("got %+v, %v; want fired with taskId %s", res, err, msg.TaskID())
	}
	var task struct {
		Payload map[string]any `json:"payload"`
	}
	if err := json.Unmarshal(e.queue.tasks[res.TaskID], &task); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"firedBy": "pulseMessage", "got": map[string]any{"location": "Orlando", "n": 1.2345678901234567e19}, "hasExchange": false}
	if diff := cmp.Diff(want, task.Payload); diff != "" {
		t.Errorf("task payload (-want +got):\n%s", diff)
	}
	fires, _, _ := e.store.ListLastFires(context.Background(), "g", "h", store.Page{})
	if len(fires) != 1 || fires[0].FiredBy != FiredByPulseMessage || fires[0].Result != "success" || fires[0].TaskID != res.TaskID {
		t.Errorf("last fires: %+v", fires)
	}
	if got := e.intake.PulseCounts(); got != (PulseCounts{Fired: 1}) {
		t.Errorf("counts %+v", got)
	}
}

// Upstream 13: a hook keeping the default triggerSchema does not fire on a
// message with a payload; one discard line is logged.
func TestFirePulseMessageDefaultSchemaDiscards(t *testing.T) {
	e := newPulseEnv(t)
	e.hook(t, "h", `{"type":"object","additionalProperties":false}`)
	res, err := e.intake.FirePulseMessage(context.Background(), message("h", `{"action":"opened"}`))
	if err != nil || res.Outcome != PulseDiscarded {
		t.Fatalf("got %+v, %v; want discarded", res, err)
	}
	if len(e.queue.calls) != 0 {
		t.Errorf("createTask called: %v", e.queue.calls)
	}
	if n := len(e.discardLines(t)); n != 1 {
		t.Errorf("%d discard lines, want 1", n)
	}
	// No last-fire row, as upstream.
	if fires, _, _ := e.store.ListLastFires(context.Background(), "g", "h", store.Page{}); len(fires) != 0 {
		t.Errorf("last fires %+v", fires)
	}
}

const actionSchema = `{"type":"object","properties":{"action":{"enum":["opened"]}},"required":["action"],"additionalProperties":true}`

// Upstream 14: a message matching an explicit triggerSchema fires, and no
// discard is logged.
func TestFirePulseMessageMatchingSchemaFires(t *testing.T) {
	e := newPulseEnv(t)
	e.hook(t, "h", actionSchema)
	res, err := e.intake.FirePulseMessage(context.Background(), message("h", `{"action":"opened"}`))
	if err != nil || res.Outcome != PulseFired {
		t.Fatalf("got %+v, %v; want fired", res, err)
	}
	if n := len(e.discardLines(t)); n != 0 {
		t.Errorf("%d discard lines, want 0", n)
	}
}

// Upstream 15: two failing messages fire nothing; the counter counts both
// and the log is sampled (1st, then every 100th), with upstream's fields.
// The validation error text is our validator's, not Ajv's ("data/action
// must be equal to one of the allowed values").
func TestFirePulseMessageDiscardSampling(t *testing.T) {
	e := newPulseEnv(t)
	e.hook(t, "h", actionSchema)
	for range 2 {
		if res, err := e.intake.FirePulseMessage(context.Background(), message("h", `{"action":"closed"}`)); err != nil || res.Outcome != PulseDiscarded {
			t.Fatalf("got %+v, %v; want discarded", res, err)
		}
	}
	if len(e.queue.calls) != 0 {
		t.Errorf("createTask called: %v", e.queue.calls)
	}
	if got := e.intake.PulseCounts().Discarded; got != 2 {
		t.Errorf("discarded count %d, want 2", got)
	}
	lines := e.discardLines(t)
	if len(lines) != 1 {
		t.Fatalf("%d discard lines, want 1", len(lines))
	}
	got := lines[0]
	for _, k := range []string{"time", "level", "msg"} {
		delete(got, k)
	}
	want := map[string]any{
		"hookGroupId": "g", "hookId": "h", "exchange": "e", "routingKey": "rkp",
		"reason": "triggerSchema", "validationError": "data/action action must be one of the following: \"opened\"",
		"discardedCount": 1.0, "message": "Pulse message discarded because payload does not match hook triggerSchema",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("discard line (-want +got):\n%s", diff)
	}
	for range 98 {
		e.intake.FirePulseMessage(context.Background(), message("h", `{"action":"closed"}`))
	}
	if lines := e.discardLines(t); len(lines) != 2 || lines[1]["discardedCount"] != 100.0 {
		t.Errorf("after 100 discards: %d lines (want 2, the second at 100): %v", len(lines), lines)
	}
}

// Upstream 16: a message for a hook deleted after its listener was set up
// fires nothing.
func TestFirePulseMessageHookGone(t *testing.T) {
	e := newPulseEnv(t)
	e.hook(t, "h", `{}`)
	if err := e.svc.Definitions.RemoveHook(context.Background(), "g", "h"); err != nil {
		t.Fatal(err)
	}
	res, err := e.intake.FirePulseMessage(context.Background(), message("h", `{}`))
	if err != nil || res.Outcome != PulseHookGone || len(e.queue.calls) != 0 {
		t.Fatalf("got %+v, %v, calls %v; want gone and no createTask", res, err, e.queue.calls)
	}
}

// A message handled twice (SQS or AMQP redelivery) creates one task: the
// same derived taskId, and the claim re-sends the same definition.
func TestFirePulseMessageTwiceIsOneTask(t *testing.T) {
	e := newPulseEnv(t)
	e.hook(t, "h", `{}`)
	msg := message("h", `{"x":1}`)
	a, err1 := e.intake.FirePulseMessage(context.Background(), msg)
	b, err2 := e.intake.FirePulseMessage(context.Background(), msg)
	if err1 != nil || err2 != nil || a.TaskID != b.TaskID || a.Outcome != PulseFired || b.Outcome != PulseFired {
		t.Fatalf("got %+v %v / %+v %v", a, err1, b, err2)
	}
	if n := e.queue.taskCount(); n != 1 {
		t.Fatalf("%d tasks, want 1", n)
	}
	other, _ := e.intake.FirePulseMessage(context.Background(), message("h", `{"x":2}`))
	if other.TaskID == a.TaskID || e.queue.taskCount() != 2 {
		t.Fatalf("a different body must be a different task: %s vs %s, %d tasks", other.TaskID, a.TaskID, e.queue.taskCount())
	}
}

func TestPulseMessageTaskID(t *testing.T) {
	base := message("h", `{"x":1}`)
	id := base.TaskID()
	if !slugid.Valid(id) || id != base.TaskID() {
		t.Fatalf("taskId %q is not a stable slugid", id)
	}
	for name, edit := range map[string]func(*PulseMessage){
		"group":      func(m *PulseMessage) { m.HookGroupID = "g2" },
		"hook":       func(m *PulseMessage) { m.HookID = "h2" },
		"exchange":   func(m *PulseMessage) { m.Exchange = "e2" },
		"routingKey": func(m *PulseMessage) { m.RoutingKey = "rkp.2" },
		"payload":    func(m *PulseMessage) { m.Payload = json.RawMessage(`{"x":2}`) },
		"boundary":   func(m *PulseMessage) { m.Exchange, m.RoutingKey = "er", "kp" },
	} {
		m := base
		edit(&m)
		if m.TaskID() == id {
			t.Errorf("changing %s kept taskId %s", name, id)
		}
	}
}

// A queue 5xx is worth retrying: FirePulseMessage returns an error (the
// trigger reports a batch item failure) and the retry creates the task
// with the same taskId. A 4xx is final: recorded, no error.
func TestFirePulseMessageQueueErrors(t *testing.T) {
	e := newPulseEnv(t)
	e.hook(t, "h", `{}`)
	msg := message("h", `{}`)
	e.queue.fail = func(string) error {
		return &taskcluster.APIError{StatusCode: 503, Method: "createTask", Message: "busy"}
	}
	if _, err := e.intake.FirePulseMessage(context.Background(), msg); err == nil {
		t.Fatal("a queue 503 must be returned for a retry")
	}
	e.queue.fail = nil
	res, err := e.intake.FirePulseMessage(context.Background(), msg)
	if err != nil || res.Outcome != PulseFired || res.TaskID != msg.TaskID() {
		t.Fatalf("retry: %+v %v", res, err)
	}
	fires, _, _ := e.store.ListLastFires(context.Background(), "g", "h", store.Page{})
	if len(fires) != 1 || fires[0].Result != "success" {
		t.Errorf("the retry replaces the error record: %+v", fires)
	}

	e.queue.fail = func(string) error {
		return &taskcluster.APIError{StatusCode: 403, Code: "InsufficientScopes", Method: "createTask", Message: "no"}
	}
	res, err = e.intake.FirePulseMessage(context.Background(), message("h", `{"other":true}`))
	if err != nil || res.Outcome != PulseFailed {
		t.Fatalf("4xx: %+v %v; want failed without error", res, err)
	}
	fires, _, _ = e.store.ListLastFires(context.Background(), "g", "h", store.Page{})
	if len(fires) != 2 || fires[0].Result != "error" || !strings.Contains(fires[0].Error, "InsufficientScopes") {
		t.Errorf("4xx not recorded: %+v", fires)
	}
	if c := e.intake.PulseCounts(); c.Fired != 1 || c.Failed != 1 || c.Retry != 1 {
		t.Errorf("counts %+v", c)
	}
}

func TestFirePulseMessageDeclinedAndNotJSON(t *testing.T) {
	e := newPulseEnv(t)
	in := input("d")
	in.Task = json.RawMessage(`{"$if":"payload.go","then":{"workerType":"w"}}`)
	in.TriggerSchema = json.RawMessage(`{}`)
	if _, err := e.svc.Definitions.CreateHook(context.Background(), "g", "d", in); err != nil {
		t.Fatal(err)
	}
	if res, err := e.intake.FirePulseMessage(context.Background(), message("d", `{"go":false}`)); err != nil || res.Outcome != PulseDeclined {
		t.Fatalf("declined: %+v %v", res, err)
	}
	if res, err := e.intake.FirePulseMessage(context.Background(), message("d", `{"go":tru`)); err != nil || res.Outcome != PulseDiscarded {
		t.Fatalf("not JSON: %+v %v", res, err)
	}
	if len(e.queue.calls) != 0 {
		t.Errorf("createTask called: %v", e.queue.calls)
	}
}

// failingStore fails every read, as a store outage does.
type failingStore struct{ store.Store }

func (failingStore) GetHook(context.Context, string, string) (store.Hook, error) {
	return store.Hook{}, errors.New("store unavailable")
}

func TestFirePulseMessageStoreFailureIsRetryable(t *testing.T) {
	e := newPulseEnv(t)
	f := newPulseEnvOver(t, failingStore{e.store})
	if _, err := f.intake.FirePulseMessage(context.Background(), message("h", `{}`)); err == nil {
		t.Fatal("a store failure must be returned for a retry")
	}
	if err := f.svc.Intake.RecordPulseFailure(context.Background(), message("h", `{}`), "too big"); err == nil {
		t.Fatal("RecordPulseFailure must report a store failure")
	}
}

func TestRecordPulseFailure(t *testing.T) {
	e := newPulseEnv(t)
	e.hook(t, "h", `{}`)
	msg := message("h", `{"big":"..."}`)
	if err := e.svc.Intake.RecordPulseFailure(context.Background(), msg, "the message is 300000 bytes; the trigger queue takes at most 262144"); err != nil {
		t.Fatal(err)
	}
	fires, _, _ := e.store.ListLastFires(context.Background(), "g", "h", store.Page{})
	if len(fires) != 1 || fires[0].Result != "error" || fires[0].FiredBy != FiredByPulseMessage || fires[0].TaskID != msg.TaskID() ||
		!strings.Contains(fires[0].Error, "300000 bytes") || !strings.Contains(fires[0].Error, `exchange "e"`) {
		t.Fatalf("record: %+v", fires)
	}
	page, err := e.svc.Operations.ListDecisions(context.Background(), "g", "h", store.Page{})
	if err != nil || len(page.Decisions) != 1 {
		t.Fatalf("decisions %+v, %v", page, err)
	}
	if d := page.Decisions[0]; d.Outcome != OutcomeRejected || !d.PayloadOmitted || d.Pulse == nil || d.Pulse.Exchange != "e" || !strings.Contains(d.Error, "300000 bytes") {
		t.Fatalf("decision %+v", d)
	}
	if err := e.svc.Intake.RecordPulseFailure(context.Background(), message("gone", `{}`), "x"); err != nil {
		t.Fatalf("a missing hook is not an error: %v", err)
	}
	if fires, _, _ := e.store.ListLastFires(context.Background(), "g", "gone", store.Page{}); len(fires) != 0 {
		t.Fatalf("a missing hook gets no record: %+v", fires)
	}
}

func TestPulseBindings(t *testing.T) {
	e := newPulseEnv(t)
	e.hook(t, "b", `{}`, Binding{Exchange: "x", RoutingKeyPattern: "#"}, Binding{Exchange: "y", RoutingKeyPattern: "a.*"})
	e.hook(t, "a", `{}`)
	noBindings := input("none")
	if _, err := e.svc.Definitions.CreateHook(context.Background(), "g", "none", noBindings); err != nil {
		t.Fatal(err)
	}
	other := input("o")
	other.Bindings = &[]Binding{{Exchange: "z", RoutingKeyPattern: "k"}}
	if _, err := e.svc.Definitions.CreateHook(context.Background(), "a-group", "o/with/slashes", other); err != nil {
		t.Fatal(err)
	}
	got, err := e.svc.Definitions.PulseBindings(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []HookBindings{
		{HookGroupID: "a-group", HookID: "o/with/slashes", Bindings: []Binding{{Exchange: "z", RoutingKeyPattern: "k"}}},
		{HookGroupID: "g", HookID: "a", Bindings: []Binding{{Exchange: "e", RoutingKeyPattern: "rkp"}}},
		{HookGroupID: "g", HookID: "b", Bindings: []Binding{{Exchange: "x", RoutingKeyPattern: "#"}, {Exchange: "y", RoutingKeyPattern: "a.*"}}},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}
