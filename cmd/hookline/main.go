// Command hookline runs Hookline on one machine and offers offline tools.
//
//	hookline serve                       the whole service with an embedded store
//	hookline validate FILE               check a hook definition offline
//	hookline validate --hook FILE ...    and pre-check a sample fire
//	hookline redrive [flags]             move failed Pulse fires back for another attempt
//	hookline render --template F --context F   preview a JSON-e render
//	hookline hooks export|diff|apply DIR  keep hooks in a repository (any hooks API)
//	hookline work --provisioner P --worker-type W   run tasks of the local queue
//	hookline version
package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // hooks are scheduled in IANA zones: the database is embedded, not read from the machine
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		usage(stderr)
		return 2
	}
	switch args[0] {
	case "serve":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		if err := serve(ctx, getenv, stdout, stderr); err != nil {
			fmt.Fprintln(stderr, "hookline serve:", err)
			return 1
		}
		return 0
	case "validate":
		return runValidate(args[1:], stdin, stdout, stderr, getenv)
	case "redrive":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return runRedrive(ctx, args[1:], stdout, stderr, getenv)
	case "hooks":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return runHooks(ctx, args[1:], stdin, stdout, stderr, getenv)
	case "render":
		return runRender(args[1:], stdout, stderr, time.Now)
	case "work":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return runWork(ctx, args[1:], stdout, stderr, getenv)
	case "version", "--version":
		fmt.Fprintln(stdout, "hookline", version)
		return 0
	case "help", "-h", "--help":
		usage(stdout)
		return 0
	}
	fmt.Fprintf(stderr, "hookline: unknown command %q\n", args[0])
	usage(stderr)
	return 2
}

func usage(w io.Writer) {
	fmt.Fprint(w, `usage: hookline <command> [arguments]

commands:
  serve                                     run the service locally (settings from HOOKLINE_* variables; see README)
  validate FILE                             check a hook definition (create-hook-request JSON; - for stdin)
  validate --hook FILE [--payload FILE]     also pre-check a sample fire: render, task schema, next schedule
           [--fired-by KIND] [--hook-id G/H]   times, missing scopes (exit 3 when it has warnings)
  render --template FILE --context FILE     render a JSON-e template and print the result
  redrive [--from URL] [--to URL] [--max N] move failed Pulse fires from the trigger DLQ back to the trigger
          [--hook G/H | --hook-group G]       queue (defaults: HOOKLINE_TRIGGER_DLQ_URL, HOOKLINE_TRIGGER_QUEUE_URL)
          [--dry-run]
  hooks export|diff|apply [flags] DIR       keep hooks as files: export a deployment's hooks, diff them
                                            with the files, apply the files (TASKCLUSTER_ROOT_URL and
                                            credentials; see hookline hooks help)
  work --provisioner P --worker-type W      claim tasks from the queue (serve's by default), run each
       [--root-url URL] [--once]            task's payload.command and report how it ended
  version                                   print the version
`)
}
