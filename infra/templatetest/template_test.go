package templatetest

import (
	"encoding/json"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/awslabs/goformation/v7/cloudformation/lambda"
	"github.com/awslabs/goformation/v7/cloudformation/serverless"
	"github.com/awslabs/goformation/v7/cloudformation/sqs"
	"github.com/google/go-cmp/cmp"

	"github.com/aws/aws-sdk-go-v2/aws"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	cfndynamodb "github.com/awslabs/goformation/v7/cloudformation/dynamodb"

	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/console"
	"github.com/hookline/hookline/shared/httpapi"
	"github.com/hookline/hookline/shared/store/dynamo"
)

// functions maps each AWS::Serverless::Function to its folder under
// functions/.
var functions = map[string]string{
	"ApiFunction":       "api",
	"WebhookFunction":   "webhook",
	"SchedulerFunction": "scheduler",
	"TriggerFunction":   "trigger",
}

// globalEnv are the variables every function gets from Globals.
var globalEnv = []string{"HOOKLINE_STORE", "HOOKLINE_DECISION_RETENTION", "HOOKLINE_HISTORY_MAX_PER_HOOK", "HOOKLINE_OUTCOME_POLL_INTERVAL", "TASKCLUSTER_ROOT_URL"}

// functionEnv are the variables each function gets besides those derived
// from its code (derivedEnv): the globals plus what only it needs (the
// clients only where requests are authenticated, the changes queue only
// where hooks change, the sender only where email is sent).
var functionEnv = map[string][]string{
	"ApiFunction":       append(slices.Clone(globalEnv), "HOOKLINE_AUTH_MODE", "HOOKLINE_CLIENTS_SECRET", "HOOKLINE_CHANGES_QUEUE_URL"),
	"WebhookFunction":   globalEnv,
	"SchedulerFunction": append(slices.Clone(globalEnv), "HOOKLINE_EMAIL_SENDER"),
	"TriggerFunction":   globalEnv,
}

// allEnv is every variable a function gets: functionEnv and derivedEnv.
func allEnv(t *testing.T, id string) []string {
	t.Helper()
	return append(slices.Clone(functionEnv[id]), derivedEnv(t, id)...)
}

// functionGrants are the only permissions each function may have besides
// those derived from its code (derivedGrants), in the form grants()
// describes them.
var functionGrants = map[string][]string{
	"ApiFunction": {
		"SQSSendMessagePolicy(QueueName=ChangesQueue.QueueName)",
		"if HasClientsJson: Allow secretsmanager:GetSecretValue on ClientsSecret",
	},
	"WebhookFunction": nil,
	"SchedulerFunction": {
		"if HasEmailSender: Allow ses:SendEmail on Sub(arn:${AWS::Partition}:ses:${AWS::Region}:${AWS::AccountId}:identity/*) when StringEquals ses:FromAddress=EmailSender",
	},
	"TriggerFunction": {
		"SQSPollerPolicy(QueueName=TriggerQueue.QueueName)",
	},
}

// redriveGrants are the statements of RedrivePolicy: `hookline redrive`
// and nothing more.
var redriveGrants = []string{
	"Allow sqs:ReceiveMessage,sqs:DeleteMessage,sqs:ChangeMessageVisibility,sqs:GetQueueAttributes on TriggerDLQ.Arn",
	"Allow sqs:SendMessage,sqs:GetQueueAttributes on TriggerQueue.Arn",
}

// bridgeGrants are the statements of BridgePolicy besides those derived
// from the bridge's code.
var bridgeGrants = []string{
	"Allow sqs:SendMessage,sqs:GetQueueAttributes,sqs:GetQueueUrl on TriggerQueue.Arn",
	"Allow sqs:ReceiveMessage,sqs:DeleteMessage,sqs:ChangeMessageVisibility,sqs:GetQueueAttributes,sqs:GetQueueUrl on ChangesQueue.Arn",
	"if HasPulseUrl: Allow secretsmanager:GetSecretValue on BridgePulseSecret",
}

// pullEventTypes are SAM event types that make SAM attach an AWS managed
// policy valid for every stream or queue of the account.
var pullEventTypes = []string{"SQS", "Kinesis", "DynamoDB", "MSK", "MQ", "SelfManagedKafka", "DocumentDB"}

func load(t *testing.T) (*template, string) {
	t.Helper()
	root := repoRoot(t)
	return loadTemplate(t, filepath.Join(root, "template.yaml")), root
}

// requireCode fails under CI=true and skips otherwise when a function's
// folder has no Go code yet.
func requireCode(t *testing.T, root, name string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(root, "functions", name, "*.go"))
	if len(files) > 0 {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("functions/%s has no Go code, but template.yaml deploys it", name)
	}
	t.Skipf("functions/%s has no Go code yet (a failure under CI=true)", name)
}

