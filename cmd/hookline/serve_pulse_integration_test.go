//go:build integration

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/pulse"
	"github.com/hookline/hookline/shared/testutil"
)

// The Pulse path of `hookline serve`, against the RabbitMQ at
// HOOKLINE_TEST_AMQP_URL (default the local one): skipped without one,
// except under CI=true.

// pulseEnv is a namespace and a source exchange on the broker, removed
// with everything in them when the test ends.
type pulseEnv struct {
	conn   *amqp.Connection
	ns, ex string
	hookQs []string
	pub    *amqp.Channel
	tb     testing.TB
}

func newPulseEnv(tb testing.TB) *pulseEnv {
	tb.Helper()
	conn := testutil.DialBroker(tb)
	var rnd [4]byte
	rand.Read(rnd[:])
	e := &pulseEnv{conn: conn, ns: "hltest-serve-" + hex.EncodeToString(rnd[:]), tb: tb}
	e.ex = "exchange/" + e.ns + "/src/push"
	ch, err := conn.Channel()
	if err != nil {
		tb.Fatal(err)
	}
	if err := ch.ExchangeDeclare(e.ex, amqp.ExchangeTopic, false, false, false, false, nil); err != nil {
		tb.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		tb.Fatal(err)
	}
	e.pub = ch
	tb.Cleanup(func() {
		ch, err := conn.Channel()
		if err == nil {
			for _, q := range append(e.hookQs, pulse.DroppedQueue(e.ns), pulse.ParkedQueue(e.ns)) {
				ch.QueueDelete(q, false, false, false)
			}
			for _, x := range []string{e.ex, pulse.DroppedExchange(e.ns), pulse.ParkedExchange(e.ns), pulse.ExchangeName(e.ns, hooks.HookCreated), pulse.ExchangeName(e.ns, hooks.HookUpdated), pulse.ExchangeName(e.ns, hooks.HookDeleted)} {
				ch.ExchangeDelete(x, false, false)
			}
		}
		conn.Close()
	})
	return e
}

func (e *pulseEnv) publish(key string, body []byte) {
	conf, err := e.pub.PublishWithDeferredConfirmWithContext(context.Background(), e.ex, key, false, false, amqp.Publishing{ContentType: "application/json", DeliveryMode: amqp.Persistent, Body: body})
	if err != nil {
		e.tb.Fatal(err)
	}
	if ok, err := conf.WaitContext(context.Background()); !ok || err != nil {
		e.tb.Fatalf("not confirmed: %v", err)
	}
}

// taskID is the task a message on the env's exchange fires (the bodies
// here are compact ASCII JSON, which the bridge forwards unchanged).
func (e *pulseEnv) taskID(group, hook, key string, body []byte) string {
	return hooks.PulseMessage{HookGroupID: group, HookID: hook, Exchange: e.ex, RoutingKey: key, Payload: body}.TaskID()
}

