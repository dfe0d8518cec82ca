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
// Only queues named queue/<namespace>/<group>/<id> are ever deleted.
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
// its event arrives).
//
// # Forwarding
//
// Each hook queue is consumed on its own channel with a prefetch window.
// Deliveries are wrapped as hooks.PulseMessage JSON ({hookGroupId, hookId,
// exchange, routingKey, payload}) and sent in batches of up to 10 messages
// and 256 KiB (SQS SendMessageBatch), several batches at once; a delivery
// is acknowledged only after the sink took it. A failed batch, or the
// entries the sink did not take, are tried again with backoff a few times,
// then requeued (nack) while the sender keeps backing off. A message
// that cannot be forwarded (not JSON, too large for SQS, or refused by SQS
// as the sender's fault) is recorded as a failed fire of its hook
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
// On RabbitMQ 4, quorum queues have a default delivery limit of 20: a
// message requeued 20 times is then dropped. With five tries per requeue
// and a backoff growing to 10 s, that is a trigger queue outage of about a
// quarter of an hour; raise the limit with a policy on queue/<namespace>/.*
// (delivery-limit) where longer outages must be survived. RabbitMQ 3 has no
// default limit.
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
