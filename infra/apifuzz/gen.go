package apifuzz

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
)

// Auth is how a request is authenticated.
type Auth int

// The ways of authenticating a request. The Hawk ones are signed when the
// request is sent (a signature holds a timestamp and a nonce); the bad
// ones are wrong in the way their name says.
const (
	AuthNone          Auth = iota // no credentials: the anonymous scopes
	AuthHawk                      // a valid Hawk header, no payload hash (as Taskcluster's clients sign)
	AuthHawkPayload               // a valid Hawk header with the body's hash
	AuthHawkWrongKey              // signed with another access token
	AuthHawkStale                 // signed an hour ago
	AuthHawkWrongHash             // a payload hash of another body
	AuthHawkUnknown               // a client the server does not know
	AuthHawkOtherPath             // signed for another path
)

// Header is one raw header line: name and value are sent byte for byte.
type Header struct{ Name, Value string }

// Request is one generated request. Target, headers and body are sent as
// they are; "{token}" and "{decision}" in Target are replaced when it is
// sent by the current trigger token of the fixture hook fz/h0 and by the
// id of a decision the run has seen.
type Request struct {
	Index    int
	Category string
	// Route is the route the request aims at ("" when none), for the
	// checks and the known issues.
	Route  string
	Method string
	Target string
	Header []Header
	Body   []byte
	// ContentLength, when not 0, is the Content-Length sent instead of
	// the body's length (only ever larger than a limit, and answered
	// before the rest would be read).
	ContentLength int64
	Chunked       bool
	Auth          Auth
	// Write is set for requests that may change what is stored.
	Write bool
	// Group and Hook are the ids the request aims at when they are valid
	// ids (so they can be read back), else "".
	Group, Hook string
	// Size is the size parameter the generator chose (a depth, a length,
	// a count), or -1; Shrink makes the request again with a smaller one.
	Size int
	// SchemaItems marks a body of many items failing the input schema
	// (known issue 16.3: refused in quadratic time).
	SchemaItems int

	regen func(size int) Request
}

// Shrink returns the request made again with size n, and whether it has
// a size to shrink.
func (r Request) Shrink(n int) (Request, bool) {
	if r.regen == nil || r.Size <= 0 {
		return r, false
	}
	return r.regen(n), true
}

// String is a short description of the request, for reports.
func (r Request) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "#%d %s %s %s", r.Index, r.Category, quoteCut(r.Method, 40), quoteCut(r.Target, 160))
	if r.Auth != AuthNone {
		fmt.Fprintf(&b, " auth=%s", r.Auth)
	}
	for _, h := range r.Header {
		fmt.Fprintf(&b, " [%s: %s]", quoteCut(h.Name, 40), quoteCut(h.Value, 80))
	}
	if r.ContentLength != 0 {
		fmt.Fprintf(&b, " content-length=%d", r.ContentLength)
	}
	if r.Chunked {
		b.WriteString(" chunked")
	}
	if len(r.Body) > 0 {
		fmt.Fprintf(&b, " body(%d bytes)=%s", len(r.Body), quoteCut(string(r.Body), 160))
	}
	if r.Size >= 0 {
		fmt.Fprintf(&b, " size=%d", r.Size)
	}
	return b.String()
}

func (a Auth) String() string {
	return [...]string{"none", "hawk", "hawk+payload", "hawk-wrong-key", "hawk-stale", "hawk-wrong-hash", "hawk-unknown-client", "hawk-other-path"}[a]
}

// quoteCut quotes s (Go syntax, so invalid UTF-8 and NUL show) and cuts
// it to about n characters.
func quoteCut(s string, n int) string {
	if len(s) > n {
		return fmt.Sprintf("%q…(%d bytes)", s[:n], len(s))
	}
	return fmt.Sprintf("%q", s)
}

// The fixtures every run creates first (Fixtures): a hook with a token
// the token routes use, one with a signed-webhook scheme, and one whose id
// holds a slash.
const (
	fixtureGroup = "fz"
	hookPlain    = "h0"
	hookSigned   = "h1"
	hookSlash    = "n/s"
	// bigGroup holds the hooks of the size-limit requests.
	bigGroup = "fzbig"
)

