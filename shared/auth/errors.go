package auth

import (
	"net/http"
	"strings"
)

// Error codes, as Taskcluster names them in API error bodies.
const (
	CodeAuthenticationFailed = "AuthenticationFailed"
	CodeInsufficientScopes   = "InsufficientScopes"
)

// Error is an authentication or authorization refusal, worded as Taskcluster
// words it. Code is CodeAuthenticationFailed (HTTP 401; the response must
// also carry "WWW-Authenticate: hawk") or CodeInsufficientScopes (HTTP 403).
// Message never contains secrets or the Authorization header.
type Error struct {
	Code    string
	Message string
}

// Sentinels for errors.Is: any *Error with the same Code matches.
var (
	ErrAuthenticationFailed = &Error{Code: CodeAuthenticationFailed, Message: "authentication failed"}
	ErrInsufficientScopes   = &Error{Code: CodeInsufficientScopes, Message: "insufficient scopes"}
)

// Error returns the message.
func (e *Error) Error() string { return e.Message }

// Is reports whether target is an *Error with the same Code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t != nil && e != nil && t.Code == e.Code
}

// StatusCode is the HTTP status Taskcluster answers with: 401 or 403
// (500 for an unknown code).
func (e *Error) StatusCode() int {
	switch e.Code {
	case CodeAuthenticationFailed:
		return http.StatusUnauthorized
	case CodeInsufficientScopes:
		return http.StatusForbidden
	}
	return http.StatusInternalServerError
}

func authFailed(msg string) *Error {
	return &Error{Code: CodeAuthenticationFailed, Message: msg}
}

const twoSchemesMessage = "Cannot use two authentication schemes at once this request has both bewit in querystring and 'authorization' header"

// insufficientScopes builds Taskcluster's 403 message.
func insufficientScopes(c Caller, required Expr) *Error {
	var b strings.Builder
	if c.Authenticated {
		b.WriteString("Client ID ")
		b.WriteString(c.ClientID)
		b.WriteString(" does not have sufficient scopes and is missing the following scopes:\n\n```\n")
		b.WriteString(required.Missing(c.Scopes).describe())
		b.WriteString("\n```\n\nThis request requires the client to satisfy the following scope expression:\n\n```\n")
	} else {
		b.WriteString("This request requires Taskcluster credentials that satisfy the following scope expression:\n\n```\n")
	}
	b.WriteString(required.describe())
	b.WriteString("\n```")
	return &Error{Code: CodeInsufficientScopes, Message: b.String()}
}

// payloadMismatch builds Taskcluster's message for a payload hash that does
// not match the body. Taskcluster leaves its {{hash}} placeholder unfilled;
// we fill it with the hash the client claimed.
func payloadMismatch(claimed, computed string) *Error {
	return authFailed("Invalid payload hash: " + claimed + "\nComputed payload hash: " + computed +
		"\nThis happens when your request carries a signed hash of the payload and the hash doesn't match the hash we've computed on the server-side.")
}
