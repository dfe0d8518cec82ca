package hooks

import (
	"context"
	"encoding/json"

	"github.com/hookline/hookline/shared/store"
)

// The ports: what the domain needs from the world, declared here where it
// is used. Adapters implement them (the Taskcluster queue client, the
// local queue, SES, the SQS change notifier, auth's roles); the builder,
// shared/service, plugs them in.

// TaskCreator creates tasks on a Taskcluster queue. CreateTask must be
// idempotent: the same taskId with an identical definition succeeds again
// without a second task (Taskcluster's queue behaves so). Its errors
// should implement Retryable, and a refusal QueueRefusal, so that fires
// know whether to try again and can report what the queue said.
type TaskCreator interface {
	CreateTask(ctx context.Context, taskID string, task json.RawMessage, authorizedScopes []string) (json.RawMessage, error)
}

// JointTaskCreator is a queue that creates a fire's task and stores the
// fire's records (its claim, decision and fire record) in one durable
// commit: `hookline serve`'s local queue, whose tasks live in the
// embedded store's file (localqueue.Joint). A fire that reaches the
// queue then costs one commit (and fsync) instead of up to three: claim,
// task, record. Optional: the pipeline uses it for a fire's first attempt
// when the queue has it.
//
// CreateTaskJoint creates the task as CreateTask does and, in the same
// commit, stores w; when the task is already there with the same
// definition, w is stored alone. When the queue refuses the task, or w's
// claim is held by another attempt (store.ErrConflict), or the write
// fails, nothing is written.
type JointTaskCreator interface {
	CreateTaskJoint(ctx context.Context, taskID string, task json.RawMessage, authorizedScopes []string, w store.FireWrite) (json.RawMessage, error)
}

// TaskStatusReader reads a task's status from the queue: listLastFires
// shows each task's state, and a retried fire asks whether its task
// already exists. Optional: a queue without it reports every state as
// "unknown".
type TaskStatusReader interface {
	Status(ctx context.Context, taskID string) (json.RawMessage, error)
}

// Retryable is implemented by errors that know whether the same call may
// succeed if tried again later. The Taskcluster queue client's errors do:
// 5xx answers and network failures are retryable, anything else is not.
// An error that does not implement it is not retryable.
type Retryable interface {
	Retryable() bool
}

// QueueRefusal is an error answer from the queue; the Taskcluster queue
// client's *taskcluster.APIError implements it. A fire records it in the
// shape upstream stores, and the API reports it as upstream does.
type QueueRefusal interface {
	error
	// HTTPStatus is the answer's status, e.g. 403.
	HTTPStatus() int
	// ErrorCode is Taskcluster's error code, e.g. "InsufficientScopes";
	// "" when the body was not a Taskcluster error.
	ErrorCode() string
	// ErrorMessage is the message as the queue wrote it.
	ErrorMessage() string
	// ErrorBody is the whole answer body as JSON; nil when it was empty.
	ErrorBody() json.RawMessage
	// APIMethod names the API method that failed, e.g. "createTask".
	APIMethod() string
}

// ChangeNotifier hears about stored hook changes (the Pulse bridge uses them
// to rebind queues and to publish hook-created/updated/deleted). An error is
// returned to the API caller as a 500, as upstream does, although the change
// itself is already stored.
type ChangeNotifier interface {
	HookChanged(ctx context.Context, c Change) error
}

// Mailer sends the failure emails of scheduled hooks.
type Mailer interface {
	SendEmail(ctx context.Context, to, subject, body string) error
}

// ScopeExpander expands roles in a set of scopes, as Taskcluster's auth
// service does. A pre-check uses it to tell which scopes a hook's role
// holds; without one, it says the roles are unknown.
type ScopeExpander interface {
	ExpandScopes(ctx context.Context, scopes []string) ([]string, error)
}

// ScopeRules is the queue's rule for which scopes createTask requires.
// The Taskcluster package's ScopeRules implements it; the local queue
// enforces the same rule.
type ScopeRules interface {
	// CreateTaskScopes returns the scope expression createTask requires for
	// task (a task definition with the queue's defaults applied), and the
	// part of it that held does not satisfy (nil when held satisfies it),
	// both in Taskcluster's JSON form, e.g. {"AllOf":["a","b"]}.
	CreateTaskScopes(task map[string]any, held []string) (required, missing json.RawMessage)
}
