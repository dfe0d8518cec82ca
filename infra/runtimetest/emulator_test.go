//go:build integration

package runtimetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/testutil"
)

// emulatorPackage is AWS's Lambda Runtime Interface Emulator, the program
// `sam local invoke` runs inside its containers. go.mod pins it as a tool.
const emulatorPackage = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// invokePath is the emulator's invoke endpoint (the Lambda Invoke API's
// path, for the one function it runs).
const invokePath = "/2015-03-31/functions/function/invocations"

// functionTimeouts are the functions' Timeout in template.yaml (seconds),
// which the emulator turns into each invocation's deadline
// (infra/templatetest checks the template's values).
var functionTimeouts = map[string]int{
	"ApiFunction":       29,
	"WebhookFunction":   29,
	"SchedulerFunction": 60,
	"TriggerFunction":   30,
}

// builds holds what the test binary built once: the emulator and the
// host bootstraps, in a directory TestMain removes at the end.
var builds struct {
	mu        sync.Mutex
	dir       string
	emulator  string
	bootstrap map[string]string
}

// emulatorBinary builds the pinned emulator once per test binary. A build
// failure is a failure, also outside CI: the module is in go.mod, so
// `go mod download` (make deps) brings it like any other dependency.
func emulatorBinary(tb testing.TB) string {
	tb.Helper()
	requireLinux(tb)
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.emulator != "" {
		return builds.emulator
	}
	out := filepath.Join(builds.dir, "aws-lambda-rie")
	cmd := exec.Command("go", "build", "-o", out, emulatorPackage)
	cmd.Dir = repoRoot(tb)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("build the Runtime Interface Emulator (%s): %v\n%s", emulatorPackage, err, b)
	}
	builds.emulator = out
	return out
}

// bootstraps builds, once per test binary, the host bootstraps of every
// function present (see present) and returns them by logical ID.
func bootstraps(tb testing.TB) map[string]string {
	tb.Helper()
	requireLinux(tb)
	builds.mu.Lock()
	defer builds.mu.Unlock()
	if builds.bootstrap != nil {
		return builds.bootstrap
	}
	root := repoRoot(tb)
	var ids []string
	for _, id := range functionIDs {
		if present(tb, root, id) {
			ids = append(ids, id)
		}
	}
	builds.bootstrap = buildHost(tb, root, builds.dir, ids)
	return builds.bootstrap
}

// function is one function's bootstrap running under its own emulator,
// as in one `sam local invoke` container.
type function struct {
	name    string
	url     string // the emulator's invoke URL
	cmd     *exec.Cmd
	output  *testutil.SyncBuffer
	exited  chan struct{}
	waitErr error
	started time.Time
}

// lambdaEnv is what the Lambda service sets for function id besides the
// template's variables: its name, timeout and memory, and the log
// settings of its LoggingConfig.
func lambdaEnv(id string) map[string]string {
	return map[string]string{
		"AWS_LAMBDA_FUNCTION_NAME":        "hookline-" + id,
		"AWS_LAMBDA_FUNCTION_VERSION":     "$LATEST",
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(functionTimeouts[id]),
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"AWS_LAMBDA_LOG_LEVEL":            "INFO",
		"AWS_LAMBDA_LOG_GROUP_NAME":       "/aws/lambda/hookline-" + id,
		"AWS_LAMBDA_LOG_STREAM_NAME":      "2026/11/30/[$LATEST]0123456789abcdef0123456789abcdef",
		"TZ":                              ":UTC",
	}
}

// startFunction starts the emulator for function id with bootstrap bin and
// env (plus lambdaEnv), waits until it accepts invocations, and stops it
// when the test ends. The emulator starts the bootstrap on the first
// invocation, as Lambda does on a cold start, and hands it its own
// environment.
func startFunction(tb testing.TB, rie, bin, id string, env map[string]string) *function {
	tb.Helper()
	// Two free ports: the emulator's own, and the Runtime API it serves
	// the bootstrap (by default 127.0.0.1:9001, which two emulators, or
	// two test binaries, would share). A port taken between the probe and
	// the emulator's listen makes the emulator exit: try again.
	var lastErr error
	for range 3 {
		f, err := launch(tb, rie, bin, id, env)
		if err == nil {
			tb.Cleanup(func() {
				f.stop(tb)
				if tb.Failed() {
					tb.Logf("%s emulator output:\n%s", id, f.output.String())
				}
			})
			return f
		}
		lastErr = err
	}
	tb.Fatalf("start the emulator for %s: %v", id, lastErr)
	return nil
}

