package localqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net/http"
	"strings"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/taskcluster"
)

// Prefix is where Handler serves the queue API.
const Prefix = "/api/queue/v1/"

// maxBody is lib-api's input limit (10 MB), over HTTP and in process.
const maxBody = 10 << 20

func tooLarge() *failure {
	return &failure{http.StatusRequestEntityTooLarge, taskcluster.CodeInputTooLarge, "The request body is larger than 10 MB"}
}

// Authorizer authenticates a request and checks it against a scope
// expression: auth.Static and auth.Remote implement it. body is the
// complete request body. Refusals are *auth.Error values with Code
// "AuthenticationFailed" (401) or "InsufficientScopes" (403); a caller
// without credentials gets the anonymous scopes.
type Authorizer interface {
	Authorize(ctx context.Context, r *http.Request, body []byte, required auth.Expr) (auth.Caller, error)
}

// Handler serves the queue API under Prefix:
//
//	GET  /api/queue/v1/ping                   {alive, uptime}
//	PUT  /api/queue/v1/task/<taskId>          createTask (scopes checked with authz)
//	GET  /api/queue/v1/task/<taskId>          task definition
//	GET  /api/queue/v1/task/<taskId>/status   {status}
//	POST /api/queue/v1/claim-work/<provisionerId>/<workerType>, and
//	POST /api/queue/v1/task/<taskId>/runs/<runId>/{reclaim,completed,failed,exception}
//	     the worker side (worker.go)
//
// Errors are Taskcluster error bodies {code, message, requestInfo}. The
// reads are public, as upstream. authz must not be nil.
func (q *Queue) Handler(authz Authorizer) http.Handler {
	return &handler{q: q, authz: authz}
}

type handler struct {
	q     *Queue
	authz Authorizer
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hdr := w.Header()
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Access-Control-Allow-Origin", "*")
	rest, ok := strings.CutPrefix(r.URL.Path, Prefix)
	if !ok {
		h.notFound(w, r)
		return
	}
	ctx := r.Context()
	parts := strings.Split(rest, "/")
	switch {
	case rest == "ping" && isGet(r):
		uptime := h.q.now().Sub(h.q.started).Seconds()
		out, err := encodeJSON(map[string]any{"alive": true, "uptime": math.Max(uptime, 0)})
		h.answer(w, r, call{method: "ping", now: h.q.now()}, out, err)
	case len(parts) == 2 && parts[0] == "task" && r.Method == http.MethodPut:
		h.createTask(w, r, parts[1])
	case len(parts) == 2 && parts[0] == "task" && isGet(r):
		out, err := h.q.Task(ctx, parts[1])
		h.answer(w, r, call{method: "task", taskID: parts[1], now: h.q.now()}, out, err)
	case len(parts) == 3 && parts[0] == "task" && parts[2] == "status" && isGet(r):
		out, err := h.q.Status(ctx, parts[1])
		h.answer(w, r, call{method: "status", taskID: parts[1], now: h.q.now()}, out, err)
	case len(parts) == 3 && parts[0] == "claim-work" && r.Method == http.MethodPost:
		h.claimWork(w, r, parts[1], parts[2])
	case len(parts) == 5 && parts[0] == "task" && parts[2] == "runs" && r.Method == http.MethodPost &&
		(parts[4] == "completed" || parts[4] == "failed" || parts[4] == "exception" || parts[4] == "reclaim"):
		h.runReport(w, r, parts[1], parts[3], parts[4])
	default:
		h.notFound(w, r)
	}
}

func isGet(r *http.Request) bool { return r.Method == http.MethodGet || r.Method == http.MethodHead }

// createTask follows lib-api's order: body, authentication, parameters,
// then the handler (schema, scopes, dates, storage).
func (h *handler) createTask(w http.ResponseWriter, r *http.Request, taskID string) {
	ctx := r.Context()
	c := call{method: "createTask", taskID: taskID, now: h.q.now()}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		h.fail(w, c, c.apiError(&failure{http.StatusBadRequest, taskcluster.CodeMalformedPayload, "could not read the request body"}))
		return
	}
	if len(body) > maxBody {
		h.fail(w, c, c.apiError(tooLarge()))
		return
	}
	if len(body) > 0 {
		mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
		if mt != "application/json" {
			h.fail(w, c, c.apiError(&failure{http.StatusBadRequest, taskcluster.CodeMalformedPayload, "The request body must be sent as Content-Type: application/json"}))
			return
		}
		if !json.Valid(body) {
			h.fail(w, c, c.apiError(&failure{http.StatusBadRequest, taskcluster.CodeMalformedPayload, "Failed to parse JSON payload"}))
			return
		}
	}
	// Authenticate now (AllOf() asks for no scope); the scopes are checked
	// once the definition says which ones are needed.
	caller, err := h.authz.Authorize(ctx, r, body, auth.AllOf())
	if err != nil {
		h.fail(w, c, h.authError(c, err))
		return
	}
	for key := range r.URL.Query() {
		if key != "bewit" {
			h.fail(w, c, c.apiError(&failure{http.StatusBadRequest, taskcluster.CodeInvalidRequestArguments,
				"query-string parameter '" + key + "' is not supported"}))
			return
		}
	}
	authorize := func(required auth.Expr) *failure {
		if required.SatisfiedBy(caller.Scopes) {
			return nil
		}
		return insufficientScopes(caller.ClientID, caller.Authenticated, false, caller.Scopes, required)
	}
	out, err := h.q.create(ctx, taskID, body, authorize, nil)
	h.answer(w, r, c, out, err)
}

// authError turns an Authorizer refusal into the answer to send.
func (h *handler) authError(c call, err error) error {
	var ae *auth.Error
	if !errors.As(err, &ae) {
		return fmt.Errorf("localqueue: authorize: %w", err)
	}
	switch ae.Code {
	case auth.CodeAuthenticationFailed:
		return c.apiError(&failure{http.StatusUnauthorized, taskcluster.CodeAuthenticationFailed, ae.Message})
	case auth.CodeInsufficientScopes:
		return c.apiError(&failure{http.StatusForbidden, taskcluster.CodeInsufficientScopes, ae.Message})
	}
	return fmt.Errorf("localqueue: authorize: unknown code %q: %w", ae.Code, err)
}

// answer writes the result of the call c.
func (h *handler) answer(w http.ResponseWriter, r *http.Request, c call, out json.RawMessage, err error) {
	if err != nil {
		if r.Context().Err() != nil {
			return // the client is gone; nobody reads the answer
		}
		h.fail(w, c, err)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(out)
}

// fail writes err, the outcome of the call c: a *taskcluster.APIError as
// its body, anything else as a logged 500 whose cause stays private.
func (h *handler) fail(w http.ResponseWriter, c call, err error) {
	var ae *taskcluster.APIError
	if !errors.As(err, &ae) || ae.StatusCode >= 500 {
		h.q.log.Error("local queue request failed", "method", c.method, "taskId", c.taskID, "err", err)
		ae = c.apiError(&failure{http.StatusInternalServerError, taskcluster.CodeInternalServerError,
			"Internal Server Error: the failure has been logged; please try again later"})
	}
	if ae.StatusCode == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", "hawk")
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(ae.StatusCode)
	w.Write(ae.Body)
}

func (h *handler) notFound(w http.ResponseWriter, r *http.Request) {
	c := call{method: "unknown", now: h.q.now()}
	h.fail(w, c, c.apiError(&failure{http.StatusNotFound, taskcluster.CodeResourceNotFound,
		"No such route: " + r.Method + " " + r.URL.Path}))
}
