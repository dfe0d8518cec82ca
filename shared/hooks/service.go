package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"time"

	"github.com/xeipuuv/gojsonschema"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/cron"
	"github.com/hookline/hookline/shared/jsone"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/taskcluster"
)

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

// ChangeKind says what happened to a hook.
type ChangeKind string

// The kinds of hook change, named like the Pulse exchanges they become.
const (
	HookCreated ChangeKind = "hook-created"
	HookUpdated ChangeKind = "hook-updated"
	HookDeleted ChangeKind = "hook-deleted"
)

// Change is one hook change, sent to the ChangeNotifier after it is stored.
type Change struct {
	Kind        ChangeKind `json:"kind"`
	HookGroupID string     `json:"hookGroupId"`
	HookID      string     `json:"hookId"`
}

// ChangeNotifier hears about stored hook changes (the Pulse bridge uses them
// to rebind queues and to publish hook-created/updated/deleted). An error is
// returned to the API caller as a 500, as upstream does, although the change
// itself is already stored.
type ChangeNotifier interface {
	HookChanged(ctx context.Context, c Change) error
}

// Options configure a Service; zero fields take defaults.
type Options struct {
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// NewID makes slugids for tokens and taskIds; nil means crypto-random.
	NewID func() string
	// Denylist overrides DefaultDenylist when non-nil.
	Denylist []string
	// Notifier hears about changes; nil means nobody.
	Notifier ChangeNotifier
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Queue creates the tasks hooks fire. Required for firing.
	Queue TaskCreator
	// Mailer sends failure emails of scheduled hooks; nil sends none.
	Mailer Mailer
	// DecisionRetention is how long the decision log keeps a decision:
	// 0 means DefaultDecisionRetention, a negative value turns the log off
	// (fire records for listLastFires are still written).
	DecisionRetention time.Duration
}

// Service implements the hooks API on top of a store.
type Service struct {
	store    store.Store
	schemas  *schemas.Registry
	now      func() time.Time
	newID    func() string
	denylist []*regexp.Regexp
	notifier ChangeNotifier
	log      *slog.Logger
	queue    TaskCreator
	mailer   Mailer
	// decisionRetention is 0 when the decision log is off.
	decisionRetention time.Duration

	schemaCache   compiledCache[*gojsonschema.Schema]
	templateCache compiledCache[*jsone.Template]
	filterCache   compiledCache[*jsone.Expression]
}

