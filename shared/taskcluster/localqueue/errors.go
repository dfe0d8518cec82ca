package localqueue

import (
	"bytes"
	"encoding/json"
	"strings"
	"time"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/taskcluster"
)

// failure is an API refusal before it gets its requestInfo.
type failure struct {
	status  int
	code    string
	message string
}

// call describes the API call a failure belongs to, for requestInfo.
type call struct {
	method  string // API method name, e.g. "createTask"
	taskID  string
	payload any // the request body as decoded, or nil
	now     time.Time
}

// apiError builds the *taskcluster.APIError a Taskcluster service would
// answer with: what a client reads from the error body. Body is the
// complete error body.
func (c call) apiError(f *failure) *taskcluster.APIError {
	params := map[string]string{}
	if c.taskID != "" {
		params["taskId"] = c.taskID
	}
	return taskcluster.NewErrorBody(c.method, f.status, f.code, f.message, params, c.payload, c.now).APIError(f.status)
}

// insufficientScopes words a 403 as Taskcluster's auth does. clientID is
// empty for an anonymous caller and for in-process calls restricted by
// authorizedScopes (inProcess).
func insufficientScopes(clientID string, authenticated, inProcess bool, scopes []string, required auth.Expr) *failure {
	var b strings.Builder
	switch {
	case inProcess:
		b.WriteString("The authorizedScopes of this request do not satisfy the scope expression and are missing the following scopes:\n\n```\n")
		b.WriteString(describe(required.Missing(scopes)))
		b.WriteString("\n```\n\nThis request requires the authorizedScopes to satisfy the following scope expression:\n\n```\n")
	case authenticated:
		b.WriteString("Client ID " + clientID + " does not have sufficient scopes and is missing the following scopes:\n\n```\n")
		b.WriteString(describe(required.Missing(scopes)))
		b.WriteString("\n```\n\nThis request requires the client to satisfy the following scope expression:\n\n```\n")
	default:
		b.WriteString("This request requires Taskcluster credentials that satisfy the following scope expression:\n\n```\n")
	}
	b.WriteString(describe(required))
	b.WriteString("\n```")
	return &failure{403, taskcluster.CodeInsufficientScopes, b.String()}
}

// describe renders an expression as Taskcluster's messages do: a single
// scope as is, anything else as JSON indented by two spaces.
func describe(e auth.Expr) string {
	s := e.String()
	if strings.HasPrefix(s, `"`) {
		var scope string
		if json.Unmarshal([]byte(s), &scope) == nil {
			return scope
		}
	}
	var b bytes.Buffer
	if json.Indent(&b, []byte(s), "", "  ") != nil {
		return s
	}
	return b.String()
}
