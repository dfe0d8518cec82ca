package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/embedded"
	"github.com/hookline/hookline/shared/taskcluster"
)

var testNow = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

// grantAll lets every request through as client "test-client"; the
// authorization itself is tested with the real authenticator in
// auth_routes_test.go.
type grantAll struct{}

func (grantAll) AuthorizeBeforeBody(_ context.Context, _ *http.Request, _ auth.Expr) (auth.Caller, auth.PayloadCheck, error) {
	return auth.Caller{ClientID: "test-client", Scopes: []string{"*"}, Authenticated: true}, auth.PayloadCheck{}, nil
}

// recordingNotifier remembers changes and can be told to fail.
type recordingNotifier struct {
	mu      sync.Mutex
	changes []hooks.Change
	fail    error
}

func (n *recordingNotifier) HookChanged(_ context.Context, c hooks.Change) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail != nil {
		return n.fail
	}
	n.changes = append(n.changes, c)
	return nil
}

// memQueue is an in-memory queue with Taskcluster's createTask semantics:
// the same taskId and definition is a no-op, a different definition is a
// 409. fail, when set, decides an error for each call before (or after,
// with failAfterAccept) the task is stored.
type memQueue struct {
	mu              sync.Mutex
	tasks           map[string]json.RawMessage
	calls           int
	fail            func(call int) error
	failAfterAccept bool
}

func newMemQueue() *memQueue { return &memQueue{tasks: map[string]json.RawMessage{}} }

func (q *memQueue) CreateTask(_ context.Context, taskID string, task json.RawMessage, scopes []string) (json.RawMessage, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls++
	var failure error
	if q.fail != nil {
		failure = q.fail(q.calls)
	}
	if failure != nil && !q.failAfterAccept {
		return nil, failure
	}
	if old, ok := q.tasks[taskID]; ok && !bytes.Equal(old, task) {
		return nil, &taskcluster.APIError{StatusCode: 409, Code: "RequestConflict", Method: "createTask", Message: "taskId already used"}
	}
	q.tasks[taskID] = task
	if failure != nil {
		return nil, failure
	}
	return json.RawMessage(`{"status":{"taskId":"` + taskID + `","runs":[{"state":"pending"}]}}`), nil
}

func (q *memQueue) Status(_ context.Context, taskID string) (json.RawMessage, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if _, ok := q.tasks[taskID]; !ok {
		return nil, &taskcluster.APIError{StatusCode: 404, Code: "ResourceNotFound", Method: "status"}
	}
	return json.RawMessage(`{"status":{"taskId":"` + taskID + `","runs":[{"state":"pending"}]}}`), nil
}

func (q *memQueue) task(t testing.TB, taskID string) map[string]any {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	raw, ok := q.tasks[taskID]
	if !ok {
		t.Fatalf("no task %s in the queue", taskID)
	}
	var m map[string]any
	mustDecode(t, raw, &m)
	return m
}

func (q *memQueue) count() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.tasks)
}

type testEnv struct {
	router   *Router
	svc      *hooks.Service
	store    store.Store
	notifier *recordingNotifier
	queue    *memQueue
	clock    *fakeClock
}

// fakeClock starts at testNow and moves only when told to.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

func newTestEnv(t testing.TB, authz Authorizer) *testEnv {
	t.Helper()
	return buildTestEnv(t, authz, WebhookOptions{}, io.Discard)
}

