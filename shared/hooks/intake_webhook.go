package hooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline/shared/store"
)

// WebhookTolerance is how far X-Hookline-Timestamp may be from the clock,
// in either direction, before a delivery is refused as stale.
const WebhookTolerance = 5 * time.Minute

// Why a webhook delivery was refused (SignatureError.Reason). They are
// meant for logs and counters.
const (
	ReasonMissingHeader   = "missing-header"
	ReasonMalformedHeader = "malformed-header"
	ReasonBadSignature    = "bad-signature"
	ReasonStaleTimestamp  = "stale-timestamp"
	ReasonBadToken        = "bad-token"
	// ReasonSignedOnly is a token-route call to a hook that takes signed
	// deliveries only.
	ReasonSignedOnly = "signed-only"
)

// SignatureError is a webhook delivery whose credentials were refused. It
// maps to 401 AuthenticationFailed. Message says what was wrong (a missing
// header, a bad signature, a stale timestamp) and never what was expected.
type SignatureError struct {
	// Scheme is the webhook scheme the delivery was checked against.
	Scheme string
	// Reason is one of the Reason constants.
	Reason string
	// Message is meant for the sender.
	Message string
}

func (e *SignatureError) Error() string { return e.Message }

// Unwrap makes errors.Is(err, ErrUnauthorized) hold.
func (e *SignatureError) Unwrap() error { return ErrUnauthorized }

// WebhookCredentials are the headers a delivery may authenticate with.
type WebhookCredentials struct {
	// Authorization is the Authorization header (bearer scheme).
	Authorization string
	// GitHubSignature is X-Hub-Signature-256 (github scheme).
	GitHubSignature string
	// Signature and Timestamp are X-Hookline-Signature and
	// X-Hookline-Timestamp (hookline scheme).
	Signature string
	Timestamp string
}

// WebhookTarget is a hook that a delivery was verified for.
type WebhookTarget struct {
	def Definition
	// signature is the delivery's verified signature (lower-case hex),
	// or "" for a bearer token.
	signature string
	// Scheme is the scheme the delivery passed.
	Scheme string
	// Headers are the extra headers the hook's settings pass to the
	// template, lower-cased.
	Headers []string
}

// HookGroupID names the target hook's group.
func (t *WebhookTarget) HookGroupID() string { return t.def.HookGroupID }

// HookID names the target hook.
func (t *WebhookTarget) HookID() string { return t.def.HookID }

// VerifyWebhook finds the hook and checks a delivery's credentials and
// signature over body against the hook's webhook settings; a hook without
// them takes its trigger token as a bearer token. A missing hook is
// reported before bad credentials, as on the token route. Refusals are
// *SignatureError values.
func (in *Intake) VerifyWebhook(ctx context.Context, hookGroupID, hookID string, cred WebhookCredentials, body []byte) (*WebhookTarget, error) {
	// Both records are needed; on DynamoDB, reading them side by side
	// halves the wait.
	var (
		rec       store.Hook
		hookErr   error
		settings  Settings
		settError error
		wg        sync.WaitGroup
	)
	wg.Go(func() { settings, _, settError = in.loadSettings(ctx, hookGroupID, hookID) })
	rec, hookErr = in.store.GetHook(ctx, hookGroupID, hookID)
	wg.Wait()
	if hookErr != nil {
		return nil, in.hookErr(hookGroupID, hookID, hookErr)
	}
	if settError != nil {
		return nil, settError
	}
	t := &WebhookTarget{Scheme: WebhookBearer}
	var secrets []string
	if w := settings.Webhook; w != nil {
		t.Scheme, secrets, t.Headers = w.Scheme, w.Secrets, w.Headers
	}
	key := hookGroupID + "/" + hookID
	last, _ := in.lastSecrets.Load(key)
	lastSecret, _ := last.(string)
	used, err := VerifyDeliveryFirst(t.Scheme, secrets, lastSecret, rec.TriggerToken, cred, body, in.now())
	if err != nil {
		in.noteSignatureFailure(ctx, hookGroupID, hookID, settings, err)
		return nil, err
	}
	if used != "" && used != lastSecret {
		in.lastSecrets.Store(key, used)
	}
	switch t.Scheme {
	case WebhookGitHub:
		t.signature = strings.ToLower(strings.TrimSpace(cred.GitHubSignature))
	case WebhookHookline:
		t.signature = strings.ToLower(strings.TrimSpace(cred.Signature))
	}
	def, err := decodeDefinition(rec.Definition)
	if err != nil {
		return nil, err
	}
	t.def = def
	return t, nil
}

