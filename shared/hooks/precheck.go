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
	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/cron"
	"github.com/hookline/hookline/shared/taskcluster"
)

// ScopeExpander expands roles in a set of scopes, as Taskcluster's auth
// service does. The pre-check uses it to tell which scopes a hook's role
// lacks; without one, it says the roles are unknown.
type ScopeExpander interface {
	ExpandScopes(ctx context.Context, scopes []string) ([]string, error)
}

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
	// NextScheduledDates are the hook's next five schedule times.
	NextScheduledDates []time.Time `json:"nextScheduledDates"`
	// RequiredScopes is the scope expression createTask needs for Task;
	// MissingScopes what of it the role hook-id:<g>/<h> does not hold
	// (absent when it holds all, or when roles are unknown).
	RequiredScopes *auth.Expr `json:"requiredScopes,omitempty"`
	MissingScopes  *auth.Expr `json:"missingScopes,omitempty"`
	// Warnings are the problems found, in the order a fire meets them.
	Warnings []CheckWarning `json:"warnings"`
}

func (r *CheckReport) warn(code, format string, args ...any) {
	r.Warnings = append(r.Warnings, CheckWarning{Code: code, Message: fmt.Sprintf(format, args...)})
}

// nextDatesShown is how many schedule times a pre-check lists.
const nextDatesShown = 5

// CheckHook pre-checks a stored hook with its settings and any pause in
// force. roles may be nil. A missing hook is a not-found error; everything
// a fire would trip on is a warning in the report.
func (s *Service) CheckHook(ctx context.Context, hookGroupID, hookID string, in CheckInput, roles ScopeExpander) (CheckReport, error) {
	def, err := s.GetHook(ctx, hookGroupID, hookID)
	if err != nil {
		return CheckReport{}, err
	}
	g, err := s.loadGates(ctx, hookGroupID, hookID)
	if err != nil {
		return CheckReport{}, err
	}
	if in.Filters != nil {
		if err := checkFilters(in.Filters); err != nil {
			return CheckReport{}, err
		}
		g.settings.Filters = in.Filters
	}
	return s.CheckDefinition(ctx, def, g.settings, g.pause, in, roles)
}

// CheckDefinition pre-checks a hook definition offline: it renders the
// template for the sample as a fire would (pause, triggerSchema, filters,
// JSON-e, upstream's defaults), validates the task against the queue's
// createTask schema, lists the next schedule times and compares the scopes
// the task needs with what the hook's role holds.
func (s *Service) CheckDefinition(ctx context.Context, def Definition, settings Settings, pause *PauseState, in CheckInput, roles ScopeExpander) (CheckReport, error) {
	if in.FiredBy == "" {
		in.FiredBy = FiredByTriggerHook
	}
	if !slices.Contains([]string{FiredBySchedule, FiredByTriggerHook, FiredByTriggerHookWithToken, FiredByPulseMessage}, in.FiredBy) {
		return CheckReport{}, invalid("firedBy %q is not one of schedule, triggerHook, triggerHookWithToken, pulseMessage", in.FiredBy)
	}
	now := s.now()
	rep := CheckReport{FiredBy: in.FiredBy, NextScheduledDates: []time.Time{}, Warnings: []CheckWarning{}}
	if err := s.nextDates(def, now, &rep); err != nil {
		return CheckReport{}, err
	}
	if pause != nil {
		rep.warn(WarnPaused, "every fire is refused now: %s", strings.TrimPrefix(pausedError(def, pause).Error(), "no task was created: "))
	}

	req := FireRequest{FiredBy: in.FiredBy, ClientID: in.ClientID}
	if in.FiredBy != FiredBySchedule {
		req.Payload = in.Payload
		if err := s.CheckPayload(def, in.Payload, in.FiredBy != FiredByPulseMessage); err != nil {
			var he *Error
			if !errors.As(err, &he) {
				return CheckReport{}, err
			}
			rep.warn(WarnPayloadSchema, "the payload would be rejected: %s", he.Message)
		}
	}
	created := now
	if in.FiredBy == FiredBySchedule && len(rep.NextScheduledDates) > 0 {
		created = rep.NextScheduledDates[0]
	}
	taskID := s.newID()
	fireCtx := s.fireContext(req, taskID, created)
	if v := s.evaluateFilters(settings.Filters, fireCtx, created); !v.pass {
		if v.err != nil {
			rep.warn(WarnFiltered, "the filter %s could not be evaluated, so the hook would not fire: %s", v.filter, v.err)
		} else {
			rep.warn(WarnFiltered, "the filter %s is false, so the hook would not fire", v.filter)
		}
	}
	task, declined, err := s.render(def, fireCtx, taskID, created)
	switch {
	case err != nil:
		rep.warn(WarnRenderError, "the task template does not render: %s", err)
		return rep, nil
	case declined:
		rep.warn(WarnDeclined, "the task template renders to null for this sample: no task would be created")
		return rep, nil
	}
	rep.Task = task
	if err := s.checkTask(ctx, def, task, roles, &rep); err != nil {
		return CheckReport{}, err
	}
	return rep, nil
}

