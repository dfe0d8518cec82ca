package httpapi

import (
	"slices"
	"strings"
	"testing"

	"github.com/hookline/hookline/shared/auth"
)

func TestPauseRoutes(t *testing.T) {
	for _, tt := range []struct {
		name, path string
	}{
		{"hook", HooklineBasePath + "/hooks/g/h/pause"},
		{"hook group", HooklineBasePath + "/hook-groups/g/pause"},
		{"kill switch", HooklineBasePath + "/pause"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newTestEnv(t, nil)
			e.mustCreate(t, "/g/h", contextHook(openSchema))
			if r := e.do(t, "GET", tt.path, ""); r.status != 200 || r.body["paused"] != false {
				t.Fatalf("GET before: %d %s", r.status, r.raw)
			}
			if r := e.do(t, "PUT", tt.path, `{}`); r.status != 400 || r.code() != CodeInputValidationError {
				t.Fatalf("PUT without a reason: %d %s", r.status, r.raw)
			}
			r := e.do(t, "PUT", tt.path, `{"reason":"INC-7: bad deploy"}`)
			if r.status != 200 || r.body["paused"] != true {
				t.Fatalf("PUT: %d %s", r.status, r.raw)
			}
			pause := r.body["pause"].(map[string]any)
			if pause["reason"] != "INC-7: bad deploy" || pause["by"] != "test-client" {
				t.Fatalf("pause %v", pause)
			}

			r = e.do(t, "POST", hooksURL+"/g/h/trigger", `{"a":1}`)
			if r.status != 409 || r.code() != CodeRequestConflict || !strings.Contains(r.message(), "INC-7: bad deploy") || e.queue.count() != 0 {
				t.Fatalf("trigger while paused: %d %s", r.status, r.raw)
			}
			tok := e.do(t, "GET", hooksURL+"/g/h/token", "").body["token"].(string)
			if r := e.do(t, "POST", hooksURL+"/g/h/trigger/"+tok, `{"a":1}`); r.status != 409 {
				t.Fatalf("token trigger while paused: %d %s", r.status, r.raw)
			}
			// A wrong token still learns nothing but 401.
			if r := e.do(t, "POST", hooksURL+"/g/h/trigger/wrong", `{"a":1}`); r.status != 401 {
				t.Fatalf("wrong token while paused: %d %s", r.status, r.raw)
			}

			if r := e.do(t, "DELETE", tt.path, ""); r.status != 200 || r.body["paused"] != false {
				t.Fatalf("DELETE: %d %s", r.status, r.raw)
			}
			if r := e.do(t, "POST", hooksURL+"/g/h/trigger", `{"a":1}`); r.status != 200 {
				t.Fatalf("trigger after resume: %d %s", r.status, r.raw)
			}
		})
	}
}

func TestPauseOfMissingHook(t *testing.T) {
	e := newTestEnv(t, nil)
	for _, method := range []string{"GET", "PUT", "DELETE"} {
		body := ""
		if method == "PUT" {
			body = `{"reason":"x"}`
		}
		if r := e.do(t, method, HooklineBasePath+"/hooks/g/nope/pause", body); r.status != 404 || r.code() != CodeResourceNotFound {
			t.Errorf("%s: %d %s", method, r.status, r.raw)
		}
	}
}

func TestSettingsCarryPauseAndFilters(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustCreate(t, "/g/h", contextHook(openSchema))
	for _, tt := range []struct {
		body, code, want string
	}{
		{`{"filters":["payload."]}`, CodeInputError, "filters[0] is not a JSON-e expression"},
		{`{"filters":[""]}`, CodeInputValidationError, "filters"},
		{`{"paused":{}}`, CodeInputValidationError, "reason"},
		{`{"paused":{"reason":"x","level":"global"}}`, CodeInputValidationError, "level"},
		{`{"paused":{"reason":"x","until":"Monday"}}`, CodeInputValidationError, "until"},
	} {
		if r := e.do(t, "PUT", settingsURL+"/g/h/settings", tt.body); r.status != 400 || r.code() != tt.code || !strings.Contains(r.message(), tt.want) {
			t.Errorf("%s: %d %s", tt.body, r.status, r.raw)
		}
	}
	r := e.putSettings(t, "/g/h", `{"filters":["payload.branch == \"main\""],"paused":{"reason":"until Monday"}}`)
	if r.body["paused"].(map[string]any)["reason"] != "until Monday" || len(r.body["filters"].([]any)) != 1 {
		t.Fatalf("settings %s", r.raw)
	}
	if r := e.do(t, "POST", hooksURL+"/g/h/trigger", `{"branch":"main"}`); r.status != 409 {
		t.Fatalf("paused through settings: %d %s", r.status, r.raw)
	}
	// A PUT without `paused` resumes: the document is replaced.
	e.putSettings(t, "/g/h", `{"filters":["payload.branch == \"main\""]}`)
	if r := e.do(t, "POST", hooksURL+"/g/h/trigger", `{"branch":"dev"}`); r.status != 200 || len(r.body) != 0 {
		t.Fatalf("filtered trigger: %d %s (want {})", r.status, r.raw)
	}
	if r := e.do(t, "POST", hooksURL+"/g/h/trigger", `{"branch":"main"}`); r.status != 200 || r.body["taskId"] == nil {
		t.Fatalf("passing trigger: %d %s", r.status, r.raw)
	}
}

