package config

import (
	"strings"
	"testing"
	"time"
)

func TestOutcomesConfig(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	want := OutcomesConfig{HistoryMax: 10_000, PollInterval: time.Minute, PollMax: 500, TaskEvents: DefaultTaskEvents}
	if c.Outcomes != want {
		t.Fatalf("defaults %+v", c.Outcomes)
	}
	c, err = Load(env(map[string]string{"HOOKLINE_HISTORY_MAX_PER_HOOK": "500", "HOOKLINE_OUTCOME_POLL_INTERVAL": "15m",
		"HOOKLINE_OUTCOME_POLL_MAX": "20", "HOOKLINE_TASK_EVENTS": "off", "HOOKLINE_NOTIFY_ALLOW_PRIVATE": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	if want := (OutcomesConfig{HistoryMax: 500, PollInterval: 15 * time.Minute, PollMax: 20, NotifyAllowPrivate: true}); c.Outcomes != want {
		t.Fatalf("set %+v", c.Outcomes)
	}
	if c, _ := Load(env(map[string]string{"HOOKLINE_OUTCOME_POLL_INTERVAL": "0"})); c.Outcomes.PollInterval != 0 {
		t.Fatalf("0: %v", c.Outcomes.PollInterval)
	}
	for name, value := range map[string]string{
		"HOOKLINE_HISTORY_MAX_PER_HOOK":  "0",
		"HOOKLINE_OUTCOME_POLL_INTERVAL": "5s",
		"HOOKLINE_OUTCOME_POLL_MAX":      "lots",
		"HOOKLINE_TASK_EVENTS":           "exchange/taskcluster-queue/v1/task-#",
		"HOOKLINE_NOTIFY_ALLOW_PRIVATE":  "yes",
	} {
		if _, err := Load(env(map[string]string{name: value})); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s=%s: %v", name, value, err)
		}
	}
}
