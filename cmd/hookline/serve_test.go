package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/queue"
	"github.com/hookline/hookline/shared/service/servicetest"
)

// `serve` honours the settings every entry point honours.
func TestBuildServerHonoursConfig(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Load(servicetest.Env(map[string]string{
		"HOOKLINE_DATA_DIR": dir,
		"HOOKLINE_STORE":    "embedded:" + filepath.Join(dir, "hooks.db"),
	}))
	if err != nil {
		t.Fatal(err)
	}
	local, err := buildServer(context.Background(), cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer local.cleanup()
	servicetest.CheckHooks(t, local.svc.Hooks)
	servicetest.CheckAPI(t, local.svc.Hooks, local.router)
}

// fakeIntake fires with err.
type fakeIntake struct {
	err   error
	fired []hooks.PulseMessage
}

func (f *fakeIntake) FirePulseMessage(_ context.Context, msg hooks.PulseMessage) (hooks.PulseResult, error) {
	f.fired = append(f.fired, msg)
	return hooks.PulseResult{}, f.err
}

// The in-process trigger queue fires each message's hook; a body that does
// not decode is permanent, any other failure worth a retry.
func TestLocalTrigger(t *testing.T) {
	ctx := context.Background()
	intake := &fakeIntake{}
	handle := localTrigger(intake, nil)
	if err := handle(ctx, []byte("{")); !errors.Is(err, queue.ErrPermanent) {
		t.Errorf("malformed: %v", err)
	}
	good, _ := json.Marshal(hooks.PulseMessage{HookGroupID: "g", HookID: "h", Exchange: "e", RoutingKey: "k", Payload: json.RawMessage(`{"repository":"r"}`)})
	if err := handle(ctx, good); err != nil || len(intake.fired) != 1 || intake.fired[0].RoutingKey != "k" {
		t.Errorf("good: %v, fired %+v", err, intake.fired)
	}
	intake.err = fmt.Errorf("queue down")
	if err := handle(ctx, good); err == nil || errors.Is(err, queue.ErrPermanent) {
		t.Errorf("a failed fire must be retryable: %v", err)
	}
}

// The local queue's bodies count against the router's body budgets and
// the queue's 10 MB limit, refused before the queue reads them.
func TestLocalQueueBodiesLimited(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{"HOOKLINE_DATA_DIR": dir} // no TASKCLUSTER_ROOT_URL: the local queue
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	local, err := buildServer(context.Background(), cfg, slog.New(slog.DiscardHandler), io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	defer local.cleanup()
	req := httptest.NewRequest("PUT", "/api/queue/v1/task/dSlITZ4yQgmvxxAi4A8fHQ", strings.NewReader("{}"+strings.Repeat(" ", 10<<20)))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	local.handler.ServeHTTP(rec, req)
	if rec.Code != 413 || !strings.Contains(rec.Body.String(), "request body is larger than the 10 MB limit of queue") {
		t.Fatalf("%d %.300s", rec.Code, rec.Body.String())
	}
	req = httptest.NewRequest("PUT", "/api/queue/v1/task/dSlITZ4yQgmvxxAi4A8fHQ", strings.NewReader("{}"))
	req.Header.Set("Content-Type", "application/json")
	rec = httptest.NewRecorder()
	local.handler.ServeHTTP(rec, req)
	if rec.Code == 413 || rec.Code >= 500 {
		t.Fatalf("a small body: %d %.300s", rec.Code, rec.Body.String())
	}
}
