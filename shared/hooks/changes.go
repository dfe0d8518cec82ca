package hooks

import (
	"context"
	"encoding/json"
	"fmt"
)

// ChangeKind says what happened to a hook.
type ChangeKind string

// The kinds of hook change, named like the Pulse exchanges they become.
const (
	HookCreated ChangeKind = "hook-created"
	HookUpdated ChangeKind = "hook-updated"
	HookDeleted ChangeKind = "hook-deleted"
)

// Change is one hook change, sent to the ChangeNotifier after it is stored.
type Change struct {
	Kind        ChangeKind `json:"kind"`
	HookGroupID string     `json:"hookGroupId"`
	HookID      string     `json:"hookId"`
}

// MessageSender sends one message to a queue (queue.SQS, queue.Memory).
type MessageSender interface {
	Send(ctx context.Context, body []byte) error
}

// NewChangeNotifier returns a ChangeNotifier that sends each change, as
// Change JSON ({kind, hookGroupId, hookId}), to q: the changes queue the
// Pulse bridge consumes to rebind queues and publish hook events.
func NewChangeNotifier(q MessageSender) ChangeNotifier { return queueNotifier{q} }

type queueNotifier struct{ q MessageSender }

func (n queueNotifier) HookChanged(ctx context.Context, c Change) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := n.q.Send(ctx, body); err != nil {
		return fmt.Errorf("hooks: announce hook change: %w", err)
	}
	return nil
}