// buildTestEnv is the router over a fresh embedded store, an in-memory
// queue and a fake clock, with replies checked against their schemas;
// authz nil grants every scope, and logs go to log.
func buildTestEnv(t testing.TB, authz Authorizer, webhook WebhookOptions, log io.Writer) *testEnv {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "hooks.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	n := &recordingNotifier{}
	q := newMemQueue()
	clock := &fakeClock{now: testNow}
	logger := slog.New(slog.NewJSONHandler(log, nil))
	if authz == nil {
		authz = grantAll{}
	}
	// The queue stands in for a deployment whose roles are the
	// authorizer's, as with `hookline serve`'s local queue.
	roles, _ := authz.(hooks.ScopeExpander)
	svc, err := hooks.NewService(st, reg, hooks.Options{Now: clock.Now, Notifier: n, Logger: logger, Queue: q, Roles: roles, ScopeRules: taskcluster.ScopeRules{}})
	if err != nil {
		t.Fatal(err)
	}
	rt, err := NewRouter(svc, Options{Authorizer: authz, Now: clock.Now, Logger: logger, ValidateResponses: true, Webhook: webhook})
	if err != nil {
		t.Fatal(err)
	}
	return &testEnv{router: rt, svc: svc, store: st, notifier: n, queue: q, clock: clock}
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

func (e *testEnv) do(t testing.TB, method, path, body string) reply {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	r := reply{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	mustDecode(t, rec.Body.Bytes(), &r.body)
	return r
}

func mustDecode(t testing.TB, data []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(data, v); err != nil {
		t.Fatalf("not JSON (%v): %q", err, data)
	}
}

func (r reply) code() string { s, _ := r.body["code"].(string); return s }

func (r reply) message() string { s, _ := r.body["message"].(string); return s }

// hookBody is upstream's standard test hook, optionally changed by edit.
func hookBody(edit func(map[string]any)) string {
	h := map[string]any{
		"metadata": map[string]any{
			"name":        "Unit testing hook",
			"description": "Hook created during unit tests",
			"owner":       "example@example.com",
		},
		"task": map[string]any{
			"provisionerId": "no-provisioner",
			"workerType":    "test-worker",
			"schedulerId":   "my-scheduler",
			"taskGroupId":   "dSlITZ4yQgmvxxAi4A8fHQ",
			"scopes":        []any{},
			"payload":       map[string]any{},
			"metadata": map[string]any{
				"name":        "Unit testing task",
				"description": "Task created during unit tests",
				"owner":       "example@example.com",
				"source":      "http://github.com/",
			},
			"expires":  map[string]any{"$fromNow": "10 days"},
			"deadline": map[string]any{"$fromNow": "3 days"},
			"tags":     map[string]any{"purpose": "taskcluster-testing"},
		},
	}
	if edit != nil {
		edit(h)
	}
	data, _ := json.Marshal(h)
	return string(data)
}

const hooksURL = BasePath + "/hooks"

func TestCreateHook(t *testing.T) {
	e := newTestEnv(t, nil)
	created := e.do(t, "PUT", hooksURL+"/foo/bar", hookBody(nil))
	if created.status != 200 {
		t.Fatalf("create: %d %s", created.status, created.raw)
	}
	got := e.do(t, "GET", hooksURL+"/foo/bar", "")
	if got.status != 200 {
		t.Fatalf("get: %d %s", got.status, got.raw)
	}
	if !jsonEqual(created.body, got.body) {
		t.Fatalf("create reply and get differ:\n%s\n%s", created.raw, got.raw)
	}
	// Schema defaults are applied as upstream's validator does.
	if got.body["schedule"] == nil || got.body["triggerSchema"] == nil || got.body["metadata"].(map[string]any)["emailOnError"] != true {
		t.Fatalf("defaults missing: %s", got.raw)
	}
	if len(e.notifier.changes) != 1 || e.notifier.changes[0] != (hooks.Change{Kind: hooks.HookCreated, HookGroupID: "foo", HookID: "bar"}) {
		t.Fatalf("changes = %+v", e.notifier.changes)
	}
	for _, secret := range []string{"token", "nextTaskId", "triggerToken"} {
		if strings.Contains(got.raw, secret) {
			t.Fatalf("definition leaks %s: %s", secret, got.raw)
		}
	}
}

func TestCreateHookWithSlashInHookID(t *testing.T) {
	e := newTestEnv(t, nil)
	if r := e.do(t, "PUT", hooksURL+"/foo/bar%2Fslash", hookBody(nil)); r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	got := e.do(t, "GET", hooksURL+"/foo/bar%2Fslash", "")
	if got.status != 200 || got.body["hookId"] != "bar/slash" {
		t.Fatalf("get: %d %s", got.status, got.raw)
	}
	if e.notifier.changes[0].HookID != "bar/slash" {
		t.Fatalf("change names %q", e.notifier.changes[0].HookID)
	}
}

func TestCreateHookErrors(t *testing.T) {
	for _, tt := range []struct {
		name, path, body string
		wantStatus       int
		wantCode, want   string
	}{
		{name: "slash in hookGroupId", path: "/foo%2Fslash/bar", body: hookBody(nil), wantStatus: 400, wantCode: CodeInvalidRequestArguments, want: "hookGroupId"},
		{name: "illegal hookId", path: "/foo/bar!!!", body: hookBody(nil), wantStatus: 400, wantCode: CodeInvalidRequestArguments, want: "hookId' given as 'bar!!!' must match"},
		{name: "binding without routingKeyPattern", path: "/foo/bar", body: hookBody(func(h map[string]any) {
			h["bindings"] = []any{map[string]any{"exchange": "e"}}
		}), wantStatus: 400, wantCode: CodeInputValidationError, want: "routingKeyPattern"},
		{name: "bindings not an array", path: "/foo/bar", body: hookBody(func(h map[string]any) {
			h["bindings"] = map[string]any{"exchange": "e", "routingKeyPattern": "#"}
		}), wantStatus: 400, wantCode: CodeInputValidationError, want: "array"},
		{name: "unknown top-level field", path: "/foo/bar", body: hookBody(func(h map[string]any) { h["expires"] = "now" }), wantStatus: 400, wantCode: CodeInputValidationError, want: "expires"},
		{name: "owner not an email", path: "/foo/bar", body: hookBody(func(h map[string]any) {
			h["metadata"].(map[string]any)["owner"] = "nobody"
		}), wantStatus: 400, wantCode: CodeInputValidationError, want: "owner"},
		{name: "missing task", path: "/foo/bar", body: hookBody(func(h map[string]any) { delete(h, "task") }), wantStatus: 400, wantCode: CodeInputValidationError, want: "task"},
		{name: "invalid cron", path: "/foo/bar", body: hookBody(func(h map[string]any) { h["schedule"] = []any{"0 0 3 0 * *"} }), wantStatus: 400, wantCode: CodeInputError, want: "0 0 3 0 * *"},
		{name: "group id differs from URL", path: "/foo/bar", body: hookBody(func(h map[string]any) { h["hookGroupId"] = "other" }), wantStatus: 400, wantCode: CodeInputError, want: "Hook Group Ids do not match"},
		{name: "hook id differs from URL", path: "/foo/bar", body: hookBody(func(h map[string]any) { h["hookId"] = "other" }), wantStatus: 400, wantCode: CodeInputError, want: "Hook Ids do not match"},
		{name: "trigger schema not a schema", path: "/foo/bar", body: hookBody(func(h map[string]any) {
			h["triggerSchema"] = map[string]any{"type": "nosuchtype"}
		}), wantStatus: 400, wantCode: CodeInputError, want: "must be"},
		{name: "trigger schema with remote ref", path: "/foo/bar", body: hookBody(func(h map[string]any) {
			h["triggerSchema"] = map[string]any{"$ref": "http://example.com/schema.json"}
		}), wantStatus: 400, wantCode: CodeInputError, want: "only local references"},
		{name: "denied exchange", path: "/foo/bar", body: hookBody(func(h map[string]any) {
			h["bindings"] = []any{map[string]any{"exchange": "exchange/taskcluster-queue/v1/task-created", "routingKeyPattern": "#"}}
		}), wantStatus: 400, wantCode: CodeInputError, want: "exchanges below have been denied access to hooks"},
		{name: "own exchanges denied", path: "/foo/bar", body: hookBody(func(h map[string]any) {
			h["bindings"] = []any{map[string]any{"exchange": "exchange/taskcluster-hooks/v1/hook-created", "routingKeyPattern": "#"}}
		}), wantStatus: 400, wantCode: CodeInputError, want: "denied access"},
		{name: "malformed JSON", path: "/foo/bar", body: `{"metadata":`, wantStatus: 400, wantCode: CodeMalformedPayload, want: "not valid JSON"},
		{name: "body not an object", path: "/foo/bar", body: `[1,2]`, wantStatus: 400, wantCode: CodeMalformedPayload, want: "JSON object"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, nil)
			r := e.do(t, "PUT", hooksURL+tt.path, tt.body)
			if r.status != tt.wantStatus || r.code() != tt.wantCode || !strings.Contains(r.message(), tt.want) {
				t.Fatalf("got %d %s %q, want %d %s containing %q", r.status, r.code(), r.message(), tt.wantStatus, tt.wantCode, tt.want)
			}
			info, _ := r.body["requestInfo"].(map[string]any)
			if info == nil || info["method"] != "createHook" {
				t.Fatalf("requestInfo = %v", r.body["requestInfo"])
			}
			if got := e.do(t, "GET", hooksURL+"/foo/bar", ""); got.status != 404 {
				t.Fatalf("a refused create stored something: %d", got.status)
			}
			if len(e.notifier.changes) != 0 {
				t.Fatalf("a refused create was announced: %+v", e.notifier.changes)
			}
		})
	}
}

