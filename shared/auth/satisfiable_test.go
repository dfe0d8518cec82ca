package auth

import "testing"

func TestExpr_SatisfiableBy(t *testing.T) {
	modify := AllOf(Scope("hooks:modify-hook:<hookGroupId>/<hookId>"), Scope("assume:hook-id:<hookGroupId>/<hookId>"))
	for _, tt := range []struct {
		name   string
		expr   Expr
		scopes []string
		want   bool
	}{
		{"star", modify, []string{"*"}, true},
		{"prefix of the service", modify, []string{"hooks:*", "assume:hook-id:*"}, true},
		{"one group", modify, []string{"hooks:modify-hook:g/*", "assume:hook-id:g/*"}, true},
		{"one hook exactly", modify, []string{"hooks:modify-hook:g/h", "assume:hook-id:g/h"}, true},
		{"half of AllOf", modify, []string{"hooks:modify-hook:g/*"}, false},
		{"reads only", modify, []string{"hooks:get:*", "hooks:list-hooks:*"}, false},
		{"other service", modify, []string{"queue:*"}, false},
		{"prefix past the literal", Scope("hooks:get:<g>:<h>"), []string{"hooks:get:x:y*"}, true},
		{"literal disagrees", Scope("hooks:get:<g>:<h>"), []string{"hooks:gex*"}, false},
		{"no placeholder", Scope("hookline:kill-switch"), []string{"hookline:kill-switch"}, true},
		{"no placeholder, longer prefix", Scope("hookline:kill-switch"), []string{"hookline:kill-switch-x*"}, false},
		{"exact scope not an instance", Scope("hooks:status:<g>/<h>"), []string{"hooks:status:g"}, false},
		{"AnyOf", AnyOf(Scope("a:<x>"), Scope("b:<x>")), []string{"b:1"}, true},
		{"zero", Expr{}, nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.expr.SatisfiableBy(tt.scopes); got != tt.want {
				t.Errorf("%s.SatisfiableBy(%q) = %v, want %v", tt.expr, tt.scopes, got, tt.want)
			}
		})
	}
}
