package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/service"
	"github.com/hookline/hookline/shared/service/servicetest"
	"github.com/hookline/hookline/shared/store/embedded"
	"github.com/hookline/hookline/shared/testutil"
)

// taskQueue keeps the ids of the tasks it creates.
type taskQueue struct{ ids []string }

func (q *taskQueue) CreateTask(_ context.Context, taskID string, _ json.RawMessage, _ []string) (json.RawMessage, error) {
	q.ids = append(q.ids, taskID)
	return json.RawMessage(`{}`), nil
}

func (q *taskQueue) Status(context.Context, string) (json.RawMessage, error) {
	return json.RawMessage(`{"status":{"runs":[]}}`), nil
}

// The sample webhook event of infra/events fires its hook with the hook's
// token; the function serves no other route.
func TestHandleSampleEvent(t *testing.T) {
	st, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	q := &taskQueue{}
	authz, err := service.NewAuthorizer(context.Background(), cfg.Auth, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(cfg, service.Deps{Store: st, Queue: q, Authorizer: authz, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	h, err := newHandler(cfg, svc, quiet)
	if err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "infra", "events", "webhook-trigger.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = svc.Hooks.Definitions.CreateHook(ctx, "hookline-examples", "build", hooks.Input{
		Metadata:      hooks.Metadata{Name: "n", Description: "d", Owner: "o@example.com"},
		Task:          json.RawMessage(`{"provisionerId":"p","workerType":"w","payload":{"ref":"${payload.ref}"}}`),
		Schedule:      []string{},
		TriggerSchema: json.RawMessage(`{"type":"object"}`),
	})
	if err != nil {
		t.Fatal(err)
	}
	token, err := svc.Hooks.Definitions.TriggerToken(ctx, "hookline-examples", "build")
	if err != nil {
		t.Fatal(err)
	}
	// The sample's token is a placeholder; the hook's own replaces it.
	prefix := ev.RawPath[:strings.LastIndex(ev.RawPath, "/")+1]
	ev.RawPath, ev.RequestContext.HTTP.Path = prefix+token, prefix+token

	resp, err := h.handle(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || len(q.ids) != 1 || !strings.Contains(resp.Body, q.ids[0]) {
		t.Fatalf("%d %s, tasks %v", resp.StatusCode, resp.Body, q.ids)
	}

	ev.RawPath, ev.RequestContext.HTTP.Method = "/api/hooks/v1/hooks/hookline-examples/build", "GET"
	if resp, _ := h.handle(ctx, ev); resp.StatusCode != 404 {
		t.Fatalf("getHook through the webhook function: %d %s", resp.StatusCode, resp.Body)
	}
}

// The function honours the settings every entry point honours.
func TestBuildHonoursConfig(t *testing.T) {
	h, err := build(context.Background(), servicetest.Env(nil), slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	servicetest.CheckHooks(t, h.svc.Hooks)
	servicetest.CheckAPI(t, h.svc.Hooks, h.router)
}