func TestCreateHookIdempotent(t *testing.T) {
	e := newTestEnv(t, nil)
	withBindings := hookBody(func(h map[string]any) { h["bindings"] = []any{} })
	for _, body := range []string{withBindings, withBindings, hookBody(nil)} {
		// Upstream 409s on the third (bindings omitted); an omitted
		// bindings list is the same as an empty one here.
		if r := e.do(t, "PUT", hooksURL+"/foo/bar", body); r.status != 200 {
			t.Fatalf("re-create: %d %s", r.status, r.raw)
		}
	}
	different := hookBody(func(h map[string]any) { h["metadata"].(map[string]any)["name"] = "Other name" })
	r := e.do(t, "PUT", hooksURL+"/foo/bar", different)
	if r.status != 409 || r.code() != CodeRequestConflict || !strings.Contains(r.message(), "hook `foo/bar` already exists.") {
		t.Fatalf("different re-create: %d %s", r.status, r.raw)
	}
	got := e.do(t, "GET", hooksURL+"/foo/bar", "")
	if got.body["metadata"].(map[string]any)["name"] != "Unit testing hook" {
		t.Fatalf("conflicting create changed the hook: %s", got.raw)
	}
}

func TestCreateHookValidSchedules(t *testing.T) {
	e := newTestEnv(t, nil)
	for i, sched := range [][]any{{}, {"0 0 0 * * *"}, {"0 0 0 * * 5"}, {"0 0 0,12 * * 1,2,3,4,5"}, {"0 0 0 1,23 * *"}, {"0 0 12 1,14 * *"}} {
		body := hookBody(func(h map[string]any) { h["schedule"] = sched })
		if r := e.do(t, "PUT", hooksURL+"/sched/h"+string(rune('a'+i)), body); r.status != 200 {
			t.Errorf("schedule %v: %d %s", sched, r.status, r.raw)
		}
	}
}

