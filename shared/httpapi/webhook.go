package httpapi

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline/shared/hooks"
)

// Defaults of the signed webhook route's limits.
const (
	// DefaultWebhookMaxBody is the largest delivery body (1 MB; GitHub
	// caps its payloads at 25 MB, but a push is rarely over 100 KB).
	DefaultWebhookMaxBody = 1 << 20
	// DefaultWebhookRate is how many deliveries per second one hook
	// accepts, per process.
	DefaultWebhookRate = 10
	// DefaultWebhookBurst is how many deliveries one hook accepts at once.
	DefaultWebhookBurst = 20
	// NoWebhookRateLimit as WebhookOptions.Rate turns the rate limit off.
	NoWebhookRateLimit = -1
)

// maxRateBuckets bounds the rate limiter's memory: past it, the buckets of
// idle hooks are dropped (they would be full again anyway).
const maxRateBuckets = 10000

// WebhookOptions limit the signed webhook route. Zero fields take the
// defaults above.
type WebhookOptions struct {
	// MaxBodyBytes is the largest body accepted; more is 413 InputTooLarge.
	MaxBodyBytes int64
	// Rate is the sustained deliveries per second accepted per hook, in
	// this process (a token bucket); NoWebhookRateLimit turns it off.
	// Deliveries over the limit get 429 TooManyRequests with Retry-After.
	Rate float64
	// Burst is how many deliveries a hook may send at once.
	Burst int
}

// WebhookStats count refused webhook deliveries since the router started,
// so a broken sender can be noticed.
type WebhookStats struct {
	// SignatureFailures counts deliveries refused for their credentials,
	// by reason (hooks.ReasonMissingHeader, ...).
	SignatureFailures map[string]int64
	// RateLimited counts deliveries refused by the rate limit.
	RateLimited int64
}

// webhookState is the router's webhook machinery: limits and counters.
type webhookState struct {
	maxBody int64
	limiter *rateLimiter // nil when unlimited

	mu    sync.Mutex
	stats WebhookStats
}

func newWebhookState(o WebhookOptions) *webhookState {
	w := &webhookState{maxBody: o.MaxBodyBytes, stats: WebhookStats{SignatureFailures: map[string]int64{}}}
	if w.maxBody <= 0 {
		w.maxBody = DefaultWebhookMaxBody
	}
	rate, burst := o.Rate, o.Burst
	if rate == 0 {
		rate = DefaultWebhookRate
	}
	if burst <= 0 {
		burst = DefaultWebhookBurst
	}
	if rate > 0 {
		w.limiter = newRateLimiter(rate, burst)
	}
	return w
}

// WebhookStats returns the counts of refused webhook deliveries.
func (rt *Router) WebhookStats() WebhookStats {
	w := rt.webhook
	w.mu.Lock()
	defer w.mu.Unlock()
	out := WebhookStats{SignatureFailures: make(map[string]int64, len(w.stats.SignatureFailures)), RateLimited: w.stats.RateLimited}
	for k, v := range w.stats.SignatureFailures {
		out.SignatureFailures[k] = v
	}
	return out
}

func (w *webhookState) countFailure(reason string) {
	w.mu.Lock()
	w.stats.SignatureFailures[reason]++
	w.mu.Unlock()
}

func (w *webhookState) countLimited() {
	w.mu.Lock()
	w.stats.RateLimited++
	w.mu.Unlock()
}

// Headers passed to the template under webhook.headers whatever the hook's
// settings say, when the delivery has them.
var passedHeaders = []string{
	"content-type", "user-agent", "idempotency-key",
	"x-github-event", "x-github-delivery", "x-github-hook-id",
	"x-github-hook-installation-target-id", "x-github-hook-installation-target-type",
	"x-hookline-event", "x-hookline-delivery", "x-hookline-timestamp",
}

// checkWebhookAllowance is the signed webhook route's authenticate step:
// a source or hook that sent too many wrong credentials is refused before
// the body is read. (The credentials themselves cover the body, so the
// handler checks them.)
func (rt *Router) checkWebhookAllowance(r *request) error {
	group, id := r.params["hookGroupId"], r.params["hookId"]
	if err := rt.credentials.check(r.source, group, id, rt.now()); err != nil {
		rt.webhook.countLimited()
		rt.log.WarnContext(r.ctx, "webhook delivery rate limited for wrong credentials", "hookGroupId", group, "hookId", id, "source", r.source)
		return err
	}
	return nil
}