// A GET reply, edited or not, can be PUT back: its read-only parts are
// ignored, so the pause keeps its time and setter and the secrets stay.
func TestSettingsGetReplyPutsBack(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustCreate(t, "/g/h", contextHook(openSchema))
	e.putSettings(t, "/g/h", `{"webhook":{"scheme":"github","secrets":["0123456789abcdef"]},"paused":{"reason":"INC-9"},"filters":["true"]}`)
	before := e.do(t, "GET", settingsURL+"/g/h/settings", "")
	if before.status != 200 {
		t.Fatalf("GET: %d %s", before.status, before.raw)
	}
	after := e.do(t, "PUT", settingsURL+"/g/h/settings", before.raw)
	if after.status != 200 || string(after.raw) != before.raw {
		t.Fatalf("PUT of the GET reply: %d\n got %s\nwant %s", after.status, after.raw, before.raw)
	}
	// A forged since or by is not taken.
	after = e.do(t, "PUT", settingsURL+"/g/h/settings", `{"paused":{"reason":"INC-9","since":"2001-01-01T00:00:00Z","by":"someone-else"}}`)
	if p := after.body["paused"].(map[string]any); p["since"] != before.body["paused"].(map[string]any)["since"] || p["by"] != "test-client" {
		t.Fatalf("pause %v, want since and by of %s", p, before.raw)
	}
}

func TestDecisionRoutes(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustCreate(t, "/g/h", contextHook(map[string]any{"type": "object", "required": []any{"n"}}))
	e.do(t, "POST", hooksURL+"/g/h/trigger", `{"x":1}`) // rejected
	e.clock.Advance(1)
	first := e.do(t, "POST", hooksURL+"/g/h/trigger", `{"n":1}`)
	if first.status != 200 {
		t.Fatalf("trigger: %d %s", first.status, first.raw)
	}

	r := e.do(t, "GET", settingsURL+"/g/h/decisions", "")
	if r.status != 200 {
		t.Fatalf("list: %d %s", r.status, r.raw)
	}
	ds := r.body["decisions"].([]any)
	if len(ds) != 2 {
		t.Fatalf("decisions %s", r.raw)
	}
	newest, oldest := ds[0].(map[string]any), ds[1].(map[string]any)
	if newest["outcome"] != "created" || newest["taskId"] != first.body["taskId"] || oldest["outcome"] != "rejected" || !strings.Contains(oldest["error"].(string), "n") {
		t.Fatalf("decisions %s", r.raw)
	}

	page := e.do(t, "GET", settingsURL+"/g/h/decisions?limit=1", "")
	if len(page.body["decisions"].([]any)) != 1 || page.body["continuationToken"] == nil {
		t.Fatalf("page: %s", page.raw)
	}
	next := e.do(t, "GET", settingsURL+"/g/h/decisions?limit=1&continuationToken="+page.body["continuationToken"].(string), "")
	if got := next.body["decisions"].([]any)[0].(map[string]any)["outcome"]; got != "rejected" || next.body["continuationToken"] != nil {
		t.Fatalf("second page: %s", next.raw)
	}
	for _, bad := range []string{"?limit=0", "?limit=x", "?continuationToken=nope", "?other=1"} {
		if r := e.do(t, "GET", settingsURL+"/g/h/decisions"+bad, ""); r.status != 400 {
			t.Errorf("%s: %d %s", bad, r.status, r.raw)
		}
	}

	id := newest["decisionId"].(string)
	if r := e.do(t, "GET", settingsURL+"/g/h/decisions/"+id, ""); r.status != 200 || r.body["decisionId"] != id {
		t.Fatalf("get: %d %s", r.status, r.raw)
	}
	for path, want := range map[string]int{
		"/g/h/decisions/20200101T000000.000000000Z-00000000": 404,
		"/g/h/decisions/bad%20id":                            400,
		"/g/nope/decisions":                                  404,
	} {
		if r := e.do(t, "GET", settingsURL+path, ""); r.status != want {
			t.Errorf("%s: %d %s, want %d", path, r.status, r.raw, want)
		}
	}

	replay := e.do(t, "POST", settingsURL+"/g/h/decisions/"+id+"/replay", "")
	if replay.status != 200 || replay.body["outcome"] != "created" || replay.body["replayOf"] != id || replay.body["taskId"] == first.body["taskId"] {
		t.Fatalf("replay: %d %s", replay.status, replay.raw)
	}
	if e.queue.count() != 2 {
		t.Fatalf("%d tasks after the replay, want 2", e.queue.count())
	}
	// The rejected payload is still rejected.
	rej := oldest["decisionId"].(string)
	if r := e.do(t, "POST", settingsURL+"/g/h/decisions/"+rej+"/replay", ""); r.status != 400 || r.code() != CodeInputError {
		t.Fatalf("replay of a rejected payload: %d %s", r.status, r.raw)
	}
	// listLastFires stays upstream's: only the created tasks.
	if r := e.do(t, "GET", hooksURL+"/g/h/last-fires", ""); len(r.body["lastFires"].([]any)) != 2 {
		t.Fatalf("last fires %s", r.raw)
	}
}

