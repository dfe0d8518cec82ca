package pulse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/queue"
)

// ChangeSource is where hook changes wait for the bridge: the changes SQS
// queue in AWS, a queue.Memory in `hookline serve`. A message stays until
// deleted, and comes back after a while if it is not.
type ChangeSource interface {
	Receive(ctx context.Context, n int, wait time.Duration) ([]queue.Message, error)
	Delete(ctx context.Context, receipt string) error
}

// Options configure a Bridge. URL, Hooks, Sink and Failures are required;
// other zero fields take defaults.
type Options struct {
	// URL is the AMQP URL of the broker, credentials included. It is
	// never logged.
	URL string
	// Namespace is the Pulse user; default "taskcluster-hooks".
	Namespace string
	// QueueMaxLength bounds each hook queue; default 10000.
	QueueMaxLength int
	// Prefetch is each hook queue's window of unacknowledged deliveries;
	// default 100.
	Prefetch int
	// ReconcileInterval is how often everything is reconciled besides
	// start-up and hook changes; default 5 minutes.
	ReconcileInterval time.Duration

	// Hooks lists the hooks with bindings (the store is the truth).
	Hooks HookSource
	// Sink takes the forwarded messages.
	Sink Sink
	// Failures records messages that cannot be forwarded.
	Failures FailureRecorder
	// Changes, if set, delivers hook changes: each triggers a
	// reconciliation and is published on the hook-created, -updated or
	// -deleted exchange. Without it the bridge publishes nothing and
	// reconciles at start-up and every ReconcileInterval.
	Changes ChangeSource
	// Schemas validates published messages; nil compiles the embedded
	// schemas.
	Schemas *schemas.Registry

	// Senders is how many batches are sent at once; default 16.
	Senders int
	// Linger is how long a batch may wait for more messages while a
	// sender is free; default 0: a lone message goes at once, and
	// batches fill up while every sender is busy.
	Linger time.Duration
	// MaxBatchBytes bounds a batch and a message; default
	// queue.MaxBatchBytes.
	MaxBatchBytes int
	// DrainTimeout bounds the graceful shutdown (stop consuming, send and
	// acknowledge what was received); default 20 s. Negative: no drain at
	// all; the connection is closed at once, as if the process died.
	DrainTimeout time.Duration

	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Registry receives the metrics; nil means a new registry, which
	// Handler serves. No global registry is used.
	Registry *prometheus.Registry
	// ConnectionName is shown by the broker for the connection; default
	// "hookline-bridge <namespace>".
	ConnectionName string

	// TaskEvents, when set, is the prefix of the queue's exchanges
	// (exchange/taskcluster-queue/v1/) whose task-completed, task-failed
	// and task-exception messages the bridge matches against Fires and
	// forwards, matched, to the Sink (taskevents.go). Fires is then
	// required.
	TaskEvents string
	Fires      FireMatcher
	// TaskEventsMaxLength bounds the task-events queue (100000);
	// RefreshEvery is how often Fires is refreshed (2 s); DeferMisses how
	// long a miss is kept in case its fire was too new (30 s).
	TaskEventsMaxLength int
	RefreshEvery        time.Duration
	DeferMisses         time.Duration
}

// Bridge keeps one durable, bounded queue per hook with bindings on the
// Pulse broker, bound as the hook says, and forwards their messages to a
// Sink, acknowledging each only once the sink took it. See doc.go.
type Bridge struct {
	url, namespace, connName string
	maxLength, prefetch      int
	interval, drain, linger  time.Duration
	senders, maxBytes        int

	sink     Sink
	failures FailureRecorder
	changes  ChangeSource
	schemas  *schemas.Registry
	log      *slog.Logger
	registry *prometheus.Registry
	metrics  *metrics
	rec      *reconciler
	// taskEvents listens to the queue's task events; nil when off.
	taskEvents *taskEvents

	reconcileReq chan struct{}

	mu          sync.Mutex
	sess        *session
	connected   chan struct{} // closed while a session is up
	lastOK      time.Time
	lastErr     string
	checkQueues map[string]bool // named by hook changes; checked at the next reconcile
}

