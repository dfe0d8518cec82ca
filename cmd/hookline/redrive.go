package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/queue"
)

// redriveSummary is the JSON line `hookline redrive` prints.
type redriveSummary struct {
	From    string         `json:"from"`
	To      string         `json:"to"`
	DryRun  bool           `json:"dryRun"`
	Moved   int            `json:"moved"`
	Skipped int            `json:"skipped"`
	Failed  int            `json:"failed"`
	ByHook  map[string]int `json:"byHook"`
	Errors  []string       `json:"errors,omitempty"`
}

// runRedrive is `hookline redrive`: it moves Pulse fires that failed five
// times (the trigger queue's dead-letter queue) back to the trigger queue
// for another attempt. It exits 1 when anything failed to move.
func runRedrive(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("hookline redrive", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the dead-letter queue URL (default $HOOKLINE_TRIGGER_DLQ_URL, the stack output TriggerDLQUrl)")
	to := fs.String("to", "", "the trigger queue URL (default $HOOKLINE_TRIGGER_QUEUE_URL, the stack output TriggerQueueUrl)")
	maxMoves := fs.Int("max", queue.DefaultRedriveMax, "the most messages to move")
	hook := fs.String("hook", "", "move only the messages of this hook (GROUP/HOOK)")
	group := fs.String("hook-group", "", "move only the messages of this hook group")
	dryRun := fs.Bool("dry-run", false, "count what would move; move nothing")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(code int, err error) int {
		fmt.Fprintln(stderr, "hookline redrive:", err)
		return code
	}
	if fs.NArg() > 0 || *maxMoves < 1 || (*hook != "" && *group != "") {
		return fail(2, errors.New("usage: hookline redrive [--from URL] [--to URL] [--max N] [--hook GROUP/HOOK | --hook-group GROUP] [--dry-run]"))
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return fail(2, err)
	}
	if *from == "" {
		*from = cfg.Pulse.TriggerDLQURL
	}
	if *to == "" {
		*to = cfg.Pulse.TriggerQueueURL
	}
	if *from == "" || *to == "" {
		return fail(2, errors.New("set --from or HOOKLINE_TRIGGER_DLQ_URL, and --to or HOOKLINE_TRIGGER_QUEUE_URL (the stack outputs TriggerDLQUrl and TriggerQueueUrl). "+
			"`hookline serve` has no dead-letter queue: a Pulse message it cannot fire stays on RabbitMQ and is delivered again"))
	}
	// The operator's AWS configuration: profile, region, credentials, and
	// AWS_ENDPOINT_URL_SQS for tests.
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return fail(2, fmt.Errorf("load aws config: %w", err))
	}
	rep, err := queue.Redrive(ctx, sqs.NewFromConfig(awsCfg), queue.RedriveOptions{
		From: *from, To: *to, Max: *maxMoves, DryRun: *dryRun, Select: selectPulse(*hook, *group),
	})
	sum := redriveSummary{From: *from, To: *to, DryRun: *dryRun, Moved: rep.Moved, Skipped: rep.Skipped, Failed: rep.Failed, ByHook: rep.ByLabel, Errors: rep.Errors}
	if sum.ByHook == nil {
		sum.ByHook = map[string]int{}
	}
	if err != nil {
		sum.Errors = append(sum.Errors, err.Error())
	}
	line, _ := json.Marshal(sum)
	fmt.Fprintln(stdout, string(line))
	verb := "moved"
	if *dryRun {
		verb = "would move"
	}
	fmt.Fprintf(stderr, "hookline redrive: %s %d message(s); %d left in place by the filter, %d failed\n", verb, sum.Moved, sum.Skipped, sum.Failed)
	if err != nil || sum.Failed > 0 {
		return 1
	}
	return 0
}

// selectPulse picks the trigger-queue messages of one hook or hook group
// (all when both are empty), labelled by hook. A body that is not a Pulse
// message is left where it is.
func selectPulse(hook, group string) func([]byte) (string, bool) {
	return func(body []byte) (string, bool) {
		msg, err := hooks.ParsePulseMessage(body)
		if err != nil {
			return "(not a Pulse message)", false
		}
		label := msg.HookGroupID + "/" + msg.HookID
		switch {
		case hook != "":
			return label, label == hook
		case group != "":
			return label, msg.HookGroupID == group
		}
		return label, true
	}
}
