package store

import (
	"context"
	"encoding/json"
	"errors"
	"time"
)

// ErrNotFound is returned when the requested item does not exist.
var ErrNotFound = errors.New("store: not found")

// ErrConflict is returned when a conditional write is refused: the item
// already exists (create, claim) or changed since it was read (update, delete
// with an expected version). The stored item is left untouched.
var ErrConflict = errors.New("store: conflict")

// Hook is one stored hook: its public definition plus the system fields that
// are never shown to API callers.
type Hook struct {
	HookGroupID string
	HookID      string

	// Definition is the hook definition exactly as the API returns it
	// (hook-definition.json). The store treats it as opaque bytes.
	Definition json.RawMessage

	// TriggerToken is the secret for triggerHookWithToken.
	TriggerToken string
	// NextTaskID is the taskId the next scheduled fire will use.
	NextTaskID string
	// NextScheduledDate is when the next scheduled fire is due, the time
	// the due index (ListDue) holds; the zero time means the hook has no
	// schedule.
	NextScheduledDate time.Time
	// NextSlot is the schedule slot that fire serves when it differs from
	// NextScheduledDate (a jittered fire comes after its slot); the zero
	// time means NextScheduledDate is the slot.
	NextSlot time.Time
	// ScheduleKey is a secret the hook's schedule slots derive their
	// taskIds from, so that every scheduler names a slot's task alike and
	// nobody else can guess it; "" for hooks stored before it existed.
	ScheduleKey string

	// Version is set by the store: 1 after create, incremented by every
	// update. Callers pass the version they read to Update and Delete.
	Version int64
}

// Page asks for one page of a listing. A zero Page asks for the first page
// with the backend's default size.
type Page struct {
	// Limit is the most items to return; 0 means DefaultPageLimit.
	Limit int
	// Token is the continuation token from the previous page, or "".
	Token string
}

// DefaultPageLimit is the page size used when Page.Limit is 0.
const DefaultPageLimit = 1000

// ErrBadToken is returned when a continuation token cannot be decoded.
var ErrBadToken = errors.New("store: invalid continuation token")

// Claim is a small record written once under a unique key. The fire
// protocol uses claims to remember what a fire sent, so a retry re-sends the
// identical request instead of creating a second task; rate limits use them
// with an expiry.
type Claim struct {
	Key  string
	Body []byte
	// CreatedAt is when the claim was first written.
	CreatedAt time.Time
	// ExpiresAt, when not zero, is when the claim stops counting: after it, a
	// new claim under the same key succeeds and replaces it.
	ExpiresAt time.Time
}

// FireWrite is what a fire that created a task stores, when the queue
// commits the task and these records together (hooks.JointTaskCreator,
// the local queue of `hookline serve` in the embedded store's file): the
// fire's claim, when its taskId can come again (created only if no live
// claim holds its key, as CreateClaim; Now judges liveness), its decision,
// when the decision log is on, and its fire record, as PutDecision or
// PutLastFire write them.
type FireWrite struct {
	Claim    *Claim
	Decision *Decision
	Fire     *LastFire
	Now      time.Time
}

