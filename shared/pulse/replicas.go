package pulse

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"

	"github.com/hookline/hookline/shared/hooks"
)

// Replicas.
//
// Several bridges may run on one namespace, for availability. They compete
// for each hook queue's messages (each delivery goes to one of them) and
// for the changes queue's messages (each change is handled, reconciled and
// published by one of them). So that the others learn of a change at once
// rather than at their next periodic reconciliation, every bridge listens
// to the hook-created, -updated and -deleted exchanges of its namespace on
// a private queue (exclusive, gone with its connection) and reconciles the
// hook each one names. Reconciliations are safe to run side by side: see
// reconciler.reconcile.

// listenChanges declares this connection's private queue of hook changes,
// binds it to the three exchanges and asks for a reconciliation of the
// hook named by each message.
func (s *session) listenChanges(ctx context.Context) error {
	var rnd [8]byte
	rand.Read(rnd[:])
	name := changesQueuePrefix(s.b.namespace) + hex.EncodeToString(rnd[:])
	ch, err := s.conn.Channel()
	if err != nil {
		return fmt.Errorf("open channel: %w", err)
	}
	fail := func(err error) error {
		ch.Close()
		return err
	}
	if _, err := ch.QueueDeclare(name, false, true, true, false, nil); err != nil {
		return fail(fmt.Errorf("declare %s: %w", name, err))
	}
	for _, kind := range []hooks.ChangeKind{hooks.HookCreated, hooks.HookUpdated, hooks.HookDeleted} {
		if err := ch.QueueBind(name, "#", ExchangeName(s.b.namespace, kind), false, nil); err != nil {
			return fail(fmt.Errorf("bind %s to %s: %w", name, ExchangeName(s.b.namespace, kind), err))
		}
	}
	deliveries, err := ch.Consume(name, "hookline-bridge-changes", true, true, false, false, nil)
	if err != nil {
		return fail(fmt.Errorf("consume %s: %w", name, err))
	}
	s.listenerUp = true
	s.aux.Go(func() {
		for d := range deliveries {
			var c struct {
				HookGroupID string `json:"hookGroupId"`
				HookID      string `json:"hookId"`
			}
			if err := json.Unmarshal(d.Body, &c); err != nil || c.HookGroupID == "" || c.HookID == "" {
				s.log.WarnContext(ctx, "malformed hook change message ignored", "exchange", d.Exchange, "body", string(d.Body))
				continue
			}
			s.b.checkQueue(QueueName(s.b.namespace, c.HookGroupID, c.HookID))
		}
		ch.Close()
		s.auxMu.Lock()
		s.listenerUp = false
		s.auxMu.Unlock()
		s.b.requestReconcile()
	})
	return nil
}
