package pulse

import (
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Dead letters as RabbitMQ 3.10 delivers them (x-death read off the broker
// with a delivery limit of 2), and parked messages.
func TestDeadLetterOrigin(t *testing.T) {
	death := func(queue, reason, exchange string, keys ...any) amqp.Table {
		return amqp.Table{"count": int64(1), "queue": queue, "reason": reason, "exchange": exchange, "routing-keys": keys}
	}
	for _, tt := range []struct {
		name       string
		headers    amqp.Table
		wantReason string
		want       origin
		wantOK     bool
	}{
		{
			name: "given up by a hook queue",
			headers: amqp.Table{
				"x-death":                []any{death("queue/ns/g/h/i", "delivery_limit", "exchange/src", "a.b", "cc")},
				"x-first-death-queue":    "queue/ns/g/h/i",
				"x-first-death-reason":   "delivery_limit",
				"x-first-death-exchange": "exchange/src",
			},
			wantReason: "delivery_limit",
			want:       origin{hookRef{"g", "h/i"}, "exchange/src", "a.b"},
			wantOK:     true,
		},
		{
			name:       "dropped by a full hook queue",
			headers:    amqp.Table{"x-death": []any{death("queue/ns/g/h", "maxlen", "exchange/src", "k")}},
			wantReason: "maxlen",
			want:       origin{hookRef{"g", "h"}, "exchange/src", "k"},
			wantOK:     true,
		},
		{
			name: "given up again by the parked queue: the parking headers win",
			headers: amqp.Table{
				parkedGroupHeader: "g", parkedHookHeader: "h", parkedExchangeHeader: "exchange/src", parkedRoutingKeyHeader: "k",
				"x-death": []any{death(ParkedQueue("ns"), "delivery_limit", ParkedExchange("ns")), death("queue/ns/g/h", "delivery_limit", "exchange/src", "k")},
			},
			wantReason: "delivery_limit",
			want:       origin{hookRef{"g", "h"}, "exchange/src", "k"},
			wantOK:     true,
		},
		{
			name:       "only the first-death headers",
			headers:    amqp.Table{"x-first-death-reason": "expired"},
			wantReason: "expired",
		},
		{
			name:       "from a queue of another namespace",
			headers:    amqp.Table{"x-death": []any{death("queue/other/g/h", "delivery_limit", "e", "k")}},
			wantReason: "delivery_limit",
		},
		{
			name: "no headers",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := deathReason(tt.headers); got != tt.wantReason {
				t.Errorf("reason %q, want %q", got, tt.wantReason)
			}
			got, ok := originOf("ns", tt.headers)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("origin %+v %v, want %+v %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}
