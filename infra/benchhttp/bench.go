package main

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/hookline/hookline/infra/servechild"
	"github.com/hookline/hookline/shared/auth"
)

// The hook every row uses: a triggerSchema with three properties and a
// template with $let, $eval, $fromNow and a few dozen interpolations; and
// the payload triggers send, which the schema accepts.
var (
	//go:embed testdata/hook.json
	hookJSON []byte
	//go:embed testdata/payload.json
	payloadJSON []byte
)

const (
	hookGroup = "bench"
	hookID    = "nightly"
	clientID  = "project/bench/ci"
)

// Options say what to measure.
type Options struct {
	// Binary is the hookline binary.
	Binary string
	// Gets, Pings and Triggers are the requests of one row of each
	// operation; Gets is also the ceiling's.
	Gets, Pings, Triggers int
	// Clients are the numbers of concurrent clients, one row each.
	Clients []int
	// Ops are the operations measured: get, trigger, ping.
	Ops []string
	// Rounds is how often every row is measured.
	Rounds int
	// Warmup is the warm-up before each row, as a fraction of its
	// requests (at least one per client).
	Warmup float64
	// RowTime bounds one row; a row cut short is marked.
	RowTime time.Duration
	// Slices is how many turns the rows of one number of clients take,
	// each with its share of every row's requests.
	Slices int
	// Env adds variables to the server's environment (NAME=VALUE).
	Env []string
}

func defaultOptions() Options {
	return Options{Gets: 40000, Pings: 20000, Triggers: 4000, Clients: []int{2, 8, 16},
		Ops: []string{"get", "trigger", "ping"}, Rounds: 3, Warmup: 0.1, RowTime: 2 * time.Minute, Slices: 10}
}

// Row is one measured row.
type Row struct {
	Round    int
	Target   string // "hookline" or "ceiling"
	Op       string // getHook, triggerHook, ping, fixed
	Clients  int
	Requests int
	Elapsed  time.Duration
	// P50, P90 and P99 are latency percentiles of the measured requests.
	P50, P90, P99 time.Duration
	// Errors counts requests that failed or did not answer 200.
	Errors   int
	FirstErr string
	// Truncated is set when RowTime ended the row early.
	Truncated bool
	// CPU is the server's CPU time (user and system) while the row ran:
	// unlike the rate, it hardly depends on what else the machine runs.
	CPU time.Duration
	// ClientCPU is this process's CPU time while the row ran: the
	// client's, and for the ceiling its server's too.
	ClientCPU time.Duration
	// OfCeiling is the rate over the ceiling's of the same round and
	// clients (0 for the ceiling itself or when not measured).
	OfCeiling float64
}

// Rate is requests per second.
func (r Row) Rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// op is one kind of request.
type op struct {
	name   string
	target string
	n      int
	method string
	url    string
	body   []byte
}

