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

func queuePrefix(namespace string) string { return "queue/" + namespace + "/" }

// ownQueue reports whether name is a hook queue in namespace: the only
// queues the bridge ever deletes.
func ownQueue(namespace, name string) bool {
	rest, ok := strings.CutPrefix(name, queuePrefix(namespace))
	return ok && strings.Contains(rest, "/") && !strings.HasPrefix(rest, "/")
}