// NewService builds a Service. It fails only if a denylist entry is not a
// valid regular expression.
func NewService(st store.Store, reg *schemas.Registry, opts Options) (*Service, error) {
	s := &Service{store: st, schemas: reg, now: opts.Now, newID: opts.NewID, notifier: opts.Notifier, log: opts.Logger, queue: opts.Queue, mailer: opts.Mailer}
	switch {
	case opts.DecisionRetention == 0:
		s.decisionRetention = DefaultDecisionRetention
	case opts.DecisionRetention > 0:
		s.decisionRetention = opts.DecisionRetention
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.newID == nil {
		s.newID = taskcluster.NewSlugID
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	deny := opts.Denylist
	if deny == nil {
		deny = DefaultDenylist()
	}
	for _, d := range deny {
		re, err := regexp.Compile("^(?:" + d + ")")
		if err != nil {
			return nil, fmt.Errorf("hooks: denylist entry %q: %w", d, err)
		}
		s.denylist = append(s.denylist, re)
	}
	return s, nil
}

// Schemas returns the schema registry the service validates with.
func (s *Service) Schemas() *schemas.Registry { return s.schemas }

// CreateHook stores a new hook. Re-creating an identical hook succeeds and
// changes nothing; a different one is a conflict.
func (s *Service) CreateHook(ctx context.Context, hookGroupID, hookID string, in Input) (Definition, error) {
	if err := checkIDs(hookGroupID, hookID, in); err != nil {
		return Definition{}, err
	}
	scheds, err := parseSchedule(in.Schedule)
	if err != nil {
		return Definition{}, err
	}
	if err := s.checkTriggerSchema(in.TriggerSchema); err != nil {
		return Definition{}, err
	}
	bindings := []Binding{}
	if in.Bindings != nil {
		bindings = *in.Bindings
	}
	if err := s.checkDenylist(bindings); err != nil {
		return Definition{}, err
	}
	def := definitionFrom(hookGroupID, hookID, bindings, in)
	data, err := json.Marshal(def)
	if err != nil {
		return Definition{}, fmt.Errorf("hooks: encode definition: %w", err)
	}
	rec := store.Hook{
		HookGroupID:       hookGroupID,
		HookID:            hookID,
		Definition:        data,
		TriggerToken:      s.newID(),
		NextTaskID:        s.newID(),
		NextScheduledDate: nextDate(scheds, s.now()),
	}
	if _, err := s.store.CreateHook(ctx, rec); err != nil {
		if !errors.Is(err, store.ErrConflict) {
			return Definition{}, fmt.Errorf("hooks: create %s/%s: %w", hookGroupID, hookID, err)
		}
		existing, gerr := s.GetHook(ctx, hookGroupID, hookID)
		if gerr != nil {
			return Definition{}, gerr
		}
		if !sameDefinition(existing, def) {
			return Definition{}, conflict(fmt.Sprintf("hook `%s/%s` already exists.", hookGroupID, hookID), err)
		}
		// Identical re-create: succeed without touching the stored hook.
	}
	s.log.InfoContext(ctx, "hook created", "hookGroupId", hookGroupID, "hookId", hookID)
	return def, s.notify(ctx, HookCreated, hookGroupID, hookID)
}

// UpdateHook replaces a hook's definition. Omitted bindings are kept; every
// other field takes the request's value (after schema defaults), as upstream
// does. The next scheduled fire gets a new taskId and is recomputed from now.
func (s *Service) UpdateHook(ctx context.Context, hookGroupID, hookID string, in Input) (Definition, error) {
	if err := checkIDs(hookGroupID, hookID, in); err != nil {
		return Definition{}, err
	}
	if err := s.checkTriggerSchema(in.TriggerSchema); err != nil {
		return Definition{}, err
	}
	scheds, err := parseSchedule(in.Schedule)
	if err != nil {
		return Definition{}, err
	}
	// Optimistic concurrency: a writer that lost a race re-reads and
	// re-applies, so concurrent updates serialize instead of losing one.
	for attempt := 0; ; attempt++ {
		rec, err := s.store.GetHook(ctx, hookGroupID, hookID)
		if err != nil {
			return Definition{}, s.hookErr(hookGroupID, hookID, err)
		}
		current, err := decodeDefinition(rec.Definition)
		if err != nil {
			return Definition{}, err
		}
		bindings := current.Bindings
		if in.Bindings != nil {
			bindings = *in.Bindings
		}
		if err := s.checkDenylist(bindings); err != nil {
			return Definition{}, err
		}
		def := definitionFrom(hookGroupID, hookID, bindings, in)
		if rec.Definition, err = json.Marshal(def); err != nil {
			return Definition{}, fmt.Errorf("hooks: encode definition: %w", err)
		}
		rec.NextTaskID = s.newID()
		rec.NextScheduledDate = nextDate(scheds, s.now())
		_, err = s.store.UpdateHook(ctx, rec)
		if errors.Is(err, store.ErrConflict) && attempt < 4 {
			continue
		}
		if err != nil {
			return Definition{}, s.hookErr(hookGroupID, hookID, err)
		}
		s.log.InfoContext(ctx, "hook updated", "hookGroupId", hookGroupID, "hookId", hookID)
		return def, s.notify(ctx, HookUpdated, hookGroupID, hookID)
	}
}

// RemoveHook deletes a hook. Removing a hook that does not exist succeeds,
// as upstream does, so a retried delete is harmless.
func (s *Service) RemoveHook(ctx context.Context, hookGroupID, hookID string) error {
	err := s.store.DeleteHook(ctx, hookGroupID, hookID, 0)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("hooks: remove %s/%s: %w", hookGroupID, hookID, err)
	}
	s.log.InfoContext(ctx, "hook removed", "hookGroupId", hookGroupID, "hookId", hookID, "existed", err == nil)
	// The fire history goes with the hook even if announcing the removal
	// fails below (upstream keeps it in that case).
	if err := s.store.DeleteLastFires(ctx, hookGroupID, hookID); err != nil {
		return fmt.Errorf("hooks: remove fire history of %s/%s: %w", hookGroupID, hookID, err)
	}
	// So do its decisions: they hold its payloads, and a later hook of the
	// same name must not replay them.
	if err := s.store.DeleteDecisions(ctx, hookGroupID, hookID); err != nil {
		return fmt.Errorf("hooks: remove decision log of %s/%s: %w", hookGroupID, hookID, err)
	}
	// Its settings go too: they hold its webhook secrets, which must not
	// pass to a later hook of the same name.
	if err := s.store.DeleteSettings(ctx, hookGroupID, hookID); err != nil {
		return fmt.Errorf("hooks: remove settings of %s/%s: %w", hookGroupID, hookID, err)
	}
	return s.notify(ctx, HookDeleted, hookGroupID, hookID)
}

// GetHook returns a hook's definition.
func (s *Service) GetHook(ctx context.Context, hookGroupID, hookID string) (Definition, error) {
	rec, err := s.store.GetHook(ctx, hookGroupID, hookID)
	if err != nil {
		return Definition{}, s.hookErr(hookGroupID, hookID, err)
	}
	return decodeDefinition(rec.Definition)
}

// GetHookJSON returns a hook's definition as stored: the JSON the API
// answers, without a decode and re-encode on the hot read path.
func (s *Service) GetHookJSON(ctx context.Context, hookGroupID, hookID string) (json.RawMessage, error) {
	rec, err := s.store.GetHook(ctx, hookGroupID, hookID)
	if err != nil {
		return nil, s.hookErr(hookGroupID, hookID, err)
	}
	return rec.Definition, nil
}

// ListHookGroups returns every group holding at least one hook, sorted.
func (s *Service) ListHookGroups(ctx context.Context) ([]string, error) {
	groups := []string{}
	page := store.Page{}
	for {
		batch, next, err := s.store.ListHookGroups(ctx, page)
		if err != nil {
			return nil, fmt.Errorf("hooks: list groups: %w", err)
		}
		groups = append(groups, batch...)
		if next == "" {
			return groups, nil
		}
		page.Token = next
	}
}

// ListHooks returns every hook of a group, ordered by hookId, as stored
// JSON definitions. A group with no hooks does not exist: that is a
// not-found error, as upstream answers.
func (s *Service) ListHooks(ctx context.Context, hookGroupID string) ([]json.RawMessage, error) {
	var defs []json.RawMessage
	page := store.Page{}
	for {
		batch, next, err := s.store.ListHooks(ctx, hookGroupID, page)
		if err != nil {
			return nil, fmt.Errorf("hooks: list hooks of %s: %w", hookGroupID, err)
		}
		for _, rec := range batch {
			defs = append(defs, rec.Definition)
		}
		if next == "" {
			break
		}
		page.Token = next
	}
	if len(defs) == 0 {
		return nil, notFound("No such group", nil)
	}
	return defs, nil
}

func (s *Service) hookErr(hookGroupID, hookID string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound("No such hook", err)
	}
	return fmt.Errorf("hooks: %s/%s: %w", hookGroupID, hookID, err)
}