func TestTemplate_FunctionsBuildWithMake(t *testing.T) {
	tpl, root := load(t)
	typ := typed(t)
	got := sortedKeys(typ.GetAllServerlessFunctionResources())
	want := sortedKeys(functions)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("serverless functions (-want +got):\n%s", diff)
	}
	dirs, err := os.ReadDir(filepath.Join(root, "functions"))
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range dirs {
		files, _ := filepath.Glob(filepath.Join(root, "functions", d.Name(), "*.go"))
		if d.IsDir() && len(files) > 0 && !slices.Contains(mapValues(functions), d.Name()) {
			t.Errorf("functions/%s is not deployed by template.yaml", d.Name())
		}
	}
	if _, err := exec.LookPath("make"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("make is required under CI=true")
		}
		t.Skip("make is not installed")
	}

	for _, id := range want {
		name := functions[id]
		t.Run(id, func(t *testing.T) {
			fn, g := typ.function(t, id), typ.global
			// The function's own setting, or the Globals' (as SAM merges
			// scalar properties).
			pick := func(own, global *string) string {
				if own != nil {
					return *own
				}
				if global != nil {
					return *global
				}
				return ""
			}
			codeURI := func(c *serverless.Function_CodeUri) *string {
				if c == nil {
					return nil
				}
				return c.String
			}
			arch := fn.Architectures
			if arch == nil && g.Architectures != nil {
				arch = *g.Architectures
			}
			for _, c := range []struct{ property, got, want string }{
				{"Runtime", pick(fn.Runtime, g.Runtime), "provided.al2023"},
				{"Handler", pick(fn.Handler, g.Handler), "bootstrap"},
				{"CodeUri", pick(codeURI(fn.CodeUri), codeURI(g.CodeUri)), "."},
				{"Architectures", strings.Join(arch, ","), "arm64"},
			} {
				if c.got != c.want {
					t.Errorf("%s = %q, want %q", c.property, c.got, c.want)
				}
			}
			// goformation's SAM types have no LoggingConfig: read it from
			// the long form.
			if got := get(tpl.functionProperty(id, "LoggingConfig"), "LogFormat"); got != "JSON" {
				t.Errorf("LoggingConfig.LogFormat = %v, want JSON", got)
			}
			if got := fn.AWSCloudFormationMetadata["BuildMethod"]; got != "makefile" {
				t.Errorf("Metadata.BuildMethod = %v, want makefile", got)
			}
			if fn.Role != nil {
				t.Errorf("Role = %v: a function's permissions come from its Policies", plain(fn.Role))
			}

			artifacts := t.TempDir()
			cmd := exec.Command("make", "-n", "-s", "--no-print-directory", "build-"+id, "ARTIFACTS_DIR="+artifacts)
			cmd.Dir = root
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("make -n build-%s: %v\n%s", id, err, out)
			}
			lines := strings.Split(strings.TrimSpace(string(out)), "\n")
			if len(lines) != 1 {
				t.Fatalf("build-%s runs %d commands, want one go build:\n%s", id, len(lines), out)
			}
			goarch := map[string]string{"arm64": "arm64", "x86_64": "amd64"}[arch[0]]
			checkBuildCommand(t, lines[0], goarch, filepath.Join(artifacts, "bootstrap"), "./functions/"+name)

			requireCode(t, root, name)
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, filepath.Join(root, "functions", name, "main.go"), nil, parser.PackageClauseOnly)
			if err != nil {
				t.Fatal(err)
			}
			if f.Name.Name != "main" {
				t.Errorf("functions/%s/main.go is package %s, want main", name, f.Name.Name)
			}
		})
	}
}

// checkBuildCommand checks one `go build` command line as make prints it:
// a static, stripped linux/<arch> binary, built without the RPC runtime,
// written to out from pkg.
func checkBuildCommand(t *testing.T, line, arch, out, pkg string) {
	t.Helper()
	words, err := splitShell(line)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{}
	for len(words) > 0 && strings.Contains(words[0], "=") && !strings.HasPrefix(words[0], "-") {
		k, v, _ := strings.Cut(words[0], "=")
		env[k] = v
		words = words[1:]
	}
	wantEnv := map[string]string{"GOOS": "linux", "GOARCH": arch, "CGO_ENABLED": "0"}
	if diff := cmp.Diff(wantEnv, env); diff != "" {
		t.Errorf("build environment of %q (-want +got):\n%s", line, diff)
	}
	if len(words) < 3 || filepath.Base(words[0]) != "go" || words[1] != "build" {
		t.Fatalf("%q is not a go build", line)
	}
	args := words[2:]
	if got := args[len(args)-1]; got != pkg {
		t.Errorf("builds %s, want %s", got, pkg)
	}
	flags := map[string]string{}
	for i := 0; i < len(args)-1; i++ {
		a := args[i]
		if k, v, ok := strings.Cut(a, "="); ok && strings.HasPrefix(a, "-") {
			flags[k] = v
			continue
		}
		if a == "-trimpath" {
			flags[a] = "true"
			continue
		}
		if strings.HasPrefix(a, "-") && i+1 < len(args)-1 {
			flags[a] = args[i+1]
			i++
		}
	}
	wantFlags := map[string]string{"-trimpath": "true", "-tags": "lambda.norpc", "-ldflags": "-s -w", "-o": out}
	if diff := cmp.Diff(wantFlags, flags); diff != "" {
		t.Errorf("go build flags of %q (-want +got):\n%s", line, diff)
	}
}

