package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/xeipuuv/gojsonschema"
)

func decodeNumbers(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("decode %s: %v", s, err)
	}
	return v
}

// allPrechecked is every problem the pre-check finds, whatever their
// number.
func allPrechecked(n *checkNode, doc any, ajv bool) []string {
	c := &checker{ajv: ajv}
	c.walk(n, doc)
	if c.count != len(c.problems) {
		panic(fmt.Sprintf("%d problems, %d listed", c.count, len(c.problems)))
	}
	return c.problems
}

// Every problem the pre-check reports is one gojsonschema reports, in the
// same words: refusing on the pre-check alone says nothing untrue.
func TestPrecheckAgreesWithGojsonschema(t *testing.T) {
	r := registry(t)
	for _, tt := range []struct {
		name, schema, doc string
		want              int // problems the pre-check must find
	}{
		{"schedule nulls", CreateHookRequest, `{"metadata":{"name":"n","description":"d","owner":"a@example.com"},"task":{},"schedule":[null,1,"x",true,{},[],2.5]}`, 6},
		{"missing required and extra at the root", CreateHookRequest, `{"task":{},"extra":1,"more":2}`, 3},
		{"metadata of the wrong type", CreateHookRequest, `{"metadata":[],"task":{}}`, 1},
		{"bindings", CreateHookRequest, `{"metadata":{"name":"n","description":"d","owner":"a@example.com"},"task":{},"bindings":[{},null,{"exchange":1,"routingKeyPattern":"#"}]}`, 4},
		{"filters", HookSettings, `{"filters":["", null, "ok", 3]}`, 3},
		{"long filter", HookSettings, `{"filters":["` + strings.Repeat("é", 1025) + `"]}`, 1},
		{"settings nested", HookSettings, `{"schedule":{"zone":1,"at":[null,"x"]},"notify":{"targets":[null]},"history":{"maxRecords":"x","other":1}}`, 0},
		{"duplicates", CreateHookRequest, `{"metadata":{"name":"n","description":"d","owner":"a@example.com"},"task":{},"schedule":["a","b","a",1,1,"a"]}`, 4},
		{"pattern and format", HookSettings, `{"webhook":{"headers":["ok","not ok"]},"schedule":{"at":["2026-01-01T00:00:00Z","tomorrow"]}}`, 3},
		{"valid", HookSettings, `{"filters":["payload.ok"]}`, 0},
		{"trigger body", TriggerHook, `{"a":[null]}`, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := r.schema(tt.schema); err != nil {
				t.Fatal(err)
			}
			doc := decodeNumbers(t, tt.doc)
			got := allPrechecked(r.check(tt.schema), doc, false)
			if tt.want > 0 && len(got) != tt.want {
				t.Errorf("pre-check found %d problems, want %d: %q", len(got), tt.want, got)
			}
			s, _ := r.schema(tt.schema)
			res, err := s.Validate(gojsonschema.NewGoLoader(doc))
			if err != nil {
				t.Fatal(err)
			}
			all := describe(res.Errors())
			for _, p := range got {
				if !slices.Contains(all, p) {
					t.Errorf("pre-check problem %q is not gojsonschema's; it says %q", p, all)
				}
			}
		})
	}
}

func TestUserPrecheckAgreesWithGojsonschema(t *testing.T) {
	for _, tt := range []struct {
		name, schema, doc string
		want              int
	}{
		{"items of the wrong type", `{"type":"object","properties":{"items":{"type":"array","items":{"type":"object"}}}}`, `{"items":[null,1,{},"x"]}`, 3},
		{"integer and number", `{"type":"array","items":{"type":"integer"}}`, `[1, 1.0, 1e2, 1.5, "1"]`, 2},
		{"several types", `{"type":"array","items":{"type":["string","null"]}}`, `[null, "x", 1, false]`, 2},
		{"local refs, siblings ignored", `{"definitions":{"s":{"type":"string","minLength":2}},"type":"object","properties":{"a":{"type":"array","items":{"$ref":"#/definitions/s","type":"number"}}}}`, `{"a":["x","xx",3]}`, 2},
		{"recursive", `{"type":"object","properties":{"child":{"$ref":"#"},"n":{"type":"string"}},"required":["n"]}`, `{"n":"a","child":{"child":{"n":1}}}`, 2},
		{"closed object", `{"type":"object","additionalProperties":false,"properties":{"a":{}}}`, `{"a":1,"b":2,"c":3}`, 2},
		{"pattern properties leave it open", `{"type":"object","additionalProperties":false,"patternProperties":{"^x":{}}}`, `{"xa":1,"b":2}`, 0},
		{"anyOf is not followed", `{"anyOf":[{"type":"string"},{"type":"array","items":{"type":"string"}}]}`, `[1,2]`, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var schema map[string]any
			if err := json.Unmarshal([]byte(tt.schema), &schema); err != nil {
				t.Fatal(err)
			}
			s, err := CompileUser(schema)
			if err != nil {
				t.Fatal(err)
			}
			doc := decodeNumbers(t, tt.doc)
			got := allPrechecked(s.check, doc, true)
			if len(got) != tt.want {
				t.Errorf("pre-check found %d problems, want %d: %q", len(got), tt.want, got)
			}
			all, err := ValidateUser(s, doc)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range got {
				if !slices.Contains(strings.Split(all, "; "), p) {
					t.Errorf("pre-check problem %q is not gojsonschema's; it says %q", p, all)
				}
			}
		})
	}
}

