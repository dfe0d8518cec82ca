package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/queue/sqstest"
	"github.com/hookline/hookline/shared/service"
	"github.com/hookline/hookline/shared/service/servicetest"
	"github.com/hookline/hookline/shared/store/embedded"
	"github.com/hookline/hookline/shared/testutil"
)

// nopQueue accepts every task.
type nopQueue struct{}

func (nopQueue) CreateTask(context.Context, string, json.RawMessage, []string) (json.RawMessage, error) {
	return json.RawMessage(`{}`), nil
}

func (nopQueue) Status(context.Context, string) (json.RawMessage, error) {
	return json.RawMessage(`{"status":{"runs":[]}}`), nil
}

// testHandler is the function's handler over the embedded store, with the
// anonymous scopes infra/events/env.json gives the api function.
func testHandler(t *testing.T) *handler {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HOOKLINE_CLIENTS": `{"anonymousScopes":["hooks:*","assume:hook-id:*"]}`}
	cfg, err := config.Load(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	quiet := slog.New(slog.DiscardHandler)
	authz, err := service.NewAuthorizer(context.Background(), cfg.Auth, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(cfg, service.Deps{Store: st, Queue: nopQueue{}, Authorizer: authz, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { svc.Close() })
	h, err := newHandler(cfg, svc, quiet)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func sampleEvent(t *testing.T, name string) events.APIGatewayV2HTTPRequest {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "infra", "events", name))
	if err != nil {
		t.Fatal(err)
	}
	var ev events.APIGatewayV2HTTPRequest
	if err := json.Unmarshal(raw, &ev); err != nil {
		t.Fatal(err)
	}
	return ev
}

// The sample events of infra/events, in order: create the hook, read it
// back, and an unknown route, each answered as a Taskcluster service does.
func TestHandleSampleEvents(t *testing.T) {
	h := testHandler(t)
	for _, tt := range []struct {
		event      string
		wantStatus int
		wantBody   string
	}{
		{"api-create-hook.json", 200, `"hookId":"build"`},
		{"api-get-hook.json", 200, `"hookGroupId":"hookline-examples"`},
		{"api-unknown-route.json", 404, `"code":"ResourceNotFound"`},
	} {
		t.Run(tt.event, func(t *testing.T) {
			resp, err := h.handle(context.Background(), sampleEvent(t, tt.event))
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tt.wantStatus || !strings.Contains(resp.Body, tt.wantBody) {
				t.Fatalf("%d %s, want %d with %s", resp.StatusCode, resp.Body, tt.wantStatus, tt.wantBody)
			}
			if ct := resp.Headers["Content-Type"]; !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

// A body over its route's limit is refused as by serve: the limits are
// the router's, whatever carried the request.
func TestRouteBodyLimitOverAPIGateway(t *testing.T) {
	h := testHandler(t)
	for _, tt := range []struct {
		size       int
		wantStatus int
		want       string
	}{
		{512 << 10, 404, `"code":"ResourceNotFound"`}, // read and checked: no such hook
		{512<<10 + 1, 413, "request body is larger than the 512 KB limit of updateHookSettings"},
	} {
		ev := sampleEvent(t, "api-create-hook.json")
		ev.RawPath = "/api/hookline/v1/hooks/g/h/settings"
		ev.RequestContext.HTTP.Method = "PUT"
		ev.RequestContext.HTTP.Path = ev.RawPath
		ev.Body = `{"filters":[` + strings.Repeat(" ", tt.size-len(`{"filters":[]}`)) + `]}`
		ev.IsBase64Encoded = false
		resp, err := h.handle(context.Background(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != tt.wantStatus || !strings.Contains(resp.Body, tt.want) {
			t.Errorf("%d bytes: %d %.300s, want %d with %s", tt.size, resp.StatusCode, resp.Body, tt.wantStatus, tt.want)
		}
	}
}

// The function honours the settings every entry point honours, and
// announces hook changes on HOOKLINE_CHANGES_QUEUE_URL, through the SQS
// endpoint the environment names, when it is set.
func TestBuildHonoursConfig(t *testing.T) {
	srv := sqstest.New(t)
	url := srv.CreateQueue("changes", time.Second)
	quiet := slog.New(slog.DiscardHandler)
	h, err := build(context.Background(), servicetest.Env(map[string]string{"HOOKLINE_CHANGES_QUEUE_URL": url, "AWS_ENDPOINT_URL_SQS": srv.URL}), quiet)
	if err != nil {
		t.Fatal(err)
	}
	servicetest.CheckHooks(t, h.svc.Hooks)
	servicetest.CheckAPI(t, h.svc.Hooks, h.router)

	n := h.svc.Hooks.Options().Notifier
	if n == nil {
		t.Fatal("no change notifier with HOOKLINE_CHANGES_QUEUE_URL set")
	}
	if err := n.HookChanged(context.Background(), hooks.Change{Kind: hooks.HookUpdated, HookGroupID: "g", HookID: "h"}); err != nil {
		t.Fatal(err)
	}
	if bodies := srv.Queue(url).Bodies(); len(bodies) != 1 || string(bodies[0]) != `{"kind":"hook-updated","hookGroupId":"g","hookId":"h"}` {
		t.Fatalf("sent %q", bodies)
	}
	srv.SetFault(func(string, string, []byte) *sqstest.Fault { return &sqstest.Fault{Status: 500} })
	if err := n.HookChanged(context.Background(), hooks.Change{Kind: hooks.HookUpdated, HookGroupID: "g", HookID: "h"}); err == nil {
		t.Fatal("a failed send must be an error (the API answers 500)")
	}

	h, err = build(context.Background(), servicetest.Env(nil), quiet)
	if err != nil {
		t.Fatal(err)
	}
	if n := h.svc.Hooks.Options().Notifier; n != nil {
		t.Fatalf("notifier %T without HOOKLINE_CHANGES_QUEUE_URL", n)
	}
}
