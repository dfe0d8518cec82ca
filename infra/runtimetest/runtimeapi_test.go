//go:build integration

package runtimetest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/testutil"
)

// The Lambda Runtime API paths (API version 2018-06-01).
const (
	runtimePrefix = "/2018-06-01/runtime"
	functionARN   = "arn:aws:lambda:us-east-1:123456789012:function:hookline-"
)

// runtimeAPI is an in-test Lambda Runtime API for one function process:
// GET .../invocation/next hands out queued invocations with the headers the
// Lambda service sends, and .../response, .../error and init/error record
// the outcome. Everything else runs the functions under AWS's emulator
// (emulator_test.go); this stays for what the emulator does not show, see
// TestRuntimeAPI_Errors.
type runtimeAPI struct {
	tb        testing.TB
	srv       *httptest.Server
	arn       string
	queue     chan *queued
	closing   chan struct{}
	closeOnce sync.Once

	mu      sync.Mutex
	pending map[string]*queued
	// initErrors are the bodies posted to /runtime/init/error.
	initErrors []string
	// unexpected lists calls outside the Runtime API.
	unexpected []string

	ids atomic.Int64
}

// queued is one queued event and where its outcome goes.
type queued struct {
	id       string
	payload  []byte
	deadline time.Time
	result   chan result // buffered(1)
}

// result is what the function posted for an invocation.
type result struct {
	// ok is true for .../response, false for .../error.
	ok   bool
	body []byte
	// errorType is the Lambda-Runtime-Function-Error-Type header of an
	// error.
	errorType string
}

func newRuntimeAPI(tb testing.TB, name string) *runtimeAPI {
	tb.Helper()
	api := &runtimeAPI{
		tb:      tb,
		arn:     functionARN + name,
		queue:   make(chan *queued, 1),
		closing: make(chan struct{}),
		pending: map[string]*queued{},
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+runtimePrefix+"/invocation/next", api.next)
	mux.HandleFunc("POST "+runtimePrefix+"/invocation/{id}/response", func(w http.ResponseWriter, r *http.Request) {
		api.finish(w, r, true)
	})
	mux.HandleFunc("POST "+runtimePrefix+"/invocation/{id}/error", func(w http.ResponseWriter, r *http.Request) {
		api.finish(w, r, false)
	})
	mux.HandleFunc("POST "+runtimePrefix+"/init/error", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		api.mu.Lock()
		api.initErrors = append(api.initErrors, r.Header.Get("Lambda-Runtime-Function-Error-Type")+" "+string(body))
		api.mu.Unlock()
		writeStatus(w, http.StatusAccepted)
	})
	// The Extensions API, as far as lambda.WithEnableSIGTERM uses it: it
	// registers an internal extension, which makes Lambda send SIGTERM
	// before ending an execution environment, and parks a call to
	// event/next that never returns (the extension asked for no events).
	mux.HandleFunc("POST /2020-01-01/extension/register", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Lambda-Extension-Identifier", "extension-"+name)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"functionName":"hookline-`+name+`","functionVersion":"$LATEST","handler":"bootstrap"}`)
	})
	mux.HandleFunc("GET /2020-01-01/extension/event/next", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-api.closing:
		}
	})
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		api.mu.Lock()
		api.unexpected = append(api.unexpected, r.Method+" "+r.URL.Path)
		api.mu.Unlock()
		http.Error(w, `{"errorMessage":"not found","errorType":"InvalidRequest"}`, http.StatusNotFound)
	})
	api.srv = httptest.NewServer(mux)
	return api
}

// addr is the host:port for AWS_LAMBDA_RUNTIME_API.
func (a *runtimeAPI) addr() string { return strings.TrimPrefix(a.srv.URL, "http://") }

// close releases the handlers waiting in next and stops the server. Call it
// after the function process is gone; calls after the first do nothing.
func (a *runtimeAPI) close() {
	a.closeOnce.Do(func() {
		close(a.closing)
		a.srv.Close()
	})
}

func (a *runtimeAPI) next(w http.ResponseWriter, r *http.Request) {
	select {
	case inv := <-a.queue:
		a.mu.Lock()
		a.pending[inv.id] = inv
		a.mu.Unlock()
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Lambda-Runtime-Aws-Request-Id", inv.id)
		h.Set("Lambda-Runtime-Deadline-Ms", strconv.FormatInt(inv.deadline.UnixMilli(), 10))
		h.Set("Lambda-Runtime-Invoked-Function-Arn", a.arn)
		h.Set("Lambda-Runtime-Trace-Id", "Root=1-6923700a-"+fmt.Sprintf("%024x", a.ids.Load())+";Sampled=0")
		w.WriteHeader(http.StatusOK)
		w.Write(inv.payload)
	case <-r.Context().Done():
	case <-a.closing:
		http.Error(w, "shutting down", http.StatusGone)
	}
}

