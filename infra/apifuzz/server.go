package apifuzz

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hookline/hookline/infra/servechild"
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

// server is a running `hookline serve`, and how far the run has read its
// log.
type server struct {
	*servechild.Child
	// logRead is how much of the log the run has looked at.
	logRead int64
}

// startServer starts binary serve over a fresh data directory under
// parent, on a free loopback port, with env added to a clean environment.
// The scheduler ticks once a day, so that nothing but the fuzz's requests
// changes the store while it runs.
func startServer(ctx context.Context, binary, parent string, env []string) (*server, error) {
	c, err := servechild.Start(ctx, servechild.Options{Binary: binary, Parent: parent, Prefix: "serve-",
		Env: append([]string{"HOOKLINE_CLIENTS=" + clientsConfig(), "HOOKLINE_LOG_LEVEL=warn", "HOOKLINE_SCHEDULER_INTERVAL=24h"}, env...)})
	if err != nil {
		return nil, err
	}
	return &server{Child: c}, nil
}

// peakRSS is the process's peak resident set (VmHWM) in bytes, or 0
// where there is no /proc.
func (s *server) peakRSS() int64 { return s.Memory().HWM << 10 }

// newLogLines returns the log lines written since the last call that
// are errors (level ERROR), each cut to 2,000 bytes.
func (s *server) newErrorLines() []string {
	f, err := os.Open(s.Log)
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
	data, _ := os.ReadFile(s.Log)
	text := string(data)
	for _, start := range []string{"panic: ", "fatal error: ", "runtime: "} {
		if i := strings.Index(text, start); i >= 0 && (i == 0 || text[i-1] == '\n') {
			lines := strings.SplitN(text[i:], "\n", n+1)
			return "hookline serve's crash:\n" + strings.Join(lines[:min(n, len(lines))], "\n")
		}
	}
	return s.Tail(n)
}

// keepLog copies the log into dir.
func (s *server) keepLog(dir, store string) (string, error) {
	data, err := os.ReadFile(s.Log)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	path := filepath.Join(dir, fmt.Sprintf("serve-%s-%d.log", store, time.Now().Unix()))
	return path, os.WriteFile(path, data, 0o644)
}
