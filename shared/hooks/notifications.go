package hooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline/shared/store"
)

// Notifications: the dispatcher of hook events to the targets of a hook's
// `notify` settings.
//
// Publish takes an event and, for each target that asks for its kind:
//
//  1. claims the pair (target, event ID) for 30 days: the same event seen
//     again (a redelivered task event, a retried fire, an overlapping
//     worker) finds the claim and stops, so each target hears of each
//     event at most once;
//  2. takes one of the target's maxPerHour slots for the event's kind, a
//     claim that expires after Window (an hour). With a slot, the event
//     becomes a notification record, due at once; without one it is
//     added to the record that holds the slot (the window's lead), and
//     when the window and the lead's delivery are over, one digest of
//     everything held back is sent;
//  3. tries the first delivery at once in the processes that run the
//     delivery loop (the scheduler function, `hookline serve`); the others
//     (the API, webhook and trigger functions) leave it to that loop,
//     which runs every minute, rather than make a request wait for a
//     receiver.
//
// Deliver is the delivery loop (the scheduler function every minute, a
// loop in `hookline serve`): it takes due notifications, leases each with
// a versioned write so that two loops never send the same one, sends, and
// records the result: delivered; a new attempt after a backoff that
// doubles from NotifyOptions.Backoff; or undeliverable, after MaxAttempts
// attempts, past MaxAge, or at once for a refusal that will not change (a
// 4xx answer). A process that dies between sending and recording sends
// again when the lease ends; webhook receivers can tell by
// X-Hookline-Delivery, which stays the same.

// The statuses of a notification.
const (
	NotificationPending       = "pending"
	NotificationDelivered     = "delivered"
	NotificationUndeliverable = "undeliverable"
)

// TaskclusterNotifier sends through a Taskcluster deployment's notify
// service; Hookline's client needs notify:email:<address>,
// notify:matrix-room:<roomId> or notify:slack-channel:<channelId>. Errors
// should implement QueueRefusal (an answer) or Retryable.
type TaskclusterNotifier interface {
	Email(ctx context.Context, address, subject, content string) error
	Matrix(ctx context.Context, roomID, body string) error
	Slack(ctx context.Context, channelID, text string) error
}

// WebhookPoster posts a notification to a webhook target. It returns the
// answer's status code, or an error when no answer came (which is worth a
// new attempt). It must not follow redirects.
type WebhookPoster interface {
	Post(ctx context.Context, url string, header map[string]string, body []byte) (int, error)
}

// NotifyOptions configure notification delivery; zero fields take the
// defaults.
type NotifyOptions struct {
	// Taskcluster sends taskcluster-* targets; nil: none can be sent here.
	Taskcluster TaskclusterNotifier
	// Webhooks sends webhook targets; nil: none can be sent here.
	Webhooks WebhookPoster
	// Deliverer is set in the processes that run Deliver, which have
	// every sender the deployment has: there, a target that cannot be
	// sent is undeliverable. Elsewhere its notification waits for them,
	// and the senders are not needed.
	Deliverer bool
	// Deployment says that a Taskcluster deployment is configured, so
	// that its notify targets can be sent (by the processes that run
	// Deliver, which have Taskcluster); pre-checks warn of them
	// otherwise. Taskcluster set implies it.
	Deployment bool
	// Window is the rate-limit window (1 hour).
	Window time.Duration
	// MaxAttempts (8) and MaxAge (24 hours) bound the attempts of one
	// notification; Backoff (30 seconds) is the wait after the first
	// failed attempt, doubling up to MaxBackoff (30 minutes).
	MaxAttempts int
	MaxAge      time.Duration
	Backoff     time.Duration
	MaxBackoff  time.Duration
	// AttemptTimeout bounds one attempt (10 seconds).
	AttemptTimeout time.Duration
	// Retention is how long notification records are kept (30 days).
	Retention time.Duration
}

