package config

import (
	"fmt"
	"strings"
	"time"
)

// OutcomesConfig configures how Hookline follows the tasks it creates,
// how it notifies hooks' owners, and how much history it keeps.
type OutcomesConfig struct {
	// HistoryMax caps each hook's fire records and its decisions
	// (HOOKLINE_HISTORY_MAX_PER_HOOK, default 10000); a hook's settings
	// may ask for fewer.
	HistoryMax int
	// PollInterval is how long after a fire, and how often after, the
	// status of a task whose outcome is not known yet is read
	// (HOOKLINE_OUTCOME_POLL_INTERVAL, a Go duration, default 1m; 0
	// follows no outcome). With the bridge listening to task events, a
	// longer interval (such as 15m) only catches what events missed.
	PollInterval time.Duration
	// PollMax bounds the status reads of one poll
	// (HOOKLINE_OUTCOME_POLL_MAX, default 500).
	PollMax int
	// TaskEvents is the prefix of the queue's exchanges whose
	// task-completed, task-failed and task-exception messages the bridge
	// matches against hooks' tasks (HOOKLINE_TASK_EVENTS, default
	// exchange/taskcluster-queue/v1/; "off" listens to none).
	TaskEvents string
	// NotifyAllowPrivate lets webhook notifications reach loopback,
	// private and link-local addresses (HOOKLINE_NOTIFY_ALLOW_PRIVATE,
	// default false: a hook owner cannot aim Hookline at its own
	// network).
	NotifyAllowPrivate bool
}

// DefaultTaskEvents is where Taskcluster's queue publishes task messages.
const DefaultTaskEvents = "exchange/taskcluster-queue/v1/"

func loadOutcomes(get func(name, def string) string) (OutcomesConfig, error) {
	var o OutcomesConfig
	var err error
	if o.HistoryMax, err = intVar(get, "HOOKLINE_HISTORY_MAX_PER_HOOK", 10_000, 1, 1_000_000); err != nil {
		return o, err
	}
	if o.PollMax, err = intVar(get, "HOOKLINE_OUTCOME_POLL_MAX", 500, 1, 100_000); err != nil {
		return o, err
	}
	interval := get("HOOKLINE_OUTCOME_POLL_INTERVAL", "1m")
	if o.PollInterval, err = time.ParseDuration(interval); err != nil || (o.PollInterval != 0 && o.PollInterval < 10*time.Second) || o.PollInterval > 24*time.Hour {
		return o, fmt.Errorf("config: HOOKLINE_OUTCOME_POLL_INTERVAL %q must be a duration from 10s to 24h, such as 1m, or 0 to follow no task outcome", interval)
	}
	switch o.TaskEvents = get("HOOKLINE_TASK_EVENTS", DefaultTaskEvents); {
	case o.TaskEvents == "off":
		o.TaskEvents = ""
	case !strings.HasPrefix(o.TaskEvents, "exchange/") || !strings.HasSuffix(o.TaskEvents, "/") || strings.ContainsAny(o.TaskEvents, "*# "):
		return o, fmt.Errorf("config: HOOKLINE_TASK_EVENTS %q must be the queue's exchange prefix, such as %s, or off", o.TaskEvents, DefaultTaskEvents)
	}
	if o.NotifyAllowPrivate, err = boolVar(get, "HOOKLINE_NOTIFY_ALLOW_PRIVATE"); err != nil {
		return o, err
	}
	return o, nil
}