func TestCreateHookIDsMatchingURL(t *testing.T) {
	e := newTestEnv(t, nil)
	body := hookBody(func(h map[string]any) { h["hookGroupId"] = "foo"; h["hookId"] = "bar" })
	if r := e.do(t, "PUT", hooksURL+"/foo/bar", body); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

func TestCreateHookWithBindings(t *testing.T) {
	e := newTestEnv(t, nil)
	body := hookBody(func(h map[string]any) {
		h["bindings"] = []any{map[string]any{"exchange": "exchange/taskcluster-queue/v1/task-completed", "routingKeyPattern": "route.my.thing.#"}}
	})
	r := e.do(t, "PUT", hooksURL+"/foo/bar", body)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	b := r.body["bindings"].([]any)
	if len(b) != 1 || b[0].(map[string]any)["routingKeyPattern"] != "route.my.thing.#" {
		t.Fatalf("bindings = %v", b)
	}
}

func TestUpdateHook(t *testing.T) {
	e := newTestEnv(t, nil)
	body := hookBody(func(h map[string]any) {
		h["schedule"] = []any{"0 0 0 * * *"}
		h["bindings"] = []any{map[string]any{"exchange": "exchange/a", "routingKeyPattern": "#"}}
	})
	if r := e.do(t, "PUT", hooksURL+"/foo/bar", body); r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	updated := hookBody(func(h map[string]any) { h["metadata"].(map[string]any)["owner"] = "new-owner@example.com" })
	r := e.do(t, "POST", hooksURL+"/foo/bar", updated)
	if r.status != 200 {
		t.Fatalf("update: %d %s", r.status, r.raw)
	}
	if r.body["metadata"].(map[string]any)["owner"] != "new-owner@example.com" {
		t.Fatalf("owner not updated: %s", r.raw)
	}
	before := e.do(t, "GET", hooksURL+"/foo/bar", "")
	if !jsonEqual(before.body["task"], mustJSON(t, hookBody(nil))["task"]) {
		t.Fatalf("task changed: %s", before.raw)
	}
	// Upstream quirk kept: omitted schedule resets to [], omitted bindings
	// are kept.
	if len(before.body["schedule"].([]any)) != 0 {
		t.Fatalf("omitted schedule was not reset: %s", before.raw)
	}
	if len(before.body["bindings"].([]any)) != 1 {
		t.Fatalf("omitted bindings were not kept: %s", before.raw)
	}
	last := e.notifier.changes[len(e.notifier.changes)-1]
	if last.Kind != hooks.HookUpdated {
		t.Fatalf("last change = %+v", last)
	}
}

func TestUpdateHookErrors(t *testing.T) {
	for _, tt := range []struct {
		name, path, body string
		wantStatus       int
		wantCode, want   string
	}{
		{name: "missing hook", path: "/foo/nope", body: hookBody(nil), wantStatus: 404, wantCode: CodeResourceNotFound, want: "No such hook"},
		{name: "invalid cron", path: "/foo/bar", body: hookBody(func(h map[string]any) { h["schedule"] = []any{"0 0 3 0 * *"} }), wantStatus: 400, wantCode: CodeInputError},
		{name: "ids differ", path: "/foo/bar", body: hookBody(func(h map[string]any) { h["hookId"] = "baz" }), wantStatus: 400, wantCode: CodeInputError, want: "Hook Ids do not match"},
		{name: "trigger schema not a schema", path: "/foo/bar", body: hookBody(func(h map[string]any) {
			h["triggerSchema"] = map[string]any{"type": "nosuchtype"}
		}), wantStatus: 400, wantCode: CodeInputError, want: "must be"},
		{name: "denied exchange", path: "/foo/bar", body: hookBody(func(h map[string]any) {
			h["bindings"] = []any{map[string]any{"exchange": "exchange/taskcluster-queue/v1/task-created", "routingKeyPattern": "#"}}
		}), wantStatus: 400, wantCode: CodeInputError, want: "denied access to hooks"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, nil)
			if r := e.do(t, "PUT", hooksURL+"/foo/bar", hookBody(nil)); r.status != 200 {
				t.Fatalf("create: %d %s", r.status, r.raw)
			}
			before := e.do(t, "GET", hooksURL+"/foo/bar", "")
			r := e.do(t, "POST", hooksURL+tt.path, tt.body)
			if r.status != tt.wantStatus || r.code() != tt.wantCode || !strings.Contains(r.message(), tt.want) {
				t.Fatalf("got %d %s %q, want %d %s containing %q", r.status, r.code(), r.message(), tt.wantStatus, tt.wantCode, tt.want)
			}
			after := e.do(t, "GET", hooksURL+"/foo/bar", "")
			if after.raw != before.raw {
				t.Fatalf("a refused update changed the hook:\n%s\n%s", before.raw, after.raw)
			}
		})
	}
}

func TestUpdateHookIDsMatchingURL(t *testing.T) {
	e := newTestEnv(t, nil)
	e.do(t, "PUT", hooksURL+"/foo/bar", hookBody(nil))
	body := hookBody(func(h map[string]any) { h["hookGroupId"] = "foo"; h["hookId"] = "bar" })
	if r := e.do(t, "POST", hooksURL+"/foo/bar", body); r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
}

func TestRemoveHook(t *testing.T) {
	e := newTestEnv(t, nil)
	e.do(t, "PUT", hooksURL+"/foo/bar", hookBody(nil))
	if r := e.do(t, "DELETE", hooksURL+"/foo/bar", ""); r.status != 200 || r.raw != "{}" {
		t.Fatalf("remove: %d %s", r.status, r.raw)
	}
	if r := e.do(t, "GET", hooksURL+"/foo/bar", ""); r.status != 404 || r.code() != CodeResourceNotFound {
		t.Fatalf("get after remove: %d %s", r.status, r.raw)
	}
	// Only hook of its group: the group is gone too.
	if r := e.do(t, "GET", hooksURL+"/foo", ""); r.status != 404 || !strings.Contains(r.message(), "No such group") {
		t.Fatalf("listHooks after remove: %d %s", r.status, r.raw)
	}
	// Removing a missing hook succeeds and is still announced, as upstream.
	if r := e.do(t, "DELETE", hooksURL+"/foo/bar", ""); r.status != 200 {
		t.Fatalf("second remove: %d %s", r.status, r.raw)
	}
	kinds := []hooks.ChangeKind{}
	for _, c := range e.notifier.changes {
		kinds = append(kinds, c.Kind)
	}
	if len(kinds) != 3 || kinds[1] != hooks.HookDeleted || kinds[2] != hooks.HookDeleted {
		t.Fatalf("changes = %v", kinds)
	}
}

// When announcing a change fails, the change is stored but the caller gets
// a 500, as upstream does when its Pulse publish fails.
func TestChangeAnnouncementFailure(t *testing.T) {
	for _, tt := range []struct{ method, body string }{
		{"PUT", hookBody(nil)},
		{"POST", hookBody(func(h map[string]any) { h["metadata"].(map[string]any)["name"] = "x" })},
		{"DELETE", ""},
	} {
		t.Run(tt.method, func(t *testing.T) {
			e := newTestEnv(t, nil)
			if tt.method != "PUT" {
				e.do(t, "PUT", hooksURL+"/foo/bar", hookBody(nil))
			}
			e.notifier.fail = errors.New("pulse is down")
			r := e.do(t, tt.method, hooksURL+"/foo/bar", tt.body)
			if r.status != 500 || r.code() != CodeInternalServerError {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
			if strings.Contains(r.raw, "pulse is down") {
				t.Fatalf("internal error text leaked to the caller: %s", r.raw)
			}
		})
	}
}

func TestListHookGroups(t *testing.T) {
	e := newTestEnv(t, nil)
	if r := e.do(t, "GET", hooksURL, ""); r.status != 200 || r.raw != `{"groups":[]}` {
		t.Fatalf("empty: %d %s", r.status, r.raw)
	}
	for _, g := range []string{"foo", "bar", "baz", "qux"} {
		for _, h := range []string{"h1", "h2"} {
			e.do(t, "PUT", hooksURL+"/"+g+"/"+h, hookBody(nil))
		}
	}
	r := e.do(t, "GET", hooksURL, "")
	if r.raw != `{"groups":["bar","baz","foo","qux"]}` {
		t.Fatalf("groups: %s", r.raw)
	}
}

func TestListHooks(t *testing.T) {
	e := newTestEnv(t, nil)
	for _, g := range []string{"foo", "bar"} {
		for _, h := range []string{"hb", "ha"} {
			e.do(t, "PUT", hooksURL+"/"+g+"/"+h, hookBody(nil))
		}
	}
	r := e.do(t, "GET", hooksURL+"/foo", "")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	list := r.body["hooks"].([]any)
	if len(list) != 2 {
		t.Fatalf("hooks: %s", r.raw)
	}
	for i, want := range []string{"ha", "hb"} {
		h := list[i].(map[string]any)
		if h["hookGroupId"] != "foo" || h["hookId"] != want {
			t.Fatalf("hook %d = %v/%v", i, h["hookGroupId"], h["hookId"])
		}
	}
	if r := e.do(t, "GET", hooksURL+"/nobody", ""); r.status != 404 || r.code() != CodeResourceNotFound {
		t.Fatalf("unknown group: %d %s", r.status, r.raw)
	}
}

func TestGetHook(t *testing.T) {
	e := newTestEnv(t, nil)
	e.do(t, "PUT", hooksURL+"/foo/bar", hookBody(nil))
	r := e.do(t, "GET", hooksURL+"/foo/bar", "")
	if r.status != 200 || r.body["metadata"].(map[string]any)["name"] != "Unit testing hook" {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	if r := e.do(t, "GET", hooksURL+"/foo/nope", ""); r.status != 404 || !strings.Contains(r.message(), "No such hook") {
		t.Fatalf("missing: %d %s", r.status, r.raw)
	}
}

func TestFrameworkRoutes(t *testing.T) {
	e := newTestEnv(t, nil)
	for _, tt := range []struct{ path, want string }{
		{"/ping", `"alive":true`},
		{"/__lbheartbeat__", `{}`},
		{"/__heartbeat__", `{}`},
		{"/__version__", `"version":"dev"`},
	} {
		r := e.do(t, "GET", BasePath+tt.path, "")
		if r.status != 200 || !strings.Contains(r.raw, tt.want) {
			t.Errorf("%s: %d %s", tt.path, r.status, r.raw)
		}
		want := http.Header{
			"Cache-Control":               {"no-store"},
			"X-Content-Type-Options":      {"nosniff"},
			"Access-Control-Allow-Origin": {"*"},
			"Content-Type":                {"application/json; charset=utf-8"},
		}
		if diff := cmp.Diff(want, r.header); diff != "" {
			t.Errorf("%s: headers (-want +got):\n%s", tt.path, diff)
		}
	}
}

func TestRouterErrors(t *testing.T) {
	e := newTestEnv(t, nil)
	e.do(t, "PUT", hooksURL+"/foo/bar", hookBody(nil))
	for _, tt := range []struct {
		name, method, path, body string
		wantStatus               int
		wantCode                 string
	}{
		{name: "unknown route", method: "GET", path: BasePath + "/nothing/here", wantStatus: 404, wantCode: CodeResourceNotFound},
		{name: "outside the API", method: "GET", path: "/elsewhere", wantStatus: 404, wantCode: CodeResourceNotFound},
		{name: "wrong method", method: "PATCH", path: hooksURL + "/foo/bar", wantStatus: 404, wantCode: CodeResourceNotFound},
		{name: "unknown query parameter", method: "GET", path: hooksURL + "/foo/bar?foo=1", wantStatus: 400, wantCode: CodeInvalidRequestArguments},
		{name: "hookId slash not encoded", method: "GET", path: hooksURL + "/foo/bar/slash", wantStatus: 404, wantCode: CodeResourceNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.method, tt.path, tt.body)
			if r.status != tt.wantStatus || r.code() != tt.wantCode {
				t.Fatalf("got %d %s, want %d %s", r.status, r.raw, tt.wantStatus, tt.wantCode)
			}
		})
	}
}