// apiRoutes reads upstream's API reference: route name → "METHOD /path"
// with {param} placeholders, as HTTP API writes them.
func apiRoutes(t *testing.T, root string) map[string]string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(root, "schemas", "references", "api.json"))
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Entries []struct{ Name, Method, Route string } `json:"entries"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	param := regexp.MustCompile(`<([A-Za-z]+)>`)
	routes := map[string]string{}
	for _, e := range ref.Entries {
		routes[e.Name] = strings.ToUpper(e.Method) + " " + httpapi.BasePath + param.ReplaceAllString(e.Route, "{$1}")
	}
	return routes
}

// samEvents describes a function's SAM events, one string each, from
// goformation's typed events.
func samEvents(t *testing.T, tpl *typedTemplate, id string) []string {
	t.Helper()
	var out []string
	for name, ev := range tpl.function(t, id).Events {
		switch {
		case ev.Type == "HttpApi" && ev.Properties != nil && ev.Properties.HttpApiEvent != nil:
			h := ev.Properties.HttpApiEvent
			if api, _, _ := ref(plain(h.ApiId)); api != "HttpApi" {
				t.Errorf("%s event %s: ApiId = %v, want !Ref HttpApi", id, name, plain(h.ApiId))
			}
			if v := plain(h.PayloadFormatVersion); v != "2.0" {
				t.Errorf("%s event %s: PayloadFormatVersion = %v, want \"2.0\" (lambdahttp.Handler takes payload 2.0)", id, name, v)
			}
			out = append(out, fmt.Sprintf("HttpApi %s %s", plain(h.Method), plain(h.Path)))
		case ev.Type == "Schedule" && ev.Properties != nil && ev.Properties.ScheduleEvent != nil:
			sch := ev.Properties.ScheduleEvent
			if sch.Enabled != nil && !*sch.Enabled {
				t.Errorf("%s event %s is disabled", id, name)
			}
			out = append(out, "Schedule "+sch.Schedule)
		default:
			out = append(out, ev.Type)
		}
	}
	sort.Strings(out)
	return out
}

func TestTemplate_HTTPRoutes(t *testing.T) {
	_, root := load(t)
	tpl := typed(t)
	routes := apiRoutes(t, root)
	want := map[string][]string{
		"ApiFunction": {"HttpApi ANY " + httpapi.BasePath + "/{proxy+}", "HttpApi ANY " + httpapi.HooklineBasePath + "/{proxy+}",
			"HttpApi GET " + console.Path + "{proxy+}", "HttpApi GET " + strings.TrimSuffix(console.Path, "/")},
		"WebhookFunction":   nil,
		"SchedulerFunction": {"Schedule rate(1 minute)"},
		"TriggerFunction":   nil,
	}
	// The webhook function's routes are upstream's (api.json) or
	// Hookline's own (httpapi.HooklineRoutes).
	for _, name := range httpapi.WebhookFunctionRoutes() {
		if r, ok := routes[name]; ok {
			want["WebhookFunction"] = append(want["WebhookFunction"], "HttpApi "+r)
			continue
		}
		found := false
		for _, r := range httpapi.HooklineRoutes() {
			if r.Name == name {
				want["WebhookFunction"] = append(want["WebhookFunction"], "HttpApi "+r.Method+" "+r.Path)
				found = true
			}
		}
		if !found {
			t.Fatalf("httpapi.WebhookFunctionRoutes names %q, which is neither in schemas/references/api.json nor in httpapi.HooklineRoutes", name)
		}
	}
	sort.Strings(want["WebhookFunction"])
	sort.Strings(want["ApiFunction"])
	for _, id := range sortedKeys(functions) {
		if diff := cmp.Diff(want[id], samEvents(t, tpl, id)); diff != "" {
			t.Errorf("%s events (-want +got):\n%s", id, diff)
		}
	}
	for _, r := range routes {
		if !strings.HasPrefix(strings.SplitN(r, " ", 2)[1], httpapi.BasePath+"/") {
			t.Errorf("route %s is not under the api function's %s/{proxy+}", r, httpapi.BasePath)
		}
	}

	api, err := tpl.GetServerlessHttpApiWithName("HttpApi")
	if err != nil {
		t.Fatal(err)
	}
	if rs := api.DefaultRouteSettings; rs == nil || rs.ThrottlingRateLimit == nil || rs.ThrottlingBurstLimit == nil {
		t.Errorf("HttpApi DefaultRouteSettings %+v, want both throttling limits", rs)
	}
	// The reserved concurrency is the WebhookConcurrency parameter (its
	// default stands for it here), or none when that is 0.
	params := tpl.Parameters
	for _, typ := range allScenarios(t) {
		rc := typ.function(t, "WebhookFunction").ReservedConcurrentExecutions
		want := fmt.Sprint(params["WebhookConcurrency"].Default)
		switch on := typ.scenario["HasWebhookConcurrency"]; {
		case on && (rc == nil || fmt.Sprint(*rc) != want):
			t.Errorf("%s: WebhookFunction.ReservedConcurrentExecutions = %v, want the WebhookConcurrency parameter (%s)", typ.scenario, rc, want)
		case !on && rc != nil:
			t.Errorf("%s: WebhookFunction.ReservedConcurrentExecutions = %d, want none", typ.scenario, *rc)
		}
	}
}

func TestTemplate_Scheduler(t *testing.T) {
	tpl := typed(t)
	// A tick starts no fire after 45 s (hooks.TickOptions.Budget); the
	// fires under way need the rest.
	if timeout := tpl.function(t, "SchedulerFunction").Timeout; timeout == nil || *timeout != 60 {
		t.Errorf("SchedulerFunction Timeout = %v, want 60", timeout)
	}
}

func TestTemplate_TriggerEventSource(t *testing.T) {
	tpl := typed(t)
	for _, id := range sortedKeys(functions) {
		for name, ev := range tpl.function(t, id).Events {
			if slices.Contains(pullEventTypes, ev.Type) {
				t.Errorf("%s event %s is a SAM %s event, which attaches an account-wide managed policy; declare an AWS::Lambda::EventSourceMapping", id, name, ev.Type)
			}
		}
	}

	mappings := tpl.GetAllLambdaEventSourceMappingResources()
	if len(mappings) != 1 {
		t.Fatalf("event source mappings %v, want one for TriggerFunction", sortedKeys(mappings))
	}
	var esm *lambda.EventSourceMapping
	for _, m := range mappings {
		esm = m
	}
	if fn, _, _ := ref(plain(esm.FunctionName)); fn != "TriggerFunction" {
		t.Errorf("FunctionName = %v, want !Ref TriggerFunction", plain(esm.FunctionName))
	}
	if q, attr, _ := ref(plain(esm.EventSourceArn)); q != "TriggerQueue" || attr != "Arn" {
		t.Errorf("EventSourceArn = %v, want !GetAtt TriggerQueue.Arn", plain(esm.EventSourceArn))
	}
	if esm.BatchSize == nil || *esm.BatchSize != 10 {
		t.Errorf("BatchSize = %v, want 10", esm.BatchSize)
	}
	if !slices.Equal(esm.FunctionResponseTypes, []string{"ReportBatchItemFailures"}) {
		t.Errorf("FunctionResponseTypes = %v, want [ReportBatchItemFailures] (the handler returns batch item failures)", esm.FunctionResponseTypes)
	}
	if esm.Enabled != nil && !*esm.Enabled {
		t.Error("the trigger event source is disabled")
	}

	queue, err := tpl.GetSQSQueueWithName("TriggerQueue")
	if err != nil {
		t.Fatal(err)
	}
	redrive := asMap(plain(queue.RedrivePolicy))
	if dlq, attr, _ := ref(redrive["deadLetterTargetArn"]); dlq != "TriggerDLQ" || attr != "Arn" {
		t.Errorf("TriggerQueue RedrivePolicy.deadLetterTargetArn = %v, want !GetAtt TriggerDLQ.Arn", redrive["deadLetterTargetArn"])
	}
	if n, _ := num(redrive["maxReceiveCount"]); n != 5 {
		t.Errorf("maxReceiveCount = %v, want 5", redrive["maxReceiveCount"])
	}
	timeout := tpl.function(t, "TriggerFunction").Timeout
	if timeout == nil {
		t.Fatal("TriggerFunction has no Timeout of its own")
	}
	if queue.VisibilityTimeout == nil || *queue.VisibilityTimeout < 6**timeout {
		t.Errorf("TriggerQueue VisibilityTimeout = %v, want at least 6 × the function's %d s", queue.VisibilityTimeout, *timeout)
	}
	dlq, err := tpl.GetSQSQueueWithName("TriggerDLQ")
	if err != nil {
		t.Fatal(err)
	}
	if dlq.RedrivePolicy != nil {
		t.Error("TriggerDLQ has a redrive policy of its own")
	}
	retention := func(q *sqs.Queue) int {
		if q.MessageRetentionPeriod == nil {
			return 345600 // SQS's default
		}
		return *q.MessageRetentionPeriod
	}
	if dr, qr := retention(dlq), retention(queue); dr < qr {
		t.Errorf("TriggerDLQ keeps messages %d s, less than TriggerQueue's %d s: a redriven message could expire at once", dr, qr)
	}
}

// configVariables lists the variable names shared/config reads: the string
// literals of its source that are whole HOOKLINE_ or TASKCLUSTER_ names.
func configVariables(t *testing.T, root string) map[string]bool {
	t.Helper()
	dir := filepath.Join(root, "shared", "config")
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	name := regexp.MustCompile(`^(HOOKLINE|TASKCLUSTER)_[A-Z0-9_]+$`)
	vars := map[string]bool{}
	fset := token.NewFileSet()
	for _, path := range files {
		if strings.HasSuffix(path, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if lit, ok := n.(*ast.BasicLit); ok && lit.Kind == token.STRING {
				if s, err := strconv.Unquote(lit.Value); err == nil && name.MatchString(s) {
					vars[s] = true
				}
			}
			return true
		})
	}
	if len(vars) == 0 {
		t.Fatal("found no variable names in shared/config")
	}
	return vars
}

func TestTemplate_Environment(t *testing.T) {
	_, root := load(t)
	tpl := typed(t)
	known := configVariables(t, root)
	for _, id := range sortedKeys(functions) {
		env := tpl.functionEnv(t, id)
		want := allEnv(t, id)
		sort.Strings(want)
		if diff := cmp.Diff(want, sortedKeys(env)); diff != "" {
			t.Errorf("%s environment (-want +got):\n%s", id, diff)
		}
		for name := range env {
			if !known[name] {
				t.Errorf("%s sets %s, which shared/config does not read", id, name)
			}
		}
	}

	env := tpl.functionEnv(t, "ApiFunction")
	for name, want := range map[string]any{
		"HOOKLINE_STORE":                 map[string]any{"Fn::Sub": "dynamodb:${HooksTable}"},
		"TASKCLUSTER_ROOT_URL":           map[string]any{"Ref": "TaskclusterRootUrl"},
		"TASKCLUSTER_CREDENTIALS_SECRET": map[string]any{"Ref": "TaskclusterCredentialsSecretArn"},
		"HOOKLINE_AUTH_MODE":             map[string]any{"Ref": "AuthMode"},
		"HOOKLINE_CLIENTS_SECRET":        map[string]any{"Ref": "ClientsSecret"}, // a secret's Ref is its ARN
		"HOOKLINE_CHANGES_QUEUE_URL":     map[string]any{"Ref": "ChangesQueue"},  // an SQS queue's Ref is its URL
		"HOOKLINE_HISTORY_MAX_PER_HOOK":  map[string]any{"Ref": "HistoryMaxPerHook"},
		"HOOKLINE_OUTCOME_POLL_INTERVAL": map[string]any{"Ref": "OutcomePollInterval"},
	} {
		if diff := cmp.Diff(want, plain(env[name])); diff != "" {
			t.Errorf("ApiFunction %s (-want +got):\n%s", name, diff)
		}
	}
	if got := plain(tpl.functionEnv(t, "SchedulerFunction")["HOOKLINE_EMAIL_SENDER"]); !cmp.Equal(got, map[string]any{"Ref": "EmailSender"}) {
		t.Errorf("SchedulerFunction HOOKLINE_EMAIL_SENDER = %v, want !Ref EmailSender", got)
	}
	var modes []any
	for _, m := range []config.AuthMode{config.AuthStatic, config.AuthTaskcluster} {
		modes = append(modes, string(m))
	}
	if got := tpl.Parameters["AuthMode"].AllowedValues; !cmp.Equal(got, modes) {
		t.Errorf("AuthMode AllowedValues = %v, want config's modes %v", got, modes)
	}
	for _, p := range []string{"ClientsJson", "PulseUrl"} {
		if noEcho := tpl.Parameters[p].NoEcho; noEcho == nil || !*noEcho {
			t.Errorf("parameter %s holds secrets but is not NoEcho", p)
		}
	}
}

// TestEnvJSON checks infra/events/env.json, the --env-vars file of `sam
// local`: SAM applies only the variables a function declares, so it must
// set exactly those, with values config.Load accepts.
func TestEnvJSON(t *testing.T) {
	_, root := load(t)
	tpl := typed(t)
	data, err := os.ReadFile(filepath.Join(root, "infra", "events", "env.json"))
	if err != nil {
		t.Fatal(err)
	}
	var file map[string]map[string]any
	if err := json.Unmarshal(data, &file); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(sortedKeys(functions), sortedKeys(file)); diff != "" {
		t.Fatalf("functions in env.json (-want +got):\n%s", diff)
	}
	for _, id := range sortedKeys(functions) {
		vars := file[id]
		if diff := cmp.Diff(sortedKeys(tpl.functionEnv(t, id)), sortedKeys(vars)); diff != "" {
			t.Errorf("%s variables in env.json (-template +env.json):\n%s", id, diff)
		}
		env := map[string]string{}
		for k, v := range vars {
			s, ok := v.(string)
			if !ok {
				t.Errorf("env.json %s.%s is a %T, not a string", id, k, v)
			}
			env[k] = s
		}
		if _, err := config.Load(func(k string) string { return env[k] }); err != nil {
			t.Errorf("env.json %s: %v", id, err)
		}
	}
}

