package auth

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"
)

var testNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

const (
	ciToken     = "ci-token-0123456789abcdefghijklmnopqrstuvwxy"
	rootToken   = "root-token-0123456789abcdefghijklmnopqrstuvw"
	unprivToken = "unpriv-token-0123456789abcdefghijklmnopqrstu"
)

var (
	ciCreds     = Credentials{ClientID: "project/ci", AccessToken: ciToken}
	rootCreds   = Credentials{ClientID: "static/root", AccessToken: rootToken}
	unprivCreds = Credentials{ClientID: "project/unpriv", AccessToken: unprivToken}
)

func testConfig() Config {
	return Config{
		Clients: []Client{
			{ClientID: "static/root", AccessToken: rootToken, Scopes: []string{"*"}},
			{ClientID: "project/ci", AccessToken: ciToken, Scopes: []string{"assume:project:ci", "auth:create-client:project/ci/*"}},
			{ClientID: "project/unpriv", AccessToken: unprivToken, Scopes: []string{"hooks:list-hooks:proj"}},
			{ClientID: "project/off", AccessToken: ciToken, Scopes: []string{"*"}, Disabled: true},
			{ClientID: "project/old", AccessToken: ciToken, Scopes: []string{"*"}, Expires: testNow.Add(-time.Hour)},
		},
		Roles: []Role{
			{RoleID: "project:ci", Scopes: []string{"hooks:trigger-hook:proj/*", "hooks:modify-hook:proj/*", "assume:hook-id:proj/*"}},
			{RoleID: "hook-id:proj/*", Scopes: []string{"queue:create-task:proj/<..>"}},
		},
		AnonymousScopes: []string{"hooks:status:*"},
	}
}

func newTestStatic(t testing.TB, opts *Options) *Static {
	t.Helper()
	o := Options{}
	if opts != nil {
		o = *opts
	}
	o.Now = func() time.Time { return testNow }
	x, err := NewStatic(testConfig(), &o)
	if err != nil {
		t.Fatalf("NewStatic: %v", err)
	}
	return x
}

// signedRequest makes a request to target as a client at https://hooks.example.com
// would send it, signed with creds at time at (payload nil: no hash), and
// returns it as the server receives it behind a TLS-terminating proxy.
func signedRequest(t testing.TB, method, target string, creds Credentials, body []byte, hashBody bool, at time.Time) *http.Request {
	t.Helper()
	client, err := http.NewRequest(method, "https://hooks.example.com"+target, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		client.Header.Set("Content-Type", "application/json")
	}
	payload := []byte(nil)
	if hashBody {
		payload = body
		if payload == nil {
			payload = []byte{}
		}
	}
	if err := SignRequest(client, creds, payload, at); err != nil {
		t.Fatalf("SignRequest: %v", err)
	}
	server := httptest.NewRequest(method, target, bytes.NewReader(body))
	server.Host = "hooks.example.com"
	server.Header = client.Header.Clone()
	server.Header.Set("X-Forwarded-Proto", "https")
	return server
}

func temporary(t testing.TB, issuer Credentials, name string, scopes []string, start, expiry time.Time) Credentials {
	t.Helper()
	c, err := CreateNamedTemporaryCredentials(issuer, name, scopes, start, expiry)
	if err != nil {
		t.Fatalf("CreateNamedTemporaryCredentials: %v", err)
	}
	return c
}

