package templatetest

import (
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/intrinsics"
)

// longForm reads a template as JSON values with every intrinsic function
// in its long form ({"Ref": ...}, {"Fn::GetAtt": ...}), unresolved:
// goformation's YAML reader with processing turned off, which understands
// CloudFormation's short tags (!Ref, !Sub, ...). Numbers are float64.
func longForm(tb testing.TB, data []byte) map[string]any {
	tb.Helper()
	out, err := intrinsics.ProcessYAML(data, &intrinsics.ProcessorOptions{NoProcess: true})
	if err != nil {
		tb.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(out, &doc); err != nil {
		tb.Fatal(err)
	}
	return doc
}

func readTemplate(tb testing.TB) []byte {
	tb.Helper()
	data, err := os.ReadFile(repoRoot(tb) + "/template.yaml")
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// A scenario is one assignment of the template's conditions, true or
// false each. Hookline's conditions each test a different parameter, so
// every assignment is one some parameters produce.
type scenario map[string]bool

func (s scenario) String() string {
	var parts []string
	for _, k := range sortedKeys(s) {
		parts = append(parts, fmt.Sprintf("%s=%v", k, s[k]))
	}
	return strings.Join(parts, ",")
}

// scenarios lists every assignment of the template's conditions.
func scenarios(doc map[string]any) []scenario {
	names := sortedKeys(asMap(doc["Conditions"]))
	out := []scenario{{}}
	for _, n := range names {
		var next []scenario
		for _, s := range out {
			for _, v := range []bool{true, false} {
				c := scenario{n: v}
				for k, b := range s {
					c[k] = b
				}
				next = append(next, c)
			}
		}
		out = next
	}
	return out
}

// pseudoValues stand for CloudFormation's pseudo parameters.
var pseudoValues = map[string]any{
	"AWS::AccountId":        "123456789012",
	"AWS::Partition":        "aws",
	"AWS::Region":           "us-east-1",
	"AWS::StackId":          "arn:aws:cloudformation:us-east-1:123456789012:stack/hookline/00000000-0000-0000-0000-000000000000",
	"AWS::StackName":        "hookline",
	"AWS::URLSuffix":        "amazonaws.com",
	"AWS::NotificationARNs": []any{},
}

// standIn resolves the intrinsic functions of v the way a linter does,
// so that schemas which expect plain values can check the rest:
//
//   - Ref to a parameter is its Default (a number for a Number
//     parameter), or, without one, a value of the parameter's type;
//   - Ref to a resource, and Fn::GetAtt, is a string naming it (every
//     attribute and Ref the template uses is an ARN, name or URL);
//   - Ref to a pseudo parameter is a plausible value of it, and
//     AWS::NoValue removes the property or list element that holds it;
//   - Fn::If takes the branch the scenario's condition picks, and
//     Fn::Sub substitutes its variables with these stand-ins;
//   - any other intrinsic function is an error, to be taught here when
//     the template starts using it.
//
// Dynamic references ({{resolve:...}}) are strings and stay as written.
type standIn struct {
	params    map[string]any
	resources map[string]any
	scenario  scenario
	// partial resolves only what picks the template's shape in a
	// scenario (Fn::If, AWS::NoValue) and what only a number can stand
	// for (Ref to a Number parameter), leaving the other intrinsic
	// functions in place for goformation to keep.
	partial bool
}

// noValue marks what Ref AWS::NoValue removes.
type noValue struct{}

func newStandIn(doc map[string]any, s scenario) *standIn {
	return &standIn{params: asMap(doc["Parameters"]), resources: asMap(doc["Resources"]), scenario: s}
}

// resolve returns v with its intrinsic functions resolved.
func (si *standIn) resolve(v any) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		if len(x) == 1 {
			for name, arg := range x {
				if name == "Ref" || strings.HasPrefix(name, "Fn::") {
					return si.intrinsic(name, arg)
				}
			}
		}
		out := make(map[string]any, len(x))
		for k, e := range x {
			r, err := si.resolve(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			if _, drop := r.(noValue); !drop {
				out[k] = r
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(x))
		for i, e := range x {
			r, err := si.resolve(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			if _, drop := r.(noValue); !drop {
				out = append(out, r)
			}
		}
		return out, nil
	}
	return v, nil
}

func (si *standIn) intrinsic(name string, arg any) (any, error) {
	if si.partial && name != "Fn::If" && (name != "Ref" || !si.shapes(str(arg))) {
		return map[string]any{name: arg}, nil
	}
	switch name {
	case "Ref":
		return si.ref(str(arg))
	case "Fn::GetAtt":
		id, attr := getAttArgs(arg)
		if si.resources[id] == nil {
			return nil, fmt.Errorf("Fn::GetAtt of %q, which is not a resource", id)
		}
		return fmt.Sprintf("arn:aws:standin:us-east-1:123456789012:%s.%s", id, attr), nil
	case "Fn::If":
		args, ok := arg.([]any)
		if !ok || len(args) != 3 {
			return nil, fmt.Errorf("Fn::If takes [condition, then, else], not %v", arg)
		}
		cond, known := si.scenario[str(args[0])]
		if !known {
			return nil, fmt.Errorf("Fn::If on %q, which is not a condition", args[0])
		}
		if cond {
			return si.resolve(args[1])
		}
		return si.resolve(args[2])
	case "Fn::Sub":
		return si.sub(arg)
	}
	return nil, fmt.Errorf("no stand-in for %s (teach standIn)", name)
}

// shapes reports whether a Ref to name is resolved in partial mode.
func (si *standIn) shapes(name string) bool {
	p, isParam := si.params[name].(map[string]any)
	return name == "AWS::NoValue" || (isParam && p["Type"] == "Number")
}

func getAttArgs(arg any) (id, attr string) {
	switch x := arg.(type) {
	case string:
		id, attr, _ = strings.Cut(x, ".")
	case []any:
		if len(x) == 2 {
			id, attr = str(x[0]), str(x[1])
		}
	}
	return id, attr
}

func (si *standIn) ref(name string) (any, error) {
	if name == "AWS::NoValue" {
		return noValue{}, nil
	}
	if v, ok := pseudoValues[name]; ok {
		return v, nil
	}
	if p, ok := si.params[name].(map[string]any); ok {
		def, hasDefault := p["Default"]
		switch p["Type"] {
		case "Number":
			if !hasDefault {
				def = p["MinValue"]
			}
			switch d := def.(type) {
			case float64:
				return d, nil
			case string:
				var n float64
				if _, err := fmt.Sscan(d, &n); err != nil {
					return nil, fmt.Errorf("parameter %s: Default %q is not a number", name, d)
				}
				return n, nil
			}
			return 1.0, nil
		case "String":
			if hasDefault {
				return fmt.Sprint(def), nil
			}
			return "standin-" + name, nil
		}
		return nil, fmt.Errorf("parameter %s has type %v, which standIn does not know", name, p["Type"])
	}
	if si.resources[name] != nil {
		return "standin-ref-" + name, nil
	}
	return nil, fmt.Errorf("Ref to %q, which the template does not define", name)
}

var subVar = regexp.MustCompile(`\$\{([^}]*)\}`)

func (si *standIn) sub(arg any) (any, error) {
	var text string
	vars := map[string]any{}
	switch x := arg.(type) {
	case string:
		text = x
	case []any:
		if len(x) != 2 {
			return nil, fmt.Errorf("Fn::Sub takes a string or [string, variables], not %v", arg)
		}
		text = str(x[0])
		for k, e := range asMap(x[1]) {
			r, err := si.resolve(e)
			if err != nil {
				return nil, err
			}
			vars[k] = r
		}
	default:
		return nil, fmt.Errorf("Fn::Sub of %T", arg)
	}
	var firstErr error
	out := subVar.ReplaceAllStringFunc(text, func(m string) string {
		name := m[2 : len(m)-1]
		if strings.HasPrefix(name, "!") {
			return "${" + name[1:] + "}"
		}
		var v any
		var err error
		if val, ok := vars[name]; ok {
			v = val
		} else if id, attr, isAttr := strings.Cut(name, "."); isAttr {
			v, err = si.intrinsic("Fn::GetAtt", []any{id, attr})
		} else {
			v, err = si.ref(name)
		}
		if err != nil && firstErr == nil {
			firstErr = err
		}
		return fmt.Sprint(v)
	})
	return out, firstErr
}

// resolvedResources returns the resources that exist in scenario s (their
// Condition holds), with intrinsic functions stood in for.
func resolvedResources(tb testing.TB, doc map[string]any, s scenario) map[string]map[string]any {
	tb.Helper()
	si := newStandIn(doc, s)
	out := map[string]map[string]any{}
	for id, r := range asMap(doc["Resources"]) {
		if c := str(get(r, "Condition")); c != "" && !s[c] {
			continue
		}
		v, err := si.resolve(r)
		if err != nil {
			tb.Fatalf("%s (%s): %v", id, s, err)
		}
		out[id] = v.(map[string]any)
	}
	return out
}

func TestStandIn(t *testing.T) {
	doc := map[string]any{
		"Parameters": map[string]any{
			"N": map[string]any{"Type": "Number", "Default": 10.0},
			"S": map[string]any{"Type": "String"},
		},
		"Resources":  map[string]any{"Q": map[string]any{"Type": "AWS::SQS::Queue"}},
		"Conditions": map[string]any{"C": map[string]any{}},
	}
	si := newStandIn(doc, scenario{"C": false})
	got, err := si.resolve(map[string]any{
		"Count":  map[string]any{"Ref": "N"},
		"Name":   map[string]any{"Fn::Sub": "x-${S}-${Q.Arn}-${!Literal}-${AWS::Region}"},
		"Gone":   map[string]any{"Fn::If": []any{"C", "kept", map[string]any{"Ref": "AWS::NoValue"}}},
		"List":   []any{"a", map[string]any{"Fn::If": []any{"C", "b", map[string]any{"Ref": "AWS::NoValue"}}}},
		"Target": map[string]any{"Ref": "Q"},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"Count":  10.0,
		"Name":   "x-standin-S-arn:aws:standin:us-east-1:123456789012:Q.Arn-${Literal}-us-east-1",
		"List":   []any{"a"},
		"Target": "standin-ref-Q",
	}
	if fmt.Sprint(want) != fmt.Sprint(got) {
		t.Errorf("got %v\nwant %v", got, want)
	}
	for _, bad := range []any{
		map[string]any{"Ref": "Missing"},
		map[string]any{"Fn::GetAtt": "Missing.Arn"},
		map[string]any{"Fn::If": []any{"NoSuchCondition", 1, 2}},
		map[string]any{"Fn::Select": []any{0, []any{"a"}}},
	} {
		if _, err := si.resolve(bad); err == nil {
			t.Errorf("%v resolved", bad)
		}
	}
	if got := len(scenarios(map[string]any{"Conditions": map[string]any{"A": 1, "B": 2, "C": 3}})); got != 8 {
		t.Errorf("%d scenarios of three conditions, want 8", got)
	}
}
