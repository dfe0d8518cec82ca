// Package taskcluster talks to a Taskcluster queue the way Taskcluster's own
// clients do, and makes the slugids Taskcluster uses for taskIds.
//
// Queue (NewQueue) calls createTask and status on
// <rootUrl>/api/queue/v1/. Requests are Hawk-signed with the service
// credentials; a createTask call can be restricted to authorizedScopes,
// which travel in the Hawk ext attribute as Taskcluster expects, so the
// queue checks the task against those scopes only (the hooks service passes
// ["assume:hook-id:<hookGroupId>/<hookId>"]).
//
// Failures come back in two kinds that callers can tell apart:
//
//   - *APIError: the queue answered with an HTTP error. StatusCode, Code,
//     Message and RequestInfo come from Taskcluster's error body
//     {code, message, requestInfo}; Method names the API method
//     ("createTask", "status").
//   - errors wrapping ErrNetwork: no answer at all (connection refused or
//     reset, timeouts, a body cut short).
//
// 5xx answers and network errors are retried with exponential backoff and
// jitter (createTask is idempotent: re-sending the same definition under
// the same taskId creates nothing new); 4xx answers are returned at once.
// Cancelling the context stops the retries. IsRetryable and StatusCode
// classify the final error.
//
// The sub-package localqueue is a small Taskcluster-compatible queue that
// `hookline serve` runs when no Taskcluster root URL is configured; it has
// the same CreateTask and Status methods.
package taskcluster
