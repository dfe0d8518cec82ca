package auth

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

const goodConfig = `{
  "clients": [
    {
      "clientId": "project/ci",
      "accessToken": "Xu1e7QAAQACAAAAAAAAAAQXu1e7QAAQACAAAAAAAAAAg",
      "scopes": ["hooks:trigger-hook:project-ci/*", "assume:project:ci"],
      "expires": "2030-01-01T00:00:00Z",
      "description": "CI robot"
    },
    {"clientId": "static/root", "accessToken": "root-secret-0000000000000000", "scopes": ["*"], "disabled": true}
  ],
  "roles": [
    {"roleId": "project:ci", "scopes": ["hooks:modify-hook:project-ci/*", "assume:hook-id:project-ci/*"]},
    {"roleId": "hook-id:project-ci/*", "scopes": ["queue:create-task:highest:proj-ci/*", "secrets:get:project/ci/<..>"]}
  ],
  "anonymousScopes": ["hooks:status:*"]
}`

func TestParseConfig(t *testing.T) {
	cfg, err := ParseConfig([]byte(goodConfig))
	if err != nil {
		t.Fatalf("ParseConfig: %v", err)
	}
	if len(cfg.Clients) != 2 || len(cfg.Roles) != 2 || len(cfg.AnonymousScopes) != 1 {
		t.Fatalf("decoded %+v", cfg)
	}
	ci := cfg.Clients[0]
	if ci.ClientID != "project/ci" || !ci.Expires.Equal(time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)) ||
		ci.Description != "CI robot" || !cfg.Clients[1].Disabled {
		t.Errorf("clients decoded as %+v", cfg.Clients)
	}
	x, err := NewStatic(cfg, &Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatalf("NewStatic: %v", err)
	}
	creds := Credentials{ClientID: "project/ci", AccessToken: ci.AccessToken}
	r := signedRequest(t, "GET", "/x", creds, nil, false, testNow)
	caller, err := x.Authorize(context.Background(), r, nil, Scope("secrets:get:project/ci/nightly"))
	if err != nil {
		t.Fatalf("Authorize: %v", err)
	}
	if !caller.Authenticated || caller.ClientID != "project/ci" {
		t.Errorf("caller = %+v", caller)
	}
	if _, err := x.Authorize(context.Background(), httptest.NewRequest("GET", "/s", nil), nil, Scope("hooks:status:a/b")); err != nil {
		t.Errorf("anonymous status: %v", err)
	}
}

func TestParseConfig_Errors(t *testing.T) {
	for _, tt := range []struct {
		name string
		doc  string
		want []string
	}{
		{name: "syntax", doc: "{\n  \"clients\": [\n    {\"clientId\": \"a\",}\n  ]\n}", want: []string{"line 3"}},
		{name: "unknown field", doc: `{"client": []}`, want: []string{`unknown field "client"`}},
		{name: "wrong type", doc: `{"clients": [{"clientId": 5}]}`, want: []string{"clientId", "line 1"}},
		{name: "trailing data", doc: `{"clients": []} {}`, want: []string{"unexpected data after the JSON object"}},
		{name: "bad expires", doc: `{"clients": [{"clientId": "a", "accessToken": "0123456789abcdef", "expires": "tomorrow"}]}`, want: []string{"tomorrow", "expires must be an RFC 3339 time"}},
		{name: "missing client id", doc: `{"clients": [{"accessToken": "0123456789abcdef"}]}`, want: []string{"clients[0].clientId is missing"}},
		{name: "bad client id", doc: `{"clients": [{"clientId": "a b", "accessToken": "0123456789abcdef"}]}`, want: []string{`clients[0].clientId "a b" may only contain`}},
		{name: "short token", doc: `{"clients": [{"clientId": "a", "accessToken": "short"}]}`, want: []string{"clients[0] (a).accessToken must be at least 16 characters", "GenerateAccessToken"}},
		{name: "duplicate client", doc: `{"clients": [{"clientId": "a", "accessToken": "0123456789abcdef"}, {"clientId": "a", "accessToken": "0123456789abcdef"}]}`, want: []string{`clients[1].clientId "a" repeats clients[0]`}},
		{name: "bad scope", doc: `{"clients": [{"clientId": "a", "accessToken": "0123456789abcdef", "scopes": ["caf\u00e9"]}]}`, want: []string{"clients[0] (a).scopes[0]", "printable ASCII"}},
		{name: "double star", doc: `{"roles": [{"roleId": "r", "scopes": ["x:**"]}]}`, want: []string{`roles[0] (r).scopes[0]: "x:**" ends in "**"`}},
		{name: "anonymous twice", doc: `{"roles": [{"roleId": "anonymous", "scopes": []}], "anonymousScopes": ["a"]}`, want: []string{"keep one"}},
		{name: "role cycle", doc: `{"roles": [{"roleId": "a", "scopes": ["assume:b"]}, {"roleId": "b", "scopes": ["assume:a"]}]}`, want: []string{"dependency cycles", "'assume:a' -> 'assume:b' -> 'assume:a'"}},
		{name: "every problem reported", doc: `{"clients": [{"clientId": "", "accessToken": ""}, {"clientId": "b", "accessToken": "x", "scopes": ["\t"]}]}`,
			want: []string{"clients[0].clientId is missing", "clients[0].accessToken", "clients[1] (b).accessToken", "clients[1] (b).scopes[0]"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseConfig([]byte(tt.doc))
			if err == nil {
				t.Fatal("ParseConfig accepted a bad document")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestNewStatic_Validates(t *testing.T) {
	if _, err := NewStatic(Config{Clients: []Client{{ClientID: "a"}}}, nil); err == nil {
		t.Error("NewStatic accepted a client without access token")
	}
	if _, err := NewStatic(Config{}, &Options{PublicPort: -1}); err == nil {
		t.Error("NewStatic accepted a negative port")
	}
	x, err := NewStatic(Config{}, nil)
	if err != nil {
		t.Fatalf("NewStatic(empty): %v", err)
	}
	if got := x.AnonymousScopes(); len(got) != 1 || got[0] != "assume:anonymous" {
		t.Errorf("anonymous scopes without an anonymous role = %q", got)
	}
}
