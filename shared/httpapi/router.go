package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/hooks"
)

// BasePath is where the hooks API is served, as on a Taskcluster deployment.
const BasePath = "/api/hooks/v1"

// MaxBodyBytes is the largest request body any route accepts (upstream's
// 10 MB, and API Gateway's); each route has a limit of its own below it
// (bodyLimits).
const MaxBodyBytes = 10 << 20

// Authorizer authenticates a request and checks it against the route's
// scope expression (with URL parameters already substituted), before the
// body is read; the router then reads the body and verifies it with the
// returned check (a Hawk header's payload hash). It returns an *auth.Error
// for 401/403 answers. Public routes pass a zero expression.
type Authorizer interface {
	AuthorizeBeforeBody(ctx context.Context, r *http.Request, required auth.Expr) (auth.Caller, auth.PayloadCheck, error)
}

// Options configure the router.
type Options struct {
	// Authorizer checks every request; it is required.
	Authorizer Authorizer
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Version is reported by __version__.
	Version string
	// ValidateResponses checks every reply against its output schema and
	// turns a mismatch into a 500, as upstream does. Tests turn it on.
	ValidateResponses bool
	// Only, when non-empty, restricts the router to the named routes (the
	// webhook function serves only the public webhook routes).
	Only []string
	// Webhook limits the signed webhook route; zero fields take defaults.
	Webhook WebhookOptions
	// CORSOrigins are the origins (scheme://host[:port]) of other sites
	// whose pages may use the anonymous scopes for more than reads
	// (HOOKLINE_CORS_ORIGINS); the server's own origin always may.
	CORSOrigins []string
	// PublicURL is the URL clients reach the service at
	// (HOOKLINE_PUBLIC_URL); its origin counts as the server's own.
	PublicURL string
	// BodyBudget bounds the request bodies held at once, in bytes, and
	// with it their decoding (bodyBudget); zero means DefaultBodyBudget.
	BodyBudget int64
}

// Router serves the hooks API as an http.Handler.
type Router struct {
	svc      *hooks.Service
	schemas  *schemas.Registry
	authz    Authorizer
	now      func() time.Time
	log      *slog.Logger
	version  string
	checkOut bool
	// realClock is set when now is time.Now: the request line's time
	// and duration then share one reading.
	realClock bool
	started   time.Time
	routes    []*route

	webhook *webhookState
	// origins are the allowed origins besides the server's own.
	origins origins
	// credentials limits wrong credentials on the public routes.
	credentials *credentialLimiter
	// checks limits pre-checks per hook, as fires are.
	checks *rateLimiter
	// bodies bounds the request bodies read at once, and decoding what
	// decoding them allocates (bodybudget.go); pace is how fast a body
	// must arrive while it holds budget.
	bodies, decoding *bodyBudget
	pace             bodyPace
}

// request is what a route handler sees.
type request struct {
	ctx    context.Context
	params map[string]string
	body   map[string]any
	query  url.Values
	caller auth.Caller
	header http.Header
	// raw is the body as received (signed webhooks verify these bytes).
	// It is never modified: the webhook payload's strings share its memory.
	raw []byte
	// source is the client's address, for rate limits by source.
	source string
	// verified is what a public route's authenticate step verified (the
	// hook of a trigger token), for its handler.
	verified any
	// held and decodeHeld are the budgets the request holds until it is
	// answered.
	held, decodeHeld int64
}

type handlerFunc func(*request) (any, error)

type route struct {
	name   string
	method string
	// base is the API the route belongs to: BasePath when empty, or
	// HooklineBasePath.
	base string
	// segments of the path below the base; "<name>" segments are parameters.
	segments []string
	scopes   auth.Expr
	input    string // schema id, or ""
	output   string // schema id, or ""
	query    []string
	// anyQuery accepts every query parameter (webhook senders add their own).
	anyQuery bool
	// maxBody is the largest body accepted; 0 means the route's limit
	// in bodyLimits.
	maxBody int64
	// authenticate checks a public route's own credentials (a trigger
	// token) before the body is read; nil when it has none, or when they
	// cover the body (a signed webhook) and the handler checks them.
	authenticate func(*request) error
	// secret marks a read whose reply is a credential (a trigger token):
	// anonymous scopes never serve it to other sites' pages.
	secret bool
	// readOnly marks a POST that changes nothing (a pre-check).
	readOnly bool
	handle   handlerFunc
}

// Parameter patterns, from upstream's API definition. They are checked by
// validParam rather than compiled: a {1,1000} repetition makes Go's regexp
// compiler build a large program, which cost about 12 ms of every Lambda
// cold start.
const (
	hookGroupIDPattern = `^[a-zA-Z0-9-_]{1,1000}$`
	hookIDPattern      = `^[a-zA-Z0-9-_/]{1,1000}$`
)

