package hooks

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline/shared/store"
)

// The webhook schemes: how deliveries to the webhook route prove they come
// from the hook's sender.
const (
	// WebhookGitHub checks `X-Hub-Signature-256: sha256=<hex HMAC-SHA256
	// of the raw body>`, as GitHub sends it.
	WebhookGitHub = "github"
	// WebhookHookline checks `X-Hookline-Signature: sha256=<hex
	// HMAC-SHA256 of "<timestamp>.<body>">` with `X-Hookline-Timestamp`
	// (unix seconds) within WebhookTolerance of the clock.
	WebhookHookline = "hookline"
	// WebhookBearer checks the hook's trigger token in `Authorization:
	// Bearer <token>`. It is what a hook without webhook settings uses.
	WebhookBearer = "bearer"
)

// MaxWebhookSecrets is how many signing secrets may be active at once: two
// while a secret is rotated.
const MaxWebhookSecrets = 2

// Bounds of one signing secret. A short secret is refused: an HMAC is only
// as strong as its key.
const (
	minSecretLength = 16
	maxSecretLength = 256
	maxExtraHeaders = 20
)

// Settings are a hook's Hookline-only settings, kept apart from the hook
// definition so that upstream clients keep validating it (docs/architecture.md,
// "Extensions beyond upstream"). The zero Settings, which a hook without a
// stored record has, behave as upstream.
type Settings struct {
	// Webhook configures the webhook route; nil means bearer tokens only.
	Webhook *WebhookSettings `json:"webhook,omitempty"`
	// Paused, when set, stops every fire of the hook (see PauseState).
	// On a put, the server sets its level and time; a hook that stays
	// paused keeps the time it was first paused.
	Paused *PauseState `json:"paused,omitempty"`
	// Filters are JSON-e expressions evaluated against the fire's context
	// (firedBy, taskId, now, payload, clientId, webhook) before the
	// template renders; the hook fires only when every one is truthy.
	Filters []string `json:"filters,omitempty"`
	// Schedule says how the hook's slots are computed and fired (time
	// zone, bounds, exclusions, one-time fires, catch-up, jitter); nil
	// schedules it as upstream does.
	Schedule *ScheduleSettings `json:"schedule,omitempty"`
	// Notify says which hook events go to which targets
	// (notify_settings.go); nil: upstream's failure email only.
	Notify *NotifySettings `json:"notify,omitempty"`
	// History caps the hook's history below the service's cap
	// (history.go).
	History *HistorySettings `json:"history,omitempty"`
}

// Bounds of a hook's filters.
const (
	maxFilters      = 10
	maxFilterLength = 1024
)

// WebhookSettings say how the webhook route authenticates deliveries.
type WebhookSettings struct {
	// Scheme is WebhookGitHub, WebhookHookline or WebhookBearer.
	Scheme string `json:"scheme"`
	// Secrets are the signing secrets of the github and hookline schemes:
	// one, or two while rotating. They are write-only in the API. On a
	// put, nil keeps the stored ones.
	Secrets []string `json:"secrets,omitempty"`
	// Headers names request headers (lower-cased) passed to the template
	// under webhook.headers besides the ones always passed.
	Headers []string `json:"headers,omitempty"`
}

// scheme is the webhook scheme the settings give the webhook route:
// WebhookBearer when they give none.
func (st Settings) scheme() string {
	if st.Webhook == nil {
		return WebhookBearer
	}
	return st.Webhook.Scheme
}

// SettingsView is Settings as the API shows them: secrets are counted and
// fingerprinted, never returned.
type SettingsView struct {
	Webhook *WebhookView `json:"webhook,omitempty"`
	Paused  *PauseState  `json:"paused,omitempty"`
	Filters []string     `json:"filters,omitempty"`
	// Schedule is shown as stored: it holds no secret.
	Schedule *ScheduleSettings `json:"schedule,omitempty"`
	Notify   *NotifyView       `json:"notify,omitempty"`
	History  *HistorySettings  `json:"history,omitempty"`
}

// WebhookView is WebhookSettings without the secrets.
type WebhookView struct {
	Scheme             string   `json:"scheme"`
	SecretCount        int      `json:"secretCount"`
	SecretFingerprints []string `json:"secretFingerprints"`
	Headers            []string `json:"headers"`
}

// View returns the settings as the API shows them.
func (st Settings) View() SettingsView {
	view := SettingsView{Paused: st.Paused, Filters: st.Filters, Schedule: st.Schedule, Notify: st.Notify.View(), History: st.History}
	if st.Webhook == nil {
		return view
	}
	w := st.Webhook
	v := &WebhookView{Scheme: w.Scheme, SecretCount: len(w.Secrets), SecretFingerprints: []string{}, Headers: []string{}}
	for _, s := range w.Secrets {
		v.SecretFingerprints = append(v.SecretFingerprints, SecretFingerprint(s))
	}
	v.Headers = append(v.Headers, w.Headers...)
	view.Webhook = v
	return view
}

