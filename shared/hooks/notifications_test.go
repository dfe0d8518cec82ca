package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/taskcluster"
)

// fakePoster is a WebhookPoster answering from a script: each post takes
// the next answer (an HTTP status, or -1 for no answer at all); past the
// script, the last one.
type fakePoster struct {
	mu      sync.Mutex
	answers []int
	posts   []post
}

type post struct {
	url    string
	header map[string]string
	body   []byte
}

func (p *fakePoster) Post(_ context.Context, url string, header map[string]string, body []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.posts = append(p.posts, post{url, header, body})
	status := 200
	if len(p.answers) > 0 {
		status = p.answers[0]
		if len(p.answers) > 1 {
			p.answers = p.answers[1:]
		}
	}
	if status < 0 {
		return 0, errors.New("connection timed out")
	}
	return status, nil
}

func (p *fakePoster) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.posts)
}

// fakeTC is a TaskclusterNotifier that records its calls and may refuse.
type fakeTC struct {
	mu    sync.Mutex
	calls []string
	fail  error
}

func (f *fakeTC) note(s string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, s)
	return f.fail
}
func (f *fakeTC) Email(_ context.Context, a, s, _ string) error {
	return f.note("email " + a + " " + s)
}
func (f *fakeTC) Matrix(_ context.Context, r, _ string) error { return f.note("matrix " + r) }
func (f *fakeTC) Slack(_ context.Context, c, _ string) error  { return f.note("slack " + c) }

const hookSecret = "0123456789abcdef-secret"

type notifyEnv struct {
	*schedEnv
	poster *fakePoster
	tc     *fakeTC
}

func newNotifyEnv(t *testing.T, edits ...func(*Options)) *notifyEnv {
	t.Helper()
	e := &notifyEnv{poster: &fakePoster{}, tc: &fakeTC{}}
	e.schedEnv = newOperateEnv(t, append([]func(*Options){func(o *Options) {
		o.Notify = NotifyOptions{Webhooks: e.poster, Taskcluster: e.tc, Deliverer: true}
	}}, edits...)...)
	e.clock.step = 0
	e.clock.Set(ten)
	return e
}

func (e *notifyEnv) settings(t *testing.T, n *NotifySettings) {
	t.Helper()
	if _, err := e.svc.Operations.PutSettings(context.Background(), "g", "h", Settings{Notify: n}); err != nil {
		t.Fatal(err)
	}
}

