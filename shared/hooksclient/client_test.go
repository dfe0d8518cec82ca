package hooksclient

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/auth"
)

const testToken = "test-access-token-0123456789"

// server answers every request with answer after checking its Hawk
// signature with the same authenticator Hookline uses.
func server(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, body []byte)) *httptest.Server {
	t.Helper()
	authz, err := auth.NewStatic(auth.Config{Clients: []auth.Client{{ClientID: "tester", AccessToken: testToken, Scopes: []string{"hooks:*"}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		caller, err := authz.Authorize(r.Context(), r, body, auth.Scope("hooks:x"))
		if err != nil || caller.ClientID != "tester" {
			w.WriteHeader(http.StatusUnauthorized)
			json.NewEncoder(w).Encode(map[string]string{"code": "AuthenticationFailed", "message": "bad signature"})
			return
		}
		answer(w, r, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newClient(t *testing.T, root string) *Client {
	t.Helper()
	c, err := New(root, auth.Credentials{ClientID: "tester", AccessToken: testToken}, &Options{Backoff: func(int) time.Duration { return time.Millisecond }})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClient_SignsAndEscapes(t *testing.T) {
	var seen []string
	srv := server(t, func(w http.ResponseWriter, r *http.Request, body []byte) {
		seen = append(seen, r.Method+" "+r.URL.EscapedPath()+" "+string(body))
		io.WriteString(w, `{"hookGroupId":"g","hookId":"a/b"}`)
	})
	c := newClient(t, srv.URL+"/")
	ctx := context.Background()
	if _, err := c.CreateHook(ctx, "g", "a/b", json.RawMessage(`{"x":1}`)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.PutSettings(ctx, "g", "a/b", json.RawMessage(`{}`)); err != nil {
		// The fake answers whoami with a hook, which has no scopes: not Hookline.
		if !errors.Is(err, ErrNoHooklineAPI) {
			t.Fatal(err)
		}
	}
	want := []string{
		`PUT /api/hooks/v1/hooks/g/a%2Fb {"x":1}`,
		`GET /api/hookline/v1/whoami `,
	}
	if strings.Join(seen, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
	}
}

func TestClient_TemporaryCredentials(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request, _ []byte) { io.WriteString(w, `{"groups":["g"]}`) })
	now := time.Now()
	temp, err := auth.CreateTemporaryCredentials(auth.Credentials{ClientID: "tester", AccessToken: testToken}, []string{"hooks:*"}, now.Add(-time.Minute), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	c, err := New(srv.URL, temp, nil)
	if err != nil {
		t.Fatal(err)
	}
	if groups, err := c.ListHookGroups(context.Background()); err != nil || len(groups) != 1 {
		t.Fatalf("temporary credentials: %v %v", groups, err)
	}
}

func TestClient_Errors(t *testing.T) {
	var calls atomic.Int32
	srv := server(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
		n := calls.Add(1)
		switch {
		case strings.HasSuffix(r.URL.Path, "/flaky") && n == 1:
			w.WriteHeader(http.StatusBadGateway)
		case strings.HasSuffix(r.URL.Path, "/flaky"):
			io.WriteString(w, `{}`)
		case strings.HasSuffix(r.URL.Path, "/missing"):
			w.WriteHeader(http.StatusNotFound)
			io.WriteString(w, `{"code":"ResourceNotFound","message":"no such hook\n\n---\n\n* method: hook"}`)
		default:
			w.WriteHeader(http.StatusInternalServerError)
		}
	})
	c := newClient(t, srv.URL)
	ctx := context.Background()
	if _, err := c.Hook(ctx, "g", "flaky"); err != nil {
		t.Fatalf("a 502 then a 200 should succeed: %v", err)
	}
	_, err := c.Hook(ctx, "g", "missing")
	var ae *APIError
	if !IsNotFound(err) || !errors.As(err, &ae) || ae.Message != "no such hook" || ae.Code != "ResourceNotFound" {
		t.Fatalf("missing hook: %v", err)
	}
	if got := err.Error(); got != "hook g/missing: 404 ResourceNotFound: no such hook" {
		t.Errorf("message %q", got)
	}
	calls.Store(0)
	if _, err := c.CreateHook(ctx, "g", "broken", json.RawMessage(`{}`)); err == nil || calls.Load() != 1 {
		t.Fatalf("createHook is not retried: %v after %d calls", err, calls.Load())
	}
	calls.Store(0)
	if _, err := c.UpdateHook(ctx, "g", "broken", json.RawMessage(`{}`)); err == nil || calls.Load() != 4 {
		t.Fatalf("updateHook is retried 4 times: %v after %d calls", err, calls.Load())
	}

	bad, err := New(srv.URL, auth.Credentials{ClientID: "tester", AccessToken: "wrong-token-0123456789"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bad.HasHooklineAPI(ctx); err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("bad credentials should be an error, not a missing API: %v", err)
	}
}

func TestClient_HasHooklineAPI(t *testing.T) {
	for _, tt := range []struct {
		name   string
		status int
		body   string
		want   bool
	}{
		{name: "hookline", status: 200, body: `{"clientId":"tester","authenticated":true,"scopes":["hooks:*"]}`, want: true},
		{name: "not found", status: 404, body: `{"code":"ResourceNotFound","message":"nope"}`},
		{name: "plain 404", status: 404, body: `Not Found`},
		{name: "web UI page", status: 200, body: `<!doctype html><title>Taskcluster</title>`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := server(t, func(w http.ResponseWriter, r *http.Request, _ []byte) {
				w.WriteHeader(tt.status)
				io.WriteString(w, tt.body)
			})
			c := newClient(t, srv.URL)
			got, err := c.HasHooklineAPI(context.Background())
			if err != nil || got != tt.want {
				t.Fatalf("got %v, %v; want %v", got, err, tt.want)
			}
			_, err = c.Settings(context.Background(), "g", "h")
			if !tt.want && !errors.Is(err, ErrNoHooklineAPI) {
				t.Errorf("settings on a deployment without the API: %v", err)
			}
		})
	}
}

func TestNew_RefusesBadRoots(t *testing.T) {
	for _, root := range []string{"", "tc.example.com", "ftp://x", "https://"} {
		if _, err := New(root, auth.Credentials{}, nil); err == nil {
			t.Errorf("%q accepted", root)
		}
	}
	if _, err := New("https://tc.example.com", auth.Credentials{ClientID: "x"}, nil); err == nil {
		t.Error("client id without token accepted")
	}
}
