package auth

import (
	"context"
	"encoding/base64"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	timestampSkew   = 15 * time.Minute
	noAuthLifetime  = 15 * time.Minute
	anonymousAssume = "assume:anonymous"
)

// Static authenticates requests against clients and roles from a Config,
// doing what Taskcluster's auth service does in-process. It is immutable
// and safe for concurrent use.
type Static struct {
	clients   map[string]*staticClient
	roles     *Roles
	hasRoles  bool // the config defines roles (the anonymous scopes aside)
	anonymous []string
	hosts     hostRule
	now       func() time.Time
}

type staticClient struct {
	id       string
	token    string
	expanded []string // the client's scopes with roles expanded
	final    []string // expanded plus the anonymous role, as requests get them
	expires  time.Time
	disabled bool
	// macs are HMAC states keyed with token.
	macs *keyedMACs
}

// NewStatic validates the configuration, expands every client's scopes once
// and returns the authenticator. opts may be nil.
func NewStatic(cfg Config, opts *Options) (*Static, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	roles, err := CompileRoles(cfg.allRoles())
	if err != nil {
		return nil, err
	}
	hosts, err := newHostRule(opts)
	if err != nil {
		return nil, err
	}
	x := &Static{
		clients:   make(map[string]*staticClient, len(cfg.Clients)),
		roles:     roles,
		hasRoles:  len(cfg.Roles) > 0,
		anonymous: roles.Expand([]string{anonymousAssume}),
		hosts:     hosts,
		now:       clock(opts),
	}
	for _, c := range cfg.Clients {
		expanded := roles.Expand(c.Scopes)
		x.clients[c.ClientID] = &staticClient{
			id:       c.ClientID,
			token:    c.AccessToken,
			expanded: expanded,
			final:    x.withAnonymous(expanded),
			expires:  c.Expires,
			disabled: c.Disabled,
			macs:     newKeyedMACs(c.AccessToken),
		}
	}
	return x, nil
}

// withAnonymous returns expand(scopes ∪ {assume:anonymous}).
func (x *Static) withAnonymous(scopes []string) []string {
	all := make([]string, 0, len(scopes)+1)
	all = append(all, scopes...)
	return x.roles.Expand(append(all, anonymousAssume))
}

// AnonymousScopes returns the scopes of requests without credentials.
func (x *Static) AnonymousScopes() []string { return slices.Clone(x.anonymous) }

// Authorize authenticates r (body is its complete body, used to check a
// Hawk payload hash) and checks that the caller satisfies required.
//
// A zero required (a public route) is not authenticated at all: like
// Taskcluster, the Authorization header is then ignored and Caller{} is
// returned. Otherwise requests without credentials get the anonymous scopes.
// Refusals are *Error values: AuthenticationFailed for missing, malformed,
// expired or wrong credentials, InsufficientScopes (returned together with
// the Caller) when the scopes fall short.
func (x *Static) Authorize(ctx context.Context, r *http.Request, body []byte, required Expr) (Caller, error) {
	return authorize(r, body, required, &x.hosts, func(req HawkRequest) (HawkResult, error) {
		return x.AuthenticateHawk(req), nil
	})
}

// AuthorizeBeforeBody is Authorize for a caller that has not read the body
// yet: it verifies everything about the credentials (the MAC covers the
// Authorization header's payload hash, not the body) and the scopes, and
// returns the payload hash check to run on the body once it is read. A
// request with a wrong MAC is so refused before it can make the server
// hold its body. A refusal for scopes comes before a payload mismatch,
// where Authorize reports the mismatch first.
func (x *Static) AuthorizeBeforeBody(ctx context.Context, r *http.Request, required Expr) (Caller, PayloadCheck, error) {
	return authorizeBeforeBody(r, required, &x.hosts, func(req HawkRequest) (HawkResult, error) {
		return x.AuthenticateHawk(req), nil
	})
}