func (e *notifyEnv) notifications(t *testing.T) []Notification {
	t.Helper()
	page, err := e.svc.Notifications.List(context.Background(), "g", "h", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	return page.Notifications
}

func failedEvent(taskID string) Event {
	return Event{Kind: EventTaskFailed, HookGroupID: "g", HookID: "h", TaskID: taskID, ID: "task/" + taskID + "/0/failed", Summary: "task " + taskID + " failed"}
}

func webhookTarget(events ...EventKind) NotifyTarget {
	return NotifyTarget{Type: TargetWebhook, URL: "https://receiver.example/hook", Secret: hookSecret, Events: events}
}

func TestNotifySettingsChecked(t *testing.T) {
	ctx := context.Background()
	e := newNotifyEnv(t)
	e.operableHook(t, "g", "h")
	for _, tt := range []struct {
		name string
		n    NotifySettings
		want string
	}{
		{"no targets", NotifySettings{}, "1 to 10 targets"},
		{"unknown type", NotifySettings{Targets: []NotifyTarget{{Type: "pager", Events: []EventKind{EventFireError}}}}, "not one of"},
		{"no events", NotifySettings{Targets: []NotifyTarget{{Type: TargetEmail, Address: "a@b.c"}}}, "at least one"},
		{"unknown event", NotifySettings{Targets: []NotifyTarget{{Type: TargetEmail, Address: "a@b.c", Events: []EventKind{"fire-erorr"}}}}, "not one of"},
		{"bad address", NotifySettings{Targets: []NotifyTarget{{Type: TargetEmail, Address: "nobody", Events: []EventKind{EventFireError}}}}, "not an email"},
		{"address on slack", NotifySettings{Targets: []NotifyTarget{{Type: TargetSlack, ChannelID: "C0123ABCD", Address: "a@b.c", Events: []EventKind{EventFireError}}}}, "takes no address"},
		{"bad room", NotifySettings{Targets: []NotifyTarget{{Type: TargetMatrix, RoomID: "general", Events: []EventKind{EventFireError}}}}, "Matrix room"},
		{"http webhook", NotifySettings{Targets: []NotifyTarget{{Type: TargetWebhook, URL: "http://example.com/x", Secret: hookSecret, Events: []EventKind{EventFireError}}}}, "https://"},
		{"webhook without secret", NotifySettings{Targets: []NotifyTarget{{Type: TargetWebhook, URL: "https://example.com/x", Events: []EventKind{EventFireError}}}}, "needs a secret"},
		{"short secret", NotifySettings{Targets: []NotifyTarget{{Type: TargetWebhook, URL: "https://example.com/x", Secret: "short", Events: []EventKind{EventFireError}}}}, "16 to 256"},
		{"twice", NotifySettings{Targets: []NotifyTarget{{Type: TargetEmail, Address: "a@b.c", Events: []EventKind{EventFireError}}, {Type: TargetEmail, Address: "a@b.c", Events: []EventKind{EventTaskFailed}}}}, "repeats"},
		{"threshold", NotifySettings{Targets: []NotifyTarget{webhookTarget(EventFireError)}, SignatureFailures: &SignatureFailureRule{Max: 1, WindowSeconds: 5}}, "windowSeconds"},
	} {
		_, err := e.svc.Operations.PutSettings(ctx, "g", "h", Settings{Notify: &tt.n})
		if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want an invalid error with %q", tt.name, err, tt.want)
		}
	}
	// Valid: http:// to localhost is allowed; the secret is write-only and
	// kept when a put omits it.
	n := &NotifySettings{Targets: []NotifyTarget{{Type: TargetWebhook, URL: "http://127.0.0.1:9/x", Secret: hookSecret, Events: []EventKind{EventFireError}}, {Type: TargetEmail, Address: "team@example.com", Events: EventKinds()}}}
	e.settings(t, n)
	st, _ := e.svc.Operations.GetSettings(ctx, "g", "h")
	view := st.View().Notify
	if view.Targets[0].Secret != "" || view.Targets[0].SecretFingerprint != SecretFingerprint(hookSecret) {
		t.Fatalf("view %+v", view.Targets[0])
	}
	view.Targets[0].SecretFingerprint = "ignored"
	if _, err := e.svc.Operations.PutSettings(ctx, "g", "h", Settings{Notify: view}); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.svc.Operations.GetSettings(ctx, "g", "h"); st.Notify.Targets[0].Secret != hookSecret {
		t.Fatalf("secret not kept: %+v", st.Notify.Targets[0])
	}
}

func TestNotifyOncePerEventWithSignature(t *testing.T) {
	ctx := context.Background()
	e := newNotifyEnv(t)
	e.operableHook(t, "g", "h")
	e.settings(t, &NotifySettings{Targets: []NotifyTarget{webhookTarget(EventTaskFailed), {Type: TargetSlack, ChannelID: "C0123ABCD", Events: []EventKind{EventTaskFailed}}}})
	for range 3 { // the same event three times: one notification per target
		e.svc.Notifications.Publish(ctx, failedEvent("T1"))
	}
	if e.poster.count() != 1 || len(e.tc.calls) != 1 || e.tc.calls[0] != "slack C0123ABCD" {
		t.Fatalf("%d posts, tc %v", e.poster.count(), e.tc.calls)
	}
	p := e.poster.posts[0]
	// The signature verifies as an inbound Hookline-signed webhook would.
	cred := WebhookCredentials{Signature: p.header["X-Hookline-Signature"], Timestamp: p.header["X-Hookline-Timestamp"]}
	if err := VerifyDelivery(WebhookHookline, []string{hookSecret}, "", cred, p.body, e.clock.Now()); err != nil {
		t.Fatalf("signature: %v", err)
	}
	var body WebhookBody
	if err := json.Unmarshal(p.body, &body); err != nil || body.Event.Kind != EventTaskFailed || body.Event.TaskID != "T1" || body.NotificationID != p.header["X-Hookline-Delivery"] {
		t.Fatalf("body %+v %v", body, err)
	}
	ns := e.notifications(t)
	if len(ns) != 2 || ns[0].Status != NotificationDelivered || ns[1].Status != NotificationDelivered || ns[0].Attempts != 1 {
		t.Fatalf("notifications %+v", ns)
	}
	// A kind no target asks for sends nothing.
	e.svc.Notifications.Publish(ctx, Event{Kind: EventHookPaused, HookGroupID: "g", HookID: "h", ID: "p1"})
	if e.poster.count() != 1 || len(e.notifications(t)) != 2 {
		t.Fatal("an unwanted kind was sent")
	}
}

