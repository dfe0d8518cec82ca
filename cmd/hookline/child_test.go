package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

// child is `hookline serve` in a process of its own: the test binary run
// again with childServe set (TestMain).
type child struct {
	cmd  *exec.Cmd
	base string // http://127.0.0.1:<port>
	logs *logTail
	done chan error
	once sync.Once
}

// childClients lets anonymous callers manage and fire hooks and read the
// local queue.
const childClients = `{"anonymousScopes":["hooks:*","assume:hook-id:*","queue:*","hookline:*"]}`

// startChild starts serve over dataDir on a free loopback port, with env
// added, and waits until it listens.
func startChild(tb testing.TB, dataDir string, env ...string) *child {
	tb.Helper()
	exe, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append([]string{childServe + "=1", "HOME=" + dataDir, "PATH=" + os.Getenv("PATH"),
		"HOOKLINE_DATA_DIR=" + dataDir, "HOOKLINE_ADDR=127.0.0.1:0", "HOOKLINE_CLIENTS=" + childClients}, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout = io.Discard
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	c := &child{cmd: cmd, logs: &logTail{}, done: make(chan error, 1)}
	addr := make(chan string, 1)
	go func() {
		// The address is in the "hookline serving" line (info); the
		// rest is kept for failure messages, the last 1 MB of it.
		sc := bufio.NewScanner(stderr)
		sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
		for sc.Scan() {
			line := sc.Bytes()
			c.logs.add(line)
			var l struct{ Msg, Addr string }
			if json.Unmarshal(line, &l) == nil && l.Msg == "hookline serving" {
				addr <- l.Addr
			}
		}
		c.done <- cmd.Wait()
	}()
	select {
	case a := <-addr:
		c.base = "http://" + a
	case err := <-c.done:
		tb.Fatalf("serve exited before listening: %v\n%s", err, c.logs)
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		tb.Fatalf("serve did not listen within 30s\n%s", c.logs)
	}
	tb.Cleanup(func() { c.kill(tb) })
	return c
}

// kill sends SIGKILL (once) and waits for the process to end.
func (c *child) kill(testing.TB) {
	c.once.Do(func() {
		_ = c.cmd.Process.Kill()
		<-c.done
	})
}

// do sends a request and returns the status and body.
func (c *child) do(client *http.Client, method, path, body string) (int, []byte, error) {
	req, err := http.NewRequest(method, c.base+path, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// must is do that fails the test on an error or another status.
func (c *child) must(tb testing.TB, method, path, body string, want int) []byte {
	tb.Helper()
	code, out, err := c.do(http.DefaultClient, method, path, body)
	if err != nil || code != want {
		tb.Fatalf("%s %s: %d %v %s, want %d", method, path, code, err, out, want)
	}
	return out
}

// childHook is a hook whose fire renders a task from the payload.
func childHook(name string) string {
	return fmt.Sprintf(`{"metadata":{"name":%q,"description":"d","owner":"o@example.com"},"schedule":[],`+
		`"task":{"provisionerId":"p","workerType":"w","payload":{"n":{"$eval":"payload.n"}},`+
		`"metadata":{"name":"t","description":"t","owner":"o@example.com","source":"https://example.com"}},"triggerSchema":{}}`, name)
}

func stringsReader(s string) io.Reader { return strings.NewReader(s) }

// logTail keeps the last lines a child logged, for failure messages.
type logTail struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logTail) add(line []byte) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buf.Len() > 1<<20 {
		l.buf.Reset()
	}
	l.buf.Write(line)
	l.buf.WriteByte('\n')
}

func (l *logTail) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}
