package pulse

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/queue"
)

// fakeAck records how a delivery was settled.
type fakeAck struct {
	mu    sync.Mutex
	state string // "", "ack", "nack"
	n     int
}

func (a *fakeAck) Ack(bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.state, a.n = "ack", a.n+1
	return nil
}

func (a *fakeAck) Nack(_, requeue bool) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !requeue {
		a.state = "dropped"
	} else {
		a.state = "nack"
	}
	a.n++
	return nil
}

func (a *fakeAck) get() (string, int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.state, a.n
}

// fakeSink records batches; fail decides per call.
type fakeSink struct {
	mu      sync.Mutex
	batches [][]queue.Entry
	fail    func(call int, entries []queue.Entry) ([]queue.EntryError, error)
}

func (s *fakeSink) SendBatch(_ context.Context, entries []queue.Entry) ([]queue.EntryError, error) {
	s.mu.Lock()
	call := len(s.batches)
	s.batches = append(s.batches, entries)
	fail := s.fail
	s.mu.Unlock()
	if fail != nil {
		return fail(call, entries)
	}
	return nil, nil
}

func (s *fakeSink) sent() [][]queue.Entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([][]queue.Entry(nil), s.batches...)
}

type fakeRecorder struct {
	mu      sync.Mutex
	records []string
	err     error
}

func (r *fakeRecorder) RecordPulseFailure(_ context.Context, msg hooks.PulseMessage, reason string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.err != nil {
		return r.err
	}
	r.records = append(r.records, msg.HookID+": "+reason)
	return nil
}

func newTestForwarder(sink Sink, rec FailureRecorder, maxBytes int) *forwarder {
	return newTestForwarderCtx(context.Background(), sink, rec, maxBytes)
}

func newTestForwarderCtx(ctx context.Context, sink Sink, rec FailureRecorder, maxBytes int) *forwarder {
	f := &forwarder{
		sink: sink, failures: rec, metrics: newMetrics(prometheus.NewRegistry()), log: quiet(),
		maxBytes: maxBytes, senders: 2,
		in: make(chan *item, 1000),
	}
	f.start(ctx)
	return f
}

func delivery(id string, body string) (*item, *fakeAck) {
	a := &fakeAck{}
	return &item{ack: a, hook: hookRef{"g", id}, exchange: "exchange/e", routingKey: "rk." + id, body: []byte(body), received: time.Now()}, a
}

func TestForwardAcksAfterSend(t *testing.T) {
	sink := &fakeSink{}
	f := newTestForwarder(sink, &fakeRecorder{}, queue.MaxBatchBytes)
	var acks []*fakeAck
	for i := range 25 {
		it, a := delivery(fmt.Sprint("h", i), fmt.Sprintf(`{"n":%d}`, i))
		acks = append(acks, a)
		f.in <- it
	}
	close(f.in)
	f.wait()
	total := 0
	for _, b := range sink.sent() {
		if len(b) > queue.MaxBatchEntries {
			t.Errorf("batch of %d", len(b))
		}
		total += len(b)
		for _, e := range b {
			var m hooks.PulseMessage
			if err := json.Unmarshal(e.Body, &m); err != nil || m.HookGroupID != "g" || m.Exchange != "exchange/e" || m.RoutingKey != "rk."+m.HookID {
				t.Errorf("entry %s: %v %+v", e.Body, err, m)
			}
		}
	}
	if total != 25 {
		t.Fatalf("%d sent, want 25", total)
	}
	for i, a := range acks {
		if s, n := a.get(); s != "ack" || n != 1 {
			t.Errorf("delivery %d: %s x%d", i, s, n)
		}
	}
}

func TestForwardBatchBytes(t *testing.T) {
	sink := &fakeSink{}
	f := newTestForwarder(sink, &fakeRecorder{}, queue.MaxBatchBytes)
	big := `{"x":"` + strings.Repeat("a", 100<<10) + `"}`
	for i := range 5 {
		it, _ := delivery(fmt.Sprint("h", i), big)
		f.in <- it
	}
	close(f.in)
	f.wait()
	total := 0
	for _, b := range sink.sent() {
		size := 0
		for _, e := range b {
			size += len(e.Body)
		}
		if size > queue.MaxBatchBytes {
			t.Errorf("batch of %d bytes", size)
		}
		total += len(b)
	}
	if total != 5 {
		t.Fatalf("%d sent", total)
	}
	if r, fw := counterValue(f.metrics.received), counterValue(f.metrics.forwarded); r != 5 || fw != 5 {
		t.Errorf("received %v, forwarded %v; want 5 each (a message held over to the next batch counts once)", r, fw)
	}
}

