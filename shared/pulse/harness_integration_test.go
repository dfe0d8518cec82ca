//go:build integration

package pulse

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/queue"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/embedded"
	"github.com/hookline/hookline/shared/taskcluster"
	"github.com/hookline/hookline/shared/testutil"
)

// Tests against the RabbitMQ at HOOKLINE_TEST_AMQP_URL (default the local
// one). Without a broker they skip, except under CI=true, where they fail.
// Every test works in a namespace of its own and deletes the queues and
// exchanges it made.

// taskLog is a Taskcluster queue that keeps the tasks created, as the real
// one (an identical re-create is a no-op, a different body a 409).
type taskLog struct {
	mu      sync.Mutex
	tasks   map[string]json.RawMessage
	creates int
	created chan string
}

func newTaskLog() *taskLog {
	return &taskLog{tasks: map[string]json.RawMessage{}, created: make(chan string, 100000)}
}

func (q *taskLog) CreateTask(_ context.Context, taskID string, task json.RawMessage, _ []string) (json.RawMessage, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.creates++
	if old, ok := q.tasks[taskID]; ok {
		if !bytes.Equal(old, task) {
			return nil, &taskcluster.APIError{StatusCode: 409, Code: "RequestConflict", Method: "createTask"}
		}
		return json.RawMessage(`{}`), nil
	}
	q.tasks[taskID] = task
	q.created <- taskID
	return json.RawMessage(`{}`), nil
}

func (q *taskLog) count() (tasks, creates int) {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.tasks), q.creates
}

func (q *taskLog) task(id string) map[string]any {
	q.mu.Lock()
	defer q.mu.Unlock()
	var m map[string]any
	json.Unmarshal(q.tasks[id], &m)
	return m
}

// harness is a hooks service over an embedded store and a taskLog, and a
// namespace on the broker.
type harness struct {
	t       testing.TB
	ns      string
	admin   *amqp.Connection
	store   store.Store
	svc     *hooks.Service
	tasks   *taskLog
	changes *queue.Memory

	mu        sync.Mutex
	exchanges []string
	queues    []string
}

