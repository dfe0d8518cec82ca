package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/taskcluster"
)

// Taskcluster error codes, as lib-api names them (shared with the queue
// client, which reads them from other services' answers).
const (
	CodeMalformedPayload        = taskcluster.CodeMalformedPayload
	CodeInvalidRequestArguments = taskcluster.CodeInvalidRequestArguments
	CodeInputValidationError    = taskcluster.CodeInputValidationError
	CodeInputError              = taskcluster.CodeInputError
	CodeAuthenticationFailed    = taskcluster.CodeAuthenticationFailed
	CodeInsufficientScopes      = taskcluster.CodeInsufficientScopes
	CodeResourceNotFound        = taskcluster.CodeResourceNotFound
	CodeRequestConflict         = taskcluster.CodeRequestConflict
	CodeInputTooLarge           = taskcluster.CodeInputTooLarge
	CodeInternalServerError     = taskcluster.CodeInternalServerError
	// CodeTooManyRequests answers 429 (Hookline's webhook rate limit;
	// upstream has no such answer).
	CodeTooManyRequests = "TooManyRequests"
	// CodeServiceUnavailable answers 503: the server holds as many
	// request bodies as its memory budget allows (bodyBudget). Upstream
	// has no such answer; its clients retry every 5xx.
	CodeServiceUnavailable = "ServiceUnavailable"
)

// apiError is an error the router raises itself (bad JSON, bad parameters,
// unknown routes) with the code and message to send.
type apiError struct {
	status  int
	code    string
	message string
}

func (e *apiError) Error() string { return e.code + ": " + e.message }

func newAPIError(status int, code, format string, args ...any) error {
	return &apiError{status: status, code: code, message: fmt.Sprintf(format, args...)}
}

// tooManyRequests is a request refused by a rate limit; the caller may
// retry after retryAfter.
type tooManyRequests struct {
	message    string
	retryAfter time.Duration
}

func (e *tooManyRequests) Error() string { return CodeTooManyRequests + ": " + e.message }

// retryAfterSeconds is the Retry-After value: whole seconds, rounded up,
// at least 1.
func (e *tooManyRequests) retryAfterSeconds() int64 {
	return max(1, int64((e.retryAfter+time.Second-1)/time.Second))
}

// classify maps any error to its HTTP status, Taskcluster code and the
// message the caller may see. It is the one place where errors become API
// answers; everything unexpected is a 500 whose cause stays in the logs.
func classify(err error) (status int, code, message string) {
	var ae *apiError
	if errors.As(err, &ae) {
		return ae.status, ae.code, ae.message
	}
	var tm *tooManyRequests
	if errors.As(err, &tm) {
		return http.StatusTooManyRequests, CodeTooManyRequests, tm.message
	}
	var busy *serverBusy
	if errors.As(err, &busy) {
		return http.StatusServiceUnavailable, CodeServiceUnavailable, busy.message
	}
	var se *hooks.SignatureError
	if errors.As(err, &se) {
		return http.StatusUnauthorized, CodeAuthenticationFailed, se.Message
	}
	var authErr *auth.Error
	if errors.As(err, &authErr) {
		if authErr.Code == CodeInsufficientScopes {
			return http.StatusForbidden, CodeInsufficientScopes, authErr.Message
		}
		return http.StatusUnauthorized, CodeAuthenticationFailed, authErr.Message
	}
	var ve *schemas.ValidationError
	if errors.As(err, &ve) {
		return http.StatusBadRequest, CodeInputValidationError, validationMessage(ve)
	}
	var tl *store.TooLargeError
	if errors.As(err, &tl) {
		return http.StatusRequestEntityTooLarge, CodeInputTooLarge, tooLargeMessage(tl)
	}
	var fe *hooks.FireError
	if errors.As(err, &fe) {
		return fireErrorAnswer(fe)
	}
	var he *hooks.Error
	if errors.As(err, &he) {
		switch {
		case errors.Is(he.Kind, hooks.ErrInvalid):
			return http.StatusBadRequest, CodeInputError, he.Message
		case errors.Is(he.Kind, hooks.ErrUnauthorized):
			return http.StatusUnauthorized, CodeAuthenticationFailed, he.Message
		case errors.Is(he.Kind, hooks.ErrNotFound):
			return http.StatusNotFound, CodeResourceNotFound, he.Message
		case errors.Is(he.Kind, hooks.ErrConflict), errors.Is(he.Kind, hooks.ErrPaused):
			return http.StatusConflict, CodeRequestConflict, he.Message
		}
	}
	return http.StatusInternalServerError, CodeInternalServerError,
		"Internal Server Error: the failure has been logged; please try again later"
}

// tooLargeMessage says which record was over which limit, and what to do.
func tooLargeMessage(e *store.TooLargeError) string {
	what := "the " + e.Kind
	switch e.Kind {
	case store.KindHook:
		what = "the hook definition"
	case store.KindSettings:
		what = "the hook's settings"
	}
	return fmt.Sprintf("%s would be %d bytes as stored, over the limit of %s; make it smaller", what, e.Size, store.FormatSize(e.Limit))
}

