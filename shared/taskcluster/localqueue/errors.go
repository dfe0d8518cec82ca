package localqueue

import (
	"bytes"
	"encoding/json"
	"fmt"
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

// requestInfo is the requestInfo member of a Taskcluster error body.
type requestInfo struct {
	Method  string            `json:"method"`
	Params  map[string]string `json:"params"`
	Payload any               `json:"payload"`
	Time    string            `json:"time"`
}

// apiError builds the *taskcluster.APIError a Taskcluster service would
// answer with, message footer included; Body is the complete error body.
func (c call) apiError(f *failure) *taskcluster.APIError {
	stamp := c.now.UTC().Format(jsTime)
	message := f.message + fmt.Sprintf("\n\n---\n\n* method:     %s\n* errorCode:  %s\n* statusCode: %d\n* time:       %s",
		c.method, f.code, f.status, stamp)
	payload := c.payload
	if payload == nil {
		payload = map[string]any{}
	}
	params := map[string]string{}
	if c.taskID != "" {
		params["taskId"] = c.taskID
	}
	info := requestInfo{Method: c.method, Params: params, Payload: payload, Time: stamp}
	infoJSON, err := encodeJSON(info)
	if err != nil {
		infoJSON = []byte("{}") // a decoded JSON payload always encodes
	}
	body, err := encodeJSON(struct {
		Code        string          `json:"code"`
		Message     string          `json:"message"`
		RequestInfo json.RawMessage `json:"requestInfo"`
	}{f.code, message, infoJSON})
	if err != nil {
		body = []byte(`{"code":"InternalServerError","message":"error could not be encoded","requestInfo":{}}`)
	}
	return &taskcluster.APIError{
		StatusCode:  f.status,
		Code:        f.code,
		Message:     message,
		RequestInfo: infoJSON,
		Method:      c.method,
		Body:        body,
	}
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
