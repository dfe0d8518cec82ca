package httpapi

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/auth"
)

const testToken = "test-access-token-0123456789"

// newAuthEnv serves the API with the real static authenticator and one
// client per scope set under test.
func newAuthEnv(t *testing.T, clients ...auth.Client) *testEnv {
	t.Helper()
	clients = append(clients, auth.Client{ClientID: "admin", AccessToken: testToken, Scopes: []string{"*"}})
	st, err := auth.NewStatic(auth.Config{Clients: clients}, &auth.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return newTestEnv(t, st)
}

func signedDo(t *testing.T, e *testEnv, clientID, method, path, body string) reply {
	t.Helper()
	req := httptest.NewRequest(method, "http://hooks.example.com"+path, strings.NewReader(body))
	req.RequestURI = path // as a server sees it
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if clientID != "" {
		var payload []byte
		if body != "" {
			payload = []byte(body)
		}
		if err := auth.SignRequest(req, auth.Credentials{ClientID: clientID, AccessToken: testToken}, payload, testNow); err != nil {
			t.Fatal(err)
		}
	}
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	r := reply{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	mustDecode(t, rec.Body.Bytes(), &r.body)
	return r
}

// Every route of the API is enforced: for each one, a client holding
// exactly the route's scopes gets through, and a client holding the same
// scopes for another hook is refused with 403 InsufficientScopes naming
// what is missing, as is an anonymous caller.
func TestRouteScopesEnforced(t *testing.T) {
	hook := hookBody(nil)
	for _, tt := range []struct {
		route, method, path, body string
		scopes                    []string
		wantStatus                int
	}{
		{"listHookGroups", "GET", hooksURL, "", []string{"hooks:list-hooks:"}, 200},
		{"listHooks", "GET", hooksURL + "/foo", "", []string{"hooks:list-hooks:foo"}, 200},
		{"hook", "GET", hooksURL + "/foo/bar", "", []string{"hooks:get:foo:bar"}, 200},
		{"createHook", "PUT", hooksURL + "/foo/new", hook, []string{"hooks:modify-hook:foo/new", "assume:hook-id:foo/new"}, 200},
		{"updateHook", "POST", hooksURL + "/foo/bar", hook, []string{"hooks:modify-hook:foo/bar", "assume:hook-id:foo/bar"}, 200},
		{"removeHook", "DELETE", hooksURL + "/foo/bar", "", []string{"hooks:modify-hook:foo/bar"}, 200},
		{"getHookStatus", "GET", hooksURL + "/foo/bar/status", "", []string{"hooks:status:foo/bar"}, 200},
		{"getTriggerToken", "GET", hooksURL + "/foo/bar/token", "", []string{"hooks:get-trigger-token:foo/bar"}, 200},
		{"resetTriggerToken", "POST", hooksURL + "/foo/bar/token", "", []string{"hooks:reset-trigger-token:foo/bar"}, 200},
		{"listLastFires", "GET", hooksURL + "/foo/bar/last-fires", "", []string{"hooks:list-last-fires:foo/bar"}, 200},
		// The trigger itself reaches the queue; here only the scope check
		// matters, so a 400 from the (absent) queue still shows it passed.
		{"triggerHook", "POST", hooksURL + "/foo/bar/trigger", "{}", []string{"hooks:trigger-hook:foo/bar"}, 0},
	} {
		t.Run(tt.route, func(t *testing.T) {
			var others []string
			for _, s := range tt.scopes {
				others = append(others, strings.NewReplacer("foo/bar", "foo/other", "foo:bar", "foo:other", "foo/new", "foo/other", "list-hooks:foo", "list-hooks:other").Replace(s))
			}
			if tt.route == "listHookGroups" {
				others = []string{"hooks:list-hooks:foo"}
			}
			e := newAuthEnv(t,
				auth.Client{ClientID: "allowed", AccessToken: testToken, Scopes: tt.scopes},
				auth.Client{ClientID: "denied", AccessToken: testToken, Scopes: others},
			)
			if r := signedDo(t, e, "admin", "PUT", hooksURL+"/foo/bar", hook); r.status != 200 {
				t.Fatalf("setup: %d %s", r.status, r.raw)
			}
			allowed := signedDo(t, e, "allowed", tt.method, tt.path, tt.body)
			if allowed.status == 401 || allowed.status == 403 || (tt.wantStatus != 0 && allowed.status != tt.wantStatus) {
				t.Fatalf("allowed client: %d %s", allowed.status, allowed.raw)
			}
			for _, who := range []string{"denied", ""} {
				r := signedDo(t, e, who, tt.method, tt.path, tt.body)
				if r.status != 403 || r.code() != CodeInsufficientScopes {
					t.Fatalf("client %q: got %d %s, want 403 InsufficientScopes", who, r.status, r.raw)
				}
			}
		})
	}
}

// Authorization happens before input validation, as upstream: a caller
// without scopes learns nothing about the input.
func TestAuthorizationBeforeValidation(t *testing.T) {
	e := newAuthEnv(t)
	r := signedDo(t, e, "", "PUT", hooksURL+"/foo/bar!!!", `{"bad":true}`)
	if r.status != 403 {
		t.Fatalf("got %d %s, want 403", r.status, r.raw)
	}
}

func TestBadCredentials(t *testing.T) {
	e := newAuthEnv(t)
	req := httptest.NewRequest("GET", "http://hooks.example.com"+hooksURL, nil)
	req.RequestURI = hooksURL
	if err := auth.SignRequest(req, auth.Credentials{ClientID: "admin", AccessToken: "wrong-token-0123456789"}, nil, testNow); err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	if rec.Code != http.StatusUnauthorized || rec.Header().Get("WWW-Authenticate") != "hawk" || !strings.Contains(rec.Body.String(), CodeAuthenticationFailed) {
		t.Fatalf("got %d %v %s", rec.Code, rec.Header(), rec.Body.String())
	}
	if strings.Contains(rec.Body.String(), "wrong-token") {
		t.Fatal("the error leaks the token")
	}
}

// The token route is public: no credentials needed.
func TestTokenRouteIsPublic(t *testing.T) {
	e := newAuthEnv(t)
	if r := signedDo(t, e, "admin", "PUT", hooksURL+"/foo/bar", hookBody(nil)); r.status != 200 {
		t.Fatalf("setup: %d %s", r.status, r.raw)
	}
	r := signedDo(t, e, "", "POST", hooksURL+"/foo/bar/trigger/not-the-token", "{}")
	if r.status != 401 || r.code() != CodeAuthenticationFailed || !strings.Contains(r.message(), "invalid hook token") {
		t.Fatalf("got %d %s", r.status, r.raw)
	}
}
