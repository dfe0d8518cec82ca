package auth

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// scopeCases mirrors scopes-cases.json.
type scopeCases struct {
	Satisfaction []struct {
		Scopeset          []string        `json:"scopeset"`
		Expression        json.RawMessage `json:"expression"`
		Satisfied         bool            `json:"satisfied"`
		ScopesSatisfying  []string        `json:"scopesSatisfying"`
		RemoveGivenScopes json.RawMessage `json:"removeGivenScopes"`
		Source            string          `json:"source"`
	} `json:"satisfaction"`
	ValidScope []struct {
		Scope string `json:"scope"`
		Valid bool   `json:"valid"`
	} `json:"validScope"`
	ValidExpression []struct {
		Expression json.RawMessage `json:"expression"`
		Valid      bool            `json:"valid"`
	} `json:"validExpression"`
	Ordering struct {
		SortCases []struct {
			Input      []string `json:"input"`
			Sorted     []string `json:"sorted"`
			Normalized []string `json:"normalized"`
		} `json:"sortCases"`
		NormalizeCases []struct {
			Input      []string `json:"input"`
			Normalized []string `json:"normalized"`
		} `json:"normalizeCases"`
		UnionCases []struct {
			A     []string `json:"a"`
			B     []string `json:"b"`
			Union []string `json:"union"`
		} `json:"unionCases"`
		IntersectionCases []struct {
			A            []string `json:"a"`
			B            []string `json:"b"`
			Intersection []string `json:"intersection"`
		} `json:"intersectionCases"`
	} `json:"ordering"`
	RoleExpansion []struct {
		Title    string   `json:"title"`
		Roles    []Role   `json:"roles"`
		Scopes   []string `json:"scopes"`
		Expanded []string `json:"expanded"`
	} `json:"roleExpansion"`
	InvalidRoles []struct {
		Title string `json:"title"`
		Roles []Role `json:"roles"`
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
		} `json:"error"`
	} `json:"invalidRoles"`
	Templates []struct {
		Template json.RawMessage `json:"template"`
		Params   map[string]any  `json:"params"`
		Rendered json.RawMessage `json:"rendered"`
		Error    *string         `json:"error"`
	} `json:"templates"`
}

func loadScopeCases(t *testing.T) *scopeCases {
	t.Helper()
	var c scopeCases
	loadReference(t, "scopes-cases.json", &c)
	if len(c.Satisfaction) == 0 || len(c.RoleExpansion) == 0 {
		t.Fatal("scopes-cases.json decoded to nothing: has its layout changed?")
	}
	return &c
}

func mustExpr(t *testing.T, raw json.RawMessage) Expr {
	t.Helper()
	var e Expr
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatalf("decode expression %s: %v", raw, err)
	}
	return e
}

// sameJSON compares two JSON documents structurally.
func sameJSON(t *testing.T, got, want []byte) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("decode %s: %v", got, err)
	}
	if err := json.Unmarshal(want, &w); err != nil {
		t.Fatalf("decode %s: %v", want, err)
	}
	gb, _ := json.Marshal(g)
	wb, _ := json.Marshal(w)
	return string(gb) == string(wb)
}

func TestScopeCases_Satisfaction(t *testing.T) {
	c := loadScopeCases(t)
	for i, tc := range c.Satisfaction {
		t.Run(fmt.Sprintf("%d", i+1), func(t *testing.T) {
			e := mustExpr(t, tc.Expression)
			if got := e.SatisfiedBy(tc.Scopeset); got != tc.Satisfied {
				t.Errorf("%v satisfies %s = %v, want %v (%s)", tc.Scopeset, e, got, tc.Satisfied, tc.Source)
			}
			missing, _ := e.Missing(tc.Scopeset).MarshalJSON()
			if !sameJSON(t, missing, tc.RemoveGivenScopes) {
				t.Errorf("Missing = %s, want %s", missing, tc.RemoveGivenScopes)
			}
			sat, ok := e.SatisfyingScopes(tc.Scopeset)
			if ok != tc.Satisfied || ok && !slices.Equal(sat, tc.ScopesSatisfying) {
				t.Errorf("SatisfyingScopes = %q, %v, want %q", sat, ok, tc.ScopesSatisfying)
			}
		})
	}
}