func (a *runtimeAPI) finish(w http.ResponseWriter, r *http.Request, ok bool) {
	id := r.PathValue("id")
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	a.mu.Lock()
	inv := a.pending[id]
	delete(a.pending, id)
	a.mu.Unlock()
	if inv == nil {
		// As the Lambda service answers a response for an unknown or
		// already answered request.
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"errorMessage":"Invalid request ID","errorType":"InvalidRequestID"}`)
		return
	}
	inv.result <- result{ok: ok, body: body, errorType: r.Header.Get("Lambda-Runtime-Function-Error-Type")}
	writeStatus(w, http.StatusAccepted)
}

func writeStatus(w http.ResponseWriter, status int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, `{"status":"OK"}`)
}

// process is a running bootstrap binary attached to its runtimeAPI.
type process struct {
	name    string
	api     *runtimeAPI
	cmd     *exec.Cmd
	output  *testutil.SyncBuffer
	exited  chan struct{}
	waitErr error
	started time.Time
}

// startProcess starts bin as function name with env (plus the variables the
// Lambda service sets) and stops it when the test ends.
func startProcess(tb testing.TB, bin, name string, env map[string]string) *process {
	tb.Helper()
	api := newRuntimeAPI(tb, name)
	p := &process{name: name, api: api, output: &testutil.SyncBuffer{}, exited: make(chan struct{})}
	full := map[string]string{
		"AWS_LAMBDA_RUNTIME_API":          api.addr(),
		"AWS_LAMBDA_FUNCTION_NAME":        "hookline-" + name,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"AWS_LAMBDA_LOG_LEVEL":            "INFO",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/hookline-" + name,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "2025/11/23/[$LATEST]0123456789abcdef0123456789abcdef",
		"AWS_EXECUTION_ENV":               "AWS_Lambda_provided.al2023",
		"_HANDLER":                        "bootstrap",
		"LAMBDA_TASK_ROOT":                "/var/task",
		"LAMBDA_RUNTIME_DIR":              "/var/runtime",
		"TZ":                              ":UTC",
	}
	for k, v := range env {
		full[k] = v
	}
	cmd := exec.Command(bin)
	for k, v := range full {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = p.output, p.output
	p.cmd = cmd
	p.started = time.Now()
	if err := cmd.Start(); err != nil {
		api.close()
		tb.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	tb.Cleanup(func() {
		p.stop()
		api.close()
		api.mu.Lock()
		defer api.mu.Unlock()
		if len(api.unexpected) > 0 {
			tb.Errorf("%s made calls outside the Runtime API: %v", name, api.unexpected)
		}
		if len(api.initErrors) > 0 {
			tb.Errorf("%s reported init errors: %v", name, api.initErrors)
		}
		if tb.Failed() {
			tb.Logf("%s output:\n%s", name, p.output.String())
		}
	})
	return p
}

// stop kills the process (as Lambda ends an execution environment) and
// waits for it.
func (p *process) stop() {
	select {
	case <-p.exited:
		return
	default:
	}
	p.cmd.Process.Kill()
	<-p.exited
}

// invoke sends payload as one invocation with a 30-second deadline and
// returns what the function posted.
func (p *process) invoke(tb testing.TB, payload []byte) result {
	tb.Helper()
	inv := &queued{
		id:       fmt.Sprintf("8f5c%04x-1d2e-4c3b-9a8f-%012x", p.api.ids.Add(1), time.Now().UnixNano()&0xffffffffffff),
		payload:  payload,
		deadline: time.Now().Add(30 * time.Second),
		result:   make(chan result, 1),
	}
	timeout := time.After(40 * time.Second)
	select {
	case p.api.queue <- inv:
	case <-p.exited:
		tb.Fatalf("%s exited (%v):\n%s", p.name, p.waitErr, p.output.String())
	case <-timeout:
		tb.Fatalf("%s did not take the invocation", p.name)
	}
	select {
	case r := <-inv.result:
		return r
	case <-p.exited:
		tb.Fatalf("%s exited during an invocation (%v):\n%s", p.name, p.waitErr, p.output.String())
	case <-timeout:
		tb.Fatalf("%s did not answer invocation %s within 40s", p.name, inv.id)
	}
	return result{}
}

// TestRuntimeAPI_Errors covers what the emulator cannot show: that a
// function reports a failed invocation through the Runtime API's
// .../error endpoint rather than as a response. Lambda turns that into
// X-Amz-Function-Error, and, for an asynchronous invocation such as
// EventBridge's scheduler tick, into a retry. The emulator answers 200
// with the error document either way (the Error-Type header it sets is
// lost: its response writer keeps no headers), so through it an error is
// told only by its shape.
//
// Neither failure reaches a store or a queue, so the endpoints the
// variables name are a closed port.
func TestRuntimeAPI_Errors(t *testing.T) {
	root := repoRoot(t)
	bins := bootstraps(t)
	closed := "http://127.0.0.1:9"
	replace := map[string]string{
		"HOOKLINE_STORE":             "dynamodb:hookline-runtimeapi",
		"TASKCLUSTER_ROOT_URL":       closed,
		"HOOKLINE_CHANGES_QUEUE_URL": closed + "/123456789012/changes",
	}
	// The api function reads its clients when it starts.
	sdk := sdkEnv(t, map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": closed, "AWS_ENDPOINT_URL_SQS": closed,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": startSecrets(t, root)})
	tick := readEvent(t, root, "scheduler-tick.json")
	delete(tick, "time")
	for _, tt := range []struct {
		name, id string
		payload  []byte
		want     string // in the error document
	}{
		{"api/not an API Gateway event", "ApiFunction", []byte(`["not", "an", "event"]`), "APIGatewayV2HTTPRequest"},
		{"scheduler/tick without a time", "SchedulerFunction", encode(t, tick), "no time"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := startProcess(t, bins[tt.id], tt.id, functionEnv(t, root, tt.id, replace, sdk))
			r := p.invoke(t, tt.payload)
			var doc struct{ ErrorMessage, ErrorType string }
			if r.ok || json.Unmarshal(r.body, &doc) != nil || !strings.Contains(doc.ErrorMessage, tt.want) || doc.ErrorType == "" {
				t.Fatalf("got ok=%v %s, want a POST .../error with an errorType and an errorMessage naming %q", r.ok, r.body, tt.want)
			}
			// The runtime takes the next invocation after an error.
			if tt.id == "ApiFunction" {
				if r := p.invoke(t, encode(t, readEvent(t, root, "api-unknown-route.json"))); !r.ok {
					t.Errorf("after the error: ok=%v %s", r.ok, r.body)
				}
			}
		})
	}
}
