package templatetest

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/hookline/hookline/shared/testutil"
)

// A template is a CloudFormation template decoded into plain values: maps,
// slices, strings, ints, floats, bools and nil, with short-form intrinsic
// functions turned into their long forms ({"Ref": "X"}, {"Fn::Sub": ...}).
type template struct {
	doc map[string]any
}

func (t *template) section(name string) map[string]any {
	m, _ := t.doc[name].(map[string]any)
	return m
}

// resources returns the logical IDs of the resources of type typ, sorted.
func (t *template) resources(typ string) []string {
	var ids []string
	for id, r := range t.section("Resources") {
		if str(get(r, "Type")) == typ {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
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

// functionEnv returns the environment variables of a serverless function:
// Globals.Function's merged with the function's own, as SAM merges them.
func (t *template) functionEnv(id string) map[string]any {
	env := map[string]any{}
	for _, vars := range []any{
		get(t.doc, "Globals", "Function", "Environment", "Variables"),
		get(t.resource(id), "Properties", "Environment", "Variables"),
	} {
		m, _ := vars.(map[string]any)
		for k, v := range m {
			env[k] = v
		}
	}
	return env
}

// loadTemplate reads and decodes the template at path.
func loadTemplate(tb testing.TB, path string) *template {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	doc, err := decodeTemplate(data)
	if err != nil {
		tb.Fatalf("%s: %v", path, err)
	}
	return &template{doc: doc}
}

func decodeTemplate(data []byte) (map[string]any, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	v, err := decodeNode(&root)
	if err != nil {
		return nil, err
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the template is a %T, not a mapping", v)
	}
	return doc, nil
}

// decodeNode turns a YAML node into plain values. Tags CloudFormation
// defines (!Ref, !GetAtt, !Sub, !If, ...) become intrinsic-function
// objects; a duplicate mapping key is an error, as CloudFormation makes it.
func decodeNode(n *yaml.Node) (any, error) {
	if fn, ok := intrinsicName(n.Tag); ok {
		plain := *n
		plain.Tag = ""
		plain.Style &^= yaml.TaggedStyle
		arg, err := decodeNode(&plain)
		if err != nil {
			return nil, err
		}
		if fn == "Fn::GetAtt" {
			if s, ok := arg.(string); ok {
				resource, attr, _ := strings.Cut(s, ".")
				arg = []any{resource, attr}
			}
		}
		return map[string]any{fn: arg}, nil
	}
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) != 1 {
			return nil, errors.New("expected one YAML document")
		}
		return decodeNode(n.Content[0])
	case yaml.AliasNode:
		return decodeNode(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			if _, dup := m[k]; dup {
				return nil, fmt.Errorf("line %d: duplicate key %q", n.Content[i].Line, k)
			}
			v, err := decodeNode(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := decodeNode(c)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	case yaml.ScalarNode:
		if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
			return nil, fmt.Errorf("line %d: unknown tag %s", n.Line, n.Tag)
		}
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return v, nil
	}
	return nil, fmt.Errorf("line %d: unexpected YAML node kind %v", n.Line, n.Kind)
}

// intrinsicName maps a CloudFormation short-form tag to its long form.
func intrinsicName(tag string) (string, bool) {
	switch tag {
	case "!Ref":
		return "Ref", true
	case "!Condition":
		return "Condition", true
	case "!Base64", "!Cidr", "!FindInMap", "!GetAtt", "!GetAZs", "!ImportValue",
		"!Join", "!Select", "!Split", "!Sub", "!Transform", "!And", "!Equals",
		"!If", "!Not", "!Or", "!ToJsonString", "!Length":
		return "Fn::" + tag[1:], true
	}
	return "", false
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
	if ga, found := m["Fn::GetAtt"].([]any); found && len(ga) == 2 {
		return str(ga[0]), str(ga[1]), true
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

func TestDecodeTemplate_ShortTags(t *testing.T) {
	doc, err := decodeTemplate([]byte(`
A: !Ref Foo
B: !GetAtt Queue.Arn
C: !Sub "x-${Foo}-${Bar.Baz}-${!Literal}"
D: !If [Cond, 1, !Ref AWS::NoValue]
E: {"Fn::GetAtt": [Q, QueueName]}
F: !Sub ["${a}-${Foo}", {a: !Ref Other}]
`))
	if err != nil {
		t.Fatal(err)
	}
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
	if _, err := decodeTemplate([]byte("A: 1\nA: 2\n")); err == nil {
		t.Error("a duplicate key was accepted")
	}
	if _, err := decodeTemplate([]byte("A: !Reff X\n")); err == nil {
		t.Error("an unknown tag was accepted")
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
