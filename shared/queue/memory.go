package queue

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// MemoryOptions configure a Memory queue; zero fields take defaults.
type MemoryOptions struct {
	// VisibilityTimeout is how long a received message stays hidden
	// before it is received again, unless deleted; 0 means 30 s.
	VisibilityTimeout time.Duration
	// MaxMessageBytes is the largest message, and the largest batch; 0
	// means MaxBatchBytes.
	MaxMessageBytes int
}

// Memory is an in-process queue with SQS's semantics: a received message
// is hidden for the visibility timeout and comes back unless deleted with
// its receipt; Receive long-polls. Messages are received oldest first. It
// is safe for concurrent use. Its contents are lost with the process.
type Memory struct {
	visibility time.Duration
	maxBytes   int
	now        func() time.Time

	mu      sync.Mutex
	seq     int64
	msgs    []*memMessage // in send order; deleted ones are removed
	arrived chan struct{} // closed and replaced when a message is sent
}

type memMessage struct {
	id        string
	body      []byte
	receipt   string
	visibleAt time.Time
	received  int
}

// NewMemory returns an empty queue.
func NewMemory(opts *MemoryOptions) *Memory {
	q := &Memory{visibility: 30 * time.Second, maxBytes: MaxBatchBytes, now: time.Now, arrived: make(chan struct{})}
	if opts != nil {
		if opts.VisibilityTimeout > 0 {
			q.visibility = opts.VisibilityTimeout
		}
		if opts.MaxMessageBytes > 0 {
			q.maxBytes = opts.MaxMessageBytes
		}
	}
	return q
}

// Send adds one message.
func (q *Memory) Send(_ context.Context, body []byte) error {
	if len(body) > q.maxBytes {
		return fmt.Errorf("queue: message of %d bytes, at most %d", len(body), q.maxBytes)
	}
	q.mu.Lock()
	q.add(body)
	q.wake()
	q.mu.Unlock()
	return nil
}

// SendBatch adds up to MaxBatchEntries messages, all or (for a batch SQS
// would refuse as a whole) none.
func (q *Memory) SendBatch(_ context.Context, entries []Entry) ([]EntryError, error) {
	if err := checkBatch(entries, q.maxBytes); err != nil {
		return nil, err
	}
	q.mu.Lock()
	for _, e := range entries {
		q.add(e.Body)
	}
	q.wake()
	q.mu.Unlock()
	return nil, nil
}

// add appends a message; q.mu is held.
func (q *Memory) add(body []byte) string {
	q.seq++
	id := "m-" + strconv.FormatInt(q.seq, 10)
	q.msgs = append(q.msgs, &memMessage{id: id, body: append([]byte(nil), body...)})
	return id
}

// wake tells waiting receivers that messages arrived; q.mu is held.
func (q *Memory) wake() {
	close(q.arrived)
	q.arrived = make(chan struct{})
}

// Receive returns up to n visible messages (at most 10), waiting up to wait
// for the first one; none after wait is not an error.
func (q *Memory) Receive(ctx context.Context, n int, wait time.Duration) ([]Message, error) {
	return q.ReceiveHidden(ctx, n, wait, -1)
}

// ReceiveHidden is Receive with the time received messages stay hidden
// (SQS's per-request VisibilityTimeout); a negative hide means the queue's.
func (q *Memory) ReceiveHidden(ctx context.Context, n int, wait, hide time.Duration) ([]Message, error) {
	n = min(max(n, 1), 10)
	if hide < 0 {
		hide = q.visibility
	}
	deadline := q.now().Add(wait)
	for {
		q.mu.Lock()
		now := q.now()
		var out []Message
		next := time.Time{}
		for _, m := range q.msgs {
			if m.visibleAt.After(now) {
				if next.IsZero() || m.visibleAt.Before(next) {
					next = m.visibleAt
				}
				continue
			}
			if len(out) == n {
				break
			}
			q.seq++
			m.received++
			m.receipt = m.id + "/" + strconv.FormatInt(q.seq, 10)
			m.visibleAt = now.Add(hide)
			out = append(out, Message{ID: m.id, Receipt: m.receipt, Body: append([]byte(nil), m.body...), ReceiveCount: m.received})
		}
		arrived := q.arrived
		q.mu.Unlock()
		if len(out) > 0 {
			return out, nil
		}
		remaining := deadline.Sub(now)
		if remaining <= 0 {
			return nil, ctx.Err()
		}
		if !next.IsZero() && next.Sub(now) < remaining {
			remaining = next.Sub(now)
		}
		timer := time.NewTimer(remaining)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, ctx.Err()
		case <-arrived:
		case <-timer.C:
		}
		timer.Stop()
	}
}

// Delete removes the message received with receipt. A receipt that is no
// longer current (the message was received again, or deleted) changes
// nothing, and is not an error.
func (q *Memory) Delete(_ context.Context, receipt string) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, m := range q.msgs {
		if m.receipt == receipt {
			q.msgs = append(q.msgs[:i], q.msgs[i+1:]...)
			return nil
		}
	}
	return nil
}

// ChangeVisibility hides the message received with receipt for d from now
// (0 makes it visible at once). It reports false when the receipt is not
// current.
func (q *Memory) ChangeVisibility(receipt string, d time.Duration) bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	for _, m := range q.msgs {
		if m.receipt == receipt {
			m.visibleAt = q.now().Add(d)
			if d == 0 {
				q.wake()
			}
			return true
		}
	}
	return false
}

// Len is how many messages the queue holds, visible or not.
func (q *Memory) Len() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.msgs)
}

// Bodies returns the bodies of every message held, in send order.
func (q *Memory) Bodies() [][]byte {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([][]byte, len(q.msgs))
	for i, m := range q.msgs {
		out[i] = append([]byte(nil), m.body...)
	}
	return out
}