func TestTemplate_Table(t *testing.T) {
	tpl := typed(t)
	tables := tpl.GetAllDynamoDBTableResources()
	if len(tables) != 1 || tables["HooksTable"] == nil {
		t.Fatalf("tables %v, want HooksTable only", sortedKeys(tables))
	}
	table := tables["HooksTable"]
	if table.AWSCloudFormationDeletionPolicy != "Retain" {
		t.Errorf("HooksTable DeletionPolicy is %q, not Retain", table.AWSCloudFormationDeletionPolicy)
	}

	// The table dynamo.TableDefinition describes, as goformation's type.
	def := dynamo.TableDefinition("x")
	if def.LocalSecondaryIndexes != nil {
		t.Fatal("TableDefinition has local indexes; extend this test")
	}
	keys := func(ks []ddbtypes.KeySchemaElement) []cfndynamodb.Table_KeySchema {
		var out []cfndynamodb.Table_KeySchema
		for _, k := range ks {
			out = append(out, cfndynamodb.Table_KeySchema{AttributeName: *k.AttributeName, KeyType: string(k.KeyType)})
		}
		return out
	}
	want := &cfndynamodb.Table{
		BillingMode: aws.String(string(def.BillingMode)),
		KeySchema:   keys(def.KeySchema),
		TimeToLiveSpecification: &cfndynamodb.Table_TimeToLiveSpecification{
			AttributeName: aws.String(dynamo.TTLAttribute()),
			Enabled:       true,
		},
	}
	for _, a := range def.AttributeDefinitions {
		want.AttributeDefinitions = append(want.AttributeDefinitions, cfndynamodb.Table_AttributeDefinition{AttributeName: *a.AttributeName, AttributeType: string(a.AttributeType)})
	}
	for _, g := range def.GlobalSecondaryIndexes {
		want.GlobalSecondaryIndexes = append(want.GlobalSecondaryIndexes, cfndynamodb.Table_GlobalSecondaryIndex{
			IndexName: *g.IndexName,
			KeySchema: keys(g.KeySchema),
			Projection: &cfndynamodb.Table_Projection{
				ProjectionType:   aws.String(string(g.Projection.ProjectionType)),
				NonKeyAttributes: g.Projection.NonKeyAttributes,
			},
		})
	}
	got := &cfndynamodb.Table{
		BillingMode:             table.BillingMode,
		KeySchema:               table.KeySchema,
		TimeToLiveSpecification: table.TimeToLiveSpecification,
		AttributeDefinitions:    table.AttributeDefinitions,
		GlobalSecondaryIndexes:  table.GlobalSecondaryIndexes,
	}
	// Key schemas are ordered (HASH before RANGE); attribute definitions
	// are a set.
	byName := func(a, b cfndynamodb.Table_AttributeDefinition) int {
		return strings.Compare(a.AttributeName, b.AttributeName)
	}
	slices.SortFunc(want.AttributeDefinitions, byName)
	slices.SortFunc(got.AttributeDefinitions, byName)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("HooksTable differs from dynamo.TableDefinition/TTLAttribute (-want +got):\n%s", diff)
	}
	if len(table.LocalSecondaryIndexes) > 0 || table.ProvisionedThroughput != nil || table.TableName != nil {
		t.Error("HooksTable sets LocalSecondaryIndexes, ProvisionedThroughput or TableName, which dynamo.TableDefinition does not")
	}
}

