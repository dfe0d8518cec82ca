// Command benchhttp measures the hooks API over HTTP (`make bench-http`):
// it starts `hookline serve` with a fresh data directory on a random
// loopback port, creates a realistic hook and drives it with a closed-loop
// client over keep-alive connections, every request Hawk-signed as
// Taskcluster's clients sign it. Each row of the table is one operation at
// one number of concurrent clients, after a warm-up; beside them, in the
// same run and interleaved with them, the same client against a trivial
// in-process server (a fixed small JSON answer) measures the ceiling the
// machine and the client allow, so a loaded machine shows as a lower
// ceiling rather than as a slower Hookline.
//
// Everything is bounded: requests per row (-gets, -triggers, -pings) and
// time per row (-row-time) and in all (-timeout).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"time"
)

func main() {
	opts := defaultOptions()
	flag.StringVar(&opts.Binary, "hookline", "bin/hookline", "the hookline binary to run (`make bench-http` builds it)")
	flag.IntVar(&opts.Gets, "gets", opts.Gets, "getHook requests per row (and ceiling requests)")
	flag.IntVar(&opts.Pings, "pings", opts.Pings, "ping requests per row")
	flag.IntVar(&opts.Triggers, "triggers", opts.Triggers, "triggerHook requests per row (each creates a task)")
	clients := flag.String("clients", joinInts(opts.Clients), "comma-separated numbers of concurrent clients")
	ops := flag.String("ops", strings.Join(opts.Ops, ","), "comma-separated operations: get, trigger, ping")
	flag.IntVar(&opts.Rounds, "rounds", opts.Rounds, "rounds: every row is measured once per round, interleaved with the ceiling")
	flag.Float64Var(&opts.Warmup, "warmup", opts.Warmup, "warm-up requests before each row, as a fraction of the row's")
	flag.IntVar(&opts.Slices, "slices", opts.Slices, "turns the rows of one number of clients take, each with its share of every row's requests")
	flag.DurationVar(&opts.RowTime, "row-time", opts.RowTime, "longest a row may run (it then reports what it measured, marked)")
	flag.Func("env", "`NAME=VALUE` for the server's environment (repeatable; it starts with PATH, HOME, its data directory and clients, and GOMAXPROCS, GOGC, GOMEMLIMIT, GODEBUG, TMPDIR when set)", func(v string) error {
		if !strings.Contains(v, "=") {
			return fmt.Errorf("%q is not NAME=VALUE", v)
		}
		opts.Env = append(opts.Env, v)
		return nil
	})
	timeout := flag.Duration("timeout", 15*time.Minute, "longest the whole run may take")
	flag.Parse()
	var err error
	if opts.Clients, err = parseInts(*clients); err != nil {
		fmt.Fprintf(os.Stderr, "benchhttp: -clients: %v\n", err)
		os.Exit(2)
	}
	opts.Ops = strings.Split(*ops, ",")

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if _, err := Run(ctx, opts, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "benchhttp: %v\n", err)
		os.Exit(1)
	}
}

func joinInts(xs []int) string {
	s := make([]string, len(xs))
	for i, x := range xs {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, ",")
}

func parseInts(s string) ([]int, error) {
	var out []int
	for f := range strings.SplitSeq(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	if len(out) == 0 {
		return nil, errors.New("no numbers")
	}
	return out, nil
}
