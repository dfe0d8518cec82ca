package lambdahttp

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline/shared/testutil"
)

// seen is what the handler saw of a request.
type seen struct {
	Method, URI, Path, Query, Host, RemoteAddr, Body string
	Header                                           map[string]string
	ContentLength                                    int64
}

// echo records the request and answers as the test asks.
func echo(got *seen, answer func(w http.ResponseWriter)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		*got = seen{Method: r.Method, URI: r.RequestURI, Path: r.URL.Path, Query: r.URL.RawQuery, Host: r.Host,
			RemoteAddr: r.RemoteAddr, Body: string(body), ContentLength: r.ContentLength, Header: map[string]string{}}
		for k := range r.Header {
			got.Header[k] = r.Header.Get(k)
		}
		answer(w)
	})
}

func event(method, rawPath, query, body string, b64 bool) events.APIGatewayV2HTTPRequest {
	ev := events.APIGatewayV2HTTPRequest{
		Version: "2.0", RawPath: rawPath, RawQueryString: query, Body: body, IsBase64Encoded: b64,
		Headers: map[string]string{"content-type": "application/json", "host": "hooks.example.com", "x-repeated": "a,b"},
		Cookies: []string{"a=1", "b=2"},
	}
	ev.RequestContext.HTTP.Method = method
	ev.RequestContext.HTTP.SourceIP = "203.0.113.9"
	ev.RequestContext.DomainName = "a1b2c3.execute-api.us-east-1.amazonaws.com"
	return ev
}

// The request the handler sees is the one the event describes: escaped
// path kept, query, joined headers, cookies, a base64 body decoded.
func TestRequest(t *testing.T) {
	for _, tt := range []struct {
		name string
		ev   events.APIGatewayV2HTTPRequest
		want seen
	}{
		{"plain", event("PUT", "/api/hooks/v1/hooks/g/a%2Fb", "x=1&x=2", `{"n":1}`, false), seen{
			Method: "PUT", URI: "/api/hooks/v1/hooks/g/a%2Fb?x=1&x=2", Path: "/api/hooks/v1/hooks/g/a/b", Query: "x=1&x=2",
			Host: "hooks.example.com", RemoteAddr: "203.0.113.9", Body: `{"n":1}`, ContentLength: 7,
			Header: map[string]string{"Content-Type": "application/json", "Host": "hooks.example.com", "X-Repeated": "a,b", "Cookie": "a=1; b=2"},
		}},
		{"base64 body", event("POST", "/p", "", base64.StdEncoding.EncodeToString([]byte("\x00\xffbinary")), true), seen{
			Method: "POST", URI: "/p", Path: "/p", Host: "hooks.example.com", RemoteAddr: "203.0.113.9", Body: "\x00\xffbinary", ContentLength: 8,
			Header: map[string]string{"Content-Type": "application/json", "Host": "hooks.example.com", "X-Repeated": "a,b", "Cookie": "a=1; b=2"},
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got seen
			res, err := Handler(echo(&got, func(w http.ResponseWriter) {}))(context.Background(), tt.ev)
			if err != nil || res.StatusCode != 200 {
				t.Fatalf("%d %v", res.StatusCode, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}
		})
	}
}

// The response is what the handler wrote, as net/http would have sent it.
func TestResponse(t *testing.T) {
	for _, tt := range []struct {
		name   string
		answer func(w http.ResponseWriter)
		want   events.APIGatewayV2HTTPResponse
	}{
		{"status, headers and cookies", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Add("Vary", "a")
			w.Header().Add("Vary", "b")
			w.Header().Add("Set-Cookie", "s=1")
			w.Header().Add("Set-Cookie", "t=2")
			w.WriteHeader(409)
			w.Header().Set("X-Late", "after WriteHeader, not sent")
			w.WriteHeader(500) // the first status counts
			io.WriteString(w, `{"code":"RequestConflict"}`)
		}, events.APIGatewayV2HTTPResponse{StatusCode: 409, Headers: map[string]string{"Content-Type": "application/json", "Vary": "a,b"},
			Cookies: []string{"s=1", "t=2"}, Body: `{"code":"RequestConflict"}`}},
		{"write without WriteHeader sniffs the type", func(w http.ResponseWriter) {
			io.WriteString(w, "<html></html>")
		}, events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "text/html; charset=utf-8"}, Body: "<html></html>"}},
		{"nothing written", func(w http.ResponseWriter) {}, events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{}}},
		{"binary body as base64", func(w http.ResponseWriter) {
			w.Header().Set("Content-Type", "application/octet-stream")
			w.Write([]byte{0xff, 0xfe, 0})
		}, events.APIGatewayV2HTTPResponse{StatusCode: 200, Headers: map[string]string{"Content-Type": "application/octet-stream"},
			Body: base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe, 0}), IsBase64Encoded: true}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var got seen
			res, err := Handler(echo(&got, tt.answer))(context.Background(), event("GET", "/", "", "", false))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, res); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

// An event that is not a valid request is a Taskcluster error answer, not
// a Go error (which API Gateway would turn into a bare 500).
func TestMalformedEvent(t *testing.T) {
	called := false
	h := Handler(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true }))
	res, err := h(context.Background(), event("PUT", "/p", "", "!!!", true))
	if err != nil || called || res.StatusCode != 400 {
		t.Fatalf("%d %v, handler called %v", res.StatusCode, err, called)
	}
	var body struct {
		Code, Message string
		RequestInfo   map[string]any
	}
	if err := json.Unmarshal([]byte(res.Body), &body); err != nil || body.Code != "MalformedPayload" ||
		!strings.Contains(body.Message, "base64") || body.RequestInfo["time"] == nil {
		t.Fatalf("body %s (%v)", res.Body, err)
	}
}

// The sample events of infra/events are HTTP API payloads the adapter
// reads as the router expects them.
func TestSampleEvents(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(testutil.RepoRoot(t), "infra", "events", "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var ev events.APIGatewayV2HTTPRequest
		if json.Unmarshal(raw, &ev) != nil || ev.Version != "2.0" {
			continue // not an HTTP API event
		}
		n++
		var got seen
		if _, err := Handler(echo(&got, func(http.ResponseWriter) {}))(context.Background(), ev); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if got.Method != ev.RequestContext.HTTP.Method || got.URI != ev.RawPath || got.Host == "" || got.RemoteAddr != ev.RequestContext.HTTP.SourceIP {
			t.Errorf("%s: request %+v", filepath.Base(f), got)
		}
	}
	if n == 0 {
		t.Fatal("no HTTP API events in infra/events")
	}
}