func TestNotifyWebhookRetriesThenDelivers(t *testing.T) {
	ctx := context.Background()
	e := newNotifyEnv(t)
	e.poster.answers = []int{500, 500, 200}
	e.operableHook(t, "g", "h")
	e.settings(t, &NotifySettings{Targets: []NotifyTarget{webhookTarget(EventTaskFailed)}})
	e.svc.Notifications.Publish(ctx, failedEvent("T1"))
	n := e.notifications(t)[0]
	if n.Status != NotificationPending || n.Attempts != 1 || !strings.Contains(n.LastError, "500") {
		t.Fatalf("after the first attempt %+v", n)
	}
	// Not due before the backoff.
	if rep, _ := e.svc.Notifications.Deliver(ctx, 10); rep.Due != 0 {
		t.Fatalf("delivered before the backoff: %+v", rep)
	}
	e.clock.Set(ten.Add(30 * time.Second))
	if rep, _ := e.svc.Notifications.Deliver(ctx, 10); rep.Retry != 1 {
		t.Fatalf("second attempt %+v", rep)
	}
	e.clock.Set(ten.Add(time.Minute)) // the second backoff is a minute
	if rep, _ := e.svc.Notifications.Deliver(ctx, 10); rep.Due != 0 {
		t.Fatalf("third attempt too early: %+v", rep)
	}
	e.clock.Set(ten.Add(90 * time.Second))
	if rep, _ := e.svc.Notifications.Deliver(ctx, 10); rep.Delivered != 1 {
		t.Fatalf("third attempt %+v", rep)
	}
	n = e.notifications(t)[0]
	if n.Status != NotificationDelivered || n.Attempts != 3 || n.LastError != "" || e.poster.count() != 3 {
		t.Fatalf("delivered %+v, %d posts", n, e.poster.count())
	}
	// Every attempt carried the same delivery id.
	for _, p := range e.poster.posts {
		if p.header["X-Hookline-Delivery"] != n.NotificationID {
			t.Fatalf("delivery ids differ: %v", p.header)
		}
	}
	if rep, _ := e.svc.Notifications.Deliver(ctx, 10); rep.Due != 0 {
		t.Fatalf("due after delivery %+v", rep)
	}
}

func TestNotifyUndeliverable(t *testing.T) {
	ctx := context.Background()
	e := newNotifyEnv(t, func(o *Options) { o.Notify.MaxAttempts = 4 })
	e.poster.answers = []int{-1} // never answers
	e.operableHook(t, "g", "h")
	e.settings(t, &NotifySettings{Targets: []NotifyTarget{webhookTarget(EventTaskFailed)}})
	e.svc.Notifications.Publish(ctx, failedEvent("T1"))
	for i := range 10 {
		e.clock.Set(ten.Add(time.Duration(i+1) * time.Hour))
		e.svc.Notifications.Deliver(ctx, 10)
	}
	n := e.notifications(t)[0]
	if n.Status != NotificationUndeliverable || n.Attempts != 4 || e.poster.count() != 4 || !strings.Contains(n.LastError, "timed out") {
		t.Fatalf("%+v, %d posts", n, e.poster.count())
	}
	// A refusal that will not change ends at once.
	e.poster.answers = []int{404}
	e.svc.Notifications.Publish(ctx, failedEvent("T2"))
	if n := e.notifications(t)[0]; n.Status != NotificationUndeliverable || n.Attempts != 1 {
		t.Fatalf("after a 404: %+v", n)
	}
	// So does a Taskcluster refusal (missing scopes).
	e.tc.fail = &taskcluster.APIError{StatusCode: 403, Code: "InsufficientScopes", Method: "slack"}
	e.settings(t, &NotifySettings{Targets: []NotifyTarget{{Type: TargetSlack, ChannelID: "C0123ABCD", Events: []EventKind{EventTaskFailed}}}})
	e.clock.Set(e.clock.Now().Add(time.Second)) // ids sort by time
	e.svc.Notifications.Publish(ctx, failedEvent("T3"))
	if n := e.notifications(t)[0]; n.Status != NotificationUndeliverable || !strings.Contains(n.LastError, "InsufficientScopes") && !strings.Contains(n.LastError, "403") {
		t.Fatalf("after a 403: %+v", n)
	}
}

