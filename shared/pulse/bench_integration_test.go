//go:build integration

package pulse

import (
	"context"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/queue"
	"github.com/hookline/hookline/shared/queue/sqstest"
)

// BenchmarkBridgeForward measures forwarding throughput with the real
// broker: each round fills a hook queue with 20,000 messages, then times a
// bridge from start (connect, reconcile) until the sink took and the bridge
// acknowledged all of them. Sinks: the SQS adapter over the sqstest HTTP
// server (SDK, signing, JSON protocol, MD5 checks) and an in-memory queue
// (the bridge alone). Reports messages per second.
func BenchmarkBridgeForward(b *testing.B) {
	const perRound = 20000
	for _, tt := range []struct {
		name string
		sink func(b *testing.B) (Sink, func() int)
	}{
		{"sqs", func(b *testing.B) (Sink, func() int) {
			srv := sqstest.New(b)
			url := srv.CreateQueue("trigger", 0)
			return queue.NewSQS(srv.Client(), url), func() int { return srv.Queue(url).Len() }
		}},
		{"memory", func(b *testing.B) (Sink, func() int) {
			q := queue.NewMemory(nil)
			return q, q.Len
		}},
	} {
		b.Run(tt.name, func(b *testing.B) {
			h := newHarness(b)
			ex := h.exchange("e")
			qname := h.hook("h", hooks.Binding{Exchange: ex, RoutingKeyPattern: "#"})
			opts := h.options(nil)
			opts.Changes = nil
			opts.QueueMaxLength = 5 * perRound
			opts.Logger = quiet()
			// Declare and bind the queue once.
			setup := opts
			setup.Sink = queue.NewMemory(nil)
			h.start(setup).stop(b)
			pub := h.publisher()
			bodies := make([][]byte, perRound)
			for i := range bodies {
				bodies[i] = body(i)
			}
			var total int
			var elapsed time.Duration
			for b.Loop() {
				b.StopTimer()
				sink, count := tt.sink(b)
				pub.publishMany(b, ex, "k", bodies)
				waitFor(b, 60*time.Second, "the messages to be queued", func() bool { n, _ := h.queueExists(qname); return n == perRound })
				run := opts
				run.Sink = sink
				br, err := NewBridge(run)
				if err != nil {
					b.Fatal(err)
				}
				ctx, cancel := context.WithCancel(context.Background())
				done := make(chan error, 1)
				b.StartTimer()
				start := time.Now()
				go func() { done <- br.Run(ctx) }()
				deadline := time.Now().Add(2 * time.Minute)
				for count() < perRound {
					if time.Now().After(deadline) {
						b.Fatalf("%d of %d messages forwarded in 2 minutes", count(), perRound)
					}
					time.Sleep(time.Millisecond)
				}
				// Acked too: the queue has nothing left, ready or not.
				for {
					n, _ := h.queueExists(qname)
					if n == 0 && metricValue(br, "hookline_bridge_messages_forwarded_total") >= perRound {
						break
					}
					if time.Now().After(deadline) {
						b.Fatalf("%d messages still in the queue after 2 minutes", n)
					}
					time.Sleep(time.Millisecond)
				}
				elapsed += time.Since(start)
				b.StopTimer()
				cancel()
				<-done
				total += perRound
				b.StartTimer() // b.Loop wants it running
			}
			b.ReportMetric(float64(total)/elapsed.Seconds(), "msgs/s")
		})
	}
}
