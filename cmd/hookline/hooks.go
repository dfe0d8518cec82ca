package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooksclient"
)

// Exit statuses of `hookline hooks diff` (and apply --dry-run), so CI can
// gate on them.
const (
	hooksNoChange = 0
	hooksError    = 1
	hooksChanges  = 2
)

const hooksUsage = `usage: hookline hooks <verb> [flags] DIR

  export [--group G]... [--prefix P]... [--format yaml|json] [--with-pauses] DIR
        write the live hooks (all, some groups, or under prefixes) into DIR,
        one file per hook: DIR/<hookGroupId>/<hookId>.yaml
  diff [--prune PREFIX]... [--json] [--no-secrets] DIR
        check every file offline, then show what apply would create, update
        and (under --prune prefixes) delete; exit 0: no change, 2: changes, 1: error
  apply [--prune PREFIX]... [--dry-run] [--yes] [--force] [--json] DIR
        make the deployment match DIR; asks first on a terminal unless --yes

The deployment and credentials: TASKCLUSTER_ROOT_URL, TASKCLUSTER_CLIENT_ID,
TASKCLUSTER_ACCESS_TOKEN, TASKCLUSTER_CERTIFICATE (see README, "Hooks in a repository").
`

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// hooksEnv is what every verb needs: the client, the schemas and the
// settings the offline checks use.
type hooksEnv struct {
	cfg    config.ClientConfig
	client *hooksclient.Client
	reg    *schemas.Registry
	getenv func(string) string
}

func newHooksEnv(getenv func(string) string) (*hooksEnv, error) {
	cfg, err := config.LoadClient(getenv)
	if err != nil {
		return nil, err
	}
	creds := auth.Credentials{ClientID: cfg.ClientID, AccessToken: cfg.AccessToken, Certificate: cfg.Certificate}
	client, err := hooksclient.New(cfg.RootURL, creds, nil)
	if err != nil {
		return nil, err
	}
	reg, err := schemas.New()
	if err != nil {
		return nil, err
	}
	return &hooksEnv{cfg: cfg, client: client, reg: reg, getenv: getenv}, nil
}

func (e *hooksEnv) reader(ctx context.Context) (*liveReader, error) {
	hookline, err := e.client.HasHooklineAPI(ctx)
	if err != nil {
		return nil, err
	}
	return &liveReader{client: e.client, reg: e.reg, hookline: hookline, parallel: 8}, nil
}

// runHooks is `hookline hooks <verb>`.
func runHooks(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, hooksUsage)
		return hooksError
	}
	switch args[0] {
	case "export":
		return runHooksExport(ctx, args[1:], stdout, stderr, getenv)
	case "diff":
		return runHooksPlan(ctx, "diff", args[1:], stdin, stdout, stderr, getenv)
	case "apply":
		return runHooksPlan(ctx, "apply", args[1:], stdin, stdout, stderr, getenv)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, hooksUsage)
		return 0
	}
	fmt.Fprintf(stderr, "hookline hooks: unknown verb %q\n%s", args[0], hooksUsage)
	return hooksError
}

// parseInterspersed parses flags that may come after the directory too.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