// VerifyDelivery checks a delivery's credentials under scheme: an HMAC
// signature of body under any of secrets (github, hookline), or token as a
// bearer token. Every comparison takes constant time. It returns a
// *SignatureError when the delivery is refused.
func VerifyDelivery(scheme string, secrets []string, token string, cred WebhookCredentials, body []byte, now time.Time) error {
	_, err := VerifyDeliveryFirst(scheme, secrets, "", token, cred, body, now)
	return err
}

// VerifyDeliveryFirst is VerifyDelivery trying first, when it is one of
// secrets, the secret that verified the hook's last delivery: during a
// rotation senders still sign with the old secret, listed second, and
// each secret tried costs an HMAC over the whole body. It returns the
// secret that verified the delivery ("" for a bearer token).
func VerifyDeliveryFirst(scheme string, secrets []string, first, token string, cred WebhookCredentials, body []byte, now time.Time) (string, error) {
	if first != "" && len(secrets) > 1 && secrets[0] != first && slices.Contains(secrets, first) {
		ordered := make([]string, 0, len(secrets))
		ordered = append(ordered, first)
		for _, s := range secrets {
			if s != first {
				ordered = append(ordered, s)
			}
		}
		secrets = ordered
	}
	switch scheme {
	case WebhookGitHub:
		return verifyGitHub(secrets, cred.GitHubSignature, body)
	case WebhookHookline:
		return verifyHookline(secrets, cred.Signature, cred.Timestamp, body, now)
	case WebhookBearer:
		return "", verifyBearer(token, cred.Authorization)
	default:
		return "", fmt.Errorf("hooks: unknown webhook scheme %q in stored settings", scheme)
	}
}

func refuse(scheme, reason, format string, args ...any) error {
	return &SignatureError{Scheme: scheme, Reason: reason, Message: fmt.Sprintf(format, args...)}
}

func verifyGitHub(secrets []string, header string, body []byte) (string, error) {
	if header == "" {
		return "", refuse(WebhookGitHub, ReasonMissingHeader,
			"missing X-Hub-Signature-256 header: this hook's webhook takes GitHub signatures (set the webhook's secret in GitHub)")
	}
	mac, ok := parseSHA256Signature(header)
	if !ok {
		return "", refuse(WebhookGitHub, ReasonMalformedHeader, "malformed X-Hub-Signature-256 header: it must be sha256= and 64 hex digits")
	}
	var sum [sha256.Size]byte
	for _, secret := range secrets {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write(body)
		if hmac.Equal(m.Sum(sum[:0]), mac[:]) {
			return secret, nil
		}
	}
	return "", refuse(WebhookGitHub, ReasonBadSignature,
		"bad signature: X-Hub-Signature-256 does not match the request body under the hook's webhook secret")
}

