package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fakeAuthService is an authenticateHawk endpoint backed by a Static, so
// Remote is tested against real verdicts; answer may override them.
type fakeAuthService struct {
	t      *testing.T
	static *Static
	answer func(w http.ResponseWriter) bool

	mu       sync.Mutex
	requests []HawkRequest
}

func (f *fakeAuthService) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && r.URL.Path == "/api/auth/v1/scopes/expand" {
		f.expandScopes(w, r)
		return
	}
	if r.Method != http.MethodPost || r.URL.Path != "/api/auth/v1/authenticate-hawk" {
		f.t.Errorf("auth service got %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("Content-Type = %q", ct)
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	var req HawkRequest
	if err := dec.Decode(&req); err != nil {
		f.t.Errorf("decode authenticateHawk request: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	f.mu.Unlock()
	if f.answer != nil && f.answer(w) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(f.static.AuthenticateHawk(req))
}

// expandScopes answers as the auth service's expandScopes does, with the
// Static's roles.
func (f *fakeAuthService) expandScopes(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Scopes []string `json:"scopes"`
	}
	dec := json.NewDecoder(r.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil || in.Scopes == nil {
		f.t.Errorf("decode expandScopes request: %v (scopes %v)", err, in.Scopes)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	if f.answer != nil && f.answer(w) {
		return
	}
	out, _ := f.static.ExpandScopes(r.Context(), in.Scopes)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"scopes": out})
}

func (f *fakeAuthService) calls() []HawkRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]HawkRequest(nil), f.requests...)
}

func newRemote(t *testing.T, answer func(w http.ResponseWriter) bool) (*Remote, *fakeAuthService) {
	t.Helper()
	f := &fakeAuthService{t: t, static: newTestStatic(t, nil), answer: answer}
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return NewRemote(srv.URL+"/", srv.Client()), f
}

