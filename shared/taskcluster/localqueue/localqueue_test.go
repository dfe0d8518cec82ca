package localqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/boltcommit"
	"github.com/hookline/hookline/shared/slugid"
	"github.com/hookline/hookline/shared/taskcluster"
)

// The hooks service uses either queue through one interface; both must
// keep satisfying it.
type taskQueue interface {
	CreateTask(ctx context.Context, taskID string, task json.RawMessage, authorizedScopes []string) (json.RawMessage, error)
	Status(ctx context.Context, taskID string) (json.RawMessage, error)
}

var (
	_ taskQueue = (*Queue)(nil)
	_ taskQueue = (*taskcluster.Queue)(nil)
)

var testNow = time.Date(2030, 1, 2, 3, 4, 5, 678_000_000, time.UTC)

const (
	taskA = "fN1SbArXTPSVFNUvaOlinQ"
	taskB = "LCEnEsbVQ-atPKfNWEhH-w"
	taskC = "dYDxA3iySSq6PDxPpcnwAQ"
)

// newTestQueue opens a queue in a temporary directory with a fixed clock.
func newTestQueue(t testing.TB, opts *Options) *Queue {
	t.Helper()
	o := Options{Now: func() time.Time { return testNow }}
	if opts != nil {
		o = *opts
		if o.Now == nil {
			o.Now = func() time.Time { return testNow }
		}
	}
	q, err := OpenWithOptions(filepath.Join(t.TempDir(), "queue.db"), &o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { q.Close() })
	return q
}

// task returns a valid createTask body, created now, with edits applied
// (a nil value deletes the key).
func task(edits map[string]any) json.RawMessage {
	m := map[string]any{
		"provisionerId": "prov",
		"workerType":    "wt",
		"created":       testNow.Format(time.RFC3339Nano),
		"deadline":      testNow.Add(24 * time.Hour).Format(time.RFC3339),
		"payload":       map[string]any{"command": []any{"echo", "<hi & bye>"}, "n": 1.5},
		"metadata":      map[string]any{"name": "t", "description": "d", "owner": "me@example.com", "source": "https://example.com/x"},
	}
	for k, v := range edits {
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
	}
	b, err := json.Marshal(m)
	if err != nil {
		panic(err)
	}
	return b
}

