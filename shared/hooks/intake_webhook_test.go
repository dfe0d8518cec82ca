package hooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

const (
	oldSecret = "old-secret-0123456789abcdef"
	newSecret = "new-secret-fedcba9876543210"
)

func githubSig(secret string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

func hooklineSig(secret, ts string, body []byte) string {
	return githubSig(secret, []byte(ts+"."+string(body)))
}

func TestVerifyDelivery(t *testing.T) {
	body := []byte(`{"ref":"refs/heads/main"}`)
	ts := strconv.FormatInt(now.Unix(), 10)
	at := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	both := []string{newSecret, oldSecret}
	for _, tt := range []struct {
		name       string
		scheme     string
		secrets    []string
		cred       WebhookCredentials
		wantReason string // "" means accepted
		wantText   string
	}{
		{name: "github signed", scheme: WebhookGitHub, secrets: []string{newSecret}, cred: WebhookCredentials{GitHubSignature: githubSig(newSecret, body)}},
		{name: "github old secret while rotating", scheme: WebhookGitHub, secrets: both, cred: WebhookCredentials{GitHubSignature: githubSig(oldSecret, body)}},
		{name: "github new secret while rotating", scheme: WebhookGitHub, secrets: both, cred: WebhookCredentials{GitHubSignature: githubSig(newSecret, body)}},
		{name: "github third secret", scheme: WebhookGitHub, secrets: both, cred: WebhookCredentials{GitHubSignature: githubSig("some-third-secret-000000", body)}, wantReason: ReasonBadSignature, wantText: "bad signature"},
		{name: "github old secret after rotation", scheme: WebhookGitHub, secrets: []string{newSecret}, cred: WebhookCredentials{GitHubSignature: githubSig(oldSecret, body)}, wantReason: ReasonBadSignature},
		{name: "github other body", scheme: WebhookGitHub, secrets: []string{newSecret}, cred: WebhookCredentials{GitHubSignature: githubSig(newSecret, []byte(`{"ref":"refs/heads/evil"}`))}, wantReason: ReasonBadSignature},
		{name: "github missing", scheme: WebhookGitHub, secrets: []string{newSecret}, cred: WebhookCredentials{Authorization: "Bearer x"}, wantReason: ReasonMissingHeader, wantText: "missing X-Hub-Signature-256"},
		{name: "github sha1 form", scheme: WebhookGitHub, secrets: []string{newSecret}, cred: WebhookCredentials{GitHubSignature: "sha1=0123456789abcdef0123456789abcdef01234567"}, wantReason: ReasonMalformedHeader, wantText: "malformed X-Hub-Signature-256"},
		{name: "github not hex", scheme: WebhookGitHub, secrets: []string{newSecret}, cred: WebhookCredentials{GitHubSignature: "sha256=" + strings.Repeat("zz", 32)}, wantReason: ReasonMalformedHeader},
		{name: "github short", scheme: WebhookGitHub, secrets: []string{newSecret}, cred: WebhookCredentials{GitHubSignature: githubSig(newSecret, body)[:70]}, wantReason: ReasonMalformedHeader},

		{name: "hookline signed", scheme: WebhookHookline, secrets: []string{newSecret}, cred: WebhookCredentials{Signature: hooklineSig(newSecret, ts, body), Timestamp: ts}},
		{name: "hookline 299s old", scheme: WebhookHookline, secrets: []string{newSecret}, cred: WebhookCredentials{Signature: hooklineSig(newSecret, at(-299*time.Second), body), Timestamp: at(-299 * time.Second)}},
		{name: "hookline 300s ahead", scheme: WebhookHookline, secrets: []string{newSecret}, cred: WebhookCredentials{Signature: hooklineSig(newSecret, at(300*time.Second), body), Timestamp: at(300 * time.Second)}},
		{name: "hookline stale past", scheme: WebhookHookline, secrets: []string{newSecret}, cred: WebhookCredentials{Signature: hooklineSig(newSecret, at(-301*time.Second), body), Timestamp: at(-301 * time.Second)}, wantReason: ReasonStaleTimestamp, wantText: "301 seconds in the past"},
		{name: "hookline stale future", scheme: WebhookHookline, secrets: []string{newSecret}, cred: WebhookCredentials{Signature: hooklineSig(newSecret, at(10*time.Minute), body), Timestamp: at(10 * time.Minute)}, wantReason: ReasonStaleTimestamp, wantText: "600 seconds in the future"},
		{name: "hookline timestamp not signed", scheme: WebhookHookline, secrets: []string{newSecret}, cred: WebhookCredentials{Signature: hooklineSig(newSecret, at(-10*time.Minute), body), Timestamp: ts}, wantReason: ReasonBadSignature},
		{name: "hookline body-only signature", scheme: WebhookHookline, secrets: []string{newSecret}, cred: WebhookCredentials{Signature: githubSig(newSecret, body), Timestamp: ts}, wantReason: ReasonBadSignature},
		{name: "hookline rotation", scheme: WebhookHookline, secrets: both, cred: WebhookCredentials{Signature: hooklineSig(oldSecret, ts, body), Timestamp: ts}},
		{name: "hookline missing both", scheme: WebhookHookline, secrets: []string{newSecret}, wantReason: ReasonMissingHeader, wantText: "missing X-Hookline-Signature and X-Hookline-Timestamp"},
		{name: "hookline missing timestamp", scheme: WebhookHookline, secrets: []string{newSecret}, cred: WebhookCredentials{Signature: hooklineSig(newSecret, ts, body)}, wantReason: ReasonMissingHeader, wantText: "missing X-Hookline-Timestamp"},
		{name: "hookline missing signature", scheme: WebhookHookline, secrets: []string{newSecret}, cred: WebhookCredentials{Timestamp: ts}, wantReason: ReasonMissingHeader, wantText: "missing X-Hookline-Signature header"},
		{name: "hookline timestamp in ms", scheme: WebhookHookline, secrets: []string{newSecret}, cred: WebhookCredentials{Signature: hooklineSig(newSecret, ts+"000", body), Timestamp: ts + "000"}, wantReason: ReasonMalformedHeader, wantText: "unix seconds"},
		{name: "hookline timestamp not a number", scheme: WebhookHookline, secrets: []string{newSecret}, cred: WebhookCredentials{Signature: hooklineSig(newSecret, "-5", body), Timestamp: "-5"}, wantReason: ReasonMalformedHeader},

		{name: "bearer", scheme: WebhookBearer, cred: WebhookCredentials{Authorization: "Bearer the-token"}},
		{name: "bearer lower case", scheme: WebhookBearer, cred: WebhookCredentials{Authorization: "bearer the-token"}},
		{name: "bearer wrong", scheme: WebhookBearer, cred: WebhookCredentials{Authorization: "Bearer the-tokem"}, wantReason: ReasonBadToken, wantText: "invalid hook token"},
		{name: "bearer missing", scheme: WebhookBearer, cred: WebhookCredentials{GitHubSignature: githubSig(newSecret, body)}, wantReason: ReasonMissingHeader, wantText: "missing Authorization"},
		{name: "bearer basic", scheme: WebhookBearer, cred: WebhookCredentials{Authorization: "Basic dGhlLXRva2Vu"}, wantReason: ReasonMalformedHeader},
		{name: "bearer empty", scheme: WebhookBearer, cred: WebhookCredentials{Authorization: "Bearer "}, wantReason: ReasonMalformedHeader},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyDelivery(tt.scheme, tt.secrets, "the-token", tt.cred, body, now)
			// Whichever secret is tried first, the answer is the same,
			// and a signature is accepted with the secret that made it.
			for _, first := range []string{"", oldSecret, newSecret, "not-a-listed-secret"} {
				used, err2 := VerifyDeliveryFirst(tt.scheme, tt.secrets, first, "the-token", tt.cred, body, now)
				if (err == nil) != (err2 == nil) || err != nil && err.Error() != err2.Error() {
					t.Fatalf("first %q: %v, VerifyDelivery: %v", first, err2, err)
				}
				if err2 == nil && tt.scheme != WebhookBearer && VerifyDelivery(tt.scheme, []string{used}, "", tt.cred, body, now) != nil {
					t.Fatalf("first %q: accepted with %q, which did not make the signature", first, used)
				}
			}
			if tt.wantReason == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var se *SignatureError
			if !errors.As(err, &se) || se.Reason != tt.wantReason || se.Scheme != tt.scheme || !errors.Is(err, ErrUnauthorized) {
				t.Fatalf("got %#v, want a %s refusal under %s", err, tt.wantReason, tt.scheme)
			}
			if !strings.Contains(se.Message, tt.wantText) {
				t.Fatalf("message %q does not say %q", se.Message, tt.wantText)
			}
			// The message never reveals a secret, the token or the
			// expected signature.
			for _, secret := range []string{oldSecret, newSecret, "the-token", githubSig(newSecret, body)[7:], hooklineSig(newSecret, ts, body)[7:]} {
				if strings.Contains(se.Message, secret) {
					t.Fatalf("message %q reveals %q", se.Message, secret)
				}
			}
		})
	}
}

