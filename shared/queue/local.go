package queue

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"time"
)

// Handler handles one message body. An error means the message was not
// handled; it is retried unless it wraps ErrPermanent.
type Handler func(ctx context.Context, body []byte) error

// LocalOptions configure a Local queue; zero fields take defaults.
type LocalOptions struct {
	// Concurrency bounds the handlers running at once, across all
	// sends; 0 means 32.
	Concurrency int
	// Attempts is how many times a message is handed to the handler
	// before the send reports it failed; 0 means 3.
	Attempts int
	// Backoff is the wait before the second attempt, doubled for each
	// later one; 0 means 100 ms.
	Backoff time.Duration
	// MaxMessageBytes is the largest message and batch; 0 means
	// MaxBatchBytes, as SQS.
	MaxMessageBytes int
}

// Local hands each message sent to it to a handler in this process. A send
// returns once every message of it was handled, retried on errors a few
// times with backoff: an entry is reported failed only when its handler
// still failed (SenderFault when the error wraps ErrPermanent). So a
// sender that acknowledges its source only after a successful send (the
// Pulse bridge) loses nothing, exactly as with SQS, and the message is
// handled with no queue in between. It is safe for concurrent use.
type Local struct {
	handle   Handler
	sem      chan struct{}
	attempts int
	backoff  time.Duration
	maxBytes int
}

// NewLocal returns a queue handing messages to h.
func NewLocal(h Handler, opts *LocalOptions) *Local {
	o := LocalOptions{}
	if opts != nil {
		o = *opts
	}
	if o.Concurrency <= 0 {
		o.Concurrency = 32
	}
	if o.Attempts <= 0 {
		o.Attempts = 3
	}
	if o.Backoff <= 0 {
		o.Backoff = 100 * time.Millisecond
	}
	if o.MaxMessageBytes <= 0 {
		o.MaxMessageBytes = MaxBatchBytes
	}
	return &Local{handle: h, sem: make(chan struct{}, o.Concurrency), attempts: o.Attempts, backoff: o.Backoff, maxBytes: o.MaxMessageBytes}
}

// Send handles one message; the error is the handler's last one.
func (q *Local) Send(ctx context.Context, body []byte) error {
	if err := checkBatch([]Entry{{ID: "0", Body: body}}, q.maxBytes); err != nil {
		return err
	}
	return q.deliver(ctx, body)
}

// SendBatch handles up to MaxBatchEntries messages concurrently and reports
// those whose handler still failed after the retries.
func (q *Local) SendBatch(ctx context.Context, entries []Entry) ([]EntryError, error) {
	if err := checkBatch(entries, q.maxBytes); err != nil {
		return nil, err
	}
	var (
		mu     sync.Mutex
		failed []EntryError
		wg     sync.WaitGroup
	)
	for _, e := range entries {
		wg.Go(func() {
			err := q.deliver(ctx, e.Body)
			if err == nil {
				return
			}
			ee := EntryError{ID: e.ID, Code: "HandlerFailed", Message: err.Error(), SenderFault: errors.Is(err, ErrPermanent)}
			mu.Lock()
			failed = append(failed, ee)
			mu.Unlock()
		})
	}
	wg.Wait()
	return failed, nil
}

// deliver runs the handler with retries, holding a concurrency slot only
// while the handler runs.
func (q *Local) deliver(ctx context.Context, body []byte) error {
	wait := q.backoff
	var err error
	for attempt := 1; ; attempt++ {
		select {
		case q.sem <- struct{}{}:
		case <-ctx.Done():
			return ctx.Err()
		}
		err = q.handle(ctx, body)
		<-q.sem
		if err == nil || errors.Is(err, ErrPermanent) || attempt >= q.attempts {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return errors.Join(err, ctx.Err())
		case <-t.C:
		}
		wait *= 2
	}
}

// String describes the queue for logs.
func (q *Local) String() string { return "in-process (concurrency " + strconv.Itoa(cap(q.sem)) + ")" }
