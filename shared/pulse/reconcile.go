package pulse

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sort"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookline/hookline/shared/hooks"
)

// HookSource lists the hooks that listen to Pulse. It is the source of
// truth: the bridge makes the broker match it. hooks.Definitions implements it.
type HookSource interface {
	PulseBindings(ctx context.Context) ([]hooks.HookBindings, error)
}

// topology is what reconciliation does on the broker, for one connection.
// The AMQP implementation opens a channel for each bind (a refused bind
// closes its channel), one for a set of unbinds, and one per consumer;
// tests use a fake that records calls.
type topology interface {
	// declareQueue makes sure the hook queue exists (durable, bounded).
	declareQueue(ctx context.Context, queue string) error
	// queueInfo reports how many messages wait in a queue and how many
	// consumers it has; an error wrapping errNoQueue means it does not
	// exist.
	queueInfo(ctx context.Context, queue string) (messages, consumers int, err error)
	// deleteQueue deletes a queue, whether or not it exists.
	deleteQueue(ctx context.Context, queue string) error
	// bind binds one binding, on a channel of its own.
	bind(ctx context.Context, queue string, b hooks.Binding) error
	// unbind removes bindings, all on one channel.
	unbind(ctx context.Context, queue string, bs []hooks.Binding) error
	// consuming reports whether this connection consumes the queue.
	consuming(queue string) bool
	// startConsumer consumes the queue for the hook.
	startConsumer(ctx context.Context, queue string, hook hookRef) error
	// stopConsumer stops consuming the queue, if it does.
	stopConsumer(queue string)
}

// errNoQueue says a queue does not exist.
var errNoQueue = errors.New("pulse: no such queue")

// hookRef names a hook.
type hookRef struct{ group, id string }

// reconciler keeps the broker's queues, bindings and consumers in line with
// the hooks. It remembers, per queue, the bindings it knows to be in place;
// that memory outlives connections (bindings are durable) but not the
// process (see doc.go). Calls are serialized by the caller.
type reconciler struct {
	namespace string
	hooks     HookSource
	log       *slog.Logger

	mu    sync.Mutex // guards bound, for readers outside reconcile
	bound map[string][]hooks.Binding
}

func newReconciler(namespace string, src HookSource, log *slog.Logger) *reconciler {
	return &reconciler{namespace: namespace, hooks: src, log: log, bound: map[string][]hooks.Binding{}}
}

// reconcileReport says what one reconciliation found and did.
type reconcileReport struct {
	Hooks, Queues, Bindings     int // desired hooks; queues consumed; bindings in place
	Bound, Unbound, Deleted     int // changes made
	SkippedBindings, FailedHook int // bindings refused (404/403); hooks left unreconciled
	Waiting                     int // messages waiting in the hook queues
	InUse                       int // queues of removed hooks left because another consumer has them

	retry []string // queues to look at again soon (InUse)
}

