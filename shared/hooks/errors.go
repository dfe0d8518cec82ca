package hooks

import (
	"errors"
	"fmt"

	"github.com/hookline/hookline/shared/store"
)

// ErrInvalid marks a request that is well-formed but not acceptable (a bad
// cron entry, mismatched ids, a denied exchange). It maps to 400 InputError.
var ErrInvalid = errors.New("invalid input")

// ErrUnauthorized marks a request whose secret (a trigger token) is wrong.
// It maps to 401 AuthenticationFailed.
var ErrUnauthorized = errors.New("unauthorized")

// Error is an error whose message is meant for the API caller. Kind decides
// the HTTP status (ErrInvalid, ErrUnauthorized, store.ErrNotFound,
// store.ErrConflict); Cause, if any, is kept for logs and errors.Is.
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
	return &Error{Kind: store.ErrNotFound, Message: msg, Cause: cause}
}

func conflict(msg string, cause error) error {
	return &Error{Kind: store.ErrConflict, Message: msg, Cause: cause}
}
