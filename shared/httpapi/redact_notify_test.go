package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hookline/hookline/schemas"
)

// The signing secret of a notify webhook target is write-only like the
// webhook's secrets: refused requests echo it as schemas.Redacted, in the
// reply and in the log, and replies show its fingerprint only.
func TestNotifySecretsNeverShown(t *testing.T) {
	e := newWebhookEnv(t, nil, WebhookOptions{})
	e.mustCreate(t, "/foo/bar", webhookHook())
	const secret = "notify-secret-0123456789abcdef"
	target := func(extra string) string {
		return `{"notify":{"targets":[{"type":"email","address":"a@example.com","events":["fire-error"]},` +
			`{"type":"webhook","url":"https://example.com/n","secret":"` + secret + `","events":["task-failed"]` + extra + `}]}}`
	}
	for _, tt := range []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"refused by the schema", "/foo/bar", target(`,"maxPerHour":1000`), 400, CodeInputValidationError},
		{"unknown field beside the secret", "/foo/bar", target(`,"secrets":["x"]`), 400, CodeInputValidationError},
		{"refused by the handler", "/foo/bar", strings.Replace(target(""), "https://example.com/n", "https://user:pw@example.com/n", 1), 400, CodeInputError},
		{"missing hook", "/foo/nope", target(""), 404, CodeResourceNotFound},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, "PUT", settingsURL+tt.path+"/settings", tt.body)
			if r.status != tt.status || r.code() != tt.code {
				t.Fatalf("got %d %s, want %d %s", r.status, r.raw, tt.status, tt.code)
			}
			if strings.Contains(r.raw, secret) {
				t.Errorf("the reply shows the secret:\n%s", r.raw)
			}
			var echo struct {
				RequestInfo struct {
					Payload struct {
						Notify struct{ Targets []map[string]any }
					}
				}
			}
			if err := json.Unmarshal([]byte(r.raw), &echo); err != nil {
				t.Fatal(err)
			}
			ts := echo.RequestInfo.Payload.Notify.Targets
			if len(ts) != 2 || ts[1]["secret"] != schemas.Redacted || ts[1]["url"] == nil || ts[0]["address"] != "a@example.com" {
				t.Errorf("requestInfo.payload.notify.targets = %v, want the secret as %q and the rest as sent", ts, schemas.Redacted)
			}
		})
	}
	r := e.do(t, "PUT", settingsURL+"/foo/bar/settings", target(""))
	if r.status != 200 || strings.Contains(r.raw, secret) || !strings.Contains(r.raw, `"secretFingerprint":"sha256:`) {
		t.Fatalf("put: %d %s", r.status, r.raw)
	}
	if r := e.do(t, "GET", settingsURL+"/foo/bar/settings", ""); r.status != 200 || strings.Contains(r.raw, secret) || !strings.Contains(r.raw, `"secretFingerprint":"sha256:`) {
		t.Fatalf("get: %d %s", r.status, r.raw)
	}
	if strings.Contains(e.log.String(), secret) {
		t.Errorf("the log shows the secret:\n%s", e.log.String())
	}
}