// events is n distinct event names that are not events.
func events(n int) string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(`"e%d"`, i)
	}
	return strings.Join(out, ",")
}

func nulls(n int) string {
	return "[" + strings.Repeat("null,", n-1) + "null]"
}

// A refusal lists MaxProblems problems and counts the rest, whether the
// pre-check or gojsonschema found them.
func TestValidateListsAtMostMaxProblems(t *testing.T) {
	r := registry(t)
	hook := func(schedule string) string {
		return `{"metadata":{"name":"n","description":"d","owner":"a@example.com"},"task":{},"schedule":` + schedule + `}`
	}
	for _, tt := range []struct {
		name     string
		schema   string
		doc      string
		problems int
		more     string
	}{
		{"a few: gojsonschema, every one", CreateHookRequest, hook(`[null,1,true]`), 3, ""},
		{"exactly the limit", CreateHookRequest, hook(strings.Repeat("[", 1) + strings.TrimSuffix(strings.Repeat("1,", MaxProblems), ",") + "]"), MaxProblems, "and 49 more"},
		{"many certain ones: the pre-check", CreateHookRequest, hook(nulls(MaxProblems + 7)), MaxProblems, "and at least 63 more"}, // 57 nulls, 56 of them repeated
		{"many uncertain ones: gojsonschema, counted", HookSettings, `{"notify":{"targets":[{"type":"email","address":"a@example.com","events":[` + events(MaxProblems+10) + `]}]}}`, MaxProblems, "and 10 more"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := r.Validate(tt.schema, decodeNumbers(t, tt.doc))
			ve, ok := err.(*ValidationError)
			if !ok {
				t.Fatalf("got %v, want *ValidationError", err)
			}
			if len(ve.Problems) != tt.problems || ve.MoreLine() != tt.more {
				t.Errorf("%d problems and %q, want %d and %q: %q", len(ve.Problems), ve.MoreLine(), tt.problems, tt.more, ve.Problems)
			}
			if !strings.HasPrefix(ve.Problems[0], "schedule.0: ") && !strings.HasPrefix(ve.Problems[0], "notify.targets.0.events.0: ") {
				t.Errorf("first problem %q", ve.Problems[0])
			}
		})
	}
}

func TestValidateUserListsAtMostMaxProblems(t *testing.T) {
	var schema map[string]any
	json.Unmarshal([]byte(`{"type":"object","properties":{"items":{"type":"array","items":{"type":"object","properties":{"a":{"minimum":1}}}}}}`), &schema)
	s, err := CompileUser(schema)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, doc, wantEnd string
		parts              int
	}{
		{"pre-check", `{"items":` + nulls(60) + `}`, "; and at least 10 more", MaxProblems + 1},
		{"gojsonschema", `{"items":[` + strings.Repeat(`{"a":0},`, 59) + `{"a":0}]}`, "; and 10 more", MaxProblems + 1},
		{"few", `{"items":[null,{"a":0}]}`, "data/items/1/a Must be greater than or equal to 1", 2},
	} {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := ValidateUser(s, decodeNumbers(t, tt.doc))
			if err != nil {
				t.Fatal(err)
			}
			if n := len(strings.Split(msg, "; ")); n != tt.parts || !strings.HasSuffix(msg, tt.wantEnd) {
				t.Errorf("%d parts, want %d ending %q: %s", n, tt.parts, tt.wantEnd, msg)
			}
		})
	}
}

