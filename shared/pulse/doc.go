// Package pulse is the Pulse bridge: it keeps one queue per hook with
// bindings on the Pulse broker (RabbitMQ), forwards the messages arriving on
// them to the trigger queue, and publishes hook-created, hook-updated and
// hook-deleted as upstream's hooks service does.
//
// # Queues
//
// A hook's queue is queue/<namespace>/<hookGroupId>/<hookId>, bound to each
// of the hook's {exchange, routingKeyPattern} as given. It is durable and of
// the quorum type, as upstream declares it: quorum queues are replicated,
// and the only replicated type RabbitMQ 4 has. It is bounded by
// x-max-length (default 10000, against upstream's 50) with x-overflow
// drop-head: when a hook falls that far behind, its oldest message is
// dropped. The alternative, reject-publish, refuses the new message
// instead, and a publisher using confirms (Taskcluster's services do) gets
// a nack for a message routed to many queues because one hook's queue is
// full: one stuck hook would make the queue service's publishes fail.
// Dropped messages are not silent: the queue dead-letters them to
// exchange/<namespace>/dropped, whose queue the bridge consumes, counts
// (hookline_bridge_messages_dropped_total) and logs. A queue that already
// exists with other arguments (a different length, or declared by
// upstream) is used as it is, with a warning.
//
// Only queues named queue/<namespace>/<group>/<id> are ever deleted. The
// bridge's other queues have one segment after the namespace: dropped,
// parked, and changes-<random> (see Replicas).
//
// # Reconciliation
//
// The store is the source of truth (HookSource). The bridge makes the
// broker match it at start-up and on every new connection, after every
// hook change, and every ReconcileInterval (default 5 minutes), so a queue
// deleted behind its back is re-created and re-bound (it also learns of a
// deleted queue at once: the broker cancels the queue's consumer). Each
// bind runs on its own channel, as upstream does, so that a refused bind
// (404 no such exchange, 403 access refused) closes only its channel; it is
// logged and tried again at the next reconciliation. The bindings known to
// be in place are kept in memory, not in a table as upstream does; so a
// binding removed from a hook while no bridge was running stays on its
// queue until the hook changes again or is deleted.
//
// The queues of deleted hooks, and of hooks whose bindings became empty,
// are deleted: those the process has seen, and those a hook change names
// (so a deletion that happened while the bridge was down is applied when
// its event arrives). A queue is deleted only if its hook is still gone on
// a second look at the store, and only if no other consumer has it (the
// queue's consumer count, read with a passive declare just before the
// delete; quorum queues do not implement delete if-unused). A queue left
// for another consumer is looked at again after a few seconds.
//
// # Forwarding
//
// Each hook queue is consumed on its own channel with a prefetch window.
// Deliveries are wrapped as hooks.PulseMessage JSON ({hookGroupId, hookId,
// exchange, routingKey, payload}) and sent in batches of up to 10 messages
// and 256 KiB (SQS SendMessageBatch), several batches at once; a delivery
// is acknowledged only after the sink took it. A message that cannot be
// forwarded (not JSON, too large for SQS, or refused by SQS as the
// sender's fault) is recorded as a failed fire of its hook
// (FailureRecorder) and acknowledged: visible in listLastFires, not lost in
// silence.
//
// Delivery is at least once from the broker to the trigger function: a
// message sent but not yet acknowledged when a connection drops is sent
// again. The trigger side derives the taskId from the hook, the exchange,
// the routing key and a digest of the payload
// (hooks.PulseMessage.TaskID), and the fire protocol turns a repeated fire
// into the same task.
//
// # Trigger-queue outages
//
// While the trigger queue refuses messages, the bridge holds what it
// received and retries, with a backoff growing to 10 s, for as long as it
// takes; it never gives a delivery back because the sink is down. On
// quorum queues every return (a requeue, a closed channel) counts as a
// failed delivery, and past a delivery limit (RabbitMQ 4's default is 20;
// RabbitMQ 3 has none unless a policy sets one) the broker dead-letters
// the message. Holding is also the flow control: once a queue's prefetch
// window is held, the broker sends no more and the rest waits in the
// queue, bounded by x-max-length. A held delivery whose channel closes is
// let go unsent: the broker has it back.
//
// Returns the bridge does not choose still happen: connection losses,
// restarts, and the broker's consumer timeout (30 minutes by default)
// during a long outage. A message they push past the delivery limit is
// dead-lettered to the dropped queue with the reason delivery_limit; the
// bridge parks it rather than count it as dropped. It republishes it, with
// the hook, exchange and routing key it came from in headers, to
// exchange/<namespace>/parked, bound to queue/<namespace>/parked
// (publisher confirms, mandatory), and only then acknowledges the dead
// letter. The parked queue is consumed like a hook queue, so a parked
// message reaches the trigger queue once it takes messages again, wrapped
// as it would have been at first: the same taskId, one task, even if the
// original was sent before its acknowledgement was lost. The parked queue
// is a quorum queue with x-overflow reject-publish and
// dead-letter-strategy at-least-once back to the dropped exchange, so a
// parked message the broker gives up on is parked again, never dropped.
// Hook queues cannot dead-letter at least once (RabbitMQ requires
// reject-publish for it, see Queues); their dead-lettering is at most
// once, which loses a message only if the dropped queue is unavailable at
// that instant (its node down). So an outage of any length loses nothing
// below x-max-length per hook; hookline_bridge_messages_parked_total counts
// the parked messages.
//
// # Replicas
//
// Several bridges may run on one namespace, for availability: they compete
// for each hook queue's messages and for the changes queue's, and each
// hook change is handled, reconciled and published on Pulse by one of them.
// So that the others reconcile a change at once rather than at their next
// periodic reconciliation, every bridge also listens to its namespace's
// hook-created, -updated and -deleted exchanges on a private queue
// (queue/<namespace>/changes-<random>, exclusive, gone with its
// connection). Their reconciliations do not fight: declaring and binding
// are idempotent, and a queue is deleted only as Reconciliation says. A
// replica that dies leaves its unacknowledged deliveries to the others
// (sent again, the same taskIds). A change it received but had not yet
// published comes back from the changes queue after its visibility timeout
// and is published by another; one it published but had not yet deleted
// from the changes queue is published twice.
//
// # Task events
//
// With Options.TaskEvents, the bridge also reads the queue's
// task-completed, task-failed and task-exception messages on
// queue/<namespace>/task-events, matches each against an in-memory index
// of the fires awaiting their task's outcome, and forwards hooks' outcomes
// to the trigger queue (taskevents.go).
//
// # Resilience
//
// Run is an explicit connection loop (no library recovery): connect,
// declare, reconcile, consume; when the connection closes (a broker
// restart, a forced close), reconnect with backoff and do it all again. On
// shutdown the bridge cancels its consumers, sends and acknowledges what it
// already received, then closes (Options.DrainTimeout).
//
// Handler serves /healthz (200 only while connected and after a recent
// successful reconciliation) and /metrics, from a registry of the bridge's
// own.
package pulse
