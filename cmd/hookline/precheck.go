package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/service"
)

// Exit statuses of `hookline validate --hook`.
const (
	precheckClean    = 0 // the sample fire would create its task
	precheckInvalid  = 1 // the definition itself is invalid
	precheckUsage    = 2
	precheckWarnings = 3 // the definition is valid, but the sample fire has warnings
)

// runPrecheck is `hookline validate --hook FILE [--payload FILE]`: the
// definition checks of validate, then the pre-check of
// POST .../check for a sample fire, printed as the same JSON report. Roles
// come from service.TaskRoles: the auth service of TASKCLUSTER_ROOT_URL, or the
// roles of HOOKLINE_CLIENTS / HOOKLINE_CLIENTS_FILE, as `hookline serve`'s
// local queue enforces them; otherwise the report says they are unknown,
// which is not counted as a warning.
func runPrecheck(args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("hookline validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	hookFile := fs.String("hook", "", "hook definition (create-hook-request JSON)")
	payloadFile := fs.String("payload", "", "sample payload JSON (default {})")
	firedBy := fs.String("fired-by", hooks.FiredByTriggerHook, "schedule, triggerHook, triggerHookWithToken or pulseMessage")
	hookID := fs.String("hook-id", "local/hook", "GROUP/HOOK the definition is for: its role is hook-id:GROUP/HOOK")
	settingsFile := fs.String("settings", "", "the hook's settings (hook-settings JSON, as GET .../settings answers): filters and schedule")
	if err := fs.Parse(args); err != nil {
		return precheckUsage
	}
	group, id, ok := strings.Cut(*hookID, "/")
	if *hookFile == "" || fs.NArg() > 0 || !ok || group == "" || id == "" {
		fmt.Fprintln(stderr, "usage: hookline validate --hook FILE [--payload FILE] [--settings FILE] [--fired-by KIND] [--hook-id GROUP/HOOK]")
		return precheckUsage
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "hookline validate:", err)
		return precheckUsage
	}
	data, err := os.ReadFile(*hookFile)
	if err != nil {
		return fail(err)
	}
	var payload any = map[string]any{}
	if *payloadFile != "" {
		raw, err := os.ReadFile(*payloadFile)
		if err != nil {
			return fail(err)
		}
		if err := json.Unmarshal(raw, &payload); err != nil {
			return fail(fmt.Errorf("%s is not JSON: %w", *payloadFile, err))
		}
	}
	cfg, err := config.Load(getenv)
	if err != nil {
		return fail(err)
	}
	reg, err := schemas.New()
	if err != nil {
		return fail(err)
	}
	var settings hooks.Settings
	if *settingsFile != "" {
		if settings, err = readSettings(reg, *settingsFile); err != nil {
			return fail(err)
		}
	}
	checker, err := service.NewChecker(cfg)
	if err != nil {
		return fail(err)
	}
	problems, rep, err := precheckHook(context.Background(), reg, cfg.Denylist, checker, group, id, data, settings, hooks.CheckInput{FiredBy: *firedBy, Payload: payload})
	if len(problems) > 0 {
		fmt.Fprintf(stdout, "%s: invalid hook definition:\n", *hookFile)
		for _, p := range problems {
			fmt.Fprintf(stdout, "  - %s\n", p)
		}
		return precheckInvalid
	}
	if err != nil {
		return fail(err)
	}
	out, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		return fail(err)
	}
	fmt.Fprintln(stdout, string(out))
	for _, w := range rep.Warnings {
		if w.Code != hooks.WarnRolesUnknown {
			return precheckWarnings
		}
	}
	return precheckClean
}

// readSettings reads a settings document as PUT .../settings takes it (a
// GET reply with its read-only parts is fine) and checks it as the
// service would.
func readSettings(reg *schemas.Registry, path string) (hooks.Settings, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return hooks.Settings{}, err
	}
	var doc map[string]any
	if err := json.Unmarshal(raw, &doc); err != nil {
		return hooks.Settings{}, fmt.Errorf("%s is not a JSON object: %w", path, err)
	}
	if err := reg.Validate(schemas.HookSettings, doc); err != nil {
		return hooks.Settings{}, fmt.Errorf("%s: %w", path, err)
	}
	var st hooks.Settings
	if err := json.Unmarshal(raw, &st); err != nil {
		return hooks.Settings{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := hooks.ValidateSettings(st); err != nil {
		return hooks.Settings{}, fmt.Errorf("%s: %w", path, err)
	}
	return st, nil
}

// precheckHook is what `hookline validate --hook` checks, and `hookline
// hooks diff` for every file: the definition (a create-hook-request
// document) as validate checks it, then, when it is valid, a pre-check of
// the sample fire with the hook's settings. problems says why the
// definition is invalid; the report's warnings are what the sample fire
// would trip on.
func precheckHook(ctx context.Context, reg *schemas.Registry, denylist []string, checker *hooks.Checker, hookGroupID, hookID string,
	data []byte, settings hooks.Settings, sample hooks.CheckInput) (problems []string, rep hooks.CheckReport, err error) {
	in, problems := parseDefinition(reg, denylist, data)
	if len(problems) > 0 {
		return problems, hooks.CheckReport{}, nil
	}
	def := hooks.Definition{HookGroupID: hookGroupID, HookID: hookID, Metadata: in.Metadata, Task: in.Task, Schedule: in.Schedule, TriggerSchema: in.TriggerSchema}
	rep, err = checker.CheckDefinition(ctx, def, settings, nil, sample)
	return nil, rep, err
}