// routes the generator aims at. {g}, {h} are the group and hook ids (path
// escaped), {token} and {decision} are filled in when sent.
var routes = []route{
	{"ping", "GET", "/api/hooks/v1/ping", bodyNone, false},
	{"listHookGroups", "GET", "/api/hooks/v1/hooks", bodyNone, false},
	{"listHooks", "GET", "/api/hooks/v1/hooks/{g}", bodyNone, false},
	{"hook", "GET", "/api/hooks/v1/hooks/{g}/{h}", bodyNone, false},
	{"createHook", "PUT", "/api/hooks/v1/hooks/{g}/{h}", bodyHook, true},
	{"updateHook", "POST", "/api/hooks/v1/hooks/{g}/{h}", bodyHook, true},
	{"removeHook", "DELETE", "/api/hooks/v1/hooks/{g}/{h}", bodyNone, true},
	{"getHookStatus", "GET", "/api/hooks/v1/hooks/{g}/{h}/status", bodyNone, false},
	{"triggerHook", "POST", "/api/hooks/v1/hooks/{g}/{h}/trigger", bodyTrigger, true},
	{"getTriggerToken", "GET", "/api/hooks/v1/hooks/{g}/{h}/token", bodyNone, false},
	{"resetTriggerToken", "POST", "/api/hooks/v1/hooks/{g}/{h}/token", bodyNone, true},
	{"listLastFires", "GET", "/api/hooks/v1/hooks/{g}/{h}/last-fires", bodyNone, false},
	{"triggerHookWithToken", "POST", "/api/hooks/v1/hooks/{g}/{h}/trigger/{token}", bodyTrigger, true},
	{"hookSettings", "GET", "/api/hookline/v1/hooks/{g}/{h}/settings", bodyNone, false},
	{"updateHookSettings", "PUT", "/api/hookline/v1/hooks/{g}/{h}/settings", bodySettings, true},
	{"triggerWebhook", "POST", "/api/hookline/v1/hooks/{g}/{h}/webhook", bodyTrigger, true},
	{"hookPause", "GET", "/api/hookline/v1/hooks/{g}/{h}/pause", bodyNone, false},
	{"pauseHook", "PUT", "/api/hookline/v1/hooks/{g}/{h}/pause", bodyPause, true},
	{"resumeHook", "DELETE", "/api/hookline/v1/hooks/{g}/{h}/pause", bodyNone, true},
	{"hookGroupPause", "GET", "/api/hookline/v1/hook-groups/{g}/pause", bodyNone, false},
	{"pauseHookGroup", "PUT", "/api/hookline/v1/hook-groups/{g}/pause", bodyPause, true},
	{"resumeHookGroup", "DELETE", "/api/hookline/v1/hook-groups/{g}/pause", bodyNone, true},
	{"killSwitch", "GET", "/api/hookline/v1/pause", bodyNone, false},
	{"listDecisions", "GET", "/api/hookline/v1/hooks/{g}/{h}/decisions", bodyNone, false},
	{"decision", "GET", "/api/hookline/v1/hooks/{g}/{h}/decisions/{decision}", bodyNone, false},
	{"replayDecision", "POST", "/api/hookline/v1/hooks/{g}/{h}/decisions/{decision}/replay", bodyNone, true},
	{"checkHook", "POST", "/api/hookline/v1/hooks/{g}/{h}/check", bodyCheck, true},
	{"hookSchedule", "GET", "/api/hookline/v1/hooks/{g}/{h}/schedule", bodyNone, false},
	{"backfillHook", "POST", "/api/hookline/v1/hooks/{g}/{h}/backfill", bodyBackfill, true},
	{"hookOutcomeStatus", "GET", "/api/hookline/v1/hooks/{g}/{h}/status", bodyNone, false},
	{"listNotifications", "GET", "/api/hookline/v1/hooks/{g}/{h}/notifications", bodyNone, false},
	{"whoami", "GET", "/api/hookline/v1/whoami", bodyNone, false},
}

// The engage and release of the kill switch are left out: engaged, it
// pauses every fire, and the fuzz would then test little but pauses.

type bodyKind int

const (
	bodyNone bodyKind = iota
	bodyHook
	bodyTrigger
	bodySettings
	bodyPause
	bodyCheck
	bodyBackfill
)

type route struct {
	name, method, path string
	body               bodyKind
	write              bool
}

// Body size limits the generator sends bodies around: the routes' (64 KB
// for bodies that are small or ignored, 512 KB for settings, 1 MB for
// fires and webhooks, 2 MB for hooks, 10 MB the most of any), the
// stores' records (256 KB settings, 320 KB decisions, 1 MB hooks: see
// shared/store/limits.go) and DynamoDB's item size (400 KB).
var sizeLimits = []int{64 << 10, 256 << 10, 320 << 10, 400 << 10, 512 << 10, 1 << 20, 2 << 20, 10 << 20}

// routeLimit is the largest body a route takes: 1 MB on the webhook
// route, 10 MB on the others.
func routeLimit(route string) int {
	if route == "triggerWebhook" {
		return 1 << 20
	}
	return 10 << 20
}

// category is a kind of hostile request, with its weight.
type category struct {
	name   string
	weight int
	gen    func(g *gen) Request
}

var categories = []category{
	{"valid", 16, (*gen).valid},
	{"malformed-json", 10, (*gen).malformedJSON},
	{"nesting", 8, (*gen).nesting},
	{"size-limits", 5, (*gen).sizes},
	{"invalid-utf8", 10, (*gen).invalidUTF8},
	{"odd-paths", 12, (*gen).oddPaths},
	{"methods-content-types", 10, (*gen).methods},
	{"bad-hawk", 10, (*gen).badHawk},
	{"hostile-settings", 12, (*gen).hostileSettings},
	{"hostile-hooks", 7, (*gen).hostileHooks},
}

// Limits is what the generator must keep within while a known issue is
// open, so that a run stays bounded in time.
type Limits struct {
	// MaxSchemaItems caps the number of items failing the input schema in
	// one body (known issue 16.3: their refusal takes quadratic time);
	// 0 means no cap.
	MaxSchemaItems int
}

// Generate returns request i of seed. It depends on nothing else.
func Generate(seed uint64, i int, lim Limits) Request {
	total := 0
	for _, c := range categories {
		total += c.weight
	}
	pick := rand.New(rand.NewPCG(seed, uint64(i))).IntN(total)
	for _, c := range categories {
		if pick < c.weight {
			return build(seed, i, lim, c, -1)
		}
		pick -= c.weight
	}
	panic("unreachable")
}

