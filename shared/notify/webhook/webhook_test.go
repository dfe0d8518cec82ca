package webhook

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"go.uber.org/goleak"
)

// The poster keeps connections: none may outlive the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestPost(t *testing.T) {
	var got struct {
		body   string
		header http.Header
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got.body, got.header = string(b), r.Header
		if r.URL.Path == "/moved" {
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer srv.Close()
	ctx := context.Background()

	// The test server is on loopback: refused unless allowed.
	strict := New(Options{})
	defer strict.CloseIdleConnections()
	if _, err := strict.Post(ctx, srv.URL+"/n", nil, []byte(`{}`)); !errors.Is(err, ErrPrivateAddress) {
		t.Fatalf("loopback without permission: %v", err)
	}
	p := New(Options{AllowPrivate: true})
	defer p.CloseIdleConnections()
	status, err := p.Post(ctx, srv.URL+"/n", map[string]string{"X-Hookline-Event": "task-failed", "Content-Type": "application/json"}, []byte(`{"a":1}`))
	if err != nil || status != http.StatusAccepted || got.body != `{"a":1}` || got.header.Get("X-Hookline-Event") != "task-failed" {
		t.Fatalf("post: %d %v %+v", status, err, got)
	}
	// A redirect is an answer, not followed.
	if status, err := p.Post(ctx, srv.URL+"/moved", nil, nil); err != nil || status != http.StatusFound {
		t.Fatalf("redirect: %d %v", status, err)
	}
}

func TestPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "2606:2800:220:1:248:1893:25c8:1946": true,
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "fd00::1": false, "0.0.0.0": false, "100.64.0.1": false, "224.0.0.1": false,
	} {
		if got := public(net.ParseIP(addr)); got != want {
			t.Errorf("public(%s) = %v", addr, got)
		}
	}
}
