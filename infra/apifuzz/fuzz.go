package apifuzz

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/shared/auth"
)

// Options configure a run against one store.
type Options struct {
	// Binary is the hookline binary to run.
	Binary string
	// Store names the store ("embedded" or "dynamodb"), for the known
	// issues and the report.
	Store string
	// NewEnv returns the environment of a fresh, empty store for each
	// server the run starts (a new DynamoDB table); nil adds nothing (the
	// embedded store in the server's fresh data directory).
	NewEnv func() ([]string, error)
	// Dir holds the servers' data directories.
	Dir string
	// Seed selects the requests (Generate).
	Seed uint64
	// Requests is how many requests to send (0, 1, ..., Requests-1);
	// Duration bounds the time they may take (0: no bound).
	Requests int
	Duration time.Duration
	// Only, when set, are the exact requests to send instead (a failure's
	// reproduction names them).
	Only []Step
	// Timeout bounds each request (default 60 s); Slow is how long an
	// answer may take before it is a failure (default 5 s).
	Timeout, Slow time.Duration
	// MinimizeFor bounds the search for a shorter reproduction of a
	// failure (0: none).
	MinimizeFor time.Duration
	// Known are the known issues (default Known); Limits bound the
	// generator while they are open (default knownLimits).
	Known  []KnownIssue
	Limits *Limits
	// KeepLogs, when set, is a directory where the server's log is copied
	// when the run fails.
	KeepLogs string
	// Out receives progress lines and the report; nil discards them.
	Out io.Writer
}

// Step is one request of a run: its index and, when not -1, the size it
// is made with (Request.Shrink).
type Step struct{ Index, Size int }

func (s Step) String() string {
	if s.Size >= 0 {
		return fmt.Sprintf("%d@%d", s.Index, s.Size)
	}
	return strconv.Itoa(s.Index)
}

