// Command bodyload measures the memory of `hookline serve` under hostile
// request bodies (`make bench-bodies`, issue 16): it starts the binary
// with a fresh data directory on a random loopback port, anonymous
// callers allowed to write (no signing, so the client costs little), and
// sends bodies near and over each route's limit from many clients at
// once: arrays of items that each break the schema (nulls, empty
// objects), deep nesting, bodies without a declared length, bodies over
// the limit, and valid 1 MB payloads that fire the hook. It reports the server's peak resident memory (VmHWM of
// /proc/<pid>/status, and the peak of RssAnon it sampled: VmHWM also
// counts the pages of the bbolt file the process touched) and the answers
// by status.
//
// Everything is bounded: -requests in all, -timeout for the whole run.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline/infra/servechild"
)

func main() {
	binary := flag.String("hookline", "bin/hookline", "the hookline binary to run (`make bench-bodies` builds it)")
	clients := flag.Int("clients", 48, "concurrent clients")
	requests := flag.Int("requests", 600, "requests in all")
	timeout := flag.Duration("timeout", 3*time.Minute, "longest the whole run may take")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	if err := run(ctx, *binary, *clients, *requests, os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "bodyload: %v\n", err)
		os.Exit(1)
	}
}

// load is one kind of hostile request.
type load struct {
	name    string
	method  string
	path    string // below the server's base URL
	body    []byte
	chunked bool // no Content-Length: the server cannot weigh it first
}

// repeat is "[" + n copies of item joined by commas + "]" padded to fit
// size bytes.
func repeat(item string, size int) []byte {
	n := (size - 2) / (len(item) + 1)
	return []byte("[" + strings.TrimSuffix(strings.Repeat(item+",", n), ",") + "]")
}

func loads(token string) []load {
	const hooks, hookline = "/api/hooks/v1/hooks", "/api/hookline/v1/hooks"
	hookAround := func(key string, arr []byte) []byte {
		return []byte(`{"metadata":{"name":"n","description":"d","owner":"a@example.com"},"task":{},"` + key + `":` + string(arr) + `}`)
	}
	obj := func(key string, arr []byte) []byte { return []byte(`{"` + key + `":` + string(arr) + `}`) }
	const mb = 1 << 20
	return []load{
		{name: "createHook 2 MB of null schedule entries", method: "PUT", path: hooks + "/load/new", body: hookAround("schedule", repeat("null", 2*mb-200))},
		{name: "createHook 2 MB of empty bindings", method: "PUT", path: hooks + "/load/new", body: hookAround("bindings", repeat("{}", 2*mb-200))},
		{name: "settings 512 KB of null filters", method: "PUT", path: hookline + "/load/typed/settings", body: obj("filters", repeat("null", 512<<10-20))},
		{name: "triggerHook 1 MB of empty objects", method: "POST", path: hooks + "/load/typed/trigger", body: obj("items", repeat("{}", mb-20))},
		{name: "triggerHook 1 MB of nulls, chunked", method: "POST", path: hooks + "/load/typed/trigger", body: obj("items", repeat("null", mb-20)), chunked: true},
		{name: "triggerHookWithToken 1 MB of empty arrays", method: "POST", path: hooks + "/load/typed/trigger/" + token, body: obj("items", repeat("[]", mb-20))},
		{name: "triggerHook 1 MB of strings (valid: fires)", method: "POST", path: hooks + "/load/typed/trigger", body: obj("items", repeat(`""`, mb-20))},
		{name: "triggerHook 1 MB nested deep", method: "POST", path: hooks + "/load/typed/trigger", body: []byte(`{"items":` + strings.Repeat("[", mb/2-20) + strings.Repeat("]", mb/2-20) + `}`)},
		{name: "createHook 9 MB, over the limit", method: "PUT", path: hooks + "/load/new", body: hookAround("schedule", repeat("null", 9*mb))},
		{name: "createHook 9 MB chunked, over the limit", method: "PUT", path: hooks + "/load/new", body: hookAround("schedule", repeat("null", 9*mb)), chunked: true},
	}
}