// AuthenticateHawk verifies a request as Taskcluster's authenticateHawk
// endpoint does, with the same answers and messages. It does not check a
// payload hash (the caller has the body; compare it with result.Hash) or
// any scope expression.
func (x *Static) AuthenticateHawk(req HawkRequest) HawkResult {
	now := x.now()
	if req.Authorization == "" {
		if hasBewitPrefix(req.Resource) {
			return x.authenticateBewit(req, now)
		}
		return HawkResult{Status: StatusNoAuth, Scheme: "none", Scopes: slices.Clone(x.anonymous), Expires: now.Add(noAuthLifetime)}
	}
	return x.authenticateHeader(req, now)
}

func failed(msg string) HawkResult { return HawkResult{Status: StatusFailed, Message: msg} }

func (x *Static) authenticateHeader(req HawkRequest, now time.Time) HawkResult {
	a, msg := parseHeader(req.Authorization)
	if msg != "" {
		return failed(msg)
	}
	if a.has&(hasID|hasTS|hasNonce|hasMAC) != hasID|hasTS|hasNonce|hasMAC {
		return failed("Bad Request: Missing attributes")
	}
	cred, msg := x.credentials(a.id, a.ext, now)
	if msg != "" {
		return failed(msg)
	}
	var portBuf [20]byte
	m := macInput{
		kind: "header", ts: a.ts, nonce: a.nonce, method: req.Method, resource: req.Resource,
		host: req.Host, port: string(appendPort(portBuf[:0], req.Port)), hash: a.hash, ext: a.ext,
		app: a.app, dlg: a.dlg, hasApp: a.has&hasApp != 0,
	}
	var mac [44]byte
	if cred.macs != nil {
		cred.macs.mac(&m, &mac)
	} else {
		m.mac(cred.key, &mac)
	}
	if !equalConstantTime(mac[:], a.mac) {
		return failed("Unauthorized: Bad mac")
	}
	ts, ok := parseTS(a.ts)
	if !ok {
		return failed("Unauthorized: Invalid timestamp")
	}
	if skew := ts*1000 - now.UnixMilli(); skew > timestampSkew.Milliseconds() || -skew > timestampSkew.Milliseconds() {
		return failed("Unauthorized: Stale timestamp")
	}
	return HawkResult{Status: StatusSuccess, ClientID: a.id, Scheme: "hawk", Scopes: x.scopesFor(cred), Expires: cred.expires, Hash: a.hash}
}

func appendPort(dst []byte, port int) []byte {
	if port < 0 {
		return append(dst, "NaN"...)
	}
	return strconv.AppendInt(dst, int64(port), 10)
}

