package httpapi

import (
	"context"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/hookline/hookline/shared/auth"
)

// Cross-site use of anonymous scopes.
//
// Every reply carries Access-Control-Allow-Origin: *, as upstream's do, so
// a page on any site may call the API: a Hawk-signed request needs
// credentials that page does not have. What must not happen is a page
// borrowing the scopes the configuration grants to anonymous callers (the
// README's trial grants hooks:*): a page on any site could then create
// hooks or read trigger tokens from a visitor's `hookline serve`. So a
// request that carries no credentials and comes from another site's page
// (its Origin is neither the server's own nor one of Options.CORSOrigins)
// may use anonymous scopes for reads only.

// origins is the set of allowed origins, normalised by normalOrigin.
type origins map[string]bool

// newOrigins checks and normalises the allowed origins: the configured
// CORS origins and the public URL's.
func newOrigins(cors []string, publicURL string) (origins, error) {
	out := origins{}
	for _, o := range cors {
		n, ok := normalOrigin(o)
		if !ok {
			return nil, fmt.Errorf("httpapi: CORS origin %q must be scheme://host[:port]", o)
		}
		out[n] = true
	}
	if publicURL != "" {
		u, err := url.Parse(publicURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("httpapi: public URL %q is not a URL", publicURL)
		}
		n, _ := normalOrigin(u.Scheme + "://" + u.Host)
		out[n] = true
	}
	return out, nil
}

// AllowedOrigins lists the origins besides the server's own whose pages
// may use the anonymous scopes in full (Options.CORSOrigins and the public
// URL's), normalised and sorted.
func (rt *Router) AllowedOrigins() []string { return slices.Sorted(maps.Keys(rt.origins)) }

// normalOrigin lower-cases an origin (scheme://host[:port]) and drops its
// scheme's default port; ok is false when o is not an http(s) origin.
func normalOrigin(o string) (string, bool) {
	u, err := url.Parse(strings.TrimSpace(o))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		u.User != nil || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
		return "", false
	}
	return strings.ToLower(u.Scheme) + "://" + hostWithoutDefaultPort(u.Scheme, u.Host), true
}

// hostWithoutDefaultPort lower-cases host[:port] and drops the port when
// it is scheme's default.
func hostWithoutDefaultPort(scheme, host string) string {
	host = strings.ToLower(host)
	if h, port, err := net.SplitHostPort(host); err == nil {
		if (scheme == "http" && port == "80") || (scheme == "https" && port == "443") {
			if strings.Contains(h, ":") {
				return "[" + h + "]"
			}
			return h
		}
	}
	return host
}

// foreignOrigin returns the request's Origin when it names another site:
// not the server's own (the scheme and Host the request was sent to) and
// not an allowed one. "null" (sandboxed frames, files) is foreign. A
// request without Origin is not a browser's cross-site request.
func (rt *Router) foreignOrigin(r *http.Request) (string, bool) {
	raw := r.Header.Get("Origin")
	if raw == "" {
		return "", false
	}
	o, ok := normalOrigin(raw)
	if !ok {
		return raw, true
	}
	if rt.origins[o] {
		return "", false
	}
	scheme, _, _ := strings.Cut(o, "://")
	if o == scheme+"://"+hostWithoutDefaultPort(scheme, r.Host) {
		return "", false
	}
	return raw, true
}

// crossSiteRefusal refuses a request that would use anonymous scopes for
// a write (or a secret read) from another site's page. Signed requests,
// public routes and requests without Origin are not concerned.
func (rt *Router) crossSiteRefusal(ctx context.Context, r *http.Request, ro *route, caller auth.Caller) error {
	if caller.Authenticated || ro.scopes.IsZero() || (ro.isRead() && !ro.secret) {
		return nil
	}
	origin, foreign := rt.foreignOrigin(r)
	if !foreign {
		return nil
	}
	rt.log.WarnContext(ctx, "cross-site request refused the anonymous scopes", "method", ro.name, "origin", origin)
	return &auth.Error{Code: CodeInsufficientScopes, Message: fmt.Sprintf(
		"This request comes from a page of another site (Origin: %s) and carries no credentials. "+
			"Anonymous scopes serve other sites' pages for reads only: sign the request with Taskcluster credentials, "+
			"or list the origin in HOOKLINE_CORS_ORIGINS if that site is trusted with the anonymous scopes.", origin)}
}

// isRead reports whether the route only reads: GET (and HEAD with it),
// or a POST that changes nothing.
func (ro *route) isRead() bool { return ro.method == http.MethodGet || ro.readOnly }

// sourceIP is the client's address without its port, for rate limits.
func sourceIP(r *http.Request) string {
	if host, _, err := net.SplitHostPort(r.RemoteAddr); err == nil {
		return host
	}
	return r.RemoteAddr
}

// GrantsWrites reports whether a caller holding scopes may, for some hook,
// call a route of the API that changes something or reads a secret (a
// trigger token). `hookline serve` asks it of the anonymous scopes: while
// they grant writes, a page that reaches the server through DNS rebinding
// could use them, so the server answers only the host names it knows.
func GrantsWrites(scopes []string) bool {
	var rt Router
	rt.webhook = newWebhookState(WebhookOptions{})
	for _, ro := range append(rt.hooksRoutes(), rt.hooklineRoutes()...) {
		if ro.scopes.IsZero() || (ro.isRead() && !ro.secret) {
			continue
		}
		if ro.scopes.SatisfiableBy(scopes) {
			return true
		}
	}
	return false
}
