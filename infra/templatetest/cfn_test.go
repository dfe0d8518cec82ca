package templatetest

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/hookline/hookline/shared/testutil"
)

// A template is a CloudFormation template decoded into plain values: maps,
// slices, strings, float64s, bools and nil, with short-form intrinsic
// functions turned into their long forms ({"Ref": "X"}, {"Fn::Sub": ...})
// by goformation's reader. The wiring checks read the typed resources
// (typedTemplate); this form serves the checks that walk every value
// (references) and the schemas.
type template struct {
	doc map[string]any
}

func (t *template) section(name string) map[string]any {
	m, _ := t.doc[name].(map[string]any)
	return m
}

func (t *template) resource(id string) map[string]any {
	r, _ := t.section("Resources")[id].(map[string]any)
	return r
}

// functionProperty returns a property of a serverless function, falling
// back to Globals.Function as SAM does for scalar properties.
func (t *template) functionProperty(id, name string) any {
	if v := get(t.resource(id), "Properties", name); v != nil {
		return v
	}
	return get(t.doc, "Globals", "Function", name)
}

// loadTemplate reads the template at path in long form (longForm).
func loadTemplate(tb testing.TB, path string) *template {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return &template{doc: longForm(tb, data)}
}

// get walks nested maps by key; nil when a step is missing.
func get(v any, path ...string) any {
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// num reads a number written either as a YAML number or a string, as
// CloudFormation accepts both; ok is false for anything else (an
// intrinsic function, say).
func num(v any) (int, bool) {
	switch x := v.(type) {
	case int:
		return x, true
	case float64:
		return int(x), x == float64(int(x))
	case string:
		n, err := strconv.Atoi(x)
		return n, err == nil
	}
	return 0, false
}

// ref returns the logical ID v refers to with Ref or Fn::GetAtt (and the
// attribute for GetAtt).
func ref(v any) (id, attr string, ok bool) {
	m, isMap := v.(map[string]any)
	if !isMap || len(m) != 1 {
		return "", "", false
	}
	if r, found := m["Ref"].(string); found {
		return r, "", true
	}
	if ga, found := m["Fn::GetAtt"]; found {
		id, attr := getAttArgs(ga)
		return id, attr, id != ""
	}
	return "", "", false
}

var subVariable = regexp.MustCompile(`\$\{([^}!][^}]*)\}`)

// references lists every logical ID, parameter or condition v refers to
// through Ref, Fn::GetAtt, Fn::Sub variables, Fn::If and Condition,
// skipping the names a Fn::Sub defines itself.
func references(v any) []string {
	var out []string
	var walk func(v any, local map[string]bool)
	walk = func(v any, local map[string]bool) {
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				walk(e, local)
			}
		case map[string]any:
			if id, _, ok := ref(x); ok {
				out = append(out, id)
				return
			}
			if ifs, ok := x["Fn::If"].([]any); ok && len(x) == 1 && len(ifs) > 0 {
				out = append(out, str(ifs[0]))
				walk(ifs[1:], local)
				return
			}
			if c, ok := x["Condition"].(string); ok && len(x) == 1 {
				out = append(out, c)
				return
			}
			if sub, ok := x["Fn::Sub"]; ok && len(x) == 1 {
				var text string
				vars := map[string]bool{}
				for k := range local {
					vars[k] = true
				}
				switch s := sub.(type) {
				case string:
					text = s
				case []any:
					if len(s) > 0 {
						text = str(s[0])
					}
					if len(s) > 1 {
						if m, ok := s[1].(map[string]any); ok {
							for k, e := range m {
								vars[k] = true
								walk(e, local)
							}
						}
					}
				}
				for _, match := range subVariable.FindAllStringSubmatch(text, -1) {
					name, _, _ := strings.Cut(match[1], ".")
					if !vars[name] {
						out = append(out, name)
					}
				}
				return
			}
			for _, e := range x {
				walk(e, local)
			}
		}
	}
	walk(v, nil)
	return out
}

// repoRoot is the repository root.
func repoRoot(tb testing.TB) string { return testutil.RepoRoot(tb) }

// splitShell splits one shell command line into words, honouring single
// and double quotes (enough for the commands make prints).
func splitShell(line string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			} else {
				cur.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		default:
			cur.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("unterminated quote in %q", line)
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

func TestLongForm_ShortTags(t *testing.T) {
	doc := longForm(t, []byte(`
A: !Ref Foo
B: !GetAtt Queue.Arn
C: !Sub "x-${Foo}-${Bar.Baz}-${!Literal}"
D: !If [Cond, 1, !Ref AWS::NoValue]
E: {"Fn::GetAtt": [Q, QueueName]}
F: !Sub ["${a}-${Foo}", {a: !Ref Other}]
`))
	if id, _, _ := ref(doc["A"]); id != "Foo" {
		t.Errorf("!Ref: got %v", doc["A"])
	}
	if id, attr, _ := ref(doc["B"]); id != "Queue" || attr != "Arn" {
		t.Errorf("!GetAtt: got %v", doc["B"])
	}
	if id, attr, _ := ref(doc["E"]); id != "Q" || attr != "QueueName" {
		t.Errorf("Fn::GetAtt: got %v", doc["E"])
	}
	for key, want := range map[string][]string{
		"C": {"Foo", "Bar"},
		"D": {"Cond", "AWS::NoValue"},
		"F": {"Other", "Foo"},
	} {
		got := references(doc[key])
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("references(%s) = %v, want %v", key, got, want)
		}
	}
}

func TestSplitShell(t *testing.T) {
	got, err := splitShell(`GOOS=linux go build -ldflags='-s -w' -o "/a b/bootstrap" ./x`)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"GOOS=linux", "go", "build", "-ldflags=-s -w", "-o", "/a b/bootstrap", "./x"}
	if !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