func (x *Static) authenticateBewit(req HawkRequest, now time.Time) HawkResult {
	if len(req.Resource) > maxHawkLength {
		return failed("Bad Request: Resource path exceeds max length")
	}
	b, ok := findBewit(req.Resource)
	if !ok {
		return failed("Unauthorized: Unauthorized")
	}
	if b.value == "" {
		return failed("Unauthorized: Empty bewit")
	}
	if m := strings.ToUpper(req.Method); m != http.MethodGet && m != http.MethodHead {
		return failed("Unauthorized: Invalid method")
	}
	for i := 0; i < len(b.value); i++ {
		if c := b.value[i]; !isWordChar(c) && c != '-' {
			return failed("Bad Request: Invalid bewit encoding")
		}
	}
	raw, err := base64.RawURLEncoding.DecodeString(b.value)
	if err != nil {
		return failed("Bad Request: Invalid bewit encoding")
	}
	parts := strings.Split(string(raw), `\`)
	if len(parts) != 4 {
		return failed("Bad Request: Invalid bewit structure")
	}
	id, exp, mac, extStr := parts[0], parts[1], parts[2], parts[3]
	if id == "" || exp == "" || mac == "" {
		return failed("Bad Request: Missing bewit attributes")
	}
	cred, msg := x.credentials(id, extStr, now)
	if msg != "" {
		return failed(msg)
	}
	m := macInput{
		kind: "bewit", ts: exp, method: http.MethodGet, resource: b.resource,
		host: req.Host, port: string(appendPort(nil, req.Port)), ext: extStr,
	}
	var want [44]byte
	m.mac(cred.key, &want)
	if !equalConstantTime(want[:], mac) {
		return failed("Unauthorized: Bad mac")
	}
	// Hawk coerces exp with JavaScript arithmetic; we want plain digits.
	if e, ok := parseTS(exp); !ok || e*1000 <= now.UnixMilli() {
		return failed("Unauthorized: Access expired")
	}
	return HawkResult{Status: StatusSuccess, ClientID: id, Scheme: "hawk", Scopes: x.scopesFor(cred), Expires: cred.expires}
}

// resolved credentials: the Hawk key and what the request may do.
type resolved struct {
	key     string
	scopes  []string
	expires time.Time
	// expand is set when scopes still need the anonymous role and role
	// expansion; that is left until the MAC has been checked, so requests
	// with a wrong MAC cannot make us expand scopes they chose.
	expand bool
	// macs are HMAC states keyed with key, when key is a client's own
	// access token (not a temporary one); nil otherwise.
	macs *keyedMACs
}

// scopesFor returns the final scopes of verified credentials: a fresh
// slice the caller may keep and modify.
func (x *Static) scopesFor(res resolved) []string {
	if res.expand {
		return x.withAnonymous(res.scopes)
	}
	return slices.Clone(res.scopes)
}

// credentials does what Taskcluster's credentials function does for a Hawk
// id and ext: load the (issuing) client, apply a temporary-credentials
// certificate and authorizedScopes, and expand roles. A non-empty message
// means failure.
func (x *Static) credentials(id, extStr string, now time.Time) (resolved, string) {
	var e ext
	if extStr != "" {
		var ok bool
		if e, ok = parseExt(extStr); !ok {
			return resolved{}, "Failed to parse ext"
		}
	}
	issuer, named := id, false
	if cert, ok := e.certificate.(map[string]any); ok {
		if iss := cert["issuer"]; truthy(iss) {
			s, ok := iss.(string)
			if !ok {
				return resolved{}, "ext.certificate.issuer must be a string"
			}
			if s == id {
				return resolved{}, "ext.certificate.issuer must differ from the supplied clientId"
			}
			issuer, named = s, true
		}
	}
	c := x.clients[issuer]
	switch {
	case c == nil:
		return resolved{}, "Client with clientId '" + issuer + "' not found"
	case c.disabled:
		return resolved{}, "Client with clientId '" + issuer + "' is disabled"
	case !c.expires.IsZero() && now.After(c.expires):
		return resolved{}, "Client with clientId: '" + issuer + "' has expired"
	}
	res := resolved{key: c.token, scopes: c.expanded, expires: c.expires, macs: c.macs}
	limited := false
	if truthy(e.certificate) {
		var msg string
		if res, msg = x.applyCertificate(c, id, issuer, named, e.certificate, now); msg != "" {
			return resolved{}, msg
		}
		limited = true
	}
	if truthy(e.authorizedScopes) {
		as, isArray, valid := validScopes(e.authorizedScopes)
		switch {
		case !isArray:
			return resolved{}, "ext.authorizedScopes must be an array"
		case !valid:
			return resolved{}, "ext.authorizedScopes must be an array of valid scopes"
		}
		current := c.final
		if limited {
			current = x.withAnonymous(res.scopes)
		}
		if !AllOf(scopeExprs(as)...).SatisfiedBy(current) {
			return resolved{}, "Supplied credentials do not satisfy authorizedScopes; credentials have scopes:\n\n```\n" +
				strings.Join(current, "\n") + "\n```\n\nauthorizedScopes are:\n\n```\n" + strings.Join(as, "\n") + "\n```"
		}
		res.scopes = as
		limited = true
	}
	if !limited {
		res.scopes = c.final
	}
	res.expand = limited
	return res, ""
}

func scopeExprs(scopes []string) []Expr {
	out := make([]Expr, len(scopes))
	for i, s := range scopes {
		out[i] = Scope(s)
	}
	return out
}

