package archtest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/hookline/hookline/shared/testutil"
)

const module = "github.com/hookline/hookline/"

// The layers of docs/architecture.md, by package path below the module.
// A package matches the longest prefix listed.
var layers = map[string]string{
	"functions/": "entry", // the Lambda functions
	"cmd/":       "entry", // hookline, bridge

	"shared/service": "builder",

	"shared/hooks": "domain",

	"shared/httpapi":                "adapter",
	"shared/console":                "adapter",
	"shared/lambdahttp":             "adapter",
	"shared/pulse":                  "adapter",
	"shared/queue":                  "adapter",
	"shared/notify":                 "adapter",
	"shared/store/dynamo":           "adapter",
	"shared/store/embedded":         "adapter",
	"shared/boltcommit":             "adapter",
	"shared/taskcluster":            "adapter",
	"shared/taskcluster/localqueue": "adapter",
	"shared/taskcluster/tcnotify":   "adapter",
	"shared/auth":                   "adapter",
	"shared/awsenv":                 "adapter",
	"shared/hooksclient":            "adapter",
	"shared/secrets":                "adapter",

	"shared/store":    "foundation",
	"shared/cron":     "foundation",
	"shared/jsone":    "foundation",
	"shared/jsontext": "foundation",
	"shared/slugid":   "foundation",
	"shared/config":   "foundation",
	"schemas":         "foundation",

	"shared/service/servicetest":     "testing",
	"shared/store/storetest":         "testing",
	"shared/store/dynamo/dynamotest": "testing",
	"shared/queue/sqstest":           "testing",
	"shared/secrets/secretstest":     "testing",
	"shared/testutil":                "testing",
	// Imported by the tools beside it: a tool may not import a tool.
	"infra/servechild": "testing",

	"infra/": "tooling", // repository checks and the image builder
}

// pkg is what `go list -json` says of a package of the module.
type pkg struct {
	ImportPath string
	Imports    []string
	Deps       []string
}

func (p pkg) rel() string { return strings.TrimPrefix(p.ImportPath, module) }

func layerOf(rel string) string {
	best := ""
	for prefix := range layers {
		if (rel == prefix || strings.HasPrefix(rel, strings.TrimSuffix(prefix, "/")+"/")) && len(prefix) > len(best) {
			best = prefix
		}
	}
	return layers[best]
}

// graph lists the module's packages with their imports and dependencies,
// test files left out: the rule is about what the programs link.
func graph(t *testing.T) map[string]pkg {
	t.Helper()
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = testutil.RepoRoot(t)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	pkgs := map[string]pkg{}
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p pkg
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		pkgs[p.rel()] = p
	}
	if len(pkgs) == 0 {
		t.Fatal("go list found no packages")
	}
	return pkgs
}

// ours lists the module's packages among paths, relative.
func ours(paths []string) []string {
	var out []string
	for _, p := range paths {
		if rel, ok := strings.CutPrefix(p, module); ok {
			out = append(out, rel)
		}
	}
	return out
}

func TestEveryPackageHasALayer(t *testing.T) {
	for rel := range graph(t) {
		if layerOf(rel) == "" {
			t.Errorf("%s has no layer: give it one in docs/architecture.md and in this test", rel)
		}
	}
}

// The import rule, arrow by arrow (docs/architecture.md).
func TestImportRule(t *testing.T) {
	pkgs := graph(t)
	// may says which layers a layer may import directly.
	may := map[string][]string{
		"entry":      {"builder", "domain", "adapter", "foundation"},
		"builder":    {"domain", "adapter", "foundation"},
		"adapter":    {"domain", "adapter", "foundation"},
		"domain":     {"foundation"},
		"foundation": {"foundation"},
		"testing":    {"builder", "domain", "adapter", "foundation", "testing"},
		"tooling":    {"adapter", "foundation", "testing"},
	}
	names := make([]string, 0, len(pkgs))
	for rel := range pkgs {
		names = append(names, rel)
	}
	sort.Strings(names)
	for _, rel := range names {
		from := layerOf(rel)
		for _, imp := range ours(pkgs[rel].Imports) {
			to := layerOf(imp)
			if !slices.Contains(may[from], to) {
				t.Errorf("%s (%s) imports %s (%s): the %s layer may import only %v", rel, from, imp, to, from, may[from])
			}
		}
	}
}