func TestBodyLimit(t *testing.T) {
	e := newTestEnv(t, nil)
	big := `{"metadata":{"name":"` + strings.Repeat("x", MaxBodyBytes) + `"}}`
	req := httptest.NewRequest("PUT", hooksURL+"/foo/bar", bytes.NewReader([]byte(big)))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	if rec.Code != 413 || !strings.Contains(rec.Body.String(), CodeInputTooLarge) {
		t.Fatalf("got %d %.200s", rec.Code, rec.Body.String())
	}
}

func TestWrongContentType(t *testing.T) {
	e := newTestEnv(t, nil)
	req := httptest.NewRequest("PUT", hooksURL+"/foo/bar", strings.NewReader(hookBody(nil)))
	req.Header.Set("Content-Type", "text/plain")
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	if rec.Code != 400 || !strings.Contains(rec.Body.String(), CodeMalformedPayload) {
		t.Fatalf("got %d %s", rec.Code, rec.Body.String())
	}
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var va, vb any
	json.Unmarshal(ja, &va)
	json.Unmarshal(jb, &vb)
	x, _ := json.Marshal(va)
	y, _ := json.Marshal(vb)
	return bytes.Equal(x, y)
}

func mustJSON(t testing.TB, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestValidParam(t *testing.T) {
	for _, tt := range []struct {
		name, v string
		want    bool
	}{
		{"hookGroupId", "abc-DEF_09", true},
		{"hookGroupId", "a/b", false},
		{"hookId", "a/b", true},
		{"hookId", "", false},
		{"hookId", strings.Repeat("x", 1000), true},
		{"hookId", strings.Repeat("x", 1001), false},
		{"hookId", "bar!!!", false},
		{"hookId", "é", false},
	} {
		if got := validParam(tt.name, tt.v); got != tt.want {
			t.Errorf("validParam(%s, %.20q) = %v", tt.name, tt.v, got)
		}
	}
}

// match splits the escaped path into segments as strings.Split does
// (empty segments included), unescaping each on its own.
func TestMatchSegments(t *testing.T) {
	rt := newTestEnv(t, nil).router
	cases := []struct {
		path, route string
		params      map[string]string
	}{
		{"/hooks", "listHookGroups", nil},
		{"/hooks/g", "listHooks", map[string]string{"hookGroupId": "g"}},
		{"/hooks/g/", "hook", map[string]string{"hookGroupId": "g", "hookId": ""}},
		{"/hooks/g/a%2Fb", "hook", map[string]string{"hookGroupId": "g", "hookId": "a/b"}},
		{"/hooks//x", "hook", map[string]string{"hookGroupId": "", "hookId": "x"}},
		{"/hooks/", "listHooks", map[string]string{"hookGroupId": ""}},
		{"/", "", nil},
		{"", "", nil},
		{"/hooks/g/a/b/c/d/e/f/g/h/i", "", nil},
	}
	for _, c := range cases {
		ro, params, err := rt.match(http.MethodGet, BasePath, c.path)
		if err != nil {
			t.Fatalf("%s: %v", c.path, err)
		}
		name := ""
		if ro != nil {
			name = ro.name
		}
		if name != c.route || len(params) != len(c.params) {
			t.Errorf("%s: route %q %v, want %q %v", c.path, name, params, c.route, c.params)
			continue
		}
		for k, v := range c.params {
			if params[k] != v {
				t.Errorf("%s: %s = %q, want %q", c.path, k, params[k], v)
			}
		}
	}
}
