package queue_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hookline/hookline/shared/queue"
	"github.com/hookline/hookline/shared/queue/sqstest"
)

func entries(n int, size int) []queue.Entry {
	out := make([]queue.Entry, n)
	for i := range out {
		out[i] = queue.Entry{ID: fmt.Sprint("e", i), Body: []byte(fmt.Sprintf("%d:%s", i, strings.Repeat("x", size)))}
	}
	return out
}

func TestSQSSendAndReceive(t *testing.T) {
	srv := sqstest.New(t)
	url := srv.CreateQueue("q", time.Second)
	q := queue.NewSQS(srv.Client(), url)
	ctx := context.Background()

	if err := q.Send(ctx, []byte(`{"kind":"hook-created"}`)); err != nil {
		t.Fatal(err)
	}
	failed, err := q.SendBatch(ctx, entries(10, 5))
	if err != nil || len(failed) != 0 {
		t.Fatalf("batch: %v %v", failed, err)
	}
	if n := srv.Queue(url).Len(); n != 11 {
		t.Fatalf("%d messages queued, want 11", n)
	}

	got, err := q.Receive(ctx, 10, 0)
	if err != nil || len(got) != 10 || string(got[0].Body) != `{"kind":"hook-created"}` || got[0].ReceiveCount != 1 {
		t.Fatalf("receive: %d %v %+v", len(got), err, got)
	}
	for _, m := range got[1:] {
		if err := q.Delete(ctx, m.Receipt); err != nil {
			t.Fatal(err)
		}
	}
	// Long poll: the 11th message is there at once; the first one, not
	// deleted, comes back after the visibility timeout.
	rest, err := q.Receive(ctx, 10, 0)
	if err != nil || len(rest) != 1 {
		t.Fatalf("rest: %v %v", rest, err)
	}
	q.Delete(ctx, rest[0].Receipt)
	start := time.Now()
	again, err := q.Receive(ctx, 10, 5*time.Second)
	if err != nil || len(again) != 1 || again[0].ID != got[0].ID || again[0].ReceiveCount != 2 {
		t.Fatalf("redelivery: %+v %v", again, err)
	}
	if d := time.Since(start); d < 500*time.Millisecond || d > 4*time.Second {
		t.Errorf("redelivered after %v, want about the 1 s visibility timeout", d)
	}
	// A stale receipt deletes nothing.
	q.Delete(ctx, got[0].Receipt)
	if n := srv.Queue(url).Len(); n != 1 {
		t.Fatalf("stale receipt deleted the message: %d left", n)
	}
	q.Delete(ctx, again[0].Receipt)
	if n := srv.Queue(url).Len(); n != 0 {
		t.Fatalf("%d left", n)
	}
}

func TestSQSBatchRules(t *testing.T) {
	srv := sqstest.New(t)
	q := queue.NewSQS(srv.Client(), srv.CreateQueue("q", 0))
	ctx := context.Background()
	dup := entries(2, 1)
	dup[1].ID = dup[0].ID
	for name, batch := range map[string][]queue.Entry{
		"empty":     nil,
		"11":        entries(11, 1),
		"duplicate": dup,
		"too big":   entries(2, queue.MaxBatchBytes/2),
	} {
		if _, err := q.SendBatch(ctx, batch); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if n := srv.Requests("SendMessageBatch"); n != 0 {
		t.Errorf("%d requests reached SQS; the adapter must refuse such batches itself", n)
	}
	// Exactly at the limit is fine.
	exact := entries(1, 0)
	exact[0].Body = []byte(strings.Repeat("y", queue.MaxBatchBytes))
	if failed, err := q.SendBatch(ctx, exact); err != nil || len(failed) != 0 {
		t.Errorf("a %d-byte message: %v %v", queue.MaxBatchBytes, failed, err)
	}
}

func TestSQSEntryFailures(t *testing.T) {
	srv := sqstest.New(t)
	url := srv.CreateQueue("q", 0)
	q := queue.NewSQS(srv.Client(), url)
	srv.SetFault(func(op, id string, _ []byte) *sqstest.Fault {
		switch id {
		case "e1":
			return &sqstest.Fault{Code: "InternalError"}
		case "e2":
			return &sqstest.Fault{Code: "InvalidParameterValue", SenderFault: true}
		}
		return nil
	})
	batch := entries(4, 1)
	batch[3].Body = []byte("bad \uffff char")
	failed, err := q.SendBatch(context.Background(), batch)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]queue.EntryError{}
	for _, f := range failed {
		got[f.ID] = f
	}
	if len(got) != 3 || got["e1"].SenderFault || !got["e2"].SenderFault || !got["e3"].SenderFault || got["e3"].Code != "InvalidMessageContents" {
		t.Fatalf("failed entries %+v", failed)
	}
	if n := srv.Queue(url).Len(); n != 1 {
		t.Fatalf("%d queued, want only e0", n)
	}

	srv.SetFault(func(op, id string, _ []byte) *sqstest.Fault {
		if id == "" {
			return &sqstest.Fault{Status: 503, Code: "ServiceUnavailable"}
		}
		return nil
	})
	if _, err := q.SendBatch(context.Background(), entries(2, 1)); err == nil || !strings.Contains(err.Error(), "ServiceUnavailable") {
		t.Fatalf("a failed request must be an error, got %v", err)
	}
	if err := q.Send(context.Background(), []byte("x")); err == nil {
		t.Fatal("send: no error")
	}
}