// Every operate route is refused without its scopes and accepted with them;
// pauses also accept the narrower hookline:pause scope an on-call role can
// hold without the right to edit hooks.
func TestOperateRouteScopes(t *testing.T) {
	hook := hookBody(nil)
	unknownDecision := HooklineBasePath + "/hooks/foo/bar/decisions/20200101T000000.000000000Z-00000000"
	for _, tt := range []struct {
		route, method, path, body string
		scopes, others            []string
		wantStatus                int
	}{
		{RouteHookPause, "GET", HooklineBasePath + "/hooks/foo/bar/pause", "", []string{"hooks:get:foo:bar"}, []string{"hooks:get:foo:other"}, 200},
		{RoutePauseHook, "PUT", HooklineBasePath + "/hooks/foo/bar/pause", `{"reason":"r"}`, []string{"hooks:modify-hook:foo/bar"}, []string{"hooks:modify-hook:foo/other"}, 200},
		{RoutePauseHook + " (pause scope)", "PUT", HooklineBasePath + "/hooks/foo/bar/pause", `{"reason":"r"}`, []string{"hookline:pause:foo/bar"}, []string{"hookline:pause:foo/other"}, 200},
		{RouteResumeHook, "DELETE", HooklineBasePath + "/hooks/foo/bar/pause", "", []string{"hookline:pause:foo/*"}, []string{"hooks:get:foo:bar"}, 200},
		{RouteHookGroupPause, "GET", HooklineBasePath + "/hook-groups/foo/pause", "", []string{"hooks:list-hooks:foo"}, []string{"hooks:list-hooks:other"}, 200},
		{RoutePauseHookGroup, "PUT", HooklineBasePath + "/hook-groups/foo/pause", `{"reason":"r"}`, []string{"hooks:modify-hook:foo/*"}, []string{"hooks:modify-hook:foo/bar"}, 200},
		{RouteResumeHookGroup, "DELETE", HooklineBasePath + "/hook-groups/foo/pause", "", []string{"hookline:pause:foo/*"}, []string{"hookline:pause:foo/bar"}, 200},
		{RouteKillSwitch, "GET", HooklineBasePath + "/pause", "", []string{"hooks:list-hooks:"}, []string{"hooks:list-hooks:foo"}, 200},
		{RouteEngageKillSwitch, "PUT", HooklineBasePath + "/pause", `{"reason":"r"}`, []string{"hookline:kill-switch"}, []string{"hooks:modify-hook:*"}, 200},
		{RouteReleaseKillSwitch, "DELETE", HooklineBasePath + "/pause", "", []string{"hookline:kill-switch"}, []string{"hookline:pause:*"}, 200},
		{RouteListDecisions, "GET", HooklineBasePath + "/hooks/foo/bar/decisions", "", []string{"hooks:list-last-fires:foo/bar"}, []string{"hooks:list-last-fires:foo/other"}, 200},
		{RouteDecision, "GET", unknownDecision, "", []string{"hooks:list-last-fires:foo/bar"}, []string{"hooks:get:foo:bar"}, 404},
		{RouteReplayDecision, "POST", unknownDecision + "/replay", "", []string{"hooks:trigger-hook:foo/bar"}, []string{"hooks:list-last-fires:foo/bar"}, 404},
		{RouteCheckHook, "POST", HooklineBasePath + "/hooks/foo/bar/check", `{"payload":{}}`, []string{"hooks:get:foo:bar"}, []string{"hooks:get:foo:other"}, 200},
	} {
		t.Run(tt.route, func(t *testing.T) {
			e := newAuthEnv(t,
				auth.Client{ClientID: "allowed", AccessToken: testToken, Scopes: tt.scopes},
				auth.Client{ClientID: "denied", AccessToken: testToken, Scopes: tt.others},
			)
			if r := signedDo(t, e, "admin", "PUT", hooksURL+"/foo/bar", hook); r.status != 200 {
				t.Fatalf("setup: %d %s", r.status, r.raw)
			}
			if allowed := signedDo(t, e, "allowed", tt.method, tt.path, tt.body); allowed.status != tt.wantStatus {
				t.Fatalf("allowed client: %d %s", allowed.status, allowed.raw)
			}
			for _, who := range []string{"denied", ""} {
				if r := signedDo(t, e, who, tt.method, tt.path, tt.body); r.status != 403 || r.code() != CodeInsufficientScopes {
					t.Fatalf("client %q: got %d %s, want 403 InsufficientScopes", who, r.status, r.raw)
				}
			}
		})
	}
}

