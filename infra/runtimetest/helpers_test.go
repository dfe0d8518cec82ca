//go:build integration

package runtimetest

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/secrets/secretstest"
	"github.com/hookline/hookline/shared/store/dynamo/dynamotest"
	"github.com/hookline/hookline/shared/taskcluster/localqueue"
	"github.com/hookline/hookline/shared/testutil"
)

// TestMain gives the test binary a directory for what it builds once (the
// emulator, the bootstraps). The dynalite it may start exits with the
// binary (its stdin closes).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "hookline-runtimetest-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	builds.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// functionIDs are the functions' logical IDs in template.yaml.
var functionIDs = []string{"ApiFunction", "WebhookFunction", "SchedulerFunction", "TriggerFunction"}

// functionDirs are the functions' folders under functions/.
var functionDirs = map[string]string{
	"ApiFunction":       "api",
	"WebhookFunction":   "webhook",
	"SchedulerFunction": "scheduler",
	"TriggerFunction":   "trigger",
}

// Credentials of the Taskcluster client the functions create tasks with.
const (
	tcClientID    = "project/hookline/runtimetest"
	tcAccessToken = "runtimetest-access-token-0123456789"
)

// runtimeClients is the clients document the functions read from the
// secret HOOKLINE_CLIENTS_SECRET names: anonymous callers manage hooks, as
// in the README's trial, so the tests' API Gateway events need no Hawk.
const runtimeClients = `{"anonymousScopes":["hooks:*","assume:hook-id:*"]}`

// startSecrets serves, as Secrets Manager would, the secrets env.json
// names: the Taskcluster credentials the local queue knows, and
// runtimeClients. It returns the endpoint
// (AWS_ENDPOINT_URL_SECRETS_MANAGER).
func startSecrets(tb testing.TB, root string) string {
	tb.Helper()
	sm, url := secretstest.New(tb)
	env := functionEnv(tb, root, "ApiFunction", nil, nil)
	creds, err := json.Marshal(map[string]string{"clientId": tcClientID, "accessToken": tcAccessToken})
	if err != nil {
		tb.Fatal(err)
	}
	sm.Put(env["TASKCLUSTER_CREDENTIALS_SECRET"], string(creds))
	sm.Put(env["HOOKLINE_CLIENTS_SECRET"], runtimeClients)
	return url
}

// repoRoot is the repository root.
func repoRoot(tb testing.TB) string { return testutil.RepoRoot(tb) }

// requireLinux skips where linux binaries cannot run.
func requireLinux(tb testing.TB) {
	tb.Helper()
	if runtime.GOOS != "linux" {
		tb.Skipf("the bootstraps are linux binaries; this is %s", runtime.GOOS)
	}
}

// present reports whether functions/<dir> has Go code. The trigger
// function may not exist yet on a branch; under CI=true its absence fails
// the test (template.yaml deploys it), which still checks the others.
func present(tb testing.TB, root, id string) bool {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join(root, "functions", functionDirs[id], "*.go"))
	if len(files) > 0 {
		return true
	}
	if os.Getenv("CI") == "true" {
		// Fail, but let the other functions' checks run.
		tb.Errorf("functions/%s has no Go code, but template.yaml deploys %s", functionDirs[id], id)
	}
	return false
}

// buildHost builds the bootstraps of ids for linux on this machine's
// architecture, with the Makefile's flags otherwise, into dir; it returns
// the binary of each id.
func buildHost(tb testing.TB, root, dir string, ids []string) map[string]string {
	tb.Helper()
	args := []string{"build", "-trimpath", "-tags", "lambda.norpc", "-ldflags=-s -w", "-o", dir + string(filepath.Separator)}
	bins := map[string]string{}
	for _, id := range ids {
		args = append(args, "./functions/"+functionDirs[id])
		bins[id] = filepath.Join(dir, functionDirs[id])
	}
	cmd := exec.Command("go", args...)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+runtime.GOARCH, "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return bins
}

