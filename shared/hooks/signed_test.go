package hooks

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"testing"

	"github.com/hookline/hookline/shared/store"
)

// A hook that takes signed deliveries refuses its token route, whatever the
// token; the API trigger and the signed route still fire it, and each
// decision says how the fire proved itself.
func TestTokenRoute_SignedOnly(t *testing.T) {
	e := newSchedEnv(t)
	ctx := context.Background()
	in := input("n")
	in.TriggerSchema = []byte(`{"type":"object"}`)
	if _, err := e.svc.Definitions.CreateHook(ctx, "g", "h", in); err != nil {
		t.Fatal(err)
	}
	token := func() string {
		t.Helper()
		tok, err := e.svc.Definitions.TriggerToken(ctx, "g", "h")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	if _, err := e.svc.Firing.TriggerHookWithToken(ctx, "g", "h", token(), map[string]any{}, "k1"); err != nil {
		t.Fatalf("bearer hook, token route: %v", err)
	}
	for _, scheme := range []string{WebhookGitHub, WebhookHookline} {
		t.Run(scheme, func(t *testing.T) {
			if _, err := e.svc.Operations.PutSettings(ctx, "g", "h", Settings{Webhook: &WebhookSettings{Scheme: scheme, Secrets: []string{newSecret}}}); err != nil {
				t.Fatal(err)
			}
			for _, tok := range []string{token(), "wrong"} {
				var se *SignatureError
				_, err := e.svc.Firing.TriggerHookWithToken(ctx, "g", "h", tok, map[string]any{}, "k-"+scheme)
				if !errors.As(err, &se) || se.Reason != ReasonSignedOnly || !errors.Is(err, ErrUnauthorized) {
					t.Fatalf("token route of a %s hook: %v", scheme, err)
				}
			}
			if _, err := e.svc.Firing.TriggerHook(ctx, "g", "h", map[string]any{}, "client", "api-"+scheme); err != nil {
				t.Fatalf("triggerHook of a %s hook: %v", scheme, err)
			}
		})
	}
	body := []byte(`{}`)
	target, err := e.svc.Intake.VerifyWebhook(ctx, "g", "h", WebhookCredentials{Signature: hooklineSig(newSecret, strconv.FormatInt(e.clock.Now().Unix(), 10), body), Timestamp: strconv.FormatInt(e.clock.Now().Unix(), 10)}, body)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Intake.FireWebhook(ctx, target, WebhookDelivery{Payload: map[string]any{}}); err != nil {
		t.Fatal(err)
	}
	page, err := e.svc.Operations.ListDecisions(ctx, "g", "h", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var schemes []string
	for _, d := range page.Decisions {
		schemes = append(schemes, d.FiredBy+":"+d.WebhookScheme)
	}
	// The clock stands still, so the order is not the test's concern.
	slices.Sort(schemes)
	want := []string{"triggerHook:", "triggerHook:", "triggerHookWithToken:hookline", "triggerHookWithToken:token"}
	if !slices.Equal(schemes, want) {
		t.Fatalf("decisions %q, want %q", schemes, want)
	}
}

// Changing the webhook scheme resets the trigger token; changing anything
// else keeps it.
func TestPutSettings_SchemeChangeResetsToken(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	if _, err := svc.Definitions.CreateHook(ctx, "g", "h", input("n")); err != nil {
		t.Fatal(err)
	}
	token := func() string {
		t.Helper()
		tok, err := svc.Definitions.TriggerToken(ctx, "g", "h")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	github := &WebhookSettings{Scheme: WebhookGitHub, Secrets: []string{newSecret}}
	for _, tt := range []struct {
		name      string
		settings  Settings
		wantReset bool
	}{
		{"bearer made explicit", Settings{Webhook: &WebhookSettings{Scheme: WebhookBearer}}, false},
		{"bearer to github", Settings{Webhook: github}, true},
		{"github, secrets rotated", Settings{Webhook: &WebhookSettings{Scheme: WebhookGitHub, Secrets: []string{oldSecret, newSecret}}}, false},
		{"github, filters added", Settings{Webhook: github, Filters: []string{"true"}}, false},
		{"github to hookline", Settings{Webhook: &WebhookSettings{Scheme: WebhookHookline}}, true},
		{"hookline to none (bearer)", Settings{}, true},
	} {
		before := token()
		if _, err := svc.Operations.PutSettings(ctx, "g", "h", tt.settings); err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if reset := token() != before; reset != tt.wantReset {
			t.Errorf("%s: token reset %v, want %v", tt.name, reset, tt.wantReset)
		}
	}
}
