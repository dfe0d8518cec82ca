package pulse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/hooks"
)

// session is everything tied to one AMQP connection: the channels, the
// consumers of the hook queues, the publisher and the forwarder. It
// implements topology for the reconciler.
type session struct {
	b    *Bridge
	conn *amqp.Connection
	log  *slog.Logger
	fwd  *forwarder

	topoMu sync.Mutex
	topo   *amqp.Channel // declares, passive declares, deletes

	pubMu sync.Mutex
	pub   *amqp.Channel // confirm mode

	mu        sync.Mutex
	consumers map[string]*consumer
	stopping  bool
	seq       int
	pumps     sync.WaitGroup

	warnedArgs sync.Map // queue -> true: warned about its arguments once

	// The sorter of dead letters and the listener to hook changes: each
	// runs until its channel closes (see ensureAux).
	auxMu                sync.Mutex
	sorterUp, listenerUp bool
	// taskEventsUp: the task-events queue is consumed (taskevents.go).
	taskEventsUp bool
	aux          sync.WaitGroup
}

type consumer struct {
	ch      *amqp.Channel
	tag     string
	stopped atomic.Bool // we cancelled it
}

var _ topology = (*session)(nil)

// queueArgs are the arguments of a hook queue: a quorum queue (replicated,
// the only replicated type in RabbitMQ 4, and what upstream declares),
// bounded, dropping its oldest message when full so publishers are never
// refused, and dead-lettering what it drops so the bridge can count it.
func (b *Bridge) queueArgs() amqp.Table {
	return amqp.Table{
		"x-queue-type":           "quorum",
		"x-max-length":           int64(b.maxLength),
		"x-overflow":             "drop-head",
		"x-dead-letter-exchange": DroppedExchange(b.namespace),
	}
}

// withTopo runs fn on the topology channel, opening one if needed. A
// channel error closes the channel on the broker's side, so the next call
// opens a new one.
func (s *session) withTopo(fn func(ch *amqp.Channel) error) error {
	s.topoMu.Lock()
	defer s.topoMu.Unlock()
	if s.topo == nil || s.topo.IsClosed() {
		ch, err := s.conn.Channel()
		if err != nil {
			return fmt.Errorf("open channel: %w", err)
		}
		s.topo = ch
	}
	err := fn(s.topo)
	if err != nil && s.topo.IsClosed() {
		s.topo = nil
	}
	return err
}

func isCode(err error, code int) bool {
	var ae *amqp.Error
	return errors.As(err, &ae) && ae.Code == code
}

func (s *session) declareQueue(ctx context.Context, q string) error {
	err := s.withTopo(func(ch *amqp.Channel) error {
		_, err := ch.QueueDeclare(q, true, false, false, false, s.b.queueArgs())
		return err
	})
	if !isCode(err, amqp.PreconditionFailed) {
		return err
	}
	// The queue exists with other arguments (another max length, or
	// declared by upstream's service): use it as it is rather than lose
	// its messages. Deleting it applies the new arguments.
	if _, _, perr := s.queueInfo(ctx, q); perr != nil {
		return errors.Join(err, perr)
	}
	if _, warned := s.warnedArgs.LoadOrStore(q, true); !warned {
		s.log.WarnContext(ctx, "hook queue exists with other arguments; using it as it is (delete it to apply x-max-length and x-overflow)", "queue", q, "err", err)
	}
	return nil
}

func (s *session) queueInfo(_ context.Context, q string) (messages, consumers int, err error) {
	err = s.withTopo(func(ch *amqp.Channel) error {
		info, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
		messages, consumers = info.Messages, info.Consumers
		return err
	})
	if isCode(err, amqp.NotFound) {
		return 0, 0, fmt.Errorf("%w: %s", errNoQueue, q)
	}
	return messages, consumers, err
}

func (s *session) deleteQueue(_ context.Context, q string) error {
	if !ownQueue(s.b.namespace, q) {
		return fmt.Errorf("pulse: refusing to delete %q, not a hook queue of namespace %s", q, s.b.namespace)
	}
	err := s.withTopo(func(ch *amqp.Channel) error {
		_, err := ch.QueueDelete(q, false, false, false)
		return err
	})
	if isCode(err, amqp.NotFound) {
		return nil
	}
	return err
}

