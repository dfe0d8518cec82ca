package httpapi

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/slugid"
	"github.com/hookline/hookline/shared/taskcluster"
)

// contextHook renders the fire context into the task, so tests can see
// exactly what JSON-e received.
func contextHook(triggerSchema map[string]any) string {
	return hookBody(func(h map[string]any) {
		task := h["task"].(map[string]any)
		task["extra"] = map[string]any{
			"firedBy":  "${firedBy}",
			"taskId":   "${taskId}",
			"payload":  map[string]any{"$eval": "payload"},
			"clientId": map[string]any{"$if": "defined('clientId')", "then": "${clientId}", "else": "absent"},
		}
		if triggerSchema != nil {
			h["triggerSchema"] = triggerSchema
		}
	})
}

var openSchema = map[string]any{"type": "object"}

func (e *testEnv) mustCreate(t *testing.T, path, body string) {
	t.Helper()
	if r := e.do(t, "PUT", hooksURL+path, body); r.status != 200 {
		t.Fatalf("create %s: %d %s", path, r.status, r.raw)
	}
}

func TestTriggerHook(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustCreate(t, "/foo/bar", contextHook(openSchema))
	r := e.do(t, "POST", hooksURL+"/foo/bar/trigger", `{"location":"Belo Horizonte","n":5}`)
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	taskID, _ := r.body["taskId"].(string)
	if !slugid.Valid(taskID) || r.body["status"].(map[string]any)["taskId"] != taskID {
		t.Fatalf("reply %s", r.raw)
	}
	task := e.queue.task(t, taskID)
	extra := task["extra"].(map[string]any)
	if extra["firedBy"] != "triggerHook" || extra["taskId"] != taskID || extra["clientId"] != "test-client" {
		t.Fatalf("context: %v", extra)
	}
	// The payload reaches JSON-e as sent, with no schema defaults added.
	if fmt.Sprint(extra["payload"]) != "map[location:Belo Horizonte n:5]" {
		t.Fatalf("payload: %v", extra["payload"])
	}
	// Upstream's defaults on the rendered task.
	if task["taskGroupId"] != "dSlITZ4yQgmvxxAi4A8fHQ" || task["created"] != "2026-03-04T10:00:00.000Z" ||
		task["deadline"] != "2026-03-07T10:00:00.000Z" || task["expires"] != "2026-03-14T10:00:00.000Z" {
		t.Fatalf("task times/group: created %v deadline %v expires %v group %v", task["created"], task["deadline"], task["expires"], task["taskGroupId"])
	}
	fires := e.do(t, "GET", hooksURL+"/foo/bar/last-fires", "")
	list := fires.body["lastFires"].([]any)
	if len(list) != 1 {
		t.Fatalf("last fires: %s", fires.raw)
	}
	f := list[0].(map[string]any)
	if f["taskId"] != taskID || f["firedBy"] != "triggerHook" || f["result"] != "success" || f["error"] != "" || f["taskState"] != "pending" {
		t.Fatalf("last fire: %v", f)
	}
}

func TestTriggerDefaultsFillMissingFields(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustCreate(t, "/foo/bar", hookBody(func(h map[string]any) {
		task := h["task"].(map[string]any)
		delete(task, "taskGroupId")
		delete(task, "deadline")
		delete(task, "expires")
	}))
	r := e.do(t, "POST", hooksURL+"/foo/bar/trigger", "{}")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	taskID := r.body["taskId"].(string)
	task := e.queue.task(t, taskID)
	if task["taskGroupId"] != taskID || task["deadline"] != "2026-03-05T10:00:00.000Z" || task["expires"] != "2026-04-03T10:00:00.000Z" {
		t.Fatalf("defaults: group %v deadline %v expires %v", task["taskGroupId"], task["deadline"], task["expires"])
	}
}

func TestTriggerDeclined(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustCreate(t, "/foo/bar", hookBody(func(h map[string]any) {
		h["task"] = map[string]any{"$if": "false", "then": h["task"]}
	}))
	r := e.do(t, "POST", hooksURL+"/foo/bar/trigger", "{}")
	if r.status != 200 || r.raw != "{}" {
		t.Fatalf("declined: %d %s", r.status, r.raw)
	}
	if e.queue.count() != 0 {
		t.Fatal("a declined fire created a task")
	}
	if r := e.do(t, "GET", hooksURL+"/foo/bar/last-fires", ""); r.raw != `{"lastFires":[]}` {
		t.Fatalf("a declined fire was recorded: %s", r.raw)
	}
}