func TestRemote_Authorize(t *testing.T) {
	trigger := Scope("hooks:trigger-hook:proj/nightly")
	body := []byte(`{"branch":"main"}`)
	for _, tt := range []struct {
		name     string
		req      func(t *testing.T) *http.Request
		body     []byte
		required Expr
		wantCode string
		wantMsg  string
		wantID   string
	}{
		{
			name: "signed",
			req: func(t *testing.T) *http.Request {
				return signedRequest(t, "POST", "/trigger?x=1", ciCreds, body, true, testNow)
			},
			body: body, required: trigger, wantID: "project/ci",
		},
		{
			name: "payload hash checked locally",
			req: func(t *testing.T) *http.Request {
				return signedRequest(t, "POST", "/trigger", ciCreds, body, true, testNow)
			},
			body: []byte(`{}`), required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: "Invalid payload hash",
		},
		{
			name: "auth failed",
			req: func(t *testing.T) *http.Request {
				return signedRequest(t, "POST", "/t", Credentials{ClientID: "nobody", AccessToken: ciToken}, nil, false, testNow)
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: "Client with clientId 'nobody' not found",
		},
		{
			name:     "no auth gets the deployment's anonymous scopes",
			req:      func(t *testing.T) *http.Request { return httptest.NewRequest("GET", "/status", nil) },
			required: Scope("hooks:status:proj/nightly"),
		},
		{
			name:     "no auth refused",
			req:      func(t *testing.T) *http.Request { return httptest.NewRequest("POST", "/trigger", nil) },
			required: trigger, wantCode: CodeInsufficientScopes, wantMsg: "This request requires Taskcluster credentials",
		},
		{
			name: "insufficient",
			req: func(t *testing.T) *http.Request {
				return signedRequest(t, "POST", "/t", unprivCreds, nil, false, testNow)
			},
			required: trigger, wantCode: CodeInsufficientScopes, wantMsg: "Client ID project/unpriv does not have sufficient scopes", wantID: "project/unpriv",
		},
		{
			name: "two schemes refused before calling",
			req: func(t *testing.T) *http.Request {
				r := signedRequest(t, "GET", "/x", ciCreds, nil, false, testNow)
				r.RequestURI = "/x?bewit=abc"
				return r
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: twoSchemesMessage,
		},
	} {
		for i, name := range []string{"one call", "before body"} {
			t.Run(name+"/"+tt.name, func(t *testing.T) {
				x, _ := newRemote(t, nil)
				caller, err := authorizeSteps(x)[i].authorize(context.Background(), tt.req(t), tt.body, tt.required)
				if tt.wantCode == "" {
					if err != nil {
						t.Fatalf("Authorize: %v", err)
					}
				} else {
					var ae *Error
					if !errors.As(err, &ae) || ae.Code != tt.wantCode || !strings.Contains(ae.Message, tt.wantMsg) {
						t.Fatalf("Authorize error = %v, want %s containing %q", err, tt.wantCode, tt.wantMsg)
					}
				}
				if caller.ClientID != tt.wantID || caller.Authenticated != (tt.wantID != "") {
					t.Errorf("caller = %+v, want %q", caller, tt.wantID)
				}
			})
		}
	}
}

func TestRemote_RequestShape(t *testing.T) {
	x, f := newRemote(t, nil)
	r := signedRequest(t, "POST", "/api/hooks/v1/hooks/proj/nightly/trigger?a=b", ciCreds, nil, false, testNow)
	if _, err := x.Authorize(context.Background(), r, nil, Scope("hooks:trigger-hook:proj/nightly")); err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	calls := f.calls()
	if len(calls) != 1 {
		t.Fatalf("auth service called %d times", len(calls))
	}
	want := HawkRequest{
		Method: "post", Resource: "/api/hooks/v1/hooks/proj/nightly/trigger?a=b", Host: "hooks.example.com", Port: 443,
		Authorization: r.Header.Get("Authorization"), SourceIP: "192.0.2.1",
	}
	if calls[0] != want {
		t.Errorf("request\n got %+v\nwant %+v", calls[0], want)
	}

	// A public route never reaches the auth service.
	if _, err := x.Authorize(context.Background(), r, nil, Expr{}); err != nil {
		t.Fatalf("Authorize(public): %v", err)
	}
	if n := len(f.calls()); n != 1 {
		t.Errorf("public route called the auth service (%d calls)", n)
	}

	// Host and port options apply to what is sent.
	pinned, err := x.WithOptions(&Options{PublicHost: "tc.example.com", PublicPort: 8443})
	if err != nil {
		t.Fatal(err)
	}
	_, _ = pinned.Authorize(context.Background(), r, nil, Scope("x"))
	if got := f.calls()[1]; got.Host != "tc.example.com" || got.Port != 8443 {
		t.Errorf("with options sent %s:%d", got.Host, got.Port)
	}
	if _, err := x.WithOptions(&Options{PublicPort: 1 << 20}); err == nil {
		t.Error("WithOptions accepted a bad port")
	}

	// Checking the credentials before the body sends the same request:
	// the auth service never sees the body, only the header's hash.
	before := len(f.calls())
	body := []byte(`{"branch":"main"}`)
	hashed := signedRequest(t, "POST", "/api/hooks/v1/hooks/proj/nightly/trigger", ciCreds, body, true, testNow)
	if _, err := x.Authorize(context.Background(), hashed, body, Scope("hooks:trigger-hook:proj/nightly")); err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	_, payload, err := x.AuthorizeBeforeBody(context.Background(), hashed, Scope("hooks:trigger-hook:proj/nightly"))
	if err != nil {
		t.Fatalf("AuthorizeBeforeBody: %v", err)
	}
	if err := payload.Verify(hashed.Header.Get("Content-Type"), body); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := payload.Verify(hashed.Header.Get("Content-Type"), []byte(`{}`)); !errors.Is(err, ErrAuthenticationFailed) {
		t.Errorf("Verify(other body) = %v, want AuthenticationFailed", err)
	}
	if c := f.calls()[before:]; len(c) != 2 || c[0] != c[1] || c[0].Authorization != hashed.Header.Get("Authorization") {
		t.Errorf("auth service requests differ between Authorize and AuthorizeBeforeBody: %+v", c)
	}
}

func TestRemote_BadAnswers(t *testing.T) {
	for _, tt := range []struct {
		name   string
		answer func(w http.ResponseWriter) bool
	}{
		{"server error", func(w http.ResponseWriter) bool { http.Error(w, "boom", http.StatusInternalServerError); return true }},
		{"not json", func(w http.ResponseWriter) bool { _, _ = w.Write([]byte("<html>")); return true }},
		{"unknown status", func(w http.ResponseWriter) bool { _, _ = w.Write([]byte(`{"status":"maybe"}`)); return true }},
		{"invalid scope", func(w http.ResponseWriter) bool {
			_, _ = w.Write([]byte(`{"status":"auth-success","clientId":"a","scopes":["x\n"]}`))
			return true
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x, _ := newRemote(t, tt.answer)
			r := signedRequest(t, "GET", "/x", ciCreds, nil, false, testNow)
			_, err := x.Authorize(context.Background(), r, nil, Scope("x"))
			var ae *Error
			if err == nil || errors.As(err, &ae) {
				t.Errorf("Authorize error = %v, want a plain error (500)", err)
			}
		})
	}
	t.Run("unreachable", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		x := NewRemote(srv.URL, nil)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := x.Authorize(ctx, httptest.NewRequest("GET", "/x", nil), nil, Scope("x")); err == nil {
			t.Error("Authorize succeeded without an auth service")
		}
	})
}

func TestRemote_ExpandScopes(t *testing.T) {
	x, _ := newRemote(t, nil)
	got, err := x.ExpandScopes(context.Background(), []string{"assume:hook-id:proj/nightly"})
	if err != nil {
		t.Fatalf("ExpandScopes: %v", err)
	}
	want, _ := newTestStatic(t, nil).ExpandScopes(context.Background(), []string{"assume:hook-id:proj/nightly"})
	if strings.Join(got, " ") != strings.Join(want, " ") || !slices.Contains(got, "queue:create-task:proj/nightly") {
		t.Errorf("ExpandScopes = %q, want %q", got, want)
	}
	for _, tt := range []struct {
		name   string
		answer func(w http.ResponseWriter) bool
	}{
		{"server error", func(w http.ResponseWriter) bool { http.Error(w, "boom", http.StatusInternalServerError); return true }},
		{"not json", func(w http.ResponseWriter) bool { _, _ = w.Write([]byte("<html>")); return true }},
		{"invalid scope", func(w http.ResponseWriter) bool { _, _ = w.Write([]byte(`{"scopes":["a\nb"]}`)); return true }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			x, _ := newRemote(t, tt.answer)
			if got, err := x.ExpandScopes(context.Background(), []string{"x"}); err == nil {
				t.Errorf("ExpandScopes = %q, want an error", got)
			}
		})
	}
}