func launch(tb testing.TB, rie, bin, id string, env map[string]string) (*function, error) {
	addrs := freeAddrs(tb, 2)
	addr, apiAddr := addrs[0], addrs[1]
	full := lambdaEnv(id)
	for k, v := range env {
		full[k] = v
	}
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addr, "--runtime-api-address", apiAddr, bin)
	// The emulator runs the bootstrap in its own working directory.
	cmd.Dir = filepath.Dir(bin)
	for k, v := range full {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	// Should the test binary die, the emulator stops, and it kills the
	// bootstrap on its way out.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	f := &function{name: id, url: "http://" + addr + invokePath, cmd: cmd, output: &testutil.SyncBuffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = f.output, f.output
	f.started = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go func() {
		f.waitErr = cmd.Wait()
		close(f.exited)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		// The emulator logs the bootstrap it will run before it listens:
		// a listener on addr before that line is not the emulator's.
		if strings.Contains(f.output.String(), "(rapid) exec '") {
			conn, err := net.DialTimeout("tcp", addr, time.Second)
			if err == nil {
				conn.Close()
				return f, nil
			}
		}
		select {
		case <-f.exited:
			return nil, fmt.Errorf("the emulator exited at start (%v):\n%s", f.waitErr, f.output.String())
		case <-time.After(time.Millisecond):
		}
		if time.Now().After(deadline) {
			f.stop(tb)
			return nil, fmt.Errorf("the emulator did not listen on %s within 15s:\n%s", addr, f.output.String())
		}
	}
}

// freeAddrs are n distinct loopback addresses with ports free a moment
// ago.
func freeAddrs(tb testing.TB, n int) []string {
	tb.Helper()
	var addrs []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		defer ln.Close()
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs
}

// stop sends SIGTERM, on which the emulator kills the bootstrap and
// exits, and kills the emulator if it has not exited after 10 s. Once it
// returns, f.output holds everything the emulator and the bootstrap wrote
// (cmd.Wait has copied the pipe to its end); before, lines written just
// before an answer may not have arrived yet.
func (f *function) stop(tb testing.TB) {
	select {
	case <-f.exited:
		return
	default:
	}
	f.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-f.exited:
	case <-time.After(10 * time.Second):
		tb.Errorf("the %s emulator ignored SIGTERM for 10s", f.name)
		f.cmd.Process.Kill()
		<-f.exited
	}
}

// invocation is what the emulator answered for one invocation.
type invocation struct {
	status int
	body   []byte
}

// failed reports whether the function answered with an error. The
// emulator answers a function's error (its POST .../error) with 200 and
// the error document, dropping the Error-Type header Lambda's Invoke API
// turns into X-Amz-Function-Error; so an error is recognised by its shape,
// an object of errorMessage and errorType (and maybe stackTrace) only.
func (r invocation) failed() bool {
	if r.status != http.StatusOK {
		return true
	}
	var doc map[string]json.RawMessage
	if json.Unmarshal(r.body, &doc) != nil {
		return false
	}
	_, msg := doc["errorMessage"]
	_, typ := doc["errorType"]
	delete(doc, "stackTrace")
	return msg && typ && len(doc) == 2
}

// invoke posts payload to the emulator and returns its answer.
func (f *function) invoke(tb testing.TB, payload []byte) invocation {
	tb.Helper()
	client := http.Client{Timeout: time.Duration(functionTimeouts[f.name]+30) * time.Second}
	res, err := client.Post(f.url, "application/json", bytes.NewReader(payload))
	if err != nil {
		tb.Fatalf("invoke %s: %v\n%s", f.name, err, f.output.String())
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		tb.Fatalf("invoke %s: read the answer: %v", f.name, err)
	}
	return invocation{status: res.StatusCode, body: body}
}

// invokeOK invokes and requires a response, not an error.
func (f *function) invokeOK(tb testing.TB, payload []byte) []byte {
	tb.Helper()
	r := f.invoke(tb, payload)
	if r.failed() {
		tb.Fatalf("%s answered %d with an error: %s", f.name, r.status, r.body)
	}
	return r.body
}

// logLines decodes the function's log lines in the emulator's output: the
// lines that are JSON objects. The emulator's own lines (timestamped
// "(rapid)" lines, START, END and REPORT) are plain text, and with
// AWS_LAMBDA_LOG_FORMAT=JSON every line the function writes is JSON, so a
// line that starts like JSON but does not decode is an error.
func (f *function) logLines(tb testing.TB) []map[string]any {
	tb.Helper()
	var lines []map[string]any
	for _, line := range strings.Split(f.output.String(), "\n") {
		if !strings.HasPrefix(line, "{") {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			tb.Errorf("%s logged a line that is not JSON: %s", f.name, line)
			continue
		}
		lines = append(lines, m)
	}
	return lines
}

// initReport is the emulator's log line after the bootstrap's init: its
// duration from the bootstrap's start to its first request for an
// invocation (what Lambda bills as Init Duration).
var initReport = regexp.MustCompile(`INIT REPORT\(durationMs: ([0-9.]+)\)`)

// exitedWith reports whether the emulator saw the bootstrap exit with
// status code during init ("Runtime exited with error: exit status N",
// what Lambda reports as Runtime.ExitError).
func (f *function) exitedWith(code int) bool {
	return strings.Contains(f.output.String(), fmt.Sprintf("Runtime exited with error: exit status %d", code))
}
