package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/service"
)

// fileChecker checks hook files offline, with the checks of `hookline
// validate --hook`: the definition as createHook checks it (schema,
// cron entries, triggerSchema, exchange denylist, the task template's
// JSON-e), the settings against the settings schema and as the settings
// API checks them, then a pre-check of a sample fire, whose findings are
// warnings.
type fileChecker struct {
	reg      *schemas.Registry
	denylist []string
	checker  *hooks.Checker
}

// newFileChecker builds the checks with the options every entry point
// gives the domain (service.HooksOptions) and no roles: offline, the
// scopes of a hook's role are not known.
func newFileChecker(reg *schemas.Registry, denylist []string) (*fileChecker, error) {
	if _, err := hooks.NewDenylist(denylist); err != nil {
		return nil, err
	}
	opts := service.HooksOptions(config.Config{Denylist: denylist})
	return &fileChecker{reg: reg, denylist: denylist, checker: hooks.NewChecker(reg, opts)}, nil
}

// placeholderSecret stands in for a secret while settings are checked
// offline: it passes every check a real secret must pass.
const placeholderSecret = "placeholder-secret-0123456789abcdef"

// check returns the problems of one file: errors, then pre-check warnings
// when there is no error.
func (c *fileChecker) check(ctx context.Context, f *hookFile) []problem {
	var problems []problem
	add := func(line int, warning bool, msg string) {
		problems = append(problems, problem{File: f.path, Line: line, Message: msg, Warning: warning})
	}
	var settings hooks.Settings
	if f.settings != nil {
		doc := fillSecrets(f, func(secretRef) string { return placeholderSecret })
		if err := c.reg.Validate(schemas.HookSettings, doc); err != nil {
			var ve *schemas.ValidationError
			if !errors.As(err, &ve) {
				add(f.lineOf(settingsKey), false, "settings: "+err.Error())
			} else {
				for _, p := range ve.Problems {
					add(f.locate([]any{settingsKey}, [][]any{schemaProblemPath(p)}), false, "settings: "+p)
				}
			}
		} else if err := decodeInto(doc, &settings); err != nil {
			add(f.lineOf(settingsKey), false, "settings: "+err.Error())
		} else if err := hooks.ValidateSettings(settings); err != nil {
			msg := err.Error()
			var he *hooks.Error
			if errors.As(err, &he) {
				msg = he.Message
			}
			add(f.locate([]any{settingsKey}, [][]any{messagePath(msg)}), false, "settings: "+msg)
		}
	}
	if len(problems) > 0 {
		settings = hooks.Settings{} // invalid: the pre-check goes without them
	}
	defProblems, rep, err := precheckHook(ctx, c.reg, c.denylist, c.checker, f.hookGroupID, f.hookID, f.definition, settings, c.sample(f))
	for _, p := range defProblems {
		add(f.locate(nil, definitionProblemPaths(p)), false, p)
	}
	if len(problems) > 0 {
		return problems
	}
	if err != nil {
		add(f.lineOf("task"), false, "pre-check: "+err.Error())
		return problems
	}
	for _, w := range keptWarnings(rep.Warnings) {
		add(f.locate(nil, warningPaths(w)), true, "pre-check: "+w.Message)
	}
	return problems
}

// sample is the fire a file's hook is pre-checked with: a scheduled fire
// for a hook with a schedule, otherwise a triggerHook call with {}.
func (c *fileChecker) sample(f *hookFile) hooks.CheckInput {
	var def struct {
		Schedule []string `json:"schedule"`
	}
	_ = json.Unmarshal(f.definition, &def)
	if len(def.Schedule) > 0 {
		return hooks.CheckInput{FiredBy: hooks.FiredBySchedule}
	}
	return hooks.CheckInput{FiredBy: hooks.FiredByTriggerHook, Payload: map[string]any{}}
}

// keptWarnings drops what the sample cannot tell: roles are not known
// offline, and when the hook's triggerSchema refuses the sample payload
// {} the rest of the report says nothing about the template.
func keptWarnings(ws []hooks.CheckWarning) []hooks.CheckWarning {
	sampleRefused := slices.ContainsFunc(ws, func(w hooks.CheckWarning) bool { return w.Code == hooks.WarnPayloadSchema })
	var out []hooks.CheckWarning
	for _, w := range ws {
		switch {
		case w.Code == hooks.WarnRolesUnknown:
		case sampleRefused && w.Code != hooks.WarnNoSchedule && w.Code != hooks.WarnPaused:
		default:
			out = append(out, w)
		}
	}
	return out
}

// fillSecrets returns a copy of the file's settings with each secret
// reference replaced by value(ref).
func fillSecrets(f *hookFile, value func(secretRef) string) map[string]any {
	doc, _ := decodeJSON(canonicalJSON(f.settings)).(map[string]any)
	for _, ref := range f.secrets {
		var node any = doc
		for _, step := range ref.slot.at[:len(ref.slot.at)-1] {
			switch k := step.(type) {
			case string:
				m, _ := node.(map[string]any)
				node = m[k]
			case int:
				if items, _ := node.([]any); k < len(items) {
					node = items[k]
				}
			}
		}
		parent, _ := node.(map[string]any)
		if parent == nil {
			continue
		}
		name := ref.slot.at[len(ref.slot.at)-1].(string)
		if !ref.slot.field.list {
			parent[name] = value(ref)
			continue
		}
		if list, _ := parent[name].([]any); ref.index < len(list) {
			list[ref.index] = value(ref)
		}
	}
	return doc
}