func TestStatic_Authorize(t *testing.T) {
	x := newTestStatic(t, nil)
	trigger := Scope("hooks:trigger-hook:proj/nightly")
	modify := AllOf(Scope("hooks:modify-hook:proj/nightly"), Scope("assume:hook-id:proj/nightly"))
	body := []byte(`{"branch":"main"}`)
	tempCI := temporary(t, ciCreds, "", []string{"hooks:trigger-hook:proj/nightly"}, testNow.Add(-time.Minute), testNow.Add(time.Hour))

	for _, tt := range []struct {
		name     string
		req      func(t testing.TB) *http.Request
		body     []byte
		required Expr
		wantCode string // "" for success
		wantMsg  string // substring of the message
		wantID   string
	}{
		{
			name: "signed get",
			req: func(t testing.TB) *http.Request {
				return signedRequest(t, "GET", "/api/hooks/v1/hooks/proj/nightly/status", ciCreds, nil, false, testNow)
			},
			required: trigger, wantID: "project/ci",
		},
		{
			name: "role expansion grants modify",
			req: func(t testing.TB) *http.Request {
				return signedRequest(t, "PUT", "/api/hooks/v1/hooks/proj/nightly", ciCreds, body, true, testNow)
			},
			body: body, required: modify, wantID: "project/ci",
		},
		{
			name: "payload hash checked",
			req: func(t testing.TB) *http.Request {
				return signedRequest(t, "POST", "/trigger", ciCreds, body, true, testNow)
			},
			body: body, required: trigger, wantID: "project/ci",
		},
		{
			name: "tampered payload",
			req: func(t testing.TB) *http.Request {
				return signedRequest(t, "POST", "/trigger", ciCreds, body, true, testNow)
			},
			body: []byte(`{"branch":"evil"}`), required: trigger,
			wantCode: CodeAuthenticationFailed, wantMsg: "Invalid payload hash: jEmXmbZISYej+g+RQaHbzSIkCGDvOvm+4ng7FlGeB84=\nComputed payload hash: ",
		},
		{
			name: "body without hash is not checked",
			req: func(t testing.TB) *http.Request {
				return signedRequest(t, "POST", "/trigger", ciCreds, body, false, testNow)
			},
			body: []byte(`{"other":1}`), required: trigger, wantID: "project/ci",
		},
		{
			name: "replay within skew accepted",
			req: func(t testing.TB) *http.Request {
				return signedRequest(t, "GET", "/x", ciCreds, nil, false, testNow.Add(-14*time.Minute))
			},
			required: trigger, wantID: "project/ci",
		},
		{
			name: "replayed outside skew",
			req: func(t testing.TB) *http.Request {
				return signedRequest(t, "GET", "/x", ciCreds, nil, false, testNow.Add(-16*time.Minute))
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: "Unauthorized: Stale timestamp",
		},
		{
			name: "clock ahead beyond skew",
			req: func(t testing.TB) *http.Request {
				return signedRequest(t, "GET", "/x", ciCreds, nil, false, testNow.Add(16*time.Minute))
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: "Unauthorized: Stale timestamp",
		},
		{
			name: "wrong host",
			req: func(t testing.TB) *http.Request {
				r := signedRequest(t, "GET", "/x", ciCreds, nil, false, testNow)
				r.Host = "evil.example.com"
				return r
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: "Unauthorized: Bad mac",
		},
		{
			name: "https signature reaching plain http without proxy headers",
			req: func(t testing.TB) *http.Request {
				r := signedRequest(t, "GET", "/x", ciCreds, nil, false, testNow)
				r.Header.Del("X-Forwarded-Proto")
				return r
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: "Unauthorized: Bad mac",
		},
		{
			name: "tls connection gives port 443",
			req: func(t testing.TB) *http.Request {
				r := signedRequest(t, "GET", "/x", ciCreds, nil, false, testNow)
				r.Header.Del("X-Forwarded-Proto")
				r.TLS = &tls.ConnectionState{}
				return r
			},
			required: trigger, wantID: "project/ci",
		},
		{
			name: "path changed",
			req: func(t testing.TB) *http.Request {
				r := signedRequest(t, "GET", "/x?a=1&b=2", ciCreds, nil, false, testNow)
				r.RequestURI = "/x?b=2&a=1"
				return r
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: "Unauthorized: Bad mac",
		},
		{
			name: "wrong access token",
			req: func(t testing.TB) *http.Request {
				return signedRequest(t, "GET", "/x", Credentials{ClientID: "project/ci", AccessToken: rootToken}, nil, false, testNow)
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: "Unauthorized: Bad mac",
		},
		{
			name: "unknown client",
			req: func(t testing.TB) *http.Request {
				return signedRequest(t, "GET", "/x", Credentials{ClientID: "nobody", AccessToken: ciToken}, nil, false, testNow)
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: "Client with clientId 'nobody' not found",
		},
		{
			name: "disabled client",
			req: func(t testing.TB) *http.Request {
				return signedRequest(t, "GET", "/x", Credentials{ClientID: "project/off", AccessToken: ciToken}, nil, false, testNow)
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: "is disabled",
		},
		{
			name: "expired client",
			req: func(t testing.TB) *http.Request {
				return signedRequest(t, "GET", "/x", Credentials{ClientID: "project/old", AccessToken: ciToken}, nil, false, testNow)
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: "Client with clientId: 'project/old' has expired",
		},
		{
			name: "garbage header",
			req: func(t testing.TB) *http.Request {
				r := httptest.NewRequest("GET", "/x", nil)
				r.Header.Set("Authorization", `Hawk id="a", ts="1"`)
				return r
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: "Bad Request: Missing attributes",
		},
		{
			name: "public route ignores garbage header",
			req: func(t testing.TB) *http.Request {
				r := httptest.NewRequest("POST", "/trigger/token", nil)
				r.Header.Set("Authorization", "Basic Zm9vOmJhcg==")
				return r
			},
			required: Expr{},
		},
		{
			name:     "anonymous allowed by anonymous scopes",
			req:      func(t testing.TB) *http.Request { return httptest.NewRequest("GET", "/status", nil) },
			required: Scope("hooks:status:proj/nightly"),
		},
		{
			name:     "anonymous refused",
			req:      func(t testing.TB) *http.Request { return httptest.NewRequest("POST", "/trigger", nil) },
			required: trigger, wantCode: CodeInsufficientScopes,
			wantMsg: "This request requires Taskcluster credentials that satisfy the following scope expression:\n\n```\nhooks:trigger-hook:proj/nightly\n```",
		},
		{
			name: "insufficient scopes",
			req: func(t testing.TB) *http.Request {
				return signedRequest(t, "PUT", "/h", unprivCreds, nil, false, testNow)
			},
			required: AllOf(Scope("hooks:list-hooks:proj"), Scope("hooks:modify-hook:proj/nightly")),
			wantCode: CodeInsufficientScopes, wantID: "project/unpriv",
			wantMsg: "Client ID project/unpriv does not have sufficient scopes and is missing the following scopes:\n\n```\nhooks:modify-hook:proj/nightly\n```\n\nThis request requires the client to satisfy the following scope expression:\n\n```\n{\n  \"AllOf\": [\n    \"hooks:list-hooks:proj\",\n    \"hooks:modify-hook:proj/nightly\"\n  ]\n}\n```",
		},
		{
			name:     "temporary credentials",
			req:      func(t testing.TB) *http.Request { return signedRequest(t, "POST", "/t", tempCI, nil, false, testNow) },
			required: trigger, wantID: "project/ci",
		},
		{
			name:     "temporary credentials are limited to the certificate scopes",
			req:      func(t testing.TB) *http.Request { return signedRequest(t, "PUT", "/t", tempCI, nil, false, testNow) },
			required: modify, wantCode: CodeInsufficientScopes, wantID: "project/ci",
		},
		{
			name: "named temporary credentials",
			req: func(t testing.TB) *http.Request {
				c := temporary(t, ciCreds, "project/ci/robot", []string{"hooks:trigger-hook:proj/*"}, testNow, testNow.Add(time.Hour))
				return signedRequest(t, "POST", "/t", c, nil, false, testNow)
			},
			required: trigger, wantID: "project/ci/robot",
		},
		{
			name: "named temporary credentials need create-client",
			req: func(t testing.TB) *http.Request {
				c := temporary(t, ciCreds, "elsewhere/robot", []string{"hooks:trigger-hook:proj/*"}, testNow, testNow.Add(time.Hour))
				return signedRequest(t, "POST", "/t", c, nil, false, testNow)
			},
			required: trigger, wantCode: CodeAuthenticationFailed,
			wantMsg: "ext.certificate issuer `project/ci` doesn't have `auth:create-client:elsewhere/robot` for supplied clientId.",
		},
		{
			name: "expired certificate",
			req: func(t testing.TB) *http.Request {
				c := temporary(t, ciCreds, "", []string{"hooks:trigger-hook:proj/*"}, testNow.Add(-2*time.Hour), testNow.Add(-10*time.Minute))
				return signedRequest(t, "POST", "/t", c, nil, false, testNow)
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: "ext.certificate.expiry < now",
		},
		{
			name: "certificate not yet valid",
			req: func(t testing.TB) *http.Request {
				c := temporary(t, ciCreds, "", []string{"hooks:trigger-hook:proj/*"}, testNow.Add(10*time.Minute), testNow.Add(time.Hour))
				return signedRequest(t, "POST", "/t", c, nil, false, testNow)
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: "ext.certificate.start > now",
		},
		{
			name: "tampered certificate",
			req: func(t testing.TB) *http.Request {
				c := tempCI
				c.Certificate = strings.Replace(c.Certificate, "hooks:trigger-hook:proj/nightly", "hooks:trigger-hook:proj/*", 1)
				return signedRequest(t, "POST", "/t", c, nil, false, testNow)
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: "ext.certificate.signature is not valid",
		},
		{
			name: "certificate scopes beyond the issuer",
			req: func(t testing.TB) *http.Request {
				c := temporary(t, ciCreds, "", []string{"secrets:*"}, testNow, testNow.Add(time.Hour))
				return signedRequest(t, "POST", "/t", c, nil, false, testNow)
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: "doesn't satisfy all certificate scopes secrets:*.",
		},
		{
			name: "temporary token without its certificate",
			req: func(t testing.TB) *http.Request {
				c := tempCI
				c.Certificate = ""
				return signedRequest(t, "POST", "/t", c, nil, false, testNow)
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: "Unauthorized: Bad mac",
		},
		{
			name: "authorizedScopes restrict",
			req: func(t testing.TB) *http.Request {
				c := ciCreds
				c.AuthorizedScopes = []string{"hooks:trigger-hook:proj/nightly"}
				return signedRequest(t, "PUT", "/h", c, nil, false, testNow)
			},
			required: modify, wantCode: CodeInsufficientScopes, wantID: "project/ci",
		},
		{
			name: "authorizedScopes through roles",
			req: func(t testing.TB) *http.Request {
				c := rootCreds
				c.AuthorizedScopes = []string{"assume:hook-id:proj/nightly"}
				return signedRequest(t, "POST", "/task", c, nil, false, testNow)
			},
			required: Scope("queue:create-task:proj/nightly"), wantID: "static/root",
		},
		{
			name: "authorizedScopes not satisfied",
			req: func(t testing.TB) *http.Request {
				c := unprivCreds
				c.AuthorizedScopes = []string{"hooks:modify-hook:proj/nightly"}
				return signedRequest(t, "PUT", "/h", c, nil, false, testNow)
			},
			required: modify, wantCode: CodeAuthenticationFailed,
			wantMsg: "Supplied credentials do not satisfy authorizedScopes; credentials have scopes:\n\n```\nassume:anonymous\nhooks:list-hooks:proj\nhooks:status:*\n```\n\nauthorizedScopes are:\n\n```\nhooks:modify-hook:proj/nightly\n```",
		},
		{
			name: "empty authorizedScopes leave the anonymous role",
			req: func(t testing.TB) *http.Request {
				c := rootCreds
				c.AuthorizedScopes = []string{}
				return signedRequest(t, "POST", "/t", c, nil, false, testNow)
			},
			required: trigger, wantCode: CodeInsufficientScopes, wantID: "static/root",
		},
		{
			name: "bewit",
			req: func(t testing.TB) *http.Request {
				return bewitRequest(t, "GET", "/api/hooks/v1/hooks/proj/nightly/last-fires?limit=5", ciCreds, time.Minute, testNow)
			},
			required: Scope("hooks:trigger-hook:proj/nightly"), wantID: "project/ci",
		},
		{
			name: "bewit with temporary credentials",
			req: func(t testing.TB) *http.Request {
				return bewitRequest(t, "GET", "/x", tempCI, time.Minute, testNow)
			},
			required: trigger, wantID: "project/ci",
		},
		{
			name: "expired bewit",
			req: func(t testing.TB) *http.Request {
				return bewitRequest(t, "GET", "/x", ciCreds, time.Minute, testNow.Add(-2*time.Minute))
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: "Unauthorized: Access expired",
		},
		{
			name: "bewit for post",
			req: func(t testing.TB) *http.Request {
				return bewitRequest(t, "POST", "/x", ciCreds, time.Minute, testNow)
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: "Unauthorized: Invalid method",
		},
		{
			name: "bewit and header",
			req: func(t testing.TB) *http.Request {
				r := bewitRequest(t, "GET", "/x", ciCreds, time.Minute, testNow)
				r.Header.Set("Authorization", signedRequest(t, "GET", "/x", ciCreds, nil, false, testNow).Header.Get("Authorization"))
				return r
			},
			required: trigger, wantCode: CodeAuthenticationFailed, wantMsg: twoSchemesMessage,
		},
	} {
		for _, step := range authorizeSteps(x) {
			t.Run(step.name+"/"+tt.name, func(t *testing.T) {
				caller, err := step.authorize(context.Background(), tt.req(t), tt.body, tt.required)
				if tt.wantCode == "" {
					if err != nil {
						t.Fatalf("Authorize: %v", err)
					}
				} else {
					var ae *Error
					if !errors.As(err, &ae) || ae.Code != tt.wantCode || !strings.Contains(ae.Message, tt.wantMsg) {
						t.Fatalf("Authorize error = %#v, want %s containing %q", err, tt.wantCode, tt.wantMsg)
					}
					sentinel := map[string]error{CodeAuthenticationFailed: ErrAuthenticationFailed, CodeInsufficientScopes: ErrInsufficientScopes}[tt.wantCode]
					if !errors.Is(err, sentinel) {
						t.Errorf("errors.Is(err, %v) = false", sentinel)
					}
					for _, secret := range []string{ciToken, rootToken, unprivToken, "Hawk "} {
						if strings.Contains(ae.Message, secret) {
							t.Errorf("message leaks %q: %s", secret, ae.Message)
						}
					}
				}
				if caller.ClientID != tt.wantID || caller.Authenticated != (tt.wantID != "") {
					t.Errorf("caller = %+v, want client %q", caller, tt.wantID)
				}
				if tt.required.IsZero() && (caller.Authenticated || caller.Scopes != nil) {
					t.Errorf("public route produced caller %+v", caller)
				}
			})
		}
	}
}

// beforeBody is what both authenticators offer a caller that reads the
// body after the credentials are checked.
type beforeBody interface {
	Authorize(ctx context.Context, r *http.Request, body []byte, required Expr) (Caller, error)
	AuthorizeBeforeBody(ctx context.Context, r *http.Request, required Expr) (Caller, PayloadCheck, error)
}

// authorizeSteps are the two ways to authorize a request with its body:
// in one call, and with the payload hash checked after the credentials
// (the router's way), which must agree on every case the tests list.
func authorizeSteps(x beforeBody) []struct {
	name      string
	authorize func(ctx context.Context, r *http.Request, body []byte, required Expr) (Caller, error)
} {
	return []struct {
		name      string
		authorize func(ctx context.Context, r *http.Request, body []byte, required Expr) (Caller, error)
	}{
		{"one call", x.Authorize},
		{"before body", func(ctx context.Context, r *http.Request, body []byte, required Expr) (Caller, error) {
			c, payload, err := x.AuthorizeBeforeBody(ctx, r, required)
			if err != nil {
				return c, err
			}
			if err := payload.Verify(r.Header.Get("Content-Type"), body); err != nil {
				return Caller{}, err
			}
			return c, nil
		}},
	}
}

// bewitRequest makes a signed URL for target and returns the request the
// server receives for it.
func bewitRequest(t testing.TB, method, target string, creds Credentials, ttl time.Duration, at time.Time) *http.Request {
	t.Helper()
	u, err := url.Parse("https://hooks.example.com" + target)
	if err != nil {
		t.Fatal(err)
	}
	signed, err := Bewit(u, creds, ttl, at)
	if err != nil {
		t.Fatalf("Bewit: %v", err)
	}
	r := httptest.NewRequest(method, signed.RequestURI(), nil)
	r.Host = "hooks.example.com"
	r.Header.Set("X-Forwarded-Port", "443")
	return r
}

func TestStatic_Scopes(t *testing.T) {
	x := newTestStatic(t, nil)
	r := signedRequest(t, "GET", "/x", ciCreds, nil, false, testNow)
	caller, err := x.Authorize(context.Background(), r, nil, Scope("hooks:status:x"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"assume:anonymous", "assume:hook-id:proj/*", "assume:project:ci", "auth:create-client:project/ci/*",
		"hooks:modify-hook:proj/*", "hooks:status:*", "hooks:trigger-hook:proj/*", "queue:create-task:proj/*",
	}
	if strings.Join(caller.Scopes, " ") != strings.Join(want, " ") {
		t.Errorf("scopes\n got %q\nwant %q", caller.Scopes, want)
	}
	if got := x.AnonymousScopes(); strings.Join(got, " ") != "assume:anonymous hooks:status:*" {
		t.Errorf("AnonymousScopes = %q", got)
	}

	// Callers own the scopes they get: changing them changes nothing else.
	caller.Scopes[0] = "*"
	again, err := x.Authorize(context.Background(), r, nil, Scope("hooks:status:x"))
	if err != nil {
		t.Fatal(err)
	}
	if again.Scopes[0] != "assume:anonymous" {
		t.Errorf("a caller's change leaked into the authenticator: %q", again.Scopes)
	}

	// Concurrent use (run with -race).
	done := make(chan error, 8)
	for range 8 {
		req := signedRequest(t, "GET", "/x", ciCreds, nil, false, testNow)
		go func() {
			_, err := x.Authorize(context.Background(), req, nil, Scope("hooks:trigger-hook:proj/a"))
			done <- err
		}()
	}
	for range 8 {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

func TestHostRule(t *testing.T) {
	for _, tt := range []struct {
		name     string
		opts     *Options
		host     string
		headers  map[string]string
		tls      bool
		wantHost string
		wantPort int
		wantFail bool
	}{
		{name: "plain http", host: "hooks.example.com", wantHost: "hooks.example.com", wantPort: 80},
		{name: "tls", host: "hooks.example.com", tls: true, wantHost: "hooks.example.com", wantPort: 443},
		{name: "host port", host: "LocalHost:8080", wantHost: "localhost", wantPort: 8080},
		{name: "explicit 80 is dropped", host: "h:80", tls: true, wantHost: "h", wantPort: 443},
		{name: "ipv6", host: "[::1]:8443", wantHost: "[::1]", wantPort: 8443},
		{name: "api gateway", host: "abc.execute-api.eu-west-1.amazonaws.com",
			headers:  map[string]string{"X-Forwarded-Port": "443", "X-Forwarded-Proto": "https"},
			wantHost: "abc.execute-api.eu-west-1.amazonaws.com", wantPort: 443},
		{name: "forwarded port wins", host: "h", headers: map[string]string{"X-Forwarded-Port": "8443", "X-Forwarded-Proto": "https"}, wantHost: "h", wantPort: 8443},
		{name: "forwarded port list", host: "h", headers: map[string]string{"X-Forwarded-Port": "443, 80"}, wantHost: "h", wantPort: 443},
		{name: "garbage forwarded port", host: "h", headers: map[string]string{"X-Forwarded-Port": "abc"}, wantHost: "h", wantPort: -1},
		{name: "forwarded proto list is not https", host: "h", headers: map[string]string{"X-Forwarded-Proto": "https, http"}, wantHost: "h", wantPort: 80},
		{name: "forwarded host ignored", host: "h", headers: map[string]string{"X-Forwarded-Host": "other"}, wantHost: "h", wantPort: 80},
		{name: "ignore forwarded", opts: &Options{IgnoreForwarded: true}, host: "h",
			headers: map[string]string{"X-Forwarded-Port": "443", "X-Forwarded-Proto": "https"}, wantHost: "h", wantPort: 80},
		{name: "trust forwarded host", opts: &Options{TrustForwardedHost: true}, host: "internal",
			headers: map[string]string{"X-Forwarded-Host": "Public.Example.com, proxy2", "X-Forwarded-Proto": "https"}, wantHost: "public.example.com", wantPort: 443},
		{name: "public host and port", opts: &Options{PublicHost: "Hooks.Example.com", PublicPort: 443}, host: "internal:9000",
			headers: map[string]string{"X-Forwarded-Port": "80"}, wantHost: "hooks.example.com", wantPort: 443},
		{name: "public host only", opts: &Options{PublicHost: "hooks.example.com"}, host: "internal:9000", wantHost: "hooks.example.com", wantPort: 9000},
		{name: "missing host", host: "", wantFail: true},
		{name: "host with path", host: "a/b", wantFail: true},
		{name: "bad port", host: "h:99999", wantFail: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			hr, err := newHostRule(tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			r := httptest.NewRequest("GET", "/p?q=1", nil)
			r.Host = tt.host
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			req, msg := hr.hawkRequest(r)
			if tt.wantFail {
				if msg == "" {
					t.Fatalf("got %+v, want failure", req)
				}
				return
			}
			if msg != "" || req.Host != tt.wantHost || req.Port != tt.wantPort || req.Resource != "/p?q=1" || req.Method != "get" {
				t.Errorf("got %+v %q, want host %s port %d", req, msg, tt.wantHost, tt.wantPort)
			}
		})
	}
	for _, bad := range []*Options{{PublicPort: 70000}, {PublicHost: "https://x"}, {PublicHost: "x:443"}} {
		if _, err := newHostRule(bad); err == nil {
			t.Errorf("newHostRule(%+v) accepted", bad)
		}
	}
}

func TestCredentials(t *testing.T) {
	if _, err := CreateTemporaryCredentials(ciCreds, nil, testNow, testNow.Add(32*24*time.Hour)); err == nil {
		t.Error("32-day credentials created")
	}
	if _, err := CreateTemporaryCredentials(ciCreds, nil, testNow, testNow); err == nil {
		t.Error("zero-length credentials created")
	}
	temp, err := CreateTemporaryCredentials(ciCreds, []string{"a"}, testNow, testNow.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := CreateTemporaryCredentials(temp, nil, testNow, testNow.Add(time.Hour)); err == nil {
		t.Error("temporary credentials issued temporary credentials")
	}
	if _, err := CreateTemporaryCredentials(ciCreds, []string{"bad\nscope"}, testNow, testNow.Add(time.Hour)); err == nil {
		t.Error("invalid scope accepted")
	}
	if _, err := CreateNamedTemporaryCredentials(ciCreds, "project/ci", nil, testNow, testNow.Add(time.Hour)); err == nil {
		t.Error("named credentials with the issuer's own id created")
	}
	r := httptest.NewRequest("GET", "https://x/", nil)
	if err := SignRequest(r, Credentials{ClientID: "a"}, nil, testNow); err == nil {
		t.Error("signed without an access token")
	}
	if err := SignRequest(r, Credentials{ClientID: `a"b`, AccessToken: "k"}, nil, testNow); err == nil {
		t.Error("signed with a clientId that breaks the header")
	}
	if err := SignRequest(r, Credentials{ClientID: "a", AccessToken: "k", Certificate: "not json"}, nil, testNow); err == nil {
		t.Error("signed with a broken certificate")
	}
}

func TestGenerateAccessToken(t *testing.T) {
	tok, err := GenerateAccessToken(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if len(tok) != 44 || strings.Trim(tok, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		t.Errorf("token %q is not 44 URL-safe characters", tok)
	}
	other, _ := GenerateAccessToken(rand.Reader)
	if other == tok {
		t.Error("two tokens are equal")
	}
	if _, err := GenerateAccessToken(strings.NewReader("short")); err == nil {
		t.Error("short reader accepted")
	}
}

// Before the body, the scopes are all that can refuse a caller whose
// credentials hold; a payload mismatch can only be found after. So a
// caller short of scopes whose body also differs from its hash is
// refused 403 by AuthorizeBeforeBody, where Authorize, in Taskcluster's
// order, finds the mismatch first.
func TestAuthorizeBeforeBody_ScopesBeforePayload(t *testing.T) {
	x := newTestStatic(t, nil)
	required := Scope("hooks:modify-hook:proj/nightly")
	req := func() *http.Request {
		return signedRequest(t, "PUT", "/h", unprivCreds, []byte(`{"a":1}`), true, testNow)
	}
	other := []byte(`{"a":2}`)
	if _, err := x.Authorize(context.Background(), req(), other, required); !errors.Is(err, ErrAuthenticationFailed) {
		t.Errorf("Authorize = %v, want AuthenticationFailed", err)
	}
	c, payload, err := x.AuthorizeBeforeBody(context.Background(), req(), required)
	if !errors.Is(err, ErrInsufficientScopes) || c.ClientID != "project/unpriv" {
		t.Errorf("AuthorizeBeforeBody = %+v %v, want InsufficientScopes", c, err)
	}
	if payload != (PayloadCheck{}) {
		t.Errorf("a refusal returned a payload check %+v", payload)
	}
}
