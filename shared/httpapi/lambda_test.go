package httpapi

import (
	"context"
	"encoding/base64"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
)

func TestLambdaAdapter(t *testing.T) {
	e := newTestEnv(t, nil)
	h := Lambda(e.router)
	ctx := context.Background()
	ev := func(method, rawPath, body string, b64 bool) events.APIGatewayV2HTTPRequest {
		r := events.APIGatewayV2HTTPRequest{
			Version: "2.0", RawPath: rawPath, Body: body, IsBase64Encoded: b64,
			Headers: map[string]string{"content-type": "application/json", "host": "hooks.example.com"},
		}
		r.RequestContext.HTTP.Method = method
		r.RequestContext.HTTP.SourceIP = "203.0.113.9"
		return r
	}
	res, err := h(ctx, ev("PUT", hooksURL+"/foo/bar%2Fslash", hookBody(nil), false))
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("create: %v %d %s", err, res.StatusCode, res.Body)
	}
	res, _ = h(ctx, ev("GET", hooksURL+"/foo/bar%2Fslash", "", false))
	if res.StatusCode != 200 || !strings.Contains(res.Body, `"hookId":"bar/slash"`) {
		t.Fatalf("get: %d %s", res.StatusCode, res.Body)
	}
	if res.Headers["Content-Type"] != "application/json; charset=utf-8" {
		t.Fatalf("headers: %v", res.Headers)
	}
	b64 := base64.StdEncoding.EncodeToString([]byte(hookBody(nil)))
	res, _ = h(ctx, ev("PUT", hooksURL+"/foo/b64", b64, true))
	if res.StatusCode != 200 {
		t.Fatalf("base64 body: %d %s", res.StatusCode, res.Body)
	}
	res, err = h(ctx, ev("PUT", hooksURL+"/foo/bad", "!!!", true))
	if err != nil || res.StatusCode != 400 || !strings.Contains(res.Body, "MalformedPayload") {
		t.Fatalf("bad base64: %v %d %s", err, res.StatusCode, res.Body)
	}
	res, err = h(ctx, ev("GET", hooksURL+"/foo/nope", "", false))
	if err != nil || res.StatusCode != 404 || !strings.Contains(res.Body, "ResourceNotFound") {
		t.Fatalf("missing hook must be (404, nil): %v %d", err, res.StatusCode)
	}
}