func TestSQSUnknownQueue(t *testing.T) {
	srv := sqstest.New(t)
	q := queue.NewSQS(srv.Client(), srv.URL+"/"+sqstest.Account+"/nope")
	if _, err := q.Receive(context.Background(), 1, 0); err == nil || !strings.Contains(err.Error(), "QueueDoesNotExist") {
		t.Fatalf("got %v", err)
	}
}

// On the bubble's clock: a long poll wakes on a send, not on its timer; an
// empty poll lasts exactly its wait; a received message not deleted comes
// back after exactly the visibility timeout.
func TestMemoryLongPoll(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		q := queue.NewMemory(nil)
		got := make(chan []queue.Message, 1)
		start := time.Now()
		go func() {
			m, _ := q.Receive(ctx, 1, 10*time.Second)
			got <- m
		}()
		synctest.Wait() // the poll is waiting
		q.Send(ctx, []byte("hello"))
		m := <-got
		if len(m) != 1 || string(m[0].Body) != "hello" {
			t.Fatalf("got %+v", m)
		}
		if d := time.Since(start); d != 0 {
			t.Fatalf("woke after %v, want at once", d)
		}

		start = time.Now()
		again, err := q.Receive(ctx, 1, time.Minute)
		if err != nil || len(again) != 1 || again[0].ID != m[0].ID || again[0].ReceiveCount != 2 {
			t.Fatalf("redelivery: %+v %v", again, err)
		}
		if d := time.Since(start); d != 30*time.Second {
			t.Errorf("redelivered after %v, want the 30s default visibility timeout", d)
		}

		start = time.Now()
		if m, err := queue.NewMemory(nil).Receive(ctx, 1, 10*time.Millisecond); err != nil || len(m) != 0 {
			t.Fatalf("empty poll: %v %v", m, err)
		}
		if d := time.Since(start); d != 10*time.Millisecond {
			t.Errorf("empty poll returned after %v, want its 10ms wait", d)
		}

		// A cancelled poll returns the context's error.
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		if _, err := queue.NewMemory(nil).Receive(cctx, 1, time.Second); !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled poll: %v", err)
		}
	})
}

// On the bubble's clock the retries wait the backoff, doubling: the batch
// takes as long as its slowest entry, "down" (1s, then 2s).
func TestLocalRetriesAndReports(t *testing.T) {
	synctest.Test(t, testLocalRetriesAndReports)
}

func testLocalRetriesAndReports(t *testing.T) {
	var calls sync.Map // body -> *atomic.Int32
	count := func(body []byte) int32 {
		v, _ := calls.LoadOrStore(string(body), new(atomic.Int32))
		return v.(*atomic.Int32).Add(1)
	}
	q := queue.NewLocal(func(_ context.Context, body []byte) error {
		n := count(body)
		switch string(body) {
		case "flaky":
			if n < 2 {
				return errors.New("try again")
			}
		case "down":
			return errors.New("still down")
		case "bad":
			return fmt.Errorf("malformed: %w", queue.ErrPermanent)
		}
		return nil
	}, &queue.LocalOptions{Attempts: 3, Backoff: time.Second})
	batch := []queue.Entry{{ID: "a", Body: []byte("ok")}, {ID: "b", Body: []byte("flaky")}, {ID: "c", Body: []byte("down")}, {ID: "d", Body: []byte("bad")}}
	start := time.Now()
	failed, err := q.SendBatch(t.Context(), batch)
	if err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d != 3*time.Second {
		t.Errorf("batch took %v, want 3s (backoffs of 1s and 2s)", d)
	}
	got := map[string]queue.EntryError{}
	for _, f := range failed {
		got[f.ID] = f
	}
	if len(got) != 2 || got["c"].SenderFault || !got["d"].SenderFault {
		t.Fatalf("failed %+v", failed)
	}
	for body, want := range map[string]int32{"ok": 1, "flaky": 2, "down": 3, "bad": 1} {
		v, _ := calls.Load(body)
		if n := v.(*atomic.Int32).Load(); n != want {
			t.Errorf("%s handled %d times, want %d", body, n, want)
		}
	}
}

// On the bubble's clock 50 messages of 5ms each, 4 at a time, take exactly
// 13 rounds, and the peak is exactly the limit.
func TestLocalBoundsConcurrency(t *testing.T) {
	synctest.Test(t, testLocalBoundsConcurrency)
}

func testLocalBoundsConcurrency(t *testing.T) {
	var running, peak atomic.Int32
	q := queue.NewLocal(func(context.Context, []byte) error {
		n := running.Add(1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
		running.Add(-1)
		return nil
	}, &queue.LocalOptions{Concurrency: 4})
	var wg sync.WaitGroup
	start := time.Now()
	for range 5 {
		wg.Go(func() {
			if failed, err := q.SendBatch(t.Context(), entries(10, 1)); err != nil || len(failed) > 0 {
				t.Errorf("%v %v", failed, err)
			}
		})
	}
	wg.Wait()
	if p := peak.Load(); p != 4 {
		t.Fatalf("peak concurrency %d, want 4", p)
	}
	if d := time.Since(start); d != 13*5*time.Millisecond {
		t.Errorf("50 messages took %v, want 13 rounds of 5ms", d)
	}
}
