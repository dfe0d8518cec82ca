package httpapi

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// Wrong credentials on the public routes are limited per hook too: many
// sources together cannot try more than the hook's allowance, and a hook
// under attack recovers once the failures stop.
func TestWrongCredentials_PerHook(t *testing.T) {
	e := newWebhookEnv(t, nil, WebhookOptions{})
	e.do(t, "PUT", hooksURL+"/g/h", webhookHook())
	e.do(t, "PUT", hooksURL+"/g/other", webhookHook())
	attempt := func(path, source string) reply {
		t.Helper()
		req := httptest.NewRequest("POST", path, strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer wrong")
		req.RemoteAddr = source + ":1234"
		rec := httptest.NewRecorder()
		e.router.ServeHTTP(rec, req)
		r := reply{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
		mustDecode(t, rec.Body.Bytes(), &r.body)
		return r
	}
	token := hooksURL + "/g/h/trigger/wrong"
	webhook := HooklineBasePath + "/hooks/g/h/webhook"
	for i := range wrongCredentialsPerHook {
		// Three attempts per source stay within each source's allowance;
		// the token route and the signed route share the hook's.
		path := token
		if i%2 == 1 {
			path = webhook
		}
		if r := attempt(path, fmt.Sprintf("198.51.100.%d", i/3)); r.status != 401 {
			t.Fatalf("attempt %d: %d %s", i+1, r.status, r.raw)
		}
	}
	r := attempt(token, "203.0.113.1")
	if r.status != 429 || r.header.Get("Retry-After") != "1" || !strings.Contains(r.message(), "for hook g/h") {
		t.Fatalf("hook over its allowance: %d %v %s", r.status, r.header, r.raw)
	}
	if r := attempt(webhook, "203.0.113.1"); r.status != 429 {
		t.Fatalf("signed route of a hook over its allowance: %d %s", r.status, r.raw)
	}
	if r := attempt(hooksURL+"/g/other/trigger/wrong", "203.0.113.1"); r.status != 401 {
		t.Fatalf("another hook: %d %s", r.status, r.raw)
	}
	e.clock.Advance(2 * time.Second)
	if r := attempt(token, "203.0.113.1"); r.status != 401 {
		t.Fatalf("after the failures stopped: %d %s", r.status, r.raw)
	}
}