// triggerWebhook serves POST /api/hookline/v1/hooks/<g>/<h>/webhook: it
// verifies the delivery (hooks.VerifyWebhook), applies the hook's rate
// limit, parses the body and fires the hook.
func (rt *Router) triggerWebhook(r *request) (any, error) {
	group, id := r.params["hookGroupId"], r.params["hookId"]
	cred := hooks.WebhookCredentials{
		Authorization:   r.header.Get("Authorization"),
		GitHubSignature: r.header.Get("X-Hub-Signature-256"),
		Signature:       r.header.Get("X-Hookline-Signature"),
		Timestamp:       r.header.Get("X-Hookline-Timestamp"),
	}
	target, err := rt.svc.Intake.VerifyWebhook(r.ctx, group, id, cred, r.raw)
	if err != nil {
		var se *hooks.SignatureError
		if errors.As(err, &se) {
			// Never the signature, token or secrets: only what failed.
			rt.webhook.countFailure(se.Reason)
			rt.credentials.failed(r.source, group, id, rt.now())
			rt.log.WarnContext(r.ctx, "webhook delivery refused", "hookGroupId", group, "hookId", id, "scheme", se.Scheme, "reason", se.Reason)
		}
		return nil, err
	}
	if l := rt.webhook.limiter; l != nil {
		if ok, wait := l.allow(group+"\x00"+id, rt.now()); !ok {
			rt.webhook.countLimited()
			rt.log.InfoContext(r.ctx, "webhook delivery rate limited", "hookGroupId", group, "hookId", id)
			return nil, &tooManyRequests{
				message:    fmt.Sprintf("hook %s/%s accepts at most %s webhook deliveries per second (bursts of %d); retry later", group, id, strconv.FormatFloat(l.rate, 'f', -1, 64), int(l.burst)),
				retryAfter: wait,
			}
		}
	}
	payload, mediaType, err := parseWebhookPayload(r.header.Get("Content-Type"), r.raw)
	if err != nil {
		return nil, err
	}
	d := hooks.WebhookDelivery{
		Payload:        payload,
		Event:          firstHeader(r.header, "X-GitHub-Event", "X-Hookline-Event"),
		DeliveryID:     firstHeader(r.header, "X-GitHub-Delivery", "X-Hookline-Delivery"),
		IdempotencyKey: r.header.Get("Idempotency-Key"),
		ContentType:    mediaType,
		Headers:        selectHeaders(r.header, target.Headers),
		Query:          make(map[string]string, len(r.query)),
	}
	for k, vs := range r.query {
		if len(vs) > 0 {
			d.Query[k] = vs[0]
		}
	}
	res, err := rt.svc.Intake.FireWebhook(r.ctx, target, d)
	if err != nil {
		return nil, err
	}
	return triggerReply(res), nil
}

func firstHeader(h http.Header, names ...string) string {
	for _, n := range names {
		if v := h.Get(n); v != "" {
			return v
		}
	}
	return ""
}

// selectHeaders returns the passed headers the request has, by lower-case
// name; repeated headers are joined with ", " as HTTP allows.
func selectHeaders(h http.Header, extra []string) map[string]string {
	out := map[string]string{}
	add := func(name string) {
		if vs := h.Values(name); len(vs) > 0 {
			out[name] = strings.Join(vs, ", ")
		}
	}
	for _, name := range passedHeaders {
		add(name)
	}
	for _, name := range extra {
		add(name)
	}
	return out
}

