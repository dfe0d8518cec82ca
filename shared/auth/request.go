package auth

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Caller is who made a request, as far as authorization is concerned.
// Scopes are expanded (roles applied) and include the anonymous role's.
type Caller struct {
	// ClientID names the credentials (for logs; authorize with Scopes).
	// Empty for unauthenticated callers.
	ClientID string
	// Scopes the caller holds.
	Scopes []string
	// Authenticated is true when the request carried valid credentials.
	Authenticated bool
}

// Status values of a HawkResult, as Taskcluster's authenticateHawk answers.
const (
	StatusSuccess = "auth-success"
	StatusFailed  = "auth-failed"
	StatusNoAuth  = "no-auth"
)

// HawkRequest is what Taskcluster's authenticateHawk endpoint takes: the
// parts of an HTTP request that Hawk verification needs.
type HawkRequest struct {
	// Method is the HTTP method (Taskcluster sends it lower-case).
	Method string `json:"method"`
	// Resource is the raw request target: path and query as received.
	Resource string `json:"resource"`
	// Host is the host name the client addressed, lower-case, no port.
	Host string `json:"host"`
	// Port is the port the client addressed.
	Port int `json:"port"`
	// Authorization is the Authorization header, if any.
	Authorization string `json:"authorization,omitempty"`
	// SourceIP is the client's address, for audit logs only.
	SourceIP string `json:"sourceIp,omitempty"`
}

// HawkResult is what Taskcluster's authenticateHawk endpoint answers.
type HawkResult struct {
	// Status is StatusSuccess, StatusFailed or StatusNoAuth.
	Status string `json:"status"`
	// ClientID is the Hawk id of successful requests.
	ClientID string `json:"clientId,omitempty"`
	// Scheme is "hawk" for successful requests and "none" for no-auth.
	Scheme string `json:"scheme,omitempty"`
	// Scopes are the caller's expanded scopes (success and no-auth).
	Scopes []string `json:"scopes,omitempty"`
	// Expires is when the credentials expire (zero: never).
	Expires time.Time `json:"expires,omitzero"`
	// Hash is the payload hash the Authorization header carried, if any;
	// the body is only authenticated once it has been compared with it.
	Hash string `json:"hash,omitempty"`
	// Message says why authentication failed.
	Message string `json:"message,omitempty"`
}

// Options tune an authenticator. A nil *Options means the defaults.
type Options struct {
	// Now is the clock (default time.Now).
	Now func() time.Time
	// PublicHost, when set, is the host name every request is verified
	// against, whatever its Host header says. Use it when a proxy rewrites
	// Host (a CDN in front of API Gateway, for instance).
	PublicHost string
	// PublicPort, when non-zero, is the port every request is verified
	// against; Host, TLS and X-Forwarded-* headers are then ignored for the
	// port.
	PublicPort int
	// IgnoreForwarded stops X-Forwarded-Port and X-Forwarded-Proto from
	// setting the port (they are believed by default, as in Taskcluster).
	IgnoreForwarded bool
	// TrustForwardedHost takes the host name from the first
	// X-Forwarded-Host value when present (Taskcluster ignores it).
	TrustForwardedHost bool
}

// hostRule is the validated host and port policy of Options.
type hostRule struct {
	publicHost         string
	publicPort         int
	ignoreForwarded    bool
	trustForwardedHost bool
}

func newHostRule(o *Options) (hostRule, error) {
	if o == nil {
		return hostRule{}, nil
	}
	if o.PublicPort < 0 || o.PublicPort > 65535 {
		return hostRule{}, fmt.Errorf("auth: options: PublicPort %d is not a port number (1-65535, or 0 for none)", o.PublicPort)
	}
	h := hostRule{
		publicHost:         strings.ToLower(o.PublicHost),
		publicPort:         o.PublicPort,
		ignoreForwarded:    o.IgnoreForwarded,
		trustForwardedHost: o.TrustForwardedHost,
	}
	if h.publicHost != "" {
		if host, port, ok := splitHostHeader(h.publicHost); !ok || port != 0 || host != h.publicHost {
			return hostRule{}, fmt.Errorf("auth: options: PublicHost %q must be a bare host name without scheme, port or path", o.PublicHost)
		}
	}
	return h, nil
}