// validParam reports whether v matches the pattern of parameter name.
func validParam(name, v string) bool {
	if len(v) < 1 || len(v) > 1000 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || (c == '/' && name == "hookId")
		if !ok {
			return false
		}
	}
	return true
}

// NewRouter builds the router for svc, serving every route.
func NewRouter(svc *hooks.Service, opts Options) (*Router, error) {
	return newRouter(svc, opts, func(rt *Router) []*route { return append(rt.hooksRoutes(), rt.hooklineRoutes()...) })
}

// NewWebhookRouter builds a router serving only the public webhook routes
// (WebhookFunctionRoutes), for the webhook function. The other routes'
// handlers are not even referenced, so the function's code cannot reach
// what they do, and the IAM statements derived from its code
// (infra/templatetest) grant it nothing of theirs.
func NewWebhookRouter(svc *hooks.Service, opts Options) (*Router, error) {
	return newRouter(svc, opts, (*Router).webhookRoutes)
}

func newRouter(svc *hooks.Service, opts Options, routes func(*Router) []*route) (*Router, error) {
	if opts.Authorizer == nil {
		return nil, errors.New("httpapi: an Authorizer is required")
	}
	rt := &Router{
		svc:      svc,
		schemas:  svc.Schemas,
		authz:    opts.Authorizer,
		now:      opts.Now,
		log:      opts.Logger,
		version:  opts.Version,
		checkOut: opts.ValidateResponses,

		webhook:     newWebhookState(opts.Webhook),
		credentials: newCredentialLimiter(),
	}
	budget := opts.BodyBudget
	if budget <= 0 {
		budget = DefaultBodyBudget
	}
	rt.bodies = newBodyBudget("request bodies", budget, bodyBudgetWait)
	rt.pace = defaultBodyPace
	rt.decoding = newBodyBudget("decoded request bodies (estimated)", decodeBudgetFactor*budget, bodyBudgetWait)
	var err error
	if rt.origins, err = newOrigins(opts.CORSOrigins, opts.PublicURL); err != nil {
		return nil, err
	}
	if rt.webhook.limiter != nil {
		rt.checks = newRateLimiter(rt.webhook.limiter.rate, int(rt.webhook.limiter.burst))
	}
	if rt.now == nil {
		rt.now, rt.realClock = time.Now, true
	}
	if rt.log == nil {
		rt.log = slog.Default()
	}
	if rt.version == "" {
		rt.version = "dev"
	}
	rt.started = rt.now()
	rt.routes = routes(rt)
	if len(opts.Only) > 0 {
		keep := rt.routes[:0]
		for _, ro := range rt.routes {
			if slices.Contains(opts.Only, ro.name) {
				keep = append(keep, ro)
			}
		}
		if len(keep) != len(opts.Only) {
			return nil, fmt.Errorf("httpapi: Only names unknown routes: %v", opts.Only)
		}
		rt.routes = keep
	}
	for _, ro := range rt.routes {
		if ro.maxBody <= 0 {
			ro.maxBody = bodyLimit(ro.input)
		}
	}
	return rt, nil
}

// allowHeaders are the request headers a browser may send: what
// Taskcluster's clients send, and Idempotency-Key.
const allowHeaders = "Authorization, Content-Type, Accept, Cache-Control, X-Requested-With, Idempotency-Key"

// ServeHTTP implements http.Handler.
func (rt *Router) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := rt.now()
	h := w.Header()
	// Replies may hold tokens and secrets' fingerprints: no cache keeps
	// them, and no browser guesses a type other than the one sent.
	// (Assigned as Header.Set would, without canonicalizing keys that
	// are canonical already; the values are shared and never changed in
	// place: Set replaces a value, Add appends to a full slice, which
	// copies it.)
	h["Cache-Control"] = noStore
	h["X-Content-Type-Options"] = noSniff
	// Any page may call the API, as upstream allows: a Hawk signature
	// needs credentials no page has, and anonymous scopes are not lent to
	// other sites' pages (crossSiteRefusal).
	h["Access-Control-Allow-Origin"] = anyOrigin
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	rt.serve(rec, r)
	if !rt.log.Enabled(r.Context(), slog.LevelInfo) {
		return
	}
	end := rt.now()
	ms := float64(end.Sub(start).Microseconds()) / 1000
	if h, ok := rt.log.Handler().(*LogHandler); ok {
		if !rt.realClock {
			end = time.Now() // the line's time is the wall clock's, as slog's
		}
		h.logRequest(end, r.Method, redactPath(r.URL.EscapedPath()), rec.status, ms)
		return
	}
	rt.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
		slog.String("method", r.Method), slog.String("path", redactPath(r.URL.EscapedPath())), slog.Int("status", rec.status),
		slog.Float64("ms", ms))
}