func (s *Service) notify(ctx context.Context, kind ChangeKind, hookGroupID, hookID string) error {
	if s.notifier == nil {
		return nil
	}
	if err := s.notifier.HookChanged(ctx, Change{Kind: kind, HookGroupID: hookGroupID, HookID: hookID}); err != nil {
		return fmt.Errorf("hooks: announce %s for %s/%s (the change is stored): %w", kind, hookGroupID, hookID, err)
	}
	return nil
}

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

// nextDate is the next fire time strictly after now, or the zero time for a
// hook without a schedule (upstream stores year 4000 for that; we store
// nothing, so unscheduled hooks stay out of the due index).
func nextDate(scheds []*cron.Schedule, now time.Time) time.Time {
	if len(scheds) == 0 {
		return time.Time{}
	}
	next, ok := cron.NextDate(scheds, now)
	if !ok {
		return time.Time{}
	}
	return next
}

func (s *Service) checkTriggerSchema(raw json.RawMessage) error {
	var schema map[string]any
	if err := json.Unmarshal(raw, &schema); err != nil {
		return invalid("triggerSchema must be a JSON object")
	}
	if _, err := schemas.CompileUser(schema); err != nil {
		return invalid("triggerSchema is not a valid JSON schema:\n * %s", strings.ReplaceAll(err.Error(), "\n", "\n * "))
	}
	return nil
}

func (s *Service) checkDenylist(bindings []Binding) error {
	var denied []Binding
	for _, b := range bindings {
		for _, re := range s.denylist {
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

// CheckInput runs every check CreateHook makes, without storing anything, so
// a definition can be validated offline (`hookline validate`).
func (s *Service) CheckInput(in Input) error {
	if _, err := parseSchedule(in.Schedule); err != nil {
		return err
	}
	if err := s.checkTriggerSchema(in.TriggerSchema); err != nil {
		return err
	}
	if in.Bindings != nil {
		return s.checkDenylist(*in.Bindings)
	}
	return nil
}