// functionEnv returns the variables infra/events/env.json sets for id (the
// ones template.yaml declares for it) with the given ones replaced, plus the
// AWS SDK's. Replacing a variable env.json does not set is an error: the
// deployed function would not have it.
func functionEnv(tb testing.TB, root, id string, replace, sdk map[string]string) map[string]string {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(root, "infra", "events", "env.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var file map[string]map[string]string
	if err := json.Unmarshal(data, &file); err != nil {
		tb.Fatal(err)
	}
	env, ok := file[id]
	if !ok {
		tb.Fatalf("env.json has no %s", id)
	}
	for k, v := range replace {
		if _, ok := env[k]; !ok {
			continue
		}
		env[k] = v
	}
	for k, v := range sdk {
		if !strings.HasPrefix(k, "AWS_") && k != "HOME" {
			tb.Fatalf("%s is not an AWS SDK variable", k)
		}
		env[k] = v
	}
	return env
}

// sdkEnv is what the AWS SDK sees: fake credentials as the Lambda service
// provides them, the region, and endpoints of the emulators; shared config
// files and instance metadata are out of reach.
func sdkEnv(tb testing.TB, endpoints map[string]string) map[string]string {
	home := tb.TempDir()
	env := map[string]string{
		"AWS_REGION":                  dynamotest.Region,
		"AWS_DEFAULT_REGION":          dynamotest.Region,
		"AWS_ACCESS_KEY_ID":           "ASIARUNTIMETEST00000",
		"AWS_SECRET_ACCESS_KEY":       "runtimetest-secret-access-key",
		"AWS_SESSION_TOKEN":           "runtimetest-session-token",
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             filepath.Join(home, "config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "credentials"),
		"HOME":                        home,
	}
	for k, v := range endpoints {
		env[k] = v
	}
	return env
}

// queueFault is the marker a task definition carries to be refused by the
// local queue with a 503 while failing is on: a Taskcluster outage for
// that task only.
const queueFault = "queue-answers-503-for-this-task"

// localQueue is a local Taskcluster queue that knows the functions' client
// (which may assume hook-id:* roles, granting queue:*).
type localQueue struct {
	*localqueue.Queue
	url string
	// failing makes createTask answer 503 for task definitions holding
	// queueFault.
	failing atomic.Bool
}

func newLocalQueue(tb testing.TB) *localQueue {
	tb.Helper()
	// The issuer signs the credentials of runs claimed to resolve tasks.
	q, err := localqueue.OpenWithOptions(filepath.Join(tb.TempDir(), "queue.db"), &localqueue.Options{
		Issuer:    auth.Credentials{ClientID: "runtimetest-issuer", AccessToken: "runtimetest-issuer-token-0123456789"},
		ClaimWait: 100 * time.Millisecond,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { q.Close() })
	authz, err := auth.NewStatic(auth.Config{
		Clients: []auth.Client{{ClientID: tcClientID, AccessToken: tcAccessToken, Scopes: []string{"assume:hook-id:*"}}},
		Roles:   []auth.Role{{RoleID: "hook-id:*", Scopes: []string{"queue:*"}}},
	}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	lq := &localQueue{Queue: q}
	mux := http.NewServeMux()
	handler := q.Handler(authz)
	mux.Handle(localqueue.Prefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if lq.failing.Load() && r.Method == http.MethodPut && bytes.Contains(body, []byte(queueFault)) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusServiceUnavailable)
			io.WriteString(w, `{"code":"InternalServerError","message":"the queue is down for this task (test fault)","requestInfo":{}}`)
			return
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		handler.ServeHTTP(w, r)
	}))
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	lq.url = srv.URL
	return lq
}

// task reads a task definition back from the local queue.
// resolve claims the task's pending run and reports it as state
// (completed, failed), as a worker would.
func (q *localQueue) resolve(tb testing.TB, taskID, state string) {
	tb.Helper()
	def := task(tb, q, taskID)
	ctx := context.Background()
	// Claim until this task's run is claimed: the queue hands out the
	// oldest pending tasks of the task queue first.
	for range 100 {
		out, err := q.ClaimWork(ctx, str(def["provisionerId"]), str(def["workerType"]), "runtimetest", "w1", 32)
		if err != nil {
			tb.Fatal(err)
		}
		if st, _ := q.Status(ctx, taskID); strings.Contains(string(st), `"state":"running"`) || !strings.Contains(string(out), `"taskId"`) {
			break
		}
	}
	if _, err := q.Report(ctx, taskID, 0, state, ""); err != nil {
		tb.Fatalf("report %s %s: %v", taskID, state, err)
	}
}

func task(tb testing.TB, q *localQueue, taskID string) map[string]any {
	tb.Helper()
	raw, err := q.Task(context.Background(), taskID)
	if err != nil {
		tb.Fatalf("task %s: %v", taskID, err)
	}
	var def map[string]any
	if err := json.Unmarshal(raw, &def); err != nil {
		tb.Fatal(err)
	}
	return def
}

// httpResponse is an HTTP API response a function returned.
type httpResponse struct {
	Status  int
	Headers map[string]string
	Cookies []string
	Body    []byte
	// JSON is the body decoded, when it is a JSON object.
	JSON map[string]any
}

// callHTTP invokes an HTTP function with an API Gateway event and decodes
// its response.
func callHTTP(tb testing.TB, f *function, event []byte) httpResponse {
	tb.Helper()
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(f.invokeOK(tb, event), &res); err != nil {
		tb.Fatalf("%s returned no API Gateway response: %v", f.name, err)
	}
	out := httpResponse{Status: res.StatusCode, Headers: res.Headers, Cookies: res.Cookies, Body: []byte(res.Body)}
	if res.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(res.Body)
		if err != nil {
			tb.Fatal(err)
		}
		out.Body = b
	}
	if strings.HasPrefix(res.Headers["Content-Type"], "application/json") {
		if err := json.Unmarshal(out.Body, &out.JSON); err != nil {
			tb.Errorf("%s: a JSON response that is not a JSON object: %s", f.name, out.Body)
		}
	}
	return out
}

