//go:build integration

package pulse

import (
	"context"
	"encoding/json"
	"os/exec"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/queue"
	"github.com/hookline/hookline/shared/queue/sqstest"
)

// A trigger-queue (SQS) outage of any length loses nothing, on a hook
// queue whose delivery limit a policy lowers to 0 (RabbitMQ 4's default is
// 20): the broker dead-letters a message the first time it comes back.
//
// First the SQS test server refuses every send for outage. A bridge that
// gives deliveries back after a few failed sends (1.5 s) would have had
// them dead-lettered, which the bridge before parking counted as dropped:
// 27 of these 1,000 messages were lost that way. This one holds them, so
// the broker redelivers nothing and gives up on nothing. Then, still
// during the outage, the broker closes the bridge's connection (as its
// consumer timeout, a restart or a network cut would): that returns the
// held deliveries, past the limit, so the broker dead-letters them. The
// bridge parks them and, once SQS takes messages again, forwards them with
// the rest. Finally every message in the trigger queue is fired through
// the hooks service, as the trigger function does: one task per published
// message.
func TestBridgeOutageLosesNothing(t *testing.T) {
	const (
		total    = 1000
		prefetch = 50
		limit    = 0
		outage   = 8 * time.Second
	)
	h := newHarness(t)
	ex := h.exchange("e")
	q := h.hook("h", hooks.Binding{Exchange: ex, RoutingKeyPattern: "#"})
	setPolicy(t, h.ns+"-delivery-limit", "^queue/"+h.ns+"/g/", `{"delivery-limit":`+strconv.Itoa(limit)+`}`)

	srv := sqstest.New(t)
	url := srv.CreateQueue("trigger", 0)
	var down atomic.Bool
	srv.SetFault(func(op, entryID string, _ []byte) *sqstest.Fault {
		if op == "SendMessageBatch" && entryID == "" && down.Load() {
			return &sqstest.Fault{Status: 500, Code: "InternalError"}
		}
		return nil
	})
	opts := h.options(queue.NewSQS(srv.Client(), url))
	opts.Prefetch = prefetch
	opts.Changes = nil
	r := h.start(opts)

	down.Store(true)
	bodies := make([][]byte, total)
	for i := range bodies {
		bodies[i] = body(i)
	}
	h.publisher().publishMany(t, ex, "k", bodies)
	start := time.Now()
	refusedBefore := srv.Requests("SendMessageBatch")
	time.Sleep(outage)
	refused := srv.Requests("SendMessageBatch") - refusedBefore
	if refused < 10 {
		t.Fatalf("only %d sends refused during the outage: the bridge is not retrying", refused)
	}
	if n := metricValue(r.b, "hookline_bridge_messages_requeued_total"); n != 0 {
		t.Errorf("%v deliveries given back during the outage", n)
	}
	if n := metricValue(r.b, "hookline_bridge_messages_parked_total"); n != 0 {
		t.Errorf("%v messages dead-lettered and parked with no connection lost", n)
	}
	// Flow control: the prefetch window is held, the rest waits.
	if ready, _ := h.queueExists(q); ready != total-prefetch {
		t.Errorf("%d messages ready in the hook queue, want %d: all but the held prefetch window", ready, total-prefetch)
	}
	t.Logf("SQS refused %d sends over %s; nothing requeued, nothing dead-lettered, %d held", refused, outage, prefetch)

	// Connection losses while SQS is still down, until the held
	// deliveries are past the limit.
	for i := 1; i <= limit+1; i++ {
		before := srv.Requests("SendMessageBatch")
		if n := closeConnections(t, opts.ConnectionName); n != 1 {
			t.Fatalf("closed %d connections, want the bridge's one", n)
		}
		waitFor(t, 30*time.Second, "the bridge to reconnect and hold deliveries again", func() bool {
			ok, _ := r.b.Health()
			return ok && srv.Requests("SendMessageBatch") > before+2
		})
	}
	waitFor(t, 30*time.Second, "the broker's dead letters to be parked", func() bool {
		return metricValue(r.b, "hookline_bridge_messages_parked_total") >= prefetch
	})
	parked := metricValue(r.b, "hookline_bridge_messages_parked_total")
	dropped := metricValue(r.b, "hookline_bridge_messages_dropped_total")
	if dropped != 0 {
		t.Errorf("%v messages counted as dropped", dropped)
	}

	down.Store(false)
	outageTook := time.Since(start)
	sqs := srv.Queue(url)
	waitFor(t, 60*time.Second, "every message in the trigger queue", func() bool { return distinctN(sqs.Bodies()) == total })
	waitFor(t, 30*time.Second, "the hook, dead-letter and parked queues to empty", func() bool {
		n1, _ := h.queueExists(q)
		n2, _ := h.queueExists(DroppedQueue(h.ns))
		n3, _ := h.queueExists(ParkedQueue(h.ns))
		return n1+n2+n3 == 0
	})
	sent := sqs.Bodies()

	// What matters is tasks: fire every trigger-queue message as the
	// trigger function would, through the hooks service.
	fire := h.localSink()
	for i := 0; i < len(sent); i += queue.MaxBatchEntries {
		var entries []queue.Entry
		for j, b := range sent[i:min(i+queue.MaxBatchEntries, len(sent))] {
			entries = append(entries, queue.Entry{ID: strconv.Itoa(j), Body: b})
		}
		failed, err := fire.SendBatch(context.Background(), entries)
		if err != nil || len(failed) > 0 {
			t.Fatalf("fire: %v %v", err, failed)
		}
	}
	tasks, creates := h.tasks.count()
	lost, twice := taskCounts(t, sent, total)
	t.Logf("published %d; SQS down for %s (delivery limit %d, %d connection losses); parked %v; sent %d to SQS; fired %d createTask calls; %d tasks; lost %d; messages with two tasks %d",
		total, outageTook.Round(time.Second), limit, limit+1, parked, len(sent), creates, tasks, lost, twice)
	if tasks != total || lost != 0 || twice != 0 {
		t.Errorf("%d tasks for %d messages (lost %d, two tasks %d)", tasks, total, lost, twice)
	}
}

// taskCounts checks trigger-queue messages against the total published
// (bodies numbered 0..total-1): how many published messages no trigger
// message carries, and how many are carried under two different taskIds
// (which would be two tasks: the trigger side makes one task per taskId).
func taskCounts(t testing.TB, sent [][]byte, total int) (lost, twice int) {
	t.Helper()
	ids := make(map[int]map[string]bool, total)
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

// setPolicy sets a queue policy on the broker's default vhost for the
// test, as an operator would, and clears it afterwards.
func setPolicy(t testing.TB, name, pattern, definition string) {
	t.Helper()
	if out, err := exec.Command("rabbitmqctl", "-q", "set_policy", "--apply-to", "queues", name, pattern, definition).CombinedOutput(); err != nil {
		t.Fatalf("rabbitmqctl set_policy: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("rabbitmqctl", "-q", "clear_policy", name).Run() })
}