func (o NotifyOptions) withDefaults() NotifyOptions {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&o.Window, time.Hour)
	def(&o.MaxAge, 24*time.Hour)
	def(&o.Backoff, 30*time.Second)
	def(&o.MaxBackoff, 30*time.Minute)
	def(&o.AttemptTimeout, 10*time.Second)
	def(&o.Retention, 30*24*time.Hour)
	if o.MaxAttempts <= 0 {
		o.MaxAttempts = 8
	}
	return o
}

// Bounds of what a notification keeps.
const (
	// maxSuppressedListed bounds the held-back events a digest lists (it
	// counts them all).
	maxSuppressedListed = 20
	// eventClaimRetention is how long a target remembers an event it
	// heard of.
	eventClaimRetention = 30 * 24 * time.Hour
)

// Notification is one message about one event to one target, as stored
// and as GET .../notifications shows it.
type Notification struct {
	NotificationID string             `json:"notificationId"`
	HookGroupID    string             `json:"hookGroupId"`
	HookID         string             `json:"hookId"`
	Target         NotificationTarget `json:"target"`
	Event          Event              `json:"event"`
	// Status is pending, delivered or undeliverable.
	Status    string     `json:"status"`
	Attempts  int        `json:"attempts"`
	Created   time.Time  `json:"created"`
	Attempted *time.Time `json:"lastAttempt,omitempty"`
	Delivered *time.Time `json:"delivered,omitempty"`
	LastError string     `json:"lastError,omitempty"`
	// WindowEnds is when the rate-limit window this notification opened
	// ends; Suppressed what the window held back, sent as one digest
	// (DigestID) after it.
	WindowEnds time.Time   `json:"windowEnds,omitzero"`
	Suppressed *Suppressed `json:"suppressed,omitempty"`
	DigestID   string      `json:"digestId,omitempty"`
	// DigestOf is set on a digest: the notification whose window it
	// sums up.
	DigestOf string `json:"digestOf,omitempty"`

	version int64
	dueAt   time.Time
}

// NotificationTarget names a target in a notification: no secret.
type NotificationTarget struct {
	Type        string `json:"type"`
	Destination string `json:"destination"`
	Key         string `json:"key"`
}

// Suppressed is what a rate-limit window held back.
type Suppressed struct {
	Count int `json:"count"`
	// Events are the first few of them.
	Events []SuppressedEvent `json:"events"`
}

// SuppressedEvent names one event a window held back.
type SuppressedEvent struct {
	ID      string    `json:"id"`
	Time    time.Time `json:"time"`
	Summary string    `json:"summary"`
}

// Notifications is the part of the service that sends hook events to the
// targets of the hooks' notify settings, and lists what it sent.
type Notifications struct {
	*core
	mailer Mailer
	opts   NotifyOptions
}

var _ EventSink = (*Notifications)(nil)

// claimPart writes an id into a claim key so that no two tuples of ids
// make the same key.
func claimPart(parts ...string) string {
	var b strings.Builder
	for _, p := range parts {
		b.WriteString(strconv.Itoa(len(p)))
		b.WriteByte(':')
		b.WriteString(p)
		b.WriteByte('/')
	}
	return b.String()
}

// Publish sends ev to every target of its hook that asks for its kind, at
// most once each (see the file comment). Failures are logged.
func (n *Notifications) Publish(ctx context.Context, ev Event) {
	st, _, err := n.loadSettings(ctx, ev.HookGroupID, ev.HookID)
	if err != nil {
		n.log.ErrorContext(ctx, "notify: read settings", "hookGroupId", ev.HookGroupID, "hookId", ev.HookID, "kind", ev.Kind, "err", err)
		return
	}
	if st.Notify == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = n.now()
	}
	for _, t := range st.Notify.Targets {
		if !t.wants(ev.Kind) {
			continue
		}
		if err := n.publishTo(ctx, t, ev); err != nil {
			n.log.ErrorContext(ctx, "notify", "hookGroupId", ev.HookGroupID, "hookId", ev.HookID, "kind", ev.Kind, "event", ev.ID, "target", t.Key(), "err", err)
		}
	}
}