// SecretFingerprint names a secret without revealing it: "sha256:" and the
// first 8 hex digits of its SHA-256, enough to tell two secrets apart.
func SecretFingerprint(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return "sha256:" + hex.EncodeToString(sum[:4])
}

// credentialHeaders carry secrets and are never passed to a template.
var credentialHeaders = []string{
	"authorization", "proxy-authorization", "cookie", "set-cookie",
	"x-hub-signature", "x-hub-signature-256", "x-hookline-signature",
}

// GetSettings returns a hook's settings, with secrets; the zero Settings
// when it has none. A missing hook is a not-found error.
func (o *Operations) GetSettings(ctx context.Context, hookGroupID, hookID string) (Settings, error) {
	if _, err := o.loadHook(ctx, hookGroupID, hookID); err != nil {
		return Settings{}, err
	}
	st, _, err := o.loadSettings(ctx, hookGroupID, hookID)
	return st, err
}

// PutSettings replaces a hook's settings and returns them as stored. A
// webhook section that omits its secrets keeps the stored ones, so a
// client can change other settings without knowing them. Settings that
// change the webhook scheme reset the hook's trigger token. A missing hook
// is a not-found error; invalid settings are ErrInvalid errors.
func (o *Operations) PutSettings(ctx context.Context, hookGroupID, hookID string, in Settings) (Settings, error) {
	if err := checkSettings(in); err != nil {
		return Settings{}, err
	}
	tokenReset := false
	var before *ScheduleSettings
	var lateAt []time.Time
	var was *PauseState
	stored, err := o.updateSettings(ctx, hookGroupID, hookID, func(current Settings) (Settings, error) {
		was = current.Paused
		next, err := mergeSettings(current, in)
		if err != nil {
			return Settings{}, err
		}
		// Checked before the token reset below, which cannot be undone.
		if lateAt, err = checkPastAt(in.Schedule, current.Schedule, o.now()); err != nil {
			return Settings{}, err
		}
		before, next.Schedule = current.Schedule, in.Schedule
		if !tokenReset && current.scheme() != next.scheme() {
			// A new scheme retires the trigger token: one seen in an old
			// URL or a proxy log must not become a bearer token, nor
			// outlive a switch to signed deliveries. It is reset before the
			// settings are stored, so no moment has the old token and the
			// new scheme together.
			if _, err := o.resetTriggerToken(ctx, hookGroupID, hookID, "webhook scheme changed to "+next.scheme()); err != nil {
				return Settings{}, err
			}
			tokenReset = true
		}
		if in.Paused != nil {
			p := *in.Paused
			p.Level, p.Reason = PauseHook, strings.TrimSpace(p.Reason)
			p.Since = o.now().UTC()
			if current.Paused != nil {
				p.Since, p.By = current.Paused.Since, current.Paused.By
			}
			next.Paused = &p
		}
		next.Filters = slices.Clone(in.Filters)
		if err := o.mergeNotifyAndHistory(&next, current, in); err != nil {
			return Settings{}, err
		}
		return next, nil
	})
	if err == nil {
		o.publishPauseChange(ctx, hookGroupID, hookID, was, stored.Paused)
	}
	if err != nil || sameSchedule(before, stored.Schedule) {
		return stored, err
	}
	// The schedule changed: the hook's next fire follows it at once.
	if err := o.reschedule(ctx, hookGroupID, hookID, stored.Schedule, lateAt); err != nil {
		return Settings{}, fmt.Errorf("hooks: the settings of %s/%s are stored, but its next fire was not recomputed (send them again): %w", hookGroupID, hookID, err)
	}
	return stored, nil
}

// updateSettings applies change to a hook's stored settings with an
// optimistic write, re-reading and re-applying when another write won.
func (o *Operations) updateSettings(ctx context.Context, hookGroupID, hookID string, change func(Settings) (Settings, error)) (Settings, error) {
	for attempt := 0; ; attempt++ {
		if _, err := o.loadHook(ctx, hookGroupID, hookID); err != nil {
			return Settings{}, err
		}
		current, version, err := o.loadSettings(ctx, hookGroupID, hookID)
		if err != nil {
			return Settings{}, err
		}
		next, err := change(current)
		if err != nil {
			return Settings{}, err
		}
		body, err := json.Marshal(next)
		if err != nil {
			return Settings{}, fmt.Errorf("hooks: encode settings: %w", err)
		}
		_, err = o.store.PutSettings(ctx, store.Settings{HookGroupID: hookGroupID, HookID: hookID, Body: body, Version: version})
		if errors.Is(err, store.ErrConflict) && attempt < 4 {
			continue
		}
		if err != nil {
			return Settings{}, fmt.Errorf("hooks: put settings of %s/%s: %w", hookGroupID, hookID, err)
		}
		// RemoveHook deletes the hook before its settings. If it ran
		// between the check above and the put, the record would outlive
		// the hook and pass its secrets to a later hook of the same name:
		// look again and undo.
		if _, err := o.store.GetHook(ctx, hookGroupID, hookID); err != nil {
			if !errors.Is(err, store.ErrNotFound) {
				return Settings{}, o.hookErr(hookGroupID, hookID, err)
			}
			if derr := o.store.DeleteSettings(ctx, hookGroupID, hookID); derr != nil {
				return Settings{}, fmt.Errorf("hooks: drop settings of removed hook %s/%s: %w", hookGroupID, hookID, derr)
			}
			return Settings{}, o.hookErr(hookGroupID, hookID, err)
		}
		attrs := []any{"hookGroupId", hookGroupID, "hookId", hookID, "paused", next.Paused != nil, "filters", len(next.Filters)}
		if next.Webhook != nil {
			attrs = append(attrs, "webhookScheme", next.Webhook.Scheme, "webhookSecrets", len(next.Webhook.Secrets))
		}
		o.log.InfoContext(ctx, "hook settings updated", attrs...)
		return next, nil
	}
}