func build(seed uint64, i int, lim Limits, c category, size int) Request {
	g := &gen{r: rand.New(rand.NewPCG(seed^0x9e3779b97f4a7c15, uint64(i))), override: size, size: -1, lim: lim}
	g.r.Uint64() // the category pick's draw, so both sequences differ
	req := c.gen(g)
	req.Index, req.Category, req.Size = i, c.name, g.size
	req.regen = func(n int) Request { return build(seed, i, lim, c, n) }
	if req.Method == "" {
		req.Method = "GET"
	}
	return req
}

// gen draws one request's choices.
type gen struct {
	r        *rand.Rand
	override int // the size to use instead of the drawn one, or -1
	size     int // the size drawn (or overridden), or -1
	lim      Limits
}

func (g *gen) intn(n int) int         { return g.r.IntN(n) }
func (g *gen) chance(p float64) bool  { return g.r.Float64() < p }
func pickOf[T any](g *gen, xs ...T) T { return xs[g.r.IntN(len(xs))] }
func (g *gen) between(lo, hi int) int { return lo + g.r.IntN(hi-lo+1) }
func (g *gen) logBetween(lo, hi int) int {
	v := math.Exp(math.Log(float64(lo)) + g.r.Float64()*(math.Log(float64(hi))-math.Log(float64(lo))))
	return min(max(int(v), lo), hi)
}

// sized draws the request's size parameter, log-uniform in [lo, hi],
// unless Shrink chose it.
func (g *gen) sized(lo, hi int) int {
	n := g.logBetween(lo, hi)
	if g.override >= 0 {
		n = g.override
	}
	g.size = n
	return n
}

// capped applies Limits.MaxSchemaItems to a number of items.
func (g *gen) capped(n int) int {
	if g.lim.MaxSchemaItems > 0 && n > g.lim.MaxSchemaItems {
		n = g.lim.MaxSchemaItems
		g.size = n
	}
	return n
}

// routeWith picks a route, among those whose body is one of kinds when
// any are given.
func (g *gen) routeWith(kinds ...bodyKind) route {
	var rs []route
	for _, r := range routes {
		if len(kinds) == 0 {
			rs = append(rs, r)
			continue
		}
		for _, k := range kinds {
			if r.body == k {
				rs = append(rs, r)
			}
		}
	}
	return pickOf(g, rs...)
}

// target picks ids for a route: mostly the fixtures, sometimes a fresh id
// the run may create.
func (g *gen) target(ro route) (group, hook string) {
	group = fixtureGroup
	switch g.intn(10) {
	case 0, 1, 2:
		hook = hookPlain
	case 3, 4:
		hook = hookSigned
	case 5:
		hook = hookSlash
	case 6:
		group = fmt.Sprintf("g%d", g.intn(3))
		hook = fmt.Sprintf("x%d", g.intn(4))
	default:
		hook = fmt.Sprintf("x%d", g.intn(8))
	}
	if ro.name == "triggerHookWithToken" || (ro.name == "triggerWebhook" && g.chance(0.5)) {
		hook = hookPlain
	}
	return group, hook
}

// request builds a request of ro for valid ids group and hook.
func (g *gen) request(ro route, group, hook string) Request {
	req := Request{Route: ro.name, Method: ro.method, Write: ro.write, Group: group, Hook: hook}
	req.Target = fill(ro.path, escapeID(group), escapeID(hook))
	switch ro.name {
	case "listDecisions", "listLastFires", "listNotifications":
		if g.chance(0.3) {
			req.Target += "?limit=" + pickOf(g, "1", "5", "1000")
		}
	case "hookSchedule":
		if g.chance(0.3) {
			req.Target += "?count=" + pickOf(g, "1", "10", "100")
		}
	case "triggerWebhook":
		req.Header = append(req.Header, Header{"Authorization", "Bearer {token}"})
	}
	if g.chance(0.3) && ro.name != "triggerWebhook" {
		req.Auth = pickOf(g, AuthHawk, AuthHawk, AuthHawkPayload)
	}
	return req
}

func fill(path, group, hook string) string {
	return strings.NewReplacer("{g}", group, "{h}", hook).Replace(path)
}

// escapeID escapes an id as a path segment (a slash in a hookId as %2F).
func escapeID(id string) string { return strings.ReplaceAll(id, "/", "%2F") }

func withJSON(req Request, body []byte) Request {
	req.Body = body
	req.Header = append(req.Header, Header{"Content-Type", "application/json"})
	return req
}

// valid: requests a correct client sends, so that the hostile ones find
// hooks, settings, tokens, pauses and decisions to damage.
func (g *gen) valid() Request {
	ro := g.routeWith()
	group, hook := g.target(ro)
	req := g.request(ro, group, hook)
	switch ro.body {
	case bodyHook:
		return withJSON(req, validHook(g, hook))
	case bodyTrigger:
		return withJSON(req, mustJSON(map[string]any{"n": g.intn(1000), "s": pickOf(g, "a", "é", "日本", "")}))
	case bodySettings:
		return withJSON(req, mustJSON(validSettings(g)))
	case bodyPause:
		return withJSON(req, mustJSON(map[string]any{"reason": "fuzz"}))
	case bodyCheck:
		return withJSON(req, mustJSON(map[string]any{"firedBy": pickOf(g, "triggerHook", "schedule", "pulseMessage"), "payload": map[string]any{"n": 1}}))
	case bodyBackfill:
		return withJSON(req, mustJSON(map[string]any{"from": "2026-01-01T00:00:00Z", "to": pickOf(g, "2026-01-01T01:00:00Z", "2026-01-01T00:10:00Z"), "max": g.between(1, 20)}))
	}
	return req
}