func TestNotifyRateLimitAndDigest(t *testing.T) {
	ctx := context.Background()
	e := newNotifyEnv(t)
	e.operableHook(t, "g", "h")
	e.settings(t, &NotifySettings{Targets: []NotifyTarget{webhookTarget(EventTaskFailed, EventHookPaused)}})
	for i := range 5 {
		e.clock.Set(ten.Add(time.Duration(i) * time.Minute))
		e.svc.Notifications.Publish(ctx, failedEvent(fmt.Sprintf("T%d", i)))
	}
	// Another kind has its own limit.
	e.svc.Notifications.Publish(ctx, Event{Kind: EventHookPaused, HookGroupID: "g", HookID: "h", ID: "paused/1", Summary: "paused"})
	if e.poster.count() != 2 {
		t.Fatalf("%d posts within the hour, want 2 (one per kind)", e.poster.count())
	}
	ns := e.notifications(t)
	lead := ns[len(ns)-1]
	if lead.Event.TaskID != "T0" || lead.Suppressed == nil || lead.Suppressed.Count != 4 || len(lead.Suppressed.Events) != 4 {
		t.Fatalf("lead %+v", lead)
	}
	// The digest waits for the window to end.
	e.clock.Set(ten.Add(30 * time.Minute))
	if rep, _ := e.svc.Notifications.Deliver(ctx, 10); rep.Digests != 0 {
		t.Fatalf("digest before the window ended: %+v", rep)
	}
	e.clock.Set(ten.Add(61 * time.Minute))
	if rep, _ := e.svc.Notifications.Deliver(ctx, 10); rep.Digests != 1 {
		t.Fatalf("digest: %+v", rep)
	}
	if rep, _ := e.svc.Notifications.Deliver(ctx, 10); rep.Due != 0 {
		t.Fatalf("due after the digest: %+v", rep)
	}
	if e.poster.count() != 3 {
		t.Fatalf("%d posts", e.poster.count())
	}
	var digest WebhookBody
	json.Unmarshal(e.poster.posts[2].body, &digest)
	if digest.DigestOf != lead.NotificationID || digest.Suppressed == nil || digest.Suppressed.Count != 4 || !strings.Contains(digest.Event.Summary, "4 more task-failed") {
		t.Fatalf("digest %+v", digest)
	}
	// A new window: the next event goes out again.
	e.svc.Notifications.Publish(ctx, failedEvent("T9"))
	if e.poster.count() != 4 {
		t.Fatalf("%d posts in the next window", e.poster.count())
	}
}

