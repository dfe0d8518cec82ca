// Package servicetest is the check every entry point's test makes (the
// four functions, `hookline serve`, the bridge): each entry point is built
// by its own wiring from the same environment, Env, and must honour the
// settings that matter in the same way. An entry point that builds the
// domain by hand and drops a setting fails the check, as the bridge once
// dropped HOOKLINE_DECISION_RETENTION.
package servicetest

import (
	"slices"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/httpapi"
)

// The settings Env sets, each different from its default so that an entry
// point that drops one shows.
const (
	rootURL  = "https://tc.servicetest.example"
	denied   = "exchange/servicetest/.*"
	maxBody  = 2048
	rate     = 0.5
	burst    = 3
	clockLag = time.Minute
	// corsOrigin is a site whose pages may use the anonymous scopes.
	corsOrigin = "https://console.servicetest.example"
	// historyMax and pollInterval: the outcomes settings (issue 18).
	historyMax   = 1234
	pollInterval = 7 * time.Minute
)

// Env returns the environment entry-point tests build from: the decision
// log off (HOOKLINE_DECISION_RETENTION=0), a denylist of its own, webhook
// limits, a Taskcluster deployment and AWS credentials for the functions.
// extra adds variables or replaces these (the store, the Pulse URL).
func Env(extra map[string]string) func(string) string {
	env := map[string]string{
		"HOOKLINE_DECISION_RETENTION":    "0",
		"HOOKLINE_EXCHANGE_DENYLIST":     `["` + denied + `"]`,
		"HOOKLINE_WEBHOOK_MAX_BODY":      "2KB",
		"HOOKLINE_WEBHOOK_RATE":          "0.5/s",
		"HOOKLINE_WEBHOOK_BURST":         "3",
		"HOOKLINE_CORS_ORIGINS":          corsOrigin,
		"HOOKLINE_HISTORY_MAX_PER_HOOK":  "1234",
		"HOOKLINE_OUTCOME_POLL_INTERVAL": "7m",
		"HOOKLINE_STORE":                 "dynamodb:servicetest",
		"TASKCLUSTER_ROOT_URL":           rootURL,
		"TASKCLUSTER_CLIENT_ID":          "servicetest",
		"TASKCLUSTER_ACCESS_TOKEN":       "servicetest-token",
		"AWS_REGION":                     "us-east-1",
		"AWS_ACCESS_KEY_ID":              "AKIDSERVICETEST",
		"AWS_SECRET_ACCESS_KEY":          "servicetest-secret",
	}
	for k, v := range extra {
		env[k] = v
	}
	return func(k string) string { return env[k] }
}

// CheckHooks fails t unless svc was built with Env's settings: the
// decision log off, Env's denylist, the wall clock and the queue's scope
// rules.
func CheckHooks(t testing.TB, svc *hooks.Service) {
	t.Helper()
	o := svc.Options()
	if o.DecisionRetention >= 0 {
		t.Errorf("decision retention %v: HOOKLINE_DECISION_RETENTION=0 turns the decision log off", o.DecisionRetention)
	}
	if !slices.Equal(o.Denylist, []string{denied}) {
		t.Errorf("denylist %q, want HOOKLINE_EXCHANGE_DENYLIST's %q", o.Denylist, denied)
	}
	if d := time.Since(o.Now()); d < -clockLag || d > clockLag {
		t.Errorf("the clock is %v off the wall clock", d)
	}
	if o.ScopeRules == nil {
		t.Error("no scope rules for pre-checks")
	}
	if o.HistoryMax != historyMax {
		t.Errorf("history cap %d, want HOOKLINE_HISTORY_MAX_PER_HOOK's %d", o.HistoryMax, historyMax)
	}
	if o.OutcomePollInterval != pollInterval {
		t.Errorf("outcome poll interval %v, want HOOKLINE_OUTCOME_POLL_INTERVAL's %v", o.OutcomePollInterval, pollInterval)
	}
	if !o.Notify.Deployment {
		t.Error("notifications: no Taskcluster deployment, but TASKCLUSTER_ROOT_URL is set")
	}
	// Only the processes that run the delivery loop send.
	if senders := o.Notify.Taskcluster != nil && o.Notify.Webhooks != nil; senders != o.Notify.Deliverer {
		t.Errorf("notification senders: Taskcluster %v, webhooks %v, in a process that delivers: %v", o.Notify.Taskcluster, o.Notify.Webhooks, o.Notify.Deliverer)
	}
}

// CheckAPI fails t unless an entry point that serves the HTTP API applies
// Env's webhook limits and CORS origins (rt) and pre-checks against the
// roles of Env's Taskcluster deployment (svc).
func CheckAPI(t testing.TB, svc *hooks.Service, rt *httpapi.Router) {
	t.Helper()
	if roles := svc.Options().Roles; roles == nil {
		t.Error("no roles for pre-checks")
	} else if _, ok := roles.(*auth.Remote); !ok {
		t.Errorf("pre-check roles %T, want the auth service of TASKCLUSTER_ROOT_URL (*auth.Remote)", roles)
	}
	want := httpapi.WebhookOptions{MaxBodyBytes: maxBody, Rate: rate, Burst: burst}
	if got := rt.WebhookLimits(); got != want {
		t.Errorf("webhook limits %+v, want %+v", got, want)
	}
	if got := rt.AllowedOrigins(); !slices.Equal(got, []string{corsOrigin}) {
		t.Errorf("allowed origins %q, want HOOKLINE_CORS_ORIGINS' %q", got, corsOrigin)
	}
}