// Run measures what opts say and writes the table to out.
func Run(ctx context.Context, opts Options, out io.Writer) ([]Row, error) {
	for _, o := range opts.Ops {
		if o != "get" && o != "trigger" && o != "ping" {
			return nil, fmt.Errorf("unknown operation %q (get, trigger, ping)", o)
		}
	}
	if opts.Rounds < 1 {
		opts.Rounds = 1
	}
	token, err := auth.GenerateAccessToken(rand.Reader)
	if err != nil {
		return nil, err
	}
	creds := auth.Credentials{ClientID: clientID, AccessToken: token}
	srv, err := startServe(ctx, opts, token)
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	ceiling, err := startCeiling()
	if err != nil {
		return nil, err
	}
	defer ceiling.Close()

	maxClients := slices.Max(opts.Clients)
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		Proxy:               nil, // loopback only, whatever the environment says
		MaxIdleConns:        2 * maxClients,
		MaxIdleConnsPerHost: maxClients,
		IdleConnTimeout:     time.Minute,
	}}
	defer client.CloseIdleConnections()
	hookURL := srv.Base + "/api/hooks/v1/hooks/" + hookGroup + "/" + hookID
	if err := setup(ctx, client, creds, hookURL); err != nil {
		return nil, fmt.Errorf("%w\n%s", err, output(srv))
	}

	ops := map[string]op{
		"get":     {name: "getHook", target: "hookline", n: opts.Gets, method: http.MethodGet, url: hookURL},
		"trigger": {name: "triggerHook", target: "hookline", n: opts.Triggers, method: http.MethodPost, url: hookURL + "/trigger", body: payloadJSON},
		"ping":    {name: "ping", target: "hookline", n: opts.Pings, method: http.MethodGet, url: srv.Base + "/api/hooks/v1/ping"},
	}
	fixed := op{name: "fixed", target: "ceiling", n: opts.Gets, method: http.MethodGet, url: "http://" + ceiling.Addr + "/api/hooks/v1/ping"}

	fmt.Fprintf(out, "hookline serve at %s (%s), ceiling at %s; GOMAXPROCS %d, %d CPUs; load %s\n",
		srv.Base, opts.Binary, ceiling.Addr, runtime.GOMAXPROCS(0), runtime.NumCPU(), servechild.LoadAvg())
	fmt.Fprintf(out, rowFormat, "round", "target", "op", "clients", "requests", "req/s", "p50 ms", "p90 ms", "p99 ms", "errors", "cpu µs/req", "bench µs/req", "of ceiling")
	var rows []Row
	for round := 1; round <= opts.Rounds; round++ {
		for _, c := range opts.Clients {
			group := []op{fixed}
			for _, name := range opts.Ops {
				if o := ops[name]; o.n > 0 {
					group = append(group, o)
				}
			}
			measured := measureGroup(ctx, client, creds, group, c, opts, srv.CPU)
			for i := range measured {
				measured[i].Round = round
				if i > 0 && group[i].method == http.MethodGet && measured[0].Rate() > 0 {
					measured[i].OfCeiling = measured[i].Rate() / measured[0].Rate()
				}
				printRow(out, measured[i])
			}
			rows = append(rows, measured...)
			if err := ctx.Err(); err != nil {
				return rows, err
			}
		}
	}
	fmt.Fprintf(out, "load at the end %s\n", servechild.LoadAvg())
	if opts.Rounds > 1 {
		summarize(out, rows)
	}
	for _, r := range rows {
		if r.Errors > 0 {
			return rows, fmt.Errorf("%s %s at %d clients: %d errors, the first: %s\n%s", r.Target, r.Op, r.Clients, r.Errors, r.FirstErr, output(srv))
		}
	}
	return rows, nil
}

// rowFormat lays out a row: fixed widths, so rows line up as they come.
const rowFormat = "%5v  %-8v  %-11v  %7v  %8v  %7v  %7v  %7v  %7v  %6v  %10v  %10v  %v\n"

func printRow(out io.Writer, r Row) {
	ms := func(d time.Duration) string { return fmt.Sprintf("%.3f", float64(d.Microseconds())/1000) }
	of := ""
	if r.OfCeiling > 0 {
		of = fmt.Sprintf("%.0f%%", 100*r.OfCeiling)
	}
	if r.Truncated {
		of += " (cut at -row-time)"
	}
	cpu := ""
	if r.CPU > 0 && r.Requests > 0 {
		cpu = fmt.Sprintf("%.1f", float64(r.CPU.Microseconds())/float64(r.Requests))
	}
	self := ""
	if r.ClientCPU > 0 && r.Requests > 0 {
		self = fmt.Sprintf("%.1f", float64(r.ClientCPU.Microseconds())/float64(r.Requests))
	}
	fmt.Fprintf(out, rowFormat, r.Round, r.Target, r.Op, r.Clients, r.Requests, fmt.Sprintf("%.0f", r.Rate()), ms(r.P50), ms(r.P90), ms(r.P99), r.Errors, cpu, self, of)
}

