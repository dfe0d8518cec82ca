package httpapi

import (
	"strings"
	"testing"

	"github.com/hookline/hookline/shared/auth"
)

// scheduledHook is an hourly hook (6-field upstream schedule).
func scheduledHook() string {
	return hookBody(func(h map[string]any) { h["schedule"] = []any{"0 0 * * * *"} })
}

func TestScheduleSettingsRoutes(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustCreate(t, "/foo/bar", scheduledHook())
	body := `{"schedule":{"timeZone":"Australia/Lord_Howe","cron":["30 9 * * 1-5"],"exclude":["2026-03-05",{"from":"2026-03-06T00:00","to":"2026-03-07"}],"catchUp":"latest","jitter":"5m"}}`
	put := e.putSettings(t, "/foo/bar", body)
	if got := e.do(t, "GET", settingsURL+"/foo/bar/settings", ""); got.raw != put.raw || got.raw != body {
		t.Fatalf("settings:\n put %s\n get %s\nwant %s", put.raw, got.raw, body)
	}
	for _, tt := range []struct {
		name, body string
		code, want string
	}{
		{"six fields in cron", `{"schedule":{"cron":["0 30 9 * * *"]}}`, CodeInputError, "schedule.cron[0]: expected the standard 5 fields"},
		{"L in cron", `{"schedule":{"cron":["0 0 L * *"]}}`, CodeInputError, `"L" is not standard cron`},
		{"unknown zone", `{"schedule":{"timeZone":"Europe/Atlantis"}}`, CodeInputError, "is not an IANA time zone name"},
		{"jitter over an hour", `{"schedule":{"jitter":"90m"}}`, CodeInputError, "schedule.jitter"},
		{"unknown policy", `{"schedule":{"catchUp":"first"}}`, CodeInputValidationError, "catchUp"},
		{"at without offset", `{"schedule":{"at":["2026-03-05T10:00:00"]}}`, CodeInputValidationError, "at"},
		{"past at", `{"schedule":{"at":["2026-03-04T08:00:00Z"]}}`, CodeInputError, "is in the past"},
		{"exclusion that is neither", `{"schedule":{"exclude":[7]}}`, CodeInputValidationError, "exclude"},
		{"unknown field", `{"schedule":{"timezone":"UTC"}}`, CodeInputValidationError, "timezone"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, "PUT", settingsURL+"/foo/bar/settings", tt.body)
			if r.status != 400 || r.code() != tt.code || !strings.Contains(r.message(), tt.want) {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
		})
	}
	if got := e.do(t, "GET", settingsURL+"/foo/bar/settings", ""); got.raw != body {
		t.Fatalf("refused puts changed the settings: %s", got.raw)
	}
}

func TestScheduleListingRoute(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustCreate(t, "/foo/bar", scheduledHook())
	e.putSettings(t, "/foo/bar", `{"schedule":{"timeZone":"Asia/Kolkata","exclude":["2026-03-05"]}}`)
	r := e.do(t, "GET", settingsURL+"/foo/bar/schedule?from=2026-03-04T17:00:00Z&count=2", "")
	if r.status != 200 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	fires := r.body["fires"].([]any)
	first := fires[0].(map[string]any)
	if len(fires) != 2 || first["slotLocal"] != "2026-03-04T23:00:00+05:30" || first["slot"] != "2026-03-04T17:30:00Z" || first["source"] != "schedule" ||
		fires[1].(map[string]any)["slotLocal"] != "2026-03-06T00:00:00+05:30" {
		t.Fatalf("fires %v", fires)
	}
	// Since midnight in Kolkata, 2026-03-05 is excluded: its slots are skipped.
	skipped := r.body["skipped"].([]any)
	if s := skipped[0].(map[string]any); len(skipped) != 10 || r.body["skippedTruncated"] != true ||
		s["reason"] != "exclusion" || s["exclusion"] != "2026-03-05" || s["slotLocal"] != "2026-03-05T00:00:00+05:30" {
		t.Fatalf("skipped %v", skipped)
	}
	if r := e.do(t, "GET", settingsURL+"/foo/bar/schedule", ""); r.status != 200 || len(r.body["fires"].([]any)) != 10 {
		t.Fatalf("defaults: %d %s", r.status, r.raw)
	}
	for _, tt := range []struct{ query, want string }{
		{"?count=1001", "'count' given as '1001' must be a whole number from 1 to 1000"},
		{"?count=0", "'count'"},
		{"?from=yesterday", "'from' given as 'yesterday' must be an RFC 3339 time"},
		{"?until=2027-01-01T00:00:00Z", "'until' is not supported"},
	} {
		if r := e.do(t, "GET", settingsURL+"/foo/bar/schedule"+tt.query, ""); r.status != 400 || r.code() != CodeInvalidRequestArguments || !strings.Contains(r.message(), tt.want) {
			t.Errorf("%s: %d %s", tt.query, r.status, r.raw)
		}
	}
	if r := e.do(t, "GET", settingsURL+"/foo/nope/schedule", ""); r.status != 404 {
		t.Fatalf("missing hook: %d", r.status)
	}
}

