package httpapi

import (
	"slices"
	"testing"

	"github.com/hookline/hookline/shared/config"
)

func TestOptionsFromConfig(t *testing.T) {
	got := OptionsFromConfig(config.Config{Version: "v1", Webhook: config.WebhookConfig{MaxBodyBytes: 2048, Rate: 0.5, Burst: 3}})
	if got.Version != "v1" || got.Webhook != (WebhookOptions{MaxBodyBytes: 2048, Rate: 0.5, Burst: 3}) {
		t.Fatalf("got %+v", got)
	}
	// In config a rate of 0 turns the limit off; in httpapi 0 is the default.
	if got := OptionsFromConfig(config.Config{Webhook: config.WebhookConfig{MaxBodyBytes: 1, Burst: 1}}); got.Webhook.Rate != NoWebhookRateLimit {
		t.Fatalf("rate 0: %+v", got)
	}
}

// The webhook function serves the public routes that fire a hook: the
// token route of the hooks API and the public routes of Hookline's own.
func TestWebhookFunctionRoutes(t *testing.T) {
	want := []string{"triggerHookWithToken"}
	for _, r := range HooklineRoutes() {
		if r.Public {
			want = append(want, r.Name)
		}
	}
	if !slices.Equal(WebhookFunctionRoutes(), want) {
		t.Fatalf("webhook function routes %v, want %v", WebhookFunctionRoutes(), want)
	}
}

// The webhook function's router serves exactly WebhookFunctionRoutes.
func TestNewWebhookRouter_Routes(t *testing.T) {
	e := newTestEnv(t, nil)
	rt, err := NewWebhookRouter(e.router.svc, Options{Authorizer: grantAll{}})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, ro := range rt.routes {
		names = append(names, ro.name)
	}
	if want := WebhookFunctionRoutes(); !slices.Equal(names, want) {
		t.Fatalf("webhook router serves %q, want %q", names, want)
	}
}