// The headers of every answer, as ServeHTTP sets them.
var (
	noStore   = []string{"no-store"}
	noSniff   = []string{"nosniff"}
	anyOrigin = []string{"*"}
)

func (rt *Router) serve(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	base, rest, ok := cutBase(r.URL.EscapedPath())
	if !ok {
		rt.notFound(ctx, w, r)
		return
	}
	if r.Method == http.MethodOptions {
		rt.preflight(ctx, w, r, base, rest)
		return
	}
	ro, params, err := rt.match(r.Method, base, rest)
	if err != nil {
		writeError(ctx, w, rt.log, err, "", nil, nil, rt.now())
		return
	}
	if ro == nil {
		rt.notFound(ctx, w, r)
		return
	}
	var body map[string]any
	fail := func(err error) { rt.writeRouteError(ctx, w, ro, err, params, body) }
	req := &request{ctx: ctx, params: params, header: r.Header, source: sourceIP(r)}
	if r.URL.RawQuery != "" {
		// Without a query the map stays nil (reads see it empty): most
		// requests have none, and parsing made a map for each.
		req.query = r.URL.Query()
	}
	// The body's budget is held until the answer is written: the decoded
	// body, and the echo of it in an error, live until then.
	defer func() {
		rt.decoding.release(req.decodeHeld)
		rt.bodies.release(req.held)
	}()

	if ro.scopes.IsZero() {
		// A public route: its own credentials, if any (a trigger token),
		// are checked before the body is read.
		if err := checkParams(params); err != nil {
			fail(err)
			return
		}
		if !ro.anyQuery {
			if err := checkQuery(req.query, ro.query); err != nil {
				fail(err)
				return
			}
		}
		if ro.authenticate != nil {
			if err := ro.authenticate(req); err != nil {
				fail(err)
				return
			}
		}
		if req.raw, err = rt.readBody(w, r, ro, req); err != nil {
			fail(err)
			return
		}
	} else {
		// Authorization comes before parameter and body validation, as on
		// upstream: a caller without the scopes learns nothing about the
		// input. It comes before the body is read, too, so that only
		// callers with the scopes can make the server hold a body (and
		// its budget): a Hawk MAC covers the Authorization header's
		// payload hash, not the body, so the header is verified first and
		// the body compared with its hash once read.
		required, err := ro.scopes.Substitute(params)
		if err != nil {
			fail(err)
			return
		}
		var payload auth.PayloadCheck
		if req.caller, payload, err = rt.authz.AuthorizeBeforeBody(ctx, r, required); err != nil {
			fail(err)
			return
		}
		if err := rt.crossSiteRefusal(ctx, r, ro, req.caller); err != nil {
			fail(err)
			return
		}
		if req.raw, err = rt.readBody(w, r, ro, req); err != nil {
			fail(err)
			return
		}
		if err := payload.Verify(r.Header.Get("Content-Type"), req.raw); err != nil {
			fail(err)
			return
		}
		if err := checkParams(params); err != nil {
			fail(err)
			return
		}
		if !ro.anyQuery {
			if err := checkQuery(req.query, ro.query); err != nil {
				fail(err)
				return
			}
		}
	}
	if ro.input != "" {
		if body, err = parseBody(r, req.raw); err != nil {
			fail(err)
			return
		}
		if err := rt.schemas.Validate(ro.input, body); err != nil {
			fail(err)
			return
		}
		rt.schemas.ApplyDefaults(ro.input, body)
		req.body = body
	}

	out, err := ro.handle(req)
	if err != nil {
		fail(err)
		return
	}
	if rt.checkOut && ro.output != "" {
		if err := rt.validateOutput(ro.output, out); err != nil {
			fail(fmt.Errorf("httpapi: %s reply breaks its schema: %w", ro.name, err))
			return
		}
	}
	data, err := encodeReply(out)
	if err != nil {
		fail(fmt.Errorf("httpapi: encode the %s reply: %w", ro.name, err))
		return
	}
	writeBody(w, http.StatusOK, data)
}