func clock(o *Options) func() time.Time {
	if o != nil && o.Now != nil {
		return o.Now
	}
	return time.Now
}

// splitHostHeader parses a Host header as the URL parser Hawk relies on
// would: it returns the lower-cased host (IPv6 literals keep their
// brackets) and the explicit port, 0 when absent or 80.
func splitHostHeader(h string) (host string, port int, ok bool) {
	if h == "" || len(h) > maxHawkLength {
		return "", 0, false
	}
	for i := 0; i < len(h); i++ {
		if c := h[i]; c <= ' ' || c == 0x7f || strings.IndexByte("/?#@\\", c) >= 0 {
			return "", 0, false
		}
	}
	host, portStr := h, ""
	if strings.HasPrefix(h, "[") {
		end := strings.IndexByte(h, ']')
		if end < 0 {
			return "", 0, false
		}
		host, portStr = h[:end+1], h[end+1:]
		if portStr != "" {
			if portStr[0] != ':' {
				return "", 0, false
			}
			portStr = portStr[1:]
		}
	} else if i := strings.IndexByte(h, ':'); i >= 0 {
		host, portStr = h[:i], h[i+1:]
		if strings.IndexByte(portStr, ':') >= 0 {
			return "", 0, false
		}
	}
	if host == "" || host == "[]" {
		return "", 0, false
	}
	if portStr != "" {
		n, err := strconv.Atoi(portStr)
		if err != nil || n < 0 || n > 65535 || portStr[0] == '+' || portStr[0] == '-' {
			return "", 0, false
		}
		port = n
	}
	if port == 80 {
		// The http:// URL parse drops the default port.
		port = 0
	}
	return strings.ToLower(host), port, true
}

// leadingInt is JavaScript's parseInt for the X-Forwarded-Port header: the
// leading decimal digits after optional spaces, or false.
func leadingInt(s string) (int, bool) {
	s = strings.TrimLeft(s, " \t")
	i := 0
	for i < len(s) && i < 9 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, false
	}
	n, err := strconv.Atoi(s[:i])
	return n, err == nil
}

// hawkRequest extracts what Hawk verification needs from r. The message is
// non-empty when the host cannot be determined.
func (h *hostRule) hawkRequest(r *http.Request) (HawkRequest, string) {
	req := HawkRequest{
		Method:        strings.ToLower(r.Method),
		Resource:      r.RequestURI,
		Authorization: r.Header.Get("Authorization"),
	}
	if req.Resource == "" && r.URL != nil {
		req.Resource = r.URL.RequestURI()
	}
	if req.Method == "" {
		req.Method = "get"
	}
	if addr, _, err := net.SplitHostPort(r.RemoteAddr); err == nil && net.ParseIP(addr) != nil {
		req.SourceIP = addr
	} else if net.ParseIP(r.RemoteAddr) != nil {
		req.SourceIP = r.RemoteAddr
	}

	hostHeader := r.Host
	if hostHeader == "" && r.URL != nil {
		hostHeader = r.URL.Host
	}
	if h.trustForwardedHost {
		if fh := r.Header.Get("X-Forwarded-Host"); fh != "" {
			first, _, _ := strings.Cut(fh, ",")
			hostHeader = strings.TrimSpace(first)
		}
	}
	host, port, ok := splitHostHeader(hostHeader)
	if h.publicHost != "" {
		host, ok = h.publicHost, true
	}
	if !ok {
		return req, "Bad Request: Invalid Host header"
	}
	req.Host = host

	switch {
	case h.publicPort != 0:
		port = h.publicPort
	default:
		if port == 0 {
			port = 80
			if r.TLS != nil {
				port = 443
			}
		}
		if h.ignoreForwarded {
			break
		}
		if fp := r.Header.Values("X-Forwarded-Port"); len(fp) > 0 && fp[0] != "" {
			n, ok := leadingInt(fp[0])
			if !ok {
				// JavaScript would carry NaN into the MAC; no MAC can match.
				n = -1
			}
			port = n
		} else if strings.Join(r.Header.Values("X-Forwarded-Proto"), ", ") == "https" {
			port = 443
		}
	}
	req.Port = port
	return req, ""
}