func run(ctx context.Context, binary string, clients, requests int, out io.Writer) error {
	srv, err := startServe(ctx, binary)
	if err != nil {
		return err
	}
	defer srv.Stop()
	client := &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: clients}}
	defer client.CloseIdleConnections()

	// The hook the trigger loads fire: its triggerSchema wants strings.
	hook := `{"metadata":{"name":"n","description":"d","owner":"a@example.com"},"task":{"provisionerId":"p","workerType":"w","payload":{},` +
		`"metadata":{"name":"n","description":"d","owner":"a@example.com","source":"https://example.com"}},` +
		`"triggerSchema":{"type":"object","properties":{"items":{"type":"array","items":{"type":"string"}}}}}`
	if code, body, err := send(ctx, client, srv.Base, load{method: "PUT", path: "/api/hooks/v1/hooks/load/typed", body: []byte(hook)}); err != nil || code != 200 {
		return fmt.Errorf("create the hook: %d %v %.300s", code, err, body)
	}
	_, tokenBody, err := send(ctx, client, srv.Base, load{method: "GET", path: "/api/hooks/v1/hooks/load/typed/token"})
	if err != nil {
		return err
	}
	var tok struct{ Token string }
	if err := json.Unmarshal(tokenBody, &tok); err != nil {
		return fmt.Errorf("the trigger token: %w: %.300s", err, tokenBody)
	}
	kinds := loads(tok.Token)
	before := srv.Memory()

	var peakAnon atomic.Int64
	sampled := make(chan struct{})
	sampleCtx, stopSampling := context.WithCancel(ctx)
	go func() {
		defer close(sampled)
		for sampleCtx.Err() == nil {
			if m := srv.Memory(); m.Anon > peakAnon.Load() {
				peakAnon.Store(m.Anon)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()

	type tally struct {
		byStatus map[string]int
		worst    time.Duration
	}
	var mu sync.Mutex
	results := make([]tally, len(kinds))
	for i := range results {
		results[i].byStatus = map[string]int{}
	}
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= requests || ctx.Err() != nil {
					return
				}
				k := i % len(kinds)
				t0 := time.Now()
				code, _, err := send(ctx, client, srv.Base, kinds[k])
				took := time.Since(t0)
				status := strconv.Itoa(code)
				if err != nil {
					status = "error"
				}
				mu.Lock()
				results[k].byStatus[status]++
				results[k].worst = max(results[k].worst, took)
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	stopSampling()
	<-sampled
	after := srv.Memory()
	alive := srv.Ping() == nil

	fmt.Fprintf(out, "hookline serve (%s): %d requests from %d clients in %.1f s; load %s\n", binary, min(requests, int(next.Load())), clients, elapsed.Seconds(), servechild.LoadAvg())
	for i, k := range kinds {
		var parts []string
		for s, n := range results[i].byStatus {
			parts = append(parts, fmt.Sprintf("%s×%d", s, n))
		}
		sort.Strings(parts)
		fmt.Fprintf(out, "  %-45s %-28s slowest %.2f s\n", k.name, strings.Join(parts, " "), results[i].worst.Seconds())
	}
	fmt.Fprintf(out, "VmHWM %.0f MB (before the load %.0f MB); RssAnon peak sampled %.0f MB, at the end %.0f MB; alive after: %v\n",
		mb(after.HWM), mb(before.HWM), mb(max(peakAnon.Load(), after.Anon)), mb(after.Anon), alive)
	if ctx.Err() != nil {
		return fmt.Errorf("cut short after %.0f s: %w", elapsed.Seconds(), ctx.Err())
	}
	return nil
}

func mb(kb int64) float64 { return float64(kb) / 1024 }

func send(ctx context.Context, client *http.Client, base string, l load) (int, []byte, error) {
	var body io.Reader
	if l.body != nil {
		body = bytes.NewReader(l.body)
		if l.chunked {
			body = io.MultiReader(body) // hides the length: sent chunked
		}
	}
	req, err := http.NewRequestWithContext(ctx, l.method, base+l.path, body)
	if err != nil {
		return 0, nil, err
	}
	if l.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(io.LimitReader(res.Body, 4<<20))
	return res.StatusCode, data, err
}

// startServe starts the server: loopback only, anonymous callers may
// write, the log at warn.
func startServe(ctx context.Context, binary string) (*servechild.Child, error) {
	if _, err := os.Stat(binary); err != nil {
		return nil, fmt.Errorf("hookline binary: %w (make build, or -hookline)", err)
	}
	return servechild.Start(ctx, servechild.Options{Binary: binary, Prefix: "bodyload-", Env: []string{"HOOKLINE_LOG_LEVEL=warn",
		`HOOKLINE_CLIENTS={"anonymousScopes":["hooks:*","assume:hook-id:*","queue:*","hookline:*"]}`}})
}