// validationMessage lists a schema refusal's problems (at most
// schemas.MaxProblems, then how many more), written once into one buffer:
// a message grown by concatenation cost time quadratic in the problems.
func validationMessage(ve *schemas.ValidationError) string {
	var b strings.Builder
	const head = "Schema validation error:\n"
	n := len(head)
	for _, p := range ve.Problems {
		n += len(p) + 4
	}
	more := ve.MoreLine()
	b.Grow(n + len(more) + 1)
	b.WriteString(head)
	for _, p := range ve.Problems {
		b.WriteString(" * ")
		b.WriteString(p)
		b.WriteByte('\n')
	}
	if more != "" {
		b.WriteString(more)
		b.WriteByte('\n')
	}
	return b.String()
}

// writeError sends err as a Taskcluster error body
// (taskcluster.NewErrorBody). It logs 5xx causes.
func writeError(ctx context.Context, w http.ResponseWriter, log *slog.Logger, err error, apiName string, params map[string]string, payload any, now time.Time) {
	status, code, message := classify(err)
	if status >= 500 && code != CodeServiceUnavailable { // a busy server is no failure; the request log has it
		log.ErrorContext(ctx, "request failed", "method", apiName, "err", err)
	}
	if status == http.StatusUnauthorized {
		var se *hooks.SignatureError
		switch {
		case !errors.As(err, &se):
			w.Header().Set("WWW-Authenticate", "hawk")
		case se.Scheme == hooks.WebhookBearer:
			w.Header().Set("WWW-Authenticate", "Bearer")
		}
	}
	var tm *tooManyRequests
	if errors.As(err, &tm) {
		w.Header().Set("Retry-After", strconv.FormatInt(tm.retryAfterSeconds(), 10))
	}
	var busy *serverBusy
	if errors.As(err, &busy) {
		w.Header().Set("Retry-After", strconv.FormatInt(int64(busy.retryAfter/time.Second), 10))
	}
	writeBody(w, status, taskcluster.NewErrorBody(apiName, status, code, message, params, payload, now).Encode())
}

// secretParams are the path parameters that are credentials (the trigger
// token of triggerHookWithToken).
var secretParams = []string{"token"}

// writeRouteError is writeError for a request that reached route ro. Its
// echo leaves out the secrets the request carried: path parameters that
// are credentials, and the values the route's input schema marks
// writeOnly (webhook secrets) become schemas.Redacted. Upstream echoes
// both as received (lib-api has a per-route cleanPayload for this); but a
// reply is logged by proxies and clients, which must not learn a secret
// from it, even one that its caller sent.
func (rt *Router) writeRouteError(ctx context.Context, w http.ResponseWriter, ro *route, err error, params map[string]string, body map[string]any) {
	for _, name := range secretParams {
		if _, ok := params[name]; ok {
			params = maps.Clone(params)
			params[name] = schemas.Redacted
		}
	}
	var payload any
	if body != nil {
		payload = body
		if ro.input != "" {
			payload = rt.schemas.RedactWriteOnly(ro.input, body)
		}
	}
	writeError(ctx, w, rt.log, err, ro.name, params, payload, rt.now())
}

// writeBody sends a JSON body with status.
func writeBody(w http.ResponseWriter, status int, body []byte) {
	w.Header()["Content-Type"] = jsonContentType // as Set would (router.go)
	w.WriteHeader(status)
	w.Write(body)
}

var jsonContentType = []string{"application/json; charset=utf-8"}

// encodeReply is a route's reply as JSON. A json.RawMessage is already
// JSON, written by this service, and is sent as it is.
func encodeReply(v any) ([]byte, error) {
	if raw, ok := v.(json.RawMessage); ok {
		return raw, nil
	}
	return json.Marshal(v)
}

// fireErrorAnswer reports a failed fire as upstream does: a queue refusal
// for lack of scopes is a 403 naming the hook's role; any other queue
// error, a render error or an unreachable queue is a 400 InputError.
func fireErrorAnswer(fe *hooks.FireError) (int, string, string) {
	if q, ok := fe.Refusal(); ok {
		if q.ErrorCode() == CodeInsufficientScopes {
			return http.StatusForbidden, CodeInsufficientScopes, fmt.Sprintf(
				"The role `hook-id:%s/%s` does not have sufficient scopes to create the task:\n\n%s", fe.HookGroupID, fe.HookID, q.ErrorMessage())
		}
		method := q.APIMethod()
		if method == "" {
			method = "createTask"
		}
		code := q.ErrorCode()
		if code == "" {
			code = fmt.Sprintf("HTTP %d", q.HTTPStatus())
		}
		return http.StatusBadRequest, CodeInputError, fmt.Sprintf("While calling %s: %s\n\n%s", method, code, q.ErrorMessage())
	}
	return http.StatusBadRequest, CodeInputError, "While firing hook:\n\n" + fe.Cause.Error()
}
