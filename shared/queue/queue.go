package queue

import (
	"errors"
	"fmt"
)

// SQS limits, which every adapter applies so code tested against one
// behaves the same against another.
const (
	// MaxBatchEntries is the most messages one SendMessageBatch takes.
	MaxBatchEntries = 10
	// MaxBatchBytes is the most bytes of message bodies one
	// SendMessageBatch takes, and the default largest message (a queue's
	// MaximumMessageSize can be lower; SQS now allows up to 1 MiB, but
	// 256 KiB is what every queue and Lambda event source accepts).
	MaxBatchBytes = 256 << 10
)

// Entry is one message of a batch. ID must be unique within the batch
// (SQS: up to 80 characters of [A-Za-z0-9_-]).
type Entry struct {
	ID   string
	Body []byte
}

// EntryError is one entry of a batch that the queue did not take.
// SenderFault means the entry itself is at fault (too large, invalid
// characters) and sending it again will fail again; otherwise a retry may
// succeed (throttling, an internal error).
type EntryError struct {
	ID          string
	Code        string
	Message     string
	SenderFault bool
}

func (e *EntryError) Error() string {
	return fmt.Sprintf("queue: entry %s: %s: %s", e.ID, e.Code, e.Message)
}

// Message is a message received from a queue. Receipt deletes it; until
// then it comes back after the visibility timeout.
type Message struct {
	ID      string
	Receipt string
	Body    []byte
	// ReceiveCount is how many times it has been received, this time
	// included.
	ReceiveCount int
}

// ErrPermanent marks a handler error (Local) that no retry can fix: the
// message is reported as a sender-fault entry error.
var ErrPermanent = errors.New("permanent failure")

// checkBatch applies SQS's batch rules and returns a request-level error
// for a batch SQS would refuse as a whole.
func checkBatch(entries []Entry, maxBytes int) error {
	if len(entries) == 0 {
		return errors.New("queue: empty batch")
	}
	if len(entries) > MaxBatchEntries {
		return fmt.Errorf("queue: batch of %d entries, at most %d", len(entries), MaxBatchEntries)
	}
	seen := make(map[string]bool, len(entries))
	total := 0
	for _, e := range entries {
		if seen[e.ID] {
			return fmt.Errorf("queue: batch entry id %q is not unique", e.ID)
		}
		seen[e.ID] = true
		total += len(e.Body)
	}
	if total > maxBytes {
		return fmt.Errorf("queue: batch of %d bytes, at most %d", total, maxBytes)
	}
	return nil
}
