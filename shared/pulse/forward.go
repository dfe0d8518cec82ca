package pulse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/queue"
)

// Sink takes the messages the bridge forwards: the trigger queue (SQS) in
// AWS, or an in-process queue.Local for `hookline serve`. SendBatch gets at
// most queue.MaxBatchEntries entries; an error means none was taken; the
// entry errors name the ones not taken.
type Sink interface {
	SendBatch(ctx context.Context, entries []queue.Entry) ([]queue.EntryError, error)
}

// FailureRecorder records a message that cannot be forwarded as a failed
// fire of its hook (hooks.Intake implements it). An error means it was
// not recorded; the message is kept and tried again.
type FailureRecorder interface {
	RecordPulseFailure(ctx context.Context, msg hooks.PulseMessage, reason string) error
}

// ackable is an AMQP delivery's acknowledgement (amqp.Delivery).
type ackable interface {
	Ack(multiple bool) error
	Nack(multiple, requeue bool) error
}

// item is one delivery on its way to the sink.
type item struct {
	ack ackable
	// gone reports that the delivery's channel closed: the broker took
	// the message back and delivers it again, so it must not be sent
	// (nor settled) from here any more. Nil: never.
	gone       func() bool
	hook       hookRef
	exchange   string
	routingKey string
	body       []byte
	received   time.Time

	env []byte // the message the sink gets
	msg hooks.PulseMessage
}

// forwarder batches deliveries into the sink and acknowledges each only
// once the sink took it. It runs for one connection.
type forwarder struct {
	sink     Sink
	failures FailureRecorder
	metrics  *metrics
	log      *slog.Logger
	maxBytes int
	linger   time.Duration
	senders  int

	in      chan *item // closed once nothing more will be sent on it
	batches chan []*item
	wg      sync.WaitGroup
}

// sendTimeout bounds one SendMessageBatch.
const sendTimeout = 30 * time.Second

// Backoff after a failed send, per sender.
const (
	minSendBackoff = 100 * time.Millisecond
	maxSendBackoff = 10 * time.Second
)

// start starts batching and sending. ctx bounds sends and failure
// records; it outlives the run context during a graceful drain.
func (f *forwarder) start(ctx context.Context) {
	f.batches = make(chan []*item)
	f.wg.Go(func() { f.batch(ctx) })
	for range f.senders {
		f.wg.Go(func() { f.send(ctx) })
	}
}

// wait returns when everything received was sent and acknowledged (or
// nacked), after f.in is closed.
func (f *forwarder) wait() { f.wg.Wait() }

// batch groups deliveries into batches of at most queue.MaxBatchEntries
// entries and maxBytes bytes. A batch is handed to a sender as soon as it
// is ready (full, or its first item is linger old) and a sender is free;
// while every sender is busy it keeps growing, so batches fill up under
// load and a lone message goes out at once.
func (f *forwarder) batch(ctx context.Context) {
	defer close(f.batches)
	var (
		cur    []*item
		size   int
		next   *item // did not fit in cur
		ready  bool
		timer  *time.Timer
		timerC <-chan time.Time
		in     = f.in
	)
	stopTimer := func() {
		if timer != nil {
			timer.Stop()
		}
		timerC = nil
	}
	place := func(it *item) {
		if len(cur) > 0 && size+len(it.env) > f.maxBytes {
			next, ready = it, true
			return
		}
		cur = append(cur, it)
		size += len(it.env)
		if len(cur) == queue.MaxBatchEntries {
			ready = true
		} else if len(cur) == 1 {
			if f.linger <= 0 {
				ready = true
			} else {
				timer = time.NewTimer(f.linger)
				timerC = timer.C
			}
		}
	}
	for {
		if in == nil && next == nil && len(cur) == 0 {
			return
		}
		var out chan<- []*item
		if len(cur) > 0 && (ready || in == nil) {
			out = f.batches
		}
		receive := in
		if next != nil || len(cur) == queue.MaxBatchEntries {
			receive = nil
		}
		select {
		case it, ok := <-receive:
			if !ok {
				in = nil
				continue
			}
			if f.prepare(ctx, it) {
				place(it)
			}
		case out <- cur:
			stopTimer()
			cur, size, ready = nil, 0, false
			if next != nil {
				it := next
				next = nil
				place(it)
			}
		case <-timerC:
			timerC = nil
			ready = true
		}
	}
}