// reconcile makes the broker match the hooks: for every hook with bindings,
// its queue exists, holds exactly its bindings (less those the broker
// refuses with 404 or 403, tried again next time) and is consumed; the
// queues of hooks that are gone or lost their bindings are deleted, as are
// the queues named in also (hooks a change event named, which this
// process may never have seen). Only queues of this namespace are touched.
//
// Several replicas may reconcile the same namespace at once without
// undoing each other's work: a queue is deleted only when the hook is
// still gone on a second look at the store and no other consumer (another
// replica) has the queue. Declaring and binding are idempotent.
//
// It fails as a whole, touching nothing, when the hooks cannot be listed.
// A failure on one hook is logged and counted, and the others go on.
func (r *reconciler) reconcile(ctx context.Context, t topology, also []string) (reconcileReport, error) {
	desired, err := r.hooks.PulseBindings(ctx)
	if err != nil {
		return reconcileReport{}, fmt.Errorf("pulse: list hooks to reconcile: %w", err)
	}
	var rep reconcileReport
	want := make(map[string]bool, len(desired))
	for _, h := range desired {
		q := QueueName(r.namespace, h.HookGroupID, h.HookID)
		want[q] = true
		rep.Hooks++
		if err := r.reconcileHook(ctx, t, q, h, &rep); err != nil {
			rep.FailedHook++
			r.log.ErrorContext(ctx, "reconcile hook queue", "hookGroupId", h.HookGroupID, "hookId", h.HookID, "queue", q, "err", err)
			continue
		}
		n, _, err := t.queueInfo(ctx, q)
		if errors.Is(err, errNoQueue) {
			// Deleted behind our back, before the broker's cancel
			// reached our consumer: start over for this hook.
			r.log.WarnContext(ctx, "hook queue vanished; re-creating it", "queue", q)
			t.stopConsumer(q)
			if err := r.reconcileHook(ctx, t, q, h, &rep); err != nil {
				rep.FailedHook++
				r.log.ErrorContext(ctx, "reconcile hook queue", "hookGroupId", h.HookGroupID, "hookId", h.HookID, "queue", q, "err", err)
				continue
			}
			n, _, err = t.queueInfo(ctx, q)
		}
		if err == nil {
			rep.Waiting += n
		}
	}

	r.mu.Lock()
	var stale []string
	for q := range r.bound {
		if !want[q] {
			stale = append(stale, q)
		}
	}
	r.mu.Unlock()
	for _, q := range also {
		if !want[q] && !slices.Contains(stale, q) {
			stale = append(stale, q)
		}
	}
	sort.Strings(stale)
	stale = r.stillGone(ctx, stale)
	for _, q := range stale {
		if !ownQueue(r.namespace, q) {
			continue
		}
		t.stopConsumer(q)
		_, consumers, err := t.queueInfo(ctx, q)
		switch {
		case errors.Is(err, errNoQueue):
			r.forget(q)
			continue
		case err != nil:
			r.log.ErrorContext(ctx, "inspect queue of a removed hook", "queue", q, "err", err)
			continue
		case consumers > 0:
			// Another bridge replica consumes it: it still wants the
			// hook (it saw it re-created after our look at the
			// store), or it has not heard of the deletion yet and
			// deletes the queue itself when it has. Either way the
			// queue is not ours to delete now; try again next time.
			rep.InUse++
			rep.retry = append(rep.retry, q)
			r.log.InfoContext(ctx, "queue of a removed hook has another consumer (another bridge replica?); left in place for now", "queue", q, "consumers", consumers)
			continue
		}
		if err := t.deleteQueue(ctx, q); err != nil {
			r.log.ErrorContext(ctx, "delete queue of a removed hook", "queue", q, "err", err)
			continue
		}
		rep.Deleted++
		r.forget(q)
		r.log.InfoContext(ctx, "deleted queue of a removed hook", "queue", q)
	}

	r.mu.Lock()
	for q, bs := range r.bound {
		if t.consuming(q) {
			rep.Queues++
		}
		rep.Bindings += len(bs)
	}
	r.mu.Unlock()
	return rep, nil
}

// reconcileHook brings one hook's queue, bindings and consumer in line.
func (r *reconciler) reconcileHook(ctx context.Context, t topology, q string, h hooks.HookBindings, rep *reconcileReport) error {
	r.mu.Lock()
	known, wasKnown := r.bound[q]
	r.mu.Unlock()
	desired := dedupe(h.Bindings)
	old := known
	if !t.consuming(q) {
		// Not consumed here: first sight in this process, a new
		// connection, or the queue was deleted behind our back (its
		// consumer was cancelled). Declaring it re-creates it if need
		// be, and a re-created queue has no bindings, so every desired
		// binding is bound again (binding what is bound is a no-op).
		// Upstream binds nothing when its table says all is bound.
		if err := t.declareQueue(ctx, q); err != nil {
			return err
		}
		old = nil
		if wasKnown {
			// Bindings we know of that are no longer wanted must
			// still go.
			if gone := minus(known, desired); len(gone) > 0 {
				if err := t.unbind(ctx, q, gone); err != nil {
					return fmt.Errorf("unbind %v: %w", gone, err)
				}
				rep.Unbound += len(gone)
			}
		}
	}
	bound, err := syncBindings(ctx, t, q, old, desired, r.log)
	r.mu.Lock()
	r.bound[q] = bound
	r.mu.Unlock()
	rep.Bound += len(minus(bound, old))
	rep.Unbound += len(minus(old, desired))
	rep.SkippedBindings += len(minus(desired, bound))
	if err != nil {
		return err
	}
	if !t.consuming(q) {
		if err := t.startConsumer(ctx, q, hookRef{h.HookGroupID, h.HookID}); err != nil {
			return fmt.Errorf("consume: %w", err)
		}
	}
	return nil
}

