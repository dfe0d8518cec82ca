package auth

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"
)

// benchStatic is a deployment-sized configuration: a few dozen clients and
// roles, including parameterised hook roles.
func benchStatic(b *testing.B) *Static {
	b.Helper()
	cfg := testConfig()
	for i := range 30 {
		cfg.Clients = append(cfg.Clients, Client{
			ClientID:    fmt.Sprintf("project/p%d/ci", i),
			AccessToken: fmt.Sprintf("token-%02d-0123456789abcdefghijklmnopqrstuvwx", i),
			Scopes:      []string{fmt.Sprintf("assume:project:p%d:ci", i), "hooks:list-hooks:*"},
		})
		cfg.Roles = append(cfg.Roles,
			Role{RoleID: fmt.Sprintf("project:p%d:ci", i), Scopes: []string{
				fmt.Sprintf("hooks:trigger-hook:p%d/*", i), fmt.Sprintf("hooks:modify-hook:p%d/*", i),
				fmt.Sprintf("assume:hook-id:p%d/*", i), "queue:scheduler-id:-",
			}},
			Role{RoleID: fmt.Sprintf("hook-id:p%d/*", i), Scopes: []string{
				fmt.Sprintf("queue:create-task:highest:p%d/*", i), fmt.Sprintf("secrets:get:project/p%d/<..>", i),
			}},
		)
	}
	x, err := NewStatic(cfg, &Options{Now: func() time.Time { return testNow }})
	if err != nil {
		b.Fatal(err)
	}
	return x
}

func BenchmarkAuthorize(b *testing.B) {
	x := benchStatic(b)
	ctx := context.Background()
	body := []byte(`{"branch":"main","sha":"0123456789abcdef"}`)
	creds := Credentials{ClientID: "project/p7/ci", AccessToken: "token-07-0123456789abcdefghijklmnopqrstuvwx"}
	temp, err := CreateTemporaryCredentials(creds, []string{"hooks:trigger-hook:p7/*"}, testNow.Add(-time.Minute), testNow.Add(time.Hour))
	if err != nil {
		b.Fatal(err)
	}
	modify := AllOf(Scope("hooks:modify-hook:p7/nightly"), Scope("assume:hook-id:p7/nightly"))
	for _, bc := range []struct {
		name     string
		req      *http.Request
		body     []byte
		required Expr
	}{
		{"header", signedRequest(b, "GET", "/api/hooks/v1/hooks/p7/nightly/last-fires?limit=10", creds, nil, false, testNow), nil, Scope("hooks:list-hooks:p7")},
		{"header+payload", signedRequest(b, "PUT", "/api/hooks/v1/hooks/p7/nightly", creds, body, true, testNow), body, modify},
		{"temporary", signedRequest(b, "POST", "/api/hooks/v1/hooks/p7/nightly/trigger", temp, nil, false, testNow), nil, Scope("hooks:trigger-hook:p7/nightly")},
		{"bewit", bewitRequest(b, "GET", "/api/hooks/v1/hooks/p7/nightly/status", creds, time.Minute, testNow), nil, Scope("hooks:list-hooks:p7")},
	} {
		b.Run(bc.name, func(b *testing.B) {
			if _, err := x.Authorize(ctx, bc.req, bc.body, bc.required); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := x.Authorize(ctx, bc.req, bc.body, bc.required); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
