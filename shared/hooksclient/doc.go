// Package hooksclient is a client of a Taskcluster-compatible hooks API:
// upstream Taskcluster's /api/hooks/v1/ and, where the deployment is
// Hookline, its per-hook settings under /api/hookline/v1/. `hookline hooks`
// (export, diff, apply) is built on it.
//
// Requests are Hawk-signed as Taskcluster's own clients sign them (without
// a payload hash), with permanent or temporary credentials (a certificate);
// without credentials they go unsigned and get the anonymous role's scopes.
// Hook ids may hold slashes: each URL parameter is escaped on its own, so
// "a/b" travels as "a%2Fb", as Taskcluster clients send it.
//
// Definitions and settings are passed as raw JSON: the client neither
// knows nor drops fields, so settings sections a newer server adds pass
// through unchanged.
//
// Failures come back as *APIError when the service answered with an HTTP
// error (IsNotFound tells a missing hook), as ErrNoHooklineAPI when a
// settings call is made to a deployment without /api/hookline/v1/, and as
// wrapped transport errors otherwise. Reads and idempotent writes
// (updateHook, settings) are retried on 5xx answers and network errors;
// createHook and removeHook are not, since a repeat would fail on what the
// first attempt did.
package hooksclient