func (n *Notifications) publishTo(ctx context.Context, t NotifyTarget, ev Event) error {
	now := n.now()
	hook := claimPart(ev.HookGroupID, ev.HookID, t.Key())
	seenKey := "notify/" + hook + claimPart(ev.ID)
	err := n.store.CreateClaim(ctx, store.Claim{Key: seenKey, Body: []byte(`{}`), CreatedAt: now, ExpiresAt: now.Add(eventClaimRetention)}, now)
	if errors.Is(err, store.ErrConflict) {
		n.log.DebugContext(ctx, "notify: event already heard", "hookGroupId", ev.HookGroupID, "hookId", ev.HookID, "event", ev.ID, "target", t.Key())
		return nil
	}
	if err != nil {
		return fmt.Errorf("claim the event: %w", err)
	}
	id := newDecisionID(now)
	windowEnds := now.Add(n.opts.Window)
	lead, slotKey := "", ""
	for slot := range t.perHour() {
		key := "notify-window/" + hook + claimPart(string(ev.Kind), strconv.Itoa(slot))
		body, _ := json.Marshal(map[string]string{"lead": id})
		err := n.store.CreateClaim(ctx, store.Claim{Key: key, Body: body, CreatedAt: now, ExpiresAt: windowEnds}, now)
		if err == nil {
			slotKey = key
			break
		}
		if !errors.Is(err, store.ErrConflict) {
			n.release(ctx, seenKey)
			return fmt.Errorf("take a rate-limit slot: %w", err)
		}
		if slot < t.perHour()-1 {
			continue
		}
		// Every slot is taken: held back, for the last slot's digest.
		if c, gerr := n.store.GetClaim(ctx, key, now); gerr == nil {
			var held struct {
				Lead string `json:"lead"`
			}
			if json.Unmarshal(c.Body, &held) == nil {
				lead = held.Lead
			}
		}
		return n.suppress(ctx, ev, lead)
	}
	rec := &Notification{
		NotificationID: id, HookGroupID: ev.HookGroupID, HookID: ev.HookID,
		Target: NotificationTarget{Type: t.Type, Destination: t.destination(), Key: t.Key()},
		Event:  ev, Status: NotificationPending, Created: now, WindowEnds: windowEnds,
	}
	// Only the processes that run the delivery loop try at once: the
	// others (API, webhook and trigger functions) would make a request
	// wait for a receiver. The loop runs every minute.
	sendHere := n.opts.Deliverer && n.canSend(t.Type)
	if sendHere {
		// Leased to this call for its first attempt.
		rec.Attempts, rec.Attempted, rec.dueAt = 1, &now, now.Add(n.lease())
	} else {
		rec.dueAt = now
	}
	if err := n.create(ctx, rec); err != nil {
		n.release(ctx, slotKey)
		n.release(ctx, seenKey)
		return err
	}
	if sendHere {
		n.attempt(ctx, rec, t)
	}
	return nil
}

// release gives a claim back after a failure, so that the event can be
// tried again.
func (n *Notifications) release(ctx context.Context, key string) {
	if err := n.store.DeleteClaim(ctx, key); err != nil {
		n.log.ErrorContext(ctx, "notify: release claim", "key", key, "err", err)
	}
}

// lease is how long an attempt holds a notification.
func (n *Notifications) lease() time.Duration { return n.opts.AttemptTimeout + 30*time.Second }

// canSend reports whether this process has a sender for a target type.
func (n *Notifications) canSend(typ string) bool {
	switch typ {
	case TargetEmail:
		return n.mailer != nil
	case TargetWebhook:
		return n.opts.Webhooks != nil
	default:
		return n.opts.Taskcluster != nil
	}
}