// describe renders a template value for grant strings: a Ref or GetAtt as
// its target, a Fn::Sub as Sub(text), anything else as JSON.
func describe(v any) string {
	if id, attr, ok := ref(v); ok {
		if attr != "" {
			return id + "." + attr
		}
		return id
	}
	if s, ok := get(v, "Fn::Sub").(string); ok {
		return "Sub(" + s + ")"
	}
	if s, ok := v.(string); ok {
		return s
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func stringsOf(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, describe(e))
		}
		return out
	}
	return []string{describe(v)}
}

// statementGrants describes the statements of a policy document, and
// reports statements that grant account-wide.
func statementGrants(t *testing.T, owner string, doc any) []string {
	t.Helper()
	stmts, ok := get(doc, "Statement").([]any)
	if !ok {
		stmts = []any{get(doc, "Statement")}
	}
	var out []string
	for _, s := range stmts {
		if ifs, ok := get(s, "Fn::If").([]any); ok && len(ifs) == 3 {
			for _, g := range statementGrants(t, owner, map[string]any{"Statement": []any{ifs[1]}}) {
				out = append(out, "if "+str(ifs[0])+": "+g)
			}
			if id, _, _ := ref(ifs[2]); id != "AWS::NoValue" {
				for _, g := range statementGrants(t, owner, map[string]any{"Statement": []any{ifs[2]}}) {
					out = append(out, "if not "+str(ifs[0])+": "+g)
				}
			}
			continue
		}
		actions := stringsOf(get(s, "Action"))
		resources := stringsOf(get(s, "Resource"))
		for _, a := range actions {
			if a == "*" || strings.HasSuffix(a, ":*") {
				t.Errorf("%s grants %s", owner, a)
			}
		}
		cond := ""
		if c, ok := get(s, "Condition").(map[string]any); ok {
			var parts []string
			for op, kv := range c {
				m, _ := kv.(map[string]any)
				for k, v := range m {
					parts = append(parts, op+" "+k+"="+describe(v))
				}
			}
			sort.Strings(parts)
			cond = " when " + strings.Join(parts, " and ")
		}
		for _, r := range resources {
			if (r == "*" || strings.HasSuffix(r, "*)")) && cond == "" {
				t.Errorf("%s grants %v on %s without a condition", owner, actions, r)
			}
		}
		if get(s, "NotAction") != nil || get(s, "NotResource") != nil {
			t.Errorf("%s uses NotAction/NotResource", owner)
		}
		out = append(out, fmt.Sprintf("%s %s on %s%s", get(s, "Effect"), strings.Join(actions, ","), strings.Join(resources, ","), cond))
	}
	return out
}

