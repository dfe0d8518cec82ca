package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline/schemas"
)

// CheckInput is a sample fire to check a hook against.
type CheckInput struct {
	// FiredBy is the kind of fire to imagine; "" means triggerHook.
	FiredBy string
	// Payload is the sample payload (ignored for schedules).
	Payload any
	// ClientID is triggerHook's caller in the template context.
	ClientID string
	// Filters, when not nil, are evaluated instead of the hook's stored
	// filters, to try a filter before saving it.
	Filters []string
}

// The codes of pre-check warnings: stable, for scripts to match on.
const (
	WarnPaused        = "paused"
	WarnPayloadSchema = "payload-schema"
	WarnFiltered      = "filtered"
	WarnRenderError   = "render-error"
	WarnDeclined      = "declined"
	WarnTaskSchema    = "task-schema"
	WarnMissingScopes = "missing-scopes"
	WarnRolesUnknown  = "roles-unknown"
	WarnNoSchedule    = "no-schedule"
	// WarnNotify: a notify target cannot be sent from this deployment,
	// or needs scopes of Hookline's own client (NotifyScopes).
	WarnNotify = "notify"
)

// CheckWarning is one thing that would keep a fire from creating the task
// its owner expects.
type CheckWarning struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// CheckReport is what a pre-check found. Nothing is created or stored.
type CheckReport struct {
	FiredBy string `json:"firedBy"`
	// Task is the task the sample would create, with upstream's defaults,
	// when the template rendered one.
	Task json.RawMessage `json:"task,omitempty"`
	// NextScheduledDates are the hook's next five fire times (pauses
	// aside).
	NextScheduledDates []time.Time `json:"nextScheduledDates"`
	// Schedule lists the next five fires and the slots skipped among them,
	// as GET .../schedule does; absent for a hook without a schedule.
	Schedule *ScheduleListing `json:"schedule,omitempty"`
	// RequiredScopes is the scope expression createTask needs for Task;
	// MissingScopes what of it the role hook-id:<g>/<h> does not hold
	// (absent when it holds all, or when roles are unknown).
	RequiredScopes json.RawMessage `json:"requiredScopes,omitempty"`
	MissingScopes  json.RawMessage `json:"missingScopes,omitempty"`
	// Warnings are the problems found, in the order a fire meets them.
	Warnings []CheckWarning `json:"warnings"`
	// NotifyScopes are the scopes Hookline's own Taskcluster client needs
	// for the hook's taskcluster-* notify targets.
	NotifyScopes []string `json:"notifyScopes,omitempty"`
}

func (r *CheckReport) warn(code, format string, args ...any) {
	r.Warnings = append(r.Warnings, CheckWarning{Code: code, Message: fmt.Sprintf(format, args...)})
}

// MaxTaskBytes is the largest task definition a Taskcluster queue takes
// (lib-api's 10 MB body limit; the local queue of `hookline serve` applies
// it too).
const MaxTaskBytes = 10 << 20

// nextDatesShown is how many schedule times a pre-check lists.
const nextDatesShown = 5

// CheckHook pre-checks a stored hook with its settings and any pause in
// force. A missing hook is a not-found error; everything a fire would trip
// on is a warning in the report.
func (o *Operations) CheckHook(ctx context.Context, hookGroupID, hookID string, in CheckInput) (CheckReport, error) {
	def, err := o.loadDefinition(ctx, hookGroupID, hookID)
	if err != nil {
		return CheckReport{}, err
	}
	g, err := o.loadGates(ctx, hookGroupID, hookID)
	if err != nil {
		return CheckReport{}, err
	}
	if in.Filters != nil {
		if err := checkFilters(in.Filters); err != nil {
			return CheckReport{}, err
		}
		g.settings.Filters = in.Filters
	}
	return o.checker.CheckDefinition(ctx, def, g.settings, g.pause, in)
}

