package httpapi

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/store"
)

func TestOutcomeStatusAndNotificationRoutes(t *testing.T) {
	e := newTestEnv(t, nil)
	if r := e.do(t, "PUT", hooksURL+"/g/h", hookBody(nil)); r.status != 200 {
		t.Fatalf("create: %d %s", r.status, r.raw)
	}
	statusURL := HooklineBasePath + "/hooks/g/h/status"
	if r := e.do(t, "GET", statusURL, ""); r.status != 200 || r.body["lastFire"].(map[string]any)["result"] != "no-fire" {
		t.Fatalf("status before a fire: %d %s", r.status, r.raw)
	}
	// Notify settings through the API: checked against their schema and
	// the domain's rules; the secret is never shown.
	settingsURL := HooklineBasePath + "/hooks/g/h/settings"
	bad := `{"notify":{"targets":[{"type":"webhook","url":"https://example.com/n","events":["task-failed"]}]}}`
	if r := e.do(t, "PUT", settingsURL, bad); r.status != 400 || !strings.Contains(r.message(), "needs a secret") {
		t.Fatalf("webhook without a secret: %d %s", r.status, r.raw)
	}
	if r := e.do(t, "PUT", settingsURL, `{"notify":{"targets":[{"type":"pager","events":["task-failed"]}]}}`); r.status != 400 || r.code() != "InputValidationError" {
		t.Fatalf("unknown type: %d %s", r.status, r.raw)
	}
	good := `{"notify":{"targets":[{"type":"email","address":"team@example.com","events":["task-failed","fire-error"]},` +
		`{"type":"webhook","url":"https://example.com/n","secret":"0123456789abcdef0123","events":["task-exception"],"maxPerHour":3}]},"history":{"maxRecords":50}}`
	r := e.do(t, "PUT", settingsURL, good)
	if r.status != 200 || strings.Contains(r.raw, "0123456789abcdef0123") || !strings.Contains(r.raw, `"secretFingerprint":"sha256:`) || !strings.Contains(r.raw, `"maxRecords":50`) {
		t.Fatalf("put settings: %d %s", r.status, r.raw)
	}
	// The GET reply can be sent back as it is.
	got := e.do(t, "GET", settingsURL, "")
	if r := e.do(t, "PUT", settingsURL, got.raw); r.status != 200 {
		t.Fatalf("round trip: %d %s", r.status, r.raw)
	}

	fire := e.do(t, "POST", hooksURL+"/g/h/trigger", `{}`)
	taskID, _ := fire.body["taskId"].(string)
	if fire.status != 200 || taskID == "" {
		t.Fatalf("trigger: %d %s", fire.status, fire.raw)
	}
	ctx := context.Background()
	entries, _, err := e.svc.Firing.ListLastFires(ctx, "g", "h", store.Page{})
	if err != nil || len(entries) != 1 {
		t.Fatalf("fires %+v %v", entries, err)
	}
	ref := hooks.FireRef{HookGroupID: "g", HookID: "h", TaskID: taskID, TaskCreateTime: entries[0].TaskCreateTime}
	resolved := testNow.Add(time.Hour)
	if ok, err := e.svc.Outcomes.Record(ctx, ref, hooks.TaskOutcome{State: "failed", ReasonResolved: "failed", Resolved: resolved, Source: "event"}); !ok || err != nil {
		t.Fatalf("record: %v %v", ok, err)
	}
	r = e.do(t, "GET", statusURL, "")
	var st hooks.HookOutcomeStatus
	mustDecode(t, []byte(r.raw), &st)
	if r.status != 200 || st.LastFire.Task == nil || st.LastFire.Task.State != "failed" || st.LastOutcome == nil || st.LastOutcome.TaskID != taskID {
		t.Fatalf("status: %d %s", r.status, r.raw)
	}
	// listLastFires keeps upstream's schema, with the recorded state.
	if r := e.do(t, "GET", hooksURL+"/g/h/last-fires", ""); r.status != 200 || !strings.Contains(r.raw, `"taskState":"failed"`) {
		t.Fatalf("last fires: %d %s", r.status, r.raw)
	}
	// The decision shows the outcome.
	ds := e.do(t, "GET", HooklineBasePath+"/hooks/g/h/decisions", "")
	if ds.status != 200 || !strings.Contains(ds.raw, `"task":{"state":"failed"`) {
		t.Fatalf("decisions: %d %s", ds.status, ds.raw)
	}
	// The email target could not be sent in this process: pending, listed.
	ns := e.do(t, "GET", HooklineBasePath+"/hooks/g/h/notifications", "")
	var page hooks.NotificationPage
	mustDecode(t, []byte(ns.raw), &page)
	if ns.status != 200 || len(page.Notifications) != 1 || page.Notifications[0].Status != "pending" || page.Notifications[0].Event.Kind != hooks.EventTaskFailed {
		t.Fatalf("notifications: %d %s", ns.status, ns.raw)
	}
	if r := e.do(t, "GET", HooklineBasePath+"/hooks/g/h/notifications?limit=0", ""); r.status != 400 {
		t.Fatalf("limit 0: %d", r.status)
	}
	if r := e.do(t, "GET", HooklineBasePath+"/hooks/g/nope/notifications", ""); r.status != 404 {
		t.Fatalf("missing hook: %d", r.status)
	}
}