// ParseSteps parses "0-9,17,42@1000" (index, a range of them, or
// index@size).
func ParseSteps(s string) ([]Step, error) {
	var out []Step
	for f := range strings.SplitSeq(s, ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		if lo, hi, ok := strings.Cut(f, "-"); ok {
			a, err1 := strconv.Atoi(lo)
			b, err2 := strconv.Atoi(hi)
			if err1 != nil || err2 != nil || a < 0 || b < a {
				return nil, fmt.Errorf("%q is not a range of request indices", f)
			}
			for i := a; i <= b; i++ {
				out = append(out, Step{Index: i, Size: -1})
			}
			continue
		}
		idx, size, hasSize := strings.Cut(f, "@")
		st := Step{Size: -1}
		var err error
		if st.Index, err = strconv.Atoi(idx); err != nil || st.Index < 0 {
			return nil, fmt.Errorf("%q is not a request index", idx)
		}
		if hasSize {
			if st.Size, err = strconv.Atoi(size); err != nil || st.Size < 0 {
				return nil, fmt.Errorf("%q is not a size", size)
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// Result is what a run found.
type Result struct {
	Store    string
	Sent     int // fuzz requests (the checks' reads are not counted)
	Checks   int // reads made by the checks
	ByStatus map[int]int
	// FiveXX counts 5xx answers, known issues' included, of fuzz requests
	// and checks alike.
	FiveXX int
	// Shed counts 503s of load shedding (loadShed), which are no
	// failure.
	Shed    int
	Known   map[string]int // by issue item
	PeakRSS int64          // bytes (VmHWM)
	Elapsed time.Duration
	Slowest []Timing
	// Failures are the unknown failures (the run stops at the first).
	Failures []Failure
	// Repro is the (minimized) reproduction of the first failure.
	Repro string

	// accepted are the writes the server accepted: what the state
	// before a failure is made of, which minimize tries first.
	accepted []Step
}

// Timing is how long one request took.
type Timing struct {
	Request string
	Status  int
	Elapsed time.Duration
}

// Failure is one broken assertion.
type Failure struct {
	Step    Step
	Kind    string // "5xx", "no answer", "slow", "stored", "dead", "rss"
	Route   string
	Detail  string
	Request string
}

func (f Failure) String() string {
	return fmt.Sprintf("%s on %s (request %s)\n  %s\n  %s", f.Kind, f.Route, f.Step, f.Request, f.Detail)
}

// Run sends the requests to a fresh server and checks every answer.
func Run(ctx context.Context, opts Options) (*Result, error) {
	opts = withDefaults(opts)
	steps := opts.Only
	if steps == nil {
		for i := range opts.Requests {
			steps = append(steps, Step{Index: i, Size: -1})
		}
	}
	res := &Result{Store: opts.Store, ByStatus: map[int]int{}, Known: map[string]int{}}
	start := time.Now()
	r, err := newRunner(ctx, opts, res)
	if err != nil {
		return nil, err
	}
	var deadline time.Time
	if opts.Duration > 0 {
		deadline = start.Add(opts.Duration)
	}
	var sent []Step
	for n, st := range steps {
		if !deadline.IsZero() && time.Now().After(deadline) {
			logf(opts.Out, "%s: the run's %v are up after %d of %d requests", opts.Store, opts.Duration, n, len(steps))
			break
		}
		if ctx.Err() != nil {
			break
		}
		if n > 0 && n%100 == 0 {
			if f := r.ensureFixtures(ctx, st); f != nil {
				res.Failures = append(res.Failures, *f)
				break
			}
		}
		if n > 0 && n%500 == 0 {
			logf(opts.Out, "%s: %d requests, %d 5xx (%d known), %v", opts.Store, n, res.FiveXX, sum(res.Known), time.Since(start).Round(time.Second))
		}
		sent = append(sent, st)
		if f := r.step(ctx, st); f != nil {
			res.Failures = append(res.Failures, *f)
			break
		}
	}
	if len(res.Failures) == 0 {
		if err := r.srv.Ping(); err != nil {
			res.Failures = append(res.Failures, Failure{Kind: "dead", Route: "ping", Detail: fmt.Sprintf("the server does not answer ping after the run: %v\n%s", err, r.srv.Tail(20))})
		}
	}
	res.PeakRSS = r.srv.peakRSS()
	if len(res.Failures) > 0 && opts.KeepLogs != "" {
		if path, err := r.srv.keepLog(opts.KeepLogs, opts.Store); err != nil {
			logf(opts.Out, "%s: keep serve's log: %v", opts.Store, err)
		} else {
			logf(opts.Out, "%s: serve's log is kept in %s", opts.Store, path)
		}
	}
	r.srv.Stop()
	res.Elapsed = time.Since(start)
	if res.PeakRSS > maxRSS {
		if k := knownRSS(opts.Known, opts.Store); k != nil {
			res.Known[k.Item]++
		} else if len(res.Failures) == 0 {
			res.Failures = append(res.Failures, Failure{Kind: "rss", Detail: fmt.Sprintf("peak RSS %d MB is over %d MB", res.PeakRSS>>20, maxRSS>>20)})
		}
	}
	sort.Slice(res.Slowest, func(i, j int) bool { return res.Slowest[i].Elapsed > res.Slowest[j].Elapsed })
	if len(res.Failures) > 0 && res.Failures[0].Kind != "rss" && len(sent) > 0 {
		res.Repro = minimize(ctx, opts, sent, res.accepted, res.Failures[0])
	}
	return res, nil
}

func withDefaults(o Options) Options {
	if o.Timeout <= 0 {
		o.Timeout = 60 * time.Second
	}
	if o.Slow <= 0 {
		o.Slow = 5 * time.Second
	}
	if o.Known == nil {
		o.Known = Known
	}
	if o.Limits == nil {
		l := knownLimits
		o.Limits = &l
	}
	if o.Out == nil {
		o.Out = io.Discard
	}
	return o
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func logf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, "apifuzz: "+format+"\n", args...)
}

// runner is one server and what the run knows of it.
type runner struct {
	opts Options
	res  *Result
	srv  *server
	c    *client
	// token is fz/h0's trigger token; decision the id of one of its
	// decisions.
	token, decision string
	// snaps are the last reads of a target ("group\x00hook"), valid
	// until a request changes something.
	snaps map[string]snapshot
	// group is the fixtures' group: fixtureGroup, until a known issue
	// makes a fixture unreadable (then fz-1, fz-2, ...: a hook that
	// cannot be read cannot be removed either, and its group cannot
	// be listed). groups counts them.
	group  string
	groups int
	// suspect is set when a known issue answered 5xx: the fixtures are
	// checked before the next request.
	suspect bool
}

// newGroup moves the fixtures to a fresh group.
func (r *runner) newGroup(ctx context.Context, st Step) *Failure {
	r.groups++
	if r.groups > 50 {
		return &Failure{Step: st, Kind: "fixtures", Route: "newGroup", Detail: "known issues made the fixtures unreadable 50 times"}
	}
	r.group = fmt.Sprintf("%s-%d", fixtureGroup, r.groups)
	clear(r.snaps)
	logf(r.opts.Out, "%s: request %s: a known issue made a fixture unreadable; the fixtures move to group %s", r.opts.Store, st, r.group)
	if f := r.ensureFixtures(ctx, st); f != nil {
		return f
	}
	return r.setupGroup(ctx, st)
}

// rebase moves a generated request's fixture group to the current one.
func (r *runner) rebase(req Request) Request {
	if r.group == fixtureGroup {
		return req
	}
	if req.Group == fixtureGroup {
		req.Group = r.group
	}
	path, query, hasQuery := strings.Cut(req.Target, "?")
	segs := strings.Split(path, "/")
	for i, s := range segs {
		if s == fixtureGroup {
			segs[i] = r.group
		}
	}
	req.Target = strings.Join(segs, "/")
	if hasQuery {
		req.Target += "?" + query
	}
	return req
}

func newRunner(ctx context.Context, opts Options, res *Result) (*runner, error) {
	var env []string
	if opts.NewEnv != nil {
		var err error
		if env, err = opts.NewEnv(); err != nil {
			return nil, err
		}
	}
	srv, err := startServer(ctx, opts.Binary, opts.Dir, env)
	if err != nil {
		return nil, err
	}
	r := &runner{opts: opts, res: res, srv: srv, snaps: map[string]snapshot{}, group: fixtureGroup,
		c: &client{addr: srv.Addr, creds: auth.Credentials{ClientID: clientID, AccessToken: accessToken}, timeout: opts.Timeout}}
	if err := r.setup(ctx); err != nil {
		srv.Stop()
		return nil, fmt.Errorf("set up the fixtures: %w\n%s", err, srv.Tail(20))
	}
	return r, nil
}

// call is a signed request of the checks and the set-up, judged as a
// fuzz request is (a known issue's 5xx is counted and let through). It
// answers the status and body, or the failure.
func (r *runner) call(ctx context.Context, st Step, route, method, target string, body []byte) (int, []byte, *Failure) {
	req := Request{Route: route, Method: method, Target: target, Auth: AuthHawk, Body: body, Size: -1}
	if body != nil {
		req.Header = []Header{{"Content-Type", "application/json"}}
	}
	resp, err := r.c.send(ctx, req, r.token, r.decision)
	r.res.Checks++
	if f := r.judge(st, req, route, resp, err, true); f != nil {
		return 0, nil, f
	}
	return resp.Status, resp.Body, nil
}

// setupStep marks the set-up's failures.
var setupStep = Step{Index: -1, Size: -1}

// setup creates the fixtures: fz/h0 (its token and one decision known),
// fz/h1 with GitHub-signed webhooks, and fz/n/s.
func (r *runner) setup(ctx context.Context) error {
	if f := r.ensureFixtures(ctx, setupStep); f != nil {
		return errors.New(f.String())
	}
	if f := r.setupGroup(ctx, setupStep); f != nil {
		return errors.New(f.String())
	}
	return nil
}

// setupGroup sets the fixtures of the current group up, once created.
func (r *runner) setupGroup(ctx context.Context, st Step) *Failure {
	for _, c := range []struct{ route, method, target, body string }{
		{"updateHookSettings", "PUT", "/api/hookline/v1/hooks/" + r.group + "/h1/settings", `{"webhook":{"scheme":"github","secrets":["fuzz-webhook-secret-0123"]}}`},
		{"triggerHook", "POST", "/api/hooks/v1/hooks/" + r.group + "/h0/trigger", `{"n":1}`},
	} {
		status, out, f := r.call(ctx, st, c.route, c.method, c.target, []byte(c.body))
		if f != nil {
			return f
		}
		if status != http.StatusOK {
			return &Failure{Step: st, Kind: "fixtures", Route: c.route, Detail: fmt.Sprintf("%s %s: %d %s", c.method, c.target, status, cut(out, 300))}
		}
	}
	return r.learn(ctx, st)
}

// ensureFixtures creates the fixture hooks that are missing (a fuzz
// request may have removed one).
func (r *runner) ensureFixtures(ctx context.Context, st Step) *Failure {
	for _, h := range []string{hookPlain, hookSigned, hookSlash} {
		target := "/api/hooks/v1/hooks/" + r.group + "/" + escapeID(h)
		status, _, f := r.call(ctx, st, "hook", "GET", target, nil)
		if f != nil {
			return f
		}
		if status == http.StatusOK && h == hookPlain {
			status, _, f = r.call(ctx, st, "listDecisions", "GET", "/api/hookline/v1/hooks/"+r.group+"/h0/decisions", nil)
			if f != nil {
				return f
			}
			if status == http.StatusOK {
				continue
			}
		}
		if status >= 500 {
			// A known issue made the fixture unreadable: a fresh group.
			return r.newGroup(ctx, st)
		}
		if status != http.StatusNotFound {
			continue
		}
		def := mustJSON(hookDef(h, []any{}, map[string]any{"n": map[string]any{"$eval": "payload.n"}}, map[string]any{}))
		status, out, f := r.call(ctx, st, "createHook", "PUT", target, def)
		if f != nil {
			return f
		}
		if status != http.StatusOK {
			return &Failure{Step: st, Kind: "fixtures", Route: "createHook", Detail: fmt.Sprintf("re-creating fixture %s answered %d %s", h, status, cut(out, 300))}
		}
		clear(r.snaps)
		if h == hookPlain {
			if f := r.learn(ctx, st); f != nil {
				return f
			}
		}
	}
	return nil
}

// learn reads fz/h0's trigger token and a decision id, when they can be
// read.
func (r *runner) learn(ctx context.Context, st Step) *Failure {
	status, out, f := r.call(ctx, st, "getTriggerToken", "GET", "/api/hooks/v1/hooks/"+r.group+"/h0/token", nil)
	if f != nil {
		return f
	}
	var tok struct{ Token string }
	if status == http.StatusOK && json.Unmarshal(out, &tok) == nil {
		r.token = tok.Token
	}
	status, out, f = r.call(ctx, st, "listDecisions", "GET", "/api/hookline/v1/hooks/"+r.group+"/h0/decisions?limit=1", nil)
	if f != nil {
		return f
	}
	var l struct{ Decisions []struct{ DecisionID string } }
	if status == http.StatusOK && json.Unmarshal(out, &l) == nil && len(l.Decisions) > 0 {
		r.decision = l.Decisions[0].DecisionID
	}
	return nil
}

// snapshot is what the checks read of a target: each read's status, and
// its body when it answered 200.
type snapshot map[string]string

// snapshot reads what a request aimed at group/hook could change. A 5xx
// of a read is checked as a fuzz request's would be.
func (r *runner) snapshot(ctx context.Context, st Step, group, hook string) (snapshot, *Failure) {
	key := group + "\x00" + hook
	if s, ok := r.snaps[key]; ok {
		return s, nil
	}
	reads := [][2]string{{"listHookGroups", "/api/hooks/v1/hooks"}, {"killSwitch", "/api/hookline/v1/pause"}}
	if group != "" {
		g := escapeID(group)
		reads = append(reads, [2]string{"listHooks", "/api/hooks/v1/hooks/" + g}, [2]string{"hookGroupPause", "/api/hookline/v1/hook-groups/" + g + "/pause"})
		if hook != "" {
			p := g + "/" + escapeID(hook)
			reads = append(reads,
				[2]string{"hook", "/api/hooks/v1/hooks/" + p},
				[2]string{"getTriggerToken", "/api/hooks/v1/hooks/" + p + "/token"},
				[2]string{"hookSettings", "/api/hookline/v1/hooks/" + p + "/settings"},
				[2]string{"hookPause", "/api/hookline/v1/hooks/" + p + "/pause"},
				[2]string{"listDecisions", "/api/hookline/v1/hooks/" + p + "/decisions?limit=20"})
		}
	}
	s := snapshot{}
	for _, rd := range reads {
		status, body, f := r.call(ctx, st, rd[0], "GET", rd[1], nil)
		if f != nil {
			return nil, f
		}
		v := strconv.Itoa(status)
		if status == http.StatusOK {
			v += " " + string(body)
			if rd[0] == "listDecisions" {
				v = "200 " + decisionIDs(body)
			}
		}
		s[rd[0]] = v
	}
	r.snaps[key] = s
	return s, nil
}

// decisionIDs lists the ids of a decisions page (their outcomes may be
// recorded later, by design).
func decisionIDs(body []byte) string {
	var l struct {
		Decisions         []struct{ DecisionID string }
		ContinuationToken string
	}
	if err := json.Unmarshal(body, &l); err != nil {
		return "undecodable: " + err.Error()
	}
	ids := make([]string, len(l.Decisions))
	for i, d := range l.Decisions {
		ids[i] = d.DecisionID
	}
	return strings.Join(ids, ",") + " next=" + l.ContinuationToken
}

// judge checks one answer (or the error in its place); it counts known
// issues and returns a failure for anything else that is wrong.
func (r *runner) judge(st Step, req Request, route string, resp Response, err error, check bool) *Failure {
	fail := func(kind, detail string) *Failure {
		return &Failure{Step: st, Kind: kind, Route: route, Detail: detail, Request: req.String()}
	}
	if err != nil {
		// A server that is dying may drop the connection a moment
		// before it exits.
		for wait := 0; wait < 20; wait++ {
			if exited, _ := r.srv.Exited(); exited {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if exited, werr := r.srv.Exited(); exited {
			return fail("dead", fmt.Sprintf("the server exited (%v) during the request: %v\n%s", werr, err, r.srv.crash(40)))
		}
		if k := match(r.opts.Known, r.opts.Store, req, route, 0, nil); k != nil {
			r.res.Known[k.Item]++
			return nil
		}
		return fail("no answer", err.Error())
	}
	if !check {
		r.res.ByStatus[resp.Status]++
	}
	if !check && (len(r.res.Slowest) < 5 || resp.Elapsed > r.res.Slowest[len(r.res.Slowest)-1].Elapsed) {
		r.res.Slowest = append(r.res.Slowest, Timing{Request: req.String(), Status: resp.Status, Elapsed: resp.Elapsed})
		sort.Slice(r.res.Slowest, func(i, j int) bool { return r.res.Slowest[i].Elapsed > r.res.Slowest[j].Elapsed })
		r.res.Slowest = r.res.Slowest[:min(len(r.res.Slowest), 5)]
	}
	if loadShed(resp) {
		r.res.Shed++
		return nil
	}
	var errLines []string
	if resp.Status >= 500 && !unsupportedEncoding(req, resp) {
		r.res.FiveXX++
		errLines = r.srv.newErrorLines()
		if k := match(r.opts.Known, r.opts.Store, req, route, resp.Status, errLines); k != nil {
			r.res.Known[k.Item]++
			r.suspect = true
			return nil
		}
		return fail("5xx", fmt.Sprintf("answered %d %s\nserver errors logged: %s", resp.Status, cut(resp.Body, 500), strings.Join(errLines, "\n")))
	}
	r.srv.newErrorLines() // errors that come with a 4xx are not the request's fault
	if resp.Elapsed > r.opts.Slow {
		if k := match(r.opts.Known, r.opts.Store, req, route, 0, nil); k != nil {
			r.res.Known[k.Item]++
			return nil
		}
		return fail("slow", fmt.Sprintf("answered %d after %v (more than %v)", resp.Status, resp.Elapsed.Round(time.Millisecond), r.opts.Slow))
	}
	return nil
}

// unsupportedEncoding reports whether resp is net/http's own 501 for a
// Transfer-Encoding other than chunked, which RFC 9112 (section 6.1)
// asks a server to answer so: it comes before Hookline sees the
// request, and it is the one 5xx the run allows.
func unsupportedEncoding(req Request, resp Response) bool {
	if resp.Status != http.StatusNotImplemented || !strings.Contains(string(resp.Body), "Unsupported transfer encoding") {
		return false
	}
	return slices.ContainsFunc(req.Header, func(h Header) bool { return strings.EqualFold(h.Name, "Transfer-Encoding") })
}

// loadShed reports whether resp is the documented answer of a server
// busy reading or decoding other bodies: 503 ServiceUnavailable with
// Retry-After (the body budgets of shared/httpapi). It is no failure; the
// run counts it.
func loadShed(resp Response) bool {
	return resp.Status == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") != "" &&
		strings.Contains(string(resp.Body), `"code":"ServiceUnavailable"`)
}

func cut(b []byte, n int) string {
	if len(b) > n {
		return fmt.Sprintf("%q…", b[:n])
	}
	return fmt.Sprintf("%q", b)
}

// mayRecord are the routes whose refusals are recorded by design: a
// refused fire is a decision, which the hook's decision log shows.
var mayRecord = map[string]bool{"triggerHook": true, "triggerHookWithToken": true, "triggerWebhook": true, "replayDecision": true, "backfillHook": true}

// step sends one request and checks it.
func (r *runner) step(ctx context.Context, st Step) *Failure {
	if r.suspect {
		r.suspect = false
		if f := r.ensureFixtures(ctx, st); f != nil {
			return f
		}
	}
	req := Generate(r.opts.Seed, st.Index, *r.opts.Limits)
	if st.Size >= 0 {
		req, _ = req.Shrink(st.Size)
	}
	req = r.rebase(req)
	var before snapshot
	if req.Write {
		var f *Failure
		if before, f = r.snapshot(ctx, st, req.Group, req.Hook); f != nil {
			return f
		}
	}
	resp, err := r.c.send(ctx, req, r.token, r.decision)
	r.res.Sent++
	if f := r.judge(st, req, req.Route, resp, err, false); f != nil {
		return f
	}
	if err != nil || !req.Write {
		return nil
	}
	// checkHook changes nothing even when it answers 200.
	refused := resp.Status >= 400 || req.Route == "checkHook" && resp.Status < 300
	if !refused {
		r.res.accepted = append(r.res.accepted, st)
		clear(r.snaps)
		if req.Group == r.group && req.Hook == hookPlain && resp.Status < 300 {
			// Its token may have changed, or the hook may be gone.
			if f := r.ensureFixtures(ctx, st); f != nil {
				return f
			}
			if f := r.learn(ctx, st); f != nil {
				return f
			}
		}
		return nil
	}
	delete(r.snaps, req.Group+"\x00"+req.Hook)
	after, f := r.snapshot(ctx, st, req.Group, req.Hook)
	if f != nil {
		return f
	}
	var diffs []string
	for _, k := range slices.Sorted(maps.Keys(before)) {
		if k == "listDecisions" && mayRecord[req.Route] {
			continue
		}
		if before[k] != after[k] {
			diffs = append(diffs, fmt.Sprintf("%s: before %s\n    after  %s", k, quoteCut(before[k], 300), quoteCut(after[k], 300)))
		}
	}
	if len(diffs) > 0 {
		return &Failure{Step: st, Kind: "stored", Route: req.Route, Request: req.String(),
			Detail: fmt.Sprintf("answered %d %s, but what it aims at changed:\n  %s", resp.Status, cut(resp.Body, 300), strings.Join(diffs, "\n  "))}
	}
	return nil
}