func TestCheckRoute(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustCreate(t, "/g/h", hookBody(func(h map[string]any) {
		h["schedule"] = []any{"0 0 * * * *"}
		h["triggerSchema"] = map[string]any{"type": "object", "required": []any{"n"}}
	}))
	r := e.do(t, "POST", settingsURL+"/g/h/check", `{"payload":{"n":1}}`)
	if r.status != 200 || r.body["task"] == nil || len(r.body["nextScheduledDates"].([]any)) != 5 || r.body["requiredScopes"] == nil {
		t.Fatalf("check: %d %s", r.status, r.raw)
	}
	// grantAll holds no roles: the scopes are not compared.
	if ws := r.body["warnings"].([]any); len(ws) != 1 || ws[0].(map[string]any)["code"] != "roles-unknown" {
		t.Fatalf("warnings %s", r.raw)
	}
	r = e.do(t, "POST", settingsURL+"/g/h/check", `{"payload":{}}`)
	if ws := r.body["warnings"].([]any); r.status != 200 || ws[0].(map[string]any)["code"] != "payload-schema" {
		t.Fatalf("bad payload: %d %s", r.status, r.raw)
	}
	for body, want := range map[string]int{`{"firedBy":"cron"}`: 400, `{"other":1}`: 400, `[]`: 400} {
		if r := e.do(t, "POST", settingsURL+"/g/h/check", body); r.status != want {
			t.Errorf("%s: %d %s", body, r.status, r.raw)
		}
	}
	if r := e.do(t, "POST", settingsURL+"/g/nope/check", `{}`); r.status != 404 {
		t.Fatalf("missing hook: %d %s", r.status, r.raw)
	}
	if e.queue.count() != 0 {
		t.Fatal("a check created a task")
	}
}

// With static roles the check says which scopes the hook's role lacks.
func TestCheckRouteWithRoles(t *testing.T) {
	e := newAuthEnv(t, auth.Client{ClientID: "reader", AccessToken: testToken, Scopes: []string{"hooks:get:foo:bar"}})
	if r := signedDo(t, e, "admin", "PUT", hooksURL+"/foo/bar", hookBody(nil)); r.status != 200 {
		t.Fatalf("setup: %d %s", r.status, r.raw)
	}
	r := signedDo(t, e, "reader", "POST", HooklineBasePath+"/hooks/foo/bar/check", `{}`)
	if r.status != 200 {
		t.Fatalf("check: %d %s", r.status, r.raw)
	}
	ws := r.body["warnings"].([]any)
	if len(ws) != 1 || ws[0].(map[string]any)["code"] != "missing-scopes" || !strings.Contains(r.raw, "queue:create-task:") {
		t.Fatalf("warnings %s", r.raw)
	}
}

