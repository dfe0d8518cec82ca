package webhook

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/embedded"
)

const secret = "receiver-secret-0123456789"

// receiver verifies each delivery's signature, then answers from its
// script: the statuses in order (the last repeated), or, with hang, never.
type receiver struct {
	mu       sync.Mutex
	statuses []int
	hang     bool
	seen     []string // delivery ids of the deliveries that verified
	answered int      // 2xx answers
	// now is the receiver's clock: the sender's.
	now func() time.Time
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	cred := hooks.WebhookCredentials{Signature: r.Header.Get("X-Hookline-Signature"), Timestamp: r.Header.Get("X-Hookline-Timestamp")}
	if err := hooks.VerifyDelivery(hooks.WebhookHookline, []string{secret}, "", cred, body, rc.now()); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	rc.mu.Lock()
	rc.seen = append(rc.seen, r.Header.Get("X-Hookline-Delivery"))
	hang := rc.hang
	status := 200
	if len(rc.statuses) > 0 {
		status = rc.statuses[0]
		if len(rc.statuses) > 1 {
			rc.statuses = rc.statuses[1:]
		}
	}
	if status < 300 && !hang {
		rc.answered++
	}
	rc.mu.Unlock()
	if hang {
		<-r.Context().Done() // never answers; the poster gives up
		return
	}
	w.WriteHeader(status)
}

// counts returns the deliveries seen and answered 2xx.
func (rc *receiver) counts() ([]string, int) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]string(nil), rc.seen...), rc.answered
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

// service is the hooks domain over an embedded store, with this package's
// poster (loopback allowed, a short timeout) and a clock the test moves.
func service(t *testing.T, c *clock, p *Poster) *hooks.Service {
	t.Helper()
	st, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	reg, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := hooks.NewService(st, reg, hooks.Options{Now: c.now, Logger: slog.New(slog.DiscardHandler),
		Notify: hooks.NotifyOptions{Webhooks: p, Deliverer: true, MaxAttempts: 4, AttemptTimeout: 300 * time.Millisecond}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	_, err = svc.Definitions.CreateHook(ctx, "g", "h", hooks.Input{Metadata: hooks.Metadata{Name: "n", Description: "d", Owner: "o@example.com"},
		Task: json.RawMessage(`{}`), Schedule: []string{}, TriggerSchema: json.RawMessage(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func notifyTo(t *testing.T, svc *hooks.Service, url string) {
	t.Helper()
	_, err := svc.Operations.PutSettings(context.Background(), "g", "h", hooks.Settings{Notify: &hooks.NotifySettings{Targets: []hooks.NotifyTarget{
		{Type: hooks.TargetWebhook, URL: url, Secret: secret, Events: []hooks.EventKind{hooks.EventTaskFailed}},
	}}})
	if err != nil {
		t.Fatal(err)
	}
}

func onlyNotification(t *testing.T, svc *hooks.Service) hooks.Notification {
	t.Helper()
	page, err := svc.Notifications.List(context.Background(), "g", "h", store.Page{})
	if err != nil || len(page.Notifications) != 1 {
		t.Fatalf("notifications %+v %v", page, err)
	}
	return page.Notifications[0]
}

var failed = hooks.Event{Kind: hooks.EventTaskFailed, HookGroupID: "g", HookID: "h", ID: "task/T/0/failed", TaskID: "T", Summary: "task T failed"}

// A receiver that answers 500 twice, then 200: one delivery, after two
// retries with backoff, the same delivery id every time.
func TestWebhookRetriedUntilDelivered(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)}
	rc := &receiver{statuses: []int{500, 500, 200}, now: c.now}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	p := New(Options{AllowPrivate: true, Timeout: time.Second})
	defer p.CloseIdleConnections()
	svc := service(t, c, p)
	notifyTo(t, svc, srv.URL+"/n")
	ctx := context.Background()
	svc.Notifications.Publish(ctx, failed)
	for range 6 {
		c.add(time.Minute) // past each backoff (30 s, then 1 min)
		if _, err := svc.Notifications.Deliver(ctx, 10); err != nil {
			t.Fatal(err)
		}
	}
	n := onlyNotification(t, svc)
	seen, answered := rc.counts()
	if n.Status != hooks.NotificationDelivered || n.Attempts != 3 || answered != 1 || len(seen) != 3 {
		t.Fatalf("%+v; %d deliveries seen, %d answered 2xx", n, len(seen), answered)
	}
	for _, id := range seen {
		if id != n.NotificationID {
			t.Fatalf("delivery ids %v", seen)
		}
	}
}

// A receiver that never answers: each attempt times out, and after
// MaxAttempts the notification is recorded undeliverable.
func TestWebhookNeverAnswersIsUndeliverable(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)}
	rc := &receiver{hang: true, now: c.now}
	srv := httptest.NewServer(rc)
	defer srv.Close()
	p := New(Options{AllowPrivate: true, Timeout: 200 * time.Millisecond})
	defer p.CloseIdleConnections()
	svc := service(t, c, p)
	notifyTo(t, svc, srv.URL+"/n")
	ctx := context.Background()
	svc.Notifications.Publish(ctx, failed)
	for range 10 {
		c.add(time.Hour)
		svc.Notifications.Deliver(ctx, 10)
	}
	n := onlyNotification(t, svc)
	seen, _ := rc.counts()
	if n.Status != hooks.NotificationUndeliverable || n.Attempts != 4 || len(seen) != 4 || !strings.Contains(n.LastError, "Timeout") && !strings.Contains(n.LastError, "deadline") {
		t.Fatalf("%+v; %d attempts reached the receiver", n, len(seen))
	}
	srv.CloseClientConnections()
}
