// Package httpapi serves the Taskcluster-compatible hooks API as one
// net/http handler, used both by `hookline serve` and, through the Lambda
// adapter, by the API Gateway HTTP API function.
//
// It also serves Hookline's own API under /api/hookline/v1 (HooklineRoutes):
// per-hook settings, and a public webhook route that authenticates each
// delivery by its signature (GitHub's or Hookline's) or a bearer token and
// rate limits each hook (webhook.go).
//
// Each request goes through the same steps as upstream's lib-api: body
// read (10 MB limit, or the route's own; 413 beyond) and JSON parse,
// authentication and scope check with the route's scope expression, URL
// parameter and query checks, schema validation with defaults, the handler,
// and (in tests) validation of the reply against the route's output schema. Errors become Taskcluster's
// {code, message, requestInfo} body in one place, classify in errors.go.
package httpapi