// prepare builds the item's message, or disposes of a delivery that
// cannot be forwarded (not JSON, too large): it is recorded as a failed
// fire and acknowledged. It reports whether the item goes on.
func (f *forwarder) prepare(ctx context.Context, it *item) bool {
	f.metrics.received.Inc()
	msg, env, err := envelope(it.hook, it.exchange, it.routingKey, it.body)
	it.msg, it.env = msg, env
	if err == nil && len(env) > f.maxBytes {
		err = fmt.Errorf("the message is %d bytes once wrapped for the trigger queue, which takes at most %d", len(env), f.maxBytes)
		f.metrics.failed.WithLabelValues("too_large").Inc()
	} else if err != nil {
		f.metrics.failed.WithLabelValues("not_json").Inc()
	}
	if err == nil {
		return true
	}
	f.dispose(ctx, it, err.Error())
	return false
}

// dispose records an unforwardable delivery as a failed fire and acks it;
// if the record cannot be written, the delivery is requeued to try again.
func (f *forwarder) dispose(ctx context.Context, it *item, reason string) {
	ctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	if err := f.failures.RecordPulseFailure(ctx, it.msg, reason); err != nil {
		f.log.ErrorContext(ctx, "record an unforwardable pulse message; requeued", "hookGroupId", it.hook.group, "hookId", it.hook.id, "err", err)
		f.nack(ctx, it)
		return
	}
	f.log.WarnContext(ctx, "pulse message not forwarded; recorded as a failed fire", "hookGroupId", it.hook.group, "hookId", it.hook.id, "exchange", it.exchange, "routingKey", it.routingKey, "reason", reason)
	if err := it.ack.Ack(false); err != nil {
		f.log.DebugContext(ctx, "ack failed; the message will come again", "err", err)
	}
}

func (f *forwarder) nack(ctx context.Context, it *item) {
	f.metrics.requeued.Inc()
	if err := it.ack.Nack(false, true); err != nil {
		f.log.DebugContext(ctx, "nack failed; the message will come again", "err", err)
	}
}

// send sends batches and acknowledges what the sink took. What it did not
// take is held and tried again, with backoff, until the sink takes it:
// never requeued because the sink is down. A requeue counts as a failed
// delivery on quorum queues (every return before RabbitMQ 4.3, a reject
// from 4.3), and RabbitMQ 4 dead-letters a message after 20 of them, so
// requeueing through a long trigger-queue outage would have the broker give
// up on the messages. Holding them instead is the flow control: once a
// queue's prefetch window is full of held deliveries the broker sends no
// more, and the rest wait in the queue (bounded by x-max-length).
//
// A held delivery whose channel closed (a lost connection, the broker's
// consumer timeout) is let go: the broker delivers it again. Entries the
// sink blames on themselves, which no retry would fix, are recorded as
// failed fires and acked. When ctx ends (a drain out of time, or no drain
// at all) what is left is given back with a requeue.
func (f *forwarder) send(ctx context.Context) {
	backoff := time.Duration(0)
	for batch := range f.batches {
		pending := batch
		for {
			pending = slices.DeleteFunc(pending, (*item).isGone)
			if len(pending) == 0 {
				backoff = 0
				break
			}
			if ctx.Err() != nil {
				for _, it := range pending {
					f.nack(ctx, it)
				}
				break
			}
			if pending = f.sendOnce(ctx, pending); len(pending) == 0 {
				backoff = 0
				break
			}
			backoff = f.pause(ctx, backoff)
		}
	}
}

func (it *item) isGone() bool { return it.gone != nil && it.gone() }

