//go:build integration

package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/pulse"
	"github.com/hookline/hookline/shared/queue"
	"github.com/hookline/hookline/shared/queue/sqstest"
	"github.com/hookline/hookline/shared/store/dynamo"
	"github.com/hookline/hookline/shared/store/dynamo/dynamotest"
	"github.com/hookline/hookline/shared/testutil"
)

// Two bridge replicas on one namespace, as real processes of this command
// sharing a DynamoDB table (the emulator), the trigger and changes queues
// (the SQS test server) and the broker: both consume every hook queue;
// a hook change handled by one reaches the other at once; a removed hook's
// queue is deleted by one without the other fighting it; 10,000 messages
// go through while one replica is killed with SIGKILL midway, and none is
// lost nor becomes two tasks; every hook change is published on Pulse once.
//
// Tasks are counted by taskId: the trigger function creates a message's
// task under the taskId derived from the message (hooks.PulseMessage.
// TaskID) and the fire protocol makes a repeated taskId one task (tested in
// shared/hooks and shared/pulse). So a message sent twice (the killed
// replica's unacknowledged deliveries, redelivered to the other) is one
// task as long as both sends carry the same taskId; a second task would
// need a second taskId for one message. The test counts, per published
// message, the distinct taskIds in the trigger queue: 0 is lost, 2 or more
// is a duplicate task.
func TestTwoReplicas(t *testing.T) {
	const total = 10000
	conn := testutil.DialBroker(t)
	endpoint := dynamotest.Endpoint(t)
	ddb := dynamotest.NewClient(endpoint)
	table := dynamotest.NewTable(t, ddb)

	var rnd [4]byte
	rand.Read(rnd[:])
	ns := "hltest-rep-" + hex.EncodeToString(rnd[:])
	ex := "exchange/" + ns + "/src/e"
	hookIDs := []string{"h0", "h1", "h2", "h3"}
	ch, err := conn.Channel()
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	if err := ch.ExchangeDeclare(ex, amqp.ExchangeTopic, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	// A Pulse subscriber to the three hook-changed exchanges.
	sub, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []hooks.ChangeKind{hooks.HookCreated, hooks.HookUpdated, hooks.HookDeleted} {
		if err := ch.ExchangeDeclare(pulse.ExchangeName(ns, kind), amqp.ExchangeTopic, true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
		if err := ch.QueueBind(sub.Name, "#", pulse.ExchangeName(ns, kind), false, nil); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		c, err := conn.Channel()
		if err != nil {
			return
		}
		defer c.Close()
		for _, id := range append(hookIDs, "late", "gone") {
			c.QueueDelete(pulse.QueueName(ns, "g", id), false, false, false)
		}
		c.QueueDelete(pulse.DroppedQueue(ns), false, false, false)
		c.QueueDelete(pulse.ParkedQueue(ns), false, false, false)
		c.QueueDelete(pulse.TaskEventsQueue(ns), false, false, false)
		for _, x := range []string{ex, pulse.DroppedExchange(ns), pulse.ParkedExchange(ns), pulse.ExchangeName(ns, hooks.HookCreated), pulse.ExchangeName(ns, hooks.HookUpdated), pulse.ExchangeName(ns, hooks.HookDeleted)} {
			c.ExchangeDelete(x, false, false)
		}
	})

	srv := sqstest.New(t)
	trigger, changes := srv.CreateQueue("trigger", 0), srv.CreateQueue("changes", 5*time.Second)
	reg, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := hooks.NewService(dynamo.New(ddb, table), reg, hooks.Options{Notifier: changeSender{srv.Queue(changes)}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	setHook := func(id string, update bool, keys ...string) {
		t.Helper()
		var bs []hooks.Binding
		for _, k := range keys {
			bs = append(bs, hooks.Binding{Exchange: ex, RoutingKeyPattern: k})
		}
		in := hooks.Input{Bindings: &bs, Metadata: hooks.Metadata{Name: id, Description: "d", Owner: "o@example.com"}, Task: json.RawMessage(`{}`), Schedule: []string{}, TriggerSchema: json.RawMessage(`{}`)}
		if update {
			_, err = svc.Definitions.UpdateHook(ctx, "g", id, in)
		} else {
			_, err = svc.Definitions.CreateHook(ctx, "g", id, in)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	for i, id := range hookIDs {
		setHook(id, false, fmt.Sprintf("k.%d", i))
	}
	setHook("gone", false, "k.gone")

	env := map[string]string{
		"HOOKLINE_PULSE_URL": testutil.BrokerURL(), "HOOKLINE_PULSE_NAMESPACE": ns, "HOOKLINE_STORE": "dynamodb:" + table,
		"HOOKLINE_TRIGGER_QUEUE_URL": trigger, "HOOKLINE_CHANGES_QUEUE_URL": changes, "HOOKLINE_LOG_LEVEL": "warn",
		"AWS_REGION": dynamotest.Region, "AWS_ACCESS_KEY_ID": "AKID", "AWS_SECRET_ACCESS_KEY": "secret",
		"AWS_ENDPOINT_URL_SQS": srv.URL, "AWS_ENDPOINT_URL_DYNAMODB": endpoint,
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
	}
	a, b := startReplica(t, "a", env), startReplica(t, "b", env)
	a.waitHealthy(t)
	b.waitHealthy(t)

	consumers := func(id string) (int, bool) {
		c, err := conn.Channel()
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		info, err := c.QueueDeclarePassive(pulse.QueueName(ns, "g", id), true, false, false, false, nil)
		return info.Consumers, err == nil
	}
	eventually := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s\nreplica a:\n%s\nreplica b:\n%s", what, a.log.String(), b.log.String())
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	changesHandled := func() bool { return srv.Queue(changes).Len() == 0 }

	// Both replicas consume every hook queue.
	eventually("the changes to be handled", changesHandled)
	for _, id := range append(hookIDs, "gone") {
		eventually("two consumers on "+id, func() bool { n, _ := consumers(id); return n == 2 })
	}
	// A hook created now is handled by one replica; the other hears of
	// it on Pulse (its periodic reconciliation is 5 minutes away) and
	// consumes it too.
	setHook("late", false, "k.late")
	eventually("two consumers on the late hook", func() bool { n, _ := consumers("late"); return n == 2 })
	setHook("late", true, "k.late", "k.late2")
	// A removed hook's queue goes, whichever replica handles the change.
	if err := svc.Definitions.RemoveHook(ctx, "g", "gone"); err != nil {
		t.Fatal(err)
	}
	eventually("the removed hook's queue to go", func() bool { _, ok := consumers("gone"); return !ok })
	eventually("the changes to be handled", changesHandled)

	// 10,000 messages over five hooks; replica a is killed with SIGKILL
	// once 4,000 are in the trigger queue.
	keys := append(slices.Clone(hookIDs), "late")
	bodies := make(map[string][][]byte)
	for n := range total {
		i := n % len(keys)
		key := fmt.Sprintf("k.%d", i)
		if keys[i] == "late" {
			key = "k.late"
		}
		bodies[key] = append(bodies[key], fmt.Appendf(nil, `{"n":%d}`, n))
	}
	tStart := time.Now()
	published := make(chan error, 1)
	go func() {
		pub, err := conn.Channel()
		if err != nil {
			published <- err
			return
		}
		defer pub.Close()
		published <- publishAll(pub, ex, bodies)
	}()
	eventually("4,000 messages forwarded", func() bool { return srv.Queue(trigger).Len() >= 4000 })
	fwdA, fwdB := a.metric(t, "hookline_bridge_messages_forwarded_total"), b.metric(t, "hookline_bridge_messages_forwarded_total")
	t0 := time.Now()
	a.kill(t)
	killedAt := time.Since(tStart)
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	// After the kill: a change, handled by the survivor.
	setHook("h0", true, "k.0")
	eventually("every message in the trigger queue", func() bool { return distinctMessages(srv.Queue(trigger).Bodies()) == total })
	eventually("the changes to be handled", changesHandled)
	for _, id := range keys {
		eventually("the survivor alone on "+id, func() bool { n, _ := consumers(id); return n == 1 })
	}

	took, afterKill := time.Since(tStart), time.Since(t0)
	sent := srv.Queue(trigger).Bodies()
	lost, twice := countTasks(t, sent, total)
	t.Logf("%d messages in %s; replica a killed after %s, having forwarded %v (b %v); the rest took %s; %d sent to the trigger queue (%d sent again after the kill); lost %d; messages with two taskIds %d",
		total, took.Round(time.Millisecond), killedAt.Round(time.Millisecond), fwdA, fwdB, afterKill.Round(time.Millisecond), len(sent), len(sent)-total, lost, twice)
	if lost != 0 || twice != 0 {
		t.Errorf("lost %d, two tasks %d", lost, twice)
	}
	if fwdA == 0 || fwdB == 0 {
		t.Errorf("forwarded before the kill: a %v, b %v; want both replicas working", fwdA, fwdB)
	}

	// Every hook change was published on Pulse once.
	want := []string{"hook-created g/gone", "hook-created g/h0", "hook-created g/h1", "hook-created g/h2", "hook-created g/h3",
		"hook-created g/late", "hook-deleted g/gone", "hook-updated g/h0", "hook-updated g/late"}
	var got []string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		m, ok, err := ch.Get(sub.Name, true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			if len(got) >= len(want) {
				break // and nothing more came in a moment
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		var c map[string]string
		json.Unmarshal(m.Body, &c)
		got = append(got, strings.TrimPrefix(m.Exchange, "exchange/"+ns+"/v1/")+" "+c["hookGroupId"]+"/"+c["hookId"])
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("published %v\nwant      %v", got, want)
	}
}

// changeSender announces hook changes on the changes queue, as the API
// function does.
type changeSender struct{ q *queue.Memory }

func (s changeSender) HookChanged(ctx context.Context, c hooks.Change) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return s.q.Send(ctx, body)
}

// publishAll publishes with confirms, pipelined, as Pulse publishers do.
func publishAll(ch *amqp.Channel, exchange string, byKey map[string][][]byte) error {
	if err := ch.Confirm(false); err != nil {
		return err
	}
	var confs []*amqp.DeferredConfirmation
	for key, bodies := range byKey {
		for _, b := range bodies {
			conf, err := ch.PublishWithDeferredConfirmWithContext(context.Background(), exchange, key, false, false, amqp.Publishing{ContentType: "application/json", DeliveryMode: amqp.Persistent, Body: b})
			if err != nil {
				return err
			}
			confs = append(confs, conf)
		}
	}
	for _, c := range confs {
		if ok, err := c.WaitContext(context.Background()); !ok || err != nil {
			return fmt.Errorf("publish not confirmed: %v", err)
		}
	}
	return nil
}

// distinctMessages counts the published messages (by their n) among
// trigger-queue bodies.
func distinctMessages(sent [][]byte) int {
	seen := map[int]bool{}
	for _, b := range sent {
		var m hooks.PulseMessage
		json.Unmarshal(b, &m)
		var p struct{ N int }
		json.Unmarshal(m.Payload, &p)
		seen[p.N] = true
	}
	return len(seen)
}

// countTasks returns, of the published messages 0..total-1, how many no
// trigger-queue message carries (lost) and how many are carried under two
// or more taskIds (two tasks).
func countTasks(t *testing.T, sent [][]byte, total int) (lost, twice int) {
	t.Helper()
	ids := map[int]map[string]bool{}
	for _, b := range sent {
		var m hooks.PulseMessage
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("trigger message %s: %v", b, err)
		}
		var p struct{ N int }
		json.Unmarshal(m.Payload, &p)
		if ids[p.N] == nil {
			ids[p.N] = map[string]bool{}
		}
		ids[p.N][m.TaskID()] = true
	}
	for n := range total {
		switch len(ids[n]) {
		case 0:
			lost++
		case 1:
		default:
			twice++
		}
	}
	return lost, twice
}

// replica is the bridge command running in a process of its own (this test
// binary, see TestMain).
type replica struct {
	name  string
	addr  string
	cmd   *exec.Cmd
	stdin io.Closer
	log   *testutil.SyncBuffer
	done  chan struct{}
}

func startReplica(t *testing.T, name string, env map[string]string) *replica {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &replica{name: name, addr: ln.Addr().String(), log: &testutil.SyncBuffer{}, done: make(chan struct{})}
	ln.Close()
	r.cmd = exec.Command(os.Args[0])
	r.cmd.Env = append(os.Environ(), childEnv+"=1", "HOOKLINE_BRIDGE_ADDR="+r.addr)
	for k, v := range env {
		r.cmd.Env = append(r.cmd.Env, k+"="+v)
	}
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	stdin, err := r.cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	r.stdin = stdin
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		// Closing stdin stops it gracefully; then it is killed.
		r.stdin.Close()
		select {
		case <-r.done:
		case <-time.After(30 * time.Second):
			r.cmd.Process.Kill()
			<-r.done
			t.Errorf("replica %s did not stop when asked", r.name)
		}
		if t.Failed() {
			t.Logf("replica %s log:\n%s", r.name, r.log.String())
		}
	})
	return r
}

func (r *replica) waitHealthy(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get("http://" + r.addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return
			}
		}
		select {
		case <-r.done:
			t.Fatalf("replica %s exited:\n%s", r.name, r.log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("replica %s not healthy:\n%s", r.name, r.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// metric reads one sample of the replica's /metrics.
func (r *replica) metric(t *testing.T, name string) float64 {
	t.Helper()
	res, err := http.Get("http://" + r.addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	text, _ := io.ReadAll(res.Body)
	for _, line := range strings.Split(string(text), "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			var v float64
			fmt.Sscan(rest, &v)
			return v
		}
	}
	return 0
}

// kill is kill -9: no drain, no goodbye to the broker.
func (r *replica) kill(t *testing.T) {
	t.Helper()
	if err := r.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-r.done
}