// A paused hook refuses signed webhook deliveries too; its decision keeps
// the delivery (body and webhook context), and a replay after the pause
// fires it as the sender sent it.
func TestWebhookWhilePausedThenReplayed(t *testing.T) {
	e := newWebhookEnv(t, nil, WebhookOptions{})
	e.mustCreate(t, "/foo/bar", webhookHook())
	e.putSettings(t, "/foo/bar", `{"webhook":{"scheme":"github","secrets":["`+secretA+`"]}}`)
	if r := e.do(t, "PUT", settingsURL+"/foo/bar/pause", `{"reason":"repo migration"}`); r.status != 200 {
		t.Fatalf("pause: %d %s", r.status, r.raw)
	}
	// Pausing through its own route keeps the webhook settings.
	if r := e.do(t, "GET", settingsURL+"/foo/bar/settings", ""); r.body["webhook"] == nil || r.body["paused"] == nil {
		t.Fatalf("settings after pause: %s", r.raw)
	}
	body := githubPushPayload(1 << 10)
	r := e.post(t, settingsURL+"/foo/bar/webhook", "application/json", body, githubHeaders(secretA, body, "delivery-1"))
	if r.status != 409 || !strings.Contains(r.message(), "repo migration") || e.queue.count() != 0 {
		t.Fatalf("delivery while paused: %d %s", r.status, r.raw)
	}
	ds := e.do(t, "GET", settingsURL+"/foo/bar/decisions", "").body["decisions"].([]any)
	paused := ds[0].(map[string]any)
	if paused["outcome"] != "paused" || paused["context"].(map[string]any)["webhook"] == nil {
		t.Fatalf("decision %v", paused)
	}
	if r := e.do(t, "DELETE", settingsURL+"/foo/bar/pause", ""); r.status != 200 {
		t.Fatalf("resume: %d %s", r.status, r.raw)
	}
	replay := e.do(t, "POST", settingsURL+"/foo/bar/decisions/"+paused["decisionId"].(string)+"/replay", "")
	if replay.status != 200 || replay.body["outcome"] != "created" {
		t.Fatalf("replay: %d %s", replay.status, replay.raw)
	}
	extra := e.queue.task(t, replay.body["taskId"].(string))["extra"].(map[string]any)
	if extra["webhook"].(map[string]any)["deliveryId"] != "delivery-1" || !jsonEqual(decoded(t, body), extra["payload"]) {
		t.Fatalf("replayed task extra %v", extra)
	}
}

func decoded(t *testing.T, data []byte) any {
	t.Helper()
	var v any
	mustDecode(t, data, &v)
	return v
}

// A check may try filters before they are saved: they replace the stored
// ones for that check only; a filter that does not parse is a 400.
func TestCheckRouteTrialFilters(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustCreate(t, "/g/h", hookBody(func(h map[string]any) {
		h["triggerSchema"] = map[string]any{"type": "object"}
	}))
	e.putSettings(t, "/g/h", `{"filters":["payload.ref == \"main\""]}`)
	codes := func(r reply) []string {
		var out []string
		for _, w := range r.body["warnings"].([]any) {
			out = append(out, w.(map[string]any)["code"].(string))
		}
		return out
	}
	for _, tt := range []struct {
		name, body string
		wantStatus int
		filtered   bool
	}{
		{name: "stored filter false", body: `{"payload":{"ref":"dev"}}`, wantStatus: 200, filtered: true},
		{name: "stored filter true", body: `{"payload":{"ref":"main"}}`, wantStatus: 200},
		{name: "trial filter true", body: `{"payload":{"ref":"dev"},"filters":["payload.ref == \"dev\""]}`, wantStatus: 200},
		{name: "trial filter false", body: `{"payload":{"ref":"main"},"filters":["payload.ref == \"dev\""]}`, wantStatus: 200, filtered: true},
		{name: "no filters", body: `{"payload":{"ref":"dev"},"filters":[]}`, wantStatus: 200},
		{name: "does not parse", body: `{"payload":{},"filters":["payload.ref =="]}`, wantStatus: 400},
		{name: "empty filter", body: `{"payload":{},"filters":[""]}`, wantStatus: 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, "POST", settingsURL+"/g/h/check", tt.body)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.raw)
			}
			if r.status != 200 {
				return
			}
			if got := slices.Contains(codes(r), "filtered"); got != tt.filtered {
				t.Fatalf("filtered = %v, want %v: %s", got, tt.filtered, r.raw)
			}
		})
	}
	// The stored filters are unchanged.
	if r := e.do(t, "GET", settingsURL+"/g/h/settings", ""); !strings.Contains(r.raw, `payload.ref == \"main\"`) || strings.Contains(r.raw, "dev") {
		t.Fatalf("settings after trial checks: %s", r.raw)
	}
}
