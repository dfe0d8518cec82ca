package queue_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/queue"
	"github.com/hookline/hookline/shared/queue/sqstest"
)

// redriveEnv is a dead-letter queue holding bodies "a0".."aN" and "b0"..,
// and an empty destination.
func redriveEnv(t *testing.T, a, b int) (*sqstest.Server, string, string) {
	t.Helper()
	srv := sqstest.New(t)
	dlq := srv.CreateQueue("dlq", 30*time.Second)
	dest := srv.CreateQueue("trigger", 30*time.Second)
	for i := range a {
		srv.Queue(dlq).Send(context.Background(), []byte(fmt.Sprint("a", i)))
	}
	for i := range b {
		srv.Queue(dlq).Send(context.Background(), []byte(fmt.Sprint("b", i)))
	}
	return srv, dlq, dest
}

func bodies(q *queue.Memory) []string {
	var out []string
	for _, b := range q.Bodies() {
		out = append(out, string(b))
	}
	slices.Sort(out)
	return out
}

// visible receives everything visible in q now, and puts it back.
func visible(t *testing.T, q *queue.Memory) int {
	t.Helper()
	n := 0
	for {
		msgs, err := q.ReceiveHidden(context.Background(), 10, 0, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) == 0 {
			return n
		}
		n += len(msgs)
	}
}

func byPrefix(body []byte) (string, bool) {
	return string(body[:1]), body[0] == 'a'
}

func TestRedrive(t *testing.T) {
	ctx := context.Background()
	for _, tt := range []struct {
		name                   string
		opts                   queue.RedriveOptions
		fault                  sqstest.FaultFunc
		moved, skipped, failed int
		leftInDLQ              int
	}{
		{name: "moves everything", opts: queue.RedriveOptions{}, moved: 25, leftInDLQ: 0},
		{name: "stops at the cap", opts: queue.RedriveOptions{Max: 12}, moved: 12, leftInDLQ: 13},
		{name: "filter leaves the others visible", opts: queue.RedriveOptions{Select: byPrefix}, moved: 20, skipped: 5, leftInDLQ: 5},
		{name: "dry run moves nothing", opts: queue.RedriveOptions{DryRun: true, Select: byPrefix}, moved: 20, skipped: 5, leftInDLQ: 25},
		{
			name: "refused entries stay in the DLQ",
			opts: queue.RedriveOptions{},
			fault: func(op, id string, body []byte) *sqstest.Fault {
				if op == "SendMessageBatch" && strings.HasPrefix(string(body), "b") {
					return &sqstest.Fault{Code: "InternalError"}
				}
				return nil
			},
			moved: 20, failed: 5, leftInDLQ: 5,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv, dlq, dest := redriveEnv(t, 20, 5)
			srv.SetFault(tt.fault)
			opts := tt.opts
			opts.From, opts.To = dlq, dest
			rep, err := queue.Redrive(ctx, srv.Client(), opts)
			if err != nil {
				t.Fatal(err)
			}
			if rep.Moved != tt.moved || rep.Skipped != tt.skipped || rep.Failed != tt.failed {
				t.Fatalf("report %+v, want moved %d skipped %d failed %d", rep, tt.moved, tt.skipped, tt.failed)
			}
			if n := srv.Queue(dlq).Len(); n != tt.leftInDLQ {
				t.Fatalf("%d messages left in the DLQ, want %d", n, tt.leftInDLQ)
			}
			// What stays is visible again at once, not hidden for minutes.
			if n := visible(t, srv.Queue(dlq)); n != tt.leftInDLQ {
				t.Fatalf("%d of %d left messages are visible", n, tt.leftInDLQ)
			}
			moved := bodies(srv.Queue(dest))
			if !opts.DryRun && len(moved) != tt.moved {
				t.Fatalf("destination holds %d messages, want %d", len(moved), tt.moved)
			}
			if opts.DryRun && len(moved) != 0 {
				t.Fatal("a dry run moved messages")
			}
			// Nothing lost, nothing doubled.
			all := append(bodies(srv.Queue(dlq)), moved...)
			if len(all) != 25 || len(slices.Compact(slices.Sorted(slices.Values(all)))) != 25 {
				t.Fatalf("messages after the run: %v", all)
			}
			if opts.Select != nil && rep.ByLabel["a"] != 20 {
				t.Fatalf("by label %v", rep.ByLabel)
			}
		})
	}
}

func TestRedriveSendFailureMovesNothing(t *testing.T) {
	srv, dlq, dest := redriveEnv(t, 3, 0)
	srv.SetFault(func(op, id string, _ []byte) *sqstest.Fault {
		if op == "SendMessageBatch" && id == "" {
			return &sqstest.Fault{Status: 503, Code: "ServiceUnavailable"}
		}
		return nil
	})
	rep, err := queue.Redrive(context.Background(), srv.Client(), queue.RedriveOptions{From: dlq, To: dest})
	if err == nil || rep.Moved != 0 {
		t.Fatalf("got %+v, %v; want an error and nothing moved", rep, err)
	}
	if srv.Queue(dlq).Len() != 3 || visible(t, srv.Queue(dlq)) != 3 {
		t.Fatal("the DLQ lost or kept hidden messages")
	}
}

func TestRedriveArguments(t *testing.T) {
	srv, dlq, _ := redriveEnv(t, 0, 0)
	for _, opts := range []queue.RedriveOptions{{From: dlq}, {To: dlq}, {From: dlq, To: dlq}} {
		if _, err := queue.Redrive(context.Background(), srv.Client(), opts); err == nil {
			t.Errorf("%+v: want an error", opts)
		}
	}
}