func TestScopeCases_Validity(t *testing.T) {
	c := loadScopeCases(t)
	for _, tc := range c.ValidScope {
		if got := ValidScope(tc.Scope); got != tc.Valid {
			t.Errorf("ValidScope(%q) = %v, want %v", tc.Scope, got, tc.Valid)
		}
	}
	for _, tc := range c.ValidExpression {
		var e Expr
		err := json.Unmarshal(tc.Expression, &e)
		if (err == nil) != tc.Valid {
			t.Errorf("decode %s: err = %v, want valid %v", tc.Expression, err, tc.Valid)
		}
		if err == nil {
			back, _ := e.MarshalJSON()
			if !sameJSON(t, back, tc.Expression) {
				t.Errorf("round trip %s gave %s", tc.Expression, back)
			}
		}
	}
}

func TestScopeCases_Ordering(t *testing.T) {
	c := loadScopeCases(t)
	o := c.Ordering
	for _, tc := range o.SortCases {
		sorted := slices.Clone(tc.Input)
		slices.SortFunc(sorted, CompareScopes)
		if !slices.Equal(sorted, tc.Sorted) {
			t.Errorf("sort %q = %q, want %q", tc.Input, sorted, tc.Sorted)
		}
		if got := NormalizeScopes(tc.Input); !slices.Equal(got, tc.Normalized) {
			t.Errorf("NormalizeScopes(%q) = %q, want %q", tc.Input, got, tc.Normalized)
		}
	}
	for _, tc := range o.NormalizeCases {
		if got := NormalizeScopes(tc.Input); !slices.Equal(got, tc.Normalized) {
			t.Errorf("NormalizeScopes(%q) = %q, want %q", tc.Input, got, tc.Normalized)
		}
	}
	for _, tc := range o.UnionCases {
		if got := UnionScopes(tc.A, tc.B); !slices.Equal(got, tc.Union) {
			t.Errorf("UnionScopes(%q, %q) = %q, want %q", tc.A, tc.B, got, tc.Union)
		}
	}
	for _, tc := range o.IntersectionCases {
		if got := IntersectScopes(tc.A, tc.B); !slices.Equal(got, tc.Intersection) {
			t.Errorf("IntersectScopes(%q, %q) = %q, want %q", tc.A, tc.B, got, tc.Intersection)
		}
	}
}

func TestScopeCases_RoleExpansion(t *testing.T) {
	c := loadScopeCases(t)
	for _, tc := range c.RoleExpansion {
		t.Run(tc.Title, func(t *testing.T) {
			rs, err := CompileRoles(tc.Roles)
			if err != nil {
				t.Fatalf("CompileRoles: %v", err)
			}
			if got := rs.Expand(tc.Scopes); !slices.Equal(got, tc.Expanded) {
				t.Errorf("Expand(%q)\n got %q\nwant %q", tc.Scopes, got, tc.Expanded)
			}
		})
	}
}

func TestScopeCases_InvalidRoles(t *testing.T) {
	c := loadScopeCases(t)
	for _, tc := range c.InvalidRoles {
		t.Run(tc.Title, func(t *testing.T) {
			_, err := CompileRoles(tc.Roles)
			if err == nil {
				t.Fatal("CompileRoles accepted an invalid role set")
			}
			wantKind := map[string]error{"InvalidScopeError": errInvalidRoleScope, "DependencyCycleError": errRoleCycle}[tc.Error.Code]
			if !errors.Is(err, wantKind) || !strings.Contains(err.Error(), tc.Error.Message) {
				t.Errorf("error = %v, want %s %q", err, tc.Error.Code, tc.Error.Message)
			}
		})
	}
}

