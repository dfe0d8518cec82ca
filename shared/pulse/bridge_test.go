package pulse

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/queue"
)

func newTestBridge(t *testing.T, changes ChangeSource) *Bridge {
	t.Helper()
	b, err := NewBridge(Options{URL: "amqp://127.0.0.1:1/", Hooks: &fakeHooks{}, Sink: queue.NewMemory(nil), Failures: &fakeRecorder{}, Changes: changes, Logger: quiet(), ReconcileInterval: time.Minute})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestNewBridgeNeedsItsParts(t *testing.T) {
	for _, o := range []Options{
		{Hooks: &fakeHooks{}, Sink: queue.NewMemory(nil), Failures: &fakeRecorder{}},
		{URL: "amqp://x/", Sink: queue.NewMemory(nil), Failures: &fakeRecorder{}},
		{URL: "amqp://x/", Hooks: &fakeHooks{}, Failures: &fakeRecorder{}},
		{URL: "amqp://x/", Hooks: &fakeHooks{}, Sink: queue.NewMemory(nil)},
	} {
		if _, err := NewBridge(o); err == nil {
			t.Errorf("NewBridge(%+v): no error", o)
		}
	}
}

// /healthz is 200 only while connected and after a recent successful
// reconciliation.
func TestHealth(t *testing.T) {
	b := newTestBridge(t, nil)
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	check := func(wantCode int, wantReason string) {
		t.Helper()
		res, err := srv.Client().Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != wantCode || !strings.Contains(string(body), wantReason) {
			t.Errorf("healthz %d %s, want %d %q", res.StatusCode, body, wantCode, wantReason)
		}
	}
	check(503, "not connected")
	b.setSession(&session{})
	check(503, "no successful reconciliation yet")
	b.mu.Lock()
	b.lastOK = time.Now()
	b.mu.Unlock()
	check(200, `"status":"ok"`)
	b.mu.Lock()
	b.lastOK = time.Now().Add(-3 * time.Minute) // interval 1m: stale after 2m30s
	b.lastErr = "store down"
	b.mu.Unlock()
	check(503, "store down")
	b.setSession(nil)
	check(503, "not connected")

	res, err := srv.Client().Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(res.Body)
	res.Body.Close()
	for _, name := range []string{"hookline_bridge_connected 0", "hookline_bridge_messages_forwarded_total 0", "go_goroutines"} {
		if !strings.Contains(string(text), name) {
			t.Errorf("/metrics lacks %q", name)
		}
	}
}

// A change that cannot be published stays in the changes queue (to come
// back); a malformed one is dropped; each asks for a reconciliation of the
// queue it names.
func TestHandleChange(t *testing.T) {
	changes := queue.NewMemory(&queue.MemoryOptions{VisibilityTimeout: time.Hour})
	b := newTestBridge(t, changes)
	ctx := context.Background()
	changes.Send(ctx, []byte(`{"kind":"hook-deleted","hookGroupId":"g","hookId":"h"}`))
	changes.Send(ctx, []byte(`{"kind":"hook-exploded","hookGroupId":"g","hookId":"h"}`))
	changes.Send(ctx, []byte(`not json`))
	msgs, _ := changes.Receive(ctx, 10, 0)
	for _, m := range msgs {
		b.handleChange(ctx, m)
	}
	if n := changes.Len(); n != 1 {
		t.Fatalf("%d changes left, want the valid one, unpublished", n)
	}
	var left map[string]string
	json.Unmarshal(changes.Bodies()[0], &left)
	if left["kind"] != "hook-deleted" {
		t.Errorf("left %v", left)
	}
	if !b.checkQueues[QueueName("taskcluster-hooks", "g", "h")] {
		t.Errorf("queue not marked for checking: %v", b.checkQueues)
	}
	select {
	case <-b.reconcileReq:
	default:
		t.Error("no reconciliation requested")
	}
}
