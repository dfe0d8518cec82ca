package pulse

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// metrics are the bridge's Prometheus metrics, on a registry of its own.
type metrics struct {
	received  prometheus.Counter
	forwarded prometheus.Counter
	failed    *prometheus.CounterVec
	requeued  prometheus.Counter
	dropped   prometheus.Counter
	parked    prometheus.Counter
	latency   prometheus.Histogram
	waiting   prometheus.Gauge

	connected     prometheus.Gauge
	reconnects    prometheus.Counter
	reconciles    *prometheus.CounterVec
	lastReconcile prometheus.Gauge
	queues        prometheus.Gauge
	bindings      prometheus.Gauge
	skipped       prometheus.Gauge
	published     *prometheus.CounterVec
	publishFailed prometheus.Counter
	taskEvents    *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	f := func(c prometheus.Collector) { reg.MustRegister(c) }
	m := &metrics{
		received: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_bridge_messages_received_total", Help: "Pulse messages received from hook queues.",
		}),
		forwarded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_bridge_messages_forwarded_total", Help: "Pulse messages the trigger queue took, then acknowledged.",
		}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_bridge_messages_failed_total",
			Help: "Pulse messages not forwarded, by reason: send_error and entry_error (counted per attempt) are held and retried; not_json, too_large and refused are recorded as failed fires.",
		}, []string{"reason"}),
		requeued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_bridge_messages_requeued_total", Help: "Deliveries given back to their queue: held when the bridge stopped, or unforwardable and their failure could not be recorded.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_bridge_messages_dropped_total", Help: "Messages a full hook queue dropped from its head (x-max-length) or that expired, counted from the dead-letter queue.",
		}),
		parked: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_bridge_messages_parked_total", Help: "Messages the broker gave up delivering (a quorum queue's delivery limit), moved to the parked queue to be forwarded when the trigger queue takes them.",
		}),
		latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "hookline_bridge_forward_seconds", Help: "Time from receiving a delivery to acknowledging it after the trigger queue took it.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16),
		}),
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hookline_bridge_queue_lag_messages", Help: "Messages waiting in the hook queues at the last reconciliation (not yet delivered to the bridge).",
		}),
		connected: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hookline_bridge_connected", Help: "1 while connected to the Pulse broker.",
		}),
		reconnects: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_bridge_connection_losses_total", Help: "Pulse connections lost or refused.",
		}),
		reconciles: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_bridge_reconciles_total", Help: "Reconciliations of queues and bindings with the store, by result.",
		}, []string{"result"}),
		lastReconcile: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hookline_bridge_last_reconcile_success_timestamp_seconds", Help: "When the last successful reconciliation ended.",
		}),
		queues: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hookline_bridge_hook_queues", Help: "Hook queues consumed.",
		}),
		bindings: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hookline_bridge_bindings", Help: "Bindings in place.",
		}),
		skipped: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "hookline_bridge_bindings_refused", Help: "Bindings the broker refused (404 no such exchange, 403) at the last reconciliation.",
		}),
		published: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_bridge_events_published_total", Help: "Hook change events published and confirmed, by exchange.",
		}, []string{"kind"}),
		publishFailed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "hookline_bridge_event_publish_failures_total", Help: "Hook change events not published (retried from the changes queue).",
		}),
		taskEvents: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hookline_bridge_task_events_total",
			Help: "The queue's task events read, by result: matched (a hook's task, forwarded), matched-late (matched once the index learned of its fire), foreign (another task), unreadable.",
		}, []string{"result"}),
	}
	for _, c := range []prometheus.Collector{
		m.received, m.forwarded, m.failed, m.requeued, m.dropped, m.parked, m.latency, m.waiting,
		m.connected, m.reconnects, m.reconciles, m.lastReconcile, m.queues, m.bindings, m.skipped,
		m.published, m.publishFailed, m.taskEvents,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	} {
		f(c)
	}
	return m
}
