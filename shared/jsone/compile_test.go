package jsone

import (
	"fmt"
	"strings"
	"testing"
)

// TestCompileWalkChecksCanonical holds Compile's walk to normalize's
// verdict: the walk must call a template canonical exactly when
// isCanonical does (within the depth limit), and find the same Funcs, or
// Compile would accept what it must convert or reject. Each bad value sits
// in a part of the template that the walk compiles or in one it only
// checks.
func TestCompileWalkChecksCanonical(t *testing.T) {
	fn := Func(func(...any) (any, error) { return nil, nil })
	nested := func(depth int, leaf any) any {
		v := leaf
		for range depth {
			v = []any{v}
		}
		return v
	}
	bads := map[string]any{"int": 1, "NaN": nanValue(), "ints": []int{1}, "intmap": map[string]int{"a": 1}, "chan": make(chan int), "func": fn}
	shapes := map[string]func(bad any) any{
		"plain":              func(b any) any { return map[string]any{"a": []any{"x", b}} },
		"interpolated":       func(b any) any { return map[string]any{"a": []any{"${x}", b}} },
		"two operators":      func(b any) any { return map[string]any{"$eval": "x", "$json": b} },
		"undefined property": func(b any) any { return map[string]any{"$json": 1.0, "zz": b} },
		"$eval not a string": func(b any) any { return map[string]any{"$eval": b} },
		"$if not a string":   func(b any) any { return map[string]any{"$if": b, "then": 1.0} },
		"$if $then":          func(b any) any { return map[string]any{"$if": "x", "$then": b} },
		"$if then":           func(b any) any { return map[string]any{"$if": "x", "then": b, "else": "${y}"} },
		"$fromNow from":      func(b any) any { return map[string]any{"$fromNow": "1 day", "from": b} },
		"$let not an object": func(b any) any { return map[string]any{"$let": b, "in": 1.0} },
		"$let in":            func(b any) any { return map[string]any{"$let": map[string]any{"a": 1.0}, "in": b} },
		"$map second each":   func(b any) any { return map[string]any{"$map": []any{}, "each(x)": "${x}", "each(y)": b} },
		"$reduce initial":    func(b any) any { return map[string]any{"$reduce": []any{}, "each(a,x)": 1.0, "initial": b} },
		"$reduce no each":    func(b any) any { return map[string]any{"$reduce": []any{}, "each(a)": b, "initial": 0.0} },
		"$find each":         func(b any) any { return map[string]any{"$find": []any{}, "each(x)": b} },
		"$sort by":           func(b any) any { return map[string]any{"$sort": []any{}, "by(x)": b} },
		"$match not object":  func(b any) any { return map[string]any{"$match": b} },
		"$match body":        func(b any) any { return map[string]any{"$match": map[string]any{"x": b}} },
		"$merge":             func(b any) any { return map[string]any{"$merge": []any{b}} },
	}
	type tc struct {
		name string
		tmpl any
	}
	var cases []tc
	for sn, shape := range shapes {
		for bn, bad := range bads {
			cases = append(cases, tc{sn + "/" + bn, shape(bad)})
		}
		cases = append(cases, tc{sn + "/good", shape("${z}")})
	}
	for _, d := range []int{DefaultMaxDepth - 1, DefaultMaxDepth, DefaultMaxDepth + 1} {
		for name, leaf := range map[string]any{"leaf": "a", "empty array": []any{}, "empty object": map[string]any{}, "operator": map[string]any{"$eval": "x"}, "interpolation": "${x}"} {
			cases = append(cases, tc{fmt.Sprintf("depth %d %s", d, name), nested(d, leaf)})
		}
	}
	corpus := loadCorpus(t)
	for _, cc := range corpus.Cases {
		cases = append(cases, tc{"corpus/" + cc.Name, decodeJSON(t, cc.Template)})
	}
	for _, tt := range cases {
		t.Run(tt.name, func(t *testing.T) {
			var wantFunc bool
			wantCanonical, err := isCanonical(tt.tmpl, 0, DefaultMaxDepth, &wantFunc)
			wantCanonical = wantCanonical && err == nil
			got, canonical := compileWalk(tt.tmpl)
			if canonical != wantCanonical {
				t.Fatalf("walk says canonical %v, isCanonical %v (%v)", canonical, wantCanonical, err)
			}
			if canonical && got.funcs != wantFunc {
				t.Fatalf("walk found funcs %v, isCanonical %v", got.funcs, wantFunc)
			}
			// Compile answers as normalize and a compile of its result do.
			tp, err := Compile(tt.tmpl)
			v, funcs, nerr := normalize(tt.tmpl, DefaultMaxDepth)
			if fmt.Sprint(err) != fmt.Sprint(nerr) {
				t.Fatalf("Compile error %v, normalize %v", err, nerr)
			}
			if err != nil {
				return
			}
			ref, _ := compileWalk(v)
			if tp.funcs != funcs || fmt.Sprint(tp.Validate()) != fmt.Sprint(ref.Validate()) {
				t.Fatalf("Compile: funcs %v, problems %v; reference: funcs %v, problems %v", tp.funcs, tp.Validate(), funcs, ref.Validate())
			}
			ctx := map[string]any{"x": []any{1.0}, "y": "y", "z": "z"}
			got1, err1 := tp.Render(ctx, benchOptions)
			got2, err2 := ref.Render(ctx, benchOptions)
			if fmt.Sprint(err1) != fmt.Sprint(err2) {
				t.Fatalf("render error %v, reference %v", err1, err2)
			}
			if err1 == nil && fmt.Sprintf("%#v", got1) != fmt.Sprintf("%#v", got2) {
				t.Fatalf("render %#v, reference %#v", got1, got2)
			}
		})
	}
}

func TestHasInterp(t *testing.T) {
	for _, s := range []string{"", "$", "{", "${", "$$", "$${", "a$", "a${b}", "${a}${b}", "$}{", "${${", "$$${x}", "x$", "{$", "日本${x}$"} {
		if got, want := hasInterp(s), strings.Contains(s, "${"); got != want {
			t.Errorf("hasInterp(%q) = %v, want %v", s, got, want)
		}
		if got, want := countInterp(s), strings.Count(s, "${"); got != want {
			t.Errorf("countInterp(%q) = %v, want %v", s, got, want)
		}
	}
}