func TestTriggerErrors(t *testing.T) {
	enumSchema := map[string]any{"type": "object", "properties": map[string]any{"action": map[string]any{"enum": []any{"opened"}}}, "required": []any{"action"}}
	for _, tt := range []struct {
		name, hook, payload string
		queueErr            error
		wantStatus          int
		wantCode, want      string
		wantRecord          bool
	}{
		{name: "payload breaks triggerSchema", hook: contextHook(enumSchema), payload: `{"action":"closed"}`, wantStatus: 400, wantCode: CodeInputError, want: "data/action"},
		{name: "payload breaks triggerSchema several ways", hook: contextHook(enumSchema), payload: `{"action":5}`, wantStatus: 400, wantCode: CodeInputError, want: "data/action"},
		{name: "default schema refuses any payload", hook: hookBody(nil), payload: `{"a":1}`, wantStatus: 400, wantCode: CodeInputError, want: "a"},
		{name: "taskId not a slugid", hook: contextHook(openSchema), payload: `{"taskId":"not-a-slug"}`, wantStatus: 400, wantCode: CodeInputError, want: "Invalid taskId format: not-a-slug"},
		{name: "render error", hook: hookBody(func(h map[string]any) { h["task"] = map[string]any{"$eval": "1 +"} }), payload: `{}`, wantStatus: 400, wantCode: CodeInputError, want: "While firing hook:\n\nSyntaxError", wantRecord: true},
		{name: "queue refuses for scopes", hook: contextHook(openSchema), payload: `{}`,
			queueErr:   &taskcluster.APIError{StatusCode: 403, Code: "InsufficientScopes", Method: "createTask", Message: "missing queue:create-task:x"},
			wantStatus: 403, wantCode: CodeInsufficientScopes, want: "The role `hook-id:foo/bar` does not have sufficient scopes to create the task:\n\nmissing queue:create-task:x", wantRecord: true},
		{name: "queue input error", hook: contextHook(openSchema), payload: `{}`,
			queueErr:   &taskcluster.APIError{StatusCode: 413, Code: "InputTooLarge", Method: "createTask", Message: "too big"},
			wantStatus: 400, wantCode: CodeInputError, want: "While calling createTask: InputTooLarge\n\ntoo big", wantRecord: true},
		{name: "queue 5xx", hook: contextHook(openSchema), payload: `{}`,
			queueErr:   &taskcluster.APIError{StatusCode: 503, Code: "InternalServerError", Method: "createTask", Message: "down"},
			wantStatus: 400, wantCode: CodeInputError, want: "While calling createTask: InternalServerError", wantRecord: true},
		{name: "queue unreachable", hook: contextHook(openSchema), payload: `{}`,
			queueErr:   fmt.Errorf("dial: %w", taskcluster.ErrNetwork),
			wantStatus: 400, wantCode: CodeInputError, want: "While firing hook:\n\ndial: network error", wantRecord: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newTestEnv(t, nil)
			e.mustCreate(t, "/foo/bar", tt.hook)
			if tt.queueErr != nil {
				e.queue.fail = func(int) error { return tt.queueErr }
			}
			r := e.do(t, "POST", hooksURL+"/foo/bar/trigger", tt.payload)
			if r.status != tt.wantStatus || r.code() != tt.wantCode || !strings.Contains(r.message(), tt.want) {
				t.Fatalf("got %d %s %q\nwant %d %s containing %q", r.status, r.code(), r.message(), tt.wantStatus, tt.wantCode, tt.want)
			}
			fires := e.do(t, "GET", hooksURL+"/foo/bar/last-fires", "")
			list := fires.body["lastFires"].([]any)
			if !tt.wantRecord {
				if len(list) != 0 {
					t.Fatalf("a fire refused before rendering was recorded: %s", fires.raw)
				}
				return
			}
			if len(list) != 1 || list[0].(map[string]any)["result"] != "error" || list[0].(map[string]any)["error"] == "" {
				t.Fatalf("failure not recorded: %s", fires.raw)
			}
			status := e.do(t, "GET", hooksURL+"/foo/bar/status", "")
			if status.body["lastFire"].(map[string]any)["result"] != "error" {
				t.Fatalf("status: %s", status.raw)
			}
		})
	}
}

func TestTriggerWithPayloadTaskID(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustCreate(t, "/foo/bar", contextHook(openSchema))
	const id = "LGH5bdj-TGSzUHlkdglhfg"
	for range 2 {
		// A repeated trigger with the same taskId is idempotent.
		r := e.do(t, "POST", hooksURL+"/foo/bar/trigger", `{"taskId":"`+id+`"}`)
		if r.status != 200 || r.body["taskId"] != id {
			t.Fatalf("%d %s", r.status, r.raw)
		}
	}
	if e.queue.count() != 1 {
		t.Fatalf("%d tasks", e.queue.count())
	}
	extra := e.queue.task(t, id)["extra"].(map[string]any)
	if extra["payload"].(map[string]any)["taskId"] != id {
		t.Fatalf("taskId must stay in the payload: %v", extra)
	}
}

func TestTriggerMissingHook(t *testing.T) {
	e := newTestEnv(t, nil)
	for _, path := range []string{"/foo/nope/trigger", "/foo/nope/trigger/sometoken", "/foo/nope/token", "/foo/nope/status", "/foo/nope/last-fires"} {
		method := "POST"
		if strings.HasSuffix(path, "status") || strings.HasSuffix(path, "last-fires") || strings.HasSuffix(path, "token") {
			method = "GET"
		}
		if r := e.do(t, method, hooksURL+path, ""); r.status != 404 || r.code() != CodeResourceNotFound {
			t.Errorf("%s %s: %d %s", method, path, r.status, r.raw)
		}
	}
	if r := e.do(t, "POST", hooksURL+"/foo/nope/token", ""); r.status != 404 {
		t.Errorf("reset token of a missing hook: %d", r.status)
	}
}

// Exactly once: the same Idempotency-Key fires once, even when the queue
// accepted the task but its answer was lost (a 5xx after accepting).
func TestIdempotencyKey(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustCreate(t, "/foo/bar", contextHook(openSchema))
	e.queue.failAfterAccept = true
	e.queue.fail = func(call int) error {
		if call == 1 {
			return &taskcluster.APIError{StatusCode: 502, Code: "InternalServerError", Method: "createTask", Message: "answer lost"}
		}
		return nil
	}
	send := func(payload string) reply {
		req := httptest.NewRequest("POST", hooksURL+"/foo/bar/trigger", strings.NewReader(payload))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "deploy-42")
		rec := httptest.NewRecorder()
		e.router.ServeHTTP(rec, req)
		r := reply{status: rec.Code, raw: rec.Body.String()}
		mustDecode(t, rec.Body.Bytes(), &r.body)
		return r
	}
	first := send(`{"n":1}`)
	if first.status != 400 {
		t.Fatalf("first attempt: %d %s", first.status, first.raw)
	}
	second := send(`{"n":1}`)
	if second.status != 200 {
		t.Fatalf("retry: %d %s", second.status, second.raw)
	}
	third := send(`{"n":2}`) // same key: the original fire, not a new task
	if third.status != 200 || third.body["taskId"] != second.body["taskId"] {
		t.Fatalf("third: %d %s", third.status, third.raw)
	}
	if e.queue.count() != 1 {
		t.Fatalf("%d tasks exist, want exactly 1", e.queue.count())
	}
	fires := e.do(t, "GET", hooksURL+"/foo/bar/last-fires", "")
	list := fires.body["lastFires"].([]any)
	if len(list) != 1 || list[0].(map[string]any)["result"] != "success" {
		t.Fatalf("the retried fire must replace its record: %s", fires.raw)
	}
}

func TestTriggerTokens(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustCreate(t, "/foo/bar", contextHook(openSchema))
	first := e.do(t, "GET", hooksURL+"/foo/bar/token", "")
	again := e.do(t, "GET", hooksURL+"/foo/bar/token", "")
	token, _ := first.body["token"].(string)
	if token == "" || again.body["token"] != token {
		t.Fatalf("token not stable: %s %s", first.raw, again.raw)
	}
	r := e.do(t, "POST", hooksURL+"/foo/bar/trigger/"+token, `{"x":1}`)
	if r.status != 200 {
		t.Fatalf("token trigger: %d %s", r.status, r.raw)
	}
	extra := e.queue.task(t, r.body["taskId"].(string))["extra"].(map[string]any)
	if extra["firedBy"] != "triggerHookWithToken" || extra["clientId"] != "absent" {
		t.Fatalf("context: %v", extra)
	}
	if r := e.do(t, "POST", hooksURL+"/foo/bar/trigger/wrong", `{}`); r.status != 401 || r.code() != CodeAuthenticationFailed {
		t.Fatalf("wrong token: %d %s", r.status, r.raw)
	}
	reset := e.do(t, "POST", hooksURL+"/foo/bar/token", "")
	newToken, _ := reset.body["token"].(string)
	if reset.status != 200 || newToken == "" || newToken == token {
		t.Fatalf("reset: %s", reset.raw)
	}
	if got := e.do(t, "GET", hooksURL+"/foo/bar/token", ""); got.body["token"] != newToken {
		t.Fatalf("token after reset: %s", got.raw)
	}
	if r := e.do(t, "POST", hooksURL+"/foo/bar/trigger/"+token, `{}`); r.status != 401 {
		t.Fatalf("old token after reset: %d", r.status)
	}
	if r := e.do(t, "POST", hooksURL+"/foo/bar/trigger/"+newToken, `{}`); r.status != 200 {
		t.Fatalf("new token: %d %s", r.status, r.raw)
	}
	if r := e.do(t, "POST", hooksURL+"/foo/bar/trigger/"+newToken, `{"taskId":"bad"}`); r.status != 400 || !strings.Contains(r.message(), "Invalid taskId format") {
		t.Fatalf("bad taskId on token route: %d %s", r.status, r.raw)
	}
	const id = "LGH5bdj-TGSzUHlkdglhfg"
	if r := e.do(t, "POST", hooksURL+"/foo/bar/trigger/"+newToken, `{"taskId":"`+id+`"}`); r.status != 200 || r.body["taskId"] != id {
		t.Fatalf("taskId on token route: %d %s", r.status, r.raw)
	}
}

