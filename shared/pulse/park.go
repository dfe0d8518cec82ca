package pulse

import (
	"context"
	"errors"
	"fmt"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// What the broker gives up on.
//
// Hook queues dead-letter to DroppedExchange, and DroppedQueue gets two
// kinds of message: those x-max-length dropped from a full queue's head
// (reason maxlen), and those a quorum queue stopped delivering because
// they came back too often (reason delivery_limit; RabbitMQ 4 has a
// default limit of 20). The first are the queue's bound doing its job:
// counted and let go. The second were never forwarded, so the bridge parks
// them: it republishes each, with the hook, exchange and routing key it
// came from, to ParkedQueue (publisher confirms, mandatory), and only then
// acknowledges it in DroppedQueue. ParkedQueue is consumed like a hook
// queue, so a parked message reaches the trigger queue once it takes
// messages again, wrapped exactly as it would have been at first (the same
// taskId, so one task even if the original was sent too).
//
// ParkedQueue is a quorum queue with x-overflow reject-publish and
// dead-letter-strategy at-least-once back to DroppedExchange: if the broker
// gives up on a parked message too, it is dead-lettered with confirms (not
// lost if DroppedQueue is briefly unavailable) and parked again. Hook
// queues cannot have at-least-once dead-lettering: RabbitMQ allows it only
// with reject-publish, which would make a full hook queue refuse
// publishers (see doc.go); their dead-lettering is at most once, which
// loses a message only if DroppedQueue is unavailable at that moment.

// Headers a parked message carries: where it came from.
const (
	parkedGroupHeader      = "hookline-hook-group-id"
	parkedHookHeader       = "hookline-hook-id"
	parkedExchangeHeader   = "hookline-exchange"
	parkedRoutingKeyHeader = "hookline-routing-key"
)

// deadLetterPrefetch bounds the dead letters the sorter holds at once.
const deadLetterPrefetch = 100

// origin is where a message was first delivered: the hook whose queue got
// it, and the exchange and routing key it was published with.
type origin struct {
	hook                 hookRef
	exchange, routingKey string
}

// ensureAux starts whichever of the sorter of dead letters, the consumer of
// parked messages and the listener to hook changes is not running. It runs
// before every reconciliation, so one that failed or ended is tried again.
// Failures are logged: the hook queues work without them.
func (s *session) ensureAux(ctx context.Context) {
	s.auxMu.Lock()
	defer s.auxMu.Unlock()
	if !s.consuming(ParkedQueue(s.b.namespace)) || !s.sorterUp {
		if err := s.declareDeadLetters(ctx); err != nil {
			s.log.WarnContext(ctx, "declare the dead-letter and parked queues; messages the broker gives up on wait until this works", "err", err)
			return
		}
	}
	if !s.consuming(ParkedQueue(s.b.namespace)) {
		if err := s.consume(ctx, ParkedQueue(s.b.namespace), s.parkedItem); err != nil {
			s.log.WarnContext(ctx, "consume the parked queue", "err", err)
		}
	}
	if !s.sorterUp {
		if err := s.sortDeadLetters(ctx); err != nil {
			s.log.WarnContext(ctx, "consume the dead-letter queue; dropped messages are not counted and given-up ones not parked until this works", "err", err)
		}
	}
	if !s.listenerUp {
		if err := s.listenChanges(ctx); err != nil {
			s.log.WarnContext(ctx, "listen to hook changes published by other replicas; they are picked up by the periodic reconciliation", "err", err)
		}
	}
	if te := s.b.taskEvents; te != nil && !s.taskEventsUp {
		if err := te.declare(ctx, s); err != nil {
			s.log.WarnContext(ctx, "bind the task-events queue; task outcomes come from the poller until this works", "err", err)
		}
		if err := te.consume(ctx, s); err != nil {
			s.log.WarnContext(ctx, "consume the task-events queue; task outcomes come from the poller until this works", "err", err)
		}
	}
}

// declareDeadLetters declares DroppedExchange and DroppedQueue, and
// ParkedExchange and ParkedQueue, each queue bound to its exchange. A
// queue that exists with other arguments is used as it is.
func (s *session) declareDeadLetters(ctx context.Context) error {
	ns := s.b.namespace
	for _, d := range []struct {
		exchange, queue string
		args            amqp.Table
	}{
		{DroppedExchange(ns), DroppedQueue(ns), amqp.Table{"x-queue-type": "quorum", "x-max-length": int64(10000), "x-overflow": "drop-head"}},
		{ParkedExchange(ns), ParkedQueue(ns), amqp.Table{
			"x-queue-type":           "quorum",
			"x-overflow":             "reject-publish",
			"x-dead-letter-exchange": DroppedExchange(ns),
			"x-dead-letter-strategy": "at-least-once",
		}},
	} {
		if err := s.withTopo(func(ch *amqp.Channel) error {
			return ch.ExchangeDeclare(d.exchange, amqp.ExchangeFanout, true, false, false, false, nil)
		}); err != nil {
			return fmt.Errorf("declare %s: %w", d.exchange, err)
		}
		err := s.withTopo(func(ch *amqp.Channel) error {
			_, err := ch.QueueDeclare(d.queue, true, false, false, false, d.args)
			return err
		})
		if isCode(err, amqp.PreconditionFailed) {
			if _, warned := s.warnedArgs.LoadOrStore(d.queue, true); !warned {
				s.log.WarnContext(ctx, "queue exists with other arguments; using it as it is", "queue", d.queue, "err", err)
			}
		} else if err != nil {
			return fmt.Errorf("declare %s: %w", d.queue, err)
		}
		if err := s.withTopo(func(ch *amqp.Channel) error {
			return ch.QueueBind(d.queue, "", d.exchange, false, nil)
		}); err != nil {
			return fmt.Errorf("bind %s: %w", d.queue, err)
		}
	}
	return nil
}

// sortDeadLetters consumes DroppedQueue on a channel of its own (in
// confirm mode, to park on), counting what was dropped and parking what
// was given up on.
func (s *session) sortDeadLetters(ctx context.Context) error {
	ch, err := s.conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	if err := ch.Qos(deadLetterPrefetch, 0, false); err != nil {
		ch.Close()
		return fmt.Errorf("qos: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		ch.Close()
		return fmt.Errorf("publisher confirms: %w", err)
	}
	// One publish waits for its confirm at a time, and the broker sends a
	// return before the confirm, so one slot is enough and the library
	// never blocks on it.
	returns := ch.NotifyReturn(make(chan amqp.Return, 1))
	deliveries, err := ch.Consume(DroppedQueue(s.b.namespace), "hookline-bridge-dead-letters", false, false, false, false, nil)
	if err != nil {
		ch.Close()
		return fmt.Errorf("consume %s: %w", DroppedQueue(s.b.namespace), err)
	}
	s.sorterUp = true
	s.aux.Go(func() {
		var dropped, parked int
		for d := range deliveries {
			s.sortDeadLetter(ctx, ch, returns, d, &dropped, &parked)
		}
		ch.Close()
		s.auxMu.Lock()
		s.sorterUp = false
		s.auxMu.Unlock()
		s.b.requestReconcile()
	})
	return nil
}

// sortDeadLetter settles one dead letter: a drop is counted and
// acknowledged; a message the broker gave up delivering is parked, then
// acknowledged. Parking is retried while the channel lives; if it dies,
// the broker keeps the dead letter for the next sorter.
func (s *session) sortDeadLetter(ctx context.Context, ch *amqp.Channel, returns <-chan amqp.Return, d amqp.Delivery, dropped, parked *int) {
	reason := deathReason(d.Headers)
	o, ok := originOf(s.b.namespace, d.Headers)
	if reason == "maxlen" || reason == "expired" || !ok {
		s.b.metrics.dropped.Inc()
		*dropped++
		switch {
		case !ok:
			s.log.ErrorContext(ctx, "dead letter from no hook queue of this namespace; dropped", "reason", reason, "exchange", d.Exchange, "routingKey", d.RoutingKey)
		case *dropped == 1 || *dropped%100 == 0:
			s.log.WarnContext(ctx, "hook queue full: oldest message dropped", "reason", reason, "hookGroupId", o.hook.group, "hookId", o.hook.id, "exchange", o.exchange, "droppedSinceConnected", *dropped)
		}
		d.Ack(false)
		return
	}
	backoff := time.Duration(0)
	for {
		err := s.park(ctx, ch, returns, d, o)
		if err == nil {
			break
		}
		if ch.IsClosed() || ctx.Err() != nil {
			return
		}
		backoff = min(max(backoff*2, minSendBackoff), maxSendBackoff)
		s.log.ErrorContext(ctx, "park a message the broker gave up delivering; retrying", "hookGroupId", o.hook.group, "hookId", o.hook.id, "err", err, "retryIn", backoff.String())
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
		}
	}
	if err := d.Ack(false); err != nil {
		// Parked, and the dead letter comes back: parked twice, one
		// task all the same (the taskId is the message's).
		s.log.DebugContext(ctx, "ack a parked dead letter failed; it will be parked again", "err", err)
		return
	}
	s.b.metrics.parked.Inc()
	*parked++
	if *parked == 1 || *parked%100 == 0 {
		s.log.WarnContext(ctx, "the broker gave up delivering a message (delivery limit); parked until the trigger queue takes it", "reason", reason, "hookGroupId", o.hook.group, "hookId", o.hook.id, "exchange", o.exchange, "queue", ParkedQueue(s.b.namespace), "parkedSinceConnected", *parked)
	}
}

// park publishes d's body to ParkedExchange with where it came from, and
// waits for the broker's confirm; a message the broker could not route (no
// ParkedQueue) is an error.
func (s *session) park(ctx context.Context, ch *amqp.Channel, returns <-chan amqp.Return, d amqp.Delivery, o origin) error {
	pctx, cancel := context.WithTimeout(ctx, sendTimeout)
	defer cancel()
	conf, err := ch.PublishWithDeferredConfirmWithContext(pctx, ParkedExchange(s.b.namespace), "", true, false, amqp.Publishing{
		Headers: amqp.Table{
			parkedGroupHeader:      o.hook.group,
			parkedHookHeader:       o.hook.id,
			parkedExchangeHeader:   o.exchange,
			parkedRoutingKeyHeader: o.routingKey,
		},
		ContentType:     d.ContentType,
		ContentEncoding: d.ContentEncoding,
		DeliveryMode:    amqp.Persistent,
		Timestamp:       d.Timestamp,
		MessageId:       d.MessageId,
		Body:            d.Body,
	})
	if err != nil {
		return fmt.Errorf("publish to %s: %w", ParkedExchange(s.b.namespace), err)
	}
	ok, err := conf.WaitContext(pctx)
	select {
	case r := <-returns:
		return fmt.Errorf("%s did not route the message: %d %s", ParkedExchange(s.b.namespace), r.ReplyCode, r.ReplyText)
	default:
	}
	if err != nil {
		return fmt.Errorf("confirm from %s: %w", ParkedExchange(s.b.namespace), err)
	}
	if !ok {
		return fmt.Errorf("the broker did not confirm the message to %s", ParkedExchange(s.b.namespace))
	}
	return nil
}

// parkedItem makes a parked message the item its first delivery was.
func (s *session) parkedItem(d amqp.Delivery) (*item, error) {
	o, ok := originOf(s.b.namespace, d.Headers)
	if !ok {
		return nil, errors.New("a message in the parked queue does not say which hook it is for")
	}
	return &item{hook: o.hook, exchange: o.exchange, routingKey: o.routingKey, body: d.Body}, nil
}

// deathReason is why a message was last dead-lettered (x-death, most
// recent first; x-last-death-reason and x-first-death-reason otherwise).
func deathReason(h amqp.Table) string {
	if deaths, _ := h["x-death"].([]any); len(deaths) > 0 {
		if last, ok := deaths[0].(amqp.Table); ok {
			if r, ok := last["reason"].(string); ok {
				return r
			}
		}
	}
	if r, ok := h["x-last-death-reason"].(string); ok {
		return r
	}
	r, _ := h["x-first-death-reason"].(string)
	return r
}

// originOf says where a dead-lettered or parked message came from: the
// headers parking added, or else the latest x-death entry of a hook queue
// of namespace (its queue, exchange and first routing key).
func originOf(namespace string, h amqp.Table) (origin, bool) {
	if group, ok := h[parkedGroupHeader].(string); ok {
		id, _ := h[parkedHookHeader].(string)
		exchange, _ := h[parkedExchangeHeader].(string)
		key, _ := h[parkedRoutingKeyHeader].(string)
		return origin{hookRef{group, id}, exchange, key}, id != ""
	}
	deaths, _ := h["x-death"].([]any)
	for _, e := range deaths {
		death, _ := e.(amqp.Table)
		q, _ := death["queue"].(string)
		hook, ok := hookOfQueue(namespace, q)
		if !ok {
			continue
		}
		exchange, _ := death["exchange"].(string)
		var key string
		if keys, _ := death["routing-keys"].([]any); len(keys) > 0 {
			key, _ = keys[0].(string)
		}
		return origin{hook, exchange, key}, true
	}
	return origin{}, false
}