// grants describes a function's Policies, one string per policy template
// or inline statement.
func grants(t *testing.T, id string, policies any) []string {
	t.Helper()
	list, ok := policies.([]any)
	if !ok && policies != nil {
		list = []any{policies}
	}
	var out []string
	for _, p := range list {
		switch x := p.(type) {
		case string:
			out = append(out, "managed "+x)
		case map[string]any:
			if ifs, ok := x["Fn::If"].([]any); ok && len(x) == 1 && len(ifs) == 3 {
				for _, g := range grants(t, id, ifs[1]) {
					out = append(out, "if "+str(ifs[0])+": "+g)
				}
				if nv, _, _ := ref(ifs[2]); nv != "AWS::NoValue" {
					for _, g := range grants(t, id, ifs[2]) {
						out = append(out, "if not "+str(ifs[0])+": "+g)
					}
				}
				continue
			}
			if _, ok := x["Statement"]; ok {
				out = append(out, statementGrants(t, id, x)...)
				continue
			}
			for name, params := range x {
				var args []string
				for _, k := range sortedKeys(asMap(params)) {
					args = append(args, k+"="+describe(asMap(params)[k]))
				}
				out = append(out, name+"("+strings.Join(args, ",")+")")
			}
		default:
			out = append(out, fmt.Sprintf("unknown %v", x))
		}
	}
	sort.Strings(out)
	return out
}

