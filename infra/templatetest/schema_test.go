package templatetest

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation"
	cfnschema "github.com/awslabs/goformation/v7/schema"
	"github.com/dlclark/regexp2"
	"github.com/santhosh-tekuri/jsonschema/v6"
)

// The two schemas the template is checked against:
//
//   - AWS SAM's own, schema_source/sam.schema.json of
//     aws/serverless-application-model, pinned in testdata (see
//     testdata/README.md). It checks the AWS::Serverless::* resources and
//     Globals strictly, lets intrinsic functions through where
//     CloudFormation takes them, and passes every other resource type,
//     and the properties SAM hands to CloudFormation as they are, through
//     unchecked.
//   - CloudFormation's resource specification as goformation ships it
//     (schema.CloudformationSchema), for the plain resources and for the
//     properties a SAM function passes to its AWS::Lambda::Function. It
//     has no room for intrinsic functions, so they are stood in for first
//     (standIn), in every scenario of the template's conditions.
//
// Both are JSON Schema draft 4, compiled with santhosh-tekuri/jsonschema,
// whose regular expressions are dlclark/regexp2 (ECMAScript flavour): the
// SAM schema tells its own resources from the rest with a negative
// lookahead, ^(?!AWS::Serverless::).+$, which Go's regexp (RE2) lacks.

// samSchemaFile is the pinned SAM schema.
const samSchemaFile = "testdata/sam.schema.json"

// ecmaRegexp adapts regexp2 to jsonschema.Regexp.
type ecmaRegexp regexp2.Regexp

func (re *ecmaRegexp) MatchString(s string) bool {
	ok, err := (*regexp2.Regexp)(re).MatchString(s)
	return err == nil && ok
}

func (re *ecmaRegexp) String() string { return (*regexp2.Regexp)(re).String() }

func compileECMA(s string) (jsonschema.Regexp, error) {
	re, err := regexp2.Compile(s, regexp2.ECMAScript)
	if err != nil {
		return nil, err
	}
	return (*ecmaRegexp)(re), nil
}

func newCompiler() *jsonschema.Compiler {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	c.UseRegexpEngine(compileECMA)
	return c
}

// samSchema compiles the pinned SAM schema.
func samSchema(tb testing.TB) *jsonschema.Schema {
	tb.Helper()
	f, err := os.Open(samSchemaFile)
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	doc, err := jsonschema.UnmarshalJSON(f)
	if err != nil {
		tb.Fatal(err)
	}
	c := newCompiler()
	if err := c.AddResource("sam.schema.json", doc); err != nil {
		tb.Fatal(err)
	}
	sch, err := c.Compile("sam.schema.json")
	if err != nil {
		tb.Fatalf("compile the SAM schema: %v", err)
	}
	return sch
}

// cfnSchemas holds goformation's CloudFormation schema, decoded once per
// test binary, and the schemas of the resource types compiled so far.
var cfnSchemas struct {
	once        sync.Once
	definitions map[string]any
	err         error
	mu          sync.Mutex
	compiled    map[string]*jsonschema.Schema
}

// resourceSchema returns the schema of resource type typ (a whole
// resource: Type, Properties, DeletionPolicy, ...). It is compiled from a
// document holding that type's definition and the ones it refers to,
// rather than from the 7 MB whole, which the compiler takes tens of
// seconds over.
func resourceSchema(tb testing.TB, typ string) *jsonschema.Schema {
	tb.Helper()
	cfnSchemas.once.Do(func() {
		var doc map[string]any
		if cfnSchemas.err = json.Unmarshal([]byte(cfnschema.CloudformationSchema), &doc); cfnSchemas.err == nil {
			cfnSchemas.definitions = asMap(doc["definitions"])
			cfnSchemas.compiled = map[string]*jsonschema.Schema{}
		}
	})
	if cfnSchemas.err != nil {
		tb.Fatalf("goformation's CloudFormation schema: %v", cfnSchemas.err)
	}
	cfnSchemas.mu.Lock()
	defer cfnSchemas.mu.Unlock()
	if s := cfnSchemas.compiled[typ]; s != nil {
		return s
	}
	if cfnSchemas.definitions[typ] == nil || strings.HasPrefix(typ, "AWS::Serverless::") {
		tb.Fatalf("CloudFormation has no resource type %q", typ)
	}
	defs := map[string]any{}
	var collect func(v any)
	collect = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if ref, ok := x["$ref"].(string); ok {
				if name, ok := strings.CutPrefix(ref, "#/definitions/"); ok && defs[name] == nil {
					defs[name] = cfnSchemas.definitions[name]
					collect(defs[name])
				}
			}
			for _, e := range x {
				collect(e)
			}
		case []any:
			for _, e := range x {
				collect(e)
			}
		}
	}
	defs[typ] = cfnSchemas.definitions[typ]
	collect(defs[typ])
	c := newCompiler()
	url := "cloudformation-" + strings.ReplaceAll(typ, "::", "-") + ".schema.json"
	if err := c.AddResource(url, map[string]any{"definitions": defs, "$ref": "#/definitions/" + typ}); err != nil {
		tb.Fatal(err)
	}
	s, err := c.Compile(url)
	if err != nil {
		tb.Fatalf("compile the schema of %s: %v", typ, err)
	}
	cfnSchemas.compiled[typ] = s
	return s
}