// hasBewitParam reports whether the query carries a non-empty bewit
// parameter (Taskcluster refuses those alongside an Authorization header).
func hasBewitParam(resource string) bool {
	if !strings.Contains(resource, "bewit=") {
		return false
	}
	_, query, _ := strings.Cut(resource, "?")
	values, _ := url.ParseQuery(query)
	for _, v := range values["bewit"] {
		if v != "" {
			return true
		}
	}
	return false
}

// PayloadCheck is what is left of a Hawk authentication once the
// Authorization header has been verified: the payload hash the header
// carried (its MAC covers that hash, not the body), to compare with the
// body once it has been read. The zero value checks nothing: no
// credentials, a bewit, or a header without a hash (Taskcluster then
// leaves the body unauthenticated too).
type PayloadCheck struct{ hash string }

// Verify compares the payload hash of body, sent with the Content-Type
// contentType, with the one the Authorization header carried, in constant
// time; a mismatch is an AuthenticationFailed *Error. body must be the
// complete request body.
func (p PayloadCheck) Verify(contentType string, body []byte) error {
	if p.hash == "" {
		return nil
	}
	computed := PayloadHash(contentType, body)
	if !equalConstantTime([]byte(computed), p.hash) {
		return payloadMismatch(p.hash, computed)
	}
	return nil
}

// authorize is the flow of Authorize, shared by both authenticators:
// authenticate the request, check the payload hash, then the scopes, in
// Taskcluster's order.
func authorize(r *http.Request, body []byte, required Expr, hr *hostRule,
	authenticate func(HawkRequest) (HawkResult, error)) (Caller, error) {
	c, payload, err := authenticateRequest(r, required, hr, authenticate)
	if err != nil || required.IsZero() {
		return c, err
	}
	if err := payload.Verify(r.Header.Get("Content-Type"), body); err != nil {
		return Caller{}, err
	}
	if !required.SatisfiedBy(c.Scopes) {
		return c, insufficientScopes(c, required)
	}
	return c, nil
}

// authorizeBeforeBody is the flow of AuthorizeBeforeBody: authenticate
// the request and check the scopes, leaving the payload hash to the
// caller, which has not read the body yet.
func authorizeBeforeBody(r *http.Request, required Expr, hr *hostRule,
	authenticate func(HawkRequest) (HawkResult, error)) (Caller, PayloadCheck, error) {
	c, payload, err := authenticateRequest(r, required, hr, authenticate)
	if err != nil || required.IsZero() {
		return c, PayloadCheck{}, err
	}
	if !required.SatisfiedBy(c.Scopes) {
		return c, PayloadCheck{}, insufficientScopes(c, required)
	}
	return c, payload, nil
}

// authenticateRequest extracts the Hawk request and authenticates it,
// without looking at the body: the MAC covers the header's payload hash,
// which is returned to be compared with the body.
func authenticateRequest(r *http.Request, required Expr, hr *hostRule,
	authenticate func(HawkRequest) (HawkResult, error)) (Caller, PayloadCheck, error) {
	if required.IsZero() {
		// Taskcluster never looks at credentials on routes without scopes.
		return Caller{}, PayloadCheck{}, nil
	}
	req, msg := hr.hawkRequest(r)
	if msg != "" {
		return Caller{}, PayloadCheck{}, authFailed(msg)
	}
	if req.Authorization != "" && hasBewitParam(req.Resource) {
		return Caller{}, PayloadCheck{}, authFailed(twoSchemesMessage)
	}
	res, err := authenticate(req)
	if err != nil {
		return Caller{}, PayloadCheck{}, err
	}
	switch res.Status {
	case StatusFailed:
		return Caller{}, PayloadCheck{}, authFailed(res.Message)
	case StatusNoAuth:
		return Caller{Scopes: res.Scopes}, PayloadCheck{}, nil
	case StatusSuccess:
		c := Caller{ClientID: res.ClientID, Scopes: res.Scopes, Authenticated: true}
		return c, PayloadCheck{hash: res.Hash}, nil
	default:
		return Caller{}, PayloadCheck{}, fmt.Errorf("auth: authenticator answered unknown status %q: %w", res.Status, errBadAnswer)
	}
}

var errBadAnswer = errors.New("unexpected authentication answer")