// suppress adds ev to the digest of the window's lead notification.
func (n *Notifications) suppress(ctx context.Context, ev Event, lead string) error {
	if lead == "" {
		n.log.WarnContext(ctx, "notify: event held back by the rate limit; its window has no record to add it to", "hookGroupId", ev.HookGroupID, "hookId", ev.HookID, "event", ev.ID)
		return nil
	}
	for attempt := 0; ; attempt++ {
		rec, err := n.get(ctx, ev.HookGroupID, ev.HookID, lead)
		if errors.Is(err, store.ErrNotFound) {
			n.log.WarnContext(ctx, "notify: event held back by the rate limit; its window's record is gone", "hookGroupId", ev.HookGroupID, "hookId", ev.HookID, "event", ev.ID, "lead", lead)
			return nil
		}
		if err != nil {
			return err
		}
		if rec.DigestID != "" {
			// The digest is already out: the window is over.
			n.log.WarnContext(ctx, "notify: event held back after its window's digest was sent", "hookGroupId", ev.HookGroupID, "hookId", ev.HookID, "event", ev.ID)
			return nil
		}
		if rec.Suppressed == nil {
			rec.Suppressed = &Suppressed{Events: []SuppressedEvent{}}
		}
		rec.Suppressed.Count++
		if len(rec.Suppressed.Events) < maxSuppressedListed {
			rec.Suppressed.Events = append(rec.Suppressed.Events, SuppressedEvent{ID: ev.ID, Time: ev.Time, Summary: ev.Summary})
		}
		if rec.Status != NotificationPending && rec.dueAt.IsZero() {
			rec.dueAt = rec.WindowEnds
		}
		err = n.update(ctx, rec)
		if errors.Is(err, store.ErrConflict) && attempt < 8 {
			continue
		}
		if err == nil {
			n.log.InfoContext(ctx, "notify: event held back by the rate limit", "hookGroupId", ev.HookGroupID, "hookId", ev.HookID, "event", ev.ID, "kind", ev.Kind, "lead", lead, "heldBack", rec.Suppressed.Count)
		}
		return err
	}
}

// DeliverReport says what one run of the delivery loop did.
type DeliverReport struct {
	Due, Delivered, Retry, Undeliverable, Digests int
}

// Deliver sends the notifications that are due, up to limit, a few at
// once: first attempts left by processes that could not send them,
// retries, and the digests of rate-limit windows that are over.
func (n *Notifications) Deliver(ctx context.Context, limit int) (DeliverReport, error) {
	now := n.now()
	due, err := n.store.ListDueNotifications(ctx, now, limit)
	if err != nil {
		return DeliverReport{}, fmt.Errorf("hooks: list due notifications: %w", err)
	}
	var (
		mu  sync.Mutex
		rep = DeliverReport{Due: len(due)}
		wg  sync.WaitGroup
		sem = make(chan struct{}, 8)
	)
	for _, raw := range due {
		if ctx.Err() != nil {
			break // out of time: the rest stay due
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			status, digest := n.step(ctx, raw, now)
			mu.Lock()
			defer mu.Unlock()
			switch status {
			case NotificationDelivered:
				rep.Delivered++
			case NotificationUndeliverable:
				rep.Undeliverable++
			case NotificationPending:
				rep.Retry++
			}
			if digest {
				rep.Digests++
			}
		})
	}
	wg.Wait()
	if rep.Due > 0 {
		n.log.InfoContext(ctx, "notifications delivered", "due", rep.Due, "delivered", rep.Delivered, "retry", rep.Retry, "undeliverable", rep.Undeliverable, "digests", rep.Digests)
	}
	return rep, ctx.Err()
}

// step takes one due notification one step on: an attempt, or its
// window's digest. It returns the status an attempt left, "" for none.
func (n *Notifications) step(ctx context.Context, raw store.Notification, now time.Time) (string, bool) {
	rec, err := decodeNotificationRecord(raw)
	if err != nil {
		n.log.ErrorContext(ctx, "notify: unreadable notification", "hookGroupId", raw.HookGroupID, "hookId", raw.HookID, "id", raw.ID, "err", err)
		return "", false
	}
	if rec.Status == NotificationPending {
		t, ok, err := n.target(ctx, rec)
		if err != nil {
			n.log.ErrorContext(ctx, "notify: read settings", "hookGroupId", rec.HookGroupID, "hookId", rec.HookID, "err", err)
			return "", false
		}
		if !ok {
			rec.LastError = "the target is no longer in the hook's notify settings"
			n.finish(ctx, rec, NotificationUndeliverable, now)
			return NotificationUndeliverable, false
		}
		// Lease it: of two loops, one wins this write and sends.
		rec.Attempts++
		rec.Attempted = &now
		rec.dueAt = now.Add(n.lease())
		if err := n.update(ctx, rec); err != nil {
			if !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
				n.log.ErrorContext(ctx, "notify: lease", "id", rec.NotificationID, "err", err)
			}
			return "", false
		}
		return n.attempt(ctx, rec, t), false
	}
	if rec.Suppressed != nil && rec.Suppressed.Count > 0 && rec.DigestID == "" {
		return "", n.digest(ctx, rec, now)
	}
	rec.dueAt = time.Time{}
	if err := n.update(ctx, rec); err != nil && !errors.Is(err, store.ErrConflict) {
		n.log.ErrorContext(ctx, "notify: settle", "id", rec.NotificationID, "err", err)
	}
	return "", false
}