// Checker pre-checks hook definitions: what a fire of a sample would do,
// without firing it. It needs no store or queue, so `hookline validate
// --hook` uses one offline; Operations.CheckHook uses the service's.
type Checker struct {
	*renderer
	// plans caches compiled schedules (Operations shares its core's).
	plans   *compiledCache[*plan]
	schemas *schemas.Registry
	now     func() time.Time
	newID   func() string
	roles   ScopeExpander
	rules   ScopeRules
	// notifyDeployment is true when a Taskcluster deployment's notify
	// service sends notifications.
	notifyDeployment bool
}

// NewChecker returns a Checker validating with reg; of opts it uses Now,
// NewID, Roles and ScopeRules.
func NewChecker(reg *schemas.Registry, opts Options) *Checker {
	return newChecker(&renderer{}, &compiledCache[*plan]{}, reg, opts.withDefaults())
}

func newChecker(r *renderer, plans *compiledCache[*plan], reg *schemas.Registry, opts Options) *Checker {
	return &Checker{renderer: r, plans: plans, schemas: reg, now: opts.Now, newID: opts.NewID, roles: opts.Roles, rules: opts.ScopeRules,
		notifyDeployment: opts.Notify.Taskcluster != nil || opts.Notify.Deployment}
}

// CheckDefinition pre-checks a hook definition offline: it renders the
// template for the sample as a fire would (pause, triggerSchema, filters,
// JSON-e, upstream's defaults), validates the task against the queue's
// createTask schema, lists the next schedule times and compares the scopes
// the task needs with what the hook's role holds.
func (c *Checker) CheckDefinition(ctx context.Context, def Definition, settings Settings, pause *PauseState, in CheckInput) (CheckReport, error) {
	if in.FiredBy == "" {
		in.FiredBy = FiredByTriggerHook
	}
	if !slices.Contains([]string{FiredBySchedule, FiredByTriggerHook, FiredByTriggerHookWithToken, FiredByPulseMessage}, in.FiredBy) {
		return CheckReport{}, invalid("firedBy %q is not one of schedule, triggerHook, triggerHookWithToken, pulseMessage", in.FiredBy)
	}
	now := c.now()
	rep := CheckReport{FiredBy: in.FiredBy, NextScheduledDates: []time.Time{}, Warnings: []CheckWarning{}}
	firstSlot, err := c.nextDates(def, settings.Schedule, pause, now, &rep)
	if err != nil {
		return CheckReport{}, err
	}
	if pause != nil {
		rep.warn(WarnPaused, "every fire is refused now: %s", strings.TrimPrefix(pausedError(def, pause).Error(), "no task was created: "))
	}
	c.checkNotify(settings, &rep)

	req := FireRequest{FiredBy: in.FiredBy, ClientID: in.ClientID}
	if in.FiredBy != FiredBySchedule {
		req.Payload = in.Payload
		if err := c.checkPayload(def, in.Payload, in.FiredBy != FiredByPulseMessage); err != nil {
			var he *Error
			if !errors.As(err, &he) {
				return CheckReport{}, err
			}
			rep.warn(WarnPayloadSchema, "the payload would be rejected: %s", he.Message)
		}
	}
	created := now
	if in.FiredBy == FiredBySchedule && !firstSlot.IsZero() {
		created = firstSlot
	}
	taskID := c.newID()
	fireCtx := fireContext(req, taskID, created)
	if v := c.evaluateFilters(settings.Filters, fireCtx, created); !v.pass {
		if v.err != nil {
			rep.warn(WarnFiltered, "the filter %s could not be evaluated, so the hook would not fire: %s", v.filter, v.err)
		} else {
			rep.warn(WarnFiltered, "the filter %s is false, so the hook would not fire", v.filter)
		}
	}
	task, declined, err := c.render(def, fireCtx, taskID, created, time.Time{})
	switch {
	case err != nil:
		rep.warn(WarnRenderError, "the task template does not render: %s", err)
		return rep, nil
	case declined:
		rep.warn(WarnDeclined, "the task template renders to null for this sample: no task would be created")
		return rep, nil
	}
	rep.Task = task
	if err := c.checkTask(ctx, def, task, &rep); err != nil {
		return CheckReport{}, err
	}
	return rep, nil
}