// applyCertificate validates a temporary-credentials certificate in
// Taskcluster's order and returns the temporary key, scopes and expiry.
func (x *Static) applyCertificate(c *staticClient, id, issuer string, named bool,
	raw any, now time.Time) (resolved, string) {
	var cert map[string]any
	switch v := raw.(type) {
	case map[string]any:
		cert = v
	case []any:
		// An array is a JavaScript object too; it has no version.
		return resolved{}, "ext.certificate.version must be 1"
	default:
		return resolved{}, "ext.certificate must be a JSON object"
	}
	if v, ok := cert["version"].(float64); !ok || v != 1 {
		return resolved{}, "ext.certificate.version must be 1"
	}
	seed, ok := cert["seed"].(string)
	if !ok {
		return resolved{}, "ext.certificate.seed must be a string"
	}
	if utf16Len(seed) != seedLength {
		return resolved{}, "ext.certificate.seed must be 44 characters"
	}
	start, ok := cert["start"].(float64)
	if !ok {
		return resolved{}, "ext.certificate.start must be a number"
	}
	expiry, ok := cert["expiry"].(float64)
	if !ok {
		return resolved{}, "ext.certificate.expiry must be a number"
	}
	scopes, isArray, valid := validScopes(cert["scopes"])
	switch {
	case !isArray:
		return resolved{}, "ext.certificate.scopes must be an array"
	case !valid:
		return resolved{}, "ext.certificate.scopes must be an array of valid scopes"
	}
	nowMs := float64(now.UnixMilli())
	skew := float64(certificateSkew.Milliseconds())
	switch {
	case start > nowMs+skew:
		return resolved{}, "ext.certificate.start > now"
	case expiry < nowMs-skew:
		return resolved{}, "ext.certificate.expiry < now"
	case expiry-start > float64(MaxTemporaryLifetime.Milliseconds()):
		return resolved{}, "ext.certificate cannot last longer than 31 days!"
	}
	if issuer != id {
		if !setSatisfies(c.expanded, "auth:create-client:"+id) {
			return resolved{}, "ext.certificate issuer `" + issuer + "` doesn't have `auth:create-client:" + id + "` for supplied clientId."
		}
	} else if truthy(cert["clientId"]) {
		return resolved{}, "ext.certificate.clientId must only be used with ext.certificate.issuer"
	}
	if !AllOf(scopeExprs(scopes)...).SatisfiedBy(c.expanded) {
		return resolved{}, "ext.certificate issuer `" + issuer + "` doesn't satisfy all certificate scopes " +
			strings.Join(scopes, ", ") + ".  The temporary credentials were not generated correctly."
	}
	signedIssuer := ""
	if named {
		signedIssuer = issuer
	}
	text := certificateString(id, signedIssuer, seed, jsNumberString(start), jsNumberString(expiry), scopes)
	want := hmacBase64(base64.StdEncoding, c.token, text)
	sig, _ := cert["signature"].(string)
	if !equalConstantTime([]byte(want), sig) {
		if named {
			return resolved{}, "ext.certificate.signature is not valid, or wrong clientId provided"
		}
		return resolved{}, "ext.certificate.signature is not valid"
	}
	expires := c.expires
	// The checks above bound expiry to about a month from now.
	if certExpiry := time.UnixMilli(int64(expiry)); expires.IsZero() || certExpiry.Before(expires) {
		expires = certExpiry
	}
	return resolved{key: temporaryAccessToken(c.token, seed), scopes: scopes, expires: expires}, ""
}

// HasRoles reports whether the config defines roles; anonymousScopes do
// not count.
func (x *Static) HasRoles() bool { return x.hasRoles }

// ExpandScopes expands the configured roles in scopes, as Taskcluster's
// expandScopes does; the error is always nil (the roles are in memory).
func (x *Static) ExpandScopes(_ context.Context, scopes []string) ([]string, error) {
	return x.roles.Expand(scopes), nil
}
