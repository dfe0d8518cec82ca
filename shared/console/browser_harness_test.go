//go:build integration

package console_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/testutil"
)

// chromium finds the browser: HOOKLINE_TEST_CHROMIUM, or chromium on the
// PATH (Debian's package). Without one the test is skipped, except under
// CI=true, where .ci/run installs it and its absence is a failure.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HOOKLINE_TEST_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("Chromium is required under CI=true (apt-get install -y chromium; .ci/run does it)")
	}
	t.Skip("no Chromium (apt-get install -y chromium, or set HOOKLINE_TEST_CHROMIUM)")
	return ""
}

// hooklineBinary builds cmd/hookline once per test run, into buildDir.
var hooklineBinary = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "hookline-console-test")
	if err != nil {
		return "", err
	}
	buildDir = dir
	bin := filepath.Join(dir, "hookline")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/hookline")
	cmd.Dir = repoRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/hookline: %v\n%s", err, out)
	}
	return bin, nil
})

// repoRoot is the repository, found by TestMain; buildDir is where
// hooklineBinary built, removed when the tests end.
var repoRoot, buildDir string

func TestMain(m *testing.M) {
	wd, _ := os.Getwd()
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// server is a running `hookline serve`.
type server struct {
	base string
	dir  string
	root auth.Credentials
	out  *testutil.SyncBuffer
}

// startServe runs the real binary on a free loopback port with a fresh
// data directory and env, until the test ends.
func startServe(t *testing.T, env map[string]string) *server {
	t.Helper()
	bin, err := hooklineBinary()
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &server{base: "http://" + addr, dir: t.TempDir(), out: &testutil.SyncBuffer{}}
	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(), "HOOKLINE_ADDR="+addr, "HOOKLINE_DATA_DIR="+s.dir, "HOOKLINE_LOG_LEVEL=warn", "TASKCLUSTER_ROOT_URL=")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stdout, cmd.Stderr = s.out, s.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			cmd.Process.Kill()
			t.Error("hookline serve did not stop on SIGINT")
		}
		if t.Failed() {
			t.Logf("hookline serve output:\n%s", s.out.String())
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		res, err := http.Get(s.base + "/api/hooks/v1/ping")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-done:
			t.Fatalf("hookline serve exited: %v\n%s", err, s.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("hookline serve did not answer: %v\n%s", err, s.out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if token, err := os.ReadFile(filepath.Join(s.dir, "root-access-token")); err == nil {
		s.root = auth.Credentials{ClientID: "root", AccessToken: strings.TrimSpace(string(token))}
	}
	return s
}

// call makes a signed API call from Go (to set up or check what the
// browser did) and decodes the reply into out, if not nil.
func (s *server) call(t *testing.T, creds auth.Credentials, method, path string, body any, out any) int {
	t.Helper()
	var rd io.Reader
	var payload []byte
	if body != nil {
		payload, _ = json.Marshal(body)
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequest(method, s.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if creds.ClientID != "" {
		if err := auth.SignRequest(req, creds, nil, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if out != nil && len(data) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, data)
		}
	}
	return res.StatusCode
}

// browser is a headless Chromium with a fresh profile; JavaScript errors,
// uncaught exceptions and CSP violations fail the test.
type browser struct {
	ctx    context.Context
	t      *testing.T
	mu     sync.Mutex
	errors []string
	shots  string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	bin := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(bin),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	// One limit for the whole browser: it is the context of the first Run.
	ctx, cancelTimeout := context.WithTimeout(ctx, 4*time.Minute)
	b := &browser{ctx: ctx, t: t, shots: os.Getenv("HOOKLINE_SCREENSHOTS")}
	stop := func() {
		cancelTimeout()
		cancel()
		cancelAlloc()
	}
	if err := chromedp.Do(ctx); err != nil {
		stop()
		t.Fatalf("start Chromium: %v", err)
	}
	messages := chromedp.Console(ctx)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for m, err := range messages {
			if err != nil {
				return
			}
			// Refused API calls (403, 409) are logged as network errors:
			// expected. Any other error (an exception, console.error, a CSP
			// or Trusted Types violation) is not.
			if (m.Type == chromedp.ConsoleError || m.IsException()) && m.Source != "network" {
				b.fail(fmt.Sprintf("%s (%s:%d)", m, m.URL, m.Line+1))
			}
		}
	}()
	t.Cleanup(func() {
		stop()
		<-done
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, e := range b.errors {
			t.Errorf("browser: %s", e)
		}
	})
	return b
}

func (b *browser) fail(msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errors = append(b.errors, msg)
}

// do runs actions, failing the test with the step that failed and what
// the page showed.
func (b *browser) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, actions...); err != nil {
		b.failStep(step, err)
	}
}

