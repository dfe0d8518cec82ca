package taskcluster

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hookline/hookline/shared/jsontext"
)

// TimeFormat is how Taskcluster services write times: JavaScript's
// Date.prototype.toJSON, UTC to the millisecond.
const TimeFormat = "2006-01-02T15:04:05.000Z"

// ErrorBody is the body of a Taskcluster service's error answer, {code,
// message, requestInfo}, as lib-api's error middleware writes it. Every
// error Hookline answers (its APIs, the Lambda adapter, the local queue)
// is built by NewErrorBody; APIError is a client's reading of one.
type ErrorBody struct {
	Code        string      `json:"code"`
	Message     string      `json:"message"`
	RequestInfo RequestInfo `json:"requestInfo"`
}

// RequestInfo describes the call that failed.
type RequestInfo struct {
	// Method is the API method's name, e.g. "createTask"; "" when no
	// method was matched.
	Method  string            `json:"method"`
	Params  map[string]string `json:"params"`
	Payload any               `json:"payload"`
	Time    string            `json:"time"`
}

// NewErrorBody is lib-api's answer to a failed call of method with status
// and code: the message gets lib-api's footer (method, errorCode,
// statusCode, time), and nil params or payload are written as {}.
func NewErrorBody(method string, status int, code, message string, params map[string]string, payload any, now time.Time) ErrorBody {
	stamp := now.UTC().Format(TimeFormat)
	if params == nil {
		params = map[string]string{}
	}
	if payload == nil {
		payload = map[string]any{}
	}
	return ErrorBody{
		Code:        code,
		Message:     message + fmt.Sprintf("\n\n---\n\n* method:     %s\n* errorCode:  %s\n* statusCode: %d\n* time:       %s", method, code, status, stamp),
		RequestInfo: RequestInfo{Method: method, Params: params, Payload: payload, Time: stamp},
	}
}

// Encode writes the body as JSON as lib-api does (JSON.stringify: no
// HTML escaping). A payload that cannot be encoded, which one decoded from
// JSON always can, is written as {}.
//
// A payload nested deeper than maxEchoDepth is written as {} too: the
// answer to a payload refused for its depth must be readable by the
// client that sent it, and JSON decoders stop at some depth (Go's at
// 10,000 levels, which the body adds two to).
func (b ErrorBody) Encode() []byte {
	out, err := encodeUnescaped(b)
	if err != nil || jsontext.NestingExceeds(out, maxEchoDepth) {
		b.RequestInfo.Payload = map[string]any{}
		out, _ = encodeUnescaped(b) // strings and string maps always encode
	}
	return out
}

// maxEchoDepth bounds the nesting of an error body that echoes the
// payload: JSON-e's limit for the payload (jsone.DefaultMaxDepth), and
// the body's own two levels (the body, requestInfo).
const maxEchoDepth = 512 + 2

// APIError is what a client reads from this body, answered with status
// (the body's requestInfo names the method): the error a service in this
// process returns, as if it had come over HTTP.
func (b ErrorBody) APIError(status int) *APIError {
	return newAPIError(b.RequestInfo.Method, status, b.Encode())
}

func encodeUnescaped(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
