package service

import (
	"fmt"
	"testing"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/config"
)

func TestTaskRoles(t *testing.T) {
	static := func(cfg auth.Config) Authorizer {
		st, err := auth.NewStatic(cfg, nil)
		if err != nil {
			t.Fatal(err)
		}
		return st
	}
	withRoles := static(auth.Config{Roles: []auth.Role{{RoleID: "hook-id:g/*", Scopes: []string{"queue:create-task:*"}}}})
	anonymousOnly := static(auth.Config{AnonymousScopes: []string{"hooks:*"}})
	remoteQueue := config.Config{Taskcluster: config.TaskclusterConfig{RootURL: "https://tc.example.com"}}
	for _, tt := range []struct {
		name  string
		cfg   config.Config
		authz Authorizer
		want  string
	}{
		// The queue's deployment knows the roles, whatever authenticates callers.
		{"taskcluster queue", remoteQueue, withRoles, "*auth.Remote"},
		{"taskcluster queue, no authorizer", remoteQueue, nil, "*auth.Remote"},
		{"local queue, static roles", config.Config{}, withRoles, "*auth.Static"},
		{"local queue, anonymous scopes only", config.Config{}, anonymousOnly, "<nil>"},
		{"local queue, no authorizer", config.Config{}, nil, "<nil>"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := TaskRoles(tt.cfg, tt.authz)
			if typ := fmt.Sprintf("%T", got); typ != tt.want {
				t.Fatalf("TaskRoles = %s, want %s", typ, tt.want)
			}
			if tt.want == "<nil>" && got != nil {
				t.Fatal("a nil pointer inside a non-nil interface")
			}
		})
	}
}