func (b *browser) failStep(step string, err error) {
	b.t.Helper()
	url, _ := chromedp.Run(b.ctx, chromedp.Location())
	text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.querySelector("main")?.innerText || ""`))
	b.t.Fatalf("%s: %v\nat %s, the page shows:\n%s", step, err, url, text)
}

// evalJS evaluates JavaScript in the page, awaiting a promise.
func evalJS[T any](b *browser, step, js string) T {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[T](js, chromedp.EvalAwaitPromise))
	if err != nil {
		b.failStep(step, err)
	}
	return v
}

// eval evaluates JavaScript in the page, awaiting a promise, and decodes
// its JSON value into out (when not nil).
func (b *browser) eval(step, js string, out any) {
	b.t.Helper()
	raw := evalJS[[]byte](b, step, js)
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			b.t.Fatalf("%s: decode %s: %v", step, raw, err)
		}
	}
}

// waitJS waits until a JavaScript expression is truthy.
func (b *browser) waitJS(step, js string) {
	b.t.Helper()
	b.do(step, chromedp.Poll[chromedp.Void](js, chromedp.WithPollingTimeout(20*time.Second)))
}

// waitText waits until the element sel holds text.
func (b *browser) waitText(step, sel, text string) {
	b.t.Helper()
	b.waitJS(step, fmt.Sprintf(`(document.querySelector(%q)?.textContent || "").includes(%q)`, sel, text))
}

// setText puts text into an input or text area and tells the page, as
// typing would (large JSON would take long to type key by key).
func (b *browser) setText(step, sel, text string) {
	b.t.Helper()
	ok := evalJS[bool](b, step, fmt.Sprintf(`(() => { const el = document.querySelector(%q); if (!el) return false;
	  el.value = %s; el.dispatchEvent(new Event("input", {bubbles: true})); el.dispatchEvent(new Event("change", {bubbles: true})); return true; })()`,
		sel, jsString(text)))
	if !ok {
		b.t.Fatalf("%s: no %s", step, sel)
	}
}

// screenshot saves the page as console-<name>.png in HOOKLINE_SCREENSHOTS
// (make screenshots writes docs/), or in a temporary directory.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.failStep("screenshot "+name, err)
	}
	dir := b.shots
	if dir == "" {
		dir = b.t.TempDir()
	}
	if err := os.WriteFile(filepath.Join(dir, "console-"+name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// colorScheme emulates prefers-color-scheme.
func (b *browser) colorScheme(scheme string) {
	b.t.Helper()
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
	}); err != nil {
		b.t.Fatal(err)
	}
}

func jsString(s string) string {
	data, _ := json.Marshal(s)
	return string(data)
}

// checkLabels fails the test if a form control on the page has no label.
func (b *browser) checkLabels(page string) {
	b.t.Helper()
	var unlabelled []string
	b.eval("labels on "+page, `[...document.querySelectorAll("input, select, textarea")]
	  .filter((e) => e.type !== "hidden" && !(e.labels && e.labels.length) && !e.getAttribute("aria-label") && !e.getAttribute("aria-labelledby"))
	  .map((e) => e.outerHTML.slice(0, 120))`, &unlabelled)
	if len(unlabelled) > 0 {
		b.t.Errorf("%s: controls without a label: %v", page, unlabelled)
	}
}

// count counts the elements matching a CSS selector.
func (b *browser) count(sel string) int {
	b.t.Helper()
	return evalJS[int](b, "count "+sel, fmt.Sprintf(`document.querySelectorAll(%q).length`, sel))
}
