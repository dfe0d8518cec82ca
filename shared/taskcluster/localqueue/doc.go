// Package localqueue is a small Taskcluster-queue-compatible service for
// `hookline serve` when no Taskcluster root URL is configured: fired tasks
// are stored in a bbolt file and can be read back with any Taskcluster
// client at /api/queue/v1/.
//
// # What it does
//
// createTask behaves as Taskcluster's (services/queue/src/api.js), in the
// same order:
//
//  1. The body is checked against the queue's create-task-request schema,
//     with the schema defaults filled in (400 InputValidationError).
//  2. provisionerId/workerType and taskQueueId must agree; either gives the
//     other (400 InputError).
//  3. The caller must satisfy Taskcluster's scope expression (403
//     InsufficientScopes): every task scope, queue:route:<route> for each
//     route, queue:create-task:project:<projectId>,
//     queue:scheduler-id:<schedulerId>, and
//     queue:create-task:<p>:<provisionerId>/<workerType> for at least one
//     priority p at or above the task's (AllOf[..., AnyOf[...]]).
//  4. created must be within 15 minutes of now, deadline in the future, at
//     most 5 days away and not before created; expires defaults to deadline
//     plus one year and may not be before deadline; taskGroupId defaults to
//     the taskId; dates are stored as JavaScript's toJSON writes them
//     (millisecond precision, "Z"); scopes may not end in "**" (400
//     InputError).
//  5. All tasks of a task group must share a schedulerId (409
//     RequestConflict).
//  6. Idempotency: the same taskId with an identical (normalized)
//     definition succeeds again and returns the stored status, creating
//     nothing; a different definition is 409 RequestConflict.
//  7. Dependencies must exist and must not expire before the task's
//     deadline (400 InputError). As no task here is ever resolved, a task
//     with dependencies stays "unscheduled"; one without gets run 0,
//     "pending", reasonCreated "scheduled".
//
// The answer is {"status": <task status>} as in task-status.json. Numbers
// in the task are handled as JavaScript does (float64), so definitions
// compare and round-trip as they do upstream.
//
// Reads (GET /task/<taskId> and /task/<taskId>/status) are public, as
// upstream. A pending, unscheduled or running task whose deadline has
// passed is reported resolved as exception/deadline-exceeded, as
// upstream's deadline resolver would have done.
//
// # Workers
//
// A worker runs tasks through claimWork, reclaimTask and reportCompleted,
// reportFailed and reportException, as Taskcluster's queue defines them
// (worker.go says what each checks); `hookline work` is such a worker.
// Options.OnResolved hears of each resolution, as the queue's
// task-completed, task-failed and task-exception messages would tell it.
//
// # Expiry
//
// Tasks are kept forever: `expires` is recorded and reported but no job
// deletes expired tasks. A local queue holds what one machine fires; delete
// the file to start afresh.
//
// # Durability and throughput
//
// A queue opened with OpenShared lives in the embedded store's file, in
// buckets of its own, and commits through the store's group committer;
// Joint then creates a fire's task and stores the fire's records in one
// transaction (hooks.JointTaskCreator). Open keeps a file of its own.
//
// Every createTask is durable when it returns. Concurrent calls share
// transactions and fsyncs through a group commit: a write commits at once
// when the file is idle, and every write that arrives meanwhile joins the
// next commit. (bbolt's own Batch waits on a timer instead, which splits
// callers into small batches queueing behind each other's commits; see
// commit.go.) Validation happens outside the transaction; only the
// existence checks and the puts run inside it.
//
// # In-process use
//
// CreateTask and Status have the signatures of taskcluster.Queue's, so the
// hooks service can use either through one interface. In-process calls are
// trusted: with Options.Expand set (e.g. (*auth.Roles).Expand), a non-nil
// authorizedScopes is expanded and must satisfy the scope expression, as
// Taskcluster does for a request restricted by authorizedScopes; without
// it no scopes are checked.
package localqueue