func (s *session) bind(_ context.Context, q string, b hooks.Binding) error {
	ch, err := s.conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	defer ch.Close()
	return ch.QueueBind(q, b.RoutingKeyPattern, b.Exchange, false, nil)
}

// unbind removes bindings on one channel. Unbinding from an exchange that
// no longer exists (404) is done already; it costs a new channel.
func (s *session) unbind(_ context.Context, q string, bs []hooks.Binding) error {
	var ch *amqp.Channel
	defer func() {
		if ch != nil {
			ch.Close()
		}
	}()
	for _, b := range bs {
		if ch == nil || ch.IsClosed() {
			var err error
			if ch, err = s.conn.Channel(); err != nil {
				return fmt.Errorf("open channel: %w", err)
			}
		}
		if err := ch.QueueUnbind(q, b.RoutingKeyPattern, b.Exchange, nil); err != nil && !isCode(err, amqp.NotFound) {
			return err
		}
	}
	return nil
}

func (s *session) consuming(q string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.consumers[q]
	return ok
}

// startConsumer consumes a hook's queue on a channel of its own, with the
// prefetch window as its QoS. One consumer per queue per bridge: two
// consumers of one queue in one process would each see only part of its
// messages. (Two replicas do compete for a queue's messages, which is
// what spreads the load.)
func (s *session) startConsumer(ctx context.Context, q string, h hookRef) error {
	return s.consume(ctx, q, func(d amqp.Delivery) (*item, error) {
		return &item{hook: h, exchange: d.Exchange, routingKey: d.RoutingKey, body: d.Body}, nil
	})
}

// consume consumes q on a channel of its own and hands the forwarder what
// toItem makes of each delivery. A delivery toItem refuses is logged and
// acknowledged: it cannot be forwarded and would come back forever.
func (s *session) consume(ctx context.Context, q string, toItem func(amqp.Delivery) (*item, error)) error {
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		return errors.New("pulse: connection is shutting down")
	}
	if _, ok := s.consumers[q]; ok {
		s.mu.Unlock()
		return nil
	}
	s.seq++
	tag := "hookline-bridge-" + strconv.Itoa(s.seq)
	s.mu.Unlock()

	ch, err := s.conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	if err := ch.Qos(s.b.prefetch, 0, false); err != nil {
		ch.Close()
		return fmt.Errorf("qos: %w", err)
	}
	deliveries, err := ch.Consume(q, tag, false, false, false, false, nil)
	if err != nil {
		ch.Close()
		return err
	}
	c := &consumer{ch: ch, tag: tag}
	s.mu.Lock()
	if s.stopping {
		s.mu.Unlock()
		ch.Close()
		return errors.New("pulse: connection is shutting down")
	}
	s.consumers[q] = c
	s.pumps.Add(1)
	s.mu.Unlock()
	go s.pump(ctx, q, c, toItem, deliveries)
	return nil
}

// pump hands a consumer's deliveries to the forwarder until the consumer
// ends: we cancelled it, the broker did (the queue was deleted), or the
// channel or connection closed.
func (s *session) pump(ctx context.Context, q string, c *consumer, toItem func(amqp.Delivery) (*item, error), deliveries <-chan amqp.Delivery) {
	defer s.pumps.Done()
	for d := range deliveries {
		it, err := toItem(d)
		if err != nil {
			s.log.ErrorContext(ctx, "delivery cannot be forwarded; dropped", "queue", q, "exchange", d.Exchange, "routingKey", d.RoutingKey, "err", err)
			d.Ack(false)
			continue
		}
		it.ack, it.gone, it.received = d, c.ch.IsClosed, time.Now()
		s.fwd.in <- it
	}
	s.mu.Lock()
	if s.consumers[q] == c {
		delete(s.consumers, q)
	}
	stopping := s.stopping
	s.mu.Unlock()
	if !c.stopped.Load() {
		// Closing a channel whose deliveries are not acked yet requeues
		// them; acks still in flight then fail, and the broker
		// redelivers.
		c.ch.Close()
	}
	if !stopping && !c.stopped.Load() {
		s.log.WarnContext(ctx, "consumer ended (queue deleted or channel closed); reconciling", "queue", q)
		s.b.requestReconcile()
	}
}

