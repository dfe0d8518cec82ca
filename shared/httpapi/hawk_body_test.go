package httpapi

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/auth"
)

// recordingBody is a request body that records whether anything read it.
type recordingBody struct {
	r    io.Reader
	read atomic.Bool
}

func (b *recordingBody) Read(p []byte) (int, error) {
	b.read.Store(true)
	return b.r.Read(p)
}

func (b *recordingBody) Close() error { return nil }

// A Hawk request's credentials and scopes are checked before its body is
// read: the MAC covers the Authorization header's payload hash, not the
// body. Whoever fails them is refused without the server reading (and
// holding budget for) a byte of the body; the body of a request that
// passes is then compared with the header's hash.
func TestHawkCheckedBeforeBody(t *testing.T) {
	clients := []auth.Client{
		{ClientID: "reader", AccessToken: testToken, Scopes: []string{"hooks:get:*"}},
		{ClientID: "admin", AccessToken: testToken, Scopes: []string{"*"}},
	}
	st, err := auth.NewStatic(auth.Config{Clients: clients}, &auth.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	// The remote mode asks a Taskcluster auth service, here one that
	// answers as st does: it is sent the header, never the body.
	service := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req auth.HawkRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.URL.Path != "/api/auth/v1/authenticate-hawk" {
			http.Error(w, "unexpected call", http.StatusBadRequest)
			return
		}
		json.NewEncoder(w).Encode(st.AuthenticateHawk(req))
	}))
	defer service.Close()
	for _, authz := range []struct {
		name  string
		authz Authorizer
	}{
		{"static", st},
		{"remote", auth.NewRemote(service.URL, service.Client())},
	} {
		t.Run(authz.name, func(t *testing.T) {
			testHawkCheckedBeforeBody(t, newTestEnv(t, authz.authz))
		})
	}
}

func testHawkCheckedBeforeBody(t *testing.T, e *testEnv) {
	path := hooksURL + "/foo/bar"
	hook := hookBody(nil)
	// A body near createHook's 2 MB limit, JSON whatever its length.
	big := hook[:len(hook)-1] + strings.Repeat(" ", 1<<20) + "}"
	admin := auth.Credentials{ClientID: "admin", AccessToken: testToken}
	for _, tt := range []struct {
		name    string
		creds   auth.Credentials
		signed  string // the body the hash is of; "" signs no hash
		at      time.Time
		status  int
		code    string
		message string // a substring of the error message
		read    bool   // whether the body may be read
	}{
		{name: "valid", creds: admin, signed: big, status: 200, read: true},
		{name: "valid without a payload hash", creds: admin, status: 200, read: true},
		{name: "payload differs from the signed hash", creds: admin, signed: hook, status: 401, code: CodeAuthenticationFailed,
			message: "Invalid payload hash: " + auth.PayloadHash("application/json", []byte(hook)), read: true},
		{name: "bogus MAC", creds: auth.Credentials{ClientID: "admin", AccessToken: "not-the-token-0123456789"}, signed: big,
			status: 401, code: CodeAuthenticationFailed, message: "Bad mac"},
		{name: "unknown client", creds: auth.Credentials{ClientID: "nobody", AccessToken: testToken}, signed: big,
			status: 401, code: CodeAuthenticationFailed, message: "Client with clientId 'nobody' not found"},
		{name: "stale timestamp", creds: admin, signed: big, at: testNow.Add(-time.Hour),
			status: 401, code: CodeAuthenticationFailed, message: "Stale timestamp"},
		{name: "authorizedScopes not held", creds: auth.Credentials{ClientID: "reader", AccessToken: testToken, AuthorizedScopes: []string{"hooks:modify-hook:foo/bar"}},
			signed: big, status: 401, code: CodeAuthenticationFailed, message: "do not satisfy authorizedScopes"},
		{name: "insufficient scopes", creds: auth.Credentials{ClientID: "reader", AccessToken: testToken}, signed: big,
			status: 403, code: CodeInsufficientScopes, message: "hooks:modify-hook:foo/bar"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("PUT", "http://hooks.example.com"+path, nil)
			req.RequestURI = path
			req.Header.Set("Content-Type", "application/json")
			var payload []byte
			if tt.signed != "" {
				payload = []byte(tt.signed)
			}
			at := tt.at
			if at.IsZero() {
				at = testNow
			}
			if err := auth.SignRequest(req, tt.creds, payload, at); err != nil {
				t.Fatal(err)
			}
			body := &recordingBody{r: strings.NewReader(big)}
			req.Body, req.ContentLength = body, int64(len(big))
			rec := httptest.NewRecorder()
			e.router.ServeHTTP(rec, req)
			r := reply{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
			mustDecode(t, rec.Body.Bytes(), &r.body)
			if r.status != tt.status || (tt.code != "" && (r.code() != tt.code || !strings.Contains(r.message(), tt.message))) {
				t.Fatalf("got %d %.400s, want %d %s containing %q", r.status, r.raw, tt.status, tt.code, tt.message)
			}
			if tt.status == 401 && r.header.Get("WWW-Authenticate") != "hawk" {
				t.Errorf("401 without WWW-Authenticate: hawk")
			}
			if got := body.read.Load(); got && !tt.read {
				t.Error("the body was read before the credentials were refused")
			} else if !got && tt.read {
				t.Error("the body was not read")
			}
			for _, b := range []*bodyBudget{e.router.bodies, e.router.decoding} {
				if !b.sem.TryAcquire(b.size) {
					t.Fatalf("the request did not give the %s budget back", b.what)
				}
				b.release(b.size)
			}
		})
	}
}

