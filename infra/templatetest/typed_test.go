package templatetest

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7"
	"github.com/awslabs/goformation/v7/cloudformation"
	"github.com/awslabs/goformation/v7/cloudformation/global"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/intrinsics"
)

// typedTemplate is template.yaml parsed by goformation into its typed
// resources, in one scenario of the template's conditions.
//
// goformation keeps an intrinsic function where a string goes by encoding
// it into the string (cloudformation.Ref("X") and the like, which
// intrinsicOf reads back); where a number or a list goes it cannot. So
// Fn::If is decided by the scenario and AWS::NoValue removed first, and a
// Ref to a Number parameter (WebhookFunction's
// ReservedConcurrentExecutions) stands for the parameter's Default (see
// standIn.partial).
type typedTemplate struct {
	*cloudformation.Template
	scenario scenario
	global   *global.Function
}

// parseTyped parses the template in scenario s.
func parseTyped(tb testing.TB, doc map[string]any, s scenario) *typedTemplate {
	tb.Helper()
	si := newStandIn(doc, s)
	si.partial = true
	v, err := si.resolve(doc)
	if err != nil {
		tb.Fatalf("%s: %v", s, err)
	}
	data, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	tpl, err := goformation.ParseJSONWithOptions(data, &intrinsics.ProcessorOptions{IntrinsicHandlerOverrides: cloudformation.EncoderIntrinsics})
	if err != nil {
		tb.Fatalf("goformation cannot parse template.yaml (%s): %v", s, err)
	}
	g, err := tpl.GetServerlessGlobalFunction()
	if err != nil {
		tb.Fatalf("Globals.Function: %v", err)
	}
	return &typedTemplate{Template: tpl, scenario: s, global: g}
}

// allScenarios parses the template in every scenario of its conditions.
func allScenarios(tb testing.TB) []*typedTemplate {
	tb.Helper()
	doc := longForm(tb, readTemplate(tb))
	var out []*typedTemplate
	for _, s := range scenarios(doc) {
		out = append(out, parseTyped(tb, doc, s))
	}
	return out
}

// typed parses the template with every condition true: every resource
// and optional statement present.
func typed(tb testing.TB) *typedTemplate {
	tb.Helper()
	doc := longForm(tb, readTemplate(tb))
	s := scenario{}
	for name := range asMap(doc["Conditions"]) {
		s[name] = true
	}
	return parseTyped(tb, doc, s)
}

func (t *typedTemplate) function(tb testing.TB, id string) *serverless.Function {
	tb.Helper()
	fn, err := t.GetServerlessFunctionWithName(id)
	if err != nil {
		tb.Fatalf("%s: %v", id, err)
	}
	return fn
}

// functionEnv is a function's environment as SAM makes it: the Globals'
// variables with the function's own over them.
func (t *typedTemplate) functionEnv(tb testing.TB, id string) map[string]string {
	tb.Helper()
	env := map[string]string{}
	for _, e := range []*serverless.Function_FunctionEnvironment{t.global.Environment, t.function(tb, id).Environment} {
		if e != nil {
			for k, v := range e.Variables {
				env[k] = v
			}
		}
	}
	return env
}

// intrinsicOf reads back an intrinsic function goformation encoded into a
// string, in its long form ({"Ref": "X"}); nil for a plain string.
func intrinsicOf(s string) map[string]any {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil || !strings.HasPrefix(strings.TrimSpace(string(b)), "{") {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil || len(m) != 1 {
		return nil
	}
	for k := range m {
		if k != "Ref" && !strings.HasPrefix(k, "Fn::") {
			return nil
		}
	}
	return m
}

// plain turns a value with goformation-encoded intrinsic functions into
// plain values with long-form ones, for describe and ref.
func plain(v any) any {
	switch x := v.(type) {
	case string:
		if m := intrinsicOf(x); m != nil {
			return plain(m)
		}
		return x
	case *string:
		if x == nil {
			return nil
		}
		return plain(*x)
	case map[string]any:
		out := map[string]any{}
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = plain(e)
		}
		return out
	case map[string]string:
		out := map[string]any{}
		for k, e := range x {
			out[k] = plain(e)
		}
		return out
	}
	return v
}

func TestIntrinsicOf(t *testing.T) {
	if got := intrinsicOf(cloudformation.Ref("HooksTable")); got["Ref"] != "HooksTable" {
		t.Errorf("Ref: %v", got)
	}
	if got := plain(cloudformation.GetAtt("Q", "Arn")); describe(got) != "Q.Arn" {
		t.Errorf("GetAtt: %v", got)
	}
	if got := intrinsicOf("rate(1 minute)"); got != nil {
		t.Errorf("a plain string read as %v", got)
	}
}
