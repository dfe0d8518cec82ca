package localqueue

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hookline/hookline/shared/auth"
)

// workerEnv is a queue behind real Hawk verification, with a worker
// client and an issuer of run credentials, recording resolutions.
type workerEnv struct {
	q        *Queue
	srv      *httptest.Server
	now      time.Time
	mu       sync.Mutex
	resolved []string
}

const issuerToken = "issuer-access-token-0123456789"

func newWorkerEnv(t *testing.T) *workerEnv {
	t.Helper()
	e := &workerEnv{now: time.Now().UTC().Truncate(time.Millisecond)}
	static, err := auth.NewStatic(auth.Config{Clients: []auth.Client{
		{ClientID: "worker", AccessToken: "worker-access-token-0123456789", Scopes: []string{"queue:claim-work:prov/*", "queue:worker-id:wg/*"}},
		{ClientID: "creator", AccessToken: "creator-access-token-0123456789", Scopes: []string{"queue:create-task:*", "queue:scheduler-id:*"}},
		{ClientID: "local-queue", AccessToken: issuerToken, Scopes: []string{"*"}},
	}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	e.q = newTestQueue(t, &Options{
		Now:       func() time.Time { return e.now },
		Issuer:    auth.Credentials{ClientID: "local-queue", AccessToken: issuerToken},
		ClaimWait: 50 * time.Millisecond,
		OnResolved: func(_ context.Context, taskID string, status json.RawMessage) {
			var st struct {
				State string `json:"state"`
			}
			json.Unmarshal(status, &st)
			e.mu.Lock()
			e.resolved = append(e.resolved, taskID+":"+st.State)
			e.mu.Unlock()
		},
	})
	e.srv = httptest.NewServer(e.q.Handler(static))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *workerEnv) events() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]string(nil), e.resolved...)
}

