package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline/shared/auth"
)

// whoAmI calls the whoami route signed with creds (none when ClientID is
// empty), as a browser at http://hooks.example.com would.
func whoAmI(t *testing.T, e *testEnv, creds auth.Credentials) reply {
	t.Helper()
	path := HooklineBasePath + "/whoami"
	req := httptest.NewRequest("GET", "http://hooks.example.com"+path, nil)
	req.RequestURI = path
	if creds.ClientID != "" {
		if err := auth.SignRequest(req, creds, nil, testNow); err != nil {
			t.Fatal(err)
		}
	}
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	r := reply{status: rec.Code, header: rec.Header(), raw: rec.Body.String()}
	mustDecode(t, rec.Body.Bytes(), &r.body)
	return r
}

func scopesOf(t *testing.T, r reply) []string {
	t.Helper()
	var out []string
	for _, s := range r.body["scopes"].([]any) {
		out = append(out, s.(string))
	}
	return out
}

// In static mode whoami answers the clientId and the expanded scopes:
// roles applied, the anonymous role's included, authorizedScopes honoured.
func TestWhoAmI_Static(t *testing.T) {
	cfg := auth.Config{
		Clients: []auth.Client{
			{ClientID: "admin", AccessToken: testToken, Scopes: []string{"*"}},
			{ClientID: "viewer", AccessToken: testToken, Scopes: []string{"assume:project:view", "hooks:get:*"}},
		},
		Roles:           []auth.Role{{RoleID: "project:view", Scopes: []string{"hooks:list-hooks:*"}}},
		AnonymousScopes: []string{"hooks:status:*"},
	}
	st, err := auth.NewStatic(cfg, &auth.Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	e := newTestEnv(t, st)
	for _, tt := range []struct {
		name       string
		creds      auth.Credentials
		wantStatus int
		wantClient string
		wantAuth   bool
		wantScopes []string
	}{
		{name: "anonymous", wantStatus: 200, wantScopes: []string{"assume:anonymous", "hooks:status:*"}},
		{name: "admin", creds: auth.Credentials{ClientID: "admin", AccessToken: testToken}, wantStatus: 200,
			wantClient: "admin", wantAuth: true, wantScopes: []string{"*"}},
		{name: "roles expanded", creds: auth.Credentials{ClientID: "viewer", AccessToken: testToken}, wantStatus: 200,
			wantClient: "viewer", wantAuth: true,
			wantScopes: []string{"assume:anonymous", "assume:project:view", "hooks:get:*", "hooks:list-hooks:*", "hooks:status:*"}},
		{name: "authorizedScopes", creds: auth.Credentials{ClientID: "admin", AccessToken: testToken, AuthorizedScopes: []string{"hooks:get:g:h"}},
			wantStatus: 200, wantClient: "admin", wantAuth: true, wantScopes: []string{"assume:anonymous", "hooks:get:g:h", "hooks:status:*"}},
		{name: "bad token", creds: auth.Credentials{ClientID: "admin", AccessToken: "not-the-token-0123456789"}, wantStatus: 401},
		{name: "unknown client", creds: auth.Credentials{ClientID: "nobody", AccessToken: testToken}, wantStatus: 401},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := whoAmI(t, e, tt.creds)
			if r.status != tt.wantStatus {
				t.Fatalf("status %d, want %d: %s", r.status, tt.wantStatus, r.raw)
			}
			if tt.wantStatus != 200 {
				if r.code() != CodeAuthenticationFailed || r.header.Get("WWW-Authenticate") != "hawk" {
					t.Fatalf("refusal: %s %v", r.raw, r.header)
				}
				return
			}
			if got, _ := r.body["clientId"].(string); got != tt.wantClient {
				t.Errorf("clientId %q, want %q", got, tt.wantClient)
			}
			if got := r.body["authenticated"]; got != tt.wantAuth {
				t.Errorf("authenticated %v, want %v", got, tt.wantAuth)
			}
			got := scopesOf(t, r)
			if !slices.IsSorted(got) {
				t.Errorf("scopes not sorted: %v", got)
			}
			// Expansion may add what a "*" already covers; compare the set.
			if diff := cmp.Diff(tt.wantScopes, got); diff != "" {
				t.Errorf("scopes (-want +got):\n%s", diff)
			}
		})
	}
}

// In taskcluster mode the scopes are what the deployment's auth service
// answered for the request.
func TestWhoAmI_Remote(t *testing.T) {
	var seen auth.HawkRequest
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/auth/v1/authenticate-hawk" {
			http.NotFound(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		seen = auth.HawkRequest{}
		json.Unmarshal(body, &seen)
		w.Header().Set("Content-Type", "application/json")
		if seen.Authorization == "" {
			io.WriteString(w, `{"status":"no-auth","scheme":"none","scopes":["assume:anonymous"]}`)
			return
		}
		if !strings.Contains(seen.Authorization, `id="project/ops"`) {
			io.WriteString(w, `{"status":"auth-failed","message":"Client with clientId 'x' not found"}`)
			return
		}
		io.WriteString(w, `{"status":"auth-success","scheme":"hawk","clientId":"project/ops","scopes":["hooks:list-hooks:*","assume:anonymous","hookline:kill-switch"]}`)
	}))
	defer svc.Close()
	e := newTestEnv(t, auth.NewRemote(svc.URL, svc.Client()))

	r := whoAmI(t, e, auth.Credentials{ClientID: "project/ops", AccessToken: testToken})
	if r.status != 200 || r.body["clientId"] != "project/ops" || r.body["authenticated"] != true {
		t.Fatalf("signed: %d %s", r.status, r.raw)
	}
	if diff := cmp.Diff([]string{"assume:anonymous", "hookline:kill-switch", "hooks:list-hooks:*"}, scopesOf(t, r)); diff != "" {
		t.Errorf("scopes (-want +got):\n%s", diff)
	}
	if seen.Resource != HooklineBasePath+"/whoami" || seen.Host != "hooks.example.com" {
		t.Errorf("auth service asked about %+v", seen)
	}

	r = whoAmI(t, e, auth.Credentials{})
	if r.status != 200 || r.body["authenticated"] != false || r.body["clientId"] != nil {
		t.Fatalf("anonymous: %d %s", r.status, r.raw)
	}
	if diff := cmp.Diff([]string{"assume:anonymous"}, scopesOf(t, r)); diff != "" {
		t.Errorf("anonymous scopes (-want +got):\n%s", diff)
	}

	if r := whoAmI(t, e, auth.Credentials{ClientID: "someone", AccessToken: testToken}); r.status != 401 || r.code() != CodeAuthenticationFailed {
		t.Fatalf("refused: %d %s", r.status, r.raw)
	}
}