// Store is the persistence port. Every method is safe for concurrent use.
// Methods return ErrNotFound, ErrConflict or ErrBadToken (possibly wrapped)
// for the cases their comments name; any other error is a backend failure.
type Store interface {
	// CreateHook stores a new hook with Version 1. It returns ErrConflict,
	// and changes nothing, when a hook with the same ids exists.
	CreateHook(ctx context.Context, h Hook) (Hook, error)
	// GetHook returns the hook or ErrNotFound.
	GetHook(ctx context.Context, hookGroupID, hookID string) (Hook, error)
	// UpdateHook replaces the stored hook if its version is still
	// h.Version and returns it with the new version. It returns ErrNotFound
	// when the hook is gone and ErrConflict when the version differs.
	UpdateHook(ctx context.Context, h Hook) (Hook, error)
	// DeleteHook removes the hook. With version > 0 the delete happens only
	// if the stored version matches (else ErrConflict); with 0 it is
	// unconditional. A missing hook is ErrNotFound.
	DeleteHook(ctx context.Context, hookGroupID, hookID string, version int64) error
	// ListHookGroups returns the ids of groups holding at least one hook,
	// in ascending order, without reading hook bodies.
	ListHookGroups(ctx context.Context, p Page) (groups []string, next string, err error)
	// ListHooks returns the hooks of one group ordered by hookId.
	ListHooks(ctx context.Context, hookGroupID string, p Page) (hooks []Hook, next string, err error)

	// CreateClaim writes c if no live claim holds c.Key (an expired one
	// counts as absent). Otherwise it returns ErrConflict and keeps the
	// existing claim.
	CreateClaim(ctx context.Context, c Claim, now time.Time) error
	// GetClaim returns the claim under key, or ErrNotFound; an expired
	// claim is ErrNotFound too.
	GetClaim(ctx context.Context, key string, now time.Time) (Claim, error)
	// ReplaceClaim replaces the live claim under c.Key with c if its body
	// is still oldBody, the one the caller read. A claim that changed,
	// expired or is gone is ErrConflict, and nothing is written.
	ReplaceClaim(ctx context.Context, c Claim, oldBody []byte, now time.Time) error
	// DeleteClaim removes the claim under key; a missing one is not an error.
	DeleteClaim(ctx context.Context, key string) error

	// ListDue returns up to limit hooks whose NextScheduledDate is set and
	// strictly before now, oldest first. Its cost grows with the number of
	// due hooks, not with the number of stored hooks.
	ListDue(ctx context.Context, now time.Time, limit int) ([]Hook, error)

	// PutLastFire records a fire. A record with the same hook, TaskID and
	// TaskCreateTime is replaced, so a retried fire updates its record
	// instead of adding a second one. With f.KeepAtMost > 0 the hook
	// keeps at most that many fire records: writing a new one deletes the
	// oldest beyond it (see the history cap below).
	PutLastFire(ctx context.Context, f LastFire) error
	// GetLastFire returns the fire record of the hook with that
	// TaskCreateTime and TaskID, or ErrNotFound.
	GetLastFire(ctx context.Context, hookGroupID, hookID string, taskCreateTime time.Time, taskID string) (LastFire, error)
	// UpdateFire replaces an existing fire record and, when d is not nil,
	// an existing decision, in one call as PutDecision writes them. It
	// never creates either: a fire record that is gone (trimmed by the
	// history cap, expired, deleted with its hook) is ErrNotFound and
	// nothing is written; a decision that is gone is skipped. So
	// recording a task's outcome cannot bring back a removed record.
	UpdateFire(ctx context.Context, f LastFire, d *Decision) error
	// ListAwaitedFires lists, oldest first, the fire records whose task
	// outcome is awaited (CheckAt set), as keys: those never checked
	// (Checks 0) by TaskCreateTime, or those checked at least once by
	// CheckAt, as q asks. Its cost grows with the records listed, not
	// with the records stored.
	ListAwaitedFires(ctx context.Context, q AwaitedQuery) ([]FireKey, string, error)
	// ListLastFires returns a hook's fire records, newest first.
	ListLastFires(ctx context.Context, hookGroupID, hookID string, p Page) ([]LastFire, string, error)
	// DeleteLastFires removes every fire record of a hook.
	DeleteLastFires(ctx context.Context, hookGroupID, hookID string) error

	// GetSettings returns the hook's settings record, or ErrNotFound when
	// none is stored. Records are independent of hooks: the store neither
	// requires the hook to exist nor deletes the record with it.
	GetSettings(ctx context.Context, hookGroupID, hookID string) (Settings, error)
	// PutSettings writes the record if the stored version is still
	// s.Version (0: no record is stored) and returns it with the new
	// version. Otherwise it returns ErrConflict and changes nothing.
	PutSettings(ctx context.Context, s Settings) (Settings, error)
	// DeleteSettings removes the hook's settings record; a missing one is
	// not an error.
	DeleteSettings(ctx context.Context, hookGroupID, hookID string) error

	// PutDecision writes d to the hook's decision log, replacing a decision
	// with the same hook and ID. When fire is not nil it also writes that
	// fire record, as PutLastFire would, in the same call: the embedded
	// store commits both in one transaction (one fsync), DynamoDB in one
	// round trip. After an error either may have been written; writing
	// the same pair again is safe, since both are replaced by key. With
	// d.KeepAtMost > 0 the hook keeps at most that many decisions.
	PutDecision(ctx context.Context, d Decision, fire *LastFire) error
	// GetDecision returns one decision, or ErrNotFound.
	GetDecision(ctx context.Context, hookGroupID, hookID, id string) (Decision, error)
	// ListDecisions returns a hook's decisions by ID, greatest (newest)
	// first.
	ListDecisions(ctx context.Context, hookGroupID, hookID string, p Page) ([]Decision, string, error)
	// DeleteDecisions removes every decision of a hook.
	DeleteDecisions(ctx context.Context, hookGroupID, hookID string) error

	// CreateNotification stores a new notification; ErrConflict when the
	// hook already has one with n.ID. It returns it with Version 1.
	CreateNotification(ctx context.Context, n Notification) (Notification, error)
	// GetNotification returns one notification, or ErrNotFound.
	GetNotification(ctx context.Context, hookGroupID, hookID, id string) (Notification, error)
	// UpdateNotification replaces a notification if its stored version is
	// still n.Version and returns it with the next version; ErrConflict
	// when the version differs, ErrNotFound when it is gone.
	UpdateNotification(ctx context.Context, n Notification) (Notification, error)
	// ListDueNotifications returns up to limit notifications whose DueAt
	// is set and not after now, oldest first. Its cost grows with the
	// notifications due, not with those stored.
	ListDueNotifications(ctx context.Context, now time.Time, limit int) ([]Notification, error)
	// ListNotifications returns a hook's notifications by ID, greatest
	// (newest) first.
	ListNotifications(ctx context.Context, hookGroupID, hookID string, p Page) ([]Notification, string, error)
	// DeleteNotifications removes every notification of a hook.
	DeleteNotifications(ctx context.Context, hookGroupID, hookID string) error

	// Close releases the backend's resources.
	Close() error
}

