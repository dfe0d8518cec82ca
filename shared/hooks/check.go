package hooks

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/cron"
	"github.com/hookline/hookline/shared/jsontext"
)

// Checking a hook definition: plain functions, with no store and no
// service, used by Definitions on every create and update and by
// `hookline validate` offline.

// DefaultDenylist forbids binding hooks to exchanges that could make a
// hook fire itself in a loop: the queue's task-created exchange and the
// hooks service's own exchanges. Each entry is a regular expression matched
// at the start of the exchange name, as upstream does.
func DefaultDenylist() []string {
	return []string{
		"exchange/taskcluster-queue/v1/task-created",
		"exchange/taskcluster-hooks/.*",
	}
}

// Denylist is a compiled exchange denylist.
type Denylist struct {
	patterns []*regexp.Regexp
}

// NewDenylist compiles patterns, each matched at the start of an exchange
// name; nil means DefaultDenylist. It fails if a pattern is not a valid
// regular expression.
func NewDenylist(patterns []string) (*Denylist, error) {
	if patterns == nil {
		patterns = DefaultDenylist()
	}
	d := &Denylist{}
	for _, p := range patterns {
		re, err := regexp.Compile("^(?:" + p + ")")
		if err != nil {
			return nil, fmt.Errorf("hooks: denylist entry %q: %w", p, err)
		}
		d.patterns = append(d.patterns, re)
	}
	return d, nil
}

// check refuses bindings on a denied exchange, listing them as upstream
// does.
func (d *Denylist) check(bindings []Binding) error {
	var denied []Binding
	for _, b := range bindings {
		for _, re := range d.patterns {
			if re.MatchString(b.Exchange) {
				denied = append(denied, b)
				break
			}
		}
	}
	if len(denied) == 0 {
		return nil
	}
	list, _ := json.MarshalIndent(denied, "", "  ")
	return invalid("One or more of the exchanges below have been denied access to hooks\n%s", list)
}

// DecodeInput turns a createHook/updateHook body, already validated
// against create-hook-request.json and given its defaults, into an Input.
func DecodeInput(body map[string]any) (Input, error) {
	var in Input
	data, err := json.Marshal(body)
	if err != nil {
		return in, fmt.Errorf("hooks: re-encode hook definition: %w", err)
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return in, fmt.Errorf("hooks: decode hook definition: %w", err)
	}
	return in, nil
}

// ValidateInput makes every check createHook makes before storing a
// definition: each cron entry parses, the triggerSchema is a JSON schema,
// and no binding is on a denied exchange. It returns an ErrInvalid *Error
// with upstream's message for the first problem found.
func ValidateInput(in Input, deny *Denylist) error {
	_, err := checkInput(in, deny)
	return err
}

// checkInput is ValidateInput, returning the parsed schedule.
func checkInput(in Input, deny *Denylist) ([]*cron.Schedule, error) {
	if err := checkNesting(in); err != nil {
		return nil, err
	}
	scheds, err := parseSchedule(in.Schedule)
	if err != nil {
		return nil, err
	}
	if err := checkTriggerSchema(in.TriggerSchema); err != nil {
		return nil, err
	}
	if in.Bindings != nil {
		if err := deny.check(*in.Bindings); err != nil {
			return nil, err
		}
	}
	return scheds, nil
}

// checkNesting refuses a task template nested deeper than JSON-e
// renders: such a hook can never fire, and a hook must be readable back by
// every JSON reader it meets. (checkTriggerSchema bounds the
// triggerSchema's nesting, lower.)
func checkNesting(in Input) error {
	if jsontext.NestingExceeds(in.Task, maxTemplateDepth) {
		return invalid("the task template nests deeper than %d levels, the most JSON-e renders; flatten it", maxTemplateDepth)
	}
	return nil
}

// checkIDs refuses a body whose ids differ from the URL's.
func checkIDs(hookGroupID, hookID string, in Input) error {
	if in.HookGroupID != "" && in.HookGroupID != hookGroupID {
		return invalid("Hook Group Ids do not match")
	}
	if in.HookID != "" && in.HookID != hookID {
		return invalid("Hook Ids do not match")
	}
	return nil
}

func parseSchedule(entries []string) ([]*cron.Schedule, error) {
	scheds, err := cron.ParseAll(entries)
	if err != nil {
		return nil, &Error{Kind: ErrInvalid, Message: err.Error()}
	}
	return scheds, nil
}

func checkTriggerSchema(raw json.RawMessage) error {
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		return invalid("triggerSchema must be a JSON object")
	}
	if _, err := schemas.CompileUser(schema); err != nil {
		return invalid("triggerSchema is not a valid JSON schema:\n * %s", strings.ReplaceAll(err.Error(), "\n", "\n * "))
	}
	if err := schemas.CheckRefCycles(schema); err != nil {
		return invalid("triggerSchema cannot be used: %s", err)
	}
	return nil
}

func definitionFrom(hookGroupID, hookID string, bindings []Binding, in Input) Definition {
	schedule := in.Schedule
	if schedule == nil {
		schedule = []string{}
	}
	return Definition{
		HookGroupID:   hookGroupID,
		HookID:        hookID,
		Bindings:      bindings,
		Metadata:      in.Metadata,
		Task:          in.Task,
		Schedule:      schedule,
		TriggerSchema: in.TriggerSchema,
	}
}