// target finds the notification's target in the hook's current settings.
func (n *Notifications) target(ctx context.Context, rec *Notification) (NotifyTarget, bool, error) {
	st, _, err := n.loadSettings(ctx, rec.HookGroupID, rec.HookID)
	if err != nil || st.Notify == nil {
		return NotifyTarget{}, false, err
	}
	for _, t := range st.Notify.Targets {
		if t.Key() == rec.Target.Key {
			return t, true, nil
		}
	}
	return NotifyTarget{}, false, nil
}

// digest turns what a window held back into one digest notification and
// tries it.
func (n *Notifications) digest(ctx context.Context, lead *Notification, now time.Time) bool {
	s := lead.Suppressed
	first := s.Events[0].Time
	ev := Event{
		Kind: lead.Event.Kind, HookGroupID: lead.HookGroupID, HookID: lead.HookID, ID: "digest/" + lead.NotificationID, Time: now,
		Summary: fmt.Sprintf("%d more %s event(s) of hook %s/%s were held back by the rate limit from %s to %s", s.Count, lead.Event.Kind,
			lead.HookGroupID, lead.HookID, first.UTC().Format(time.RFC3339), lead.WindowEnds.UTC().Format(time.RFC3339)),
	}
	d := &Notification{
		NotificationID: lead.NotificationID + "-digest", HookGroupID: lead.HookGroupID, HookID: lead.HookID,
		Target: lead.Target, Event: ev, Status: NotificationPending, Created: now, Suppressed: s, DigestOf: lead.NotificationID,
	}
	t, ok, err := n.target(ctx, lead)
	if err != nil {
		n.log.ErrorContext(ctx, "notify: read settings", "hookGroupId", lead.HookGroupID, "hookId", lead.HookID, "err", err)
		return false
	}
	sendHere := ok && n.opts.Deliverer && n.canSend(t.Type)
	if sendHere {
		d.Attempts, d.Attempted, d.dueAt = 1, &now, now.Add(n.lease())
	} else {
		d.dueAt = now
	}
	created := true
	if err := n.create(ctx, d); err != nil {
		if !errors.Is(err, store.ErrConflict) {
			n.log.ErrorContext(ctx, "notify: create digest", "id", d.NotificationID, "err", err)
			return false
		}
		created = false // another loop made it
	}
	lead.DigestID, lead.dueAt = d.NotificationID, time.Time{}
	if err := n.update(ctx, lead); err != nil && !errors.Is(err, store.ErrConflict) {
		n.log.ErrorContext(ctx, "notify: mark digest", "id", lead.NotificationID, "err", err)
	}
	if created && sendHere {
		n.attempt(ctx, d, t)
	}
	return created
}

