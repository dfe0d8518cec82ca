package pulse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/queue"
)

// Task events: how the tasks hooks created ended.
//
// With Options.TaskEvents set (the queue's exchange prefix,
// exchange/taskcluster-queue/v1/), the bridge binds one queue of its
// namespace, queue/<namespace>/task-events, to the queue's task-completed,
// task-failed and task-exception exchanges (routing key primary.#: each
// message once, whatever routes its task adds), and reads every task
// event of the deployment, most of them about tasks no hook created. Each
// pays a cheap negative check: the taskId is the routing key's second
// word, looked up in an index of the fires whose outcome is awaited
// (hooks.FireIndex, a map refreshed from the store every RefreshEvery). A
// miss is acknowledged; a hit is wrapped as a hooks.TaskOutcomeMessage and
// sent to the trigger queue (the Sink), whose function records it, and
// acknowledged once the sink took it. Acknowledgements are sent for many
// deliveries at once.
//
// A task can end before the index learns of its fire (a malformed payload
// fails in a second). Misses are therefore kept, body and all, for
// DeferMisses (30 seconds), bounded in count and bytes, and looked at
// again after each refresh that added fires. What slips through anyway
// (a bridge that was down, a miss held longer than that) is found by the
// outcome poller, within its interval.
//
// The queue is a quorum queue bounded by TaskEventsMaxLength (100000),
// dropping its oldest messages when full: an event is worth little late,
// and the poller covers what it drops. Several replicas share it.

// TaskEventsQueue is the bridge's queue of the queue's task events.
func TaskEventsQueue(namespace string) string { return "queue/" + namespace + "/task-events" }

// taskEventExchanges are the queue's exchanges of resolved tasks.
var taskEventExchanges = []string{"task-completed", "task-failed", "task-exception"}

// FireMatcher matches taskIds against the fires whose task outcome is
// awaited (hooks.FireIndex).
type FireMatcher interface {
	Match(taskID string) (hooks.FireRef, bool)
	Refresh(ctx context.Context) (int, error)
	Forget(taskID string)
}

var _ FireMatcher = (*hooks.FireIndex)(nil)

// Defaults of the task-event options.
const (
	defaultTaskEventsMaxLength = 100_000
	defaultRefreshEvery        = 2 * time.Second
	defaultDeferMisses         = 30 * time.Second
	taskEventsPrefetch         = 1000
	// ackEvery bounds the deliveries acknowledged at once.
	ackEvery = 256
	// maxDeferred and maxDeferredBytes bound the misses kept.
	maxDeferred      = 100_000
	maxDeferredBytes = 64 << 20
)

// deferred is a task event that missed the index, kept a while in case
// its fire was too new to be known.
type deferred struct {
	taskID   string
	body     []byte
	received time.Time
}

// taskEvents is the bridge's listener to task events; it outlives
// connections, as its index does.
type taskEvents struct {
	b        *Bridge
	prefix   string
	fires    FireMatcher
	maxLen   int
	refresh  time.Duration
	deferFor time.Duration

	mu        sync.Mutex
	misses    []deferred
	missBytes int
}

func newTaskEvents(b *Bridge, opts Options) *taskEvents {
	te := &taskEvents{b: b, prefix: opts.TaskEvents, fires: opts.Fires, maxLen: opts.TaskEventsMaxLength,
		refresh: opts.RefreshEvery, deferFor: opts.DeferMisses}
	if te.maxLen <= 0 {
		te.maxLen = defaultTaskEventsMaxLength
	}
	if te.refresh <= 0 {
		te.refresh = defaultRefreshEvery
	}
	if te.deferFor <= 0 {
		te.deferFor = defaultDeferMisses
	}
	return te
}