func TestScopeCases_Templates(t *testing.T) {
	c := loadScopeCases(t)
	for i, tc := range c.Templates {
		t.Run(fmt.Sprintf("%d", i+1), func(t *testing.T) {
			got, err := RenderTemplate(tc.Template, tc.Params)
			if tc.Error != nil {
				if err == nil || !strings.Contains(err.Error(), *tc.Error) {
					t.Errorf("RenderTemplate(%s) error = %v, want %q", tc.Template, err, *tc.Error)
				}
				return
			}
			if err != nil {
				t.Fatalf("RenderTemplate(%s): %v", tc.Template, err)
			}
			b, _ := got.MarshalJSON()
			if !sameJSON(t, b, tc.Rendered) {
				t.Errorf("RenderTemplate(%s) = %s, want %s", tc.Template, b, tc.Rendered)
			}
			// Templates made only of <param> strings render the same through
			// Expr.Substitute, which the router uses.
			var e Expr
			if json.Unmarshal(tc.Template, &e) != nil {
				return
			}
			params := map[string]string{}
			for k, v := range tc.Params {
				params[k] = fmt.Sprint(v)
			}
			sub, err := e.Substitute(params)
			if err != nil {
				t.Fatalf("Substitute: %v", err)
			}
			if sub.String() != got.String() {
				t.Errorf("Substitute = %s, RenderTemplate = %s", sub, got)
			}
		})
	}
}

func TestRoles_Reject(t *testing.T) {
	for _, tt := range []struct {
		name  string
		roles []Role
		want  string
	}{
		{name: "duplicate id", roles: []Role{{RoleID: "a"}, {RoleID: "a"}}, want: "duplicate roleId"},
		{name: "empty id", roles: []Role{{RoleID: ""}}, want: "must be non-empty"},
		{name: "bad scope", roles: []Role{{RoleID: "a", Scopes: []string{"x\ty"}}}, want: "not printable ASCII"},
		{name: "star scope is a self cycle", roles: []Role{{RoleID: "admin", Scopes: []string{"*"}}}, want: "'assume:admin' -> 'assume:admin'"},
		{name: "three role cycle", roles: []Role{
			{RoleID: "x", Scopes: []string{"assume:y"}},
			{RoleID: "y", Scopes: []string{"assume:z*"}},
			{RoleID: "zz", Scopes: []string{"assume:x"}},
		}, want: "'assume:x' -> 'assume:y' -> 'assume:zz' -> 'assume:x'"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := CompileRoles(tt.roles)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("CompileRoles error = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestExpr_Describe(t *testing.T) {
	for _, tt := range []struct {
		e    Expr
		want string
	}{
		{Scope("a<b>&c"), "a<b>&c"},
		{AllOf(Scope("a"), AnyOf()), "{\n  \"AllOf\": [\n    \"a\",\n    {\n      \"AnyOf\": []\n    }\n  ]\n}"},
		{Expr{}, "null"},
	} {
		if got := tt.e.describe(); got != tt.want {
			t.Errorf("describe(%s) = %q, want %q", tt.e, got, tt.want)
		}
	}
	if got := AllOf(Scope("<x>")).String(); got != `{"AllOf":["<x>"]}` {
		t.Errorf("String = %s", got)
	}
	if _, err := Scope("x:<missing>").Substitute(nil); err == nil {
		t.Error("Substitute with a missing parameter succeeded")
	}
	if got, _ := Scope("x:<foo.bar>:<..>").Substitute(nil); got.String() != `"x:<foo.bar>:<..>"` {
		t.Errorf("Substitute changed literal text: %s", got)
	}
}

// Substitute finds placeholders exactly where paramPattern does (it scans
// by hand, for speed): same replacements, same missing parameter.
func TestSubstituteMatchesThePattern(t *testing.T) {
	params := map[string]string{"a": "A", "hookId": "x/y", "b_2": "<b>", "Z": ""}
	for _, s := range []string{
		"", "plain", "<a>", "<<a>>", "<a><a>", "x:<a>:<hookId>/<b_2>", "<a", "a>", "<>", "<1a>", "<_a>", "<a-b>",
		"<a.b>", "<..>", "<Z>x", "<a><", "<<<a>", "<a b>", "tail<", "<hookId><a>z<Z><", "<missing>", "<a><missing>",
	} {
		var missing string
		want := paramPattern.ReplaceAllStringFunc(s, func(m string) string {
			v, ok := params[m[1:len(m)-1]]
			if !ok && missing == "" {
				missing = m[1 : len(m)-1]
			}
			return v
		})
		got, err := Scope(s).Substitute(params)
		switch {
		case missing != "":
			if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("%q", missing)) {
				t.Errorf("Substitute(%q): %v, %v; want an error naming %q", s, got, err, missing)
			}
		case err != nil || got.scope != want:
			t.Errorf("Substitute(%q) = %q, %v; want %q", s, got.scope, err, want)
		}
	}
}
