package taskcluster

import (
	"encoding/json"
	"errors"
	"fmt"
)

// Taskcluster error codes a queue answers with (lib-api's
// middleware/errors.js), for building and matching APIErrors.
const (
	CodeMalformedPayload        = "MalformedPayload"
	CodeInvalidRequestArguments = "InvalidRequestArguments"
	CodeInputValidationError    = "InputValidationError"
	CodeInputError              = "InputError"
	CodeAuthenticationFailed    = "AuthenticationFailed"
	CodeInsufficientScopes      = "InsufficientScopes"
	CodeResourceNotFound        = "ResourceNotFound"
	CodeRequestConflict         = "RequestConflict"
	CodeInputTooLarge           = "InputTooLarge"
	CodeInternalServerError     = "InternalServerError"
)

// ErrNetwork marks failures where the queue gave no HTTP answer: the
// connection failed, timed out or was cut. errors.Is(err, ErrNetwork)
// tells them from *APIError answers. It is retryable (see IsRetryable).
var ErrNetwork error = networkError{}

// networkError is ErrNetwork's type: retryable, as hooks.Retryable asks.
type networkError struct{}

func (networkError) Error() string { return "network error" }

// Retryable reports true: a call that got no answer may get one later.
func (networkError) Retryable() bool { return true }

// APIError is an HTTP error answer from a Taskcluster service.
type APIError struct {
	// StatusCode is the HTTP status, e.g. 409.
	StatusCode int
	// Code is Taskcluster's error code, e.g. "RequestConflict"; empty when
	// the body was not a Taskcluster error.
	Code string
	// Message is the error message as the service wrote it.
	Message string
	// RequestInfo is the body's requestInfo ({method, params, payload,
	// time}), or nil when there was none.
	RequestInfo json.RawMessage
	// Method is the API method that failed, e.g. "createTask".
	Method string
	// Body is the whole response body when it was JSON, else the body text
	// as a JSON string; nil when the body was empty.
	Body json.RawMessage
}

// Error returns "taskcluster: <method>: <status> <code>: <message>".
func (e *APIError) Error() string {
	code := e.Code
	if code == "" {
		code = "error"
	}
	return fmt.Sprintf("taskcluster: %s: %d %s: %s", e.Method, e.StatusCode, code, e.Message)
}

// The methods below let the hooks domain read an answer through its own
// ports (hooks.QueueRefusal, hooks.Retryable) without knowing this type.

// Retryable reports whether the same call may succeed later: a 5xx answer.
func (e *APIError) Retryable() bool { return e.StatusCode >= 500 }

// HTTPStatus is the answer's HTTP status.
func (e *APIError) HTTPStatus() int { return e.StatusCode }

// ErrorCode is Taskcluster's error code; "" when the body was not a
// Taskcluster error.
func (e *APIError) ErrorCode() string { return e.Code }

// ErrorMessage is the message as the service wrote it.
func (e *APIError) ErrorMessage() string { return e.Message }

// ErrorBody is the whole answer body as JSON; nil when it was empty.
func (e *APIError) ErrorBody() json.RawMessage { return e.Body }

// APIMethod names the API method that failed.
func (e *APIError) APIMethod() string { return e.Method }

// IsRetryable reports whether err is worth retrying later: a 5xx answer
// or a network error. 4xx answers, context cancellation and local errors
// are not.
func IsRetryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Retryable()
	}
	return errors.Is(err, ErrNetwork)
}

// StatusCode returns the HTTP status of an *APIError in err's chain, or 0
// when err is not an HTTP answer (nil, network or local errors).
func StatusCode(err error) int {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode
	}
	return 0
}