// TestRemote_TaskclusterAnswer feeds Remote an answer exactly as
// Taskcluster's auth service writes it (from vectors.json).
func TestRemote_TaskclusterAnswer(t *testing.T) {
	v := loadVectors(t)
	var tc signedCase
	for _, c := range v.TempCredentialRequests {
		if c.Name == "temp-named-plus-authorizedScopes" {
			tc = c
		}
	}
	if tc.Name == "" {
		t.Fatal("vector temp-named-plus-authorizedScopes is missing")
	}
	answer, err := json.Marshal(map[string]any{
		"status": tc.Server.Result.Status, "scheme": "hawk", "clientId": tc.Server.Result.ClientID,
		"scopes": tc.Server.Result.Scopes, "expires": "2023-11-15T22:13:20.000Z", "hash": tc.Server.Result.Hash,
	})
	if err != nil {
		t.Fatal(err)
	}
	x, f := newRemote(t, func(w http.ResponseWriter) bool { _, _ = w.Write(answer); return true })
	r := httptest.NewRequest(tc.Input.Method, tc.Server.Request.Resource, strings.NewReader(*tc.Input.Payload))
	r.Host = "tc.example.com"
	r.Header.Set("X-Forwarded-Proto", "https")
	r.Header.Set("Content-Type", *tc.Input.ContentType)
	r.Header.Set("Authorization", tc.Authorization)
	caller, err := x.Authorize(context.Background(), r, []byte(*tc.Input.Payload), Scope("hooks:trigger-hook:project-test/nightly"))
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	if caller.ClientID != "project/test/ci/temp-1" || !caller.Authenticated {
		t.Errorf("caller = %+v", caller)
	}
	got := f.calls()[0]
	got.SourceIP = ""
	if got != tc.Server.Request {
		t.Errorf("sent\n %+v\nwant %+v", got, tc.Server.Request)
	}
	// The same answer with another body fails the payload check.
	r.Body = http.NoBody
	if _, err := x.Authorize(context.Background(), r, []byte(`{"branch":"x"}`), Scope("x")); !errors.Is(err, ErrAuthenticationFailed) {
		t.Errorf("tampered body: err = %v", err)
	}
}