// statusOf decodes {"status": ...} and checks it against task-status.json.
func statusOf(t *testing.T, reg *schemas.Registry, body json.RawMessage) map[string]any {
	t.Helper()
	var resp struct {
		Status map[string]any `json:"status"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.Status == nil {
		t.Fatalf("answer %s is not {status}: %v", body, err)
	}
	if err := reg.Validate(schemas.QueueTaskStatus, resp.Status); err != nil {
		t.Fatalf("status does not validate against task-status.json: %v\n%s", err, body)
	}
	return resp.Status
}

func wantAPIError(t *testing.T, err error, status int, code string) *taskcluster.APIError {
	t.Helper()
	var ae *taskcluster.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %v (%T), want an *APIError %d %s", err, err, status, code)
	}
	if ae.StatusCode != status || ae.Code != code {
		t.Fatalf("APIError = %d %s (%s), want %d %s", ae.StatusCode, ae.Code, ae.Message, status, code)
	}
	return ae
}

func TestQueue_CreateTask(t *testing.T) {
	q := newTestQueue(t, nil)
	ctx := context.Background()
	out, err := q.CreateTask(ctx, taskA, task(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	st := statusOf(t, q.reg, out)
	sched := testNow.Format(jsTime)
	want := map[string]any{
		"taskId": taskA, "provisionerId": "prov", "workerType": "wt", "taskQueueId": "prov/wt",
		"schedulerId": "-", "projectId": "none", "taskGroupId": taskA,
		"deadline": "2030-01-03T03:04:05.000Z", "expires": "2031-01-03T03:04:05.000Z",
		"retriesLeft": float64(5), "state": "pending",
		"runs": []any{map[string]any{"runId": float64(0), "state": "pending", "reasonCreated": "scheduled", "scheduled": sched}},
	}
	if diff := cmp.Diff(want, st); diff != "" {
		t.Errorf("status (-want +got):\n%s", diff)
	}

	// Status and the definition read back; the definition has upstream's
	// defaults and validates against task.json.
	got, err := q.Status(ctx, taskA)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, statusOf(t, q.reg, got)); diff != "" {
		t.Errorf("Status (-want +got):\n%s", diff)
	}
	def, err := q.Task(ctx, taskA)
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	if err := json.Unmarshal(def, &d); err != nil {
		t.Fatal(err)
	}
	if err := q.reg.Validate(schemas.QueueTaskDefinitionResp, d); err != nil {
		t.Errorf("definition does not validate against task.json: %v\n%s", err, def)
	}
	for k, v := range map[string]any{
		"created": "2030-01-02T03:04:05.678Z", "priority": "lowest", "requires": "all-completed",
		"retries": float64(5), "taskQueueId": "prov/wt", "routes": []any{}, "scopes": []any{}, "tags": map[string]any{},
	} {
		if !cmp.Equal(d[k], v) {
			t.Errorf("definition %s = %v, want %v", k, d[k], v)
		}
	}
	if !strings.Contains(string(def), `"<hi & bye>"`) {
		t.Errorf("payload was HTML-escaped: %s", def)
	}
}

func TestQueue_CreateTaskIdempotency(t *testing.T) {
	later := testNow.Add(time.Minute)
	clock := atomic.Pointer[time.Time]{}
	clock.Store(&testNow)
	q := newTestQueue(t, &Options{Now: func() time.Time { return *clock.Load() }})
	ctx := context.Background()
	first, err := q.CreateTask(ctx, taskA, task(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	// A minute later the same definition, with its dates written
	// differently and its keys in another order, is the same task: same
	// status, same run, nothing new.
	clock.Store(&later)
	same := task(map[string]any{
		"created":  "2030-01-02T03:04:05.678000+00:00",
		"deadline": "2030-01-03T04:04:05+01:00",
	})
	again, err := q.CreateTask(ctx, taskA, same, nil)
	if err != nil {
		t.Fatalf("identical definition refused: %v", err)
	}
	if string(again) != string(first) {
		t.Errorf("second answer differs:\n%s\n%s", first, again)
	}
	// Explicit defaults are the same definition too.
	if _, err := q.CreateTask(ctx, taskA, task(map[string]any{"priority": "lowest", "retries": 5, "schedulerId": "-"}), nil); err != nil {
		t.Errorf("definition with explicit defaults refused: %v", err)
	}

	for _, tt := range []struct {
		name  string
		edits map[string]any
	}{
		{name: "different payload", edits: map[string]any{"payload": map[string]any{"n": 2}}},
		{name: "different deadline", edits: map[string]any{"deadline": testNow.Add(2 * time.Hour).Format(time.RFC3339)}},
		{name: "different priority", edits: map[string]any{"priority": "high"}},
		{name: "extra route", edits: map[string]any{"routes": []any{"index.x"}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := q.CreateTask(ctx, taskA, task(tt.edits), nil)
			ae := wantAPIError(t, err, 409, "RequestConflict")
			if !strings.Contains(ae.Message, "already used by another task") || ae.Method != "createTask" {
				t.Errorf("message %q, method %q", ae.Message, ae.Method)
			}
		})
	}
	def, err := q.Task(ctx, taskA)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(def), `"n":1.5`) {
		t.Errorf("a conflicting call changed the stored task: %s", def)
	}
}

func TestQueue_CreateTaskRefusals(t *testing.T) {
	day := 24 * time.Hour
	for _, tt := range []struct {
		name     string
		taskID   string
		body     json.RawMessage
		status   int
		code     string
		contains string
	}{
		{name: "bad taskId", taskID: "nope", body: task(nil), status: 400, code: "InvalidRequestArguments", contains: "URL parameter 'taskId'"},
		{name: "not JSON", body: json.RawMessage(`{"a":`), status: 400, code: "MalformedPayload"},
		{name: "not an object", body: json.RawMessage(`[1]`), status: 400, code: "MalformedPayload"},
		{name: "missing metadata", body: task(map[string]any{"metadata": nil}), status: 400, code: "InputValidationError", contains: "metadata"},
		{name: "unknown property", body: task(map[string]any{"color": "red"}), status: 400, code: "InputValidationError", contains: "color"},
		{name: "bad priority", body: task(map[string]any{"priority": "urgent"}), status: 400, code: "InputValidationError", contains: "priority"},
		{name: "empty body", body: nil, status: 400, code: "InputValidationError"},
		{name: "no queue", body: task(map[string]any{"provisionerId": nil, "workerType": nil}), status: 400, code: "InputError", contains: "at least a provisionerId"},
		{name: "queue mismatch", body: task(map[string]any{"taskQueueId": "prov/other"}), status: 400, code: "InputError", contains: "taskQueueId must match"},
		{name: "created too old", body: task(map[string]any{"created": testNow.Add(-16 * time.Minute).Format(time.RFC3339)}), status: 400, code: "InputError", contains: "`created` cannot be in the past"},
		{name: "created in the future", body: task(map[string]any{"created": testNow.Add(16 * time.Minute).Format(time.RFC3339)}), status: 400, code: "InputError", contains: "`created` cannot be in the future"},
		{name: "deadline before created", body: task(map[string]any{"created": testNow.Add(10 * time.Minute).Format(time.RFC3339), "deadline": testNow.Add(5 * time.Minute).Format(time.RFC3339)}), status: 400, code: "InputError", contains: "cannot be later than `created`"},
		{name: "deadline passed", body: task(map[string]any{"created": testNow.Add(-10 * time.Minute).Format(time.RFC3339), "deadline": testNow.Add(-5 * time.Minute).Format(time.RFC3339)}), status: 400, code: "InputError", contains: "`deadline` cannot be in the past"},
		{name: "deadline too far", body: task(map[string]any{"deadline": testNow.Add(5*day + 16*time.Minute).Format(time.RFC3339)}), status: 400, code: "InputError", contains: "more than 5 days"},
		{name: "expires before deadline", body: task(map[string]any{"expires": testNow.Add(time.Hour).Format(time.RFC3339)}), status: 400, code: "InputError", contains: "`expires` cannot be before `deadline`"},
		{name: "double star scope", body: task(map[string]any{"scopes": []any{"secrets:get:**"}}), status: 400, code: "InputError", contains: "must not end with"},
		{name: "missing dependency", body: task(map[string]any{"dependencies": []any{taskC}}), status: 400, code: "InputError", contains: "references non-existing tasks: \n * " + taskC},
		// Many failing items are listed 50 at most, refused before
		// gojsonschema would list them all.
		{name: "many bad routes", body: task(map[string]any{"routes": make([]any, 60)}), status: 400, code: "InputValidationError", contains: "routes.49: Invalid type. Expected: string, given: null\nand at least"},
		// In process as over HTTP: a task over the 10 MB body limit.
		{name: "too large", body: task(map[string]any{"extra": map[string]any{"blob": strings.Repeat("x", 11<<20)}}), status: 413, code: "InputTooLarge", contains: "larger than 10 MB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := newTestQueue(t, nil)
			id := tt.taskID
			if id == "" {
				id = taskA
			}
			_, err := q.CreateTask(context.Background(), id, tt.body, nil)
			ae := wantAPIError(t, err, tt.status, tt.code)
			if !strings.Contains(ae.Message, tt.contains) {
				t.Errorf("message %q does not contain %q", ae.Message, tt.contains)
			}
			var body struct {
				Code        string `json:"code"`
				Message     string `json:"message"`
				RequestInfo struct {
					Method string            `json:"method"`
					Params map[string]string `json:"params"`
				} `json:"requestInfo"`
			}
			if err := json.Unmarshal(ae.Body, &body); err != nil {
				t.Fatalf("error body %s: %v", ae.Body, err)
			}
			if body.Code != tt.code || body.Message != ae.Message || body.RequestInfo.Method != "createTask" || body.RequestInfo.Params["taskId"] != id {
				t.Errorf("error body = %s", ae.Body)
			}
			if _, err := q.Status(context.Background(), id); taskcluster.StatusCode(err) != 404 && taskcluster.StatusCode(err) != 400 {
				t.Errorf("a refused task was stored: %v", err)
			}
		})
	}
}

func TestQueue_TaskQueueID(t *testing.T) {
	for _, tt := range []struct {
		name                    string
		edits                   map[string]any
		wantProv, wantWT, wantQ string
	}{
		{name: "from provisionerId and workerType", wantProv: "prov", wantWT: "wt", wantQ: "prov/wt"},
		{name: "from taskQueueId", edits: map[string]any{"provisionerId": nil, "workerType": nil, "taskQueueId": "p2/w2"}, wantProv: "p2", wantWT: "w2", wantQ: "p2/w2"},
		{name: "all three agree", edits: map[string]any{"taskQueueId": "prov/wt"}, wantProv: "prov", wantWT: "wt", wantQ: "prov/wt"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := newTestQueue(t, nil)
			out, err := q.CreateTask(context.Background(), taskA, task(tt.edits), nil)
			if err != nil {
				t.Fatal(err)
			}
			st := statusOf(t, q.reg, out)
			if st["provisionerId"] != tt.wantProv || st["workerType"] != tt.wantWT || st["taskQueueId"] != tt.wantQ {
				t.Errorf("status queue = %v %v %v", st["provisionerId"], st["workerType"], st["taskQueueId"])
			}
		})
	}
}

func TestQueue_Dependencies(t *testing.T) {
	q := newTestQueue(t, nil)
	ctx := context.Background()
	if _, err := q.CreateTask(ctx, taskA, task(nil), nil); err != nil {
		t.Fatal(err)
	}
	out, err := q.CreateTask(ctx, taskB, task(map[string]any{"dependencies": []any{taskA}}), nil)
	if err != nil {
		t.Fatal(err)
	}
	st := statusOf(t, q.reg, out)
	if st["state"] != "unscheduled" || len(st["runs"].([]any)) != 0 {
		t.Errorf("a task waiting on a dependency: state %v, runs %v", st["state"], st["runs"])
	}
	// A dependency expiring before the deadline is refused.
	short := task(map[string]any{"expires": testNow.Add(2 * time.Hour).Format(time.RFC3339), "deadline": testNow.Add(time.Hour).Format(time.RFC3339)})
	if _, err := q.CreateTask(ctx, taskC, short, nil); err != nil {
		t.Fatal(err)
	}
	_, err = q.CreateTask(ctx, "Xl5tyu0dRBmZK7c_yPyRlw", task(map[string]any{"dependencies": []any{taskC}}), nil)
	ae := wantAPIError(t, err, 400, "InputError")
	if !strings.Contains(ae.Message, "references tasks that expires\nbefore `task.deadline`") {
		t.Errorf("message %q", ae.Message)
	}
	// Depending on itself is allowed (and never runs).
	self := "Y0Qy8yDYRG-3VthVR9kk8g"
	if _, err := q.CreateTask(ctx, self, task(map[string]any{"dependencies": []any{self}}), nil); err != nil {
		t.Errorf("self-dependency: %v", err)
	}
}

func TestQueue_TaskGroupSchedulerConflict(t *testing.T) {
	// Group taskC has no task of that name: its schedulerId is recorded on
	// its own. Group taskA is named after its first task (the default), so
	// that task's record says the schedulerId.
	for _, tt := range []struct {
		name, group string
		first       map[string]any
	}{
		{name: "separate group", group: taskC, first: map[string]any{"taskGroupId": taskC, "schedulerId": "one"}},
		{name: "group named after its task", group: taskA, first: map[string]any{"schedulerId": "one"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := newTestQueue(t, nil)
			ctx := context.Background()
			if _, err := q.CreateTask(ctx, taskA, task(tt.first), nil); err != nil {
				t.Fatal(err)
			}
			_, err := q.CreateTask(ctx, taskB, task(map[string]any{"taskGroupId": tt.group, "schedulerId": "two"}), nil)
			ae := wantAPIError(t, err, 409, "RequestConflict")
			if !strings.Contains(ae.Message, "Task group `"+tt.group+"` contains tasks with a schedulerId other") {
				t.Errorf("message %q", ae.Message)
			}
			if _, err := q.CreateTask(ctx, taskB, task(map[string]any{"taskGroupId": tt.group, "schedulerId": "one"}), nil); err != nil {
				t.Errorf("same schedulerId refused: %v", err)
			}
			// The first task is still idempotent.
			if _, err := q.CreateTask(ctx, taskA, task(tt.first), nil); err != nil {
				t.Errorf("re-creating the first task: %v", err)
			}
		})
	}
	t.Run("task in another group does not name a group", func(t *testing.T) {
		t.Parallel()
		q := newTestQueue(t, nil)
		ctx := context.Background()
		// taskA is in group taskC; a group called taskA is still new.
		if _, err := q.CreateTask(ctx, taskA, task(map[string]any{"taskGroupId": taskC, "schedulerId": "one"}), nil); err != nil {
			t.Fatal(err)
		}
		if _, err := q.CreateTask(ctx, taskB, task(map[string]any{"taskGroupId": taskA, "schedulerId": "two"}), nil); err != nil {
			t.Errorf("new group refused: %v", err)
		}
	})
}

func TestQueue_InProcessScopes(t *testing.T) {
	roles, err := auth.CompileRoles([]auth.Role{
		{RoleID: "hook-id:good/*", Scopes: []string{"queue:create-task:highest:prov/*", "queue:scheduler-id:-", "queue:create-task:project:none", "queue:route:index.good.*"}},
		{RoleID: "hook-id:weak/*", Scopes: []string{"queue:create-task:lowest:prov/*", "queue:scheduler-id:-", "queue:create-task:project:none"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name       string
		expand     func([]string) []string
		authorized []string
		edits      map[string]any
		wantErr    bool
		missing    string
	}{
		{name: "no expander trusts the caller", authorized: []string{"assume:hook-id:none/x"}},
		{name: "nil authorizedScopes is unrestricted", expand: roles.Expand},
		{name: "role covers the task", expand: roles.Expand, authorized: []string{"assume:hook-id:good/h"}, edits: map[string]any{"routes": []any{"index.good.x"}, "priority": "high"}},
		{name: "higher priority scope covers lower", expand: roles.Expand, authorized: []string{"assume:hook-id:good/h"}, edits: map[string]any{"priority": "low"}},
		{name: "priority too high", expand: roles.Expand, authorized: []string{"assume:hook-id:weak/h"}, edits: map[string]any{"priority": "high"}, wantErr: true, missing: "queue:create-task:high:prov/wt"},
		{name: "route not granted", expand: roles.Expand, authorized: []string{"assume:hook-id:weak/h"}, edits: map[string]any{"routes": []any{"index.x"}}, wantErr: true, missing: "queue:route:index.x"},
		{name: "task scope not granted", expand: roles.Expand, authorized: []string{"assume:hook-id:good/h"}, edits: map[string]any{"scopes": []any{"secrets:get:x"}}, wantErr: true, missing: "secrets:get:x"},
		{name: "unknown role", expand: roles.Expand, authorized: []string{"assume:hook-id:none/x"}, wantErr: true, missing: "queue:scheduler-id:-"},
		{name: "other scheduler", expand: roles.Expand, authorized: []string{"assume:hook-id:good/h"}, edits: map[string]any{"schedulerId": "mine"}, wantErr: true, missing: "queue:scheduler-id:mine"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			q := newTestQueue(t, &Options{Expand: tt.expand})
			_, err := q.CreateTask(context.Background(), taskA, task(tt.edits), tt.authorized)
			if !tt.wantErr {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			ae := wantAPIError(t, err, 403, "InsufficientScopes")
			head, _, _ := strings.Cut(ae.Message, "This request requires")
			if !strings.Contains(head, tt.missing) {
				t.Errorf("missing part of %q does not name %q", ae.Message, tt.missing)
			}
		})
	}
}

func TestQueue_ReadErrors(t *testing.T) {
	q := newTestQueue(t, nil)
	ctx := context.Background()
	for _, tt := range []struct {
		name   string
		read   func(context.Context, string) (json.RawMessage, error)
		method string
	}{
		{name: "status", read: q.Status, method: "status"},
		{name: "task", read: q.Task, method: "task"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.read(ctx, taskB)
			ae := wantAPIError(t, err, 404, "ResourceNotFound")
			if ae.Method != tt.method || !strings.Contains(ae.Message, "`"+taskB+"` does not correspond to a task that exists") {
				t.Errorf("method %q, message %q", ae.Method, ae.Message)
			}
			_, err = tt.read(ctx, "bad id")
			wantAPIError(t, err, 400, "InvalidRequestArguments")
			cancelled, cancel := context.WithCancel(ctx)
			cancel()
			if _, err := tt.read(cancelled, taskB); !errors.Is(err, context.Canceled) {
				t.Errorf("cancelled read: %v", err)
			}
		})
	}
}

func TestQueue_DeadlineExceeded(t *testing.T) {
	clock := atomic.Pointer[time.Time]{}
	clock.Store(&testNow)
	q := newTestQueue(t, &Options{Now: func() time.Time { return *clock.Load() }})
	ctx := context.Background()
	deadline := testNow.Add(time.Hour)
	for _, id := range []string{taskA, taskB} {
		edits := map[string]any{"deadline": deadline.Format(time.RFC3339Nano)}
		if id == taskB {
			edits["dependencies"] = []any{taskA}
		}
		if _, err := q.CreateTask(ctx, id, task(edits), nil); err != nil {
			t.Fatal(err)
		}
	}
	after := deadline.Add(time.Second)
	clock.Store(&after)
	for _, tt := range []struct {
		taskID        string
		reasonCreated string
		scheduled     string
	}{
		{taskID: taskA, reasonCreated: "scheduled", scheduled: testNow.Format(jsTime)},
		{taskID: taskB, reasonCreated: "exception", scheduled: deadline.Format(jsTime)},
	} {
		out, err := q.Status(ctx, tt.taskID)
		if err != nil {
			t.Fatal(err)
		}
		st := statusOf(t, q.reg, out)
		want := []any{map[string]any{
			"runId": float64(0), "state": "exception", "reasonCreated": tt.reasonCreated, "reasonResolved": "deadline-exceeded",
			"scheduled": tt.scheduled, "resolved": deadline.Format(jsTime),
		}}
		if st["state"] != "exception" || !cmp.Equal(want, st["runs"]) {
			t.Errorf("%s after its deadline: state %v, runs %v", tt.taskID, st["state"], cmp.Diff(want, st["runs"]))
		}
	}
}

func TestQueue_Closed(t *testing.T) {
	q, err := Open(filepath.Join(t.TempDir(), "queue.db"))
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	_, err = q.CreateTask(context.Background(), taskA, task(map[string]any{"created": time.Now().UTC().Format(time.RFC3339), "deadline": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)}), nil)
	if !errors.Is(err, boltcommit.ErrClosed) {
		t.Errorf("create after Close: %v", err)
	}
	var ae *taskcluster.APIError
	if _, err := q.Status(context.Background(), taskA); err == nil || errors.As(err, &ae) {
		t.Errorf("status after Close: %v", err)
	}
}

func TestQueue_Durable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "q", "queue.db")
	opts := &Options{Now: func() time.Time { return testNow }}
	q, err := OpenWithOptions(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	first, err := q.CreateTask(context.Background(), taskA, task(nil), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := q.Close(); err != nil {
		t.Fatal(err)
	}
	q, err = OpenWithOptions(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	got, err := q.Status(context.Background(), taskA)
	if err != nil || string(got) != string(first) {
		t.Fatalf("after reopening: %s, %v; want %s", got, err, first)
	}
	if _, err := q.CreateTask(context.Background(), taskA, task(map[string]any{"priority": "high"}), nil); taskcluster.StatusCode(err) != 409 {
		t.Errorf("conflict after reopening: %v", err)
	}
}

func TestQueue_ConcurrentCreates(t *testing.T) {
	q := newTestQueue(t, nil)
	ctx := context.Background()
	// 32 callers race on the same taskId with the same definition, and 32
	// more each create their own task: one task for the first group, every
	// caller answered with the same status, and nobody's commit lost.
	var wg sync.WaitGroup
	answers := make([]string, 32)
	errs := make([]error, 64)
	ids := make([]string, 32)
	for i := range 32 {
		ids[i] = slugid.New()
		wg.Add(2)
		go func() {
			defer wg.Done()
			out, err := q.CreateTask(ctx, taskA, task(nil), nil)
			answers[i], errs[i] = string(out), err
		}()
		go func() {
			defer wg.Done()
			_, errs[32+i] = q.CreateTask(ctx, ids[i], task(nil), nil)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("call %d: %v", i, err)
		}
	}
	for _, a := range answers[1:] {
		if a != answers[0] {
			t.Fatalf("answers differ:\n%s\n%s", answers[0], a)
		}
	}
	for _, id := range ids {
		if _, err := q.Status(ctx, id); err != nil {
			t.Errorf("task %s lost: %v", id, err)
		}
	}
}

// BenchmarkCreateTaskParallel measures durable createTask calls from 16
// concurrent callers (b.SetParallelism rounds up to a multiple of
// GOMAXPROCS).
func BenchmarkCreateTaskParallel(b *testing.B) {
	q := newTestQueue(b, &Options{Now: time.Now})
	body := benchTask(time.Now())
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((16 + procs - 1) / procs)
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		ctx := context.Background()
		for pb.Next() {
			if _, err := q.CreateTask(ctx, slugid.New(), body, nil); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
	commits, writes := q.writes.Stats()
	b.ReportMetric(float64(writes)/float64(max(commits, 1)), "writes/commit")
}

// BenchmarkCreateTask measures one caller at a time: each call waits for
// its own commit.
func BenchmarkCreateTask(b *testing.B) {
	q := newTestQueue(b, &Options{Now: time.Now})
	body := benchTask(time.Now())
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := q.CreateTask(ctx, slugid.New(), body, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "tasks/s")
}

// benchTask is a task as a hook renders it.
func benchTask(now time.Time) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"provisionerId":"proj-ci","workerType":"linux","created":%q,"deadline":%q,"expires":%q,`+
		`"routes":["index.project.ci.nightly"],"scopes":["secrets:get:project/ci/nightly"],`+
		`"payload":{"image":"ubuntu:24.04","command":["/bin/bash","-c","make test"],"maxRunTime":3600,"env":{"HOOK":"nightly"}},`+
		`"metadata":{"name":"nightly","description":"nightly build","owner":"ci@example.com","source":"https://example.com/hooks/ci/nightly"},`+
		`"tags":{"kind":"nightly"},"extra":{"firedBy":"schedule"}}`,
		now.UTC().Format(jsTime), now.Add(24*time.Hour).UTC().Format(jsTime), now.Add(30*24*time.Hour).UTC().Format(jsTime)))
}
