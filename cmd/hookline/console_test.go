package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
)

// `serve` serves the web console beside the API, with task links to its
// local queue.
func TestServeConsole(t *testing.T) {
	base, _, _ := startServe(t, nil)
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.Get(base + "/console")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "console/index.html" {
		t.Fatalf("/console: %d %v", res.StatusCode, res.Header)
	}
	res, err = http.Get(base + "/console/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Content-Security-Policy"), "script-src 'self'") ||
		!strings.Contains(string(body), `content="../api/queue/v1/task/{taskId}"`) {
		t.Fatalf("/console/: %d %v\n%s", res.StatusCode, res.Header, body)
	}
	// The API is still there.
	res, err = http.Get(base + "/api/hookline/v1/whoami")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("whoami: %d", res.StatusCode)
	}
}