// summarize prints each row's range over the rounds.
func summarize(out io.Writer, rows []Row) {
	type key struct {
		target, op string
		clients    int
	}
	var order []key
	byKey := map[key][]Row{}
	for _, r := range rows {
		k := key{r.Target, r.Op, r.Clients}
		if _, ok := byKey[k]; !ok {
			order = append(order, k)
		}
		byKey[k] = append(byKey[k], r)
	}
	fmt.Fprintln(out, "\nover the rounds (min–max):")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "target\top\tclients\treq/s\tp50 ms\tp99 ms\tcpu µs/req\tof ceiling\t")
	span := func(rs []Row, f func(Row) float64, format string) string {
		lo, hi := f(rs[0]), f(rs[0])
		for _, r := range rs[1:] {
			lo, hi = min(lo, f(r)), max(hi, f(r))
		}
		return fmt.Sprintf(format+"–"+format, lo, hi)
	}
	msOf := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	for _, k := range order {
		rs := byKey[k]
		of := ""
		if rs[0].OfCeiling > 0 {
			of = span(rs, func(r Row) float64 { return 100 * r.OfCeiling }, "%.0f") + "%"
		}
		cpu := ""
		if rs[0].CPU > 0 {
			cpu = span(rs, func(r Row) float64 { return float64(r.CPU.Microseconds()) / float64(max(r.Requests, 1)) }, "%.1f")
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\t%s\t%s\t%s\t\n", k.target, k.op, k.clients,
			span(rs, Row.Rate, "%.0f"),
			span(rs, func(r Row) float64 { return msOf(r.P50) }, "%.3f"),
			span(rs, func(r Row) float64 { return msOf(r.P99) }, "%.3f"), cpu, of)
	}
	tw.Flush()
}

// measureGroup measures the rows of one number of clients: after a
// warm-up of each, the operations take turns, a slice of each row's
// requests at a time, so that a change in the machine's load (other
// programs come and go) weighs on every row alike, the ceiling included.
// cpu, when not nil, reads the server's CPU time, charged to the rows of
// the hookline target.
func measureGroup(ctx context.Context, client *http.Client, creds auth.Credentials, group []op, clients int, opts Options, cpu func() time.Duration) []Row {
	turns := max(opts.Slices, 1)
	rows := make([]Row, len(group))
	lats := make([][]time.Duration, len(group))
	for i, o := range group {
		rows[i] = Row{Target: o.target, Op: o.name, Clients: clients}
		warm := max(int(float64(o.n)*opts.Warmup), clients)
		drive(ctx, client, creds, o, warm, clients, opts.RowTime, nil)
	}
	deadline := time.Now().Add(opts.RowTime * time.Duration(len(group)))
	for k := range turns {
		for i, o := range group {
			// The k-th slice's share of the row's requests.
			n := o.n*(k+1)/turns - o.n*k/turns
			if n == 0 {
				continue
			}
			var before time.Duration
			if cpu != nil && o.target == "hookline" {
				before = cpu()
			}
			selfBefore := selfCPU()
			res := drive(ctx, client, creds, o, n, clients, time.Until(deadline), &lats[i])
			rows[i].ClientCPU += selfCPU() - selfBefore
			if cpu != nil && o.target == "hookline" {
				rows[i].CPU += cpu() - before
			}
			rows[i].Requests += res.Requests
			rows[i].Elapsed += res.Elapsed
			rows[i].Errors += res.Errors
			if rows[i].FirstErr == "" {
				rows[i].FirstErr = res.FirstErr
			}
			rows[i].Truncated = rows[i].Truncated || res.Truncated
		}
	}
	for i := range rows {
		all := lats[i]
		slices.Sort(all)
		pct := func(p float64) time.Duration {
			if len(all) == 0 {
				return 0
			}
			return all[min(len(all)-1, int(p*float64(len(all))))]
		}
		rows[i].P50, rows[i].P90, rows[i].P99 = pct(0.50), pct(0.90), pct(0.99)
	}
	return rows
}

// drive sends n requests from clients closed-loop workers, each sending
// its next request when its last one is answered, and adds their
// latencies to lats (when not nil).
func drive(ctx context.Context, client *http.Client, creds auth.Credentials, o op, n, clients int, limit time.Duration, lats *[]time.Duration) Row {
	if limit <= 0 {
		return Row{Truncated: true}
	}
	ctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	var (
		next     atomic.Int64
		errs     atomic.Int64
		firstErr sync.Once
		first    string
		wg       sync.WaitGroup
	)
	per := make([][]time.Duration, clients)
	start := time.Now()
	for w := range clients {
		per[w] = make([]time.Duration, 0, n/clients+1)
		wg.Go(func() {
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				t0 := time.Now()
				err := do(ctx, client, creds, o)
				if ctx.Err() != nil {
					return // cut short: neither counted nor an error
				}
				per[w] = append(per[w], time.Since(t0))
				if err != nil {
					errs.Add(1)
					firstErr.Do(func() { first = err.Error() })
				}
			}
		})
	}
	wg.Wait()
	row := Row{Elapsed: time.Since(start), Errors: int(errs.Load()), FirstErr: first}
	for _, p := range per {
		row.Requests += len(p)
		if lats != nil {
			*lats = append(*lats, p...)
		}
	}
	row.Truncated = row.Requests < n
	return row
}

