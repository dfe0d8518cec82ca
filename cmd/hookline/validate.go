package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/jsone"
)

// runValidate checks a hook definition offline: the upstream request schema
// (with its defaults), then every check createHook makes (cron entries,
// triggerSchema, exchange denylist). It prints each problem and exits 1 when
// there is any.
func runValidate(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) > 0 && strings.HasPrefix(args[0], "-") && args[0] != "-" {
		return runPrecheck(args, stdout, stderr, getenv)
	}
	if len(args) != 1 {
		fmt.Fprintln(stderr, "usage: hookline validate FILE   (- reads standard input)")
		fmt.Fprintln(stderr, "       hookline validate --hook FILE [--payload FILE] [--settings FILE] [--fired-by KIND] [--hook-id GROUP/HOOK]")
		return 2
	}
	var data []byte
	var err error
	if args[0] == "-" {
		data, err = io.ReadAll(stdin)
	} else {
		data, err = os.ReadFile(args[0])
	}
	if err != nil {
		fmt.Fprintln(stderr, "hookline validate:", err)
		return 2
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		fmt.Fprintln(stderr, "hookline validate:", err)
		return 2
	}
	reg, err := schemas.New()
	if err != nil {
		fmt.Fprintln(stderr, "hookline validate:", err)
		return 1
	}
	problems := validateDefinition(reg, cfg.Denylist, data)
	if len(problems) == 0 {
		fmt.Fprintf(stdout, "%s: valid hook definition\n", args[0])
		return 0
	}
	fmt.Fprintf(stdout, "%s: invalid hook definition:\n", args[0])
	for _, p := range problems {
		fmt.Fprintf(stdout, "  - %s\n", p)
	}
	return 1
}

func validateDefinition(reg *schemas.Registry, denylist []string, data []byte) []string {
	_, problems := parseDefinition(reg, denylist, data)
	return problems
}

// parseDefinition checks a create-hook-request document as validate does
// and returns it as hooks.Input, or the problems found.
func parseDefinition(reg *schemas.Registry, denylist []string, data []byte) (hooks.Input, []string) {
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return hooks.Input{}, []string{"not a JSON object: " + err.Error()}
	}
	if err := reg.Validate(schemas.CreateHookRequest, doc); err != nil {
		var ve *schemas.ValidationError
		if errors.As(err, &ve) {
			if more := ve.MoreLine(); more != "" {
				return hooks.Input{}, append(ve.Problems, more)
			}
			return hooks.Input{}, ve.Problems
		}
		return hooks.Input{}, []string{err.Error()}
	}
	reg.ApplyDefaults(schemas.CreateHookRequest, doc)
	in, err := hooks.DecodeInput(doc)
	if err != nil {
		return hooks.Input{}, []string{err.Error()}
	}
	deny, err := hooks.NewDenylist(denylist)
	if err != nil {
		return hooks.Input{}, []string{err.Error()}
	}
	var problems []string
	if err := hooks.ValidateInput(in, deny); err != nil {
		var he *hooks.Error
		if errors.As(err, &he) {
			problems = append(problems, he.Message)
		} else {
			problems = append(problems, err.Error())
		}
	}
	// The service accepts any task template, as upstream does, and reports
	// JSON-e errors when the hook fires; here they are worth saying now.
	tmpl, err := jsone.Compile(doc["task"])
	if err != nil {
		return in, append(problems, "task template: "+err.Error())
	}
	if err := tmpl.Validate(); err != nil {
		for _, line := range strings.Split(err.Error(), "\n") {
			problems = append(problems, "task template: "+line)
		}
	}
	return in, problems
}
