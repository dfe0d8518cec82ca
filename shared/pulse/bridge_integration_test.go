//go:build integration

package pulse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/queue"
	"github.com/hookline/hookline/shared/queue/sqstest"
	"github.com/hookline/hookline/shared/store"
)

// A message on a bound exchange and routing key creates exactly one task,
// with firedBy pulseMessage and the message body as payload; a message the
// bindings do not match creates none.
func TestBridgeFiresHook(t *testing.T) {
	h := newHarness(t)
	ex := h.exchange("push")
	h.hook("h", hooks.Binding{Exchange: ex, RoutingKeyPattern: "primary.#"})
	h.start(h.options(h.localSink()))
	p := h.publisher()
	p.publish(t, ex, "secondary.x", []byte(`{"ignored":true}`))
	p.publish(t, ex, "primary.hookline.docs", []byte(`{"repository":"docs"}`))
	var id string
	select {
	case id = <-h.tasks.created:
	case <-time.After(20 * time.Second):
		t.Fatal("no task")
	}
	// The fire is recorded after the task is created: wait for the record,
	// by then the message has been handled whole.
	var fires []store.LastFire
	waitFor(t, 10*time.Second, "the fire's record", func() bool {
		fires, _, _ = h.store.ListLastFires(context.Background(), "g", "h", store.Page{})
		return len(fires) > 0
	})
	if n, _ := h.tasks.count(); n != 1 {
		t.Fatalf("%d tasks, want 1", n)
	}
	want := hooks.PulseMessage{HookGroupID: "g", HookID: "h", Exchange: ex, RoutingKey: "primary.hookline.docs", Payload: json.RawMessage(`{"repository":"docs"}`)}.TaskID()
	if id != want {
		t.Errorf("taskId %s, want the derived %s", id, want)
	}
	payload, _ := h.tasks.task(id)["payload"].(map[string]any)
	if payload["firedBy"] != "pulseMessage" || fmt.Sprint(payload["message"]) != "map[repository:docs]" {
		t.Errorf("task payload %v", payload)
	}
	if len(fires) != 1 || fires[0].Result != "success" || fires[0].FiredBy != hooks.FiredByPulseMessage {
		t.Errorf("last fires %+v", fires)
	}
}

// A message the sink took but whose ack never reached the broker (the
// connection died in between) is delivered and sent again; the derived
// taskId makes the second fire the same fire, and since the first one's
// record says its task was created, the redelivery creates nothing and
// records nothing (one decision per fire).
func TestBridgeRedeliveryIsOneTask(t *testing.T) {
	h := newHarness(t)
	ex := h.exchange("e")
	h.hook("h", hooks.Binding{Exchange: ex, RoutingKeyPattern: "#"})
	opts := h.options(nil)
	local := h.localSink()
	var sends atomic.Int32
	opts.Sink = sinkFunc(func(ctx context.Context, entries []queue.Entry) ([]queue.EntryError, error) {
		failed, err := local.SendBatch(ctx, entries)
		if err == nil && sends.Add(1) == 1 {
			// Sent and fired, not yet acked: cut the connection.
			if closeConnections(t, opts.ConnectionName) != 1 {
				t.Error("the bridge's connection was not found")
			}
			time.Sleep(200 * time.Millisecond)
		}
		return failed, err
	})
	h.start(opts)
	h.publisher().publish(t, ex, "k", []byte(`{"once":true}`))
	// The local sink fires before it returns: once the redelivery's send
	// is counted, its createTask call has been made.
	waitFor(t, 30*time.Second, "the redelivery", func() bool { return sends.Load() >= 2 })
	tasks, creates := h.tasks.count()
	if tasks != 1 || creates != 1 {
		t.Fatalf("%d tasks from %d createTask calls; want 1 task from 1 call, the redelivery finding it done", tasks, creates)
	}
	fires, _, err := h.store.ListLastFires(context.Background(), "g", "h", store.Page{})
	if err != nil || len(fires) != 1 {
		t.Fatalf("fire records %+v (%v); want 1", fires, err)
	}
	decisions, _, err := h.store.ListDecisions(context.Background(), "g", "h", store.Page{})
	if err != nil || len(decisions) != 1 {
		t.Fatalf("%d decisions (%v); want 1", len(decisions), err)
	}
}

type sinkFunc func(ctx context.Context, entries []queue.Entry) ([]queue.EntryError, error)

func (f sinkFunc) SendBatch(ctx context.Context, entries []queue.Entry) ([]queue.EntryError, error) {
	return f(ctx, entries)
}