func newHarness(t testing.TB) *harness {
	t.Helper()
	admin := testutil.DialBroker(t)
	var rnd [4]byte
	rand.Read(rnd[:])
	h := &harness{t: t, admin: admin, ns: "hltest-" + hex.EncodeToString(rnd[:]), tasks: newTaskLog(), changes: queue.NewMemory(&queue.MemoryOptions{VisibilityTimeout: time.Second})}
	st, err := embedded.Open(filepath.Join(t.TempDir(), "h.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	h.store = st
	reg, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	h.svc, err = hooks.NewService(st, reg, hooks.Options{Queue: h.tasks, Logger: quiet(), Notifier: hooks.NewChangeNotifier(h.changes)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		h.cleanup()
		st.Close()
	})
	return h
}

// cleanup deletes everything the test made on the broker.
func (h *harness) cleanup() {
	ch, err := h.admin.Channel()
	if err != nil {
		return
	}
	defer ch.Close()
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, q := range append(h.queues, DroppedQueue(h.ns), ParkedQueue(h.ns)) {
		ch.QueueDelete(q, false, false, false)
	}
	for _, e := range append(h.exchanges, DroppedExchange(h.ns), ParkedExchange(h.ns), ExchangeName(h.ns, hooks.HookCreated), ExchangeName(h.ns, hooks.HookUpdated), ExchangeName(h.ns, hooks.HookDeleted)) {
		ch.ExchangeDelete(e, false, false)
	}
}

// exchange declares a topic exchange for the test and returns its name.
func (h *harness) exchange(name string) string {
	h.t.Helper()
	full := "exchange/" + h.ns + "/src/" + name
	ch, err := h.admin.Channel()
	if err != nil {
		h.t.Fatal(err)
	}
	defer ch.Close()
	if err := ch.ExchangeDeclare(full, amqp.ExchangeTopic, false, false, false, false, nil); err != nil {
		h.t.Fatal(err)
	}
	h.mu.Lock()
	h.exchanges = append(h.exchanges, full)
	h.mu.Unlock()
	return full
}

// hook creates a hook firing on its bindings, with an open triggerSchema
// and a task carrying the payload.
func (h *harness) hook(id string, bindings ...hooks.Binding) string {
	h.t.Helper()
	_, err := h.svc.Definitions.CreateHook(context.Background(), "g", id, hooks.Input{
		Bindings:      &bindings,
		Metadata:      hooks.Metadata{Name: id, Description: "d", Owner: "o@example.com"},
		Task:          json.RawMessage(`{"provisionerId":"p","workerType":"w","payload":{"firedBy":"${firedBy}","message":{"$eval":"payload"}}}`),
		Schedule:      []string{},
		TriggerSchema: json.RawMessage(`{}`),
	})
	if err != nil {
		h.t.Fatal(err)
	}
	q := QueueName(h.ns, "g", id)
	h.mu.Lock()
	h.queues = append(h.queues, q)
	h.mu.Unlock()
	return q
}

// localSink hands messages to the hooks service in-process, as `hookline
// serve` does.
func (h *harness) localSink() Sink {
	// What the trigger function does with each message, in process.
	fire := func(ctx context.Context, body []byte) error {
		msg, err := hooks.ParsePulseMessage(body)
		if err != nil {
			return fmt.Errorf("%w: %v", queue.ErrPermanent, err)
		}
		_, err = h.svc.Intake.FirePulseMessage(ctx, msg)
		return err
	}
	return queue.NewLocal(fire, &queue.LocalOptions{Concurrency: 64})
}

func (h *harness) options(sink Sink) Options {
	return Options{
		URL: testutil.BrokerURL(), Namespace: h.ns, Hooks: h.svc.Definitions, Failures: h.svc.Intake, Sink: sink, Changes: h.changes,
		ReconcileInterval: 2 * time.Second, Logger: testLogger(h.t), ConnectionName: h.ns + "-bridge",
	}
}

// running is a bridge running in the background.
type running struct {
	b      *Bridge
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
}

func (h *harness) start(opts Options) *running {
	h.t.Helper()
	b, err := NewBridge(opts)
	if err != nil {
		h.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{b: b, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- b.Run(ctx) }()
	h.t.Cleanup(func() { r.stop(h.t) })
	waitFor(h.t, 30*time.Second, "the bridge to be healthy", func() bool { ok, _ := b.Health(); return ok })
	return r
}

// stop cancels the bridge and waits for Run to return.
func (r *running) stop(t testing.TB) {
	r.once.Do(func() {
		r.cancel()
		select {
		case err := <-r.done:
			if err != nil {
				t.Errorf("Run: %v", err)
			}
		case <-time.After(60 * time.Second):
			t.Error("the bridge did not stop")
		}
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

// publisher publishes with confirms, as Pulse publishers do.
type publisher struct {
	ch *amqp.Channel
}

func (h *harness) publisher() *publisher {
	h.t.Helper()
	ch, err := h.admin.Channel()
	if err != nil {
		h.t.Fatal(err)
	}
	if err := ch.Confirm(false); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { ch.Close() })
	return &publisher{ch: ch}
}

func (p *publisher) publish(t testing.TB, exchange, key string, body []byte) {
	t.Helper()
	conf, err := p.ch.PublishWithDeferredConfirmWithContext(context.Background(), exchange, key, false, false, amqp.Publishing{ContentType: "application/json", DeliveryMode: amqp.Persistent, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := conf.WaitContext(context.Background()); !ok || err != nil {
		t.Fatalf("publish not confirmed: %v", err)
	}
}

// publishMany publishes without waiting for each confirm, then waits for
// them all.
func (p *publisher) publishMany(t testing.TB, exchange, key string, bodies [][]byte) {
	t.Helper()
	if err := p.publishAll(exchange, key, bodies); err != nil {
		t.Fatal(err)
	}
}

// publishAll is publishMany for another goroutine than the test's.
func (p *publisher) publishAll(exchange, key string, bodies [][]byte) error {
	confs := make([]*amqp.DeferredConfirmation, 0, len(bodies))
	for _, b := range bodies {
		conf, err := p.ch.PublishWithDeferredConfirmWithContext(context.Background(), exchange, key, false, false, amqp.Publishing{ContentType: "application/json", DeliveryMode: amqp.Persistent, Body: b})
		if err != nil {
			return err
		}
		confs = append(confs, conf)
	}
	for _, c := range confs {
		if ok, err := c.WaitContext(context.Background()); !ok || err != nil {
			return fmt.Errorf("publish not confirmed: %v", err)
		}
	}
	return nil
}

// queueExists asks the broker, on a channel of its own.
func (h *harness) queueExists(q string) (int, bool) {
	ch, err := h.admin.Channel()
	if err != nil {
		h.t.Fatal(err)
	}
	defer ch.Close()
	info, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
	return info.Messages, err == nil
}

// closeConnections makes the broker close the connections named name, as an
// operator's `rabbitmqctl close_connection` (or a broker restart) does,
// and returns how many it closed.
func closeConnections(t testing.TB, name string) int {
	t.Helper()
	out, err := exec.Command("rabbitmqctl", "-q", "list_connections", "pid", "client_properties").CombinedOutput()
	if err != nil {
		t.Fatalf("rabbitmqctl list_connections: %v\n%s", err, out)
	}
	n := 0
	for _, line := range strings.Split(string(out), "\n") {
		if !strings.Contains(line, `{"connection_name","`+name+`"}`) {
			continue
		}
		pid, _, _ := strings.Cut(line, "\t")
		if out, err := exec.Command("rabbitmqctl", "-q", "close_connection", strings.TrimSpace(pid), "closed by test").CombinedOutput(); err != nil {
			t.Fatalf("rabbitmqctl close_connection: %v\n%s", err, out)
		}
		n++
	}
	return n
}

// testLogger logs warnings and errors through t, so failures show why
// (everything with HOOKLINE_TEST_VERBOSE set). Lines logged once the test
// is over are dropped.
func testLogger(t testing.TB) *slog.Logger {
	w := &tWriter{t: t}
	t.Cleanup(w.close)
	level := slog.LevelWarn
	if os.Getenv("HOOKLINE_TEST_VERBOSE") != "" {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

type tWriter struct {
	mu     sync.Mutex
	t      testing.TB
	closed bool
}

func (w *tWriter) close() {
	w.mu.Lock()
	w.closed = true
	w.mu.Unlock()
}

func (w *tWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.closed {
		w.t.Log(strings.TrimSpace(string(p)))
	}
	return len(p), nil
}

func body(n int) []byte {
	return []byte(fmt.Sprintf(`{"n":%d,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`, n))
}
