package jsontext

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
)

// deep is n nested arrays around 0.
func deep(n int) string { return strings.Repeat("[", n) + "0" + strings.Repeat("]", n) }

func TestNestingExceeds(t *testing.T) {
	tests := []struct {
		in    string
		limit int
		want  bool
	}{
		{`1`, 0, false},
		{`[]`, 0, true},
		{`[]`, 1, false},
		{`{"a":[{"b":1}]}`, 3, false},
		{`{"a":[{"b":1}]}`, 2, true},
		{`[[],[],[]]`, 2, false},         // siblings do not add up
		{`["[[[[", "{{"]`, 1, false},     // brackets in strings do not count
		{`["\"[[", "\\", [1]]`, 1, true}, // escaped quotes and backslashes
		{deep(20_000), 19_999, true},
		{deep(20_000), 20_000, false},
		{`]]]]]][`, 0, false}, // not JSON: stray closers count down; one pass, no panic
		{`"[[[`, 0, false},    // an unterminated string holds the rest
	}
	for _, tt := range tests {
		if got := NestingExceeds([]byte(tt.in), tt.limit); got != tt.want {
			t.Errorf("NestingExceeds(%.40q, %d) = %v, want %v", tt.in, tt.limit, got, tt.want)
		}
	}
}

func TestSkipValue(t *testing.T) {
	tests := []struct {
		in   string
		i    int
		want int // the value is in[i:want]
	}{
		{`"a,b]"`, 0, 6},
		{`"a\"b",1`, 0, 6},
		{`[1,[2,"]"]],3`, 0, 11},
		{`{"a":{"b":[]}}x`, 0, 14},
		{`12,3`, 0, 2},
		{`true}`, 0, 4},
		{`[1, null]`, 4, 8},     // a literal ends at the bracket closing its array
		{`{"a":1,"b":2}`, 5, 6}, // a number ends at the comma after it
		{`123`, 0, 3},
		{`[1,2`, 0, 4}, // text that ends inside the value
		{`"abc`, 0, 4},
		{``, 0, 0},
	}
	for _, tt := range tests {
		if got := SkipValue([]byte(tt.in), tt.i); got != tt.want {
			t.Errorf("SkipValue(%q, %d) = %d, want %d", tt.in, tt.i, got, tt.want)
		}
	}
}

func TestWithoutMembers(t *testing.T) {
	tests := []struct{ in, want string }{
		{`{"a":1,"payload":{"x":[1,2]},"b":"p,}"}`, `{"a":1,"b":"p,}"}`},
		{` { "payload" : "x" } `, `{}`},
		{`{}`, `{}`},
		{"{\n\t\"a\" : [1, 2] ,\r\n \"b\":null}", `{"a":[1, 2],"b":null}`},
		{`{"context":{"w":1},"a":{"payload":2}}`, `{"a":{"payload":2}}`},
		{`{"a\"payload":1,"payload":` + deep(20_000) + `}`, `{"a\"payload":1}`},
		{`{"pay\u006coad":1,"a":2}`, `{"a":2}`}, // names compare decoded
	}
	for _, tt := range tests {
		got, err := WithoutMembers([]byte(tt.in), "payload", "context")
		if err != nil || string(got) != tt.want {
			t.Errorf("WithoutMembers(%.40q) = %s, %v; want %s", tt.in, got, err, tt.want)
		}
	}
	for _, in := range []string{`[1]`, `"{}"`, `{1:2}`, `{"a" 1}`, `{"a\x":1}`, ``, `{`} {
		if got, err := WithoutMembers([]byte(in), "payload"); err == nil {
			t.Errorf("WithoutMembers(%q) = %s, want an error", in, got)
		}
	}
}

// depthOf is the deepest nesting of the valid JSON text b, as
// encoding/json's tokenizer counts it.
func depthOf(t *testing.T, b []byte) int {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // 1E700 is valid JSON, and no float64
	depth, deepest := 0, 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return deepest
		}
		if err != nil {
			t.Fatalf("tokens of valid JSON %q: %v", b, err)
		}
		switch tok {
		case json.Delim('['), json.Delim('{'):
			depth++
			deepest = max(deepest, depth)
		case json.Delim(']'), json.Delim('}'):
			depth--
		}
	}
}

// decode decodes the JSON text b with numbers as json.Number.
func decode(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	return v, d.Decode(&v)
}

// On valid JSON each function agrees with encoding/json; on any text
// none panics or reads past the end.
func FuzzJSONText(f *testing.F) {
	for _, s := range []string{
		`{"a":1,"payload":{"x":[1,2]},"b":"p,}"}`, `[1,[2,"]"]]`, `"a\"b\\"`, `{"a":{"b":[]}} `,
		` { "payload" : "x" , "c":[true,false,null]} `, `12.5e3`, deep(50), `{"\u0070ayload":1}`, `]]`, `"`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		start := SkipSpace(b, 0)
		end := SkipValue(b, start)
		if end < start || end > len(b) {
			t.Fatalf("SkipValue(%q, %d) = %d, outside the text", b, start, end)
		}
		for limit := range 4 {
			NestingExceeds(b, limit)
		}
		stripped, werr := WithoutMembers(b, "payload", "a")
		if !json.Valid(b) {
			return
		}
		if rest := bytes.TrimSpace(b[end:]); len(rest) != 0 || !json.Valid(b[start:end]) {
			t.Fatalf("SkipValue(%q, %d) = %d: the value is %q, then %q", b, start, end, b[start:end], rest)
		}
		deepest := depthOf(t, b)
		if NestingExceeds(b, deepest) || (deepest > 0 && !NestingExceeds(b, deepest-1)) {
			t.Fatalf("NestingExceeds(%q) disagrees with its depth %d", b, deepest)
		}
		whole, err := decode(b)
		if err != nil {
			return // deeper than encoding/json reads
		}
		obj, isObject := whole.(map[string]any)
		if !isObject {
			if werr == nil {
				t.Fatalf("WithoutMembers(%q) read a %T as an object", b, whole)
			}
			return
		}
		if werr != nil {
			t.Fatalf("WithoutMembers(%q): %v", b, werr)
		}
		got, err := decode(stripped)
		if err != nil || !json.Valid(stripped) {
			t.Fatalf("WithoutMembers(%q) = %q, not JSON: %v", b, stripped, err)
		}
		delete(obj, "payload")
		delete(obj, "a")
		if !reflect.DeepEqual(got, any(obj)) {
			t.Fatalf("WithoutMembers(%q) = %q, want the object without payload and a", b, stripped)
		}
	})
}

// A payload check reads every payload up to the decision limit once.
func BenchmarkNestingExceeds1MiB(b *testing.B) {
	text := []byte(`{"a":[` + strings.Repeat(`{"s":"x\"y[z","n":[1,2,{"t":true}]},`, 1<<15) + `0]}`)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		if NestingExceeds(text, 512) {
			b.Fatal("exceeds")
		}
	}
}
