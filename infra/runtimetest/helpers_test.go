//go:build integration

package runtimetest

import (
	"context"
	"crypto/md5"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/store/dynamo/dynamotest"
	"github.com/hookline/hookline/shared/taskcluster/localqueue"
	"github.com/hookline/hookline/shared/testutil"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// The functions, by logical ID in template.yaml, and their folders.
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

// newLocalQueue serves a local Taskcluster queue that knows the functions'
// client (which may assume hook-id:* roles, granting queue:*).
func newLocalQueue(tb testing.TB) (*localqueue.Queue, string) {
	tb.Helper()
	q, err := localqueue.Open(filepath.Join(tb.TempDir(), "queue.db"))
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
	mux := http.NewServeMux()
	mux.Handle(localqueue.Prefix, q.Handler(authz))
	srv := httptest.NewServer(mux)
	tb.Cleanup(srv.Close)
	return q, srv.URL
}

// task reads a task definition back from the local queue.
func task(tb testing.TB, q *localqueue.Queue, taskID string) map[string]any {
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

// fakeSQS records the messages sent to it through the SQS JSON protocol
// (SendMessage, SendMessageBatch), answering with the checksums the SDK
// verifies.
type fakeSQS struct {
	srv *httptest.Server

	mu      sync.Mutex
	sent    []sqsMessage
	refused []string
}

type sqsMessage struct {
	QueueURL string
	Body     string
}

type sqsAttribute struct {
	DataType    string `json:"DataType"`
	StringValue string `json:"StringValue,omitempty"`
	BinaryValue []byte `json:"BinaryValue,omitempty"`
}

type sqsEntry struct {
	ID                string                  `json:"Id"`
	MessageBody       string                  `json:"MessageBody"`
	MessageAttributes map[string]sqsAttribute `json:"MessageAttributes"`
}

func newFakeSQS(tb testing.TB) *fakeSQS {
	f := &fakeSQS{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	tb.Cleanup(f.srv.Close)
	return f
}

func (f *fakeSQS) serve(w http.ResponseWriter, r *http.Request) {
	target := r.Header.Get("X-Amz-Target")
	data, _ := io.ReadAll(r.Body)
	var in struct {
		QueueURL string `json:"QueueUrl"`
		sqsEntry
		Entries []sqsEntry `json:"Entries"`
	}
	if err := json.Unmarshal(data, &in); err != nil {
		target = "malformed " + target
	}
	var out any
	f.mu.Lock()
	switch target {
	case "AmazonSQS.SendMessage":
		f.sent = append(f.sent, sqsMessage{QueueURL: in.QueueURL, Body: in.MessageBody})
		out = receipt(in.sqsEntry, len(f.sent))
	case "AmazonSQS.SendMessageBatch":
		var ok []any
		for _, e := range in.Entries {
			f.sent = append(f.sent, sqsMessage{QueueURL: in.QueueURL, Body: e.MessageBody})
			ok = append(ok, receipt(e, len(f.sent)))
		}
		out = map[string]any{"Successful": ok, "Failed": []any{}}
	default:
		f.refused = append(f.refused, target)
	}
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if out == nil {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#InvalidAction", "message": "not supported here: " + target})
		return
	}
	json.NewEncoder(w).Encode(out)
}

func receipt(e sqsEntry, n int) map[string]any {
	sum := md5.Sum([]byte(e.MessageBody))
	out := map[string]any{
		"MessageId":        fmt.Sprintf("5fea7756-0ea4-451a-a703-%012d", n),
		"MD5OfMessageBody": hex.EncodeToString(sum[:]),
	}
	if e.ID != "" {
		out["Id"] = e.ID
	}
	if len(e.MessageAttributes) > 0 {
		out["MD5OfMessageAttributes"] = attributesMD5(e.MessageAttributes)
	}
	return out
}

// attributesMD5 is SQS's digest of message attributes: for each name in
// order, length-prefixed name, data type, a transport byte and the value.
func attributesMD5(attrs map[string]sqsAttribute) string {
	names := make([]string, 0, len(attrs))
	for n := range attrs {
		names = append(names, n)
	}
	sort.Strings(names)
	h := md5.New()
	field := func(b []byte) {
		binary.Write(h, binary.BigEndian, uint32(len(b)))
		h.Write(b)
	}
	for _, n := range names {
		a := attrs[n]
		field([]byte(n))
		field([]byte(a.DataType))
		if a.BinaryValue != nil {
			h.Write([]byte{2})
			field(a.BinaryValue)
		} else {
			h.Write([]byte{1})
			field([]byte(a.StringValue))
		}
	}
	return hex.EncodeToString(h.Sum(nil))
}

func (f *fakeSQS) messages() []sqsMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.sent)
}

// httpResponse is an HTTP API response a function returned.
type httpResponse struct {
	Status  int
	Headers map[string]string
	Body    []byte
	// JSON is the body decoded, when it is a JSON object.
	JSON map[string]any
}

// callHTTP invokes an HTTP function with an API Gateway event and decodes
// its response.
func callHTTP(tb testing.TB, p *process, event []byte) httpResponse {
	tb.Helper()
	var res events.APIGatewayV2HTTPResponse
	if err := json.Unmarshal(p.invokeOK(tb, event), &res); err != nil {
		tb.Fatalf("%s returned no API Gateway response: %v", p.name, err)
	}
	out := httpResponse{Status: res.StatusCode, Headers: res.Headers, Body: []byte(res.Body)}
	if res.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(res.Body)
		if err != nil {
			tb.Fatal(err)
		}
		out.Body = b
	}
	if strings.HasPrefix(res.Headers["Content-Type"], "application/json") {
		if err := json.Unmarshal(out.Body, &out.JSON); err != nil {
			tb.Errorf("%s: a JSON response that is not a JSON object: %s", p.name, out.Body)
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
