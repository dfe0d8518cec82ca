package config

import (
	"strings"
	"testing"
)

func TestWebhookConfig(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Webhook != (WebhookConfig{MaxBodyBytes: 1 << 20, Rate: 10, Burst: 20}) {
		t.Fatalf("defaults: %+v", c.Webhook)
	}
	for _, tt := range []struct {
		maxBody, rate, burst string
		want                 WebhookConfig
	}{
		{"2048", "5", "1", WebhookConfig{MaxBodyBytes: 2048, Rate: 5, Burst: 1}},
		{"512KB", "10/s", "20", WebhookConfig{MaxBodyBytes: 512 << 10, Rate: 10, Burst: 20}},
		{"10 mb", "300/m", "5", WebhookConfig{MaxBodyBytes: 10 << 20, Rate: 5, Burst: 5}},
		{"100B", "3600/h", "7", WebhookConfig{MaxBodyBytes: 100, Rate: 1, Burst: 7}},
		{"1MB", "0", "20", WebhookConfig{MaxBodyBytes: 1 << 20, Rate: 0, Burst: 20}},
		{"1MB", "0.5", "2", WebhookConfig{MaxBodyBytes: 1 << 20, Rate: 0.5, Burst: 2}},
	} {
		c, err := Load(env(map[string]string{"HOOKLINE_WEBHOOK_MAX_BODY": tt.maxBody, "HOOKLINE_WEBHOOK_RATE": tt.rate, "HOOKLINE_WEBHOOK_BURST": tt.burst}))
		if err != nil || c.Webhook != tt.want {
			t.Errorf("%s %s %s: got %+v %v, want %+v", tt.maxBody, tt.rate, tt.burst, c.Webhook, err, tt.want)
		}
	}
	for _, tt := range []struct{ name, value string }{
		{"HOOKLINE_WEBHOOK_MAX_BODY", "0"},
		{"HOOKLINE_WEBHOOK_MAX_BODY", "11MB"},
		{"HOOKLINE_WEBHOOK_MAX_BODY", "1GB"},
		{"HOOKLINE_WEBHOOK_MAX_BODY", "-5"},
		{"HOOKLINE_WEBHOOK_MAX_BODY", "lots"},
		{"HOOKLINE_WEBHOOK_RATE", "-1"},
		{"HOOKLINE_WEBHOOK_RATE", "10/d"},
		{"HOOKLINE_WEBHOOK_RATE", "fast"},
		{"HOOKLINE_WEBHOOK_RATE", "NaN"},
		{"HOOKLINE_WEBHOOK_BURST", "0"},
		{"HOOKLINE_WEBHOOK_BURST", "2.5"},
	} {
		_, err := Load(env(map[string]string{tt.name: tt.value}))
		if err == nil || !strings.Contains(err.Error(), tt.name) {
			t.Errorf("%s=%s: got %v, want an error naming the variable", tt.name, tt.value, err)
		}
	}
}
