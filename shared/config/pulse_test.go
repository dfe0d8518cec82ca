package config

import (
	"strings"
	"testing"
	"time"
)

func TestLoadPulseDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := PulseConfig{Namespace: "taskcluster-hooks", QueueMaxLength: 10000, Prefetch: 100, ReconcileInterval: 5 * time.Minute, BridgeAddr: "127.0.0.1:9090"}
	if c.Pulse != want {
		t.Fatalf("pulse defaults %+v, want %+v", c.Pulse, want)
	}
}

func TestLoadPulseValues(t *testing.T) {
	c, err := Load(env(map[string]string{
		"HOOKLINE_PULSE_URL":                "amqps://user:secret@pulse.example.com:5671/vhost",
		"HOOKLINE_PULSE_NAMESPACE":          "my-hooks",
		"HOOKLINE_PULSE_QUEUE_MAX_LENGTH":   "50",
		"HOOKLINE_PULSE_PREFETCH":           "5",
		"HOOKLINE_PULSE_RECONCILE_INTERVAL": "30s",
		"HOOKLINE_BRIDGE_ADDR":              "0.0.0.0:9100",
		"HOOKLINE_TRIGGER_QUEUE_URL":        "https://sqs.us-east-1.amazonaws.com/1/t",
		"HOOKLINE_CHANGES_QUEUE_URL":        "https://sqs.us-east-1.amazonaws.com/1/c",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := PulseConfig{
		URL: "amqps://user:secret@pulse.example.com:5671/vhost", Namespace: "my-hooks", QueueMaxLength: 50, Prefetch: 5,
		ReconcileInterval: 30 * time.Second, BridgeAddr: "0.0.0.0:9100",
		TriggerQueueURL: "https://sqs.us-east-1.amazonaws.com/1/t", ChangesQueueURL: "https://sqs.us-east-1.amazonaws.com/1/c",
	}
	if c.Pulse != want {
		t.Fatalf("got %+v, want %+v", c.Pulse, want)
	}
}

func TestLoadPulseErrors(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HOOKLINE_PULSE_URL": "http://pulse.example.com"}, "HOOKLINE_PULSE_URL"},
		{map[string]string{"HOOKLINE_PULSE_URL": "amqp://"}, "HOOKLINE_PULSE_URL"},
		{map[string]string{"HOOKLINE_PULSE_NAMESPACE": "a/b"}, "HOOKLINE_PULSE_NAMESPACE"},
		{map[string]string{"HOOKLINE_PULSE_NAMESPACE": "a.#"}, "HOOKLINE_PULSE_NAMESPACE"},
		{map[string]string{"HOOKLINE_PULSE_QUEUE_MAX_LENGTH": "0"}, "HOOKLINE_PULSE_QUEUE_MAX_LENGTH"},
		{map[string]string{"HOOKLINE_PULSE_QUEUE_MAX_LENGTH": "lots"}, "HOOKLINE_PULSE_QUEUE_MAX_LENGTH"},
		{map[string]string{"HOOKLINE_PULSE_PREFETCH": "70000"}, "HOOKLINE_PULSE_PREFETCH"},
		{map[string]string{"HOOKLINE_PULSE_RECONCILE_INTERVAL": "10ms"}, "HOOKLINE_PULSE_RECONCILE_INTERVAL"},
		{map[string]string{"HOOKLINE_BRIDGE_ADDR": "9090"}, "HOOKLINE_BRIDGE_ADDR"},
		{map[string]string{"HOOKLINE_TRIGGER_QUEUE_URL": "hookline-trigger"}, "HOOKLINE_TRIGGER_QUEUE_URL"},
		{map[string]string{"HOOKLINE_CHANGES_QUEUE_URL": "ftp://x/y"}, "HOOKLINE_CHANGES_QUEUE_URL"},
	} {
		_, err := Load(env(tt.env))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%v) = %v, want an error naming %s", tt.env, err, tt.want)
		}
	}
	// The URL carries credentials: an error never repeats it.
	_, err := Load(env(map[string]string{"HOOKLINE_PULSE_URL": "http://user:hunter2@pulse"}))
	if err == nil || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("error %v leaks the URL", err)
	}
}