// do sends one request, signed as Taskcluster's clients sign it (Hawk
// header, no payload hash, a fresh nonce and timestamp each time), and
// reads the whole answer.
func do(ctx context.Context, client *http.Client, creds auth.Credentials, o op) error {
	var body io.Reader
	if o.body != nil {
		body = bytes.NewReader(o.body)
	}
	req, err := http.NewRequestWithContext(ctx, o.method, o.url, body)
	if err != nil {
		return err
	}
	if o.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := auth.SignRequest(req, creds, nil, time.Now()); err != nil {
		return err
	}
	res, err := client.Do(req)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return err
	}
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: %d %s", o.method, o.url, res.StatusCode, truncate(data, 300))
	}
	return nil
}

func truncate(b []byte, n int) string {
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}

// setup creates the hook and checks that each operation answers.
func setup(ctx context.Context, client *http.Client, creds auth.Credentials, hookURL string) error {
	for _, o := range []op{
		{method: http.MethodPut, url: hookURL, body: hookJSON},
		{method: http.MethodGet, url: hookURL},
		{method: http.MethodPost, url: hookURL + "/trigger", body: payloadJSON},
	} {
		if err := do(ctx, client, creds, o); err != nil {
			return fmt.Errorf("set-up: %w", err)
		}
	}
	return nil
}

// clientsConfig is HOOKLINE_CLIENTS: the bench client holds a role, the
// role the hook's scopes, as a deployment would set it up, so scopes are
// expanded on every request.
func clientsConfig(token string) string {
	cfg := map[string]any{
		"clients": []map[string]any{{"clientId": clientID, "accessToken": token, "scopes": []string{"assume:project:bench"}}},
		"roles": []map[string]any{
			{"roleId": "project:bench", "scopes": []string{"hooks:get:bench:*", "hooks:modify-hook:bench/*", "hooks:trigger-hook:bench/*", "hooks:list-hooks:bench", "hooks:status:bench/*", "assume:hook-id:bench/*"}},
			{"roleId": "hook-id:bench/*", "scopes": []string{"queue:create-task:*", "queue:scheduler-id:bench-level-1", "queue:route:index.project.bench.*", "queue:route:notify.email.*",
				"assume:repo:example.com/project/bench:branch:*", "secrets:get:project/bench/level-1/*"}},
		},
		"anonymousScopes": []string{"hooks:status:*"},
	}
	data, _ := json.Marshal(cfg)
	return string(data)
}

// startServe starts the server with the bench client's credentials. The
// request log stays on (at info): it is part of what a request costs.
func startServe(ctx context.Context, opts Options, token string) (*servechild.Child, error) {
	if _, err := os.Stat(opts.Binary); err != nil {
		return nil, fmt.Errorf("hookline binary: %w (make build, or -hookline)", err)
	}
	// No TASKCLUSTER_ROOT_URL: the local queue.
	return servechild.Start(ctx, servechild.Options{Binary: opts.Binary, Prefix: "benchhttp-",
		Env: append([]string{"HOOKLINE_CLIENTS=" + clientsConfig(token)}, opts.Env...)})
}

// output is the first lines of the server's log, for an error.
func output(srv *servechild.Child) string {
	return "hookline serve's first log lines:\n" + strings.Join(srv.Head(40), "\n")
}

// ceilingServer answers every request with a fixed small JSON, as fast as
// net/http allows: the most the client and the machine can do.
type ceilingServer struct {
	*http.Server
	Addr string
}

func startCeiling() (*ceilingServer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	body := []byte(`{"alive":true,"uptime":1234.5}` + "\n")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		_, _ = w.Write(body)
	}), ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintf(os.Stderr, "benchhttp: ceiling server: %v\n", err)
		}
	}()
	return &ceilingServer{Server: srv, Addr: ln.Addr().String()}, nil
}

// selfCPU is this process's CPU time so far (user and system).
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