// stopConsumer stops consuming q at once: it closes the consumer's
// channel, which gives the deliveries it holds back to the queue (the
// forwarder lets go of them unsent). The reconciler stops a consumer only
// when the queue is about to be deleted or is gone already; and the broker
// counts a consumer as long as it holds deliveries, so a graceful cancel
// would make the queue look in use by another replica.
func (s *session) stopConsumer(q string) {
	s.mu.Lock()
	c, ok := s.consumers[q]
	delete(s.consumers, q)
	s.mu.Unlock()
	if !ok {
		return
	}
	c.stopped.Store(true)
	c.ch.Close()
}

// shutdown stops every consumer, lets the forwarder send and acknowledge
// what was received, and returns when it is done. With the connection
// gone, the consumers end by themselves and acks fail; the broker
// redelivers those messages.
func (s *session) shutdown() {
	s.mu.Lock()
	s.stopping = true
	cs := make([]*consumer, 0, len(s.consumers))
	for _, c := range s.consumers {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.stopped.Store(true)
		if err := c.ch.Cancel(c.tag, false); err != nil {
			c.ch.Close()
		}
	}
	s.pumps.Wait()
	close(s.fwd.in)
	s.fwd.wait()
	for _, c := range cs {
		c.ch.Close()
	}
}

// setup declares the exchanges the bridge publishes on and opens the
// publisher channel. A failure to declare is logged (the broker may let us
// use what exists, or not: publishing will tell); only a closed connection
// is an error. The dead-letter, parked and change queues are looked after
// by ensureAux.
func (s *session) setup(ctx context.Context) error {
	for _, kind := range []hooks.ChangeKind{hooks.HookCreated, hooks.HookUpdated, hooks.HookDeleted} {
		name := ExchangeName(s.b.namespace, kind)
		if err := s.withTopo(func(ch *amqp.Channel) error {
			return ch.ExchangeDeclare(name, amqp.ExchangeTopic, true, false, false, false, nil)
		}); err != nil {
			if s.conn.IsClosed() {
				return err
			}
			s.log.WarnContext(ctx, "declare hook change exchange", "exchange", name, "err", err)
		}
	}
	return s.openPublisher()
}

func (s *session) openPublisher() error {
	ch, err := s.conn.Channel()
	if err != nil {
		return fmt.Errorf("open publisher channel: %w", err)
	}
	if err := ch.Confirm(false); err != nil {
		ch.Close()
		return fmt.Errorf("publisher confirms: %w", err)
	}
	s.pub = ch
	return nil
}

// publish sends one hook change on its exchange as upstream does: routing
// key `_`, persistent, application/json, a body checked against the
// hook-changed message schema, and waits for the broker's confirm.
func (s *session) publish(ctx context.Context, reg *schemas.Registry, c hooks.Change) error {
	doc := map[string]any{"hookGroupId": c.HookGroupID, "hookId": c.HookID}
	if err := reg.Validate(schemas.HookChangedMessage, doc); err != nil {
		return fmt.Errorf("pulse: hook change message: %w", err)
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return err
	}
	s.pubMu.Lock()
	defer s.pubMu.Unlock()
	if s.pub == nil || s.pub.IsClosed() {
		// A refused publish (say, the exchange is missing) closed it.
		if err := s.openPublisher(); err != nil {
			return err
		}
	}
	exchange := ExchangeName(s.b.namespace, c.Kind)
	conf, err := s.pub.PublishWithDeferredConfirmWithContext(ctx, exchange, RoutingKey, false, false, amqp.Publishing{
		ContentType:  "application/json",
		DeliveryMode: amqp.Persistent,
		Timestamp:    time.Now(),
		Body:         body,
	})
	if err != nil {
		return fmt.Errorf("pulse: publish to %s: %w", exchange, err)
	}
	ok, err := conf.WaitContext(ctx)
	if err != nil {
		return fmt.Errorf("pulse: confirm from %s: %w", exchange, err)
	}
	if !ok {
		return fmt.Errorf("pulse: the broker did not confirm the message to %s", exchange)
	}
	return nil
}