// validHook is a hook definition that fires a task from its payload.
func validHook(g *gen, name string) []byte {
	return mustJSON(hookDef(name, []any{}, map[string]any{"n": map[string]any{"$eval": "payload.n"}}, map[string]any{}))
}

func hookDef(name string, schedule any, payload any, triggerSchema any) map[string]any {
	return map[string]any{
		"metadata": map[string]any{"name": name, "description": "fuzz", "owner": "fuzz@example.com"},
		"schedule": schedule,
		"task": map[string]any{
			"provisionerId": "p", "workerType": "w", "payload": payload,
			"metadata": map[string]any{"name": "t", "description": "t", "owner": "fuzz@example.com", "source": "https://example.com"},
		},
		"triggerSchema": triggerSchema,
	}
}

func validSettings(g *gen) map[string]any {
	s := map[string]any{}
	if g.chance(0.4) {
		s["filters"] = []any{pickOf(g, "true", "payload.n > 3", "firedBy == 'triggerHook'")}
	}
	if g.chance(0.3) {
		s["schedule"] = map[string]any{"timeZone": pickOf(g, "UTC", "Europe/Paris"), "cron": []any{"0 0 * * *"}, "catchUp": "none"}
	}
	if g.chance(0.3) {
		s["history"] = map[string]any{"maxRecords": g.between(1, 500)}
	}
	if g.chance(0.2) {
		s["notify"] = map[string]any{"targets": []any{map[string]any{"type": "email", "address": "fuzz@example.com", "events": []any{"fire-error"}}}}
	}
	if g.chance(0.2) {
		s["webhook"] = map[string]any{"scheme": "bearer"}
	}
	return s
}

func mustJSON(v any) []byte {
	data, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return data
}

// aBodyRoute picks a route that takes a body, with valid ids.
func (g *gen) aBodyRoute() Request {
	ro := g.routeWith(bodyHook, bodyTrigger, bodySettings, bodyPause, bodyCheck, bodyBackfill)
	group, hook := g.target(ro)
	return g.request(ro, group, hook)
}

// malformedJSON: bodies that are not JSON, or not one JSON object.
func (g *gen) malformedJSON() Request {
	req := g.aBodyRoute()
	valid := string(validHook(g, "m"))
	bodies := []string{
		"{", "[", "}", `{"a":}`, `{"a" 1}`, `{"a":1,}`, `{,}`, `{"a":1}{"b":2}`, `{"a":1} x`, "{}{}",
		`{"a":NaN}`, `{"a":Infinity}`, `{"a":1e999999}`, `{"a":-0}`, `{"a":123456789012345678901234567890e-400}`,
		`{"a":"\ud800"}`, `{"a":"\x"}`, `{"a":"\u12"}`, `{'a':1}`, `{"a":1 // c` + "\n}", `/* c */ {}`,
		"\xef\xbb\xbf{}", "null", "[]", `"str"`, "1", "true", `{"a":1,"a":2}`, "\x00", "{\x00}",
		valid[:len(valid)/2], valid + "}", strings.Replace(valid, ":", "=", 1), strings.Repeat(" ", 4096) + "{",
		"{" + strings.Repeat(`"a":1,`, 1000), `{"a":"` + strings.Repeat("x", 100000),
	}
	body := pickOf(g, bodies...)
	if g.chance(0.2) {
		// Random bytes.
		b := make([]byte, g.logBetween(1, 4096))
		for i := range b {
			b[i] = byte(g.r.UintN(256))
		}
		body = string(b)
	}
	return withJSON(req, []byte(body))
}

// nesting: values nested from 100 to 1,000,000 levels, alone or inside a
// body the route would otherwise accept.
func (g *gen) nesting() Request {
	req := g.aBodyRoute()
	depth := g.sized(100, 1_000_000)
	if g.override < 0 && g.chance(0.4) {
		// Around the limits: JSON-e's 512 levels, encoding/json's 10,000
		// (a value that just fits may not fit once stored inside a
		// record).
		depth = pickOf(g, 511, 512, 513, 9_996, 9_997, 9_998, 9_999, 10_000, 10_001)
		g.size = depth
	}
	open, close := "[", "]"
	if g.chance(0.5) {
		open, close = `{"a":`, "}"
	}
	var deep bytes.Buffer
	deep.Grow(depth * (len(open) + len(close)))
	for range depth {
		deep.WriteString(open)
	}
	leaf := pickOf(g, "1", "null", `"x"`, "{}")
	deep.WriteString(leaf)
	if g.chance(0.9) {
		for range depth {
			deep.WriteString(close)
		}
	}
	var body []byte
	switch g.intn(4) {
	case 0:
		body = deep.Bytes()
	default:
		// Inside an envelope the route's schema lets through.
		key := "payload"
		switch req.Route {
		case "triggerHook", "triggerHookWithToken", "triggerWebhook":
			key = "x"
		case "createHook", "updateHook":
			var def bytes.Buffer
			def.WriteString(`{"metadata":{"name":"n","description":"d","owner":"o@example.com"},"schedule":[],"triggerSchema":{},"task":{"provisionerId":"p","workerType":"w","metadata":{"name":"t","description":"t","owner":"o@example.com","source":"https://example.com"},"payload":`)
			def.Write(deep.Bytes())
			def.WriteString("}}")
			return withJSON(req, def.Bytes())
		case "updateHookSettings":
			key = pickOf(g, "filters", "schedule", "notify")
		}
		var b bytes.Buffer
		b.WriteString(`{"` + key + `":`)
		b.Write(deep.Bytes())
		b.WriteString("}")
		body = b.Bytes()
	}
	return withJSON(req, body)
}

