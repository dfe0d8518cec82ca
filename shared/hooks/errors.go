package hooks

import (
	"errors"
	"fmt"
)

// The kinds of error the domain reports; an *Error carries one as its Kind
// and the API maps each to an answer (httpapi's classify).
var (
	// ErrInvalid marks a request that is well-formed but not acceptable (a
	// bad cron entry, mismatched ids, a denied exchange). It maps to 400
	// InputError.
	ErrInvalid = errors.New("invalid input")
	// ErrUnauthorized marks a request whose secret (a trigger token) is
	// wrong. It maps to 401 AuthenticationFailed.
	ErrUnauthorized = errors.New("unauthorized")
	// ErrNotFound marks a request for a hook, hook group or decision that
	// does not exist. It maps to 404 ResourceNotFound.
	ErrNotFound = errors.New("not found")
	// ErrConflict marks a change that conflicts with what is stored (a
	// hook re-created with another definition). It maps to 409
	// RequestConflict.
	ErrConflict = errors.New("conflict")
	// ErrPaused marks a fire refused because its hook, its hook group or
	// the whole service is paused. It maps to 409 RequestConflict.
	ErrPaused = errors.New("paused")
)

// Error is an error whose message is meant for the API caller. Kind is one
// of the Err values above and decides the answer; Cause, if any, is kept
// for logs and errors.Is (a store error, say).
type Error struct {
	Kind    error
	Message string
	Cause   error
}

func (e *Error) Error() string {
	if e.Cause != nil {
		return e.Message + ": " + e.Cause.Error()
	}
	return e.Message
}

// Unwrap lets errors.Is see both the kind and the cause.
func (e *Error) Unwrap() []error {
	if e.Cause != nil {
		return []error{e.Kind, e.Cause}
	}
	return []error{e.Kind}
}

func invalid(format string, args ...any) error {
	return &Error{Kind: ErrInvalid, Message: fmt.Sprintf(format, args...)}
}

func notFound(msg string, cause error) error {
	return &Error{Kind: ErrNotFound, Message: msg, Cause: cause}
}

func conflict(msg string, cause error) error {
	return &Error{Kind: ErrConflict, Message: msg, Cause: cause}
}

// FireError is a fire that failed after the hook was found: the template
// did not render, or the queue refused the task or could not be reached.
// It is recorded as a last fire; httpapi answers it as upstream does.
type FireError struct {
	// Cause is the underlying error: the JSON-e error, or the queue's.
	Cause error
	// HookGroupID and HookID name the hook, for the message.
	HookGroupID, HookID string
}

func (e *FireError) Error() string {
	return "fire " + e.HookGroupID + "/" + e.HookID + ": " + e.Cause.Error()
}

func (e *FireError) Unwrap() error { return e.Cause }

// Retryable reports whether trying the same fire again may succeed: the
// queue answered 5xx or could not be reached.
func (e *FireError) Retryable() bool { return isRetryable(e.Cause) }

// Refusal returns the queue's answer, when the queue refused the task.
func (e *FireError) Refusal() (QueueRefusal, bool) {
	var r QueueRefusal
	ok := errors.As(e.Cause, &r)
	return r, ok
}

// isRetryable reports whether err says that the same call may succeed
// later (see Retryable).
func isRetryable(err error) bool {
	var r Retryable
	return errors.As(err, &r) && r.Retryable()
}