// sendOnce sends items as one batch, settles what it can and returns the
// items to try again.
func (f *forwarder) sendOnce(ctx context.Context, batch []*item) []*item {
	entries := make([]queue.Entry, len(batch))
	for i, it := range batch {
		entries[i] = queue.Entry{ID: strconv.Itoa(i), Body: it.env}
	}
	sctx, cancel := context.WithTimeout(ctx, sendTimeout)
	failed, err := f.sink.SendBatch(sctx, entries)
	cancel()
	if err != nil {
		f.metrics.failed.WithLabelValues("send_error").Add(float64(len(batch)))
		f.log.ErrorContext(ctx, "forward to the trigger queue failed; retrying", "messages", len(batch), "err", err)
		return batch
	}
	refused := make(map[string]queue.EntryError, len(failed))
	for _, e := range failed {
		refused[e.ID] = e
	}
	var retry []*item
	now := time.Now()
	for i, it := range batch {
		e, bad := refused[strconv.Itoa(i)]
		switch {
		case !bad:
			if err := it.ack.Ack(false); err != nil {
				// The connection is gone: the broker redelivers the
				// message, and the taskId derived from it makes the
				// second send the same task.
				f.log.DebugContext(ctx, "ack failed; the message will come again", "err", err)
				continue
			}
			f.metrics.forwarded.Inc()
			f.metrics.latency.Observe(now.Sub(it.received).Seconds())
		case e.SenderFault:
			f.metrics.failed.WithLabelValues("refused").Inc()
			f.dispose(ctx, it, fmt.Sprintf("the trigger queue refused the message: %s: %s", e.Code, e.Message))
		default:
			f.metrics.failed.WithLabelValues("entry_error").Inc()
			f.log.WarnContext(ctx, "trigger queue did not take a message; retrying", "hookGroupId", it.hook.group, "hookId", it.hook.id, "code", e.Code, "err", e.Message)
			retry = append(retry, it)
		}
	}
	return retry
}

// pause sleeps after a failure, doubling from minSendBackoff up to
// maxSendBackoff, and returns the next pause. A drain that runs out of time
// cuts it short.
func (f *forwarder) pause(ctx context.Context, prev time.Duration) time.Duration {
	d := min(max(prev*2, minSendBackoff), maxSendBackoff)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return d
}

// errNotJSON marks a message body that is not JSON.
var errNotJSON = errors.New("the message body is not JSON")

// envelope wraps a message for the trigger queue as hooks.PulseMessage
// JSON. The payload is the body made safe for SQS, which refuses some
// characters JSON allows: U+FFFE and U+FFFF are written as escapes and
// invalid UTF-8 as \ufffd, everything else is kept. The result is a
// function of the delivery alone, so a redelivered message wraps to the
// same bytes and derives the same taskId.
func envelope(h hookRef, exchange, routingKey string, body []byte) (hooks.PulseMessage, []byte, error) {
	msg := hooks.PulseMessage{HookGroupID: h.group, HookID: h.id, Exchange: exchange, RoutingKey: routingKey, Payload: body}
	if !json.Valid(body) {
		return msg, nil, errNotJSON
	}
	msg.Payload = sqsSafe(body)
	env, err := json.Marshal(msg)
	if err != nil {
		return msg, nil, fmt.Errorf("%w: %v", errNotJSON, err)
	}
	return msg, env, nil
}

// sqsSafe rewrites the characters of a JSON text that SQS does not accept in
// a message body. Outside strings valid JSON is ASCII, so every non-ASCII
// character is inside a string, where a \u escape means the same.
func sqsSafe(b []byte) []byte {
	i := 0
	for i < len(b) {
		if b[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if (r == utf8.RuneError && n == 1) || r == 0xFFFE || r == 0xFFFF {
			break
		}
		i += n
	}
	if i == len(b) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	out = append(out, b[:i]...)
	for i < len(b) {
		if b[i] < utf8.RuneSelf {
			out = append(out, b[i])
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			out = append(out, `\ufffd`...)
		case r == 0xFFFE || r == 0xFFFF:
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, b[i:i+n]...)
		}
		i += n
	}
	return out
}