// parseWebhookPayload turns a delivery body into the template's payload,
// a JSON object:
//
//   - application/json (or +json, or no Content-Type): the body; empty is {}.
//   - application/x-www-form-urlencoded: a form with a single `payload`
//     field holding a JSON object (GitHub's form content type) is that
//     object; any other form is an object of its fields, each a string, or
//     an array of strings when repeated.
//
// It returns the payload and the body's media type.
func parseWebhookPayload(contentType string, raw []byte) (map[string]any, string, error) {
	mediaType := "application/json"
	if contentType != "" {
		mt, _, err := mime.ParseMediaType(contentType)
		if err != nil {
			return nil, "", newAPIError(http.StatusBadRequest, CodeMalformedPayload, "Content-Type %q cannot be parsed", contentType)
		}
		mediaType = mt
	}
	switch {
	case mediaType == "application/json" || strings.HasSuffix(mediaType, "+json"):
		if len(bytes.TrimSpace(raw)) == 0 {
			return map[string]any{}, mediaType, nil
		}
		obj, err := decodeJSONObject(raw)
		if err != nil {
			return nil, "", newAPIError(http.StatusBadRequest, CodeMalformedPayload, "request body: %v", err)
		}
		return obj, mediaType, nil
	case mediaType == "application/x-www-form-urlencoded":
		form, err := url.ParseQuery(string(raw))
		if err != nil {
			return nil, "", newAPIError(http.StatusBadRequest, CodeMalformedPayload, "request body is not a valid form: %v", err)
		}
		if p := form["payload"]; len(form) == 1 && len(p) == 1 {
			if obj, err := decodeJSONObject([]byte(p[0])); err == nil {
				return obj, mediaType, nil
			}
		}
		obj := make(map[string]any, len(form))
		for k, vs := range form {
			if len(vs) == 1 {
				obj[k] = vs[0]
				continue
			}
			list := make([]any, len(vs))
			for i, v := range vs {
				list[i] = v
			}
			obj[k] = list
		}
		return obj, mediaType, nil
	default:
		return nil, "", newAPIError(http.StatusBadRequest, CodeMalformedPayload,
			"Content-Type %q is not supported: send application/json or application/x-www-form-urlencoded", mediaType)
	}
}

// rateLimiter is a token bucket per key: each key may take burst tokens at
// once, refilled at rate per second. It is per process and in memory; on
// Lambda each instance has its own, and the function's reserved
// concurrency bounds the sum.
type rateLimiter struct {
	rate  float64
	burst float64

	mu      sync.Mutex
	buckets map[string]*tokenBucket
}

type tokenBucket struct {
	tokens float64
	last   time.Time
}

func newRateLimiter(rate float64, burst int) *rateLimiter {
	return &rateLimiter{rate: rate, burst: float64(burst), buckets: map[string]*tokenBucket{}}
}

// allow takes a token for key at now. When none is left it returns false
// and how long until one is.
func (l *rateLimiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.bucket(key, now)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, l.wait(b)
}

// peek reports whether key has a token at now, without taking it, and
// if not how long until it has.
func (l *rateLimiter) peek(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.buckets[key]
	if !ok {
		return true, 0
	}
	l.refill(b, now)
	if b.tokens >= 1 {
		return true, 0
	}
	return false, l.wait(b)
}

// take takes a token for key at now if one is left.
func (l *rateLimiter) take(key string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if b := l.bucket(key, now); b.tokens >= 1 {
		b.tokens--
	}
}

// bucket returns key's bucket refilled to now, making a full one for a
// new key. l.mu is held.
func (l *rateLimiter) bucket(key string, now time.Time) *tokenBucket {
	b := l.buckets[key]
	if b == nil {
		if len(l.buckets) >= maxRateBuckets {
			l.dropIdle(now)
		}
		b = &tokenBucket{tokens: l.burst, last: now}
		l.buckets[key] = b
		return b
	}
	l.refill(b, now)
	return b
}

func (l *rateLimiter) refill(b *tokenBucket, now time.Time) {
	if now.After(b.last) {
		b.tokens = min(l.burst, b.tokens+now.Sub(b.last).Seconds()*l.rate)
		b.last = now
	}
}

// wait is how long until b has a token.
func (l *rateLimiter) wait(b *tokenBucket) time.Duration {
	return time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// dropIdle forgets buckets that have refilled by now, and every bucket if
// that frees nothing (a flood of distinct hooks then gets fresh buckets,
// which is what a forgotten hook gets anyway).
func (l *rateLimiter) dropIdle(now time.Time) {
	for k, b := range l.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*l.rate >= l.burst {
			delete(l.buckets, k)
		}
	}
	if len(l.buckets) >= maxRateBuckets {
		clear(l.buckets)
	}
}
