// Package lambdahttp serves API Gateway HTTP API events (payload format
// 2.0) with an http.Handler, so the api and webhook functions run the same
// router as `hookline serve`. It follows aws-lambda-go's lambdaurl: the
// request is built with http.NewRequestWithContext from the raw path and
// query, base64 bodies are decoded; but the response is buffered by a
// ResponseWriter of this package and returned whole, as an HTTP API
// integration expects.
package lambdahttp

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hookline/hookline/shared/taskcluster"
)

// Handler adapts h to a Lambda handler for HTTP API events. Every HTTP
// outcome, an event that is not a valid request included, comes back as
// (response, nil): a Go error would only become API Gateway's bare 500.
func Handler(h http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		req, err := request(ctx, &ev)
		if err != nil {
			// The same answer the router gives a body it cannot read.
			body := taskcluster.NewErrorBody("", http.StatusBadRequest, taskcluster.CodeMalformedPayload, err.Error(), nil, nil, time.Now())
			return events.APIGatewayV2HTTPResponse{
				StatusCode: http.StatusBadRequest,
				Headers:    map[string]string{"Content-Type": "application/json; charset=utf-8"},
				Body:       string(body.Encode()),
			}, nil
		}
		w := &responseWriter{header: http.Header{}}
		h.ServeHTTP(w, req)
		return w.response(), nil
	}
}

// request builds the *http.Request an event describes.
func request(ctx context.Context, ev *events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	body := []byte(ev.Body)
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return nil, fmt.Errorf("the request body is not valid base64: %w", err)
		}
		body = b
	}
	target := ev.RawPath
	if target == "" {
		target = "/"
	}
	if ev.RawQueryString != "" {
		target += "?" + ev.RawQueryString
	}
	method := ev.RequestContext.HTTP.Method
	if method == "" {
		method = http.MethodGet
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("the request is not valid: %w", err)
	}
	for k, v := range ev.Headers {
		// HTTP API joins repeated headers with commas; keep them joined.
		req.Header.Set(k, v)
	}
	if len(ev.Cookies) > 0 {
		req.Header.Set("Cookie", strings.Join(ev.Cookies, "; "))
	}
	req.Host = req.Header.Get("Host")
	if req.Host == "" {
		req.Host = ev.RequestContext.DomainName
	}
	req.RemoteAddr = ev.RequestContext.HTTP.SourceIP
	req.RequestURI = target
	req.ContentLength = int64(len(body))
	return req, nil
}

// responseWriter buffers a response for the integration: the status and
// the headers as they were when it was written (as net/http sends them),
// and the body.
type responseWriter struct {
	header      http.Header
	wroteHeader bool
	status      int
	sent        http.Header
	body        bytes.Buffer
}

func (w *responseWriter) Header() http.Header { return w.header }

// WriteHeader records the status; only the first call counts, and the
// headers are taken as they are now.
func (w *responseWriter) WriteHeader(status int) {
	if w.wroteHeader {
		return
	}
	w.wroteHeader, w.status, w.sent = true, status, w.header.Clone()
}

// Write buffers p. A first write without WriteHeader sends 200, with a
// Content-Type sniffed from p when the handler set none, as net/http does.
func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wroteHeader {
		if w.header.Get("Content-Type") == "" && w.header.Get("Transfer-Encoding") == "" {
			w.header.Set("Content-Type", http.DetectContentType(p))
		}
		w.WriteHeader(http.StatusOK)
	}
	return w.body.Write(p)
}

// response is the buffered response as the integration takes it: cookies
// apart, repeated headers joined with commas, and a body that is not UTF-8
// text sent as base64.
func (w *responseWriter) response() events.APIGatewayV2HTTPResponse {
	w.WriteHeader(http.StatusOK) // a handler that wrote nothing answered 200
	res := events.APIGatewayV2HTTPResponse{StatusCode: w.status, Headers: map[string]string{}}
	for k, vs := range w.sent {
		if strings.EqualFold(k, "Set-Cookie") {
			res.Cookies = append(res.Cookies, vs...)
			continue
		}
		res.Headers[k] = strings.Join(vs, ",")
	}
	if b := w.body.Bytes(); utf8.Valid(b) {
		res.Body = string(b)
	} else {
		res.Body = base64.StdEncoding.EncodeToString(b)
		res.IsBase64Encoded = true
	}
	return res
}
