package apifuzz

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
	"strconv"
	"strings"
	"time"
)

// The fuzz client's credentials: a client holding every scope, so signed
// requests reach the handlers; unsigned ones get the anonymous scopes of
// the README's local trial.
const (
	clientID    = "fuzz"
	accessToken = "fuzz-access-token-0123456789"
)

func clientsConfig() string {
	return string(mustJSON(map[string]any{
		"clients":         []any{map[string]any{"clientId": clientID, "accessToken": accessToken, "scopes": []string{"*"}}},
		"anonymousScopes": []string{"hooks:*", "assume:hook-id:*", "queue:*", "hookline:*"},
	}))
}

// server is a running `hookline serve`.
type server struct {
	cmd  *exec.Cmd
	dir  string
	addr string
	log  string // the file its log goes to
	done chan error
	// logRead is how much of the log the run has looked at.
	logRead int64
}

// startServer starts binary serve over a fresh data directory under
// parent, on a free loopback port, with env added to a clean environment.
func startServer(ctx context.Context, binary, parent string, env []string) (*server, error) {
	dir, err := os.MkdirTemp(parent, "serve-")
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	s := &server{dir: dir, addr: addr, done: make(chan error, 1), log: filepath.Join(dir, "serve.log")}
	s.cmd = exec.Command(binary, "serve")
	// A clean environment: nothing of the caller's Hookline, Taskcluster
	// or AWS settings leaks in. The scheduler ticks once a day, so that
	// nothing but the fuzz's requests changes the store while it runs.
	s.cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "HOOKLINE_ADDR=" + addr, "HOOKLINE_DATA_DIR=" + dir,
		"HOOKLINE_CLIENTS=" + clientsConfig(), "HOOKLINE_LOG_LEVEL=warn", "HOOKLINE_SCHEDULER_INTERVAL=24h"}, env...)
	for _, k := range []string{"GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG", "TMPDIR"} {
		if v, ok := os.LookupEnv(k); ok {
			s.cmd.Env = append(s.cmd.Env, k+"="+v)
		}
	}
	logFile, err := os.Create(s.log)
	if err != nil {
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	s.cmd.Stdout, s.cmd.Stderr = io.Discard, logFile
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.done <- s.cmd.Wait() }()
	deadline := time.After(30 * time.Second)
	for {
		if s.alive() == nil {
			return s, nil
		}
		select {
		case err := <-s.done:
			s.done <- err
			return nil, fmt.Errorf("hookline serve exited: %v\n%s", err, s.tail(40))
		case <-deadline:
			s.stop()
			return nil, fmt.Errorf("hookline serve did not answer ping within 30 s\n%s", s.tail(40))
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// alive pings the server.
func (s *server) alive() error {
	c := http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	res, err := c.Get("http://" + s.addr + "/api/hooks/v1/ping")
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("ping answered %d", res.StatusCode)
	}
	return nil
}

// exited reports whether the process has ended, and how.
func (s *server) exited() (bool, error) {
	select {
	case err := <-s.done:
		s.done <- err
		return true, err
	default:
		return false, nil
	}
}

// peakRSS is the process's peak resident set (VmHWM) in bytes, or 0
// where there is no /proc.
func (s *server) peakRSS() int64 {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			if err == nil {
				return kb << 10
			}
		}
	}
	return 0
}

// newLogLines returns the log lines written since the last call that
// are errors (level ERROR), each cut to 2,000 bytes.
func (s *server) newErrorLines() []string {
	f, err := os.Open(s.log)
	if err != nil {
		return nil
	}
	defer f.Close()
	if _, err := f.Seek(s.logRead, io.SeekStart); err != nil {
		return nil
	}
	data, _ := io.ReadAll(f)
	// Only whole lines: a line still being written is read next time.
	end := bytes.LastIndexByte(data, '\n') + 1
	s.logRead += int64(end)
	var out []string
	for line := range bytes.SplitSeq(data[:end], []byte("\n")) {
		var l struct{ Level string }
		if json.Unmarshal(line, &l) == nil && l.Level == "ERROR" {
			if len(line) > 2000 {
				line = append(line[:2000:2000], "…"...)
			}
			out = append(out, string(line))
		}
	}
	return out
}

// crash is the start of the log's panic or fatal error (n lines), or
// its tail when it has none.
func (s *server) crash(n int) string {
	data, _ := os.ReadFile(s.log)
	text := string(data)
	for _, start := range []string{"panic: ", "fatal error: ", "runtime: "} {
		if i := strings.Index(text, start); i >= 0 && (i == 0 || text[i-1] == '\n') {
			lines := strings.SplitN(text[i:], "\n", n+1)
			return "hookline serve's crash:\n" + strings.Join(lines[:min(n, len(lines))], "\n")
		}
	}
	return s.tail(n)
}

// keepLog copies the log into dir.
func (s *server) keepLog(dir, store string) (string, error) {
	data, err := os.ReadFile(s.log)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("serve-%s-%d.log", store, time.Now().Unix()))
	return path, os.WriteFile(path, data, 0o644)
}

// tail is the last n lines of the log.
func (s *server) tail(n int) string {
	data, _ := os.ReadFile(s.log)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		if len(l) > 2000 {
			lines[i] = l[:2000] + "…"
		}
	}
	return "hookline serve's last log lines:\n" + strings.Join(lines, "\n")
}

// stop interrupts the server, kills it if it has not ended within 15 s,
// and removes its data directory.
func (s *server) stop() {
	_ = s.cmd.Process.Signal(os.Interrupt)
	select {
	case err := <-s.done:
		s.done <- err
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		s.done <- <-s.done
	}
	os.RemoveAll(s.dir)
}