func runHooksPlan(ctx context.Context, verb string, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("hookline hooks "+verb, flag.ContinueOnError)
	fs.SetOutput(stderr)
	var prune multiFlag
	fs.Var(&prune, "prune", "delete live hooks under this <hookGroupId>/<hookId> prefix that no file declares (repeatable); every file must be under one")
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	noSecrets := fs.Bool("no-secrets", false, "diff only: compare without the secrets whose variables are not set (they are reported)")
	dryRun, yes, force := new(bool), new(bool), new(bool)
	if verb == "apply" {
		fs.BoolVar(dryRun, "dry-run", false, "show the plan and change nothing (as diff)")
		fs.BoolVar(yes, "yes", false, "apply without asking, even on a terminal")
		fs.BoolVar(force, "force", false, "overwrite hooks changed by someone else since the plan was made")
	}
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return hooksError
	}
	if len(rest) != 1 {
		fmt.Fprint(stderr, hooksUsage)
		return hooksError
	}
	if *noSecrets && verb == "apply" && !*dryRun {
		fmt.Fprintln(stderr, "hookline hooks apply: --no-secrets only goes with --dry-run: apply sends the secrets")
		return hooksError
	}
	for _, p := range prune {
		if p == "" {
			fmt.Fprintln(stderr, "hookline hooks: --prune needs a prefix such as myteam/ (every hook of a group) or myteam/nightly-")
			return hooksError
		}
	}
	dir := rest[0]
	fail := func(err error) int {
		fmt.Fprintf(stderr, "hookline hooks %s: %v\n", verb, err)
		return hooksError
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return fail(fmt.Errorf("%s is not a directory of hook files", dir))
	}
	env, err := newHooksEnv(getenv)
	if err != nil {
		return fail(err)
	}

	// Offline first: every file is read and checked before the
	// deployment is asked anything.
	files, problems := readHookDir(dir)
	checker, err := newFileChecker(env.reg, env.cfg.Denylist)
	if err != nil {
		return fail(err)
	}
	var warnings []problem
	for _, f := range files {
		for _, p := range checker.check(ctx, f) {
			if p.Warning {
				warnings = append(warnings, p)
			} else {
				problems = append(problems, p)
			}
		}
	}
	if !*noSecrets {
		problems = append(problems, unsetSecrets(files, getenv)...)
	}
	if len(problems) > 0 {
		return reportProblems(stdout, stderr, *asJSON, problems, warnings, verb)
	}

	r, err := env.reader(ctx)
	if err != nil {
		return fail(err)
	}
	p, problems, err := makePlan(ctx, r, files, planOptions{prune: hookScope(prune), getenv: getenv})
	if err != nil {
		return fail(err)
	}
	if len(problems) > 0 {
		return reportProblems(stdout, stderr, *asJSON, problems, warnings, verb)
	}
	p.Warnings = append(append([]problem{}, warnings...), p.Warnings...)

	if verb == "diff" || *dryRun {
		if err := writePlan(stdout, p, *asJSON); err != nil {
			return fail(err)
		}
		if len(p.Changes) > 0 {
			return hooksChanges
		}
		return hooksNoChange
	}

	if len(p.Changes) == 0 {
		if err := writePlan(stdout, p, *asJSON); err != nil {
			return fail(err)
		}
		return 0
	}
	if !*yes && isTerminal(stdin) {
		if err := writePlan(stdout, p, false); err != nil {
			return fail(err)
		}
		fmt.Fprintf(stdout, "Apply these %s to %s? Type yes to go on: ", describeCount(len(p.Changes), "change"), p.RootURL)
		answer, _ := bufio.NewReader(stdin).ReadString('\n')
		if strings.TrimSpace(answer) != "yes" {
			fmt.Fprintln(stdout, "Nothing was changed.")
			return hooksError
		}
	}
	res := applyPlan(ctx, r, p, applyOptions{force: *force})
	if *asJSON {
		if err := writeJSON(stdout, struct {
			Plan *plan `json:"plan"`
			*applyResult
		}{p, res}); err != nil {
			return fail(err)
		}
	} else {
		res.print(stdout, p)
	}
	if res.Error != "" {
		return hooksError
	}
	return 0
}

// reportProblems prints what is wrong with the files; nothing is applied.
func reportProblems(stdout, stderr io.Writer, asJSON bool, problems, warnings []problem, verb string) int {
	if asJSON {
		_ = writeJSON(stdout, map[string]any{"errors": problems, "warnings": append([]problem{}, warnings...)})
	}
	for _, p := range append(problems, warnings...) {
		fmt.Fprintln(stderr, p)
	}
	what := "nothing was compared"
	if verb == "apply" {
		what = "nothing was applied"
	}
	fmt.Fprintf(stderr, "hookline hooks %s: %s in the files: %s\n", verb, describeCount(len(problems), "error"), what)
	return hooksError
}

func writePlan(w io.Writer, p *plan, asJSON bool) error {
	if asJSON {
		return writeJSON(w, p)
	}
	for _, warn := range p.Warnings {
		fmt.Fprintln(w, warn)
	}
	var b strings.Builder
	printPlan(&b, p, true)
	_, err := io.WriteString(w, b.String())
	return err
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// isTerminal reports whether r is a terminal, where apply asks first.
func isTerminal(r io.Reader) bool {
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

var errConflict = errors.New("changed by someone else since the plan was made")