// What each program links: the domain no adapter or outside client, and
// each Lambda function only what it uses.
func TestLinkedPackages(t *testing.T) {
	pkgs := graph(t)
	forbidden := func(rel string, why string, prefixes ...string) {
		t.Helper()
		p, ok := pkgs[rel]
		if !ok {
			t.Fatalf("no package %s", rel)
		}
		for _, dep := range p.Deps {
			for _, f := range prefixes {
				if dep == f || strings.HasPrefix(dep, f+"/") {
					t.Errorf("%s links %s: %s", rel, dep, why)
				}
			}
		}
	}
	const (
		aws      = "github.com/aws"
		amqp     = "github.com/rabbitmq/amqp091-go"
		bbolt    = "go.etcd.io/bbolt"
		prom     = "github.com/prometheus"
		httptest = "net/http/httptest"
		router   = module + "shared/httpapi"
		console  = module + "shared/console"
		sqs      = "github.com/aws/aws-sdk-go-v2/service/sqs"
		ses      = "github.com/aws/aws-sdk-go-v2/service/sesv2"
		secretsm = "github.com/aws/aws-sdk-go-v2/service/secretsmanager"
		config   = "github.com/aws/aws-sdk-go-v2/config"
	)
	forbidden("shared/hooks", "the domain knows nothing of AWS, AMQP, bbolt or the Taskcluster client", aws, amqp, bbolt, prom, module+"shared/taskcluster", module+"shared/auth", module+"shared/service")
	for _, fn := range []string{"functions/api", "functions/webhook", "functions/scheduler", "functions/trigger"} {
		forbidden(fn, "a Lambda function keeps no state on disk, reads no Pulse and runs no test code", bbolt, amqp, prom, httptest, config)
	}
	forbidden("functions/scheduler", "the scheduler serves no HTTP and announces no change", router, console, sqs)
	forbidden("functions/trigger", "the trigger function serves no HTTP, sends no message and no email", router, console, sqs, ses)
	forbidden("functions/webhook", "the webhook function serves no console, changes no hook and sends no email", console, sqs, ses)
	forbidden("functions/api", "only the scheduler sends email", ses)
	forbidden("shared/service", "the builder links no optional client: each main adds what it uses", router, console, amqp, bbolt, sqs, ses, secretsm, config)

	// Schedules are computed in IANA time zones: every program that
	// computes them embeds the zone database, so none depends on the
	// files of the image it runs in (provided.al2023 has none).
	for _, prog := range []string{"functions/api", "functions/webhook", "functions/scheduler", "functions/trigger", "cmd/hookline"} {
		if !slices.Contains(pkgs[prog].Deps, "time/tzdata") {
			t.Errorf("%s does not embed time/tzdata: a hook's time zone would depend on the runtime image", prog)
		}
	}

	// The domain makes no HTTP call of its own: of its dependencies, only
	// gojsonschema imports net/http (to fetch remote $refs, which
	// schemas.CompileUser refuses).
	cmd := exec.Command("go", "list", "-deps", "-f", `{{.ImportPath}} {{join .Imports " "}}`, "./shared/hooks")
	cmd.Dir = testutil.RepoRoot(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		if len(fields) == 0 || strings.HasPrefix(fields[0], "net/http") || fields[0] == "github.com/xeipuuv/gojsonschema" {
			continue
		}
		if slices.Contains(fields[1:], "net/http") {
			t.Errorf("%s, a dependency of shared/hooks, imports net/http", fields[0])
		}
	}
}