// NewBridge checks the options and builds a bridge; Run starts it.
func NewBridge(opts Options) (*Bridge, error) {
	if opts.URL == "" {
		return nil, errors.New("pulse: no broker URL")
	}
	if opts.Hooks == nil || opts.Sink == nil || opts.Failures == nil {
		return nil, errors.New("pulse: Hooks, Sink and Failures are required")
	}
	b := &Bridge{
		url: opts.URL, namespace: opts.Namespace, connName: opts.ConnectionName,
		maxLength: opts.QueueMaxLength, prefetch: opts.Prefetch,
		interval: opts.ReconcileInterval, drain: opts.DrainTimeout, linger: opts.Linger,
		senders: opts.Senders, maxBytes: opts.MaxBatchBytes,
		sink: opts.Sink, failures: opts.Failures, changes: opts.Changes, schemas: opts.Schemas,
		log: opts.Logger, registry: opts.Registry,
		reconcileReq: make(chan struct{}, 1),
		checkQueues:  map[string]bool{},
		connected:    make(chan struct{}),
	}
	if b.namespace == "" {
		b.namespace = "taskcluster-hooks"
	}
	if b.connName == "" {
		b.connName = "hookline-bridge " + b.namespace
	}
	if b.maxLength <= 0 {
		b.maxLength = 10000
	}
	if b.prefetch <= 0 {
		b.prefetch = 100
	}
	if b.interval <= 0 {
		b.interval = 5 * time.Minute
	}
	if b.drain == 0 {
		b.drain = 20 * time.Second
	}
	if b.senders <= 0 {
		b.senders = 16
	}
	if b.maxBytes <= 0 {
		b.maxBytes = queue.MaxBatchBytes
	}
	if b.log == nil {
		b.log = slog.Default()
	}
	if b.registry == nil {
		b.registry = prometheus.NewRegistry()
	}
	if b.schemas == nil {
		reg, err := schemas.New()
		if err != nil {
			return nil, err
		}
		b.schemas = reg
	}
	b.metrics = newMetrics(b.registry)
	b.rec = newReconciler(b.namespace, opts.Hooks, b.log)
	if opts.TaskEvents != "" {
		if opts.Fires == nil {
			return nil, errors.New("pulse: TaskEvents needs Fires")
		}
		b.taskEvents = newTaskEvents(b, opts)
	}
	return b, nil
}

// Reconnection backoff.
const (
	minReconnect = 200 * time.Millisecond
	maxReconnect = 30 * time.Second
)

// Run connects to the broker and keeps the bridge going until ctx ends,
// reconnecting with backoff whenever the connection is lost or refused.
// When ctx ends it drains (see Options.DrainTimeout) and returns nil.
func (b *Bridge) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	defer wg.Wait()
	if b.changes != nil {
		wg.Go(func() { b.consumeChanges(ctx) })
	}
	if b.taskEvents != nil {
		wg.Go(func() { b.taskEvents.runIndex(ctx) })
	}
	backoff := time.Duration(0)
	for {
		start := time.Now()
		err := b.runSession(ctx)
		if ctx.Err() != nil {
			return nil
		}
		b.metrics.reconnects.Inc()
		if time.Since(start) > time.Minute {
			backoff = 0
		}
		backoff = min(max(backoff*2, minReconnect), maxReconnect)
		b.log.WarnContext(ctx, "pulse connection ended; reconnecting", "err", err, "in", backoff.String())
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
	}
}

// runSession runs one connection until it ends or ctx does.
func (b *Bridge) runSession(ctx context.Context) error {
	conn, err := amqp.DialConfig(b.url, amqp.Config{
		Heartbeat:  10 * time.Second,
		Locale:     "en_US",
		Properties: amqp.Table{"connection_name": b.connName},
		Dial:       amqp.DefaultDial(30 * time.Second),
	})
	if err != nil {
		return fmt.Errorf("pulse: connect: %w", err)
	}
	// The library sends one notification per connection, on a channel
	// registered per connection: buffered, so it never blocks the
	// library when nobody is listening any more.
	closed := conn.NotifyClose(make(chan *amqp.Error, 1))

	// Sends outlive ctx during a graceful drain; with no drain they end
	// with it, as they would with the process.
	sendParent := context.WithoutCancel(ctx)
	if b.drain < 0 {
		sendParent = ctx
	}
	sendCtx, cancelSend := context.WithCancel(sendParent)
	defer cancelSend()
	s := &session{b: b, conn: conn, log: b.log, consumers: map[string]*consumer{}}
	s.fwd = &forwarder{
		sink: b.sink, failures: b.failures, metrics: b.metrics, log: b.log,
		maxBytes: b.maxBytes, linger: b.linger, senders: b.senders,
		in: make(chan *item, 4*b.senders*queue.MaxBatchEntries),
	}
	s.fwd.start(sendCtx)
	if err := s.setup(ctx); err != nil {
		conn.Close()
		s.shutdown()
		return err
	}
	b.setSession(s)
	b.log.InfoContext(ctx, "connected to pulse", "namespace", b.namespace)

	recCtx, stopRec := context.WithCancel(ctx)
	recDone := make(chan struct{})
	go func() {
		defer close(recDone)
		b.reconcileLoop(recCtx, s)
	}()

	var cause error
	select {
	case <-ctx.Done():
	case e := <-closed:
		cause = errors.New("connection closed")
		if e != nil {
			cause = e
		}
	}
	stopRec()
	<-recDone
	b.setSession(nil)

	if cause == nil && b.drain > 0 {
		// Graceful: stop consuming, send and acknowledge what was
		// received, then close. If that takes too long, close anyway:
		// what is left is requeued by the broker.
		timer := time.AfterFunc(b.drain, func() {
			b.log.WarnContext(ctx, "pulse drain timed out; closing with messages unacknowledged (they will be redelivered)")
			cancelSend()
			conn.Close()
		})
		s.shutdown()
		timer.Stop()
		conn.Close()
		s.aux.Wait()
		b.log.InfoContext(ctx, "pulse bridge drained and disconnected")
		return nil
	}
	conn.Close()
	if b.drain < 0 {
		cancelSend()
	}
	s.shutdown()
	s.aux.Wait()
	return cause
}

