package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/lambdahttp"
	"github.com/hookline/hookline/shared/testutil"
)

const (
	settingsURL = HooklineBasePath + "/hooks"
	secretA     = "whsec-aaaaaaaaaaaaaaaaaaaaaaaa"
	secretB     = "whsec-bbbbbbbbbbbbbbbbbbbbbbbb"
	secretC     = "whsec-cccccccccccccccccccccccc"
)

// syncBuffer is written by one goroutine while the test reads it.
type syncBuffer = testutil.SyncBuffer

// webhookEnv is a testEnv whose router has the given webhook limits, and
// whose log is kept.
type webhookEnv struct {
	*testEnv
	log *syncBuffer
}

func newWebhookEnv(t *testing.T, authz Authorizer, opts WebhookOptions) *webhookEnv {
	t.Helper()
	logs := &syncBuffer{}
	return &webhookEnv{testEnv: buildTestEnv(t, authz, opts, logs), log: logs}
}

// post sends a raw request with the given content type and headers.
func (e *testEnv) post(t *testing.T, path, contentType string, body []byte, headers map[string]string) reply {
	t.Helper()
	req := httptest.NewRequest("POST", path, bytes.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	r := reply{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	mustDecode(t, rec.Body.Bytes(), &r.body)
	return r
}

// webhookHook renders the fire context into the task, so tests see what
// JSON-e received; its triggerSchema takes any object.
func webhookHook() string {
	return hookBody(func(h map[string]any) {
		h["task"].(map[string]any)["extra"] = map[string]any{
			"firedBy": "${firedBy}",
			"payload": map[string]any{"$eval": "payload"},
			"webhook": map[string]any{"$if": "defined('webhook')", "then": map[string]any{"$eval": "webhook"}, "else": "absent"},
		}
		h["triggerSchema"] = map[string]any{"type": "object"}
	})
}

func (e *testEnv) putSettings(t *testing.T, path, body string) reply {
	t.Helper()
	r := e.do(t, "PUT", settingsURL+path+"/settings", body)
	if r.status != 200 {
		t.Fatalf("put settings %s: %d %s", path, r.status, r.raw)
	}
	return r
}

func githubHeaders(secret string, body []byte, delivery string) map[string]string {
	return map[string]string{
		"X-Hub-Signature-256": githubSignature(secret, body),
		"X-GitHub-Event":      "push",
		"X-GitHub-Delivery":   delivery,
		"X-GitHub-Hook-ID":    "292430182",
		"User-Agent":          "GitHub-Hookshot/4f1c2d3",
	}
}

func hooklineHeaders(secret string, ts int64, body []byte) map[string]string {
	stamp := strconv.FormatInt(ts, 10)
	return map[string]string{
		"X-Hookline-Signature": githubSignature(secret, append([]byte(stamp+"."), body...)),
		"X-Hookline-Timestamp": stamp,
	}
}

func (e *testEnv) taskExtra(t *testing.T, r reply) map[string]any {
	t.Helper()
	if r.status != 200 {
		t.Fatalf("webhook: %d %s", r.status, r.raw)
	}
	taskID, _ := r.body["taskId"].(string)
	return e.queue.task(t, taskID)["extra"].(map[string]any)
}

func TestWebhookGitHub(t *testing.T) {
	e := newWebhookEnv(t, nil, WebhookOptions{})
	e.mustCreate(t, "/foo/bar", webhookHook())
	e.putSettings(t, "/foo/bar", `{"webhook":{"scheme":"github","secrets":["`+secretA+`"],"headers":["X-Custom"]}}`)
	body := githubPushPayload(8 << 10)
	h := githubHeaders(secretA, body, "72d3162e-cc78-11e3-81ab-4c9367dc0958")
	h["X-Custom"] = "custom value"
	r := e.post(t, settingsURL+"/foo/bar/webhook?env=prod&env=staging&build=1", "application/json", body, h)
	extra := e.taskExtra(t, r)
	if extra["firedBy"] != "triggerHookWithToken" {
		t.Fatalf("firedBy = %v", extra["firedBy"])
	}
	// payload is the body itself, numbers and all.
	var want any
	mustDecode(t, body, &want)
	if !jsonEqual(want, extra["payload"]) {
		t.Fatalf("payload differs from the body")
	}
	if repo := extra["payload"].(map[string]any)["repository"].(map[string]any); repo["id"] != 186853002.0 {
		t.Fatalf("repository.id = %v", repo["id"])
	}
	wantHook := map[string]any{
		"scheme": "github", "event": "push", "deliveryId": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "contentType": "application/json",
		"headers": map[string]any{
			"content-type": "application/json", "user-agent": "GitHub-Hookshot/4f1c2d3", "x-github-event": "push",
			"x-github-delivery": "72d3162e-cc78-11e3-81ab-4c9367dc0958", "x-github-hook-id": "292430182", "x-custom": "custom value",
		},
		"query": map[string]any{"env": "prod", "build": "1"},
	}
	if !jsonEqual(wantHook, extra["webhook"]) {
		got, _ := json.Marshal(extra["webhook"])
		t.Fatalf("webhook context:\n got %s", got)
	}
	if strings.Contains(e.queue.tasksJSON(t), "sha256=") {
		t.Fatal("the signature reached the task")
	}
	fires := e.do(t, "GET", hooksURL+"/foo/bar/last-fires", "")
	if list := fires.body["lastFires"].([]any); len(list) != 1 || list[0].(map[string]any)["firedBy"] != "triggerHookWithToken" {
		t.Fatalf("last fires: %s", fires.raw)
	}
}

// GitHub redelivers with the same X-GitHub-Delivery: one task.
func TestWebhookRedelivery(t *testing.T) {
	e := newWebhookEnv(t, nil, WebhookOptions{})
	e.mustCreate(t, "/foo/bar", webhookHook())
	e.putSettings(t, "/foo/bar", `{"webhook":{"scheme":"github","secrets":["`+secretA+`"]}}`)
	body := githubPushPayload(2 << 10)
	first := e.post(t, settingsURL+"/foo/bar/webhook", "application/json", body, githubHeaders(secretA, body, "d-1"))
	e.clock.Advance(time.Minute)
	again := e.post(t, settingsURL+"/foo/bar/webhook", "application/json", body, githubHeaders(secretA, body, "d-1"))
	if first.status != 200 || again.status != 200 || first.body["taskId"] != again.body["taskId"] {
		t.Fatalf("redelivery: %s / %s", first.raw, again.raw)
	}
	if n := e.queue.count(); n != 1 {
		t.Fatalf("%d tasks after a redelivery, want 1", n)
	}
	other := bytes.Replace(body, []byte("refs/heads/main"), []byte("refs/heads/dev"), 1)
	next := e.post(t, settingsURL+"/foo/bar/webhook", "application/json", other, githubHeaders(secretA, other, "d-2"))
	if next.status != 200 || next.body["taskId"] == first.body["taskId"] || e.queue.count() != 2 {
		t.Fatalf("new delivery: %s (%d tasks)", next.raw, e.queue.count())
	}
	// Delivery ids are not signed: a captured delivery replayed under
	// another id, or another Idempotency-Key, is still the same delivery.
	for _, h := range []map[string]string{githubHeaders(secretA, body, "forged-id"), githubHeaders(secretA, body, "")} {
		h["Idempotency-Key"] = "forged-key"
		replay := e.post(t, settingsURL+"/foo/bar/webhook", "application/json", body, h)
		if replay.status != 200 || replay.body["taskId"] != first.body["taskId"] || e.queue.count() != 2 {
			t.Fatalf("replay: %s (%d tasks)", replay.raw, e.queue.count())
		}
	}
	if !strings.Contains(e.log.String(), `"msg":"webhook delivery repeats an earlier signature","hookGroupId":"foo","hookId":"bar","scheme":"github"`) {
		t.Fatalf("replay not logged:\n%s", e.log.String())
	}
}

// Without a delivery id, an identical signed delivery (same timestamp and
// body) fires once; a new timestamp is a new delivery.
func TestWebhookHooklineReplayInWindow(t *testing.T) {
	e := newWebhookEnv(t, nil, WebhookOptions{})
	e.mustCreate(t, "/foo/bar", webhookHook())
	e.putSettings(t, "/foo/bar", `{"webhook":{"scheme":"hookline","secrets":["`+secretA+`"]}}`)
	body := []byte(`{"deploy":"v1"}`)
	h := hooklineHeaders(secretA, testNow.Unix(), body)
	first := e.post(t, settingsURL+"/foo/bar/webhook", "application/json", body, h)
	e.clock.Advance(2 * time.Minute)
	replay := e.post(t, settingsURL+"/foo/bar/webhook", "application/json", body, h)
	if first.status != 200 || replay.body["taskId"] != first.body["taskId"] || e.queue.count() != 1 {
		t.Fatalf("replay in the window: %s / %s", first.raw, replay.raw)
	}
	fresh := e.post(t, settingsURL+"/foo/bar/webhook", "application/json", body, hooklineHeaders(secretA, e.clock.Now().Unix(), body))
	if fresh.status != 200 || fresh.body["taskId"] == first.body["taskId"] || e.queue.count() != 2 {
		t.Fatalf("new delivery: %s", fresh.raw)
	}
	// A sender's retry, signed anew, with the delivery id fires once.
	retry := func(ts int64) reply {
		h := hooklineHeaders(secretA, ts, body)
		h["X-Hookline-Delivery"] = "deploy-17"
		return e.post(t, settingsURL+"/foo/bar/webhook", "application/json", body, h)
	}
	a := retry(e.clock.Now().Unix() + 1)
	b := retry(e.clock.Now().Unix() + 2)
	if a.status != 200 || a.body["taskId"] != b.body["taskId"] || e.queue.count() != 3 {
		t.Fatalf("retry with delivery id: %s / %s", a.raw, b.raw)
	}
}

func TestWebhookRefusedSignatures(t *testing.T) {
	body := githubPushPayload(2 << 10)
	for _, tt := range []struct {
		name    string
		headers map[string]string
		reason  string
		want    string
	}{
		{"missing signature", map[string]string{"X-GitHub-Event": "push"}, hooks.ReasonMissingHeader, "missing X-Hub-Signature-256 header"},
		{"wrong secret", githubHeaders(secretC, body, "x"), hooks.ReasonBadSignature, "bad signature"},
		{"signature of another body", githubHeaders(secretA, append(append([]byte{}, body...), ' '), "x"), hooks.ReasonBadSignature, "bad signature"},
		{"sha1 signature", map[string]string{"X-Hub-Signature-256": "sha1=2fd4e1c67a2d28fced849ee1bb76e7391b93eb12"}, hooks.ReasonMalformedHeader, "malformed X-Hub-Signature-256"},
		{"bearer token instead", map[string]string{"Authorization": "Bearer whatever"}, hooks.ReasonMissingHeader, "missing X-Hub-Signature-256"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newWebhookEnv(t, nil, WebhookOptions{})
			e.mustCreate(t, "/foo/bar", webhookHook())
			e.putSettings(t, "/foo/bar", `{"webhook":{"scheme":"github","secrets":["`+secretA+`"]}}`)
			r := e.post(t, settingsURL+"/foo/bar/webhook", "application/json", body, tt.headers)
			if r.status != 401 || r.code() != CodeAuthenticationFailed || !strings.Contains(r.message(), tt.want) {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
			if e.queue.count() != 0 {
				t.Fatal("a refused delivery created a task")
			}
			if got := e.router.WebhookStats().SignatureFailures[tt.reason]; got != 1 {
				t.Fatalf("failures counted for %s: %d (%v)", tt.reason, got, e.router.WebhookStats())
			}
			logs := e.log.String()
			if !strings.Contains(logs, `"msg":"webhook delivery refused","hookGroupId":"foo","hookId":"bar","scheme":"github","reason":"`+tt.reason+`"`) {
				t.Fatalf("no refusal log line:\n%s", logs)
			}
			for _, secret := range []string{secretA, githubSignature(secretA, body)[7:], tt.headers["X-Hub-Signature-256"], "whatever"} {
				if secret != "" && (strings.Contains(logs, secret) || strings.Contains(r.raw, secret)) {
					t.Fatalf("%q leaked into the logs or the answer", secret)
				}
			}
		})
	}
}

func TestWebhookHooklineTimestamps(t *testing.T) {
	e := newWebhookEnv(t, nil, WebhookOptions{})
	e.mustCreate(t, "/foo/bar", webhookHook())
	e.putSettings(t, "/foo/bar", `{"webhook":{"scheme":"hookline","secrets":["`+secretA+`"]}}`)
	body := []byte(`{"build":42,"ok":true}`)
	now := testNow.Unix()
	for _, tt := range []struct {
		name   string
		ts     int64
		status int
		want   string
	}{
		{"now", now, 200, ""},
		{"299 s ago", now - 299, 200, ""},
		{"300 s ahead", now + 300, 200, ""},
		{"301 s ago", now - 301, 401, "stale timestamp: X-Hookline-Timestamp is 301 seconds in the past"},
		{"an hour ahead", now + 3600, 401, "stale timestamp: X-Hookline-Timestamp is 3600 seconds in the future"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.post(t, settingsURL+"/foo/bar/webhook", "application/json", body, hooklineHeaders(secretA, tt.ts, body))
			if r.status != tt.status || (tt.want != "" && !strings.Contains(r.message(), tt.want)) {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
		})
	}
	// A delivery replayed after the window is refused; the same delivery
	// was accepted in time.
	h := hooklineHeaders(secretA, now, []byte(`{"replay":1}`))
	if r := e.post(t, settingsURL+"/foo/bar/webhook", "application/json", []byte(`{"replay":1}`), h); r.status != 200 {
		t.Fatalf("in time: %d %s", r.status, r.raw)
	}
	e.clock.Advance(6 * time.Minute)
	if r := e.post(t, settingsURL+"/foo/bar/webhook", "application/json", []byte(`{"replay":1}`), h); r.status != 401 || !strings.Contains(r.message(), "in the past") {
		t.Fatalf("replay: %d %s", r.status, r.raw)
	}
	// The timestamp is signed: moving it breaks the signature.
	h["X-Hookline-Timestamp"] = strconv.FormatInt(e.clock.Now().Unix(), 10)
	if r := e.post(t, settingsURL+"/foo/bar/webhook", "application/json", []byte(`{"replay":1}`), h); r.status != 401 || !strings.Contains(r.message(), "bad signature") {
		t.Fatalf("moved timestamp: %d %s", r.status, r.raw)
	}
	stats := e.router.WebhookStats().SignatureFailures
	if stats[hooks.ReasonStaleTimestamp] != 3 || stats[hooks.ReasonBadSignature] != 1 {
		t.Fatalf("stats: %v", stats)
	}
}

func TestWebhookSecretRotation(t *testing.T) {
	e := newWebhookEnv(t, nil, WebhookOptions{})
	e.mustCreate(t, "/foo/bar", webhookHook())
	body := []byte(`{"n":1}`)
	send := func(secret string) int {
		t.Helper()
		return e.post(t, settingsURL+"/foo/bar/webhook", "application/json", body, githubHeaders(secret, body, "")).status
	}
	e.putSettings(t, "/foo/bar", `{"webhook":{"scheme":"github","secrets":["`+secretA+`"]}}`)
	// Rotation: the new secret first, the old one still accepted.
	e.putSettings(t, "/foo/bar", `{"webhook":{"scheme":"github","secrets":["`+secretB+`","`+secretA+`"]}}`)
	if a, b, c := send(secretA), send(secretB), send(secretC); a != 200 || b != 200 || c != 401 {
		t.Fatalf("during rotation: old %d new %d third %d", a, b, c)
	}
	e.putSettings(t, "/foo/bar", `{"webhook":{"scheme":"github","secrets":["`+secretB+`"]}}`)
	if a, b := send(secretA), send(secretB); a != 401 || b != 200 {
		t.Fatalf("after rotation: old %d new %d", a, b)
	}
}

func TestWebhookFormBodies(t *testing.T) {
	e := newWebhookEnv(t, nil, WebhookOptions{})
	e.mustCreate(t, "/foo/bar", webhookHook())
	e.putSettings(t, "/foo/bar", `{"webhook":{"scheme":"github","secrets":["`+secretA+`"]}}`)
	// GitHub's application/x-www-form-urlencoded content type: the JSON
	// payload in a `payload` field, signed as sent.
	push := githubPushPayload(2 << 10)
	form := []byte(url.Values{"payload": {string(push)}}.Encode())
	r := e.post(t, settingsURL+"/foo/bar/webhook", "application/x-www-form-urlencoded", form, githubHeaders(secretA, form, "f-1"))
	extra := e.taskExtra(t, r)
	var want any
	mustDecode(t, push, &want)
	if !jsonEqual(want, extra["payload"]) || extra["webhook"].(map[string]any)["contentType"] != "application/x-www-form-urlencoded" {
		t.Fatalf("form payload: %v", extra["webhook"])
	}
	// Any other form is an object of its fields.
	form = []byte("a=1&b=2&b=3&payload=not+json")
	r = e.post(t, settingsURL+"/foo/bar/webhook", "application/x-www-form-urlencoded; charset=utf-8", form, githubHeaders(secretA, form, "f-2"))
	if got, _ := json.Marshal(e.taskExtra(t, r)["payload"]); string(got) != `{"a":"1","b":["2","3"],"payload":"not json"}` {
		t.Fatalf("plain form payload: %s", got)
	}
	for _, tt := range []struct{ name, contentType, body, want string }{
		{"bad form", "application/x-www-form-urlencoded", "a=%zz", "not a valid form"},
		{"text body", "text/plain", "hello", `Content-Type "text/plain" is not supported`},
		{"JSON array", "application/json", "[1,2]", "must be a JSON object"},
		{"bad JSON", "application/json", `{"a":`, "not valid JSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			body := []byte(tt.body)
			r := e.post(t, settingsURL+"/foo/bar/webhook", tt.contentType, body, githubHeaders(secretA, body, ""))
			if r.status != 400 || r.code() != CodeMalformedPayload || !strings.Contains(r.message(), tt.want) {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
		})
	}
}

// A hook without settings takes its trigger token as a bearer token.
func TestWebhookBearer(t *testing.T) {
	e := newWebhookEnv(t, nil, WebhookOptions{})
	e.mustCreate(t, "/foo/bar", webhookHook())
	token, _ := e.do(t, "GET", hooksURL+"/foo/bar/token", "").body["token"].(string)
	path := settingsURL + "/foo/bar/webhook?ref=main"
	body := []byte(`{"x":1}`)
	r := e.post(t, path, "", body, map[string]string{"Authorization": "Bearer " + token, "Idempotency-Key": "k-1", "X-Hookline-Event": "build"})
	extra := e.taskExtra(t, r)
	hook := extra["webhook"].(map[string]any)
	if hook["scheme"] != "bearer" || hook["event"] != "build" || hook["query"].(map[string]any)["ref"] != "main" || extra["payload"].(map[string]any)["x"] != 1.0 {
		t.Fatalf("context: %v", extra)
	}
	if strings.Contains(e.queue.tasksJSON(t), token) {
		t.Fatal("the token reached the task")
	}
	again := e.post(t, path, "application/json", body, map[string]string{"Authorization": "Bearer " + token, "Idempotency-Key": "k-1"})
	if again.body["taskId"] != r.body["taskId"] || e.queue.count() != 1 {
		t.Fatalf("idempotency key: %s", again.raw)
	}
	for _, tt := range []struct{ name, header, want string }{
		{"no header", "", "missing Authorization header"},
		{"wrong token", "Bearer nope", "invalid hook token"},
		{"basic", "Basic " + token, "malformed Authorization header"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := map[string]string{}
			if tt.header != "" {
				h["Authorization"] = tt.header
			}
			r := e.post(t, path, "application/json", body, h)
			if r.status != 401 || r.code() != CodeAuthenticationFailed || !strings.Contains(r.message(), tt.want) || r.header.Get("WWW-Authenticate") != "Bearer" {
				t.Fatalf("got %d %s %v", r.status, r.raw, r.header)
			}
		})
	}
	// The upstream token route is unchanged and has no webhook variable.
	up := e.do(t, "POST", hooksURL+"/foo/bar/trigger/"+token, `{"x":2}`)
	if e.taskExtra(t, up)["webhook"] != "absent" {
		t.Fatalf("token route context: %s", up.raw)
	}
	// Settings with a signing scheme turn bearer tokens off.
	e.putSettings(t, "/foo/bar", `{"webhook":{"scheme":"hookline","secrets":["`+secretA+`"]}}`)
	if r := e.post(t, path, "application/json", body, map[string]string{"Authorization": "Bearer " + token}); r.status != 401 || !strings.Contains(r.message(), "X-Hookline-Signature") {
		t.Fatalf("bearer under hookline settings: %d %s", r.status, r.raw)
	}
}

func TestWebhookErrors(t *testing.T) {
	e := newWebhookEnv(t, nil, WebhookOptions{})
	e.mustCreate(t, "/foo/strict", hookBody(nil)) // upstream's default triggerSchema: only {}
	token, _ := e.do(t, "GET", hooksURL+"/foo/strict/token", "").body["token"].(string)
	bearer := map[string]string{"Authorization": "Bearer " + token}
	r := e.post(t, settingsURL+"/foo/strict/webhook", "application/json", []byte(`{"ref":"x"}`), bearer)
	if r.status != 400 || r.code() != CodeInputError || !strings.Contains(r.message(), "Additional property ref") {
		t.Fatalf("triggerSchema: %d %s", r.status, r.raw)
	}
	if r := e.post(t, settingsURL+"/foo/strict/webhook", "application/json", nil, bearer); r.status != 200 {
		t.Fatalf("empty body: %d %s", r.status, r.raw)
	}
	// A missing hook is reported before the credentials.
	r = e.post(t, settingsURL+"/foo/nope/webhook", "application/json", []byte(`{}`), nil)
	if r.status != 404 || r.code() != CodeResourceNotFound {
		t.Fatalf("missing hook: %d %s", r.status, r.raw)
	}
	info := r.body["requestInfo"].(map[string]any)
	if info["method"] != RouteTriggerWebhook || info["params"].(map[string]any)["hookId"] != "nope" {
		t.Fatalf("requestInfo: %v", info)
	}
	if r := e.do(t, "GET", settingsURL+"/foo/strict/webhook", ""); r.status != 404 {
		t.Fatalf("GET webhook: %d", r.status)
	}
	if r := e.post(t, settingsURL+"/foo/bad!/webhook", "application/json", []byte(`{}`), bearer); r.status != 400 || r.code() != CodeInvalidRequestArguments {
		t.Fatalf("bad hookId: %d %s", r.status, r.raw)
	}
}

func TestWebhookBodyLimit(t *testing.T) {
	e := newWebhookEnv(t, nil, WebhookOptions{MaxBodyBytes: 1 << 10})
	e.mustCreate(t, "/foo/bar", webhookHook())
	e.putSettings(t, "/foo/bar", `{"webhook":{"scheme":"github","secrets":["`+secretA+`"]}}`)
	fits := []byte(`{"pad":"` + strings.Repeat("x", 1024-10) + `"}`)
	if len(fits) != 1024 {
		t.Fatalf("test body is %d bytes", len(fits))
	}
	if r := e.post(t, settingsURL+"/foo/bar/webhook", "application/json", fits, githubHeaders(secretA, fits, "")); r.status != 200 {
		t.Fatalf("1 KB body: %d %s", r.status, r.raw)
	}
	over := append([]byte(" "), fits...)
	r := e.post(t, settingsURL+"/foo/bar/webhook", "application/json", over, githubHeaders(secretA, over, ""))
	if r.status != 413 || r.code() != CodeInputTooLarge || !strings.Contains(r.message(), "1 KB limit") {
		t.Fatalf("oversize: %d %s", r.status, r.raw)
	}
	// The limit is the webhook route's: the rest of the API keeps 10 MB.
	big := hookBody(func(h map[string]any) { h["metadata"].(map[string]any)["description"] = strings.Repeat("d", 4<<10) })
	if r := e.do(t, "PUT", hooksURL+"/foo/big", big); r.status != 200 {
		t.Fatalf("4 KB hook: %d %s", r.status, r.raw)
	}

	// The default is 1 MB.
	d := newWebhookEnv(t, nil, WebhookOptions{})
	d.mustCreate(t, "/foo/bar", webhookHook())
	huge := []byte(`{"pad":"` + strings.Repeat("x", 1<<20) + `"}`)
	if r := d.post(t, settingsURL+"/foo/bar/webhook", "application/json", huge, nil); r.status != 413 || !strings.Contains(r.message(), "1 MB limit") {
		t.Fatalf("over 1 MB: %d %.300s", r.status, r.raw)
	}
}

func TestWebhookRateLimit(t *testing.T) {
	e := newWebhookEnv(t, nil, WebhookOptions{Rate: 0.5, Burst: 2})
	for _, id := range []string{"bar", "other"} {
		e.mustCreate(t, "/foo/"+id, webhookHook())
		e.putSettings(t, "/foo/"+id, `{"webhook":{"scheme":"github","secrets":["`+secretA+`"]}}`)
	}
	body := []byte(`{}`)
	send := func(id, secret string) reply {
		t.Helper()
		return e.post(t, settingsURL+"/foo/"+id+"/webhook", "application/json", body, githubHeaders(secret, body, ""))
	}
	// Refused signatures take no tokens: a stranger cannot starve the sender.
	for range 5 {
		if r := send("bar", secretC); r.status != 401 {
			t.Fatalf("bad signature: %d", r.status)
		}
	}
	for i := range 2 {
		if r := send("bar", secretA); r.status != 200 {
			t.Fatalf("delivery %d of the burst: %d %s", i, r.status, r.raw)
		}
	}
	r := send("bar", secretA)
	if r.status != 429 || r.code() != CodeTooManyRequests || r.header.Get("Retry-After") != "2" || !strings.Contains(r.message(), "at most 0.5 webhook deliveries per second") {
		t.Fatalf("over the limit: %d %s %v", r.status, r.raw, r.header)
	}
	// Other hooks have their own bucket.
	if r := send("other", secretA); r.status != 200 {
		t.Fatalf("other hook: %d %s", r.status, r.raw)
	}
	e.clock.Advance(time.Second)
	if r := send("bar", secretA); r.status != 429 || r.header.Get("Retry-After") != "1" {
		t.Fatalf("half a token later: %d %v", r.status, r.header)
	}
	e.clock.Advance(time.Second)
	if r := send("bar", secretA); r.status != 200 {
		t.Fatalf("a token later: %d %s", r.status, r.raw)
	}
	if s := e.router.WebhookStats(); s.RateLimited != 2 || s.SignatureFailures[hooks.ReasonBadSignature] != 5 {
		t.Fatalf("stats: %+v", s)
	}
	// Off: no limit at all.
	off := newWebhookEnv(t, nil, WebhookOptions{Rate: NoWebhookRateLimit, Burst: 1})
	off.mustCreate(t, "/foo/bar", webhookHook())
	off.putSettings(t, "/foo/bar", `{"webhook":{"scheme":"github","secrets":["`+secretA+`"]}}`)
	for i := range 30 {
		if r := off.post(t, settingsURL+"/foo/bar/webhook", "application/json", body, githubHeaders(secretA, body, "")); r.status != 200 {
			t.Fatalf("unlimited delivery %d: %d", i, r.status)
		}
	}
}

func TestRateLimiterForgetsIdleHooks(t *testing.T) {
	l := newRateLimiter(1, 1)
	now := testNow
	for i := range maxRateBuckets {
		if ok, _ := l.allow(fmt.Sprint(i), now); !ok {
			t.Fatal("a fresh bucket is full")
		}
	}
	// Every bucket is empty; a new hook arriving later drops the idle ones.
	if ok, _ := l.allow("late", now.Add(2*time.Second)); !ok || len(l.buckets) != 1 {
		t.Fatalf("%d buckets after the sweep", len(l.buckets))
	}
	// A flood of distinct hooks within the same instant clears the table.
	for i := range maxRateBuckets {
		l.allow("flood"+fmt.Sprint(i), now.Add(2*time.Second))
	}
	if len(l.buckets) > maxRateBuckets {
		t.Fatalf("%d buckets, more than %d", len(l.buckets), maxRateBuckets)
	}
}

func TestHookSettingsRoutes(t *testing.T) {
	e := newWebhookEnv(t, nil, WebhookOptions{})
	e.mustCreate(t, "/foo/bar", webhookHook())
	if r := e.do(t, "GET", settingsURL+"/foo/bar/settings", ""); r.status != 200 || r.raw != `{}` {
		t.Fatalf("no settings: %d %s", r.status, r.raw)
	}
	put := e.putSettings(t, "/foo/bar", `{"webhook":{"scheme":"github","secrets":["`+secretB+`","`+secretA+`"],"headers":["X-Custom"]}}`)
	want := `{"webhook":{"scheme":"github","secretCount":2,"secretFingerprints":["` + hooks.SecretFingerprint(secretB) + `","` + hooks.SecretFingerprint(secretA) + `"],"headers":["x-custom"]}}`
	got := e.do(t, "GET", settingsURL+"/foo/bar/settings", "")
	if put.raw != want || got.raw != want {
		t.Fatalf("settings:\n put %s\n get %s\nwant %s", put.raw, got.raw, want)
	}
	// Omitted secrets are kept.
	if r := e.putSettings(t, "/foo/bar", `{"webhook":{"scheme":"hookline"}}`); !strings.Contains(r.raw, `"secretCount":2`) {
		t.Fatalf("secrets not kept: %s", r.raw)
	}
	for _, tt := range []struct {
		name, path, body string
		status           int
		code, want       string
	}{
		{"missing hook", "/foo/nope", `{}`, 404, CodeResourceNotFound, "No such hook"},
		{"unknown scheme", "/foo/bar", `{"webhook":{"scheme":"gitlab","secrets":["` + secretA + `"]}}`, 400, CodeInputValidationError, "webhook.scheme"},
		{"three secrets", "/foo/bar", `{"webhook":{"scheme":"github","secrets":["` + secretA + `","` + secretB + `","` + secretC + `"]}}`, 400, CodeInputValidationError, "webhook.secrets"},
		{"short secret", "/foo/bar", `{"webhook":{"scheme":"github","secrets":["short"]}}`, 400, CodeInputValidationError, "webhook.secrets.0"},
		{"same secret twice", "/foo/bar", `{"webhook":{"scheme":"github","secrets":["` + secretA + `","` + secretA + `"]}}`, 400, CodeInputValidationError, "webhook.secrets"},
		{"unknown field", "/foo/bar", `{"webhook":{"scheme":"github"},"pause":true}`, 400, CodeInputValidationError, "pause"},
		{"no scheme", "/foo/bar", `{"webhook":{"secrets":["` + secretA + `"]}}`, 400, CodeInputValidationError, "scheme"},
		{"bearer with secrets", "/foo/bar", `{"webhook":{"scheme":"bearer","secrets":["` + secretA + `"]}}`, 400, CodeInputError, "takes no secrets"},
		{"credential header", "/foo/bar", `{"webhook":{"scheme":"github","headers":["Authorization"]}}`, 400, CodeInputError, "carries credentials"},
		{"malformed JSON", "/foo/bar", `{"webhook":`, 400, CodeMalformedPayload, "not valid JSON"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, "PUT", settingsURL+tt.path+"/settings", tt.body)
			if r.status != tt.status || r.code() != tt.code || !strings.Contains(r.message(), tt.want) {
				t.Fatalf("got %d %s", r.status, r.raw)
			}
			if r.body["requestInfo"].(map[string]any)["method"] != RouteUpdateHookSettings {
				t.Fatalf("requestInfo: %s", r.raw)
			}
		})
	}
	// The refused puts changed nothing; secrets never come back, not even
	// in the echo of a refused request.
	if r := e.do(t, "GET", settingsURL+"/foo/bar/settings", ""); !strings.Contains(r.raw, `"scheme":"hookline","secretCount":2`) {
		t.Fatalf("after refused puts: %s", r.raw)
	}
	if r := e.do(t, "GET", settingsURL+"/foo/nope/settings", ""); r.status != 404 || r.code() != CodeResourceNotFound {
		t.Fatalf("missing hook: %d %s", r.status, r.raw)
	}

	// Settings go with their hook.
	if r := e.do(t, "DELETE", hooksURL+"/foo/bar", ""); r.status != 200 {
		t.Fatalf("delete: %d %s", r.status, r.raw)
	}
	if r := e.do(t, "GET", settingsURL+"/foo/bar/settings", ""); r.status != 404 {
		t.Fatalf("settings of a deleted hook: %d %s", r.status, r.raw)
	}
	e.mustCreate(t, "/foo/bar", webhookHook())
	if r := e.do(t, "GET", settingsURL+"/foo/bar/settings", ""); r.raw != `{}` {
		t.Fatalf("re-created hook inherited settings: %s", r.raw)
	}
}