// inScenario keeps the grants that hold in scenario s: "if C: g" is g
// when C holds, "if not C: g" when it does not.
func inScenario(grants []string, s scenario) []string {
	var out []string
	for _, g := range grants {
		if rest, ok := strings.CutPrefix(g, "if not "); ok {
			cond, grant, _ := strings.Cut(rest, ": ")
			if !s[cond] {
				out = append(out, grant)
			}
			continue
		}
		if rest, ok := strings.CutPrefix(g, "if "); ok {
			cond, grant, _ := strings.Cut(rest, ": ")
			if s[cond] {
				out = append(out, grant)
			}
			continue
		}
		out = append(out, g)
	}
	sort.Strings(out)
	return out
}

// typedPolicies lists a function's Policies, one plain value each (a SAM
// policy template or a policy document), from goformation's union type.
// A list mixing templates and documents decodes into both of its arrays,
// each holding, at every index, the entry if it is of its kind and an
// empty one if not.
func typedPolicies(t *testing.T, p *serverless.Function_Policies) []any {
	t.Helper()
	if p == nil {
		return nil
	}
	var sams []serverless.Function_SAMPolicyTemplate
	var docs []serverless.Function_IAMPolicyDocument
	if p.SAMPolicyTemplateArray != nil {
		sams = *p.SAMPolicyTemplateArray
	}
	if p.IAMPolicyDocumentArray != nil {
		docs = *p.IAMPolicyDocumentArray
	}
	var out []any
	for i := range max(len(sams), len(docs)) {
		if i < len(sams) {
			b, err := json.Marshal(sams[i])
			if err != nil {
				t.Fatal(err)
			}
			var m map[string]any
			json.Unmarshal(b, &m)
			if len(m) > 0 {
				out = append(out, plain(m))
				continue
			}
		}
		if i < len(docs) && docs[i].Statement != nil {
			out = append(out, map[string]any{"Statement": plain(docs[i].Statement)})
			continue
		}
		t.Errorf("policy %d is neither a SAM policy template nor a policy document goformation knows", i)
	}
	return out
}