func verifyHookline(secrets []string, header, timestamp string, body []byte, now time.Time) (string, error) {
	switch {
	case header == "" && timestamp == "":
		return "", refuse(WebhookHookline, ReasonMissingHeader,
			"missing X-Hookline-Signature and X-Hookline-Timestamp headers: this hook's webhook takes Hookline signatures")
	case header == "":
		return "", refuse(WebhookHookline, ReasonMissingHeader, "missing X-Hookline-Signature header")
	case timestamp == "":
		return "", refuse(WebhookHookline, ReasonMissingHeader, "missing X-Hookline-Timestamp header")
	}
	mac, ok := parseSHA256Signature(header)
	if !ok {
		return "", refuse(WebhookHookline, ReasonMalformedHeader, "malformed X-Hookline-Signature header: it must be sha256= and 64 hex digits")
	}
	ts, ok := parseUnixSeconds(timestamp)
	if !ok {
		return "", refuse(WebhookHookline, ReasonMalformedHeader, "malformed X-Hookline-Timestamp header: it must be a time in unix seconds")
	}
	used, valid := "", false
	var sum [sha256.Size]byte
	for _, secret := range secrets {
		m := hmac.New(sha256.New, []byte(secret))
		m.Write([]byte(timestamp))
		m.Write([]byte{'.'})
		m.Write(body)
		if hmac.Equal(m.Sum(sum[:0]), mac[:]) {
			used, valid = secret, true
			break
		}
	}
	if !valid {
		return "", refuse(WebhookHookline, ReasonBadSignature,
			`bad signature: X-Hookline-Signature does not match "<X-Hookline-Timestamp>.<request body>" under the hook's webhook secret`)
	}
	// The timestamp is judged only once the signature shows it is the
	// sender's: a replayed delivery is refused here.
	limit := int64(WebhookTolerance / time.Second)
	switch skew := now.Unix() - ts; {
	case skew > limit:
		return "", refuse(WebhookHookline, ReasonStaleTimestamp,
			"stale timestamp: X-Hookline-Timestamp is %d seconds in the past; deliveries are accepted within %d seconds of the server's clock", skew, limit)
	case skew < -limit:
		return "", refuse(WebhookHookline, ReasonStaleTimestamp,
			"stale timestamp: X-Hookline-Timestamp is %d seconds in the future; deliveries are accepted within %d seconds of the server's clock", -skew, limit)
	}
	return used, nil
}

func verifyBearer(token, header string) error {
	if header == "" {
		return refuse(WebhookBearer, ReasonMissingHeader,
			"missing Authorization header: send the hook's trigger token as Authorization: Bearer <token>, or give the hook webhook settings for signed deliveries")
	}
	kind, value, ok := strings.Cut(header, " ")
	value = strings.TrimSpace(value)
	if !ok || !strings.EqualFold(kind, "Bearer") || value == "" {
		return refuse(WebhookBearer, ReasonMalformedHeader, "malformed Authorization header: it must be Bearer <token>")
	}
	if token == "" || subtle.ConstantTimeCompare([]byte(value), []byte(token)) != 1 {
		return refuse(WebhookBearer, ReasonBadToken, "invalid hook token in the Authorization header")
	}
	return nil
}

// parseSHA256Signature reads "sha256=<64 hex digits>".
func parseSHA256Signature(header string) ([sha256.Size]byte, bool) {
	var mac [sha256.Size]byte
	digits, ok := strings.CutPrefix(strings.TrimSpace(header), "sha256=")
	if !ok || len(digits) != 2*sha256.Size {
		return mac, false
	}
	if _, err := hex.Decode(mac[:], []byte(digits)); err != nil {
		return mac, false
	}
	return mac, true
}