// nextDates fills the next fire times and the schedule listing, warns
// about schedules that never fire again, and returns the first slot (the
// template's now for a scheduled sample).
func (c *Checker) nextDates(def Definition, st *ScheduleSettings, pause *PauseState, now time.Time, rep *CheckReport) (time.Time, error) {
	if err := checkSchedule(st); err != nil {
		return time.Time{}, err
	}
	p, err := c.plans.get(planKey(def, st), func() (*plan, error) { return compilePlan(def.Schedule, st) })
	if err != nil {
		return time.Time{}, invalid("the schedule does not compile: %s", err)
	}
	if !p.scheduled() {
		return time.Time{}, nil
	}
	after := now.Add(time.Nanosecond) // slots strictly after now, as the scheduler takes them
	listing := p.list(def.HookGroupID, def.HookID, after, nextDatesShown, pause)
	rep.Schedule = &listing
	upcoming := listing
	if pause != nil {
		upcoming = p.list(def.HookGroupID, def.HookID, after, nextDatesShown, nil)
	}
	for _, f := range upcoming.Fires {
		rep.NextScheduledDates = append(rep.NextScheduledDates, f.FireAt.UTC())
	}
	if len(upcoming.Fires) == 0 {
		rep.warn(WarnNoSchedule, "the schedule %q has no future time", scheduleSummary(def, st))
		return time.Time{}, nil
	}
	return upcoming.Fires[0].Slot, nil
}

// scheduleSummary names a hook's schedule in a warning.
func scheduleSummary(def Definition, st *ScheduleSettings) []string {
	out := append([]string{}, def.Schedule...)
	if st != nil {
		out = append(out, st.Cron...)
		for _, a := range st.At {
			out = append(out, "at "+a)
		}
	}
	return out
}

// checkTask validates the rendered task against the queue's createTask
// schema and compares the scopes it needs with the hook's role.
func (c *Checker) checkTask(ctx context.Context, def Definition, task json.RawMessage, rep *CheckReport) error {
	if len(task) > MaxTaskBytes {
		rep.warn(WarnTaskSchema, "the queue would refuse the task: it is %d bytes, over the %d MB a queue accepts", len(task), MaxTaskBytes>>20)
		return nil
	}
	var doc map[string]any
	if err := json.Unmarshal(task, &doc); err != nil {
		return fmt.Errorf("hooks: decode rendered task: %w", err)
	}
	if err := c.schemas.Validate(schemas.QueueCreateTaskRequest, doc); err != nil {
		var ve *schemas.ValidationError
		if !errors.As(err, &ve) {
			return err
		}
		for _, p := range ve.Problems {
			rep.warn(WarnTaskSchema, "the queue would refuse the task: %s", p)
		}
		if more := ve.MoreLine(); more != "" {
			rep.warn(WarnTaskSchema, "the queue would refuse the task: %s problems", more)
		}
		return nil
	}
	if c.rules == nil {
		return nil
	}
	c.schemas.ApplyDefaults(schemas.QueueCreateTaskRequest, doc)
	role := "assume:hook-id:" + def.HookGroupID + "/" + def.HookID
	var held []string
	var rolesErr error
	if c.roles != nil {
		held, rolesErr = c.roles.ExpandScopes(ctx, []string{role})
	}
	required, missing := c.rules.CreateTaskScopes(doc, held)
	rep.RequiredScopes = required
	switch {
	case c.roles == nil:
		rep.warn(WarnRolesUnknown, "roles are not known here, so the scopes of %s were not checked", role)
	case rolesErr != nil:
		rep.warn(WarnRolesUnknown, "the scopes of %s could not be expanded: %s", role, rolesErr)
	case missing != nil:
		rep.MissingScopes = missing
		rep.warn(WarnMissingScopes, "the queue would refuse the task (403 InsufficientScopes): the role %s lacks %s", role, missing)
	}
	return nil
}