// call sends a Hawk-signed request and decodes the answer.
func (e *workerEnv) call(t *testing.T, creds auth.Credentials, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	var raw []byte
	if body != nil {
		raw, _ = json.Marshal(body)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.srv.URL+Prefix+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := auth.SignRequest(req, creds, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	data, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(data, &out); err != nil {
		t.Fatalf("%s %s: %d %q", method, path, resp.StatusCode, data)
	}
	return resp.StatusCode, out
}

var worker = auth.Credentials{ClientID: "worker", AccessToken: "worker-access-token-0123456789"}

func (e *workerEnv) create(t *testing.T, taskID string, edits map[string]any) {
	t.Helper()
	m := map[string]any{}
	json.Unmarshal(task(edits), &m)
	m["created"] = e.now.Format(time.RFC3339Nano)
	m["deadline"] = e.now.Add(time.Hour).Format(time.RFC3339Nano)
	for k, v := range edits {
		m[k] = v
	}
	body, _ := json.Marshal(m)
	if _, err := e.q.CreateTask(context.Background(), taskID, body, nil); err != nil {
		t.Fatal(err)
	}
}

func (e *workerEnv) claim(t *testing.T, n int) []map[string]any {
	t.Helper()
	status, out := e.call(t, worker, "POST", "claim-work/prov/wt", map[string]any{"workerGroup": "wg", "workerId": "w1", "tasks": n})
	if status != 200 {
		t.Fatalf("claimWork: %d %v", status, out)
	}
	var claims []map[string]any
	for _, c := range out["tasks"].([]any) {
		claims = append(claims, c.(map[string]any))
	}
	return claims
}

// runCreds are the credentials claimWork gave for a run.
func runCreds(c map[string]any) auth.Credentials {
	cr := c["credentials"].(map[string]any)
	return auth.Credentials{ClientID: cr["clientId"].(string), AccessToken: cr["accessToken"].(string), Certificate: cr["certificate"].(string)}
}

func TestWorkerClaimAndResolve(t *testing.T) {
	e := newWorkerEnv(t)
	e.create(t, taskA, map[string]any{"priority": "low"})
	e.create(t, taskB, map[string]any{"priority": "high", "scopes": []any{"secrets:get:x"}})
	e.create(t, taskC, map[string]any{"workerType": "other"})

	claims := e.claim(t, 32)
	if len(claims) != 2 {
		t.Fatalf("claimed %d tasks of prov/wt, want 2", len(claims))
	}
	first := claims[0]
	st := first["status"].(map[string]any)
	if st["taskId"] != taskB || st["state"] != "running" || first["runId"] != 0.0 || first["workerId"] != "w1" {
		t.Fatalf("the higher priority first: %v", first)
	}
	statusOf(t, e.q.reg, mustJSON(map[string]any{"status": st}))
	run := st["runs"].([]any)[0].(map[string]any)
	if run["workerGroup"] != "wg" || run["takenUntil"] == nil || run["started"] == nil {
		t.Fatalf("run %v", run)
	}
	creds := runCreds(first)
	if !strings.HasPrefix(creds.ClientID, "task-client/"+taskB+"/0/on/wg/w1/until/") {
		t.Fatalf("credentials %q", creds.ClientID)
	}
	var cert struct {
		Scopes []string `json:"scopes"`
	}
	json.Unmarshal([]byte(creds.Certificate), &cert)
	if strings.Join(cert.Scopes, " ") != "queue:reclaim-task:"+taskB+"/0 queue:resolve-task:"+taskB+"/0 queue:create-artifact:"+taskB+"/0 secrets:get:x" {
		t.Fatalf("scopes %v", cert.Scopes)
	}
	// Nothing is left to claim: an empty answer after the wait.
	if more := e.claim(t, 1); len(more) != 0 {
		t.Fatalf("claimed again: %v", more)
	}

	// The run's credentials resolve it; another run's do not.
	if status, out := e.call(t, runCreds(claims[1]), "POST", "task/"+taskB+"/runs/0/failed", nil); status != 403 || out["code"] != "InsufficientScopes" {
		t.Fatalf("another run's credentials: %d %v", status, out)
	}
	status, out := e.call(t, creds, "POST", "task/"+taskB+"/runs/0/failed", nil)
	if status != 200 || out["status"].(map[string]any)["state"] != "failed" {
		t.Fatalf("reportFailed: %d %v", status, out)
	}
	statusOf(t, e.q.reg, mustJSON(out))
	// Repeated, it answers the same; the other report conflicts.
	if status, _ := e.call(t, creds, "POST", "task/"+taskB+"/runs/0/failed", nil); status != 200 {
		t.Fatalf("repeated report: %d", status)
	}
	if status, out := e.call(t, creds, "POST", "task/"+taskB+"/runs/0/completed", nil); status != 409 || out["code"] != "RequestConflict" {
		t.Fatalf("completed after failed: %d %v", status, out)
	}
	if got := strings.Join(e.events(), " "); got != taskB+":failed "+taskB+":failed" {
		t.Fatalf("resolutions heard: %s", got)
	}
	if status, _ := e.call(t, runCreds(claims[1]), "POST", "task/"+taskA+"/runs/0/completed", nil); status != 200 {
		t.Fatalf("reportCompleted: %d", status)
	}
	got, _ := e.q.Status(context.Background(), taskA)
	if !strings.Contains(string(got), `"state":"completed"`) {
		t.Fatalf("status %s", got)
	}
}

func TestWorkerExceptionsAndRetries(t *testing.T) {
	e := newWorkerEnv(t)
	e.create(t, taskA, map[string]any{"retries": 1})
	c := e.claim(t, 1)[0]
	// worker-shutdown with a retry left: a new pending run, no resolution.
	status, out := e.call(t, runCreds(c), "POST", "task/"+taskA+"/runs/0/exception", map[string]any{"reason": "worker-shutdown"})
	st := out["status"].(map[string]any)
	if status != 200 || st["state"] != "pending" || len(st["runs"].([]any)) != 2 || st["retriesLeft"] != 0.0 {
		t.Fatalf("worker-shutdown: %d %v", status, out)
	}
	if len(e.events()) != 0 {
		t.Fatalf("a retried run was reported resolved: %v", e.events())
	}
	c = e.claim(t, 1)[0]
	if c["runId"] != 1.0 {
		t.Fatalf("second claim %v", c)
	}
	if status, out := e.call(t, runCreds(c), "POST", "task/"+taskA+"/runs/1/exception", map[string]any{"reason": "nope"}); status != 400 || out["code"] != "InputValidationError" {
		t.Fatalf("bad reason: %d %v", status, out)
	}
	status, out = e.call(t, runCreds(c), "POST", "task/"+taskA+"/runs/1/exception", map[string]any{"reason": "malformed-payload"})
	if status != 200 || out["status"].(map[string]any)["state"] != "exception" {
		t.Fatalf("malformed-payload: %d %v", status, out)
	}
	statusOf(t, e.q.reg, mustJSON(out))
	if got := strings.Join(e.events(), " "); got != taskA+":exception" {
		t.Fatalf("resolutions heard: %s", got)
	}
	// Reports about what is not there.
	for path, want := range map[string]int{
		"task/" + taskA + "/runs/7/completed": 404,
		"task/" + taskC + "/runs/0/completed": 404,
		"task/" + taskA + "/runs/x/completed": 400,
	} {
		if status, _ := e.call(t, runCreds(c), "POST", path, nil); status != want {
			t.Errorf("%s: %d, want %d", path, status, want)
		}
	}
}

func TestWorkerClaimRules(t *testing.T) {
	e := newWorkerEnv(t)
	for _, tt := range []struct {
		path string
		body map[string]any
		want int
	}{
		{"claim-work/prov/wt", map[string]any{"workerGroup": "wg", "workerId": "w1", "tasks": 0}, 400},
		{"claim-work/prov/wt", map[string]any{"workerGroup": "wg", "tasks": 1}, 400},
		{"claim-work/prov/wt", map[string]any{"workerGroup": "wg", "workerId": "w1", "surprise": 1}, 400},
		{"claim-work/other/wt", map[string]any{"workerGroup": "wg", "workerId": "w1"}, 403},
		{"claim-work/prov/wt", map[string]any{"workerGroup": "elsewhere", "workerId": "w1"}, 403},
	} {
		if status, out := e.call(t, worker, "POST", tt.path, tt.body); status != tt.want {
			t.Errorf("%s %v: %d %v, want %d", tt.path, tt.body, status, out, tt.want)
		}
	}
	// A task past its deadline is not claimed.
	e.create(t, taskB, nil)
	e.now = e.now.Add(2 * time.Hour)
	e.q.waitFor = time.Millisecond
	if claims := e.claim(t, 1); len(claims) != 0 {
		t.Fatalf("claimed past the deadline: %v", claims)
	}
	got, _ := e.q.Status(context.Background(), taskB)
	if !strings.Contains(string(got), `"reasonResolved":"deadline-exceeded"`) {
		t.Fatalf("status %s", got)
	}
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// A claim waiting for work wakes as soon as a task is created, and one
// that waits in vain answers after ClaimWait with no task.
func TestWorkerClaimWaits(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q, err := OpenWithOptions(filepath.Join(t.TempDir(), "queue.db"), &Options{
			Issuer: auth.Credentials{ClientID: "local-queue", AccessToken: issuerToken}, ClaimWait: 20 * time.Second,
		})
		if err != nil {
			t.Fatal(err)
		}
		defer q.Close()
		ctx := context.Background()
		start := time.Now()
		out, err := q.ClaimWork(ctx, "prov", "wt", "wg", "w1", 1)
		if err != nil || string(out) != `{"tasks":[]}` || time.Since(start) != 20*time.Second {
			t.Fatalf("no work: %s %v after %v", out, err, time.Since(start))
		}
		go func() {
			time.Sleep(3 * time.Second)
			body := map[string]any{}
			json.Unmarshal(task(nil), &body)
			body["created"], body["deadline"] = time.Now().UTC().Format(time.RFC3339), time.Now().Add(time.Hour).UTC().Format(time.RFC3339)
			if _, err := q.CreateTask(ctx, taskA, mustJSON(body), nil); err != nil {
				t.Error(err)
			}
		}()
		start = time.Now()
		out, err = q.ClaimWork(ctx, "prov", "wt", "wg", "w1", 1)
		if err != nil || !strings.Contains(string(out), taskA) || time.Since(start) != 3*time.Second {
			t.Fatalf("woken: %s %v after %v", out, err, time.Since(start))
		}
	})
}
