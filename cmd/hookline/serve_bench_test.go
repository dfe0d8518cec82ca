package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/httpapi"
)

// The request path of `serve` in process: the handler buildServer makes
// (local queue mux, console, router) behind the connection pace, with
// the JSON request log (to io.Discard) and Hawk-signed requests from a
// client whose scopes come from a role. It leaves out what net/http does
// per connection and request, which `make bench-http` measures.

// discardWriter is the cheapest http.ResponseWriter: it keeps the status
// and counts the body.
type discardWriter struct {
	h      http.Header
	status int
	n      int
}

func (w *discardWriter) Header() http.Header         { return w.h }
func (w *discardWriter) WriteHeader(code int)        { w.status = code }
func (w *discardWriter) Write(p []byte) (int, error) { w.n += len(p); return len(p), nil }

// SetWriteDeadline succeeds, as net/http's writer does (the connection
// pace sets the answer's deadline); without it the pace's deadline
// failed with an error, two allocations no server pays.
func (w *discardWriter) SetWriteDeadline(time.Time) error { return nil }

// benchServe builds the serve handler with one client, project/bench/ci,
// holding a role, and creates the bench-http hook (testdata shared with
// infra/benchhttp).
func benchServe(b *testing.B) (http.Handler, auth.Credentials) {
	b.Helper()
	hook, err := os.ReadFile(filepath.Join("..", "..", "infra", "benchhttp", "testdata", "hook.json"))
	if err != nil {
		b.Fatal(err)
	}
	creds := auth.Credentials{ClientID: "project/bench/ci", AccessToken: strings.Repeat("t", 44)}
	clients, _ := json.Marshal(map[string]any{
		"clients": []map[string]any{{"clientId": creds.ClientID, "accessToken": creds.AccessToken, "scopes": []string{"assume:project:bench"}}},
		"roles": []map[string]any{
			{"roleId": "project:bench", "scopes": []string{"hooks:get:bench:*", "hooks:modify-hook:bench/*", "hooks:trigger-hook:bench/*", "assume:hook-id:bench/*"}},
			{"roleId": "hook-id:bench/*", "scopes": []string{"queue:create-task:*", "queue:scheduler-id:*", "queue:route:*", "assume:repo:*", "secrets:get:*"}},
		},
	})
	dir := b.TempDir()
	env := map[string]string{"HOOKLINE_DATA_DIR": dir, "HOOKLINE_CLIENTS": string(clients)}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(httpapi.NewLogHandler(io.Discard, &slog.HandlerOptions{Level: cfg.LogLevel}))
	local, err := buildServer(context.Background(), cfg, log, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(local.cleanup)
	h := defaultConnLimits.pace(local.handler)
	req := signedRequest(b, creds, http.MethodPut, benchHookURL, string(hook))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		b.Fatalf("create the hook: %d %s", rec.Code, rec.Body)
	}
	return h, creds
}

const benchHookURL = "http://127.0.0.1:8080/api/hooks/v1/hooks/bench/nightly"

func signedRequest(b *testing.B, creds auth.Credentials, method, url, body string) *http.Request {
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest(method, url, nil)
	}
	req.RemoteAddr = "127.0.0.1:40000"
	// As a server receives it: the path, not the absolute URL given.
	req.RequestURI = req.URL.RequestURI()
	if err := auth.SignRequest(req, creds, nil, time.Now()); err != nil {
		b.Fatal(err)
	}
	return req
}

// BenchmarkServeGetHook is getHook through the whole handler. One signed
// request is sent again and again: nonces are not remembered, and the
// signature stays fresh for 15 minutes.
func BenchmarkServeGetHook(b *testing.B) {
	h, creds := benchServe(b)
	req := signedRequest(b, creds, http.MethodGet, benchHookURL, "")
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		w.status, w.n = 0, 0
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK || w.n == 0 {
			b.Fatalf("getHook: %d, %d bytes", w.status, w.n)
		}
	}
}

// BenchmarkServePing is the public ping route through the whole handler:
// what every request costs before its route's own work.
func BenchmarkServePing(b *testing.B) {
	h, creds := benchServe(b)
	req := signedRequest(b, creds, http.MethodGet, "http://127.0.0.1:8080/api/hooks/v1/ping", "")
	w := &discardWriter{h: http.Header{}}
	b.ReportAllocs()
	for b.Loop() {
		clear(w.h)
		w.status, w.n = 0, 0
		h.ServeHTTP(w, req)
		if w.status != http.StatusOK {
			b.Fatalf("ping: %d", w.status)
		}
	}
}