// Decision is one entry of a hook's decision log: what became of one
// attempt to fire it (a task created, a template declined, a pause, a
// filter, a queue error, ...).
type Decision struct {
	HookGroupID string
	HookID      string
	// ID identifies the decision within its hook and orders the log: the
	// domain makes IDs that sort by time. At most 64 characters of
	// [A-Za-z0-9._:-].
	ID string
	// Body is the decision document; the store treats it as opaque bytes.
	// The domain keeps it under 300 KB (DynamoDB items stop at 400 KB).
	Body json.RawMessage
	// ExpiresAt is when the record may be dropped.
	ExpiresAt time.Time

	// KeepAtMost is not stored: on a write that adds a decision, a value
	// above 0 makes the store delete the hook's oldest decisions beyond
	// that many (the history cap).
	KeepAtMost int
}

// Settings is one hook's Hookline-only settings record (the
// /api/hookline/v1 settings resource), which may hold secrets such as
// webhook signing keys.
type Settings struct {
	HookGroupID string
	HookID      string
	// Body is the settings document; the store treats it as opaque bytes.
	Body json.RawMessage
	// Version is set by the store: 1 after the first put, incremented by
	// every later one. Callers pass the version they read to PutSettings.
	Version int64
}

// LastFire records one attempt to fire a hook (listLastFires).
type LastFire struct {
	HookGroupID string
	HookID      string
	// FiredBy is schedule, triggerHook, triggerHookWithToken or
	// pulseMessage.
	FiredBy        string
	TaskID         string
	TaskCreateTime time.Time
	// Result is "success" or "error".
	Result string
	// Error is "" on success.
	Error string
	// ExpiresAt is when the record may be dropped (a year after the fire).
	ExpiresAt time.Time

	// DecisionID is the decision recorded with the fire, "" when the
	// decision log is off: the task's outcome is added to both.
	DecisionID string
	// TaskState is how the created task ended, once known: completed,
	// failed or exception ("" while unknown). TaskReason is the last
	// run's reasonResolved, TaskRunID that run and TaskResolved its time.
	TaskState    string
	TaskReason   string
	TaskRunID    int
	TaskResolved time.Time
	// CheckAt, when not zero, says the task's outcome is awaited: the
	// record is listed by ListAwaitedFires (by TaskCreateTime while
	// Checks is 0, then by CheckAt). Checks counts the status reads so
	// far.
	CheckAt time.Time
	Checks  int

	// KeepAtMost is not stored: on a write that adds a fire record, a
	// value above 0 makes the store delete the hook's oldest fire records
	// beyond that many (the history cap).
	KeepAtMost int
}

// FireKey names a fire record whose task outcome is awaited.
type FireKey struct {
	HookGroupID    string
	HookID         string
	TaskCreateTime time.Time
	TaskID         string
	// Checks is 0 for a record never checked (listed by TaskCreateTime),
	// else 1 (listed by CheckAt); CheckAt is set for the latter only.
	Checks  int
	CheckAt time.Time
}

// AwaitedQuery asks ListAwaitedFires for one page of awaited fire records.
type AwaitedQuery struct {
	// Checked lists records checked at least once, by CheckAt; otherwise
	// records never checked, by TaskCreateTime.
	Checked bool
	// From and To bound the time listed by: From <= t < To. A zero From
	// has no lower bound, a zero To no upper one.
	From, To time.Time
	Page
}

// Notification is one message about one hook event to one target: kept
// while it is delivered (retried with backoff) and for a while after, so
// its owners can see what was sent, suppressed or given up on.
type Notification struct {
	HookGroupID string
	HookID      string
	// ID identifies it within the hook and orders the hook's
	// notifications: the domain makes IDs that sort by time. At most 64
	// characters of [A-Za-z0-9._:-].
	ID string
	// Body is the notification document; the store treats it as opaque.
	Body json.RawMessage
	// DueAt, when not zero, is when the next step of its delivery is due:
	// ListDueNotifications lists it from then on.
	DueAt time.Time
	// ExpiresAt is when the record may be dropped.
	ExpiresAt time.Time
	// Version is set by the store: 1 after create, then incremented by
	// every update.
	Version int64
}

// Expirer is implemented by backends that must delete expired records
// themselves; DynamoDB does it with its TTL instead.
type Expirer interface {
	// ExpireLastFires deletes fire records whose ExpiresAt is not after now
	// and returns how many it deleted.
	ExpireLastFires(ctx context.Context, now time.Time) (int, error)
	// ExpireDecisions deletes decisions whose ExpiresAt is not after now
	// and returns how many it deleted.
	ExpireDecisions(ctx context.Context, now time.Time) (int, error)
	// ExpireNotifications deletes notifications whose ExpiresAt is not
	// after now and returns how many it deleted.
	ExpireNotifications(ctx context.Context, now time.Time) (int, error)
}
