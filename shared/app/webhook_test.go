package app

import (
	"slices"
	"testing"

	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/httpapi"
)

func TestWebhookOptions(t *testing.T) {
	got := WebhookOptions(config.WebhookConfig{MaxBodyBytes: 2048, Rate: 0.5, Burst: 3})
	if got != (httpapi.WebhookOptions{MaxBodyBytes: 2048, Rate: 0.5, Burst: 3}) {
		t.Fatalf("got %+v", got)
	}
	// In config a rate of 0 turns the limit off; in httpapi 0 is the default.
	if got := WebhookOptions(config.WebhookConfig{MaxBodyBytes: 1, Burst: 1}); got.Rate != httpapi.NoWebhookRateLimit {
		t.Fatalf("rate 0: %+v", got)
	}
}

// The webhook function serves the signed webhook route, which must exist.
func TestHooklineWebhookRoutes(t *testing.T) {
	var public []string
	for _, r := range httpapi.HooklineRoutes() {
		if r.Public {
			public = append(public, r.Name)
		}
	}
	if !slices.Equal(HooklineWebhookRoutes(), public) {
		t.Fatalf("webhook function routes %v, public hookline routes %v", HooklineWebhookRoutes(), public)
	}
}