// jsonValue turns v into what the validator takes (json.Number numbers).
func jsonValue(tb testing.TB, v any) any {
	tb.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		tb.Fatal(err)
	}
	out, err := jsonschema.UnmarshalJSON(strings.NewReader(string(b)))
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

// checkSAM validates a whole template (long form) against the SAM schema.
func checkSAM(tb testing.TB, sch *jsonschema.Schema, doc map[string]any) error {
	return sch.Validate(jsonValue(tb, doc))
}

// lambdaPassThrough are the properties of AWS::Serverless::Function that
// SAM copies unchanged onto the AWS::Lambda::Function it generates, so
// CloudFormation's schema of that type checks them.
var lambdaPassThrough = []string{
	"Architectures", "Description", "Environment", "Handler", "LoggingConfig",
	"MemorySize", "ReservedConcurrentExecutions", "Runtime", "Timeout",
}

// asLambdaFunction is the AWS::Lambda::Function SAM makes of a resolved
// serverless function, as far as its pass-through properties go: the
// function's own values over the Globals' (Environment variables
// merged), plus the Code and Role SAM fills in.
func asLambdaFunction(fn, globals map[string]any) map[string]any {
	props := map[string]any{
		"Code": map[string]any{"S3Bucket": "standin-artifacts", "S3Key": "standin/bootstrap.zip"},
		"Role": "arn:aws:iam::123456789012:role/standin-generated-role",
	}
	own := asMap(fn["Properties"])
	for _, k := range lambdaPassThrough {
		if v, ok := globals[k]; ok {
			props[k] = v
		}
		if v, ok := own[k]; ok {
			props[k] = v
		}
	}
	vars := map[string]any{}
	for _, src := range []any{get(globals, "Environment", "Variables"), get(own, "Environment", "Variables")} {
		for k, v := range asMap(src) {
			vars[k] = v
		}
	}
	if len(vars) > 0 {
		props["Environment"] = map[string]any{"Variables": vars}
	}
	return map[string]any{"Type": "AWS::Lambda::Function", "Properties": props}
}

// checkCloudFormation checks, in every scenario of the template's
// conditions, each plain resource and each serverless function's
// pass-through properties with intrinsic functions stood in for: against
// goformation's typed struct of the type (a value of the wrong JSON type
// does not decode) and against CloudFormation's schema of the type. It
// returns every problem found.
func checkCloudFormation(tb testing.TB, doc map[string]any) []error {
	tb.Helper()
	var errs []error
	for _, s := range scenarios(doc) {
		si := newStandIn(doc, s)
		g, err := si.resolve(get(doc, "Globals", "Function"))
		if err != nil {
			tb.Fatalf("Globals.Function (%s): %v", s, err)
		}
		globals := asMap(g)
		resources := resolvedResources(tb, doc, s)
		for _, id := range sortedKeys(resources) {
			r := resources[id]
			typ := str(r["Type"])
			if typ == "AWS::Serverless::Function" {
				r = asLambdaFunction(r, globals)
				typ = "AWS::Lambda::Function"
			} else if strings.HasPrefix(typ, "AWS::Serverless::") {
				continue // the SAM schema's
			}
			if err := decodeTyped(typ, r); err != nil {
				errs = append(errs, fmt.Errorf("%s (%s), goformation's %s: %w", id, s, typ, err))
			}
			if err := resourceSchema(tb, typ).Validate(jsonValue(tb, r)); err != nil {
				errs = append(errs, fmt.Errorf("%s (%s), CloudFormation's schema of %s: %w", id, s, typ, err))
			}
		}
	}
	return errs
}

// decodeTyped decodes a resolved resource into goformation's struct of
// its type.
func decodeTyped(typ string, r map[string]any) error {
	res, ok := cloudformation.AllResources()[typ]
	if !ok {
		return fmt.Errorf("goformation has no type %s", typ)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, res)
}

// TestTemplate_SAMSchema validates template.yaml against AWS SAM's schema.
func TestTemplate_SAMSchema(t *testing.T) {
	doc := longForm(t, readTemplate(t))
	if err := checkSAM(t, samSchema(t), doc); err != nil {
		t.Errorf("template.yaml breaks the SAM schema:\n%v", err)
	}
}

