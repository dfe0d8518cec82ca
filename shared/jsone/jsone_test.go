package jsone

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
)

func mustJSON(t *testing.T, s string) any {
	t.Helper()
	var v any
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("bad test JSON %q: %v", s, err)
	}
	return v
}

func fixedClock() time.Time { return specNow }

func TestRender(t *testing.T) {
	for _, tt := range []struct {
		name     string
		template string
		context  map[string]any
		want     string // JSON; empty when wantErr is set
		wantErr  string // exact error text
	}{
		{name: "top-level delete marker is nil", template: `{"$if": "false", "then": 1}`, want: `null`},
		{name: "untaken branch with syntax error", template: `{"$if": "true", "then": 1, "else": {"$eval": "1 +"}}`, want: `1`},
		{name: "taken branch with syntax error", template: `{"$if": "false", "then": 1, "else": {"$eval": "1 +"}}`, wantErr: "SyntaxError: Unexpected end of input"},
		{name: "find over empty array never evaluates each", template: `{"$find": [], "each(x)": "x +"}`, want: `null`},
		{name: "interpolation evaluates parts before a later syntax error", template: `"${nope} ${1 +"`, wantErr: "InterpreterError: unknown context value nope"},
		{name: "options clock", template: `{"$fromNow": "1 day"}`, want: `"2017-01-20T16:27:20.974Z"`},
		{name: "context now wins over clock", template: `[{"$fromNow": "1 hour"}, {"$eval": "now"}]`, context: map[string]any{"now": "2020-02-29T23:30:00.000Z"}, want: `["2020-03-01T00:30:00.000Z", "2020-02-29T23:30:00.000Z"]`},
		{name: "now variable from clock", template: `{"$eval": "now"}`, want: `"2017-01-19T16:27:20.974Z"`},
		{name: "fromNow with non-UTC reference", template: `{"$eval": "fromNow('0 s', '2017-01-19T18:27:20.974+02:00')"}`, want: `"2017-01-19T16:27:20.974Z"`},
		{name: "fromNow out of order units", template: `{"$fromNow": "1s 1 y"}`, wantErr: "TemplateError: $fromNow: invalid time offset '1s 1 y'"},
		{name: "fromNow unknown unit", template: `{"$eval": "fromNow('3 fortnights')"}`, wantErr: "BuiltinError: invalid arguments to builtin: fromNow: invalid time offset '3 fortnights'"},
		{name: "fromNow huge offset", template: `{"$fromNow": "99999999999999999999 years"}`, wantErr: "TemplateError: $fromNow: invalid time offset '99999999999999999999 years'"},
		{name: "fromNow past year 9999", template: `{"$fromNow": "9000 years"}`, wantErr: "TemplateError: $fromNow: time is out of range"},
		{name: "bad now in context", template: `{"$fromNow": "1 day"}`, context: map[string]any{"now": 12}, wantErr: "TemplateError: $fromNow expects now to be a string"},
		{name: "number formatting", template: `["${a}", "${b}", "${c}", "${d}", {"$json": [1e21, 1e-7, 0.5]}]`, context: map[string]any{"a": 1e21, "b": 1e-7, "c": 0.30000000000000004, "d": math.Copysign(0, -1)}, want: `["1e+21", "1e-7", "0.30000000000000004", "0", "[1e+21,1e-7,0.5]"]`},
		{name: "json escapes like JSON.stringify", template: `{"$json": {"$eval": "x"}}`, context: map[string]any{"x": "<a&b>\n\t\"\\\u2028\x7f"}, want: `"\"<a&b>\\n\\t\\\"\\\\\u2028\u007f\""`},
		{name: "json of nothing is nothing", template: `[{"$json": {"$if": "false", "then": 1}}]`, want: `[]`},
		{name: "path through arrays and odd keys", template: `{"a": [0, {"b-c": {"d_e": {"$eval": "x"}}}]}`, wantErr: `InterpreterError at template.a[1]["b-c"]["d_e"]: unknown context value x`},
		{name: "operators add no path segment", template: `{"a": {"$let": {"y": 1}, "in": {"b": {"$eval": "x"}}}}`, wantErr: `InterpreterError at template.a.b: unknown context value x`},
		{name: "two operators", template: `{"$eval": "1", "$json": 2}`, wantErr: "TemplateError: only one operator allowed"},
		{name: "$then hint", template: `{"$if": "true", "$then": 1}`, wantErr: "TemplateError: $if Syntax error: $then: should be spelled then: (no $)"},
		{name: "$else hint", template: `{"$if": "true", "then": 1, "$else": 2}`, wantErr: "TemplateError: $if has undefined properties: $else (then and else are written without $)"},
		{name: "$if needs a string", template: `{"$if": true, "then": 1}`, wantErr: "TemplateError: $if can evaluate string expressions only"},
		{name: "$map missing each", template: `{"$map": [1]}`, wantErr: "TemplateError: $map must have exactly two properties"},
		{name: "$sort by must be a string", template: `{"$sort": [1], "by(x)": 1}`, wantErr: "TemplateError: $sort by(..) can evaluate string expressions only"},
		{name: "empty sort", template: `{"$sort": []}`, want: `[]`},
		{name: "map over object visits keys in order", template: `{"$map": {"b": 2, "a": 1}, "each(v,k)": {"last": "${k}"}}`, want: `{"last": "b"}`},
		{name: "interpolating a function", template: `"${min}"`, wantErr: "TemplateError: interpolation of 'min' produced a function"},
		{name: "function in let is fine until output", template: `{"$let": {"f": {"$eval": "max"}}, "in": {"$eval": "f(1, 2)"}}`, want: `2`},
		{name: "overflow is an error", template: `{"$eval": "10 ** 400"}`, wantErr: "InterpreterError: arithmetic result is not a finite number"},
		{name: "index below -len", template: `{"$eval": "[1, 2][-3]"}`, wantErr: "InterpreterError: index out of bounds"},
		{name: "string index by code point", template: `{"$eval": "s[1] + s[-1:]"}`, context: map[string]any{"s": "é😀x"}, want: `"😀x"`},
		{name: "unary binds before postfix", template: `{"$eval": "-2 ** 2"}`, want: `4`},
		{name: "number rejects hex", template: `{"$eval": "number('0x10')"}`, wantErr: "BuiltinError: invalid arguments to builtin: number"},
		{name: "number accepts exponent", template: `{"$eval": "number(' 1.5e3 ')"}`, want: `1500`},
		{name: "sqrt of negative", template: `{"$eval": "sqrt(-1)"}`, wantErr: "BuiltinError: invalid arguments to builtin: sqrt"},
		{name: "range wrong arity", template: `{"$eval": "range(1)"}`, wantErr: "BuiltinError: invalid arguments to builtin: range: expected at least 2 arguments"},
		{name: "split into code points", template: `{"$eval": "split('aé😀', '')"}`, want: `["a", "é", "😀"]`},
		{name: "trailing comma in call", template: `{"$eval": "max(1,)"}`, wantErr: "SyntaxError: Found: ) token, expected one of: !, (, +, -, [, false, identifier, null, number, string, true, {"},
		{name: "missing closing paren", template: `{"$eval": "(1 2"}`, wantErr: "SyntaxError: Found: 2 token, expected one of: )"},
		{name: "missing operand after comma", template: `{"$eval": "[1, , 2]"}`, wantErr: "SyntaxError: Found: , token, expected one of: !, (, +, -, [, false, identifier, null, number, string, true, {"},
		{name: "closing bracket alone", template: `{"$eval": "]"}`, wantErr: "SyntaxError: Found: ] token, expected one of: !=, &&, (, *, **, +, -, ., /, <, <=, ==, >, >=, [, in, ||"},
		{name: "object literal trailing comma", template: `{"$eval": "{a: 1,}"}`, want: `{"a": 1}`},
		{name: "junk inside interpolation", template: `"${a b}"`, context: map[string]any{"a": 1}, wantErr: "SyntaxError: Found: b token, expected one of: !=, &&, (, *, **, +, -, ., /, <, <=, ==, >, >=, [, in, ||"},
		{name: "unknown character", template: `{"$eval": "1 # 2"}`, wantErr: "SyntaxError: Unexpected input for '1 # 2' at '# 2'"},
		{name: "in needs a string for objects", template: `{"$eval": "1 in {a: 1}"}`, wantErr: "InterpreterError: Infix: in-object expects string on left side"},
		{name: "merge does not modify its inputs", template: `{"$let": {"a": {"x": [1]}}, "in": [{"$mergeDeep": [{"$eval": "a"}, {"x": [2]}]}, {"$eval": "a"}]}`, want: `[{"x": [1, 2]}, {"x": [1]}]`},
		{name: "reduce initial is not rendered", template: `{"$reduce": [], "each(a,x)": 1, "initial": "${x}"}`, want: `"${x}"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(mustJSON(t, tt.template), tt.context, Options{Now: fixedClock})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got (%v, %v), want error %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			if g, w := string(canonicalJSON(t, got)), string(canonicalJSON(t, mustJSON(t, tt.want))); g != w {
				t.Fatalf("got  %s\nwant %s", g, w)
			}
		})
	}
}

func TestErrorType(t *testing.T) {
	_, err := Render(mustJSON(t, `{"a": [{"$eval": "nope"}]}`), nil, Options{})
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not an *Error", err, err)
	}
	if e.Kind != KindInterpreter || e.Message != "unknown context value nope" || e.Path != ".a[0]" {
		t.Fatalf("got %+v", e)
	}
	if errors.Is(err, ErrLimit) {
		t.Fatal("an ordinary error must not match ErrLimit")
	}
}

func TestCompiledTemplateErrorsAreNotShared(t *testing.T) {
	tp, err := Compile(mustJSON(t, `[{"$eval": 1}]`))
	if err != nil {
		t.Fatal(err)
	}
	for range 3 {
		_, err := tp.Render(nil, Options{})
		if err == nil || err.Error() != "TemplateError at template[0]: $eval must be given a string expression" {
			t.Fatalf("got %v", err)
		}
	}
}

func TestValidate(t *testing.T) {
	for _, tt := range []struct {
		name, template string
		want           []string
	}{
		{name: "clean", template: `{"a": "${x}", "b": {"$if": "y", "then": 1}}`},
		{name: "every problem with its full path", template: `{"a": {"$if": "x", "then": {"$eval": "1 +"}}, "b": ["${(}", {"$map": [], "each(x)": 1, "foo": 2}], "c": {"$bad": 1}}`, want: []string{
			`SyntaxError at template.a.then["$eval"]: Unexpected end of input`,
			`SyntaxError at template.b[0]: Found: } token, expected one of: !, (, +, -, [, false, identifier, null, number, string, true, {`,
			`TemplateError at template.b[1]: $map has undefined properties: foo`,
			`TemplateError at template.c: $<identifier> is reserved; use $$<identifier>`,
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tp, err := Compile(mustJSON(t, tt.template))
			if err != nil {
				t.Fatal(err)
			}
			err = tp.Validate()
			if len(tt.want) == 0 {
				if err != nil {
					t.Fatalf("unexpected %v", err)
				}
				return
			}
			if err == nil || err.Error() != strings.Join(tt.want, "\n") {
				t.Fatalf("got\n%v\nwant\n%s", err, strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestCompileRejectsNonJSON(t *testing.T) {
	for _, tt := range []struct {
		name string
		tmpl any
	}{
		{name: "channel", tmpl: map[string]any{"a": make(chan int)}},
		{name: "NaN", tmpl: []any{0.0, nanValue()}},
		{name: "bad json.Number", tmpl: json.Number("1x")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := Compile(tt.tmpl); err == nil {
				t.Fatal("expected an error")
			}
		})
	}
}

func nanValue() float64 {
	zero := 0.0
	return zero / zero
}

func TestNonCanonicalValues(t *testing.T) {
	ctx := map[string]any{
		"raw": json.RawMessage(`{"k": [1, "two"]}`),
		"b":   []byte("hi"),
		"i":   7,
		"n":   json.Number("2.5"),
		"ss":  []string{"a", "b"},
		"ms":  map[string]int{"x": 1},
	}
	got, err := Render(map[string]any{"a": []any{"${i}", map[string]any{"$eval": "n * 2"}, map[string]any{"$eval": "ss[1]"}, map[string]any{"$eval": "ms.x + int64"}, map[string]any{"$eval": "raw.k[1] + b"}}}, mergeCtx(ctx, map[string]any{"int64": int64(3)}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g := string(canonicalJSON(t, got)); g != `{"a":["7",5,"b",4,"twoaGk="]}` {
		t.Fatalf("got %s", g)
	}
	if _, err := Render("x", map[string]any{"bad": struct{}{}}, Options{}); err == nil {
		t.Fatal("a struct in the context must be rejected")
	}
}

func mergeCtx(a, b map[string]any) map[string]any {
	out := map[string]any{}
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		out[k] = v
	}
	return out
}

func TestFunc(t *testing.T) {
	double := Func(func(args ...any) (any, error) {
		if len(args) != 1 {
			return nil, fmt.Errorf("double wants 1 argument, got %d", len(args))
		}
		return args[0].(float64) * 2, nil
	})
	boom := errors.New("boom")
	fail := Func(func(...any) (any, error) { return nil, boom })
	ctx := map[string]any{"double": double, "fail": fail}
	for _, tt := range []struct {
		name, template, want, wantErr string
	}{
		{name: "call", template: `{"$eval": "double(21)"}`, want: `42`},
		{name: "typeof", template: `{"$eval": "typeof(double)"}`, want: `"function"`},
		{name: "identity", template: `{"$eval": "double == double && double != fail"}`, want: `true`},
		{name: "error", template: `{"$eval": "double()"}`, wantErr: "InterpreterError: double wants 1 argument, got 0"},
		{name: "uncalled", template: `{"a": {"$eval": "double"}}`, wantErr: "TemplateError: evaluated template contained uncalled functions"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Render(mustJSON(t, tt.template), ctx, Options{})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got (%v, %v), want %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if g := string(canonicalJSON(t, got)); g != tt.want {
				t.Fatalf("got %s want %s", g, tt.want)
			}
		})
	}
	_, err := Evaluate("fail()", ctx, Options{})
	if !errors.Is(err, boom) {
		t.Fatalf("Func error not wrapped: %v", err)
	}
}

func TestLimits(t *testing.T) {
	deep := "1"
	for range 300 {
		deep = "[" + deep + "]"
	}
	deepCtx := any("x")
	for range 600 {
		deepCtx = []any{deepCtx}
	}
	for _, tt := range []struct {
		name     string
		template string
		context  map[string]any
		opts     Options
	}{
		{name: "string doubling", template: `{"$reduce": {"$eval": "range(0, 64)"}, "each(acc,x)": {"$eval": "acc + acc"}, "initial": "ab"}`},
		{name: "interpolation doubling", template: `{"$reduce": {"$eval": "range(0, 64)"}, "each(acc,x)": "${acc}${acc}", "initial": "ab"}`},
		{name: "array doubling", template: `{"$reduce": {"$eval": "range(0, 64)"}, "each(acc,x)": {"$mergeDeep": [{"$eval": "acc"}, {"$eval": "acc"}]}, "initial": {"a": [1]}}`},
		{name: "range length", template: `{"$eval": "range(0, 1000000000)"}`},
		{name: "work budget", template: `{"$map": {"$eval": "range(0, 5000)"}, "each(x)": {"$map": {"$eval": "range(0, 5000)"}, "each(y)": 1}}`},
		{name: "small budget", template: `{"$map": {"$eval": "range(0, 100)"}, "each(x)": "${x}"}`, opts: Options{MaxWork: 50}},
		{name: "small string limit", template: `"${a}${a}"`, context: map[string]any{"a": "12345"}, opts: Options{MaxStringBytes: 8}},
		{name: "deep expression", template: `{"$eval": "` + deep + `"}`},
		{name: "deep context", template: `{"$eval": "x"}`, context: map[string]any{"x": deepCtx}},
		{name: "deep value built by reduce", template: `{"$reduce": {"$eval": "range(0, 600)"}, "each(acc,x)": {"$eval": "[acc]"}, "initial": 0}`},
		{name: "deep value compared", template: `{"$eval": "x == x"}`, context: map[string]any{"x": deepCtx}, opts: Options{MaxDepth: 100}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := tt.opts
			opts.Now = fixedClock
			_, err := Render(mustJSON(t, tt.template), tt.context, opts)
			if !errors.Is(err, ErrLimit) {
				t.Fatalf("got %v, want a limit error", err)
			}
		})
	}
}

func TestOutputDoesNotAliasTemplate(t *testing.T) {
	tp, err := Compile(mustJSON(t, `{"a": {"b": [1, 2]}, "r": {"$reduce": [], "each(a,x)": 0, "initial": {"k": [1]}}}`))
	if err != nil {
		t.Fatal(err)
	}
	first, err := tp.Render(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := first.(map[string]any)
	m["a"].(map[string]any)["b"].([]any)[0] = "changed"
	m["r"].(map[string]any)["k"].([]any)[0] = "changed"
	second, err := tp.Render(nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if g := string(canonicalJSON(t, second)); g != `{"a":{"b":[1,2]},"r":{"k":[1]}}` {
		t.Fatalf("second render changed: %s", g)
	}
}

func TestConcurrentRender(t *testing.T) {
	tmpl, context, want := loadBench(t)
	tp, err := Compile(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	w := string(canonicalJSON(t, want))
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() {
			for range 20 {
				got, err := tp.Render(context, benchOptions)
				if err != nil {
					errs <- err
					return
				}
				b, _ := json.Marshal(got)
				if string(b) != w {
					errs <- errors.New("concurrent render differs")
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestEvaluate(t *testing.T) {
	ctx := map[string]any{"payload": map[string]any{"branch": "main", "files": []any{"a.go", "b.md"}}}
	for _, tt := range []struct {
		name, expr string
		want       any
		wantErr    string
	}{
		{name: "filter true", expr: `payload.branch == "main" && "a.go" in payload.files`, want: true},
		{name: "filter false", expr: `payload.branch in ["release"]`, want: false},
		{name: "value", expr: `len(payload.files) * 2`, want: 4.0},
		{name: "syntax", expr: `payload.`, wantErr: "SyntaxError: Unexpected end of input"},
		{name: "uncalled", expr: `min`, wantErr: "TemplateError: evaluated template contained uncalled functions"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Evaluate(tt.expr, ctx, Options{})
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("got (%v, %v), want %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got (%v, %v), want %v", got, err, tt.want)
			}
		})
	}
	if _, err := Evaluate("x", map[string]any{"a-b": 1}, Options{}); err == nil {
		t.Fatal("bad context key must fail")
	}
}

func TestParseExpression(t *testing.T) {
	for _, tt := range []struct {
		expr    string
		wantErr bool
	}{
		{expr: `a.b[1:2] + f(x, {k: [1, "s"]}) ** -2`},
		{expr: `!a || b && c in d`},
		{expr: `a.`, wantErr: true},
		{expr: `"unterminated`, wantErr: true},
		{expr: `a = 1`, wantErr: true},
		{expr: ``, wantErr: true},
		{expr: strings.Repeat("(", 1000) + "1" + strings.Repeat(")", 1000), wantErr: true},
	} {
		t.Run(tt.expr[:min(len(tt.expr), 20)], func(t *testing.T) {
			err := ParseExpression(tt.expr)
			if (err != nil) != tt.wantErr {
				t.Fatalf("got %v, wantErr %v", err, tt.wantErr)
			}
			var e *Error
			if err != nil && (!errors.As(err, &e) || e.Kind != KindSyntax) {
				t.Fatalf("want a SyntaxError, got %v", err)
			}
		})
	}
}

func TestNilTemplate(t *testing.T) {
	var tp *Template
	if _, err := tp.Render(nil, Options{}); err == nil {
		t.Fatal("rendering a nil template must fail")
	}
}

func TestCompiledExpression(t *testing.T) {
	x, err := CompileExpression(`payload.ref == "refs/heads/main"`)
	if err != nil {
		t.Fatal(err)
	}
	if x.String() != `payload.ref == "refs/heads/main"` {
		t.Fatalf("String() = %q", x.String())
	}
	for _, tt := range []struct {
		ref  any
		want bool
	}{{"refs/heads/main", true}, {"refs/heads/dev", false}, {nil, false}} {
		got, err := x.Evaluate(map[string]any{"payload": map[string]any{"ref": tt.ref}}, Options{})
		if err != nil || got != tt.want {
			t.Errorf("ref %v: got (%v, %v), want %v", tt.ref, got, err, tt.want)
		}
	}
	if _, err := x.Evaluate(map[string]any{"payload": nil}, Options{}); err == nil {
		t.Error("a property of null must be an evaluation error")
	}
	if _, err := CompileExpression(`payload.`); err == nil {
		t.Error("a syntax error must fail to compile")
	}
}

func TestTruthy(t *testing.T) {
	for _, tt := range []struct {
		v    any
		want bool
	}{
		{nil, false}, {false, false}, {0.0, false}, {"", false}, {[]any{}, false}, {map[string]any{}, false},
		{true, true}, {1.0, true}, {"x", true}, {[]any{0.0}, true}, {map[string]any{"a": nil}, true},
	} {
		if got := Truthy(tt.v); got != tt.want {
			t.Errorf("Truthy(%#v) = %v, want %v", tt.v, got, tt.want)
		}
	}
}
