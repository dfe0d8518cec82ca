package hooks

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/hookline/hookline/shared/store"
)

func TestSettings(t *testing.T) {
	svc, st := newService(t)
	ctx := context.Background()
	if _, err := svc.Definitions.CreateHook(ctx, "g", "h", input("n")); err != nil {
		t.Fatal(err)
	}
	// A hook without settings has the zero settings; a missing hook has none.
	if got, err := svc.Operations.GetSettings(ctx, "g", "h"); err != nil || got.Webhook != nil {
		t.Fatalf("fresh hook: %+v %v", got, err)
	}
	if _, err := svc.Operations.GetSettings(ctx, "g", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("missing hook: %v", err)
	}
	if _, err := svc.Operations.PutSettings(ctx, "g", "nope", Settings{}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("put on missing hook: %v", err)
	}
	if _, err := st.GetSettings(ctx, "g", "nope"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("a refused put stored settings: %v", err)
	}

	put := func(w *WebhookSettings) Settings {
		t.Helper()
		got, err := svc.Operations.PutSettings(ctx, "g", "h", Settings{Webhook: w})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	put(&WebhookSettings{Scheme: WebhookGitHub, Secrets: []string{oldSecret}, Headers: []string{"X-Custom", "x-custom", "X-Other"}})
	// Omitted secrets are kept; given ones replace them.
	got := put(&WebhookSettings{Scheme: WebhookHookline, Headers: []string{"X-Custom"}})
	if strings.Join(got.Webhook.Secrets, ",") != oldSecret || got.Webhook.Scheme != WebhookHookline || strings.Join(got.Webhook.Headers, ",") != "x-custom" {
		t.Fatalf("after put without secrets: %+v", got.Webhook)
	}
	put(&WebhookSettings{Scheme: WebhookGitHub, Secrets: []string{newSecret, oldSecret}})
	stored, err := svc.Operations.GetSettings(ctx, "g", "h")
	if err != nil || strings.Join(stored.Webhook.Secrets, ",") != newSecret+","+oldSecret || len(stored.Webhook.Headers) != 0 {
		t.Fatalf("rotation: %+v %v", stored.Webhook, err)
	}
	view := stored.View()
	if view.Webhook.SecretCount != 2 || len(view.Webhook.SecretFingerprints) != 2 ||
		view.Webhook.SecretFingerprints[0] != SecretFingerprint(newSecret) || view.Webhook.SecretFingerprints[0] == view.Webhook.SecretFingerprints[1] {
		t.Fatalf("view: %+v", view.Webhook)
	}
	// Bearer drops the secrets.
	if got := put(&WebhookSettings{Scheme: WebhookBearer}); len(got.Webhook.Secrets) != 0 {
		t.Fatalf("bearer kept secrets: %+v", got.Webhook)
	}
	// ... so a signing scheme now needs them again.
	if _, err := svc.Operations.PutSettings(ctx, "g", "h", Settings{Webhook: &WebhookSettings{Scheme: WebhookGitHub}}); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "needs webhook.secrets") {
		t.Fatalf("github without secrets: %v", err)
	}

	// Removing the hook removes its settings: a new hook of the same name
	// starts without them (and without the old secrets).
	put(&WebhookSettings{Scheme: WebhookGitHub, Secrets: []string{newSecret}})
	if err := svc.Definitions.RemoveHook(ctx, "g", "h"); err != nil {
		t.Fatal(err)
	}
	if _, err := st.GetSettings(ctx, "g", "h"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("settings survived the hook: %v", err)
	}
	if _, err := svc.Definitions.CreateHook(ctx, "g", "h", input("n")); err != nil {
		t.Fatal(err)
	}
	if got, err := svc.Operations.GetSettings(ctx, "g", "h"); err != nil || got.Webhook != nil {
		t.Fatalf("re-created hook inherited settings: %+v %v", got, err)
	}
}

func TestSettingsValidation(t *testing.T) {
	svc, _ := newService(t)
	ctx := context.Background()
	if _, err := svc.Definitions.CreateHook(ctx, "g", "h", input("n")); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		w    WebhookSettings
		want string
	}{
		{"unknown scheme", WebhookSettings{Scheme: "gitlab", Secrets: []string{newSecret}}, `scheme "gitlab" is unknown`},
		{"bearer with secrets", WebhookSettings{Scheme: WebhookBearer, Secrets: []string{newSecret}}, "takes no secrets"},
		{"three secrets", WebhookSettings{Scheme: WebhookGitHub, Secrets: []string{newSecret, oldSecret, "third-secret-0123456789"}}, "1 or 2 secrets"},
		{"empty secret list", WebhookSettings{Scheme: WebhookGitHub, Secrets: []string{}}, "1 or 2 secrets"},
		{"short secret", WebhookSettings{Scheme: WebhookGitHub, Secrets: []string{"short"}}, "16 to 256 characters"},
		{"repeated secret", WebhookSettings{Scheme: WebhookGitHub, Secrets: []string{newSecret, newSecret}}, "repeats"},
		{"bad header name", WebhookSettings{Scheme: WebhookGitHub, Secrets: []string{newSecret}, Headers: []string{"X Bad"}}, "not a header name"},
		{"credential header", WebhookSettings{Scheme: WebhookGitHub, Secrets: []string{newSecret}, Headers: []string{"authorization"}}, "carries credentials"},
		{"signature header", WebhookSettings{Scheme: WebhookGitHub, Secrets: []string{newSecret}, Headers: []string{"X-Hub-Signature-256"}}, "carries credentials"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.Operations.PutSettings(ctx, "g", "h", Settings{Webhook: &tt.w})
			var he *Error
			if !errors.As(err, &he) || !errors.Is(err, ErrInvalid) || !strings.Contains(he.Message, tt.want) {
				t.Fatalf("got %v, want an invalid-input error saying %q", err, tt.want)
			}
			for _, s := range tt.w.Secrets {
				if strings.Contains(he.Message, s) {
					t.Fatalf("message %q reveals a secret", he.Message)
				}
			}
		})
	}
	if got, err := svc.Operations.GetSettings(ctx, "g", "h"); err != nil || got.Webhook != nil {
		t.Fatalf("refused puts stored something: %+v %v", got, err)
	}
}
