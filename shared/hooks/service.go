package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/slugid"
	"github.com/hookline/hookline/shared/store"
)

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
	// Queue creates the tasks hooks fire. Required for firing. When it
	// also reads task statuses (TaskStatusReader), listLastFires shows
	// task states and a retried fire asks whether its task exists.
	Queue TaskCreator
	// Mailer sends failure emails of scheduled hooks; nil sends none.
	Mailer Mailer
	// DecisionRetention is how long the decision log keeps a decision:
	// 0 means DefaultDecisionRetention, a negative value turns the log off
	// (fire records for listLastFires are still written).
	DecisionRetention time.Duration
	// Roles expands the roles of the deployment whose queue creates the
	// tasks, so a pre-check can name the scopes a hook's role lacks; nil
	// means they are not known and the pre-check says so.
	Roles ScopeExpander
	// ScopeRules says which scopes createTask requires; nil means a
	// pre-check reports no scopes.
	ScopeRules ScopeRules
	// Events hears hook events (events.go); nil means the service's own
	// notification dispatcher (Service.Notifications).
	Events EventSink
	// HistoryMax caps each hook's fire records and decisions (history.go);
	// 0 means DefaultHistoryMax.
	HistoryMax int
	// OutcomePollInterval is how long after a fire, and how often after,
	// the poller reads the status of a task whose outcome is not known
	// yet (outcomes.go); 0 means DefaultOutcomePollInterval, a negative
	// value follows no outcome.
	OutcomePollInterval time.Duration
	// Notify configures notification delivery (notifications.go).
	Notify NotifyOptions
}

// withDefaults fills in the zero fields. DecisionRetention comes out
// positive, or negative when the log is off.
func (o Options) withDefaults() Options {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.NewID == nil {
		o.NewID = slugid.New
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Denylist == nil {
		o.Denylist = DefaultDenylist()
	}
	if o.HistoryMax <= 0 {
		o.HistoryMax = DefaultHistoryMax
	}
	if o.OutcomePollInterval == 0 {
		o.OutcomePollInterval = DefaultOutcomePollInterval
	}
	o.Notify = o.Notify.withDefaults()
	switch {
	case o.DecisionRetention == 0:
		o.DecisionRetention = DefaultDecisionRetention
	case o.DecisionRetention < 0:
		o.DecisionRetention = -1
	}
	return o
}

// Service is the hooks domain: one part per capability, built by
// NewService around one store and one fire pipeline (doc.go says how they
// fit). Each caller takes the part it serves.
type Service struct {
	// Definitions creates, reads, changes and removes hooks.
	Definitions *Definitions
	// Firing fires hooks for API and token triggers and reports their
	// fires.
	Firing *Firing
	// Scheduler fires the scheduled hooks that are due.
	Scheduler *Scheduler
	// Intake fires hooks for Pulse messages and signed webhook deliveries.
	Intake *Intake
	// Operations pauses hooks, keeps their settings, lists and replays
	// their decisions and pre-checks them.
	Operations *Operations
	// Outcomes learns how the tasks fires created ended.
	Outcomes *Outcomes
	// Notifications sends hook events to the targets of the hooks'
	// notify settings.
	Notifications *Notifications
	// Schemas is the registry the service validates with.
	Schemas *schemas.Registry

	options Options
}

// NewService builds a Service over st. It fails only if a denylist entry
// is not a valid regular expression.
func NewService(st store.Store, reg *schemas.Registry, opts Options) (*Service, error) {
	opts = opts.withDefaults()
	deny, err := NewDenylist(opts.Denylist)
	if err != nil {
		return nil, err
	}
	c := &core{store: st, now: opts.Now, newID: opts.NewID, log: opts.Logger, events: opts.Events}
	notifications := &Notifications{core: c, mailer: opts.Mailer, opts: opts.Notify}
	if c.events == nil {
		c.events = notifications
	}
	p := newPipeline(c, opts)
	return &Service{
		Definitions:   &Definitions{core: c, denylist: deny, notifier: opts.Notifier},
		Firing:        &Firing{pipeline: p},
		Scheduler:     &Scheduler{pipeline: p, mailer: opts.Mailer},
		Intake:        &Intake{pipeline: p, signatures: newSignatureCounter()},
		Operations:    &Operations{pipeline: p, checker: newChecker(p.renderer, &c.plans, reg, opts)},
		Outcomes:      &Outcomes{pipeline: p},
		Notifications: notifications,
		Schemas:       reg,
		options:       opts,
	}, nil
}

// Options returns the options the service was built with, defaults
// filled in (DecisionRetention is negative when the log is off). Every
// entry point builds its service from the same config, and tests compare
// these.
func (s *Service) Options() Options { return s.options }

// core is what every part of the service shares: the store, the clock,
// the id source and the logger, and the reads they all make.
type core struct {
	store store.Store
	now   func() time.Time
	newID func() string
	log   *slog.Logger
	// plans caches compiled schedules by content (plan.go).
	plans compiledCache[*plan]
	// events hears hook events; nil means nobody.
	events EventSink
}

// hookErr maps a store error about a hook into the domain's: a missing
// hook is ErrNotFound, anything else is wrapped as it is.
func (c *core) hookErr(hookGroupID, hookID string, err error) error {
	if errors.Is(err, store.ErrNotFound) {
		return notFound("No such hook", err)
	}
	return fmt.Errorf("hooks: %s/%s: %w", hookGroupID, hookID, err)
}

// loadHook reads a hook's record.
func (c *core) loadHook(ctx context.Context, hookGroupID, hookID string) (store.Hook, error) {
	rec, err := c.store.GetHook(ctx, hookGroupID, hookID)
	if err != nil {
		return store.Hook{}, c.hookErr(hookGroupID, hookID, err)
	}
	return rec, nil
}

// loadDefinition reads a hook's definition.
func (c *core) loadDefinition(ctx context.Context, hookGroupID, hookID string) (Definition, error) {
	rec, err := c.loadHook(ctx, hookGroupID, hookID)
	if err != nil {
		return Definition{}, err
	}
	return decodeDefinition(rec.Definition)
}

// loadSettings reads a hook's settings and the record's version (0 when
// there is none).
func (c *core) loadSettings(ctx context.Context, hookGroupID, hookID string) (Settings, int64, error) {
	rec, err := c.store.GetSettings(ctx, hookGroupID, hookID)
	if errors.Is(err, store.ErrNotFound) {
		return Settings{}, 0, nil
	}
	if err != nil {
		return Settings{}, 0, fmt.Errorf("hooks: read settings of %s/%s: %w", hookGroupID, hookID, err)
	}
	var st Settings
	if err := json.Unmarshal(rec.Body, &st); err != nil {
		return Settings{}, 0, fmt.Errorf("hooks: decode settings of %s/%s: %w", hookGroupID, hookID, err)
	}
	return st, rec.Version, nil
}