// TestTemplate_CloudFormationSchema validates every plain resource of
// template.yaml, and what each serverless function passes to Lambda,
// against CloudFormation's definitions of their types, in every
// combination of the template's conditions.
func TestTemplate_CloudFormationSchema(t *testing.T) {
	doc := longForm(t, readTemplate(t))
	for _, err := range checkCloudFormation(t, doc) {
		t.Error(err)
	}
}

// TestSchemas_RejectBrokenCopies shows that the checks above can fail: a
// copy of template.yaml with one deliberate mistake each (a misspelt
// property, a value of the wrong type, a missing required property; in a
// SAM resource and in a plain one) must be refused, by the schema that
// owns that part, with a message naming the place.
func TestSchemas_RejectBrokenCopies(t *testing.T) {
	sam := samSchema(t)
	for _, tt := range []struct {
		name  string
		edit  func(doc map[string]any)
		by    string // "sam" or "cloudformation"
		names string // in the error
	}{
		{"SAM function: misspelt property", func(doc map[string]any) {
			props := asMap(get(doc, "Resources", "ApiFunction", "Properties"))
			props["Enviroment"] = props["Environment"]
			delete(props, "Environment")
		}, "sam", "additional properties 'Enviroment'"},
		{"SAM function: event of the wrong type", func(doc map[string]any) {
			asMap(get(doc, "Resources", "SchedulerFunction", "Properties", "Events"))["Tick"] = "rate(1 minute)"
		}, "sam", "/Events/Tick': got string, want object"},
		{"SAM function: schedule event without its properties", func(doc map[string]any) {
			delete(asMap(get(doc, "Resources", "SchedulerFunction", "Properties", "Events", "Tick")), "Properties")
		}, "sam", "/Events/Tick': missing property 'Properties'"},
		{"SAM HTTP API: misspelt property", func(doc map[string]any) {
			props := asMap(get(doc, "Resources", "HttpApi", "Properties"))
			props["DefaultRouteSetings"] = props["DefaultRouteSettings"]
			delete(props, "DefaultRouteSettings")
		}, "sam", "additional properties 'DefaultRouteSetings'"},
		{"SAM function: timeout of the wrong type (passed to Lambda)", func(doc map[string]any) {
			asMap(get(doc, "Resources", "TriggerFunction", "Properties"))["Timeout"] = "half a minute"
		}, "cloudformation", "/Properties/Timeout': got string, want number"},
		{"queue: misspelt property", func(doc map[string]any) {
			props := asMap(get(doc, "Resources", "TriggerQueue", "Properties"))
			props["VisibiltyTimeout"] = props["VisibilityTimeout"]
			delete(props, "VisibilityTimeout")
		}, "cloudformation", "additional properties 'VisibiltyTimeout' not allowed"},
		{"queue: value of the wrong type", func(doc map[string]any) {
			asMap(get(doc, "Resources", "TriggerQueue", "Properties"))["VisibilityTimeout"] = "three minutes"
		}, "cloudformation", "/Properties/VisibilityTimeout': got string, want number"},
		{"event source mapping: missing FunctionName", func(doc map[string]any) {
			delete(asMap(get(doc, "Resources", "TriggerEventSource", "Properties")), "FunctionName")
		}, "cloudformation", "missing property 'FunctionName'"},
		{"table: missing KeySchema", func(doc map[string]any) {
			delete(asMap(get(doc, "Resources", "HooksTable", "Properties")), "KeySchema")
		}, "cloudformation", "missing property 'KeySchema'"},
		{"table: key schema of the wrong type", func(doc map[string]any) {
			asMap(get(doc, "Resources", "HooksTable", "Properties"))["KeySchema"] = "pk"
		}, "cloudformation", "/Properties/KeySchema': got string, want array"},
		{"managed policy: misspelt property", func(doc map[string]any) {
			props := asMap(get(doc, "Resources", "BridgePolicy", "Properties"))
			props["PolicyDocuments"] = props["PolicyDocument"]
			delete(props, "PolicyDocument")
		}, "cloudformation", "missing property 'PolicyDocument'"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			doc := longForm(t, readTemplate(t))
			tt.edit(doc)
			var msg string
			switch tt.by {
			case "sam":
				if err := checkSAM(t, sam, doc); err != nil {
					msg = err.Error()
				}
			case "cloudformation":
				var parts []string
				for _, err := range checkCloudFormation(t, doc) {
					parts = append(parts, err.Error())
				}
				msg = strings.Join(parts, "\n")
			}
			if msg == "" {
				t.Fatalf("the %s check accepted the broken copy", tt.by)
			}
			if !strings.Contains(msg, tt.names) {
				t.Errorf("the refusal does not name %q:\n%s", tt.names, msg)
			}
		})
	}
}