func decodeInto(doc any, out any) error {
	return json.Unmarshal(canonicalJSON(doc), out)
}

// warningPaths lists where a pre-check warning may point in a file.
func warningPaths(w hooks.CheckWarning) [][]any {
	switch w.Code {
	case hooks.WarnNoSchedule:
		return [][]any{{"schedule"}}
	case hooks.WarnFiltered:
		return [][]any{{settingsKey, "filters"}}
	case hooks.WarnPayloadSchema:
		return [][]any{{"triggerSchema"}}
	case hooks.WarnTaskSchema:
		// "the queue would refuse the task: priority: ..." names a
		// property of the rendered task, which the template often has.
		if _, rest, ok := strings.Cut(w.Message, "the task: "); ok {
			return [][]any{append([]any{"task"}, schemaProblemPath(rest)...), {"task"}}
		}
	}
	return [][]any{{"task"}}
}

var jsonePathRE = regexp.MustCompile(`at template((?:\.[A-Za-z_][A-Za-z0-9_]*|\["(?:[^"\\]|\\.)*"\]|\[\d+\])*)`)
var jsonePathStepRE = regexp.MustCompile(`\.([A-Za-z_][A-Za-z0-9_]*)|\["((?:[^"\\]|\\.)*)"\]|\[(\d+)\]`)

// definitionProblemPaths lists where in a definition a problem of
// parseDefinition may be, best guess first: a template location ("task
// template: SyntaxError at template.payload.x: ..."), a schema path
// ("metadata.owner: ..."), or the property a createHook check names.
func definitionProblemPaths(msg string) [][]any {
	if rest, ok := strings.CutPrefix(msg, "task template: "); ok {
		path := []any{"task"}
		if m := jsonePathRE.FindStringSubmatch(rest); m != nil {
			for _, s := range jsonePathStepRE.FindAllStringSubmatch(m[1], -1) {
				switch {
				case s[1] != "":
					path = append(path, s[1])
				case s[3] != "":
					i, _ := strconv.Atoi(s[3])
					path = append(path, i)
				default:
					var key string
					if json.Unmarshal([]byte(`"`+s[2]+`"`), &key) == nil {
						path = append(path, key)
					}
				}
			}
		}
		return [][]any{path}
	}
	return [][]any{schemaProblemPath(msg), messagePath(msg)}
}

// locate is the line of the first candidate path (below prefix) whose
// first step the file has; the line of prefix when none fits.
func (f *hookFile) locate(prefix []any, candidates [][]any) int {
	for _, c := range candidates {
		if len(c) == 0 {
			continue
		}
		full := append(append([]any{}, prefix...), c...)
		if _, depth := f.find(full...); depth > len(prefix) {
			return f.lineOf(full...)
		}
	}
	return f.lineOf(prefix...)
}

var additionalPropertyRE = regexp.MustCompile(`Additional property (\S+) is not allowed`)

// schemaProblemPath reads the field path of a schema problem, as
// schemas.ValidationError words them ("schedule.0: ...").
func schemaProblemPath(msg string) []any {
	field, rest, ok := strings.Cut(msg, ": ")
	if !ok || strings.ContainsAny(field, " \n") {
		return nil
	}
	var path []any
	if field != "body" && field != "(root)" {
		for _, s := range strings.Split(field, ".") {
			if i, err := strconv.Atoi(s); err == nil {
				path = append(path, i)
			} else {
				path = append(path, s)
			}
		}
	}
	// An unknown property is best shown where it is written.
	if m := additionalPropertyRE.FindStringSubmatch(rest); m != nil {
		path = append(path, m[1])
	}
	return path
}

var indexedNameRE = regexp.MustCompile(`\b([A-Za-z]+(?:\.[A-Za-z]+)*)\[(\d+)\]`)

// messagePath guesses the property a domain message is about: the first
// indexed name it mentions ("filters[1] ..."), else a property it names.
func messagePath(msg string) []any {
	if m := indexedNameRE.FindStringSubmatch(msg); m != nil {
		var path []any
		for _, s := range strings.Split(m[1], ".") {
			path = append(path, s)
		}
		i, _ := strconv.Atoi(m[2])
		return append(path, i)
	}
	lower := strings.ToLower(msg)
	for _, p := range []struct{ word, key string }{
		{"triggerschema", "triggerSchema"}, {"schedule", "schedule"}, {"cron", "schedule"},
		{"exchange", "bindings"}, {"binding", "bindings"}, {"webhook", "webhook"}, {"filter", "filters"},
		{"paused", "paused"}, {"metadata", "metadata"},
	} {
		if strings.Contains(lower, p.word) {
			return []any{p.key}
		}
	}
	return nil
}

// describeCount is "1 hook" or "3 hooks".
func describeCount(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