// preflight answers a CORS preflight (OPTIONS) for a path of the API with
// the methods its routes take; a path no route serves is not found.
func (rt *Router) preflight(ctx context.Context, w http.ResponseWriter, r *http.Request, base, rest string) {
	methods, err := rt.methods(base, rest)
	if err != nil {
		writeError(ctx, w, rt.log, err, "", nil, nil, rt.now())
		return
	}
	if len(methods) == 0 {
		rt.notFound(ctx, w, r)
		return
	}
	h := w.Header()
	h.Set("Access-Control-Allow-Methods", strings.Join(append(methods, http.MethodOptions), ", "))
	h.Set("Access-Control-Allow-Headers", allowHeaders)
	h.Set("Access-Control-Max-Age", "900")
	w.WriteHeader(http.StatusNoContent)
}

func (rt *Router) notFound(ctx context.Context, w http.ResponseWriter, r *http.Request) {
	// The path may hold a trigger token (a GET of a token URL), which the
	// reply must not show, as the log does not.
	err := newAPIError(http.StatusNotFound, CodeResourceNotFound, "The requested resource %s %s does not exist", r.Method, redactPath(r.URL.Path))
	writeError(ctx, w, rt.log, err, "", nil, nil, rt.now())
}

func (rt *Router) validateOutput(id string, out any) error {
	data, err := json.Marshal(out)
	if err != nil {
		return err
	}
	return rt.schemas.ValidateJSON(id, data)
}

// cutBase splits an escaped path into the API base it is under (BasePath
// or HooklineBasePath) and the rest.
func cutBase(escaped string) (base, rest string, ok bool) {
	for _, base := range []string{BasePath, HooklineBasePath} {
		rest, ok := strings.CutPrefix(escaped, base)
		if ok && (rest == "" || rest[0] == '/') {
			return base, rest, true
		}
	}
	return "", "", false
}

// match finds the route for method and the escaped path below base.
// Each segment is unescaped on its own, so a hookId sent as "bar%2Fslash"
// arrives as "bar/slash" without being split.
func (rt *Router) match(method, base, escaped string) (*route, map[string]string, error) {
	escaped = strings.TrimPrefix(escaped, "/")
	// The segments of API paths fit in buf, which stays on the stack
	// (strings.Split allocated a slice per request).
	var buf [8]string
	segs := buf[:0]
	for rest := escaped; rest != ""; {
		s, after, found := strings.Cut(rest, "/")
		u, err := url.PathUnescape(s)
		if err != nil {
			return nil, nil, newAPIError(http.StatusBadRequest, CodeInvalidRequestArguments, "path segment %q is not validly escaped", s)
		}
		segs = append(segs, u)
		if rest = after; found && rest == "" {
			segs = append(segs, "") // a trailing slash ends with an empty segment, as Split gives
		}
	}
	for _, ro := range rt.routes {
		if ro.apiBase() != base {
			continue
		}
		if ro.method != method && !(method == http.MethodHead && ro.method == http.MethodGet) {
			continue
		}
		if params, ok := ro.matchPath(segs); ok {
			return ro, params, nil
		}
	}
	return nil, nil, nil
}

// methods lists the methods the routes of an escaped path below base
// take (HEAD with GET), in a fixed order.
func (rt *Router) methods(base, escaped string) ([]string, error) {
	seen := map[string]bool{}
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodPost, http.MethodDelete} {
		ro, _, err := rt.match(m, base, escaped)
		if err != nil {
			return nil, err
		}
		seen[m] = ro != nil
	}
	var out []string
	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPost, http.MethodDelete} {
		if seen[m] || (m == http.MethodHead && seen[http.MethodGet]) {
			out = append(out, m)
		}
	}
	return out, nil
}

func (ro *route) apiBase() string {
	if ro.base == "" {
		return BasePath
	}
	return ro.base
}

func (ro *route) matchPath(segs []string) (map[string]string, bool) {
	if len(segs) != len(ro.segments) {
		return nil, false
	}
	var params map[string]string
	for i, want := range ro.segments {
		if name, ok := strings.CutPrefix(want, "<"); ok {
			if params == nil {
				params = map[string]string{}
			}
			params[strings.TrimSuffix(name, ">")] = segs[i]
			continue
		}
		if segs[i] != want {
			return nil, false
		}
	}
	return params, true
}