// A hook queue deleted behind the bridge's back is re-created and re-bound
// (the broker cancels our consumer, which starts a reconciliation; the
// periodic one would too), and messages flow again.
func TestBridgeRecreatesDeletedQueue(t *testing.T) {
	h := newHarness(t)
	ex := h.exchange("e")
	q := h.hook("h", hooks.Binding{Exchange: ex, RoutingKeyPattern: "#"})
	h.start(h.options(h.localSink()))
	ch, err := h.admin.Channel()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.QueueDelete(q, false, false, false); err != nil {
		t.Fatal(err)
	}
	ch.Close()
	// Gone for a moment, then back, bound again.
	waitFor(t, 30*time.Second, "the queue to be re-created", func() bool { _, ok := h.queueExists(q); return ok })
	p := h.publisher()
	deadline := time.Now().Add(30 * time.Second)
	for n := 0; ; n++ {
		// The binding may follow the declare by a moment: publish until
		// one gets through.
		p.publish(t, ex, "k", body(n))
		select {
		case <-h.tasks.created:
			return
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("no task after the queue was re-created")
		}
	}
}

// collector is a sink counting distinct messages by their payload's n.
type collector struct {
	mu    sync.Mutex
	seen  map[int]int
	sends int
}

func newCollector() *collector { return &collector{seen: map[int]int{}} }

func (c *collector) SendBatch(_ context.Context, entries []queue.Entry) ([]queue.EntryError, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range entries {
		var m hooks.PulseMessage
		if err := json.Unmarshal(e.Body, &m); err != nil {
			return nil, err
		}
		var p struct{ N int }
		json.Unmarshal(m.Payload, &p)
		c.seen[p.N]++
		c.sends++
	}
	return nil, nil
}

func (c *collector) distinct() (distinct, sends int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.seen), c.sends
}

func (c *collector) missing(n int) []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []int
	for i := range n {
		if c.seen[i] == 0 {
			out = append(out, i)
		}
	}
	return out
}

// 10,000 messages, with the broker closing the bridge's connection part of
// the way through (while a batch is being sent): every one reaches the
// trigger queue, some twice.
func TestBridgeSurvivesForcedClose(t *testing.T) {
	const total = 10000
	h := newHarness(t)
	ex := h.exchange("e")
	h.hook("h", hooks.Binding{Exchange: ex, RoutingKeyPattern: "#"})
	srv := sqstest.New(t)
	url := srv.CreateQueue("trigger", 0)
	sqs := queue.NewSQS(srv.Client(), url)
	var forwarded atomic.Int64
	hold, held := make(chan struct{}), make(chan struct{})
	var holdOnce sync.Once
	sink := sinkFunc(func(ctx context.Context, entries []queue.Entry) ([]queue.EntryError, error) {
		failed, err := sqs.SendBatch(ctx, entries)
		if err == nil && forwarded.Add(int64(len(entries)-len(failed))) >= 3000 {
			// Sent, not acked yet: hold every sender here while the
			// broker closes the connection.
			holdOnce.Do(func() { close(held) })
			<-hold
		}
		return failed, err
	})
	opts := h.options(sink)
	opts.QueueMaxLength = 2 * total // nothing dropped however far behind
	r := h.start(opts)
	bodies := make([][]byte, total)
	for i := range bodies {
		bodies[i] = body(i)
	}
	published := make(chan error, 1)
	pub := h.publisher()
	go func() { published <- pub.publishAll(ex, "k", bodies) }()
	select {
	case <-held:
	case <-time.After(60 * time.Second):
		t.Fatal("3,000 messages were not forwarded")
	}
	if n := closeConnections(t, opts.ConnectionName); n != 1 {
		t.Errorf("closed %d connections, want the bridge's one", n)
	}
	close(hold)
	if err := <-published; err != nil {
		t.Fatal(err)
	}
	waitFor(t, 120*time.Second, "every message in the trigger queue", func() bool {
		return distinctN(srv.Queue(url).Bodies()) == total
	})
	waitFor(t, 30*time.Second, "the bridge to reconnect", func() bool { ok, _ := r.b.Health(); return ok })
	sent := len(srv.Queue(url).Bodies())
	t.Logf("%d sent for %d messages (%d duplicates from the forced close)", sent, total, sent-total)
	if sent == total {
		t.Error("no message was sent twice: the close did not cut the connection mid-stream")
	}
}