// Refusing a body of failing items costs time linear in it: a 1 MB array
// of nulls is refused in a few milliseconds (gojsonschema alone took a
// second, and its message quadratic time).
func BenchmarkValidateMegabyteOfNulls(b *testing.B) {
	r, err := New()
	if err != nil {
		b.Fatal(err)
	}
	body := []byte(`{"filters":` + nulls(1<<20/5) + `}`)
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if err := r.Validate(HookSettings, doc); err == nil {
			b.Fatal("accepted")
		}
	}
}

// On a complete schema the pre-check decides alone, exactly as
// gojsonschema does; on any other it never claims a document valid.
func TestPrecheckDecidesCompleteSchemas(t *testing.T) {
	docs := []string{`null`, `true`, `1`, `1.0`, `1.5`, `1e2`, `"x"`, `""`, `"é"`, `[]`, `{}`,
		`{"a":"x"}`, `{"a":""}`, `{"a":1}`, `{"a":"xyz","b":[1,2.5,"s"]}`, `{"b":[null]}`, `{"b":["aa","bb"]}`,
		`{"c":{"a":"x"}}`, `{"c":{"c":{"z":1}}}`, `{"z":1}`, `{"a":"abc","z":true}`, `[{"a":"x"},{"a":7}]`}
	for _, tt := range []struct {
		name     string
		schema   string
		complete bool
	}{
		{"trigger-hook.json", `{"type":"object","description":"d","$schema":"x"}`, true},
		{"open", `{}`, true},
		{"typed properties", `{"type":"object","properties":{"a":{"type":"string","minLength":1,"maxLength":2,"pattern":"^x"},"b":{"type":"array","items":{"type":["string","null"]}}},"required":["a"]}`, true},
		{"closed, with refs and recursion", `{"definitions":{"n":{"type":"object","additionalProperties":false,"properties":{"a":{"type":"string"},"c":{"$ref":"#/definitions/n"}}}},"$ref":"#/definitions/n"}`, false},
		{"integers", `{"type":["integer","object"],"properties":{"a":{"type":"integer"}}}`, true},
		{"items schema", `{"type":"array","items":{"type":"object","required":["a"],"properties":{"a":{"type":"string"}}}}`, true},
		{"enum", `{"properties":{"a":{"enum":["x"]}}}`, false},
		{"format", `{"properties":{"a":{"format":"date-time"}}}`, false},
		{"minimum", `{"properties":{"a":{"minimum":2}}}`, false},
		{"anyOf", `{"anyOf":[{"type":"string"},{"type":"object"}]}`, false},
		{"additional schema", `{"additionalProperties":{"type":"string"}}`, false},
		{"unique", `{"properties":{"b":{"uniqueItems":true}}}`, false},
		{"boolean property schema", `{"properties":{"a":false}}`, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var schema map[string]any
			if err := json.Unmarshal([]byte(tt.schema), &schema); err != nil {
				t.Fatal(err)
			}
			s, err := CompileUser(schema)
			if err != nil {
				t.Fatal(err)
			}
			if s.check.complete != tt.complete {
				t.Errorf("complete: %v, want %v", s.check.complete, tt.complete)
			}
			for _, d := range docs {
				doc := decodeNumbers(t, d)
				c := &checker{ajv: true}
				c.walk(s.check, doc)
				claimsValid := c.count == 0 && !c.unsure
				res, err := s.compiled.Validate(gojsonschema.NewGoLoader(doc))
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case claimsValid && !res.Valid():
					t.Errorf("%s: the pre-check calls it valid; gojsonschema: %v", d, res.Errors())
				case tt.complete && !claimsValid && res.Valid():
					t.Errorf("%s: complete schema, yet the pre-check does not decide it valid (%d problems %q, unsure %v)", d, c.count, c.problems, c.unsure)
				}
			}
		})
	}
}

// The registry's request schemas the pre-check decides alone.
func TestCompleteRequestSchemas(t *testing.T) {
	r := registry(t)
	for id, want := range map[string]bool{TriggerHook: true, PauseRequest: true, CreateHookRequest: false, HookSettings: false} {
		if _, err := r.schema(id); err != nil {
			t.Fatal(err)
		}
		if got := r.check(id).complete; got != want {
			t.Errorf("%s: complete %v, want %v", id, got, want)
		}
	}
}
