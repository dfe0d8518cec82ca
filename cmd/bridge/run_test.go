package main

import (
	"context"
	"io"
	"strings"
	"testing"
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