// readBody reads the whole body within the route's limit, refusing a
// larger one with 413 without reading past the limit. Before reading it
// takes the body's weight from the body budget (the length the request
// declares, or else the route's limit, given back down to the length
// read), and before the body is decoded, the decoding's estimate from the
// decode budget; the request holds both until it is answered: 503 when
// either cannot be had in time.
func (rt *Router) readBody(w http.ResponseWriter, r *http.Request, ro *route, req *request) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	limit := ro.maxBody
	if limit <= 0 || limit > MaxBodyBytes {
		limit = MaxBodyBytes
	}
	tooLarge := func() error {
		return newAPIError(http.StatusRequestEntityTooLarge, CodeInputTooLarge,
			"request body is larger than the %s limit of %s", formatBytes(limit), ro.name)
	}
	if r.ContentLength > limit {
		return nil, tooLarge()
	}
	weight := limit
	if r.ContentLength >= 0 {
		weight = r.ContentLength
	}
	got, err := rt.bodies.acquire(r.Context(), weight)
	req.held += got
	if err != nil {
		return nil, err
	}
	// Holding budget, the body must keep a pace (bodyPace), or a slow
	// sender would keep others from it for as long as the connection
	// lives.
	slow := rt.pace.cut(w, weight)
	body := http.MaxBytesReader(w, r.Body, limit)
	var data []byte
	if r.ContentLength >= 0 {
		// The declared length sizes the buffer exactly (a growing buffer
		// holds up to twice the body while it reads); net/http ends the
		// body there.
		data = make([]byte, r.ContentLength)
		_, err = io.ReadFull(body, data)
	} else {
		var buf bytes.Buffer
		_, err = buf.ReadFrom(body)
		data = buf.Bytes()
	}
	cut := slow()
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return nil, tooLarge()
	case cut: // even if the read won the race: its deadline has passed
		return nil, newAPIError(http.StatusBadRequest, CodeMalformedPayload,
			"the request body arrived too slowly: a body of %s must be in within %s", formatBytes(weight), rt.pace.allow(weight).Round(time.Second))
	case err != nil:
		return nil, newAPIError(http.StatusBadRequest, CodeMalformedPayload, "could not read the request body: %v", err)
	}
	if extra := req.held - rt.bodies.weigh(int64(len(data))); extra > 0 {
		rt.bodies.release(extra)
		req.held -= extra
	}
	got, err = rt.decoding.acquire(r.Context(), decodeWeight(data))
	req.decodeHeld += got
	if err != nil {
		return nil, err
	}
	return data, nil
}

// formatBytes writes a size as people write limits: "10 MB", "512 KB"
// (powers of 1024), or bytes when it is not a round number.
func formatBytes(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	default:
		return fmt.Sprintf("%d byte", n)
	}
}

// parseBody decodes a JSON object body. An empty body is {}. Numbers keep
// their exact text so task templates round-trip unchanged.
func parseBody(r *http.Request, raw []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return map[string]any{}, nil
	}
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return nil, newAPIError(http.StatusBadRequest, CodeMalformedPayload, "request body must be JSON with Content-Type application/json, not %q", ct)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, newAPIError(http.StatusBadRequest, CodeMalformedPayload, "request body is not valid JSON: %v", err)
	}
	if dec.More() {
		return nil, newAPIError(http.StatusBadRequest, CodeMalformedPayload, "request body has data after the JSON value")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, newAPIError(http.StatusBadRequest, CodeMalformedPayload, "request body must be a JSON object")
	}
	return obj, nil
}

func checkParams(params map[string]string) error {
	for _, p := range []struct{ name, pattern string }{{"hookGroupId", hookGroupIDPattern}, {"hookId", hookIDPattern}} {
		v, ok := params[p.name]
		if !ok {
			continue
		}
		if !validParam(p.name, v) {
			return newAPIError(http.StatusBadRequest, CodeInvalidRequestArguments,
				"URL parameter '%s' given as '%s' must match regular expression: '%s'", p.name, v, p.pattern)
		}
	}
	if v, ok := params["decisionId"]; ok && !validDecisionID(v) {
		return newAPIError(http.StatusBadRequest, CodeInvalidRequestArguments,
			"URL parameter 'decisionId' given as '%s' must match regular expression: '%s'", v, decisionIDPattern)
	}
	return nil
}

// validDecisionID reports whether v matches decisionIDPattern.
func validDecisionID(v string) bool {
	if len(v) < 1 || len(v) > 64 {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

func checkQuery(q url.Values, allowed []string) error {
	for key := range q {
		if key == "bewit" {
			continue
		}
		ok := false
		for _, a := range allowed {
			ok = ok || a == key
		}
		if !ok {
			return newAPIError(http.StatusBadRequest, CodeInvalidRequestArguments, "query-string parameter '%s' is not supported by this method", key)
		}
	}
	return nil
}

// redactPath hides a trigger token in a logged path: tokens are secrets.
func redactPath(p string) string {
	if i := strings.Index(p, "/trigger/"); i >= 0 {
		return p[:i] + "/trigger/<token>"
	}
	return p
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection (readBody
// cuts a slow body's reads).
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }
