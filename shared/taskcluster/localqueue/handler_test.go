package localqueue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/taskcluster"
)

// fakeAuthorizer reads the caller from the Authorization header:
// "scopes a b c" is client "tester" holding a, b and c; "bad" fails
// authentication; "broken" fails with a non-auth error; no header is an
// anonymous caller with the anonymous scopes.
type fakeAuthorizer struct {
	anonymous []string
	t         *testing.T
}

func (f fakeAuthorizer) Authorize(ctx context.Context, r *http.Request, body []byte, required auth.Expr) (auth.Caller, error) {
	if required.IsZero() {
		f.t.Error("createTask must be authenticated: got the zero (public) expression")
	}
	if body == nil && r.ContentLength > 0 {
		f.t.Error("Authorize got no body")
	}
	var c auth.Caller
	switch h := r.Header.Get("Authorization"); {
	case h == "":
		c = auth.Caller{Scopes: f.anonymous}
	case h == "bad":
		return auth.Caller{}, &auth.Error{Code: auth.CodeAuthenticationFailed, Message: "Unauthorized: Bad mac"}
	case h == "broken":
		return auth.Caller{}, errors.New("auth service unreachable")
	case strings.HasPrefix(h, "scopes "):
		c = auth.Caller{ClientID: "tester", Scopes: strings.Fields(h[len("scopes "):]), Authenticated: true}
	default:
		f.t.Fatalf("unexpected Authorization %q", h)
	}
	if !required.SatisfiedBy(c.Scopes) {
		return c, &auth.Error{Code: auth.CodeInsufficientScopes, Message: "insufficient scopes"}
	}
	return c, nil
}

const fullScopes = "scopes queue:create-task:lowest:prov/wt queue:scheduler-id:- queue:create-task:project:none"

type response struct {
	status  int
	header  http.Header
	body    []byte
	code    string
	message string
}

// do sends one request to h and decodes a Taskcluster error body if any.
func do(t *testing.T, h http.Handler, method, path, authz, contentType string, body []byte) response {
	t.Helper()
	r := httptest.NewRequest(method, path, bytes.NewReader(body))
	if authz != "" {
		r.Header.Set("Authorization", authz)
	}
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	res := response{status: w.Code, header: w.Header(), body: w.Body.Bytes()}
	if w.Code != http.StatusOK {
		var e struct {
			Code        string         `json:"code"`
			Message     string         `json:"message"`
			RequestInfo map[string]any `json:"requestInfo"`
		}
		if err := json.Unmarshal(res.body, &e); err != nil || e.RequestInfo == nil {
			t.Fatalf("%s %s: error body %s is not a Taskcluster error (%v)", method, path, res.body, err)
		}
		res.code, res.message = e.Code, e.Message
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	return res
}

func TestHandler(t *testing.T) {
	q := newTestQueue(t, &Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	h := q.Handler(fakeAuthorizer{anonymous: []string{"queue:ping"}, t: t})
	taskPath := Prefix + "task/" + taskA
	created := do(t, h, http.MethodPut, taskPath, fullScopes, "application/json", task(nil))
	if created.status != http.StatusOK {
		t.Fatalf("createTask: %d %s", created.status, created.body)
	}
	statusOf(t, q.reg, created.body)
	if created.header.Get("Cache-Control") == "" || created.header.Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("headers = %v", created.header)
	}

	big := append(append([]byte(`{"payload":"`), bytes.Repeat([]byte("x"), maxBody)...), `"}`...)
	for _, tt := range []struct {
		name, method, path, authz, contentType string
		body                                   []byte
		wantStatus                             int
		wantCode                               string
		wantBody                               string // for 200s: the exact answer
		wantMessage                            string
	}{
		{name: "ping", method: "GET", path: Prefix + "ping", wantStatus: 200},
		{name: "create again", method: "PUT", path: taskPath, authz: fullScopes, contentType: "application/json", body: task(nil), wantStatus: 200, wantBody: string(created.body)},
		{name: "create with charset", method: "PUT", path: taskPath, authz: fullScopes, contentType: "application/json; charset=utf-8", body: task(nil), wantStatus: 200, wantBody: string(created.body)},
		{name: "status", method: "GET", path: taskPath + "/status", wantStatus: 200, wantBody: string(created.body)},
		{name: "task", method: "GET", path: taskPath, wantStatus: 200},
		{name: "bad credentials", method: "PUT", path: taskPath, authz: "bad", contentType: "application/json", body: task(nil), wantStatus: 401, wantCode: "AuthenticationFailed", wantMessage: "Unauthorized: Bad mac"},
		{name: "anonymous", method: "PUT", path: taskPath, contentType: "application/json", body: task(nil), wantStatus: 403, wantCode: "InsufficientScopes", wantMessage: "This request requires Taskcluster credentials that satisfy the following scope expression:\n\n```\n{\n  \"AllOf\": ["},
		{name: "missing scope", method: "PUT", path: taskPath, authz: "scopes queue:create-task:lowest:prov/wt queue:scheduler-id:-", contentType: "application/json", body: task(nil), wantStatus: 403, wantCode: "InsufficientScopes",
			wantMessage: "Client ID tester does not have sufficient scopes and is missing the following scopes:\n\n```\nqueue:create-task:project:none\n```"},
		{name: "bad JSON before authentication", method: "PUT", path: taskPath, authz: "bad", contentType: "application/json", body: []byte(`{"x":`), wantStatus: 400, wantCode: "MalformedPayload"},
		{name: "not JSON content type", method: "PUT", path: taskPath, authz: fullScopes, contentType: "text/plain", body: task(nil), wantStatus: 400, wantCode: "MalformedPayload"},
		{name: "too large", method: "PUT", path: taskPath, authz: fullScopes, contentType: "application/json", body: big, wantStatus: 413, wantCode: "InputTooLarge"},
		{name: "schema error", method: "PUT", path: taskPath, authz: fullScopes, contentType: "application/json", body: task(map[string]any{"retries": 100}), wantStatus: 400, wantCode: "InputValidationError", wantMessage: "retries"},
		{name: "schema error before scopes", method: "PUT", path: taskPath, authz: "scopes none", contentType: "application/json", body: task(map[string]any{"metadata": nil}), wantStatus: 400, wantCode: "InputValidationError"},
		{name: "conflict", method: "PUT", path: taskPath, authz: fullScopes, contentType: "application/json", body: task(map[string]any{"payload": map[string]any{}}), wantStatus: 409, wantCode: "RequestConflict"},
		{name: "unknown query", method: "PUT", path: taskPath + "?x=1", authz: fullScopes, contentType: "application/json", body: task(nil), wantStatus: 400, wantCode: "InvalidRequestArguments"},
		{name: "bad taskId", method: "PUT", path: Prefix + "task/nope", authz: fullScopes, contentType: "application/json", body: task(nil), wantStatus: 400, wantCode: "InvalidRequestArguments"},
		{name: "authorizer failure", method: "PUT", path: taskPath, authz: "broken", contentType: "application/json", body: task(nil), wantStatus: 500, wantCode: "InternalServerError", wantMessage: "Internal Server Error: the failure has been logged"},
		{name: "unknown task", method: "GET", path: Prefix + "task/" + taskB, wantStatus: 404, wantCode: "ResourceNotFound"},
		{name: "unknown task status", method: "GET", path: Prefix + "task/" + taskB + "/status", wantStatus: 404, wantCode: "ResourceNotFound"},
		{name: "status of a bad taskId", method: "GET", path: Prefix + "task/x/status", wantStatus: 400, wantCode: "InvalidRequestArguments"},
		{name: "unknown route", method: "GET", path: Prefix + "tasks", wantStatus: 404, wantCode: "ResourceNotFound"},
		{name: "outside the prefix", method: "GET", path: "/api/hooks/v1/ping", wantStatus: 404, wantCode: "ResourceNotFound"},
		{name: "wrong method", method: "DELETE", path: taskPath, wantStatus: 404, wantCode: "ResourceNotFound"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := do(t, h, tt.method, tt.path, tt.authz, tt.contentType, tt.body)
			if res.status != tt.wantStatus || res.code != tt.wantCode {
				t.Fatalf("got %d %s (%s), want %d %s", res.status, res.code, res.message, tt.wantStatus, tt.wantCode)
			}
			if tt.wantBody != "" && string(res.body) != tt.wantBody {
				t.Errorf("body = %s, want %s", res.body, tt.wantBody)
			}
			if !strings.Contains(res.message, tt.wantMessage) {
				t.Errorf("message %q does not contain %q", res.message, tt.wantMessage)
			}
			if (res.status == 401) != (res.header.Get("WWW-Authenticate") == "hawk") {
				t.Errorf("WWW-Authenticate = %q on a %d", res.header.Get("WWW-Authenticate"), res.status)
			}
			if res.status == 500 && strings.Contains(string(res.body), "unreachable") {
				t.Errorf("500 leaks its cause: %s", res.body)
			}
		})
	}

	var ping map[string]any
	if err := json.Unmarshal(do(t, h, "GET", Prefix+"ping", "", "", nil).body, &ping); err != nil || ping["alive"] != true {
		t.Errorf("ping = %v (%v)", ping, err)
	}
	def := do(t, h, "GET", taskPath, "", "", nil)
	var d map[string]any
	if err := json.Unmarshal(def.body, &d); err != nil || d["taskQueueId"] != "prov/wt" || d["taskGroupId"] != taskA {
		t.Errorf("definition = %s (%v)", def.body, err)
	}
}

// TestHandler_TaskclusterClient drives the handler with Hookline's own
// Taskcluster client and real Hawk verification, as `hookline serve` does.
func TestHandler_TaskclusterClient(t *testing.T) {
	static, err := auth.NewStatic(auth.Config{
		Clients: []auth.Client{{ClientID: "hooks", AccessToken: "hooks-service-access-token", Scopes: []string{"assume:hook-id:*"}}},
		Roles: []auth.Role{
			{RoleID: "hook-id:proj/*", Scopes: []string{"queue:create-task:highest:prov/*", "queue:scheduler-id:-", "queue:create-task:project:none"}},
			{RoleID: "hook-id:weak/*", Scopes: []string{"queue:create-task:lowest:other/*"}},
		},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	q := newTestQueue(t, nil)
	srv := httptest.NewServer(q.Handler(static))
	defer srv.Close()
	client := taskcluster.NewQueue(srv.URL, auth.Credentials{ClientID: "hooks", AccessToken: "hooks-service-access-token"}, srv.Client(), nil)
	ctx := context.Background()

	out, err := client.CreateTask(ctx, taskA, task(nil), []string{"assume:hook-id:proj/nightly"})
	if err != nil {
		t.Fatal(err)
	}
	statusOf(t, q.reg, out)
	got, err := client.Status(ctx, taskA)
	if err != nil || string(got) != string(out) {
		t.Fatalf("status over HTTP = %s, %v; want %s", got, err, out)
	}

	// The role of another hook lacks the scopes: the client sees
	// Taskcluster's 403 with its requestInfo.
	_, err = client.CreateTask(ctx, taskB, task(nil), []string{"assume:hook-id:weak/x"})
	var ae *taskcluster.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 403 || ae.Code != "InsufficientScopes" || ae.Method != "createTask" {
		t.Fatalf("err = %v, want a 403 InsufficientScopes from createTask", err)
	}
	var info struct {
		Method string            `json:"method"`
		Params map[string]string `json:"params"`
	}
	if err := json.Unmarshal(ae.RequestInfo, &info); err != nil || info.Method != "createTask" || info.Params["taskId"] != taskB {
		t.Errorf("requestInfo = %s (%v)", ae.RequestInfo, err)
	}
	if !strings.Contains(ae.Message, "Client ID hooks does not have sufficient scopes") {
		t.Errorf("message = %q", ae.Message)
	}
	_, err = client.Status(ctx, taskB)
	if taskcluster.StatusCode(err) != 404 || taskcluster.IsRetryable(err) {
		t.Errorf("status of the refused task: %v", err)
	}

	// Wrong credentials are 401.
	bad := taskcluster.NewQueue(srv.URL, auth.Credentials{ClientID: "hooks", AccessToken: "not-the-right-access-token"}, srv.Client(), nil)
	_, err = bad.CreateTask(ctx, taskC, task(nil), nil)
	if !errors.As(err, &ae) || ae.StatusCode != 401 || ae.Code != "AuthenticationFailed" {
		t.Errorf("wrong key: %v", err)
	}
}