func TestNotifyWaitsForTheDeliverer(t *testing.T) {
	ctx := context.Background()
	// A process with no mailer that does not run the loop (a Lambda
	// without SES) leaves email to the loop...
	front := newNotifyEnv(t, func(o *Options) { o.Notify.Deliverer, o.Mailer = false, nil })
	front.operableHook(t, "g", "h")
	front.settings(t, &NotifySettings{Targets: []NotifyTarget{{Type: TargetEmail, Address: "team@example.com", Events: []EventKind{EventTaskFailed}}}})
	front.svc.Notifications.Publish(ctx, failedEvent("T1"))
	n := front.notifications(t)[0]
	if n.Status != NotificationPending || n.Attempts != 0 {
		t.Fatalf("left for the loop: %+v", n)
	}
	// ... which, over the same store, sends it.
	loop, err := NewService(front.store, front.svc.Schemas, Options{Now: front.clock.Now, Mailer: front.mailer, Notify: NotifyOptions{Deliverer: true}, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	if rep, _ := loop.Notifications.Deliver(ctx, 10); rep.Delivered != 1 {
		t.Fatalf("loop %+v", rep)
	}
	if len(front.mailer.sent) != 1 || front.mailer.sent[0].to != "team@example.com" || !strings.Contains(front.mailer.sent[0].subject, "task-failed: g/h") {
		t.Fatalf("sent %+v", front.mailer.sent)
	}
	// A loop without a sender for the target gives up on it.
	nobody, _ := NewService(front.store, front.svc.Schemas, Options{Now: front.clock.Now, Notify: NotifyOptions{Deliverer: true}, Logger: slog.New(slog.DiscardHandler)})
	front.clock.Set(ten.Add(2 * time.Hour)) // past the rate-limit window
	front.svc.Notifications.Publish(ctx, failedEvent("T2"))
	nobody.Notifications.Deliver(ctx, 10)
	if n := front.notifications(t)[0]; n.Status != NotificationUndeliverable || !strings.Contains(n.LastError, "HOOKLINE_EMAIL_SENDER") {
		t.Fatalf("no sender: %+v", n)
	}
}

func TestUpstreamFailureEmailStaysTheDefault(t *testing.T) {
	ctx := context.Background()
	e := newNotifyEnv(t)
	e.queue.fail = func(string) error {
		return &taskcluster.APIError{StatusCode: 403, Code: "InsufficientScopes", Method: "createTask"}
	}
	e.clock.Set(time.Date(2026, 3, 4, 9, 58, 10, 0, time.UTC))
	e.hourly(t, "h", nil)
	e.tick(t, ten.Add(time.Minute))
	if len(e.mailer.sent) != 1 || !strings.Contains(e.mailer.sent[0].subject, "Scheduled Hook failure") {
		t.Fatalf("upstream's email: %+v", e.mailer.sent)
	}
	// With notify settings, the fire error goes where they say, and the
	// owner's email is not sent besides.
	e.settings(t, &NotifySettings{Targets: []NotifyTarget{webhookTarget(EventFireError)}})
	e.tick(t, ten.Add(13*time.Hour+time.Minute))
	if len(e.mailer.sent) != 1 || e.poster.count() != 1 {
		t.Fatalf("emails %d, posts %d", len(e.mailer.sent), e.poster.count())
	}
	var body WebhookBody
	json.Unmarshal(e.poster.posts[0].body, &body)
	if body.Event.Kind != EventFireError || body.Event.Outcome != OutcomeQueueError || body.Event.FiredBy != FiredBySchedule {
		t.Fatalf("body %+v", body.Event)
	}
	_ = ctx
}

func TestSignatureFailuresEvent(t *testing.T) {
	ctx := context.Background()
	e := newNotifyEnv(t)
	e.operableHook(t, "g", "h")
	if _, err := e.svc.Operations.PutSettings(ctx, "g", "h", Settings{
		Webhook: &WebhookSettings{Scheme: WebhookHookline, Secrets: []string{hookSecret}},
		Notify:  &NotifySettings{Targets: []NotifyTarget{webhookTarget(EventSignatureFailures)}, SignatureFailures: &SignatureFailureRule{Max: 3, WindowSeconds: 600}},
	}); err != nil {
		t.Fatal(err)
	}
	bad := WebhookCredentials{Signature: "sha256=" + strings.Repeat("0", 64), Timestamp: fmt.Sprint(ten.Unix())}
	for range 10 {
		if _, err := e.svc.Intake.VerifyWebhook(ctx, "g", "h", bad, []byte(`{}`)); err == nil {
			t.Fatal("a bad signature passed")
		}
	}
	if e.poster.count() != 1 {
		t.Fatalf("%d posts for 10 refusals over a threshold of 3", e.poster.count())
	}
	var body WebhookBody
	json.Unmarshal(e.poster.posts[0].body, &body)
	if body.Event.Kind != EventSignatureFailures || body.Event.Failures != 4 || body.Event.WindowSeconds != 600 {
		t.Fatalf("event %+v", body.Event)
	}
}

func TestPrecheckNamesNotifyScopes(t *testing.T) {
	ctx := context.Background()
	e := newNotifyEnv(t)
	e.operableHook(t, "g", "h")
	e.settings(t, &NotifySettings{Targets: []NotifyTarget{
		{Type: TargetSlack, ChannelID: "C0123ABCD", Events: []EventKind{EventFireError}},
		{Type: TargetTaskclusterEmail, Address: "team@example.com", Events: []EventKind{EventFireError}},
		webhookTarget(EventFireError),
	}})
	rep, err := e.svc.Operations.CheckHook(ctx, "g", "h", CheckInput{Payload: map[string]any{}})
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(rep.NotifyScopes) != "[notify:slack-channel:C0123ABCD notify:email:team@example.com]" {
		t.Fatalf("scopes %v", rep.NotifyScopes)
	}
	found := false
	for _, w := range rep.Warnings {
		found = found || (w.Code == WarnNotify && strings.Contains(w.Message, "notify:slack-channel:C0123ABCD"))
	}
	if !found {
		t.Fatalf("warnings %+v", rep.Warnings)
	}
	// Without a deployment, the targets cannot be sent at all.
	bare := newNotifyEnv(t, func(o *Options) { o.Notify.Taskcluster = nil })
	bare.operableHook(t, "g", "h")
	bare.settings(t, &NotifySettings{Targets: []NotifyTarget{{Type: TargetMatrix, RoomID: "!r:example.org", Events: []EventKind{EventFireError}}}})
	rep, _ = bare.svc.Operations.CheckHook(ctx, "g", "h", CheckInput{Payload: map[string]any{}})
	if len(rep.Warnings) == 0 || !strings.Contains(rep.Warnings[0].Message, "no Taskcluster deployment") {
		t.Fatalf("warnings %+v", rep.Warnings)
	}
}
