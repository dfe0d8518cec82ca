package httpapi

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The request line's encoder writes what slog's JSON handler writes for
// the same record, byte for byte.
func TestAppendRequestLineMatchesSlog(t *testing.T) {
	zone := time.FixedZone("", 5*3600+30*60)
	cases := []struct {
		name         string
		t            time.Time
		method, path string
		status       int
		ms           float64
	}{
		{"plain", time.Date(2026, 12, 7, 15, 4, 5, 123456789, time.UTC), "GET", "/api/hooks/v1/hooks/bench/nightly", 200, 0.123},
		{"whole nanoseconds trimmed", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), "PUT", "/api/hooks/v1/ping", 404, 0},
		{"zone", time.Date(2026, 1, 2, 3, 4, 5, 100, zone), "POST", "/x", 500, 12345.678},
		{"escapes", time.Date(2026, 1, 2, 3, 4, 5, 1, time.UTC), "G\"E\\T", "/a\tb\nc\rd\x01e<>&\u2028\u2029é\xff", 413, 1e-7},
		{"large", time.Date(2026, 1, 2, 3, 4, 5, 1, time.UTC), "GET", "/", 200, 1e22},
		{"negative", time.Date(2026, 1, 2, 3, 4, 5, 1, time.UTC), "GET", "/", 200, -0.5},
		{"year out of range", time.Date(10001, 1, 2, 3, 4, 5, 1, time.UTC), "GET", "/", 200, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var want bytes.Buffer
			slog.New(slog.NewJSONHandler(&want, nil)).Handler().Handle(context.Background(), func() slog.Record {
				r := slog.NewRecord(c.t, slog.LevelInfo, "request", 0)
				r.AddAttrs(slog.String("method", c.method), slog.String("path", c.path), slog.Int("status", c.status), slog.Float64("ms", c.ms))
				return r
			}())
			if got := appendRequestLine(nil, c.t, c.method, c.path, c.status, c.ms); string(got) != want.String() {
				t.Errorf("got  %s\nwant %s", got, want.String())
			}
		})
	}
}

// The router writes its request line through LogHandler's encoder, and
// through any other handler with slog; the lines have the same fields.
// Level, WithAttrs and other records keep slog's behaviour.
func TestRequestLogThroughLogHandler(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(NewLogHandler(&out, nil))
	rt := logRouter(t, log)
	rt.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/hooks/v1/ping", nil))
	log.Info("other", "k", "v")
	log.With("c", 1).Info("with")
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 {
		t.Fatalf("log lines: %q", out.String())
	}
	if !strings.Contains(lines[0], `,"level":"INFO","msg":"request","method":"GET","path":"/api/hooks/v1/ping","status":200,"ms":`) {
		t.Errorf("request line: %s", lines[0])
	}
	if !strings.HasSuffix(lines[1], `"level":"INFO","msg":"other","k":"v"}`) || !strings.HasSuffix(lines[2], `"msg":"with","c":1}`) {
		t.Errorf("other lines: %q", lines[1:])
	}

	out.Reset()
	quiet := slog.New(NewLogHandler(&out, &slog.HandlerOptions{Level: slog.LevelWarn}))
	rt = logRouter(t, quiet)
	rt.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(http.MethodGet, "/api/hooks/v1/ping", nil))
	if out.Len() != 0 {
		t.Errorf("request logged at level warn: %s", out.String())
	}
}

// logRouter is a router of the test service logging to log, on the real
// clock.
func logRouter(t *testing.T, log *slog.Logger) *Router {
	t.Helper()
	rt, err := NewRouter(newTestEnv(t, nil).svc, Options{Authorizer: grantAll{}, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	return rt
}