// attempt sends rec, which this call holds, and records the result. It
// returns the status it left.
func (n *Notifications) attempt(ctx context.Context, rec *Notification, t NotifyTarget) string {
	actx, cancel := context.WithTimeout(ctx, n.opts.AttemptTimeout)
	err := n.send(actx, rec, t)
	cancel()
	now := n.now()
	if err == nil {
		rec.Delivered, rec.LastError = &now, ""
		n.finish(ctx, rec, NotificationDelivered, now)
		n.log.InfoContext(ctx, "notification delivered", "hookGroupId", rec.HookGroupID, "hookId", rec.HookID, "id", rec.NotificationID,
			"kind", rec.Event.Kind, "event", rec.Event.ID, "target", rec.Target.Key, "attempts", rec.Attempts)
		return NotificationDelivered
	}
	rec.LastError = truncate(err.Error(), 2000)
	var perm *permanentError
	switch {
	case errors.As(err, &perm), rec.Attempts >= n.opts.MaxAttempts, now.Sub(rec.Created) >= n.opts.MaxAge:
		n.finish(ctx, rec, NotificationUndeliverable, now)
		n.log.WarnContext(ctx, "notification undeliverable", "hookGroupId", rec.HookGroupID, "hookId", rec.HookID, "id", rec.NotificationID,
			"kind", rec.Event.Kind, "event", rec.Event.ID, "target", rec.Target.Key, "attempts", rec.Attempts, "err", err)
		return NotificationUndeliverable
	}
	rec.dueAt = now.Add(n.backoff(rec.Attempts))
	if rec.dueAt.Sub(rec.Created) > n.opts.MaxAge {
		rec.dueAt = rec.Created.Add(n.opts.MaxAge)
	}
	if uerr := n.update(ctx, rec); uerr != nil {
		n.log.ErrorContext(ctx, "notify: record attempt", "id", rec.NotificationID, "err", uerr)
	}
	n.log.InfoContext(ctx, "notification attempt failed; will retry", "hookGroupId", rec.HookGroupID, "hookId", rec.HookID, "id", rec.NotificationID,
		"target", rec.Target.Key, "attempts", rec.Attempts, "retryAt", rec.dueAt, "err", err)
	return NotificationPending
}

// backoff is the wait after the given number of failed attempts.
func (n *Notifications) backoff(failures int) time.Duration {
	d := n.opts.Backoff
	for i := 1; i < failures && d < n.opts.MaxBackoff; i++ {
		d *= 2
	}
	return min(d, n.opts.MaxBackoff)
}

// finish records a final status; a lead whose window held events back
// stays due for its digest.
func (n *Notifications) finish(ctx context.Context, rec *Notification, status string, now time.Time) {
	rec.Status, rec.dueAt = status, time.Time{}
	if rec.Suppressed != nil && rec.Suppressed.Count > 0 && rec.DigestID == "" {
		rec.dueAt = rec.WindowEnds
	}
	for attempt := 0; ; attempt++ {
		err := n.update(ctx, rec)
		if !errors.Is(err, store.ErrConflict) || attempt >= 8 {
			if err != nil {
				n.log.ErrorContext(ctx, "notify: record result", "id", rec.NotificationID, "status", status, "err", err)
			}
			return
		}
		// Events were held back meanwhile: keep them, record the result.
		cur, gerr := n.get(ctx, rec.HookGroupID, rec.HookID, rec.NotificationID)
		if gerr != nil {
			n.log.ErrorContext(ctx, "notify: record result", "id", rec.NotificationID, "err", gerr)
			return
		}
		cur.Status, cur.Attempts, cur.Attempted, cur.Delivered, cur.LastError = rec.Status, rec.Attempts, rec.Attempted, rec.Delivered, rec.LastError
		cur.dueAt = time.Time{}
		if cur.Suppressed != nil && cur.Suppressed.Count > 0 && cur.DigestID == "" {
			cur.dueAt = cur.WindowEnds
		}
		rec = cur
	}
}

// permanentError is a refusal another attempt would meet again.
type permanentError struct{ err error }

func (e *permanentError) Error() string { return e.err.Error() }
func (e *permanentError) Unwrap() error { return e.err }