// nextDates fills the next schedule times, and warns about schedules that
// never fire.
func (s *Service) nextDates(def Definition, now time.Time, rep *CheckReport) error {
	if len(def.Schedule) == 0 {
		return nil
	}
	scheds, err := cron.ParseAll(def.Schedule)
	if err != nil {
		return invalid("the schedule does not parse: %s", err)
	}
	for t := now; len(rep.NextScheduledDates) < nextDatesShown; {
		if t = nextDate(scheds, t); t.IsZero() {
			break
		}
		rep.NextScheduledDates = append(rep.NextScheduledDates, t.UTC())
	}
	if len(rep.NextScheduledDates) == 0 {
		rep.warn(WarnNoSchedule, "the schedule %q has no future time", def.Schedule)
	}
	return nil
}

// checkTask validates the rendered task against the queue's createTask
// schema and compares the scopes it needs with the hook's role.
func (s *Service) checkTask(ctx context.Context, def Definition, task json.RawMessage, roles ScopeExpander, rep *CheckReport) error {
	var doc map[string]any
	if err := json.Unmarshal(task, &doc); err != nil {
		return fmt.Errorf("hooks: decode rendered task: %w", err)
	}
	if err := s.schemas.Validate(schemas.QueueCreateTaskRequest, doc); err != nil {
		var ve *schemas.ValidationError
		if !errors.As(err, &ve) {
			return err
		}
		for _, p := range ve.Problems {
			rep.warn(WarnTaskSchema, "the queue would refuse the task: %s", p)
		}
		return nil
	}
	s.schemas.ApplyDefaults(schemas.QueueCreateTaskRequest, doc)
	required := taskScopes(doc)
	rep.RequiredScopes = &required
	role := "assume:hook-id:" + def.HookGroupID + "/" + def.HookID
	if roles == nil {
		rep.warn(WarnRolesUnknown, "roles are not known here, so the scopes of %s were not checked", role)
		return nil
	}
	held, err := roles.ExpandScopes(ctx, []string{role})
	if err != nil {
		rep.warn(WarnRolesUnknown, "the scopes of %s could not be expanded: %s", role, err)
		return nil
	}
	if required.SatisfiedBy(held) {
		return nil
	}
	missing := required.Missing(held)
	rep.MissingScopes = &missing
	rep.warn(WarnMissingScopes, "the queue would refuse the task (403 InsufficientScopes): the role %s lacks %s", role, missing)
	return nil
}

// taskScopes is createTask's scope expression for a defaulted task.
func taskScopes(doc map[string]any) auth.Expr {
	str := func(k string) string { v, _ := doc[k].(string); return v }
	strs := func(k string) []string {
		var out []string
		items, _ := doc[k].([]any)
		for _, it := range items {
			if v, ok := it.(string); ok {
				out = append(out, v)
			}
		}
		return out
	}
	f := taskcluster.TaskScopeFields{
		Scopes: strs("scopes"), Routes: strs("routes"), ProjectID: str("projectId"), SchedulerID: str("schedulerId"),
		Priority: str("priority"), ProvisionerID: str("provisionerId"), WorkerType: str("workerType"),
	}
	if f.ProvisionerID == "" || f.WorkerType == "" {
		f.ProvisionerID, f.WorkerType, _ = strings.Cut(str("taskQueueId"), "/")
	}
	if f.ProjectID == "" {
		f.ProjectID = "none"
	}
	return taskcluster.CreateTaskScopes(f)
}
