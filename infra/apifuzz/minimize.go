package apifuzz

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// replay sends steps to a fresh server (with the fixtures) and returns
// the first failure, or nil.
func replay(ctx context.Context, opts Options, steps []Step) (*Failure, error) {
	res := &Result{Store: opts.Store, ByStatus: map[int]int{}, Known: map[string]int{}}
	r, err := newRunner(ctx, opts, res)
	if err != nil {
		return nil, err
	}
	defer r.srv.Stop()
	for _, st := range steps {
		if f := r.step(ctx, st); f != nil {
			return f, nil
		}
	}
	if err := r.srv.Ping(); err != nil {
		return &Failure{Kind: "dead", Route: "ping", Detail: err.Error()}, nil
	}
	return nil, nil
}

// minimize looks, within opts.MinimizeFor, for fewer requests (and a
// smaller last one) that fail as f did, each try on a fresh server, and
// returns the reproduction to print: the requests and the command that
// replays them.
func minimize(ctx context.Context, opts Options, sent, accepted []Step, f Failure) string {
	start := time.Now()
	deadline := start.Add(opts.MinimizeFor)
	trials := 0
	fails := func(steps []Step) bool {
		if opts.MinimizeFor <= 0 || time.Now().After(deadline) || ctx.Err() != nil {
			return false
		}
		trials++
		tctx, cancel := context.WithDeadline(ctx, deadline)
		defer cancel()
		g, err := replay(tctx, opts, steps)
		return err == nil && g != nil && g.Kind == f.Kind && g.Route == f.Route
	}
	best := slices.Clone(sent)
	last := best[len(best)-1]
	switch {
	case len(best) == 1:
	case fails([]Step{last}):
		best = []Step{last}
	default:
		// The accepted writes made the state the failure met; the
		// rest (reads, refusals) rarely matter. Trying them alone
		// first shortens the search that follows by an order of
		// magnitude.
		writes := append(slices.DeleteFunc(slices.Clone(accepted), func(s Step) bool { return s == last }), last)
		if len(writes) < len(best) && fails(writes) {
			best = writes
		}
		// The nearest requests are the likeliest cause: try the last k
		// before the failing one, k doubling, then take requests out.
		prefix := best[:len(best)-1]
		for k := 1; k < len(prefix); k *= 2 {
			if fails(append(slices.Clone(prefix[len(prefix)-k:]), last)) {
				best = append(slices.Clone(prefix[len(prefix)-k:]), last)
				break
			}
		}
		best = append(ddmin(best[:len(best)-1], func(p []Step) bool { return fails(append(slices.Clone(p), last)) }), last)
	}
	// A smaller last request, halving its size while it still fails.
	if req := Generate(opts.Seed, last.Index, *opts.Limits); req.Size > 0 {
		size := req.Size
		if last.Size >= 0 {
			size = last.Size
		}
		for size > 1 {
			try := slices.Clone(best)
			try[len(try)-1] = Step{Index: last.Index, Size: size / 2}
			if !fails(try) {
				break
			}
			best, size = try, size/2
		}
	}
	var b strings.Builder
	minimized := "not minimized (-apifuzz.minimize=0)"
	if opts.MinimizeFor > 0 {
		minimized = fmt.Sprintf("minimized in %v, %d tries", time.Since(start).Round(time.Second), trials)
	}
	fmt.Fprintf(&b, "reproduction on %s: %d request(s) after the fixtures, %s:\n", opts.Store, len(best), minimized)
	shown := best
	if len(shown) > 30 {
		fmt.Fprintf(&b, "  (the first %d not shown)\n", len(shown)-30)
		shown = shown[len(shown)-30:]
	}
	for _, st := range shown {
		req := Generate(opts.Seed, st.Index, *opts.Limits)
		if st.Size >= 0 {
			req, _ = req.Shrink(st.Size)
		}
		fmt.Fprintf(&b, "  %s\n", req)
	}
	fmt.Fprintf(&b, "replay: go test -tags integration -count=1 -run 'TestAPIFuzz/%s$' ./infra/apifuzz -args -apifuzz.seed=%d -apifuzz.only=%s",
		opts.Store, opts.Seed, formatSteps(best))
	return b.String()
}

// formatSteps writes steps as ParseSteps reads them, runs of indices as
// ranges.
func formatSteps(steps []Step) string {
	var parts []string
	for i := 0; i < len(steps); {
		j := i
		for j+1 < len(steps) && steps[j+1].Size < 0 && steps[j].Size < 0 && steps[j+1].Index == steps[j].Index+1 {
			j++
		}
		if j-i >= 2 {
			parts = append(parts, fmt.Sprintf("%d-%d", steps[i].Index, steps[j].Index))
		} else {
			for k := i; k <= j; k++ {
				parts = append(parts, steps[k].String())
			}
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// ddmin removes parts of items while test still holds (Zeller's delta
// debugging, complements only); it stops early when test starts failing
// for want of time.
func ddmin(items []Step, test func([]Step) bool) []Step {
	n := 2
	for len(items) >= 2 {
		size := (len(items) + n - 1) / n
		reduced := false
		for i := 0; i < len(items); i += size {
			complement := append(slices.Clone(items[:i]), items[min(i+size, len(items)):]...)
			if test(complement) {
				items, n, reduced = complement, max(n-1, 2), true
				break
			}
		}
		if !reduced {
			if n >= len(items) {
				break
			}
			n = min(n*2, len(items))
		}
	}
	if len(items) == 1 && test(nil) {
		return nil
	}
	return items
}