// parseUnixSeconds reads a timestamp of plain decimal digits.
func parseUnixSeconds(v string) (int64, bool) {
	if v == "" || len(v) > 12 {
		return 0, false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < '0' || v[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	return n, err == nil
}

// signatureRetention is how long a delivery's signature is remembered: as
// long as the fire claim it leads to.
const signatureRetention = fireClaimRetention

// claimSignature records that the target's signature fires under key, and
// returns the key the signature's first delivery fired under.
func (in *Intake) claimSignature(ctx context.Context, t *WebhookTarget, key string) (string, error) {
	// A fixed-length claim key, whatever the length of the hook ids.
	sum := sha256.Sum256([]byte(t.def.HookGroupID + "\x00" + t.def.HookID + "\x00" + t.signature))
	claimKey := "webhook-signature/" + hex.EncodeToString(sum[:])
	now := in.now()
	err := in.store.CreateClaim(ctx, store.Claim{Key: claimKey, Body: []byte(key), CreatedAt: now, ExpiresAt: now.Add(signatureRetention)}, now)
	if err == nil {
		return key, nil
	}
	if !errors.Is(err, store.ErrConflict) {
		return "", fmt.Errorf("hooks: claim webhook signature: %w", err)
	}
	c, err := in.store.GetClaim(ctx, claimKey, now)
	if errors.Is(err, store.ErrNotFound) {
		return key, nil // expired just now: as if never seen
	}
	if err != nil {
		return "", fmt.Errorf("hooks: read webhook signature claim: %w", err)
	}
	if first := string(c.Body); first != key {
		in.log.WarnContext(ctx, "webhook delivery repeats an earlier signature", "hookGroupId", t.def.HookGroupID, "hookId", t.def.HookID, "scheme", t.Scheme)
		return first, nil
	}
	return key, nil
}

// WebhookDelivery is a verified delivery to fire the hook with.
type WebhookDelivery struct {
	// Payload is the parsed body: the template's `payload`, checked
	// against the hook's triggerSchema as for token triggers.
	Payload any
	// Event names the event (X-GitHub-Event, X-Hookline-Event), or "".
	Event string
	// DeliveryID is the sender's id of the delivery (X-GitHub-Delivery,
	// X-Hookline-Delivery), or "". A redelivery with the same id fires
	// once.
	DeliveryID string
	// IdempotencyKey is the Idempotency-Key header, which wins over the
	// delivery id when both are given.
	IdempotencyKey string
	// ContentType is the body's media type.
	ContentType string
	// Headers are the passed request headers, by lower-case name.
	Headers map[string]string
	// Query holds the URL's query parameters, first value of each.
	Query map[string]string
}

// FireWebhook fires the hook of a verified delivery, as a token trigger
// (firedBy triggerHookWithToken, so templates and fire records keep
// upstream's values), with the extra JSON-e variable `webhook`:
//
//	{scheme, event, deliveryId, contentType, headers: {...}, query: {...}}
//
// `payload` stays the body. The delivery id (or Idempotency-Key) makes
// redeliveries fire once. Neither header is signed, so a signed delivery
// also claims its signature: a replay of it under another id, which GitHub's
// scheme cannot tell from the original, gets the original's task.
func (in *Intake) FireWebhook(ctx context.Context, t *WebhookTarget, d WebhookDelivery) (FireResult, error) {
	key := d.IdempotencyKey
	if key == "" && d.DeliveryID != "" {
		key = "webhook-delivery:" + d.DeliveryID
	}
	if t.signature != "" {
		if key == "" {
			key = "webhook-signature:" + t.signature
		}
		var err error
		if key, err = in.claimSignature(ctx, t, key); err != nil {
			return FireResult{}, err
		}
	}
	headers := make(map[string]any, len(d.Headers))
	for k, v := range d.Headers {
		headers[k] = v
	}
	query := make(map[string]any, len(d.Query))
	for k, v := range d.Query {
		query[k] = v
	}
	webhook := map[string]any{
		"scheme":      t.Scheme,
		"event":       d.Event,
		"deliveryId":  d.DeliveryID,
		"contentType": d.ContentType,
		"headers":     headers,
		"query":       query,
	}
	return in.fire(ctx, t.def, FireRequest{
		FiredBy:        FiredByTriggerHookWithToken,
		Payload:        d.Payload,
		IdempotencyKey: key,
		Extra:          map[string]any{"webhook": webhook},
		WebhookScheme:  t.Scheme,
		// Checked as a token trigger's: triggerSchema, and a payload taskId.
		check: checkSchemaAndTaskID,
	})
}