func TestTemplate_Policies(t *testing.T) {
	for _, tpl := range allScenarios(t) {
		for _, id := range sortedKeys(functions) {
			want := inScenario(append(slices.Clone(functionGrants[id]), derivedGrants(t, id)...), tpl.scenario)
			got := grants(t, id, typedPolicies(t, tpl.function(t, id).Policies))
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("%s: %s permissions (-want +got):\n%s", tpl.scenario, id, diff)
			}
		}
		for name, want := range map[string][]string{"BridgePolicy": append(slices.Clone(bridgeGrants), derivedGrants(t, "BridgePolicy")...), "RedrivePolicy": redriveGrants} {
			policy, err := tpl.GetIAMManagedPolicyWithName(name)
			if err != nil {
				t.Fatal(err)
			}
			got := statementGrants(t, name, plain(policy.PolicyDocument))
			sort.Strings(got)
			if diff := cmp.Diff(inScenario(want, tpl.scenario), got); diff != "" {
				t.Errorf("%s: %s (-want +got):\n%s", tpl.scenario, name, diff)
			}
		}
		if roles := tpl.GetAllIAMRoleResources(); len(roles) > 0 {
			t.Errorf("roles %v: roles are SAM's to generate from each function's Policies", sortedKeys(roles))
		}
	}
}

// pseudoParameters are CloudFormation's own.
var pseudoParameters = []string{
	"AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue", "AWS::Partition",
	"AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix",
}

func TestTemplate_References(t *testing.T) {
	tpl, _ := load(t)
	params, resources, conditions := tpl.section("Parameters"), tpl.section("Resources"), tpl.section("Conditions")
	used := map[string]bool{}
	check := func(where string, v any) {
		for _, name := range references(v) {
			used[name] = true
			_, isParam := params[name]
			_, isResource := resources[name]
			_, isCondition := conditions[name]
			if !isParam && !isResource && !isCondition && !slices.Contains(pseudoParameters, name) {
				t.Errorf("%s refers to %q, which the template does not define", where, name)
			}
		}
	}
	for _, section := range []string{"Globals", "Conditions", "Outputs"} {
		check(section, tpl.doc[section])
	}
	for id, r := range resources {
		check(id, r)
		if c := str(get(r, "Condition")); c != "" {
			used[c] = true
			if _, ok := conditions[c]; !ok {
				t.Errorf("%s has condition %q, which is not defined", id, c)
			}
		}
	}
	for id, o := range tpl.section("Outputs") {
		if c := str(get(o, "Condition")); c != "" {
			used[c] = true
			if _, ok := conditions[c]; !ok {
				t.Errorf("output %s has condition %q, which is not defined", id, c)
			}
		}
	}
	for _, name := range sortedKeys(params) {
		if !used[name] {
			t.Errorf("parameter %s is never used", name)
		}
	}
	for _, name := range sortedKeys(conditions) {
		if !used[name] {
			t.Errorf("condition %s is never used", name)
		}
	}
}

func TestTemplate_ParametersAndOutputs(t *testing.T) {
	tpl := typed(t)
	for _, p := range []string{"TaskclusterRootUrl", "TaskclusterCredentialsSecretArn", "ClientsJson", "AuthMode", "PulseUrl", "EmailSender", "WebhookConcurrency", "DecisionRetention", "HistoryMaxPerHook", "OutcomePollInterval"} {
		if _, ok := tpl.Parameters[p]; !ok {
			t.Errorf("parameter %s is missing", p)
		}
	}
	for name, want := range map[string]string{
		"HooksTableName":   "HooksTable",
		"TriggerQueueUrl":  "TriggerQueue",
		"ChangesQueueUrl":  "ChangesQueue",
		"TriggerDLQUrl":    "TriggerDLQ",
		"BridgePolicyArn":  "BridgePolicy",
		"RedrivePolicyArn": "RedrivePolicy",
	} {
		value := plain(tpl.Outputs[name].Value)
		if id, attr, ok := ref(value); !ok || id != want || attr != "" {
			t.Errorf("output %s = %v, want !Ref %s", name, value, want)
		}
	}
	if sub := str(get(plain(tpl.Outputs["ApiUrl"].Value), "Fn::Sub")); !strings.HasPrefix(sub, "https://${HttpApi}.execute-api.") {
		t.Errorf("output ApiUrl = %v, want the HttpApi's execute-api URL", plain(tpl.Outputs["ApiUrl"].Value))
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	return m
}