func (b *Bridge) setSession(s *session) {
	b.mu.Lock()
	was := b.sess
	b.sess = s
	switch {
	case was == nil && s != nil:
		close(b.connected)
	case was != nil && s == nil:
		b.connected = make(chan struct{})
	}
	b.mu.Unlock()
	if s != nil {
		b.metrics.connected.Set(1)
	} else {
		b.metrics.connected.Set(0)
		b.metrics.queues.Set(0)
	}
}

// checkQueue asks for a reconciliation soon that also looks at q, a hook
// queue named by a hook change.
func (b *Bridge) checkQueue(q string) {
	b.mu.Lock()
	b.checkQueues[q] = true
	b.mu.Unlock()
	b.requestReconcile()
}

// requestReconcile asks for a reconciliation soon; requests made while one
// is pending are one request.
func (b *Bridge) requestReconcile() {
	select {
	case b.reconcileReq <- struct{}{}:
	default:
	}
}

// inUseRetry is how soon a queue of a removed hook that another consumer
// still had is looked at again.
const inUseRetry = 5 * time.Second

// reconcileLoop reconciles at once, then at every interval and whenever
// asked, one at a time; and soon again when a removed hook's queue was left
// to another consumer.
func (b *Bridge) reconcileLoop(ctx context.Context, s *session) {
	t := time.NewTicker(b.interval)
	defer t.Stop()
	retry := time.NewTimer(inUseRetry)
	defer retry.Stop()
	for {
		s.ensureAux(ctx)
		retry.Stop()
		if b.reconcileOnce(ctx, s) {
			retry.Reset(inUseRetry)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-b.reconcileReq:
		case <-retry.C:
		}
	}
}

// reconcileOnce reconciles, and reports whether to look again soon.
func (b *Bridge) reconcileOnce(ctx context.Context, s *session) (again bool) {
	b.mu.Lock()
	also := slices.Sorted(maps.Keys(b.checkQueues))
	b.checkQueues = map[string]bool{}
	b.mu.Unlock()
	start := time.Now()
	rep, err := b.rec.reconcile(ctx, s, also)
	if err != nil {
		b.metrics.reconciles.WithLabelValues("error").Inc()
		b.log.ErrorContext(ctx, "reconcile pulse queues", "err", err)
		b.mu.Lock()
		for _, q := range also {
			b.checkQueues[q] = true
		}
		b.lastErr = err.Error()
		b.mu.Unlock()
		return false
	}
	b.metrics.reconciles.WithLabelValues("ok").Inc()
	b.metrics.lastReconcile.SetToCurrentTime()
	b.metrics.queues.Set(float64(rep.Queues))
	b.metrics.bindings.Set(float64(rep.Bindings))
	b.metrics.skipped.Set(float64(rep.SkippedBindings))
	b.metrics.waiting.Set(float64(rep.Waiting))
	b.mu.Lock()
	b.lastOK, b.lastErr = time.Now(), ""
	for _, q := range rep.retry {
		b.checkQueues[q] = true
	}
	b.mu.Unlock()
	b.log.InfoContext(ctx, "reconciled pulse queues", "hooks", rep.Hooks, "queues", rep.Queues, "bindings", rep.Bindings,
		"bound", rep.Bound, "unbound", rep.Unbound, "deleted", rep.Deleted, "refusedBindings", rep.SkippedBindings,
		"failedHooks", rep.FailedHook, "waiting", rep.Waiting, "inUseElsewhere", rep.InUse, "took", time.Since(start).String())
	return len(rep.retry) > 0
}

