package httpapi

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"unicode/utf8"

	"github.com/aws/aws-lambda-go/events"
)

type lambdaEventKey struct{}

// LambdaEvent returns the API Gateway event behind a request served through
// Lambda, if any.
func LambdaEvent(ctx context.Context) (*events.APIGatewayV2HTTPRequest, bool) {
	ev, ok := ctx.Value(lambdaEventKey{}).(*events.APIGatewayV2HTTPRequest)
	return ev, ok
}

// Lambda adapts an http.Handler to an API Gateway HTTP API (payload format
// 2.0) Lambda handler. The response is buffered. Every HTTP outcome,
// including errors the handler writes, comes back as (response, nil): a Go
// error would only become API Gateway's bare 500.
func Lambda(h http.Handler) func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return func(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
		req, err := requestFromEvent(ctx, &ev)
		if err != nil {
			return events.APIGatewayV2HTTPResponse{
				StatusCode: http.StatusBadRequest,
				Headers:    map[string]string{"Content-Type": "application/json"},
				Body:       fmt.Sprintf(`{"code":"MalformedPayload","message":%q,"requestInfo":{}}`, err.Error()),
			}, nil
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return responseFromRecorder(rec), nil
	}
}

func requestFromEvent(ctx context.Context, ev *events.APIGatewayV2HTTPRequest) (*http.Request, error) {
	var body []byte
	if ev.IsBase64Encoded {
		b, err := base64.StdEncoding.DecodeString(ev.Body)
		if err != nil {
			return nil, fmt.Errorf("body is not valid base64: %w", err)
		}
		body = b
	} else {
		body = []byte(ev.Body)
	}
	path := ev.RawPath
	if path == "" {
		path = "/"
	}
	target := path
	if ev.RawQueryString != "" {
		target += "?" + ev.RawQueryString
	}
	method := ev.RequestContext.HTTP.Method
	if method == "" {
		method = http.MethodGet
	}
	ctx = context.WithValue(ctx, lambdaEventKey{}, ev)
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
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

func responseFromRecorder(rec *httptest.ResponseRecorder) events.APIGatewayV2HTTPResponse {
	res := events.APIGatewayV2HTTPResponse{StatusCode: rec.Code, Headers: map[string]string{}}
	for k, vs := range rec.Header() {
		if strings.EqualFold(k, "Set-Cookie") {
			res.Cookies = append(res.Cookies, vs...)
			continue
		}
		res.Headers[k] = strings.Join(vs, ",")
	}
	b := rec.Body.Bytes()
	if utf8.Valid(b) {
		res.Body = string(b)
	} else {
		res.Body = base64.StdEncoding.EncodeToString(b)
		res.IsBase64Encoded = true
	}
	return res
}
