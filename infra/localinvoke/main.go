// Command localinvoke is `sam local invoke` without Docker: it runs one
// function's bootstrap under AWS's Lambda Runtime Interface Emulator (the
// program SAM runs inside its containers), with the function's variables
// from an env-vars file, against a dynalite it starts (and a local
// Taskcluster queue and SQS endpoint it serves), invokes it with each event
// file in turn and prints each response on its own line of stdout. The
// emulator's and the function's logs, and what reached the queue and SQS,
// go to stderr. Everything it started stops when it returns.
//
// `make local-invoke` builds the bootstrap and the emulator and runs it:
//
//	make local-invoke FUNCTION=ApiFunction EVENT=infra/events/api-get-hook.json
//	go run ./infra/localinvoke -function ApiFunction -bootstrap bin/local/ApiFunction/bootstrap \
//	    -emulator bin/aws-lambda-rie -env infra/events/env.json infra/events/api-get-hook.json
//
// The table starts empty; -seed events (SEED= in make) go first to the api
// function, against the same store and queue, to have hooks to work on:
//
//	make local-invoke FUNCTION=TriggerFunction EVENT=infra/events/trigger-batch.json \
//	    SEED=infra/events/api-create-hook.json
//
// Overrides (-set NAME=VALUE, repeatable) win over the env-vars file. The
// store is always a table in the local dynalite, named after HOOKLINE_STORE
// (dynamodb:<table>), unless -set gives another HOOKLINE_STORE. A
// TASKCLUSTER_ROOT_URL or AWS_ENDPOINT_URL_SQS given with -set replaces the
// local queue or SQS endpoint.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
)

// setFlag collects -set NAME=VALUE overrides.
type setFlag map[string]string

func (s setFlag) String() string { return fmt.Sprint(map[string]string(s)) }

func (s setFlag) Set(v string) error {
	name, value, ok := strings.Cut(v, "=")
	if !ok || name == "" {
		return fmt.Errorf("%q is not NAME=VALUE", v)
	}
	s[name] = value
	return nil
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "local-invoke:", err)
		os.Exit(1)
	}
}

// options are the command line's.
type options struct {
	function, bootstrap, emulator, envFile, localDir, template string
	set                                                        map[string]string
	events                                                     []string
	// seeds are events for the api function (seedBootstrap), invoked
	// first against the same store, to have hooks to work on.
	seeds         []string
	seedBootstrap string
}

func parseArgs(args []string, stderr io.Writer) (options, error) {
	o := options{set: map[string]string{}}
	fs := flag.NewFlagSet("localinvoke", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&o.function, "function", "", "logical ID of the function in template.yaml, e.g. ApiFunction (required)")
	fs.StringVar(&o.bootstrap, "bootstrap", "", "the function's bootstrap, built for this machine (required)")
	fs.StringVar(&o.emulator, "emulator", "bin/aws-lambda-rie", "the Runtime Interface Emulator")
	fs.StringVar(&o.envFile, "env", "infra/events/env.json", "env-vars file, as for `sam local invoke --env-vars`: {LogicalId: {NAME: value}}")
	fs.StringVar(&o.template, "template", "template.yaml", "the SAM template, for the function's Timeout")
	fs.StringVar(&o.localDir, "dynalite", "infra/local", "folder whose node_modules holds dynalite (`npm ci` there)")
	fs.Var(setFlag(o.set), "set", "NAME=VALUE overriding the env-vars file (repeatable)")
	fs.Func("seed", "an ApiFunction event invoked before the others, against the same store (repeatable; needs -seed-bootstrap)", func(v string) error {
		o.seeds = append(o.seeds, v)
		return nil
	})
	fs.StringVar(&o.seedBootstrap, "seed-bootstrap", "", "ApiFunction's bootstrap, for -seed")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: localinvoke -function ID -bootstrap FILE [flags] EVENT.json...")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	o.events = fs.Args()
	switch {
	case o.function == "":
		return o, fmt.Errorf("-function is required (ApiFunction, WebhookFunction, SchedulerFunction or TriggerFunction)")
	case o.bootstrap == "":
		return o, fmt.Errorf("-bootstrap is required")
	case len(o.events) == 0:
		return o, fmt.Errorf("name at least one event file (infra/events/*.json)")
	case len(o.seeds) > 0 && o.seedBootstrap == "":
		return o, fmt.Errorf("-seed needs -seed-bootstrap (ApiFunction's bootstrap)")
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseArgs(args, stderr)
	if err != nil {
		return err
	}
	for _, name := range append(slices.Clone(o.seeds), o.events...) {
		if _, err := os.Stat(name); err != nil {
			return fmt.Errorf("event: %w", err)
		}
	}
	env, err := functionEnv(o.envFile, o.function)
	if err != nil {
		return err
	}
	for k, v := range o.set {
		env[k] = v
	}
	logf := func(format string, a ...any) { fmt.Fprintf(stderr, "local-invoke: "+format+"\n", a...) }

	var apiEnv map[string]string
	if len(o.seeds) > 0 {
		if apiEnv, err = functionEnv(o.envFile, seedFunction); err != nil {
			return err
		}
		maps.Copy(apiEnv, o.set)
	}
	l := &local{logf: logf}
	defer l.close()
	if err := l.start(ctx, o, env, apiEnv); err != nil {
		return err
	}
	if len(o.seeds) > 0 {
		maps.Copy(apiEnv, l.shared)
		logf("seeding with %s through %s", strings.Join(o.seeds, ", "), seedFunction)
		if err := invokeAll(ctx, o, seedFunction, o.seedBootstrap, apiEnv, o.seeds, stderr, stderr); err != nil {
			return err
		}
	}
	return invokeAll(ctx, o, o.function, o.bootstrap, env, o.events, stdout, stderr)
}

// seedFunction is the function -seed events go to.
const seedFunction = "ApiFunction"

// invokeAll runs function id under the emulator and invokes it with each
// event file, printing each answer on a line of out.
func invokeAll(ctx context.Context, o options, id, bootstrap string, env map[string]string, files []string, out, stderr io.Writer) error {
	timeout, err := functionTimeout(o.template, id)
	if err != nil {
		return err
	}
	fn, err := startEmulator(ctx, o.emulator, bootstrap, id, timeout, env, stderr)
	if err != nil {
		return err
	}
	defer fn.stop()
	for _, name := range files {
		event, err := os.ReadFile(name)
		if err != nil {
			return fmt.Errorf("event: %w", err)
		}
		status, body, err := fn.invoke(ctx, event)
		if err != nil {
			return fmt.Errorf("invoke %s with %s: %w", id, name, err)
		}
		fmt.Fprintf(out, "%s\n", body)
		if status != 200 {
			return fmt.Errorf("the emulator answered %d for %s: %s did not start (see its log above)", status, name, id)
		}
	}
	return nil
}