// A message too large for SQS, or not JSON, is recorded as a failed fire
// and acked, never sent; if the record cannot be written, it is requeued.
func TestForwardUnforwardable(t *testing.T) {
	sink := &fakeSink{}
	rec := &fakeRecorder{}
	f := newTestForwarder(sink, rec, 1024)
	tooBig, aBig := delivery("big", `{"x":"`+strings.Repeat("a", 2000)+`"}`)
	notJSON, aBad := delivery("bad", `<xml/>`)
	fine, aFine := delivery("ok", `{}`)
	f.in <- tooBig
	f.in <- notJSON
	f.in <- fine
	close(f.in)
	f.wait()
	if s, _ := aBig.get(); s != "ack" {
		t.Errorf("too big: %s", s)
	}
	if s, _ := aBad.get(); s != "ack" {
		t.Errorf("not JSON: %s", s)
	}
	if s, _ := aFine.get(); s != "ack" {
		t.Errorf("ok: %s", s)
	}
	if len(sink.sent()) != 1 || len(sink.sent()[0]) != 1 {
		t.Errorf("sent %v", sink.sent())
	}
	if len(rec.records) != 2 || !strings.Contains(rec.records[0], "big: the message is") || !strings.Contains(rec.records[1], "bad: the message body is not JSON") {
		t.Errorf("records %q", rec.records)
	}

	rec2 := &fakeRecorder{err: errors.New("store down")}
	f2 := newTestForwarder(&fakeSink{}, rec2, 1024)
	again, a := delivery("bad", `nope`)
	f2.in <- again
	close(f2.in)
	f2.wait()
	if s, _ := a.get(); s != "nack" {
		t.Errorf("unrecorded failure must be requeued, got %s", s)
	}
}

// A failed send is retried while the deliveries are held, for as long as
// it takes; per-entry failures are retried alone, and an entry the sink
// blames on itself is recorded and acked.
func TestForwardRetries(t *testing.T) {
	t.Run("a batch that fails twice is acked once it passes", func(t *testing.T) {
		sink := &fakeSink{fail: func(call int, _ []queue.Entry) ([]queue.EntryError, error) {
			if call < 2 {
				return nil, errors.New("503")
			}
			return nil, nil
		}}
		f := newTestForwarder(sink, &fakeRecorder{}, queue.MaxBatchBytes)
		it, a := delivery("h", `{}`)
		f.in <- it
		close(f.in)
		f.wait()
		if s, n := a.get(); s != "ack" || n != 1 || len(sink.sent()) != 3 {
			t.Errorf("%s x%d after %d sends", s, n, len(sink.sent()))
		}
	})
	t.Run("a batch is held, never requeued, however long the sink fails", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			// Twelve failures over a minute: past the point where a
			// requeueing bridge would have given the delivery back,
			// spending one of its delivery attempts each time.
			sink := &fakeSink{fail: func(call int, _ []queue.Entry) ([]queue.EntryError, error) {
				if call < 12 {
					return nil, errors.New("down")
				}
				return nil, nil
			}}
			f := newTestForwarder(sink, &fakeRecorder{}, queue.MaxBatchBytes)
			it, a := delivery("h", `{}`)
			f.in <- it
			close(f.in)
			f.wait()
			if s, n := a.get(); s != "ack" || n != 1 || len(sink.sent()) != 13 {
				t.Errorf("%s x%d after %d sends", s, n, len(sink.sent()))
			}
		})
	})
	t.Run("a held delivery whose channel closed is let go", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			var closed atomic.Bool
			sink := &fakeSink{fail: func(call int, _ []queue.Entry) ([]queue.EntryError, error) {
				if call == 2 {
					closed.Store(true) // the connection dropped meanwhile
				}
				return nil, errors.New("down")
			}}
			f := newTestForwarder(sink, &fakeRecorder{}, queue.MaxBatchBytes)
			it, a := delivery("h", `{}`)
			it.gone = closed.Load
			f.in <- it
			close(f.in)
			f.wait()
			if s, n := a.get(); s != "" || n != 0 || len(sink.sent()) != 3 {
				t.Errorf("settled %q x%d after %d sends; want unsettled (the broker has it back) after 3", s, n, len(sink.sent()))
			}
		})
	})
	t.Run("what is held when the context ends is given back", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			sink := &fakeSink{fail: func(call int, _ []queue.Entry) ([]queue.EntryError, error) {
				if call == 3 {
					cancel() // a drain out of time
				}
				return nil, errors.New("down")
			}}
			f := newTestForwarderCtx(ctx, sink, &fakeRecorder{}, queue.MaxBatchBytes)
			it, a := delivery("h", `{}`)
			f.in <- it
			close(f.in)
			f.wait()
			if s, n := a.get(); s != "nack" || n != 1 {
				t.Errorf("%s x%d", s, n)
			}
		})
	})
	t.Run("entry failures", func(t *testing.T) {
		sink := &fakeSink{fail: func(call int, entries []queue.Entry) ([]queue.EntryError, error) {
			var failed []queue.EntryError
			for _, e := range entries {
				var m hooks.PulseMessage
				json.Unmarshal(e.Body, &m)
				switch {
				case m.HookID == "flaky" && call == 0:
					failed = append(failed, queue.EntryError{ID: e.ID, Code: "InternalError"})
				case m.HookID == "refused":
					failed = append(failed, queue.EntryError{ID: e.ID, Code: "InvalidMessageContents", Message: "bad char", SenderFault: true})
				}
			}
			return failed, nil
		}}
		rec := &fakeRecorder{}
		f := newTestForwarder(sink, rec, queue.MaxBatchBytes)
		acks := map[string]*fakeAck{}
		var items []*item
		for _, id := range []string{"ok", "flaky", "refused"} {
			it, a := delivery(id, `{}`)
			acks[id] = a
			items = append(items, it)
		}
		for _, it := range items {
			f.in <- it
		}
		close(f.in)
		f.wait()
		for id, a := range acks {
			if s, n := a.get(); s != "ack" || n != 1 {
				t.Errorf("%s: %s x%d", id, s, n)
			}
		}
		if len(rec.records) != 1 || !strings.Contains(rec.records[0], "refused: the trigger queue refused the message: InvalidMessageContents") {
			t.Errorf("records %q", rec.records)
		}
	})
}