// sizes: bodies of a limit's size, one byte less or one more, valid JSON
// where they fit, and a Content-Length over a limit.
func (g *gen) sizes() Request {
	req := g.aBodyRoute()
	limit := pickOf(g, sizeLimits...)
	// A byte either side, and a few KB for what a stored record adds
	// to the body.
	n := limit + pickOf(g, -1, 0, 1, -1024, 1024, -4096)
	if g.override >= 0 {
		n = g.override
	}
	g.size = n
	switch g.intn(6) {
	case 0:
		// A Content-Length over the route's limit with a small body: it
		// must be refused without waiting for the rest. (One under the
		// limit would wait for the body until serve's pace for bodies
		// cuts it off, 10 s later.)
		req = withJSON(req, []byte("{}"))
		req.ContentLength = pickOf(g, int64(routeLimit(req.Route))+1, 1<<40, math.MaxInt64)
		g.size = -1
		return req
	case 1:
		req.Chunked = true
	}
	// A JSON object of exactly n bytes: the route's valid body with a
	// string padding it.
	var base map[string]any
	switch req.Route {
	case "createHook", "updateHook":
		// A hook of its own, in a group of its own: a stored hook of
		// 10 MB would make every later read of the fixtures' group
		// (the checks list it) cost 10 MB more.
		group, hook := bigGroup, pickOf(g, "big0", "big1")
		req.Target = fill(routeNamed(req.Route).path, group, hook)
		req.Group, req.Hook = group, hook
		base = hookDef("big", []any{}, map[string]any{"pad": ""}, map[string]any{})
	default:
		base = map[string]any{"pad": ""}
	}
	empty := len(mustJSON(base))
	pad := strings.Repeat("x", max(n-empty, 0))
	if task, ok := base["task"].(map[string]any); ok {
		task["payload"] = map[string]any{"pad": pad}
	} else {
		base["pad"] = pad
	}
	return withJSON(req, mustJSON(base))
}

