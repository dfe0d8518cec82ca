package pulse

import (
	"strings"

	"github.com/hookline/hookline/shared/hooks"
)

// QueueName is the AMQP queue of a hook: queue/<namespace>/<hookGroupId>/<hookId>,
// as upstream names it.
func QueueName(namespace, hookGroupID, hookID string) string {
	return queuePrefix(namespace) + hookGroupID + "/" + hookID
}

// ExchangeName is the exchange a kind of hook change is published on:
// exchange/<namespace>/v1/hook-created, -updated or -deleted.
func ExchangeName(namespace string, kind hooks.ChangeKind) string {
	return "exchange/" + namespace + "/v1/" + string(kind)
}

// RoutingKey is the routing key of published hook changes: upstream's one
// routing-key entry, `reserved`, is never given a value, which Pulse
// spells `_`. Subscribers bind with `#`.
const RoutingKey = "_"

// DroppedExchange receives, dead-lettered, the messages a full hook queue
// drops from its head, so the bridge can count them.
func DroppedExchange(namespace string) string { return "exchange/" + namespace + "/dropped" }

// DroppedQueue is bound to DroppedExchange; the bridge consumes and counts
// it. It has no hook's name: hook queues have two more path segments.
func DroppedQueue(namespace string) string { return "queue/" + namespace + "/dropped" }

// ParkedExchange and ParkedQueue hold the messages the broker gave up
// delivering (a quorum queue's delivery limit): the bridge moves them here
// from DroppedQueue and forwards them to the trigger queue once it takes
// messages again. Like DroppedQueue, ParkedQueue has no hook's name.
func ParkedExchange(namespace string) string { return "exchange/" + namespace + "/parked" }

// ParkedQueue: see ParkedExchange.
func ParkedQueue(namespace string) string { return "queue/" + namespace + "/parked" }

// changesQueuePrefix begins the name of each replica's private queue of
// hook changes (exclusive, deleted with its connection), under the
// namespace's queue/ prefix that Pulse lets the namespace's user declare.
func changesQueuePrefix(namespace string) string { return "queue/" + namespace + "/changes-" }

// hookOfQueue is the hook whose queue name is, if it is a hook queue of
// namespace. Hook group ids have no "/"; hook ids may.
func hookOfQueue(namespace, name string) (hookRef, bool) {
	if !ownQueue(namespace, name) {
		return hookRef{}, false
	}
	group, id, _ := strings.Cut(strings.TrimPrefix(name, queuePrefix(namespace)), "/")
	return hookRef{group, id}, id != ""
}

func queuePrefix(namespace string) string { return "queue/" + namespace + "/" }

// ownQueue reports whether name is a hook queue in namespace: the only
// queues the bridge ever deletes.
func ownQueue(namespace, name string) bool {
	rest, ok := strings.CutPrefix(name, queuePrefix(namespace))
	return ok && strings.Contains(rest, "/") && !strings.HasPrefix(rest, "/")
}
