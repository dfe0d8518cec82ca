//go:build integration

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// TestSmoke runs the benchmark small: a few hundred requests per row
// against a freshly built hookline. Every row must be there, with its
// requests all answered 200, and the table printed.
func TestSmoke(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "hookline")
	build := exec.Command("go", "build", "-o", bin, "./cmd/hookline")
	build.Dir = filepath.Join("..", "..")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/hookline: %v\n%s", err, out)
	}
	opts := defaultOptions()
	opts.Binary = bin
	opts.Gets, opts.Pings, opts.Triggers = 300, 200, 40
	opts.Clients = []int{1, 4}
	opts.Rounds = 2
	opts.RowTime = time.Minute
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	var out bytes.Buffer
	rows, err := Run(ctx, opts, &out)
	t.Logf("\n%s", out.String())
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{"fixed": 300, "getHook": 300, "ping": 200, "triggerHook": 40}
	seen := map[string]int{}
	for _, r := range rows {
		seen[r.Op]++
		if r.Requests != want[r.Op] || r.Errors != 0 || r.Truncated || r.Rate() <= 0 || r.P50 <= 0 || r.P99 < r.P50 {
			t.Errorf("row %+v: want %d requests answered 200, a rate and ordered percentiles", r, want[r.Op])
		}
		if (r.Op == "getHook" || r.Op == "ping") && r.OfCeiling <= 0 {
			t.Errorf("row %s at %d clients has no ratio to the ceiling", r.Op, r.Clients)
		}
	}
	for op := range want {
		if seen[op] != len(opts.Clients)*opts.Rounds {
			t.Errorf("%d %s rows, want one per round and number of clients (%d)", seen[op], op, len(opts.Clients)*opts.Rounds)
		}
	}
	for _, s := range []string{"getHook", "over the rounds", "load at the end"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("output lacks %q", s)
		}
	}
}

// TestRunRefusesAnUnknownOperation checks the options before anything
// starts.
func TestRunRefusesAnUnknownOperation(t *testing.T) {
	opts := defaultOptions()
	opts.Ops = []string{"get", "delete"}
	if _, err := Run(context.Background(), opts, os.Stdout); err == nil || !strings.Contains(err.Error(), `"delete"`) {
		t.Fatalf("Run with op delete: %v, want an error naming it", err)
	}
}
