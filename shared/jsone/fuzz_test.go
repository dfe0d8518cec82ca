package jsone

import (
	"encoding/json"
	"errors"
	"testing"
)

// fuzzOptions keeps each fuzz input cheap; termination does not depend on
// it (every render is bounded), only speed does.
var fuzzOptions = Options{
	Now:            fixedClock,
	MaxWork:        200_000,
	MaxStringBytes: 1 << 16,
	MaxRangeLength: 1000,
	MaxDepth:       64,
}

// addCorpusSeeds adds every template and context of the corpus to the
// fuzz corpus, plus a few inputs aimed at the limits.
func addCorpusSeeds(f *testing.F) {
	f.Helper()
	for _, c := range loadCorpus(f).Cases {
		ctx, err := json.Marshal(c.Context)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(c.Template), string(ctx))
	}
	for _, s := range [][2]string{
		{`{"$reduce": {"$eval": "range(0, 100)"}, "each(a,x)": {"$eval": "a + a"}, "initial": "x"}`, `{}`},
		{`{"$map": {"$eval": "range(0, 1000)"}, "each(x)": {"$map": {"$eval": "range(0, 1000)"}, "each(y)": "${x}${y}"}}`, `{}`},
		{`{"$eval": "((((((((((((((((((((1))))))))))))))))))))"}`, `{}`},
		{`"${a}$$${b}$${c}${"}"}"`, `{"a": 1, "b": [2]}`},
		{`{"$fromNow": "${x}", "from": "0001-01-01T00:00:00Z"}`, `{"x": "-5 years"}`},
	} {
		f.Add(s[0], s[1])
	}
}

// FuzzRender renders random templates with random contexts. A render must
// never panic, must terminate, must return either an *Error or a value that
// encodes as JSON, and must give the same answer twice. Run it with
//
//	go test -run '^$' -fuzz FuzzRender -fuzztime 10s ./shared/jsone
//
// Under plain go test only the seed corpus runs.
func FuzzRender(f *testing.F) {
	addCorpusSeeds(f)
	f.Fuzz(func(t *testing.T, template, context string) {
		var tmpl any
		if json.Unmarshal([]byte(template), &tmpl) != nil {
			return
		}
		var ctx map[string]any
		if json.Unmarshal([]byte(context), &ctx) != nil {
			return
		}
		tp, err := Compile(tmpl)
		if err != nil {
			checkError(t, err)
			return
		}
		_ = tp.Validate()
		got, err := tp.render(ctx, fuzzOptions, true)
		if err != nil {
			checkError(t, err)
			again, err2 := tp.Render(ctx, fuzzOptions)
			if err2 == nil || err2.Error() != err.Error() {
				t.Fatalf("second render gave (%v, %v) after error %v", again, err2, err)
			}
			return
		}
		first, err := json.Marshal(got)
		if err != nil {
			t.Fatalf("result does not encode as JSON: %v (%#v)", err, got)
		}
		again, err := tp.Render(ctx, fuzzOptions)
		if err != nil {
			t.Fatalf("second render failed: %v", err)
		}
		if second, _ := json.Marshal(again); string(second) != string(first) {
			t.Fatalf("renders differ:\n%s\n%s", first, second)
		}
	})
}

// FuzzEvaluate checks that any expression string parses or fails cleanly
// and evaluates without panicking.
func FuzzEvaluate(f *testing.F) {
	for _, s := range []string{`a.b[1:2] + f(x)`, `{a: [1, "s"]}["a"][-1]`, `"x" in split("axb", "")`, `-2 ** 2 ** 0.5`, `range(0, 3)[1:]`, `fromNow('1 d', now)`} {
		f.Add(s)
	}
	ctx := map[string]any{"a": map[string]any{"b": []any{1.0, "x", nil}}, "x": 1.5}
	f.Fuzz(func(t *testing.T, expression string) {
		perr := ParseExpression(expression)
		_, err := Evaluate(expression, ctx, fuzzOptions)
		if perr != nil && (err == nil || err.Error() != perr.Error()) {
			t.Fatalf("ParseExpression says %v but Evaluate says %v", perr, err)
		}
		if err != nil {
			checkError(t, err)
		}
	})
}

func checkError(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error is %T, not *Error: %v", err, err)
	}
	switch e.Kind {
	case KindTemplate, KindInterpreter, KindSyntax, KindBuiltin:
	default:
		t.Fatalf("unknown error kind %q", e.Kind)
	}
}