func TestRenderExtraContext(t *testing.T) {
	svc, _ := newService(t)
	req := FireRequest{
		FiredBy: FiredByTriggerHookWithToken,
		Payload: map[string]any{"p": 1},
		Extra: map[string]any{
			"webhook":  map[string]any{"event": "push"},
			"firedBy":  "forged",
			"taskId":   "forged",
			"now":      "forged",
			"payload":  "forged",
			"clientId": "forged",
		},
	}
	task := renderTask(t, svc, `{"event":"${webhook.event}","firedBy":"${firedBy}","taskId":"${taskId}","p":{"$eval":"payload"},
		"client":{"$if":"defined('clientId')","then":"${clientId}","else":"absent"}}`, req, "TASKID", now)
	if task["event"] != "push" || task["firedBy"] != FiredByTriggerHookWithToken || task["taskId"] != "TASKID" || task["client"] != "absent" {
		t.Fatalf("extra context overrode the standard one: %v", task)
	}
	if p, _ := json.Marshal(task["p"]); string(p) != `{"p":1}` {
		t.Fatalf("payload = %s", p)
	}
	// A scheduled fire gets no payload from Extra either.
	sched := renderTask(t, svc, `{"has":{"$eval":"defined('payload')"}}`, FireRequest{FiredBy: FiredBySchedule, Extra: map[string]any{"payload": 1}}, "T", now)
	if sched["has"] != false {
		t.Fatalf("schedule context got a payload: %v", sched)
	}
}

