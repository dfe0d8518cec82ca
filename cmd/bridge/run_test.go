package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/service/servicetest"
	"github.com/hookline/hookline/shared/store"
)

func TestRunNeedsConfig(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "HOOKLINE_PULSE_URL"},
		{map[string]string{"HOOKLINE_PULSE_URL": "amqp://localhost"}, "HOOKLINE_TRIGGER_QUEUE_URL"},
		{map[string]string{"HOOKLINE_PULSE_URL": "http://localhost"}, "HOOKLINE_PULSE_URL"},
		{map[string]string{"HOOKLINE_PULSE_URL": "amqp://localhost", "HOOKLINE_TRIGGER_QUEUE_URL": "https://sqs.example.com/1/t", "HOOKLINE_BRIDGE_ADDR": "nope"}, "HOOKLINE_BRIDGE_ADDR"},
	} {
		err := run(context.Background(), func(k string) string { return tt.env[k] }, io.Discard)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("run(%v) = %v, want an error naming %s", tt.env, err, tt.want)
		}
	}
}

// The bridge honours the settings every entry point honours. It once built
// the domain by hand and kept writing decisions with
// HOOKLINE_DECISION_RETENTION=0: a message it cannot forward must leave a
// fire record and no decision.
func TestBuildHonoursConfig(t *testing.T) {
	for k, v := range map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
	} {
		t.Setenv(k, v)
	}
	cfg, err := config.Load(servicetest.Env(map[string]string{
		"HOOKLINE_STORE":             "embedded:" + filepath.Join(t.TempDir(), "h.db"),
		"HOOKLINE_PULSE_URL":         "amqp://localhost",
		"HOOKLINE_TRIGGER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/trigger",
	}))
	if err != nil {
		t.Fatal(err)
	}
	_, svc, err := build(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	servicetest.CheckHooks(t, svc.Hooks)

	ctx := context.Background()
	bindings := []hooks.Binding{{Exchange: "exchange/e", RoutingKeyPattern: "#"}}
	if _, err := svc.Hooks.Definitions.CreateHook(ctx, "g", "h", hooks.Input{Bindings: &bindings, Metadata: hooks.Metadata{Name: "n", Description: "d", Owner: "o@example.com"}, Task: json.RawMessage(`{}`), Schedule: []string{}, TriggerSchema: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	msg := hooks.PulseMessage{HookGroupID: "g", HookID: "h", Exchange: "exchange/e", RoutingKey: "k", Payload: json.RawMessage(`{}`)}
	if err := svc.Hooks.Intake.RecordPulseFailure(ctx, msg, "too large for the trigger queue"); err != nil {
		t.Fatal(err)
	}
	fires, _, err := svc.Store.ListLastFires(ctx, "g", "h", store.Page{})
	if err != nil || len(fires) != 1 {
		t.Fatalf("fire records %+v %v, want 1", fires, err)
	}
	decisions, _, err := svc.Store.ListDecisions(ctx, "g", "h", store.Page{})
	if err != nil || len(decisions) != 0 {
		t.Fatalf("decisions %+v %v, want none: the decision log is off", decisions, err)
	}
}
