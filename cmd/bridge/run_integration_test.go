//go:build integration

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/pulse"
	"github.com/hookline/hookline/shared/queue/sqstest"
	"github.com/hookline/hookline/shared/store/embedded"
	"github.com/hookline/hookline/shared/testutil"
)

// The bridge command as deployed, with SQS replaced by sqstest (through
// AWS_ENDPOINT_URL_SQS) and the embedded store: a hook's message reaches
// the trigger queue, a change from the changes queue is published, health
// and metrics are served, and SIGTERM (ctx) stops it cleanly.
func TestRunBridge(t *testing.T) {
	conn := testutil.DialBroker(t)
	var rnd [4]byte
	rand.Read(rnd[:])
	ns := "hltest-cmd-" + hex.EncodeToString(rnd[:])
	ex := "exchange/" + ns + "/src/e"
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare(ex, amqp.ExchangeTopic, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	sub, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := ch.ExchangeDeclare(pulse.ExchangeName(ns, hooks.HookUpdated), amqp.ExchangeTopic, true, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	if err := ch.QueueBind(sub.Name, "#", pulse.ExchangeName(ns, hooks.HookUpdated), false, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		defer conn.Close()
		c, err := conn.Channel()
		if err != nil {
			return
		}
		c.QueueDelete(pulse.QueueName(ns, "g", "h"), false, false, false)
		c.QueueDelete(pulse.DroppedQueue(ns), false, false, false)
		c.QueueDelete(pulse.ParkedQueue(ns), false, false, false)
		c.QueueDelete(pulse.TaskEventsQueue(ns), false, false, false)
		for _, x := range []string{ex, pulse.DroppedExchange(ns), pulse.ParkedExchange(ns), pulse.ExchangeName(ns, hooks.HookCreated), pulse.ExchangeName(ns, hooks.HookUpdated), pulse.ExchangeName(ns, hooks.HookDeleted)} {
			c.ExchangeDelete(x, false, false)
		}
	})

	// A hook with a binding, stored before the bridge starts.
	path := filepath.Join(t.TempDir(), "h.db")
	st, err := embedded.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	reg, _ := schemas.New()
	svc, _ := hooks.NewService(st, reg, hooks.Options{})
	bindings := []hooks.Binding{{Exchange: ex, RoutingKeyPattern: "#"}}
	if _, err := svc.Definitions.CreateHook(context.Background(), "g", "h", hooks.Input{Bindings: &bindings, Metadata: hooks.Metadata{Name: "n", Description: "d", Owner: "o@example.com"}, Task: json.RawMessage(`{}`), Schedule: []string{}, TriggerSchema: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	st.Close()

	srv := sqstest.New(t)
	trigger, changes := srv.CreateQueue("trigger", 0), srv.CreateQueue("changes", time.Second)
	srv.Queue(changes).Send(context.Background(), []byte(`{"kind":"hook-updated","hookGroupId":"g","hookId":"h"}`))
	for k, v := range map[string]string{
		"AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_ENDPOINT_URL_SQS": srv.URL, "AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
	} {
		t.Setenv(k, v)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	env := map[string]string{
		"HOOKLINE_PULSE_URL": testutil.BrokerURL(), "HOOKLINE_PULSE_NAMESPACE": ns, "HOOKLINE_STORE": "embedded:" + path,
		"HOOKLINE_TRIGGER_QUEUE_URL": trigger, "HOOKLINE_CHANGES_QUEUE_URL": changes, "HOOKLINE_BRIDGE_ADDR": addr,
		"HOOKLINE_LOG_LEVEL": "warn",
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- run(ctx, func(k string) string { return env[k] }, io.Discard) }()
	defer func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(30 * time.Second):
			t.Error("the bridge did not stop")
		}
	}()

	waitFor(t, "healthz 200", func() bool {
		res, err := http.Get("http://" + addr + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == 200
	})
	pub, _ := conn.Channel()
	defer pub.Close()
	waitFor(t, "the message in the trigger queue", func() bool {
		pub.Publish(ex, "k", false, false, amqp.Publishing{Body: []byte(`{"hello":"pulse"}`)})
		time.Sleep(50 * time.Millisecond)
		return srv.Queue(trigger).Len() > 0
	})
	var m hooks.PulseMessage
	if err := json.Unmarshal(srv.Queue(trigger).Bodies()[0], &m); err != nil || m.HookID != "h" || m.Exchange != ex || string(m.Payload) != `{"hello":"pulse"}` {
		t.Errorf("forwarded %+v %v", m, err)
	}
	waitFor(t, "the published change", func() bool {
		d, ok, _ := ch.Get(sub.Name, true)
		return ok && d.RoutingKey == "_" && string(d.Body) == `{"hookGroupId":"g","hookId":"h"}`
	})
	waitFor(t, "the change deleted from its queue", func() bool { return srv.Queue(changes).Len() == 0 })
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if !strings.Contains(string(text), "hookline_bridge_messages_forwarded_total") || !strings.Contains(string(text), `hookline_bridge_events_published_total{kind="hook-updated"} 1`) {
		t.Errorf("metrics:\n%s", text)
	}
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