// `hookline serve` with HOOKLINE_PULSE_URL: a hook created through the API
// is bound, a message fires it into the local queue, the bridge serves its
// health, and removing the hook removes its queue.
func TestServeWithPulse(t *testing.T) {
	e := newPulseEnv(t)
	dir := t.TempDir()
	addr, bridgeAddr := freeAddr(t), freeAddr(t)
	env := envFrom(map[string]string{
		"HOOKLINE_ADDR": addr, "HOOKLINE_DATA_DIR": dir, "HOOKLINE_LOG_LEVEL": "warn",
		"HOOKLINE_PULSE_URL": testutil.BrokerURL(), "HOOKLINE_PULSE_NAMESPACE": e.ns, "HOOKLINE_BRIDGE_ADDR": bridgeAddr,
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, env, io.Discard, io.Discard) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("serve did not shut down")
		}
	}()
	base := "http://" + addr
	waitUp(t, base+"/api/hooks/v1/ping")
	waitFor(t, 20*time.Second, "the bridge to be healthy", func() bool {
		res, err := http.Get("http://" + bridgeAddr + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	tokenBytes, _ := os.ReadFile(filepath.Join(dir, "root-access-token"))
	creds := auth.Credentials{ClientID: "root", AccessToken: strings.TrimSpace(string(tokenBytes))}
	hook := fmt.Sprintf(`{"metadata":{"name":"n","description":"d","owner":"o@example.com"},"triggerSchema":{"type":"object"},
	  "bindings":[{"exchange":%q,"routingKeyPattern":"primary.#"}],
	  "task":{"provisionerId":"p","workerType":"w","payload":{"repo":{"$eval":"payload.repository"},"by":"${firedBy}"},
	  "metadata":{"name":"t","description":"t","owner":"o@example.com","source":"https://example.com"}}}`, e.ex)
	e.hookQs = append(e.hookQs, pulse.QueueName(e.ns, "g", "h"))
	if status, body := signed(t, creds, "PUT", base+"/api/hooks/v1/hooks/g/h", hook); status != 200 {
		t.Fatalf("create: %d %s", status, body)
	}
	msg := []byte(`{"repository":"docs"}`)
	id := e.taskID("g", "h", "primary.docs", msg)
	var task string
	waitFor(t, 30*time.Second, "the task", func() bool {
		e.publish("primary.docs", msg) // until the binding is in place; later ones are the same task
		res, err := http.Get(base + "/api/queue/v1/task/" + id)
		if err != nil {
			return false
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		task = string(b)
		return res.StatusCode == 200
	})
	if !strings.Contains(task, `"payload":{"by":"pulseMessage","repo":"docs"}`) {
		t.Fatalf("task %s", task)
	}
	// The fire is recorded after the task is created: wait for the record.
	var status int
	var body string
	waitFor(t, 10*time.Second, "the fire's record", func() bool {
		status, body = signed(t, creds, "GET", base+"/api/hooks/v1/hooks/g/h/last-fires", "")
		return status != 200 || strings.Contains(body, `"firedBy":"pulseMessage"`)
	})
	if status != 200 || !strings.Contains(body, `"firedBy":"pulseMessage"`) {
		t.Fatalf("last fires: %d %s", status, body)
	}
	if status, body := signed(t, creds, "DELETE", base+"/api/hooks/v1/hooks/g/h", ""); status != 200 {
		t.Fatalf("delete: %d %s", status, body)
	}
	waitFor(t, 30*time.Second, "the hook's queue to go", func() bool {
		c, _ := e.conn.Channel()
		defer c.Close()
		_, err := c.QueueDeclarePassive(pulse.QueueName(e.ns, "g", "h"), true, false, false, false, nil)
		return err != nil
	})
}

func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// BenchmarkServePulseLatency measures the in-process path of `hookline
// serve`: from publishing a message on Pulse (with its confirm) to the task
// being in the local queue, one message at a time, through the real
// bridge, the in-process trigger queue, the hooks service with the
// embedded store and the local queue. It reports p50, p90 and p99.
func BenchmarkServePulseLatency(b *testing.B) {
	e := newPulseEnv(b)
	dir := b.TempDir()
	cfg, err := config.Load(envFrom(map[string]string{
		"HOOKLINE_DATA_DIR": dir, "HOOKLINE_PULSE_URL": testutil.BrokerURL(), "HOOKLINE_PULSE_NAMESPACE": e.ns, "HOOKLINE_BRIDGE_ADDR": "127.0.0.1:0",
	}))
	if err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	ctx, cancel := context.WithCancel(context.Background())
	local, err := buildServer(ctx, cfg, log, io.Discard)
	if err != nil {
		b.Fatal(err)
	}
	bridgeDone := make(chan struct{})
	go func() { defer close(bridgeDone); runBridge(ctx, local.bridge, cfg.Pulse.BridgeAddr, log) }()
	defer func() { cancel(); <-bridgeDone; local.cleanup() }()

	bindings := []hooks.Binding{{Exchange: e.ex, RoutingKeyPattern: "#"}}
	e.hookQs = append(e.hookQs, pulse.QueueName(e.ns, "g", "h"))
	_, err = local.svc.Hooks.Definitions.CreateHook(ctx, "g", "h", hooks.Input{
		Bindings: &bindings, Metadata: hooks.Metadata{Name: "n", Description: "d", Owner: "o@example.com"},
		Task:          json.RawMessage(`{"provisionerId":"p","workerType":"w","payload":{"n":{"$eval":"payload.n"}},"metadata":{"name":"t","description":"t","owner":"o@example.com","source":"https://example.com"}}`),
		Schedule:      []string{},
		TriggerSchema: json.RawMessage(`{}`),
	})
	if err != nil {
		b.Fatal(err)
	}
	q := local.svc.Queue
	fire := func(n int) time.Duration {
		body := []byte(fmt.Sprintf(`{"n":%d}`, n))
		id := e.taskID("g", "h", "k", body)
		start := time.Now()
		e.publish("k", body)
		for {
			if _, err := q.Status(ctx, id); err == nil {
				return time.Since(start)
			}
			if time.Since(start) > 20*time.Second {
				b.Fatalf("message %d: no task", n)
			}
			time.Sleep(200 * time.Microsecond)
		}
	}
	// Wait for the binding (the first message may find no queue bound).
	waitFor(b, 30*time.Second, "the binding", func() bool {
		body := []byte(`{"n":-1}`)
		e.publish("k", body)
		_, err := q.Status(ctx, e.taskID("g", "h", "k", body))
		return err == nil
	})
	var lat []time.Duration
	n := 0
	for b.Loop() {
		lat = append(lat, fire(n))
		n++
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.90), "p90-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}