func TestBackfillRoute(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustCreate(t, "/foo/bar", scheduledHook())
	req := `{"from":"2026-03-04T06:00:00Z","to":"2026-03-04T09:00:00Z"}`
	r := e.do(t, "POST", settingsURL+"/foo/bar/backfill", req)
	if r.status != 200 || len(r.body["slots"].([]any)) != 3 {
		t.Fatalf("%d %s", r.status, r.raw)
	}
	first := r.body["slots"].([]any)[0].(map[string]any)
	if first["outcome"] != "created" || first["slot"] != "2026-03-04T06:00:00Z" || first["taskId"] == "" {
		t.Fatalf("first slot %v", first)
	}
	again := e.do(t, "POST", settingsURL+"/foo/bar/backfill", req)
	if e.queue.count() != 3 || again.body["slots"].([]any)[2].(map[string]any)["taskId"] != r.body["slots"].([]any)[2].(map[string]any)["taskId"] {
		t.Fatalf("repeat created more: %d tasks\n%s\n%s", e.queue.count(), r.raw, again.raw)
	}
	if r := e.do(t, "POST", settingsURL+"/foo/bar/backfill", `{"from":"2026-03-04T00:00:00Z","to":"2026-03-04T09:00:00Z","max":2}`); r.body["continueFrom"] != "2026-03-04T02:00:00Z" {
		t.Fatalf("continuation: %s", r.raw)
	}
	for _, tt := range []struct{ body, code, want string }{
		{`{"from":"2026-03-04T09:00:00Z","to":"2026-03-04T06:00:00Z"}`, CodeInputError, "must be before to"},
		{`{"from":"2026-03-04T06:00:00Z"}`, CodeInputValidationError, "to"},
		{`{"from":"2026-03-04T06:00:00Z","to":"2026-03-04T09:00:00Z","max":5000}`, CodeInputValidationError, "max"},
	} {
		if r := e.do(t, "POST", settingsURL+"/foo/bar/backfill", tt.body); r.status != 400 || r.code() != tt.code || !strings.Contains(r.message(), tt.want) {
			t.Errorf("%s: %d %s", tt.body, r.status, r.raw)
		}
	}
}

// Listing a schedule takes the hook's read scope; a backfill fires it, so
// it takes triggerHook's.
func TestScheduleScopes(t *testing.T) {
	for _, tt := range []struct {
		name, method, path, body string
		scopes                   []string
	}{
		{"listing", "GET", "/foo/bar/schedule", "", []string{"hooks:get:foo:bar"}},
		{"backfill", "POST", "/foo/bar/backfill", `{"from":"2026-03-04T06:00:00Z","to":"2026-03-04T07:00:00Z"}`, []string{"hooks:trigger-hook:foo/bar"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newAuthEnv(t,
				auth.Client{ClientID: "allowed", AccessToken: testToken, Scopes: tt.scopes},
				auth.Client{ClientID: "denied", AccessToken: testToken, Scopes: []string{"hooks:get:foo:other", "hooks:trigger-hook:foo/other", "hooks:modify-hook:foo/bar"}},
			)
			if r := signedDo(t, e, "admin", "PUT", hooksURL+"/foo/bar", scheduledHook()); r.status != 200 {
				t.Fatalf("setup: %d %s", r.status, r.raw)
			}
			if r := signedDo(t, e, "allowed", tt.method, settingsURL+tt.path, tt.body); r.status != 200 {
				t.Fatalf("allowed client: %d %s", r.status, r.raw)
			}
			for _, who := range []string{"denied", ""} {
				if r := signedDo(t, e, who, tt.method, settingsURL+tt.path, tt.body); r.status != 403 || r.code() != CodeInsufficientScopes {
					t.Fatalf("client %q: %d %s", who, r.status, r.raw)
				}
			}
		})
	}
}