func TestEnvelope(t *testing.T) {
	h := hookRef{"g", "h/i"}
	msg, env, err := envelope(h, "exchange/x", "a.b", []byte(` {"a": [1, 2.50], "s": "<tag> & \u00e9"} `))
	if err != nil {
		t.Fatal(err)
	}
	var back hooks.PulseMessage
	if err := json.Unmarshal(env, &back); err != nil {
		t.Fatal(err)
	}
	if back.HookGroupID != "g" || back.HookID != "h/i" || back.Exchange != "exchange/x" || back.RoutingKey != "a.b" {
		t.Errorf("envelope %s", env)
	}
	var payload any
	json.Unmarshal(back.Payload, &payload)
	if diff := cmp.Diff(map[string]any{"a": []any{1.0, 2.5}, "s": "<tag> & é"}, payload); diff != "" {
		t.Errorf("payload (-want +got):\n%s", diff)
	}
	if msg.HookID != "h/i" {
		t.Errorf("msg %+v", msg)
	}
	// Deterministic: a redelivery wraps to the same bytes, so the trigger
	// derives the same taskId.
	_, env2, _ := envelope(h, "exchange/x", "a.b", []byte(` {"a": [1, 2.50], "s": "<tag> & \u00e9"} `))
	if string(env) != string(env2) {
		t.Errorf("not deterministic:\n%s\n%s", env, env2)
	}
	if _, _, err := envelope(h, "e", "k", []byte(`{"a":`)); !errors.Is(err, errNotJSON) {
		t.Errorf("truncated JSON: %v", err)
	}
}

func TestSQSSafe(t *testing.T) {
	for in, want := range map[string]string{
		`{"a":"plain"}`:                      `{"a":"plain"}`,
		"{\"a\":\"\u00e9\u4e2d\U0001F600\"}": "{\"a\":\"\u00e9\u4e2d\U0001F600\"}",
		"{\"a\":\"x\uffffy\ufffe\"}":         `{"a":"x\uffffy\ufffe"}`,
		"{\"a\":\"bad\xff\xfe byte\"}":       `{"a":"bad\ufffd\ufffd byte"}`,
	} {
		got := string(sqsSafe([]byte(in)))
		if got != want {
			t.Errorf("sqsSafe(%q) = %q, want %q", in, got, want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("%q is not JSON", got)
		}
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	c.Write(&m)
	return m.GetCounter().GetValue()
}