// runIndex refreshes the index every interval until ctx ends, and after a
// refresh that added fires looks at the misses kept.
func (te *taskEvents) runIndex(ctx context.Context) {
	t := time.NewTicker(te.refresh)
	defer t.Stop()
	for {
		added, err := te.fires.Refresh(ctx)
		if err != nil && ctx.Err() == nil {
			te.b.log.WarnContext(ctx, "refresh the index of awaited fires", "err", err)
		}
		if added > 0 {
			te.retryMisses(ctx)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// declare declares the task-events queue and binds it to the queue's
// exchanges; a binding the broker refuses (an exchange that does not
// exist yet) is logged and tried again at the next reconciliation.
func (te *taskEvents) declare(ctx context.Context, s *session) error {
	q := TaskEventsQueue(te.b.namespace)
	err := s.withTopo(func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare(q, true, false, false, false, amqp.Table{
			"x-queue-type": "quorum", "x-max-length": int64(te.maxLen), "x-overflow": "drop-head",
		})
		return err
	})
	if isCode(err, amqp.PreconditionFailed) {
		if _, warned := s.warnedArgs.LoadOrStore(q, true); !warned {
			s.log.WarnContext(ctx, "queue exists with other arguments; using it as it is", "queue", q, "err", err)
		}
	} else if err != nil {
		return fmt.Errorf("declare %s: %w", q, err)
	}
	var errs []error
	for _, name := range taskEventExchanges {
		if err := s.bind(ctx, q, hooks.Binding{Exchange: te.prefix + name, RoutingKeyPattern: "primary.#"}); err != nil {
			errs = append(errs, fmt.Errorf("bind %s to %s: %w", q, te.prefix+name, err))
		}
	}
	return errors.Join(errs...)
}

// consume starts reading the task-events queue on a channel of its own.
func (te *taskEvents) consume(ctx context.Context, s *session) error {
	ch, err := s.conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	if err := ch.Qos(taskEventsPrefetch, 0, false); err != nil {
		ch.Close()
		return fmt.Errorf("qos: %w", err)
	}
	deliveries, err := ch.Consume(TaskEventsQueue(te.b.namespace), "hookline-bridge-task-events", false, false, false, false, nil)
	if err != nil {
		ch.Close()
		return fmt.Errorf("consume %s: %w", TaskEventsQueue(te.b.namespace), err)
	}
	s.taskEventsUp = true
	s.aux.Go(func() {
		te.read(ctx, deliveries)
		ch.Close()
		s.auxMu.Lock()
		s.taskEventsUp = false
		s.auxMu.Unlock()
		s.b.requestReconcile()
	})
	return nil
}

// read handles deliveries until the channel ends: misses are
// acknowledged in bulk, a hit once the sink took it.
func (te *taskEvents) read(ctx context.Context, deliveries <-chan amqp.Delivery) {
	var (
		last    amqp.Delivery
		pending int
	)
	flush := func() {
		if pending > 0 {
			last.Ack(true)
			pending = 0
		}
	}
	for {
		var d amqp.Delivery
		var ok bool
		select {
		case d, ok = <-deliveries:
		default:
			// Nothing waiting: acknowledge what was handled before
			// blocking.
			flush()
			d, ok = <-deliveries
		}
		if !ok {
			return // the channel closed; what was not acknowledged comes back
		}
		if !te.handle(ctx, d) {
			return
		}
		last = d
		pending++
		if pending >= ackEvery {
			flush()
		}
	}
}

// handle matches one delivery and forwards it when it is a hook's task.
// It returns false only when ctx ended while a hit waited for the sink.
func (te *taskEvents) handle(ctx context.Context, d amqp.Delivery) bool {
	m := te.b.metrics
	taskID, ok := hooks.TaskIDOfRoutingKey(d.RoutingKey)
	if !ok {
		m.taskEvents.WithLabelValues("unreadable").Inc()
		return true
	}
	ref, hit := te.fires.Match(taskID)
	if !hit {
		m.taskEvents.WithLabelValues("foreign").Inc()
		te.keepMiss(taskID, d.Body)
		return true
	}
	return te.forward(ctx, ref, d.Body, "matched")
}

// forward sends the outcome of a matched event to the sink, retrying with
// backoff while it refuses; it returns false if ctx ended first.
func (te *taskEvents) forward(ctx context.Context, ref hooks.FireRef, body []byte, result string) bool {
	m := te.b.metrics
	_, out, err := hooks.ParseTaskMessage(body)
	if err != nil {
		m.taskEvents.WithLabelValues("unreadable").Inc()
		te.b.log.WarnContext(ctx, "task event of a hook's task unreadable; the poller will read its status", "taskId", ref.TaskID, "err", err)
		return true
	}
	out.Source = hooks.OutcomeFromEvent
	msg, err := json.Marshal(hooks.TaskOutcomeMessage{Kind: hooks.KindTaskOutcome, Fire: ref, Outcome: out})
	if err != nil {
		return true
	}
	backoff := time.Duration(0)
	for {
		sctx, cancel := context.WithTimeout(ctx, sendTimeout)
		failed, err := te.b.sink.SendBatch(sctx, []queue.Entry{{ID: "0", Body: msg}})
		cancel()
		if err == nil && len(failed) == 0 {
			break
		}
		if err == nil {
			err = &failed[0]
			if failed[0].SenderFault {
				te.b.log.ErrorContext(ctx, "task outcome refused by the trigger queue; the poller will read it", "taskId", ref.TaskID, "err", err)
				return true
			}
		}
		backoff = min(max(backoff*2, minSendBackoff), maxSendBackoff)
		te.b.log.WarnContext(ctx, "forward a task outcome; retrying", "taskId", ref.TaskID, "err", err, "retryIn", backoff.String())
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return false
		case <-t.C:
		}
	}
	m.taskEvents.WithLabelValues(result).Inc()
	te.fires.Forget(ref.TaskID)
	return true
}

// keepMiss keeps a miss a while, within the bounds.
func (te *taskEvents) keepMiss(taskID string, body []byte) {
	te.mu.Lock()
	defer te.mu.Unlock()
	te.misses = append(te.misses, deferred{taskID: taskID, body: body, received: time.Now()})
	te.missBytes += len(body)
	for len(te.misses) > maxDeferred || te.missBytes > maxDeferredBytes {
		te.missBytes -= len(te.misses[0].body)
		te.misses[0] = deferred{}
		te.misses = te.misses[1:]
	}
}

// retryMisses looks at the misses kept again, now that the index knows
// more fires: those that match are forwarded, those too old dropped.
func (te *taskEvents) retryMisses(ctx context.Context) {
	cutoff := time.Now().Add(-te.deferFor)
	te.mu.Lock()
	kept := te.misses[:0]
	var hits []deferred
	size := 0
	for _, d := range te.misses {
		switch {
		case d.received.Before(cutoff):
		case matches(te.fires, d.taskID):
			hits = append(hits, d)
		default:
			kept = append(kept, d)
			size += len(d.body)
		}
	}
	clear(te.misses[len(kept):])
	te.misses, te.missBytes = kept, size
	te.mu.Unlock()
	for _, d := range hits {
		if ref, ok := te.fires.Match(d.taskID); ok {
			if !te.forward(ctx, ref, d.body, "matched-late") {
				return
			}
		}
	}
}

func matches(f FireMatcher, taskID string) bool {
	_, ok := f.Match(taskID)
	return ok
}