// countingSink counts messages taken.
type countingSink struct {
	next Sink
	n    atomic.Int64
}

func (s *countingSink) SendBatch(ctx context.Context, entries []queue.Entry) ([]queue.EntryError, error) {
	failed, err := s.next.SendBatch(ctx, entries)
	if err == nil {
		s.n.Add(int64(len(entries) - len(failed)))
	}
	return failed, err
}

func distinctN(bodies [][]byte) int {
	seen := map[int]bool{}
	for _, b := range bodies {
		var m hooks.PulseMessage
		json.Unmarshal(b, &m)
		var p struct{ N int }
		json.Unmarshal(m.Payload, &p)
		seen[p.N] = true
	}
	return len(seen)
}

// A bridge killed mid-stream (no drain: the connection closes at once, as
// when the process dies) and started again loses nothing.
func TestBridgeKilledAndRestarted(t *testing.T) {
	const total = 5000
	h := newHarness(t)
	ex := h.exchange("e")
	h.hook("h", hooks.Binding{Exchange: ex, RoutingKeyPattern: "#"})
	sink := newCollector()
	opts := h.options(sink)
	opts.DrainTimeout = -1
	opts.QueueMaxLength = 2 * total
	first := h.start(opts)
	bodies := make([][]byte, total)
	for i := range bodies {
		bodies[i] = body(i)
	}
	h.publisher().publishMany(t, ex, "k", bodies)
	waitFor(t, 60*time.Second, "1,500 forwarded", func() bool { d, _ := sink.distinct(); return d >= 1500 })
	first.stop(t)
	d, _ := sink.distinct()
	t.Logf("killed after %d distinct messages", d)

	h.start(opts) // a new process: nothing remembered
	waitFor(t, 120*time.Second, "every message after the restart", func() bool { d, _ := sink.distinct(); return d == total })
	if m := sink.missing(total); len(m) > 0 {
		t.Fatalf("missing %v", m[:min(len(m), 10)])
	}
	_, sends := sink.distinct()
	t.Logf("%d sends for %d messages", sends, total)
}

// A graceful stop sends and acknowledges what was received: nothing is
// left unacknowledged for the next bridge to resend.
func TestBridgeDrainsOnStop(t *testing.T) {
	h := newHarness(t)
	ex := h.exchange("e")
	q := h.hook("h", hooks.Binding{Exchange: ex, RoutingKeyPattern: "#"})
	slow := &countingSink{next: sinkFunc(func(ctx context.Context, entries []queue.Entry) ([]queue.EntryError, error) {
		time.Sleep(20 * time.Millisecond)
		return nil, nil
	})}
	opts := h.options(slow)
	opts.Senders = 1
	opts.Prefetch = 50
	r := h.start(opts)
	bodies := make([][]byte, 300)
	for i := range bodies {
		bodies[i] = body(i)
	}
	h.publisher().publishMany(t, ex, "k", bodies)
	waitFor(t, 30*time.Second, "some forwarded", func() bool { return slow.n.Load() >= 20 })
	r.stop(t)
	taken := slow.n.Load()
	waiting, _ := h.queueExists(q)
	// Every message was either taken (and acked) or is still ready in the
	// queue; none was taken and left for redelivery.
	if int(taken)+waiting != len(bodies) {
		t.Fatalf("taken %d + waiting %d != %d published: drained deliveries were not acked", taken, waiting, len(bodies))
	}
}

// Hook changes: each is published on its exchange as upstream does (routing
// key `_`, persistent, JSON {hookGroupId, hookId}), and the bridge rebinds;
// a deleted hook's queue goes, even one this process never saw.
func TestBridgeHookChanges(t *testing.T) {
	h := newHarness(t)
	ex := h.exchange("e")
	ch, err := h.admin.Channel()
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	// A subscriber to the three exchanges; declared first, as the bridge
	// declares them when it starts.
	for _, kind := range []hooks.ChangeKind{hooks.HookCreated, hooks.HookUpdated, hooks.HookDeleted} {
		if err := ch.ExchangeDeclare(ExchangeName(h.ns, kind), amqp.ExchangeTopic, true, false, false, false, nil); err != nil {
			t.Fatal(err)
		}
	}
	sub, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, kind := range []hooks.ChangeKind{hooks.HookCreated, hooks.HookUpdated, hooks.HookDeleted} {
		if err := ch.QueueBind(sub.Name, "#", ExchangeName(h.ns, kind), false, nil); err != nil {
			t.Fatal(err)
		}
	}
	// A queue left by a hook deleted while no bridge ran.
	orphan := QueueName(h.ns, "g", "orphan")
	h.queues = append(h.queues, orphan)
	if _, err := ch.QueueDeclare(orphan, true, false, false, false, amqp.Table{"x-queue-type": "quorum"}); err != nil {
		t.Fatal(err)
	}
	h.changes.Send(context.Background(), []byte(`{"kind":"hook-deleted","hookGroupId":"g","hookId":"orphan"}`))

	h.start(h.options(h.localSink()))
	q := h.hook("h", hooks.Binding{Exchange: ex, RoutingKeyPattern: "a"})
	in := hooks.Input{Metadata: hooks.Metadata{Name: "h", Description: "d", Owner: "o@example.com"}, Task: json.RawMessage(`{"workerType":"w"}`), Schedule: []string{}, TriggerSchema: json.RawMessage(`{}`)}
	rebound := []hooks.Binding{{Exchange: ex, RoutingKeyPattern: "b"}}
	in.Bindings = &rebound
	if _, err := h.svc.Definitions.UpdateHook(context.Background(), "g", "h", in); err != nil {
		t.Fatal(err)
	}
	// The update took effect: "b" fires, "a" no longer does.
	p := h.publisher()
	waitFor(t, 30*time.Second, "the rebinding", func() bool {
		p.publish(t, ex, "b", body(1))
		select {
		case <-h.tasks.created:
			return true
		case <-time.After(100 * time.Millisecond):
			return false
		}
	})
	p.publish(t, ex, "a", body(2))
	if err := h.svc.Definitions.RemoveHook(context.Background(), "g", "h"); err != nil {
		t.Fatal(err)
	}
	waitFor(t, 30*time.Second, "the deleted hook's queue to go", func() bool { _, ok := h.queueExists(q); return !ok })
	waitFor(t, 30*time.Second, "the orphan queue to go", func() bool { _, ok := h.queueExists(orphan); return !ok })

	want := []string{"hook-deleted g/orphan", "hook-created g/h", "hook-updated g/h", "hook-deleted g/h"}
	var got []string
	deadline := time.Now().Add(20 * time.Second)
	for len(got) < len(want) && time.Now().Before(deadline) {
		m, ok, err := ch.Get(sub.Name, true)
		if err != nil {
			t.Fatal(err)
		}
		if !ok {
			time.Sleep(50 * time.Millisecond)
			continue
		}
		if m.RoutingKey != "_" || m.ContentType != "application/json" || m.DeliveryMode != amqp.Persistent {
			t.Errorf("message properties: key %q type %q mode %d", m.RoutingKey, m.ContentType, m.DeliveryMode)
		}
		var b map[string]string
		if err := json.Unmarshal(m.Body, &b); err != nil || len(b) != 2 {
			t.Errorf("body %s", m.Body)
		}
		kind := strings.TrimPrefix(m.Exchange, "exchange/"+h.ns+"/v1/")
		got = append(got, kind+" "+b["hookGroupId"]+"/"+b["hookId"])
	}
	// Changes are published as they are handled, in no promised order
	// (SQS standard queues have none either).
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("published %v, want %v", got, want)
	}
	if n, _ := h.tasks.count(); n != 1 {
		t.Errorf("%d tasks, want 1 (the message on the removed binding must not fire)", n)
	}
	if h.changes.Len() != 0 {
		t.Errorf("%d changes left in the queue", h.changes.Len())
	}
}

// A binding to an exchange that does not exist is skipped and retried;
// the hook's other bindings work meanwhile, and the missing one once the
// exchange appears.
func TestBridgeMissingExchange(t *testing.T) {
	h := newHarness(t)
	ex := h.exchange("present")
	later := "exchange/" + h.ns + "/src/later"
	h.exchanges = append(h.exchanges, later)
	h.hook("h", hooks.Binding{Exchange: later, RoutingKeyPattern: "#"}, hooks.Binding{Exchange: ex, RoutingKeyPattern: "#"})
	opts := h.options(h.localSink())
	opts.ReconcileInterval = time.Second
	r := h.start(opts)
	p := h.publisher()
	p.publish(t, ex, "k", body(1))
	select {
	case <-h.tasks.created:
	case <-time.After(20 * time.Second):
		t.Fatal("the present exchange's binding does not work")
	}
	ch, _ := h.admin.Channel()
	if err := ch.ExchangeDeclare(later, amqp.ExchangeTopic, false, false, false, false, nil); err != nil {
		t.Fatal(err)
	}
	ch.Close()
	waitFor(t, 30*time.Second, "the late binding", func() bool {
		p.publish(t, later, "k", body(2))
		select {
		case <-h.tasks.created:
			return true
		case <-time.After(200 * time.Millisecond):
			return false
		}
	})
	if ok, reason := r.b.Health(); !ok {
		t.Errorf("unhealthy: %s", reason)
	}
}