// checkSettings checks what can be checked without the stored settings.
// The API's schema checks most of it first; the domain checks again for
// callers that do not come through the API.
func checkSettings(in Settings) error {
	if err := checkFilters(in.Filters); err != nil {
		return err
	}
	if err := checkSchedule(in.Schedule); err != nil {
		return err
	}
	if err := checkNotifyAndHistory(in); err != nil {
		return err
	}
	if in.Paused != nil {
		if r := strings.TrimSpace(in.Paused.Reason); r == "" || len(r) > maxPauseReason {
			return invalid("paused.reason must say, in 1 to %d characters, why the hook is paused", maxPauseReason)
		}
	}
	w := in.Webhook
	if w == nil {
		return nil
	}
	switch w.Scheme {
	case WebhookGitHub, WebhookHookline:
	case WebhookBearer:
		if len(w.Secrets) > 0 {
			return invalid("webhook scheme %q takes no secrets: it checks the hook's trigger token (see getTriggerToken and resetTriggerToken)", WebhookBearer)
		}
	default:
		return invalid("webhook scheme %q is unknown; use %q, %q or %q", w.Scheme, WebhookGitHub, WebhookHookline, WebhookBearer)
	}
	if w.Secrets != nil && (len(w.Secrets) < 1 || len(w.Secrets) > MaxWebhookSecrets) {
		return invalid("webhook.secrets must hold 1 or %d secrets (2 while rotating), not %d", MaxWebhookSecrets, len(w.Secrets))
	}
	for i, sec := range w.Secrets {
		if len(sec) < minSecretLength || len(sec) > maxSecretLength {
			return invalid("webhook.secrets[%d] must be %d to %d characters long", i, minSecretLength, maxSecretLength)
		}
		if slices.Index(w.Secrets, sec) != i {
			return invalid("webhook.secrets[%d] repeats an earlier secret", i)
		}
	}
	if len(w.Headers) > maxExtraHeaders {
		return invalid("webhook.headers may name at most %d headers", maxExtraHeaders)
	}
	for i, h := range w.Headers {
		if !validHeaderName(h) {
			return invalid("webhook.headers[%d] %q is not a header name", i, h)
		}
		if slices.Contains(credentialHeaders, strings.ToLower(h)) {
			return invalid("webhook.headers[%d]: %s carries credentials and is never passed to a task", i, h)
		}
	}
	return nil
}

// mergeSettings is in as it will be stored: header names lower-cased and
// deduplicated, omitted secrets taken from current, and the secret count
// the scheme needs checked.
func mergeSettings(current, in Settings) (Settings, error) {
	if in.Webhook == nil {
		return Settings{}, nil
	}
	w := WebhookSettings{Scheme: in.Webhook.Scheme}
	for _, h := range in.Webhook.Headers {
		if h = strings.ToLower(h); !slices.Contains(w.Headers, h) {
			w.Headers = append(w.Headers, h)
		}
	}
	if w.Scheme == WebhookBearer {
		return Settings{Webhook: &w}, nil
	}
	w.Secrets = slices.Clone(in.Webhook.Secrets)
	if w.Secrets == nil && current.Webhook != nil {
		w.Secrets = slices.Clone(current.Webhook.Secrets)
	}
	if len(w.Secrets) == 0 {
		return Settings{}, invalid("webhook scheme %q needs webhook.secrets: 1 secret, or 2 while rotating", w.Scheme)
	}
	return Settings{Webhook: &w}, nil
}

// validHeaderName reports whether h is an HTTP field name (RFC 9110 token)
// of at most 64 characters.
func validHeaderName(h string) bool {
	if h == "" || len(h) > 64 {
		return false
	}
	for i := 0; i < len(h); i++ {
		c := h[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}