// The settings routes take the hooks API's scopes, checked by the real
// authenticator; the webhook route is public.
func TestHookSettingsScopes(t *testing.T) {
	for _, tt := range []struct {
		name, method, body string
		scopes             []string
	}{
		{"read", "GET", "", []string{"hooks:get:foo:bar"}},
		{"write", "PUT", `{"webhook":{"scheme":"github","secrets":["` + secretA + `"]}}`, []string{"hooks:modify-hook:foo/bar"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			others := []string{"hooks:get:foo:other", "hooks:modify-hook:foo/other"}
			if tt.method == "PUT" {
				// Reading is not writing.
				others = append(others, "hooks:get:foo:bar")
			}
			e := newAuthEnv(t,
				auth.Client{ClientID: "allowed", AccessToken: testToken, Scopes: tt.scopes},
				auth.Client{ClientID: "denied", AccessToken: testToken, Scopes: others},
			)
			if r := signedDo(t, e, "admin", "PUT", hooksURL+"/foo/bar", webhookHook()); r.status != 200 {
				t.Fatalf("setup: %d %s", r.status, r.raw)
			}
			path := settingsURL + "/foo/bar/settings"
			if r := signedDo(t, e, "allowed", tt.method, path, tt.body); r.status != 200 {
				t.Fatalf("allowed client: %d %s", r.status, r.raw)
			}
			for _, who := range []string{"denied", ""} {
				r := signedDo(t, e, who, tt.method, path, tt.body)
				if r.status != 403 || r.code() != CodeInsufficientScopes {
					t.Fatalf("client %q: got %d %s, want 403 InsufficientScopes", who, r.status, r.raw)
				}
			}
			// A caller without scopes learns nothing about the hook.
			if r := signedDo(t, e, "", tt.method, settingsURL+"/foo/nope/settings", tt.body); r.status != 403 {
				t.Fatalf("anonymous on a missing hook: %d", r.status)
			}
		})
	}
	e := newAuthEnv(t)
	if r := signedDo(t, e, "admin", "PUT", hooksURL+"/foo/bar", webhookHook()); r.status != 200 {
		t.Fatalf("setup: %d %s", r.status, r.raw)
	}
	token, _ := signedDo(t, e, "admin", "GET", hooksURL+"/foo/bar/token", "").body["token"].(string)
	r := e.post(t, settingsURL+"/foo/bar/webhook", "application/json", []byte(`{}`), map[string]string{"Authorization": "Bearer " + token})
	if r.status != 200 {
		t.Fatalf("public webhook route: %d %s", r.status, r.raw)
	}
}