// stalledSignedRequest opens a connection to srv and sends a signed PUT
// that declares a 1 MB body, sends its headers and a few bytes of it, and
// then stalls.
func stalledSignedRequest(t *testing.T, srv *httptest.Server, path string, creds auth.Credentials) net.Conn {
	t.Helper()
	addr := srv.Listener.Addr().String()
	sign, _ := http.NewRequest("PUT", "http://"+addr+path, nil)
	if err := auth.SignRequest(sign, creds, []byte("{}"), testNow); err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: %s\r\nAuthorization: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n{\"a\":",
		path, addr, sign.Header.Get("Authorization"), 1<<20)
	return conn
}

// readAnswer reads the answer on conn, failing the test when none comes
// within the deadline.
func readAnswer(t *testing.T, conn net.Conn, within time.Duration) (int, string) {
	t.Helper()
	conn.SetReadDeadline(time.Now().Add(within))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("no answer within %v: %v", within, err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(body)
}

// Over a real connection, a request with a bogus MAC that declares a
// 1 MB body and never sends it is answered 401 at once, and many of them
// at the same time take no body budget from a valid request. (Were the
// body read first, each would hold the budget until its body came or the
// pace cut it; the pace here allows a minute.)
func TestBogusSignaturesTakeNoBudget(t *testing.T) {
	e := newAuthEnv(t)
	e.router.bodies = newBodyBudget("request bodies", 1<<20, 200*time.Millisecond)
	e.router.pace = bodyPace{grace: time.Minute, rate: 1 << 30}
	srv := httptest.NewServer(e.router)
	t.Cleanup(srv.Close) // after the connections close, so a failure ends at once
	bogus := auth.Credentials{ClientID: "admin", AccessToken: "not-the-token-0123456789"}

	var conns []net.Conn
	for i := range 8 {
		conns = append(conns, stalledSignedRequest(t, srv, fmt.Sprintf("%s/foo/h%d", hooksURL, i), bogus))
	}
	// While they stall, a valid request with a body is served.
	var wg sync.WaitGroup
	valid := make(chan int, 1)
	wg.Go(func() {
		req, _ := http.NewRequest("PUT", srv.URL+hooksURL+"/foo/ok", strings.NewReader(hookBody(nil)))
		req.Header.Set("Content-Type", "application/json")
		if err := auth.SignRequest(req, auth.Credentials{ClientID: "admin", AccessToken: testToken}, []byte(hookBody(nil)), testNow); err != nil {
			t.Error(err)
			return
		}
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Error(err)
			return
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		valid <- res.StatusCode
	})
	for i, conn := range conns {
		status, body := readAnswer(t, conn, 5*time.Second)
		if status != 401 || !strings.Contains(body, "Bad mac") {
			t.Errorf("bogus request %d: %d %.300s", i, status, body)
		}
	}
	wg.Wait()
	if status := <-valid; status != 200 {
		t.Errorf("the valid request got %d beside the bogus ones", status)
	}
	srv.Client().CloseIdleConnections()
}

// A wrong Hawk signature on a 1 MB body: what one refusal costs the
// server (the body is never read, so no allocation grows with it).
func BenchmarkRejectBogusHawkBigBody(b *testing.B) {
	st, err := auth.NewStatic(auth.Config{Clients: []auth.Client{{ClientID: "admin", AccessToken: testToken, Scopes: []string{"*"}}}},
		&auth.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		b.Fatal(err)
	}
	e := newTestEnv(b, st)
	path := hooksURL + "/foo/bar"
	body := "{}" + strings.Repeat(" ", 1<<20)
	sign := httptest.NewRequest("PUT", "http://hooks.example.com"+path, nil)
	if err := auth.SignRequest(sign, auth.Credentials{ClientID: "admin", AccessToken: "not-the-token-0123456789"}, []byte(body), testNow); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		req := httptest.NewRequest("PUT", "http://hooks.example.com"+path, strings.NewReader(body))
		req.RequestURI = path
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", sign.Header.Get("Authorization"))
		rec := httptest.NewRecorder()
		e.router.ServeHTTP(rec, req)
		if rec.Code != http.StatusUnauthorized {
			b.Fatalf("%d %s", rec.Code, rec.Body.String())
		}
	}
}