// invalidUTF8: invalid UTF-8 (and NUL, and lone surrogates) in the path,
// in headers and in the body's strings.
func (g *gen) invalidUTF8() Request {
	bad := pickOf(g, "\xff", "\xfe\xff", "\xc0\xaf", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80", "a\xffb", "\xe2\x82")
	switch g.intn(3) {
	case 0: // the path
		ro := g.routeWith()
		var raw string
		if g.chance(0.5) {
			raw = bad
		} else {
			for i := 0; i < len(bad); i++ {
				raw += fmt.Sprintf("%%%02X", bad[i])
			}
		}
		group, hook := fixtureGroup, raw
		req := g.request(ro, "", "")
		if g.chance(0.3) {
			group, hook = raw, hookPlain
		}
		req.Target = fill(ro.path, group, hook)
		req.Group, req.Hook = "", ""
		if g.chance(0.5) {
			req.Group = fixtureGroup
		}
		if ro.body != bodyNone {
			req = withJSON(req, []byte("{}"))
		}
		return req
	case 1: // a header
		req := g.aBodyRoute()
		req = withJSON(req, []byte(`{}`))
		name := pickOf(g, "Idempotency-Key", "Content-Type", "Origin", "X-Hub-Signature-256", "X-Hookline-Signature", "X-Hookline-Timestamp", "X-GitHub-Delivery", "Authorization", "Accept", "User-Agent")
		value := pickOf(g, bad, "json"+bad, "Hawk id=\""+bad+"\", ts=\"1\", nonce=\"n\", mac=\"m\"", "application/json; charset="+bad)
		if name == "Content-Type" {
			req.Header = req.Header[:len(req.Header)-1]
		}
		if name == "Authorization" {
			req.Auth = AuthNone
		}
		req.Header = append(req.Header, Header{name, value})
		return req
	default: // the body
		req := g.aBodyRoute()
		s := `"` + pickOf(g, bad, `\ud800`, `\udc00\ud800`, `\u0000`, "\x00", `\uffff`, `\ud83d\ude00`) + `"`
		var body string
		switch req.Route {
		case "createHook", "updateHook":
			body = strings.Replace(string(validHook(g, "n")), `"n"`, s, 1)
		case "updateHookSettings":
			body = `{"filters":[` + s + `],"paused":{"reason":` + s + `}}`
		case "pauseHook", "pauseHookGroup":
			body = `{"reason":` + s + `}`
		default:
			body = `{"s":` + s + `,` + s + `:1}`
		}
		return withJSON(req, []byte(body))
	}
}

// longID is an id of n characters.
func longID(n int) string { return strings.Repeat("a", n) }

// oddPaths: ids and paths the router must refuse or resolve safely.
func (g *gen) oddPaths() Request {
	ro := g.routeWith()
	req := g.request(ro, "", "")
	req.Group, req.Hook = "", ""
	odd := pickOf(g, "%2F", "..", "%2e%2e", ".", "a%2F..%2F..%2Fb", "%00", "a%00b", "\x00", "%", "%zz", "%2", " ", "%20",
		"a%3Fb", "a%23b", "a;b", "*", "%252F", "a/../b", "../../../etc/passwd", "~", "-", "_")
	size := 0
	switch g.intn(5) {
	case 0:
		size = g.sized(900, 20000)
		odd = longID(size)
	case 1:
		odd = longID(pickOf(g, 1000, 1001))
	}
	group, hook := fixtureGroup, odd
	if g.chance(0.3) {
		group, hook = odd, hookPlain
	}
	req.Target = fill(ro.path, group, hook)
	if strings.Contains(req.Target, "{token}") && g.chance(0.5) {
		req.Target = strings.Replace(req.Target, "{token}", pickOf(g, longID(20000), "..", "%2F", "x"), 1)
	}
	if strings.Contains(req.Target, "{decision}") && g.chance(0.5) {
		req.Target = strings.Replace(req.Target, "{decision}", pickOf(g, longID(20000), "..", "%2F", "0", "-"), 1)
	}
	if group == fixtureGroup {
		req.Group = fixtureGroup
	}
	switch g.intn(8) {
	case 0:
		req.Target += "?" + pickOf(g, "limit=-1", "limit=0", "limit=99999999999999999999", "limit=1e3", "limit=%ff",
			"continuationToken="+longID(10000), "continuationToken=%00", "continuationToken=eyJ9", "unknown=1", "limit=1&limit=2",
			"count=1000000", "from=yesterday", "bewit=x", "a="+longID(60000), "%zz", "&&&", "=")
	case 1:
		// Paths outside the routes.
		req.Target = pickOf(g, "/api/hooks/v1/", "/api/hooks/v1//hooks", "/api/hooks/v1/hooks/", "/api/hooks/v1/../../console/",
			"/api/hooks/v2/ping", "/API/HOOKS/V1/PING", "/api/hookline/v1/", "/console/%2e%2e/%2e%2e/etc/passwd", "/console/../api/hooks/v1/ping",
			"/api/queue/v1/task/"+longID(20000), "/api/queue/v1/task/%00", "/"+longID(20000), "/%00", "//", "/api/hooks/v1/hooks/fz/h0/trigger/",
			"/api/hooks/v1/hooks/fz/h0/trigger/a/b", "/api/hookline/v1/hooks/fz/h0/decisions/", "/api/hooks/v1/hooks/fz/h0/%2e%2e/h1",
			"http://example.com/api/hooks/v1/ping", "/api/hooks/v1/ping#frag", "/api/hooks/v1/ping?"+longID(100000))
		req.Group = ""
	}
	if ro.body != bodyNone {
		req = withJSON(req, []byte("{}"))
	}
	return req
}

// methods: the routes' paths with other methods, and bodies with other
// content types (and transfer encodings).
func (g *gen) methods() Request {
	if g.chance(0.5) {
		ro := g.routeWith()
		group, hook := g.target(ro)
		req := g.request(ro, group, hook)
		req.Method = pickOf(g, "PATCH", "TRACE", "OPTIONS", "HEAD", "CONNECT", "get", "PROPFIND", "PUT", "POST", "DELETE", "GET",
			strings.Repeat("X", 1000), "G\xffT", "GET ", "")
		if req.Method == "" {
			req.Method = "-"
		}
		req.Write = true // a method the route does not take must change nothing
		if g.chance(0.5) {
			req = withJSON(req, validHook(g, "m"))
		}
		return req
	}
	req := g.aBodyRoute()
	var body []byte
	switch req.Route {
	case "createHook", "updateHook":
		body = validHook(g, req.Hook)
	case "pauseHook", "pauseHookGroup":
		body = mustJSON(map[string]any{"reason": "r"})
	default:
		body = []byte("{}")
	}
	req.Body = body
	ct := pickOf(g, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=utf-16",
		"application/jsonx", "application/json+x", "application/problem+json", "", ";;", "a/b/c", "application/json; a", strings.Repeat("a", 10000),
		"application/json, text/plain", "APPLICATION/JSON", "application/json; charset=\"", "*/*")
	if ct != "" || g.chance(0.5) {
		req.Header = append(req.Header, Header{"Content-Type", ct})
	}
	switch g.intn(6) {
	case 0:
		req.Header = append(req.Header, Header{"Content-Encoding", pickOf(g, "gzip", "br", "identity", "x")})
	case 1:
		req.Header = append(req.Header, Header{"Transfer-Encoding", pickOf(g, "gzip", "identity", "chunked, gzip", "x")})
	case 2:
		req.Chunked = true
	case 3:
		req.Header = append(req.Header, Header{"Expect", pickOf(g, "100-continue", "x")})
	}
	return req
}

// badHawk: credentials that must be refused with 401 (or ignored on
// public routes), never more.
func (g *gen) badHawk() Request {
	ro := g.routeWith()
	group, hook := g.target(ro)
	req := g.request(ro, group, hook)
	req.Write = true // refused credentials must change nothing
	if ro.body != bodyNone {
		req = withJSON(req, []byte("{}"))
		if ro.body == bodyHook {
			req.Body = validHook(g, hook)
		}
	}
	if g.chance(0.4) {
		req.Auth = pickOf(g, AuthHawkWrongKey, AuthHawkStale, AuthHawkWrongHash, AuthHawkUnknown, AuthHawkOtherPath)
		return req
	}
	req.Auth = AuthNone
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	deepExt := strings.Repeat(`{"a":`, 10000) + "1" + strings.Repeat("}", 10000)
	many := make([]string, 5000)
	for i := range many {
		many[i] = fmt.Sprintf("hooks:scope-%d", i)
	}
	value := pickOf(g,
		"Hawk", "Hawk ", "hawk id=\"fuzz\"", "Hawk id=\"fuzz\"", `Hawk id="fuzz", ts="x", nonce="n", mac="m"`,
		`Hawk id="fuzz", ts="1", nonce="n", mac="m", mac="m"`, `Hawk id="fuzz", ts="99999999999999999999", nonce="n", mac="bWFj"`,
		`Hawk id="fuzz", ts="1", nonce="n", mac="m", bogus="1"`, `Hawk id="", ts="", nonce="", mac=""`, `Hawk id="fuzz", ts="1", nonce="n", mac="m`,
		`Hawk id="fuzz", ts="1", nonce="n", mac="m", ext="`+b64("not json")+`"`, `Hawk id="fuzz", ts="1", nonce="n", mac="m", ext="!!!"`,
		`Hawk id="fuzz", ts="1", nonce="n", mac="m", ext="`+b64(`{"certificate":{"version":1,"scopes":["*"],"start":0,"expiry":1,"seed":"s","signature":"x"}}`)+`"`,
		`Hawk id="fuzz", ts="1", nonce="n", mac="m", ext="`+b64(`{"certificate":"x","authorizedScopes":"*"}`)+`"`,
		`Hawk id="fuzz", ts="1", nonce="n", mac="m", ext="`+b64(string(mustJSON(map[string]any{"authorizedScopes": many})))+`"`,
		`Hawk id="fuzz", ts="1", nonce="n", mac="m", ext="`+b64(deepExt)+`"`,
		`Hawk id="`+longID(20000)+`", ts="1", nonce="n", mac="m"`, "Hawk "+strings.Repeat(`a="b", `, 5000),
		"Bearer x", "Bearer "+longID(20000), "Basic Zm9vOmJhcg==", "Digest x", strings.Repeat("A", 200000),
	)
	req.Header = append(req.Header, Header{"Authorization", value})
	if g.chance(0.15) {
		// A bewit too, or instead.
		req.Target += pickOf(g, "?bewit=", "?bewit=x", "?bewit="+b64(`fuzz\1\mac\`), "?bewit="+longID(20000))
		if g.chance(0.5) {
			req.Header = req.Header[:len(req.Header)-1]
		}
	}
	return req
}

// hostileSettings: settings documents with hostile values in every
// section, refused or accepted, never a 5xx, never half stored.
func (g *gen) hostileSettings() Request {
	ro := routeNamed("updateHookSettings")
	group, hook := g.target(ro)
	req := g.request(ro, group, hook)
	s := validSettings(g)
	for range g.between(1, 3) {
		switch g.intn(6) {
		case 0:
			n := g.capped(g.sized(1, 20000))
			item := pickOf[any](g, nil, "", 1, "true", longID(1025), longID(1024), "(((((((((((((((((((((((((((((a)))))))))))))))))))))))))))))",
				"payload"+strings.Repeat(".a", 500), "[for x in [1,2,3] x]", `"x" * 999999999`, "$eval", "\u0000")
			filters := make([]any, n)
			for i := range filters {
				filters[i] = item
			}
			s["filters"] = filters
			if n > 10 || item == nil || item == "" || item == 1 {
				req.SchemaItems = n
			}
		case 1:
			sched := map[string]any{}
			sched["timeZone"] = pickOf[any](g, "UTC", "Mars/Olympus", "../../etc/passwd", "Local", "", longID(65), "America/New_York", "+99:00", nil)
			sched["cron"] = pickOf[any](g, []any{"* * * * * * *"}, []any{"*/0 * * * *"}, []any{"0 0 31 2 *"}, []any{"60 24 32 13 8"},
				[]any{"@every 1s"}, []any{""}, []any{longID(200)}, []any{"1-1000000 * * * *"}, []any{"*/1 */1 */1 */1 */1"}, "x")
			sched["at"] = pickOf[any](g, []any{"0000-01-01T00:00:00Z"}, []any{"9999-12-31T23:59:59Z"}, []any{"2026-02-30T00:00:00Z"}, []any{"x"})
			sched["start"] = pickOf[any](g, "2030-01-01T00:00:00Z", "0001-01-01T00:00:00Z", "x")
			sched["end"] = pickOf[any](g, "2020-01-01T00:00:00Z", "9999-12-31T23:59:59Z")
			sched["exclude"] = pickOf[any](g, []any{map[string]any{"from": "2030-01-01", "to": "2020-01-01"}}, []any{"2026-13-45"}, []any{map[string]any{"from": longID(64), "to": longID(64)}})
			sched["maxCatchUp"] = pickOf[any](g, 0, 1, 1000, 1001, -1, 1.5, "1")
			sched["maxAge"] = pickOf[any](g, "-1s", "999999h", "0s", "1ns", "x", "P1D")
			sched["jitter"] = pickOf[any](g, "-1s", "999999h", "0s", "1ns", "24h", "x")
			sched["catchUp"] = pickOf[any](g, "all", "none", "x")
			for _, k := range slices.Sorted(maps.Keys(sched)) { // a fixed order: the draws must be the same every time
				if g.chance(0.4) {
					delete(sched, k)
				}
			}
			s["schedule"] = sched
		case 2:
			target := map[string]any{
				"type":   pickOf[any](g, "webhook", "email", "taskcluster-slack", "x"),
				"events": pickOf[any](g, []any{"fire-error"}, []any{}, []any{"x"}, []any{"fire-error", "fire-error"}),
				"url": pickOf[any](g, "http://169.254.169.254/latest/meta-data", "http://127.0.0.1:1/", "https://"+longID(2048), "file:///etc/passwd",
					"http://[::1]/", "http://0/", "http://example.com/\x00"),
				"address":    pickOf[any](g, "a@b", "@", longID(300)+"@x", "a@b\n"),
				"maxPerHour": pickOf[any](g, 0, 1, 60, 61, 1e9),
				"secret":     pickOf[any](g, "short", longID(256), longID(257)),
			}
			for _, k := range slices.Sorted(maps.Keys(target)) {
				if k != "type" && g.chance(0.4) {
					delete(target, k)
				}
			}
			n := pickOf(g, 1, 10, 11, 1000)
			targets := make([]any, n)
			for i := range targets {
				targets[i] = target
			}
			s["notify"] = map[string]any{"targets": targets, "signatureFailures": pickOf[any](g, map[string]any{"max": 0, "windowSeconds": 1}, map[string]any{"max": 1, "windowSeconds": 60}, nil)}
			if n > 10 {
				req.SchemaItems = n
			}
		case 3:
			s["webhook"] = map[string]any{
				"scheme":  pickOf[any](g, "github", "hookline", "bearer", "x", nil),
				"secrets": pickOf[any](g, []any{longID(16)}, []any{longID(16), longID(16)}, []any{"short"}, []any{longID(16), longID(17), longID(18)}, []any{}),
				"headers": pickOf[any](g, []any{"X-Ok"}, []any{"Authorization"}, []any{"bad header"}, []any{longID(65)}, make([]any, 21)),
			}
		case 4:
			s["history"] = pickOf[any](g, map[string]any{"maxRecords": 0}, map[string]any{"maxRecords": 1000001}, map[string]any{"maxRecords": 1.5},
				map[string]any{"maxRecords": "1"}, map[string]any{}, map[string]any{"maxRecords": 1e300})
		case 5:
			s[pickOf(g, "paused", "unknown", "secretCount", "")] = pickOf[any](g, map[string]any{"reason": longID(1001)}, map[string]any{"reason": ""},
				map[string]any{"reason": "r", "level": "group", "since": "x", "by": "y"}, nil, 1)
		}
	}
	return withJSON(req, mustJSON(s))
}

// hostileHooks: hook definitions with hostile schedules, trigger schemas
// and templates.
func (g *gen) hostileHooks() Request {
	ro := g.routeWith(bodyHook)
	group, hook := g.target(ro)
	req := g.request(ro, group, hook)
	var schedule any = []any{}
	var payload any = map[string]any{"n": 1}
	var schema any = map[string]any{}
	switch g.intn(4) {
	case 0:
		n := g.capped(g.sized(1, 40000))
		item := pickOf[any](g, nil, 1, "", "* * * * *", "* * * * * * *", "0 0 31 2 *", longID(1000), []any{})
		list := make([]any, n)
		for i := range list {
			list[i] = item
		}
		schedule = list
		if item != "* * * * *" && item != "0 0 31 2 *" {
			req.SchemaItems = n
		}
	case 1:
		schema = pickOf[any](g, map[string]any{"$ref": "#"}, map[string]any{"$ref": "http://169.254.169.254/"}, map[string]any{"$ref": "#/definitions/a", "definitions": map[string]any{"a": map[string]any{"$ref": "#/definitions/a"}}},
			map[string]any{"pattern": "(a+)+$"}, map[string]any{"type": "x"}, map[string]any{"allOf": make([]any, 1000)}, "x", nil, true, false,
			map[string]any{"properties": map[string]any{"n": map[string]any{"type": "integer", "maximum": 1e308, "multipleOf": 1e-308}}},
			map[string]any{"format": "regex", "pattern": "["}, map[string]any{"$schema": "http://example.com/"})
	case 2:
		// Templates that grow when rendered: each level doubles a string.
		depth := g.sized(1, 64)
		var inner any = map[string]any{"$eval": "s"}
		for range depth {
			inner = map[string]any{"$let": map[string]any{"s": map[string]any{"$eval": "s + s"}}, "in": inner}
		}
		payload = map[string]any{"$let": map[string]any{"s": "xx"}, "in": inner}
	case 3:
		payload = pickOf[any](g, map[string]any{"$eval": "payload"}, map[string]any{"$eval": "1/0"}, map[string]any{"$eval": longID(100000)},
			map[string]any{"$json": map[string]any{"$eval": "payload"}}, map[string]any{"$flatten": []any{[]any{1}}}, map[string]any{"$eval": "fromNow('1000000 years')"},
			map[string]any{"$eval": "range(0, 100000000)"}, map[string]any{"$map": []any{1, 2}, "each(x)": map[string]any{"$eval": "x"}},
			map[string]any{"$eval": "\"x\" * 1000000000"}, map[string]any{"$eval": "payload." + strings.Repeat("a.", 10000) + "a"})
	}
	def := hookDef(hook, schedule, payload, schema)
	if g.chance(0.2) {
		def["bindings"] = pickOf[any](g, make([]any, 1000), []any{map[string]any{"exchange": longID(10000), "routingKeyPattern": "#"}}, "x")
	}
	if g.chance(0.1) {
		def["metadata"] = map[string]any{"name": longID(300), "description": longID(100000), "owner": "x", "emailOnError": "yes"}
	}
	return withJSON(req, mustJSON(def))
}

func routeNamed(name string) route {
	for _, r := range routes {
		if r.name == name {
			return r
		}
	}
	panic("apifuzz: no route " + name)
}