func TestHookStatus(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustCreate(t, "/foo/bar", contextHook(openSchema))
	if r := e.do(t, "GET", hooksURL+"/foo/bar/status", ""); r.raw != `{"lastFire":{"result":"no-fire"}}` {
		t.Fatalf("never fired: %s", r.raw)
	}
	e.mustCreate(t, "/foo/daily", hookBody(func(h map[string]any) { h["schedule"] = []any{"0 0 0 * * *"} }))
	r := e.do(t, "GET", hooksURL+"/foo/daily/status", "")
	if r.body["nextScheduledDate"] != "2026-03-05T00:00:00Z" {
		t.Fatalf("scheduled: %s", r.raw)
	}
	fired := e.do(t, "POST", hooksURL+"/foo/bar/trigger", "{}")
	r = e.do(t, "GET", hooksURL+"/foo/bar/status", "")
	lf := r.body["lastFire"].(map[string]any)
	if lf["result"] != "success" || lf["taskId"] != fired.body["taskId"] || lf["time"] != "2026-03-04T10:00:00Z" {
		t.Fatalf("after success: %s", r.raw)
	}
	e.queue.fail = func(int) error { return errors.New("uhoh") }
	e.clock.Advance(time.Second)
	e.do(t, "POST", hooksURL+"/foo/bar/trigger", "{}")
	r = e.do(t, "GET", hooksURL+"/foo/bar/status", "")
	lf = r.body["lastFire"].(map[string]any)
	if lf["result"] != "error" || fmt.Sprint(lf["error"]) != "map[message:uhoh]" {
		t.Fatalf("plain error text is wrapped as {message}: %s", r.raw)
	}
}

func TestListLastFiresPaging(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustCreate(t, "/foo/bar", contextHook(openSchema))
	if r := e.do(t, "GET", hooksURL+"/foo/bar/last-fires", ""); r.status != 200 || r.raw != `{"lastFires":[]}` {
		t.Fatalf("never fired must be an empty list: %d %s", r.status, r.raw)
	}
	for range 5 {
		e.clock.Advance(time.Second)
		e.do(t, "POST", hooksURL+"/foo/bar/trigger", "{}")
	}
	seen := 0
	path := hooksURL + "/foo/bar/last-fires?limit=2"
	for range 10 {
		r := e.do(t, "GET", path, "")
		if r.status != 200 {
			t.Fatalf("%d %s", r.status, r.raw)
		}
		seen += len(r.body["lastFires"].([]any))
		tok, _ := r.body["continuationToken"].(string)
		if tok == "" {
			break
		}
		path = hooksURL + "/foo/bar/last-fires?limit=2&continuationToken=" + tok
	}
	if seen != 5 {
		t.Fatalf("paged through %d fires, want 5", seen)
	}
	for _, q := range []string{"?limit=abc", "?limit=0", "?continuationToken=garbage!!"} {
		r := e.do(t, "GET", hooksURL+"/foo/bar/last-fires"+q, "")
		if r.status != 400 {
			t.Errorf("%s: %d %s", q, r.status, r.raw)
		}
	}
	// Removing the hook removes its history.
	e.do(t, "DELETE", hooksURL+"/foo/bar", "")
	e.mustCreate(t, "/foo/bar", contextHook(openSchema))
	if r := e.do(t, "GET", hooksURL+"/foo/bar/last-fires", ""); r.raw != `{"lastFires":[]}` {
		t.Fatalf("history survived removal: %s", r.raw)
	}
}

// The token never appears in the request log.
func TestTokenNotLogged(t *testing.T) {
	if got := redactPath("/api/hooks/v1/hooks/g/h/trigger/s3cr3t"); got != "/api/hooks/v1/hooks/g/h/trigger/<token>" {
		t.Fatalf("redacted path = %q", got)
	}
}