// Messages that cannot be forwarded are recorded as failed fires, and a
// full queue's dropped messages are counted; /healthz and /metrics say so.
func TestBridgeFailuresAndMetrics(t *testing.T) {
	h := newHarness(t)
	ex := h.exchange("e")
	h.hook("h", hooks.Binding{Exchange: ex, RoutingKeyPattern: "#"})
	release := make(chan struct{})
	var once sync.Once
	blocked := sinkFunc(func(ctx context.Context, entries []queue.Entry) ([]queue.EntryError, error) {
		select {
		case <-release:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		return h.localSink().SendBatch(ctx, entries)
	})
	opts := h.options(blocked)
	opts.QueueMaxLength = 5
	opts.Prefetch = 1
	opts.Senders = 1
	opts.MaxBatchBytes = 4096
	r := h.start(opts)
	srv := httptest.NewServer(r.b.Handler())
	defer srv.Close()
	if code, _ := get(t, srv.URL+"/healthz"); code != 200 {
		t.Errorf("healthz %d", code)
	}
	p := h.publisher()
	// The sink is stuck: 1 message in the sender, a few in the bridge,
	// 5 in the queue; the rest are dropped from the queue's head.
	for i := range 30 {
		p.publish(t, ex, "k", body(i))
	}
	waitFor(t, 30*time.Second, "drops to be counted", func() bool {
		_, m := get(t, srv.URL+"/metrics")
		return metric(m, "hookline_bridge_messages_dropped_total") > 0
	})
	once.Do(func() { close(release) })
	p.publish(t, ex, "k", []byte(`{"big":"`+strings.Repeat("x", 5000)+`"}`))
	p.publish(t, ex, "k", []byte(`not json`))
	waitFor(t, 30*time.Second, "two failed fires", func() bool {
		fires, _, _ := h.store.ListLastFires(context.Background(), "g", "h", store.Page{})
		n := 0
		for _, f := range fires {
			if f.Result == "error" {
				n++
			}
		}
		return n == 2
	})
	_, m := get(t, srv.URL+"/metrics")
	for _, name := range []string{"hookline_bridge_messages_received_total", "hookline_bridge_messages_forwarded_total", `hookline_bridge_messages_failed_total{reason="too_large"}`, `hookline_bridge_messages_failed_total{reason="not_json"}`, "hookline_bridge_connected", "hookline_bridge_hook_queues"} {
		if metric(m, name) <= 0 {
			t.Errorf("%s is not positive", name)
		}
	}
	r.stop(t)
	if code, body := get(t, srv.URL+"/healthz"); code != 503 || !strings.Contains(body, "not connected") {
		t.Errorf("healthz after stop: %d %s", code, body)
	}
}

func get(t testing.TB, url string) (int, string) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// metric reads one sample from Prometheus text.
func metric(text, name string) float64 {
	for _, line := range strings.Split(text, "\n") {
		if rest, ok := strings.CutPrefix(line, name+" "); ok {
			var v float64
			fmt.Sscan(rest, &v)
			return v
		}
	}
	return 0
}

// A broker that refuses connections at first (not there yet) is retried
// with backoff until it is.
func TestBridgeRetriesConnection(t *testing.T) {
	h := newHarness(t)
	opts := h.options(h.localSink())
	opts.URL = "amqp://guest:guest@127.0.0.1:1/" // nothing listens
	b, err := NewBridge(opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if err := b.Run(ctx); err != nil {
		t.Fatalf("Run returns nil when stopped, got %v", err)
	}
	if ok, reason := b.Health(); ok || !strings.Contains(reason, "not connected") {
		t.Errorf("health %v %q", ok, reason)
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) && metricValue(b, "hookline_bridge_connection_losses_total") < 2 {
		t.Errorf("expected several connection attempts")
	}
}

func metricValue(b *Bridge, name string) float64 {
	srv := httptest.NewServer(b.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		return 0
	}
	defer res.Body.Close()
	text, _ := io.ReadAll(res.Body)
	return metric(string(text), name)
}
