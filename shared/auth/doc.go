// Package auth authenticates and authorizes requests the way Taskcluster
// does: Hawk signatures (Authorization header or bewit query parameter),
// temporary credentials, authorizedScopes, scope expressions and roles.
// Refusals carry Taskcluster's codes and messages, so unmodified Taskcluster
// clients see the answers they expect.
//
// # Modes
//
// Both authenticators have the same methods,
//
//	Authorize(ctx, r, body, required Expr) (Caller, error)
//	AuthorizeBeforeBody(ctx, r, required Expr) (Caller, PayloadCheck, error)
//
// called with the route's scope expression, URL parameters already
// substituted (Expr.Substitute). The HTTP router calls AuthorizeBeforeBody
// before it reads a body and PayloadCheck.Verify once it has: the MAC
// covers the Authorization header's payload hash, not the body, so a wrong
// signature is refused before the server holds a byte of the body.
// AuthorizeBeforeBody reports insufficient scopes before a payload
// mismatch (which it cannot know of yet); Authorize, Taskcluster's order,
// the other way round.
//
//   - Static (NewStatic) verifies everything in-process against clients and
//     roles from a Config (ParseConfig): for deployments that keep their own
//     clients, such as `hookline serve`.
//   - Remote (NewRemote) delegates verification to a Taskcluster
//     deployment's auth service, POST <rootUrl>/api/auth/v1/authenticate-hawk
//     with {method, resource, host, port, authorization, sourceIp}, exactly as
//     Taskcluster's own services do, and uses the scopes it answers. Clients
//     and roles are then managed in that deployment.
//
// In both modes:
//
//   - A zero required expression marks a public route. As in Taskcluster the
//     credentials are then not looked at (even a garbage Authorization header
//     is ignored) and Caller{} is returned.
//   - A request without credentials gets the scopes of the "anonymous" role
//     and Caller.Authenticated is false. Every authenticated request gets them
//     as well.
//   - Bad credentials of any kind give an *Error with Code
//     "AuthenticationFailed" (HTTP 401; the response must carry the header
//     "WWW-Authenticate: hawk"). Scopes that do not satisfy the expression
//     give Code "InsufficientScopes" (HTTP 403), and the message names the
//     client, the missing part of the expression and the whole expression.
//     errors.Is(err, ErrAuthenticationFailed) and
//     errors.Is(err, ErrInsufficientScopes) tell them apart. Messages never
//     contain secrets or the Authorization header.
//   - When the Hawk header carries a payload hash, body (or the body given
//     to PayloadCheck.Verify) must be the complete request body: it is hashed with the Content-Type and compared in
//     constant time. Unlike Taskcluster, which hashes an empty string unless
//     the body is JSON, the body is always hashed as received. Without a hash
//     the body is not authenticated (Taskcluster's JavaScript and Go clients
//     never send one).
//
// # What is verified
//
// Hawk headers are parsed exactly as Hawk 9 parses them (same limits, same
// error messages). The MAC is HMAC-SHA256 over Hawk's normalized string and
// is compared in constant time; the timestamp may be 15 minutes off either
// way. Nonces are not remembered (Taskcluster does not either), so a request
// can be replayed within that window.
//
// Deliberate differences from Taskcluster, all stricter or clearer: the ts
// attribute must be plain decimal digits, where Taskcluster accepts anything
// because a non-numeric ts never looks stale to JavaScript arithmetic
// ("Unauthorized: Invalid timestamp"; a bewit whose expiry is not digits is
// "Unauthorized: Access expired"); an ext that is
// JSON but not an object is refused ("Failed to parse ext"); the payload
// hash covers the body whatever its content type; and the payload-mismatch
// message names the claimed hash where Taskcluster prints "{{hash}}".
//
// Bewits (signed URLs) work for GET and HEAD only, with no clock allowance;
// the bewit parameter is removed from the resource before the MAC is checked.
// A request with both a bewit and an Authorization header is refused.
//
// The ext attribute is base64 of a JSON object that may hold a temporary-
// credentials certificate ({version, scopes, start, expiry, seed, signature,
// issuer?}) and authorizedScopes. Certificates are checked in Taskcluster's
// order: shape, ±5 minutes on start and expiry, at most 31 days, named
// credentials need auth:create-client:<name> on the issuer, the issuer must
// hold every certificate scope, and the signature must match; the Hawk key
// is then HMAC-SHA256(issuer's accessToken, seed) in unpadded URL-safe
// base64. authorizedScopes must be satisfied by the credentials' scopes
// (anonymous role included) and then replace them. As in Taskcluster these
// checks come before the MAC check, so their messages (which may list the
// client's scopes) reach callers whose MAC is wrong; scopes are not secrets.
//
// # Host and port
//
// The MAC covers the host and port the client addressed, so the server must
// find them again behind proxies. The rule, Taskcluster's by default:
//
//  1. The host is the Host header, lower-cased, without its port. (The Lambda
//     adapter fills it from the API Gateway event, whose Host is the API's
//     domain.)
//  2. The port is the Host header's port if it has one other than 80, else
//     443 when the connection itself is TLS, else 80.
//  3. X-Forwarded-Port, when present, replaces it (its leading digits). Else
//     an X-Forwarded-Proto of exactly "https" makes it 443. API Gateway HTTP
//     APIs set both (443, https), so signed https URLs verify in Lambda with
//     no configuration. X-Forwarded-Host is ignored.
//
// Believing the forwarded headers is safe enough to be the default: they
// only choose which host and port the MAC is checked against, so a client
// lying in them can at best replay, within the 15-minute window, a request
// that was signed for another address of the same service; it cannot forge
// one. Options adjust the rule: IgnoreForwarded stops step 3,
// TrustForwardedHost takes the host from X-Forwarded-Host (for proxies that
// rewrite Host and say so), and PublicHost / PublicPort pin the host and/or
// port to what clients use (for example a CDN in front of API Gateway that
// rewrites Host). The resource is always the raw request target
// (r.RequestURI), so proxies must not rewrite the path or the query.
//
// # Configuration
//
// ParseConfig reads a JSON document like this (unknown fields are errors):
//
//	{
//	  "clients": [
//	    {
//	      "clientId": "project/ci",
//	      "accessToken": "44 characters from GenerateAccessToken......",
//	      "scopes": ["hooks:trigger-hook:project-ci/*", "assume:project:ci"],
//	      "expires": "2030-01-01T00:00:00Z",
//	      "disabled": false,
//	      "description": "CI robot"
//	    }
//	  ],
//	  "roles": [
//	    {"roleId": "project:ci", "scopes": ["hooks:modify-hook:project-ci/*", "assume:hook-id:project-ci/*"]},
//	    {"roleId": "hook-id:project-ci/*", "scopes": ["queue:create-task:highest:proj-ci/*", "secrets:get:project/ci/<..>"]}
//	  ],
//	  "anonymousScopes": ["hooks:status:*"]
//	}
//
// The members are:
//
//   - clients: clientId (required, letters, digits and !@/:.+|_- only,
//     unique), accessToken (required, at least 16 characters), scopes,
//     expires (RFC 3339, optional: never expires), disabled, description.
//   - roles: roleId and scopes. Holding assume:<roleId> grants the role's
//     scopes, transitively. A roleId ending in "*" matches every id with that
//     prefix, and "<..>" in its scopes is replaced by what the "*" matched.
//     Roles that could expand into themselves are rejected.
//   - anonymousScopes: shorthand for a role with roleId "anonymous" (give one
//     or the other). Everyone gets these scopes.
//
// Scopes are printable ASCII; a trailing "*" matches any suffix, and
// ending a client or role scope in "**" is an error. Errors name the entry to
// fix, e.g. `auth: config: clients[2] (project/ci).accessToken must be at
// least 16 characters`. With no clients at all, `hookline serve` can create a
// root client with GenerateAccessToken.
//
// # Clients
//
// SignRequest, Bewit, CreateTemporaryCredentials and
// CreateNamedTemporaryCredentials produce what Taskcluster's clients produce,
// for Hookline's own queue client and for tests.
package auth