func TestWebhookOnlyRoutes(t *testing.T) {
	e := newTestEnv(t, nil)
	rt, err := NewRouter(e.router.svc, Options{Authorizer: grantAll{}, Logger: e.router.log, Only: WebhookFunctionRoutes()})
	if err != nil {
		t.Fatal(err)
	}
	e.mustCreate(t, "/foo/bar", webhookHook())
	token, _ := e.do(t, "GET", hooksURL+"/foo/bar/token", "").body["token"].(string)
	only := &testEnv{router: rt, queue: e.queue}
	if r := only.post(t, settingsURL+"/foo/bar/webhook", "application/json", []byte(`{}`), map[string]string{"Authorization": "Bearer " + token}); r.status != 200 {
		t.Fatalf("webhook on the webhook function: %d %s", r.status, r.raw)
	}
	if r := only.do(t, "GET", settingsURL+"/foo/bar/settings", ""); r.status != 404 {
		t.Fatalf("settings on the webhook function: %d %s", r.status, r.raw)
	}
	if r := only.do(t, "GET", hooksURL+"/foo/bar", ""); r.status != 404 {
		t.Fatalf("hooks API on the webhook function: %d", r.status)
	}
}

func TestHooklineRoutes(t *testing.T) {
	var got []string
	for _, ro := range HooklineRoutes() {
		got = append(got, fmt.Sprintf("%s %s %s public=%v", ro.Name, ro.Method, ro.Path, ro.Public))
	}
	want := []string{
		"hookSettings GET /api/hookline/v1/hooks/{hookGroupId}/{hookId}/settings public=false",
		"updateHookSettings PUT /api/hookline/v1/hooks/{hookGroupId}/{hookId}/settings public=false",
		"triggerWebhook POST /api/hookline/v1/hooks/{hookGroupId}/{hookId}/webhook public=true",
		"hookPause GET /api/hookline/v1/hooks/{hookGroupId}/{hookId}/pause public=false",
		"pauseHook PUT /api/hookline/v1/hooks/{hookGroupId}/{hookId}/pause public=false",
		"resumeHook DELETE /api/hookline/v1/hooks/{hookGroupId}/{hookId}/pause public=false",
		"hookGroupPause GET /api/hookline/v1/hook-groups/{hookGroupId}/pause public=false",
		"pauseHookGroup PUT /api/hookline/v1/hook-groups/{hookGroupId}/pause public=false",
		"resumeHookGroup DELETE /api/hookline/v1/hook-groups/{hookGroupId}/pause public=false",
		"killSwitch GET /api/hookline/v1/pause public=false",
		"engageKillSwitch PUT /api/hookline/v1/pause public=false",
		"releaseKillSwitch DELETE /api/hookline/v1/pause public=false",
		"listDecisions GET /api/hookline/v1/hooks/{hookGroupId}/{hookId}/decisions public=false",
		"decision GET /api/hookline/v1/hooks/{hookGroupId}/{hookId}/decisions/{decisionId} public=false",
		"replayDecision POST /api/hookline/v1/hooks/{hookGroupId}/{hookId}/decisions/{decisionId}/replay public=false",
		"checkHook POST /api/hookline/v1/hooks/{hookGroupId}/{hookId}/check public=false",
		"hookSchedule GET /api/hookline/v1/hooks/{hookGroupId}/{hookId}/schedule public=false",
		"backfillHook POST /api/hookline/v1/hooks/{hookGroupId}/{hookId}/backfill public=false",
		"whoami GET /api/hookline/v1/whoami public=false",
		"hookOutcomeStatus GET /api/hookline/v1/hooks/{hookGroupId}/{hookId}/status public=false",
		"listNotifications GET /api/hookline/v1/hooks/{hookGroupId}/{hookId}/notifications public=false",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("routes:\n%s", strings.Join(got, "\n"))
	}
	// The hooks API's base path does not serve them, nor they its routes.
	e := newTestEnv(t, nil)
	if r := e.do(t, "GET", hooksURL+"/foo/bar/settings", ""); r.status != 404 {
		t.Fatalf("settings under the hooks API: %d", r.status)
	}
	if r := e.do(t, "GET", HooklineBasePath+"/ping", ""); r.status != 404 {
		t.Fatalf("ping under the hookline API: %d", r.status)
	}
	if r := e.do(t, "GET", "/api/hooklinex/v1/hooks/foo/bar/settings", ""); r.status != 404 {
		t.Fatalf("prefix lookalike: %d", r.status)
	}
}