// send delivers rec to t once.
func (n *Notifications) send(ctx context.Context, rec *Notification, t NotifyTarget) error {
	if !n.canSend(t.Type) {
		what := map[string]string{TargetEmail: "email (set HOOKLINE_EMAIL_SENDER)", TargetWebhook: "webhooks"}[t.Type]
		if what == "" {
			what = "Taskcluster's notify service (set TASKCLUSTER_ROOT_URL)"
		}
		return &permanentError{fmt.Errorf("this deployment does not send %s", what)}
	}
	subject, text := notificationText(rec)
	var err error
	switch t.Type {
	case TargetEmail:
		err = n.mailer.SendEmail(ctx, t.Address, subject, text)
	case TargetTaskclusterEmail:
		err = n.opts.Taskcluster.Email(ctx, t.Address, subject, text)
	case TargetMatrix:
		err = n.opts.Taskcluster.Matrix(ctx, t.RoomID, subject+"\n"+text)
	case TargetSlack:
		err = n.opts.Taskcluster.Slack(ctx, t.ChannelID, subject+"\n"+text)
	case TargetWebhook:
		return n.post(ctx, rec, t)
	default:
		return &permanentError{fmt.Errorf("unknown target type %q", t.Type)}
	}
	var r QueueRefusal
	if errors.As(err, &r) && r.HTTPStatus() >= 400 && r.HTTPStatus() < 500 && r.HTTPStatus() != 408 && r.HTTPStatus() != 429 {
		return &permanentError{err}
	}
	return err
}

// WebhookBody is the JSON a webhook target receives.
type WebhookBody struct {
	NotificationID string      `json:"notificationId"`
	HookGroupID    string      `json:"hookGroupId"`
	HookID         string      `json:"hookId"`
	Event          Event       `json:"event"`
	Suppressed     *Suppressed `json:"suppressed,omitempty"`
	DigestOf       string      `json:"digestOf,omitempty"`
}

// post sends rec to a webhook target, signed as Hookline's inbound signed
// webhooks are: HMAC-SHA256 of "<timestamp>.<body>".
func (n *Notifications) post(ctx context.Context, rec *Notification, t NotifyTarget) error {
	b := WebhookBody{NotificationID: rec.NotificationID, HookGroupID: rec.HookGroupID, HookID: rec.HookID, Event: rec.Event, DigestOf: rec.DigestOf}
	if rec.DigestOf != "" {
		b.Suppressed = rec.Suppressed
	}
	body, err := json.Marshal(b)
	if err != nil {
		return &permanentError{fmt.Errorf("encode: %w", err)}
	}
	ts := strconv.FormatInt(n.now().Unix(), 10)
	header := map[string]string{
		"Content-Type":         "application/json",
		"User-Agent":           "Hookline-Notify/1",
		"X-Hookline-Event":     string(rec.Event.Kind),
		"X-Hookline-Delivery":  rec.NotificationID,
		"X-Hookline-Timestamp": ts,
		"X-Hookline-Signature": SignWebhook(t.Secret, ts, body),
	}
	status, err := n.opts.Webhooks.Post(ctx, t.URL, header, body)
	switch {
	case err != nil:
		return err
	case status >= 200 && status < 300:
		return nil
	case status == 408 || status == 425 || status == 429 || status >= 500:
		return fmt.Errorf("the receiver answered %d", status)
	}
	return &permanentError{fmt.Errorf("the receiver answered %d", status)}
}

// SignWebhook is the X-Hookline-Signature of body sent at the unix time
// ts: "sha256=" and the hex HMAC-SHA256 of "<ts>.<body>" under secret.
func SignWebhook(secret, ts string, body []byte) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts))
	m.Write([]byte{'.'})
	m.Write(body)
	return "sha256=" + hex.EncodeToString(m.Sum(nil))
}