// stillGone returns the queues of stale whose hooks are still gone on a
// second look at the store: with several bridge replicas, one may have
// re-created a hook's queue (deleted and created again) since this
// reconciliation listed the hooks, and deleting it now would lose what it
// receives. When the store cannot be read, nothing is deleted this time.
func (r *reconciler) stillGone(ctx context.Context, stale []string) []string {
	if len(stale) == 0 {
		return nil
	}
	desired, err := r.hooks.PulseBindings(ctx)
	if err != nil {
		r.log.ErrorContext(ctx, "list hooks before deleting queues; deleting none this time", "queues", len(stale), "err", err)
		return nil
	}
	back := make(map[string]bool, len(desired))
	for _, h := range desired {
		back[QueueName(r.namespace, h.HookGroupID, h.HookID)] = true
	}
	return slices.DeleteFunc(stale, func(q string) bool { return back[q] })
}

func (r *reconciler) forget(q string) {
	r.mu.Lock()
	delete(r.bound, q)
	r.mu.Unlock()
}

// syncBindings changes a queue's bindings from old to desired: first the
// bindings that went away are unbound, all on one channel; then each new
// binding is bound on its own channel. A bind the broker refuses with 404
// (no such exchange) or 403 (access refused) is logged and left out of the
// result, to be tried again next time; any other error stops the sync. It
// returns the bindings now in place. When old equals desired it does
// nothing at all.
func syncBindings(ctx context.Context, t topology, queue string, old, desired []hooks.Binding, log *slog.Logger) ([]hooks.Binding, error) {
	bound := intersect(old, desired)
	if gone := minus(old, desired); len(gone) > 0 {
		if err := t.unbind(ctx, queue, gone); err != nil {
			// Unknown: keep claiming the old ones, so they are unbound
			// next time.
			return old, fmt.Errorf("unbind %v: %w", gone, err)
		}
	}
	for _, b := range minus(desired, old) {
		err := t.bind(ctx, queue, b)
		switch {
		case err == nil:
			bound = append(bound, b)
		case skippable(err):
			log.WarnContext(ctx, "binding refused by the broker; retried at the next reconciliation", "queue", queue, "exchange", b.Exchange, "routingKeyPattern", b.RoutingKeyPattern, "err", err)
		default:
			return bound, fmt.Errorf("bind %s %s: %w", b.Exchange, b.RoutingKeyPattern, err)
		}
	}
	return bound, nil
}

// skippable reports the bind errors upstream logs and skips: 404 (no such
// exchange) and 403 (access refused).
func skippable(err error) bool {
	var ae *amqp.Error
	return errors.As(err, &ae) && (ae.Code == amqp.NotFound || ae.Code == amqp.AccessRefused)
}

func dedupe(bs []hooks.Binding) []hooks.Binding {
	var out []hooks.Binding
	for _, b := range bs {
		if !slices.Contains(out, b) {
			out = append(out, b)
		}
	}
	return out
}

// minus is a - b, in a's order.
func minus(a, b []hooks.Binding) []hooks.Binding {
	var out []hooks.Binding
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// intersect is a ∩ b, in a's order.
func intersect(a, b []hooks.Binding) []hooks.Binding {
	out := []hooks.Binding{}
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// boundSnapshot returns the bindings known to be in place, by queue.
func (r *reconciler) boundSnapshot() map[string][]hooks.Binding {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string][]hooks.Binding, len(r.bound))
	for q, bs := range r.bound {
		out[q] = slices.Clone(bs)
	}
	return out
}