func TestVerifyWebhookUsesSettings(t *testing.T) {
	svc, st := newService(t)
	ctx := context.Background()
	if _, err := svc.Definitions.CreateHook(ctx, "g", "h", input("n")); err != nil {
		t.Fatal(err)
	}
	rec, err := st.GetHook(ctx, "g", "h")
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{}`)
	bearer := WebhookCredentials{Authorization: "Bearer " + rec.TriggerToken}
	// Without settings: the trigger token as a bearer token.
	target, err := svc.Intake.VerifyWebhook(ctx, "g", "h", bearer, body)
	if err != nil || target.Scheme != WebhookBearer || target.HookGroupID() != "g" || target.HookID() != "h" {
		t.Fatalf("bearer without settings: %+v %v", target, err)
	}
	// A missing hook is reported first.
	if _, err := svc.Intake.VerifyWebhook(ctx, "g", "nope", bearer, body); err == nil || !strings.Contains(err.Error(), "No such hook") {
		t.Fatalf("missing hook: %v", err)
	}
	// With github settings the token no longer passes; the signature does.
	if _, err := svc.Operations.PutSettings(ctx, "g", "h", Settings{Webhook: &WebhookSettings{Scheme: WebhookGitHub, Secrets: []string{newSecret}, Headers: []string{"X-Custom"}}}); err != nil {
		t.Fatal(err)
	}
	var se *SignatureError
	if _, err := svc.Intake.VerifyWebhook(ctx, "g", "h", bearer, body); !errors.As(err, &se) || se.Scheme != WebhookGitHub {
		t.Fatalf("bearer under github settings: %v", err)
	}
	target, err = svc.Intake.VerifyWebhook(ctx, "g", "h", WebhookCredentials{GitHubSignature: githubSig(newSecret, body)}, body)
	if err != nil || target.Scheme != WebhookGitHub || strings.Join(target.Headers, ",") != "x-custom" {
		t.Fatalf("github: %+v %v", target, err)
	}
	// In rotation, the secret that verified last is tried first next
	// time; any listed secret still verifies, an unlisted one never.
	if _, err := svc.Operations.PutSettings(ctx, "g", "h", Settings{Webhook: &WebhookSettings{Scheme: WebhookGitHub, Secrets: []string{newSecret, oldSecret}}}); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		secret string
		ok     bool
	}{{oldSecret, true}, {oldSecret, true}, {newSecret, true}, {"third-secret-000000000000", false}, {oldSecret, true}} {
		_, err := svc.Intake.VerifyWebhook(ctx, "g", "h", WebhookCredentials{GitHubSignature: githubSig(tt.secret, body)}, body)
		if (err == nil) != tt.ok {
			t.Fatalf("signed with %q: %v, want accepted %v", tt.secret, err, tt.ok)
		}
		if last, _ := svc.Intake.lastSecrets.Load("g/h"); tt.ok && last != tt.secret {
			t.Fatalf("signed with %q: %q is tried first next", tt.secret, last)
		}
	}
}