// tasksJSON is every task in the queue, as JSON.
func (q *memQueue) tasksJSON(t *testing.T) string {
	t.Helper()
	q.mu.Lock()
	defer q.mu.Unlock()
	data, err := json.Marshal(q.tasks)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// Through API Gateway the signed bytes arrive as sent, in text or base64.
func TestWebhookThroughLambda(t *testing.T) {
	e := newWebhookEnv(t, nil, WebhookOptions{})
	e.mustCreate(t, "/foo/bar", webhookHook())
	e.putSettings(t, "/foo/bar", `{"webhook":{"scheme":"github","secrets":["`+secretA+`"]}}`)
	h := lambdahttp.Handler(e.router)
	push := githubPushPayload(4 << 10)
	form := []byte(url.Values{"payload": {string(push)}}.Encode())
	for _, tt := range []struct {
		name, contentType string
		body              []byte
		b64               bool
	}{
		{"json text", "application/json", push, false},
		{"form base64", "application/x-www-form-urlencoded", form, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ev := events.APIGatewayV2HTTPRequest{
				Version: "2.0", RawPath: settingsURL + "/foo/bar/webhook", RawQueryString: "env=prod",
				Body: string(tt.body), IsBase64Encoded: tt.b64,
				Headers: map[string]string{
					"content-type": tt.contentType, "host": "hooks.example.com", "x-github-event": "push",
					"x-github-delivery": tt.name, "x-hub-signature-256": githubSignature(secretA, tt.body),
				},
			}
			if tt.b64 {
				ev.Body = base64.StdEncoding.EncodeToString(tt.body)
			}
			ev.RequestContext.HTTP.Method = "POST"
			res, err := h(context.Background(), ev)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("%v %d %s", err, res.StatusCode, res.Body)
			}
			var reply map[string]any
			mustDecode(t, []byte(res.Body), &reply)
			extra := e.queue.task(t, reply["taskId"].(string))["extra"].(map[string]any)
			if extra["payload"].(map[string]any)["ref"] != "refs/heads/main" || extra["webhook"].(map[string]any)["query"].(map[string]any)["env"] != "prod" {
				t.Fatalf("context: %v", extra["webhook"])
			}
		})
	}
}