// readEvent reads a sample event as a generic JSON object.
func readEvent(tb testing.TB, root, name string) map[string]any {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(root, "infra", "events", name))
	if err != nil {
		tb.Fatal(err)
	}
	var ev map[string]any
	if err := json.Unmarshal(data, &ev); err != nil {
		tb.Fatal(err)
	}
	return ev
}

func encode(tb testing.TB, v any) []byte {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

// clone deep-copies a decoded JSON value.
func clone(v map[string]any) map[string]any {
	b, _ := json.Marshal(v)
	var out map[string]any
	json.Unmarshal(b, &out)
	return out
}

// proxyEvent derives, from an ANY /api/hooks/v1/{proxy+} sample, the event
// API Gateway sends for method and path (below /api/hooks/v1/) with body.
func proxyEvent(tb testing.TB, sample map[string]any, method, path, body string) []byte {
	tb.Helper()
	ev := clone(sample)
	full := "/api/hooks/v1/" + path
	ev["rawPath"] = full
	rc := ev["requestContext"].(map[string]any)
	h := rc["http"].(map[string]any)
	h["method"], h["path"] = method, full
	rc["requestId"] = fmt.Sprintf("Ux%x=", len(full)*7919+len(body))
	ev["pathParameters"] = map[string]any{"proxy": path}
	headers := ev["headers"].(map[string]any)
	if body == "" {
		delete(ev, "body")
		delete(headers, "content-type")
		delete(headers, "content-length")
	} else {
		ev["body"] = body
		headers["content-type"] = "application/json"
		headers["content-length"] = fmt.Sprint(len(body))
	}
	return encode(tb, ev)
}

// findHookRef reports whether v holds, at any depth, an object naming the
// hook group and hook.
func findHookRef(v any, group, hook string) bool {
	switch x := v.(type) {
	case map[string]any:
		if x["hookGroupId"] == group && x["hookId"] == hook {
			return true
		}
		for _, e := range x {
			if findHookRef(e, group, hook) {
				return true
			}
		}
	case []any:
		for _, e := range x {
			if findHookRef(e, group, hook) {
				return true
			}
		}
	}
	return false
}