// consumeChanges takes hook changes from the changes queue: each one
// triggers a reconciliation and is published on its exchange; it is
// deleted from the queue once published, so a change the broker did not
// confirm comes back and is published again.
func (b *Bridge) consumeChanges(ctx context.Context) {
	backoff := time.Duration(0)
	for ctx.Err() == nil {
		// A change is published before it is deleted: take none while
		// there is no connection to publish on.
		b.mu.Lock()
		connected := b.connected
		b.mu.Unlock()
		select {
		case <-ctx.Done():
			return
		case <-connected:
		}
		msgs, err := b.changes.Receive(ctx, 10, 20*time.Second)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			backoff = min(max(backoff*2, time.Second), time.Minute)
			b.log.ErrorContext(ctx, "receive hook changes", "err", err, "retryIn", backoff.String())
			t := time.NewTimer(backoff)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
			continue
		}
		backoff = 0
		for _, m := range msgs {
			b.handleChange(ctx, m)
		}
	}
}

func (b *Bridge) handleChange(ctx context.Context, m queue.Message) {
	var c hooks.Change
	if err := json.Unmarshal(m.Body, &c); err != nil || c.HookGroupID == "" || c.HookID == "" ||
		(c.Kind != hooks.HookCreated && c.Kind != hooks.HookUpdated && c.Kind != hooks.HookDeleted) {
		b.log.ErrorContext(ctx, "malformed hook change dropped", "body", string(m.Body), "err", err)
		b.changes.Delete(ctx, m.Receipt)
		return
	}
	b.checkQueue(QueueName(b.namespace, c.HookGroupID, c.HookID))

	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := b.publish(pctx, c); err != nil {
		b.metrics.publishFailed.Inc()
		b.log.WarnContext(ctx, "publish hook change; it is retried when the changes queue delivers it again", "kind", c.Kind, "hookGroupId", c.HookGroupID, "hookId", c.HookID, "err", err)
		return
	}
	b.metrics.published.WithLabelValues(string(c.Kind)).Inc()
	if err := b.changes.Delete(ctx, m.Receipt); err != nil {
		b.log.WarnContext(ctx, "delete handled hook change; it will be published again", "err", err)
	}
}

// errNotConnected: no connection to publish on.
var errNotConnected = errors.New("pulse: not connected")

func (b *Bridge) publish(ctx context.Context, c hooks.Change) error {
	b.mu.Lock()
	s := b.sess
	b.mu.Unlock()
	if s == nil {
		return errNotConnected
	}
	return s.publish(ctx, b.schemas, c)
}

// Health reports whether the bridge is connected and reconciled
// successfully within two reconcile intervals (and 30 s), with a reason
// when not.
func (b *Bridge) Health() (bool, string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.sess == nil:
		return false, "not connected to the Pulse broker"
	case b.lastOK.IsZero():
		if b.lastErr != "" {
			return false, "no successful reconciliation yet: " + b.lastErr
		}
		return false, "no successful reconciliation yet"
	case time.Since(b.lastOK) > 2*b.interval+30*time.Second:
		return false, fmt.Sprintf("last successful reconciliation at %s: %s", b.lastOK.UTC().Format(time.RFC3339), b.lastErr)
	}
	return true, ""
}

// Handler serves /healthz (200 when Health is good, else 503, with a JSON
// body) and /metrics (Prometheus, from the bridge's own registry).
func (b *Bridge) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		ok, reason := b.Health()
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			w.WriteHeader(http.StatusServiceUnavailable)
			json.NewEncoder(w).Encode(map[string]string{"status": "unhealthy", "reason": reason})
			return
		}
		json.NewEncoder(w).Encode(map[string]string{"status": "ok"})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(b.registry, promhttp.HandlerOpts{Registry: b.registry}))
	return mux
}

// ListenAndServe serves Handler on addr until ctx ends.
func (b *Bridge) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("pulse: listen on %s: %w", addr, err)
	}
	// Health checks and metrics are small GETs: a connection gets
	// little time.
	srv := &http.Server{Handler: b.Handler(), ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second,
		WriteTimeout: 30 * time.Second, IdleTimeout: 2 * time.Minute}
	b.log.InfoContext(ctx, "bridge health and metrics serving", "addr", ln.Addr().String())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// The adapters the bridge is wired with.
var (
	_ Sink            = (*queue.SQS)(nil)
	_ Sink            = (*queue.Local)(nil)
	_ Sink            = (*queue.Memory)(nil)
	_ ChangeSource    = (*queue.SQS)(nil)
	_ ChangeSource    = (*queue.Memory)(nil)
	_ HookSource      = (*hooks.Definitions)(nil)
	_ FailureRecorder = (*hooks.Intake)(nil)
)