// notificationText words a notification for email and chat.
func notificationText(rec *Notification) (subject, text string) {
	ev := rec.Event
	id := ev.HookGroupID + "/" + ev.HookID
	subject = "[Hookline] " + string(ev.Kind) + ": " + id
	if rec.DigestOf != "" {
		subject = "[Hookline] digest of " + string(ev.Kind) + ": " + id
	}
	var b strings.Builder
	b.WriteString(ev.Summary + "\n")
	line := func(k, v string) {
		if v != "" {
			b.WriteString("\n" + k + ": " + v)
		}
	}
	line("Hook", id)
	line("Time", ev.Time.UTC().Format(time.RFC3339))
	line("Task", ev.TaskID)
	line("Fired by", ev.FiredBy)
	line("Decision", ev.DecisionID)
	line("Outcome", ev.Outcome)
	line("Error", ev.Error)
	if ev.Task != nil {
		line("Task state", ev.Task.State+" ("+ev.Task.ReasonResolved+")")
	}
	if s := rec.Suppressed; rec.DigestOf != "" && s != nil {
		b.WriteString(fmt.Sprintf("\n\nHeld back (%d):", s.Count))
		for _, e := range s.Events {
			b.WriteString("\n- " + e.Time.UTC().Format(time.RFC3339) + " " + e.Summary)
		}
		if s.Count > len(s.Events) {
			b.WriteString(fmt.Sprintf("\n- and %d more", s.Count-len(s.Events)))
		}
	}
	b.WriteString("\n\nNotification " + rec.NotificationID + " (this hook's notify settings sent it).\n")
	return subject, b.String()
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// The store round trip of notification records.

func (n *Notifications) create(ctx context.Context, rec *Notification) error {
	raw, err := n.encode(rec)
	if err != nil {
		return err
	}
	out, err := n.store.CreateNotification(ctx, raw)
	if err != nil {
		return fmt.Errorf("hooks: create notification: %w", err)
	}
	rec.version = out.Version
	return nil
}

func (n *Notifications) update(ctx context.Context, rec *Notification) error {
	raw, err := n.encode(rec)
	if err != nil {
		return err
	}
	out, err := n.store.UpdateNotification(ctx, raw)
	if err != nil {
		return fmt.Errorf("hooks: update notification: %w", err)
	}
	rec.version = out.Version
	return nil
}

func (n *Notifications) get(ctx context.Context, hookGroupID, hookID, id string) (*Notification, error) {
	raw, err := n.store.GetNotification(ctx, hookGroupID, hookID, id)
	if err != nil {
		return nil, fmt.Errorf("hooks: read notification: %w", err)
	}
	return decodeNotificationRecord(raw)
}

func (n *Notifications) encode(rec *Notification) (store.Notification, error) {
	body, err := json.Marshal(rec)
	if err != nil {
		return store.Notification{}, fmt.Errorf("hooks: encode notification: %w", err)
	}
	return store.Notification{HookGroupID: rec.HookGroupID, HookID: rec.HookID, ID: rec.NotificationID, Body: body,
		DueAt: rec.dueAt, ExpiresAt: rec.Created.Add(n.opts.Retention), Version: rec.version}, nil
}

func decodeNotificationRecord(raw store.Notification) (*Notification, error) {
	var rec Notification
	if err := json.Unmarshal(raw.Body, &rec); err != nil {
		return nil, fmt.Errorf("hooks: decode notification %s of %s/%s: %w", raw.ID, raw.HookGroupID, raw.HookID, err)
	}
	rec.version, rec.dueAt = raw.Version, raw.DueAt
	return &rec, nil
}

// NotificationPage is one page of a hook's notifications.
type NotificationPage struct {
	Notifications     []Notification `json:"notifications"`
	ContinuationToken string         `json:"continuationToken,omitempty"`
}

// List returns a page of a hook's notifications, newest first. A missing
// hook is a not-found error.
func (n *Notifications) List(ctx context.Context, hookGroupID, hookID string, p store.Page) (NotificationPage, error) {
	if _, err := n.loadHook(ctx, hookGroupID, hookID); err != nil {
		return NotificationPage{}, err
	}
	recs, next, err := n.store.ListNotifications(ctx, hookGroupID, hookID, p)
	if err != nil {
		if errors.Is(err, store.ErrBadToken) {
			return NotificationPage{}, invalid("the continuationToken is not one this listing returned")
		}
		return NotificationPage{}, fmt.Errorf("hooks: list notifications of %s/%s: %w", hookGroupID, hookID, err)
	}
	page := NotificationPage{Notifications: make([]Notification, 0, len(recs)), ContinuationToken: next}
	for _, raw := range recs {
		rec, err := decodeNotificationRecord(raw)
		if err != nil {
			return NotificationPage{}, err
		}
		page.Notifications = append(page.Notifications, *rec)
	}
	return page, nil
}
