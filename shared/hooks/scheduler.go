package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline/shared/cron"
	"github.com/hookline/hookline/shared/store"
)

// emailInterval is the least time between two failure emails about one
// hook: a hook failing every minute must not send 1,440 emails a day.
const emailInterval = 12 * time.Hour

// TickOptions bound one scheduler tick.
type TickOptions struct {
	// Concurrency is how many hooks fire at once; 0 means 16.
	Concurrency int
	// Budget is how long the tick may start new fires; hooks not reached
	// stay due for the next tick. 0 means 45 seconds, below the scheduler
	// function's 60-second timeout.
	Budget time.Duration
	// BatchSize is how many due hooks are read at a time; 0 means 500.
	BatchSize int
}

// TickReport says what a tick did.
type TickReport struct {
	// Declined counts slots whose template declined or whose filters were
	// false; Paused counts slots skipped by a pause.
	Due, Fired, Declined, Failed, Retry, Lost, Paused int
	// Unfinished is true when the budget ran out with hooks still due.
	Unfinished bool
}

// Scheduler is the part of the service that fires scheduled hooks: the
// scheduler function calls Tick once a minute, `hookline serve` on its own
// ticker. A failed scheduled fire is emailed to the hook's owner when the
// hook asks for it and a Mailer is configured.
type Scheduler struct {
	*pipeline
	mailer Mailer
}

// Tick fires every hook due at now once, then advances it to its next slot
// after now. It is safe to run concurrently with itself: every slot has a
// fixed taskId (the stored nextTaskId), its fire claim makes a second
// render re-send the same task, and the advance is conditional on the
// version read, so a slot creates one task however many ticks see it.
//
// Missed slots collapse: the next slot is computed from now, so a hook
// that was due several times fires once, for its oldest slot. A queue 5xx
// or network error leaves the hook due for the next tick (same taskId,
// same task); any other failure is recorded, emailed to the owner (at most
// once per 12 hours) and the hook advances.
func (s *Scheduler) Tick(ctx context.Context, now time.Time, opts TickOptions) (TickReport, error) {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 16
	}
	if opts.Budget <= 0 {
		opts.Budget = 45 * time.Second
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = 500
	}
	deadline := s.now().Add(opts.Budget)
	var report TickReport
	var fired, declined, failed, retry, lost, paused atomic.Int64
	seen := map[string]bool{}
	for {
		due, err := s.store.ListDue(ctx, now, opts.BatchSize)
		if err != nil {
			return report, fmt.Errorf("hooks: list due hooks: %w", err)
		}
		var batch []store.Hook
		for _, h := range due {
			// A hook left due (queue 5xx) is not retried within this tick.
			if key := h.HookGroupID + "/" + h.HookID; !seen[key] {
				seen[key] = true
				batch = append(batch, h)
			}
		}
		if len(batch) == 0 {
			break
		}
		report.Due += len(batch)
		sem := make(chan struct{}, opts.Concurrency)
		var wg sync.WaitGroup
		for _, h := range batch {
			if ctx.Err() != nil || !s.now().Before(deadline) {
				report.Unfinished = true
				break
			}
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				switch s.fireScheduled(ctx, h, now) {
				case slotFired:
					fired.Add(1)
				case slotDeclined:
					declined.Add(1)
				case slotFailed:
					failed.Add(1)
				case slotRetry:
					retry.Add(1)
				case slotLost:
					lost.Add(1)
				case slotPaused:
					paused.Add(1)
				}
			})
		}
		wg.Wait()
		if report.Unfinished || len(due) < opts.BatchSize {
			break
		}
	}
	report.Fired, report.Declined, report.Failed = int(fired.Load()), int(declined.Load()), int(failed.Load())
	report.Retry, report.Lost, report.Paused = int(retry.Load()), int(lost.Load()), int(paused.Load())
	s.log.InfoContext(ctx, "scheduler tick", "tick", now, "due", report.Due, "fired", report.Fired,
		"declined", report.Declined, "failed", report.Failed, "retry", report.Retry, "lost", report.Lost, "paused", report.Paused, "unfinished", report.Unfinished)
	return report, ctx.Err()
}

type slotOutcome int

const (
	slotFired slotOutcome = iota
	slotDeclined
	slotFailed
	slotRetry
	// slotLost: another tick or an edit changed the hook first.
	slotLost
	// slotPaused: the hook was paused; the slot was skipped.
	slotPaused
)

func (s *Scheduler) fireScheduled(ctx context.Context, h store.Hook, now time.Time) slotOutcome {
	def, err := decodeDefinition(h.Definition)
	if err != nil {
		s.log.ErrorContext(ctx, "scheduled hook unreadable", "hookGroupId", h.HookGroupID, "hookId", h.HookID, "err", err)
		return slotRetry
	}
	res, fireErr := s.fire(ctx, def, FireRequest{FiredBy: FiredBySchedule, TaskID: h.NextTaskID, Created: h.NextScheduledDate,
		slot: &slotInfo{at: h.NextScheduledDate, tick: now}})
	outcome := slotFired
	switch {
	case errors.Is(fireErr, ErrPaused):
		// Skipped and recorded; advancing means a resume fires nothing
		// that was missed.
		outcome = slotPaused
	case fireErr == nil && (res.Declined || res.Filtered):
		outcome = slotDeclined
	case fireErr != nil:
		var fe *FireError
		if !errors.As(fireErr, &fe) || fe.Retryable() {
			// The queue could not answer (or our own store failed): keep
			// the slot, so the next tick sends the very same task.
			s.log.WarnContext(ctx, "scheduled fire will be retried", "hookGroupId", h.HookGroupID, "hookId", h.HookID, "taskId", h.NextTaskID, "err", fireErr)
			return slotRetry
		}
		outcome = slotFailed
		s.emailFailure(ctx, def, fireErr, now)
	}
	if !s.advance(ctx, h, def, now) {
		return slotLost
	}
	s.recordCollapsed(ctx, def, h.NextScheduledDate, now)
	return outcome
}

// maxCollapsedScan bounds the missed slots counted for one collapsed
// decision: a per-minute hook missed for a week has 10,080.
const maxCollapsedScan = 100_000

// recordCollapsed records, when the hook missed more than the slot that
// just fired (the scheduler was down, or the hook stayed due), a collapsed
// decision counting the slots that will never fire.
func (s *Scheduler) recordCollapsed(ctx context.Context, def Definition, firedSlot, now time.Time) {
	scheds, err := cron.ParseAll(def.Schedule)
	if err != nil || len(scheds) == 0 {
		return
	}
	var missed []time.Time
	count := 0
	for t := nextDate(scheds, firedSlot); !t.IsZero() && !t.After(now) && count < maxCollapsedScan; t = nextDate(scheds, t) {
		if len(missed) < maxListedSlots {
			missed = append(missed, t.UTC())
		}
		count++
	}
	if count == 0 {
		return
	}
	at := firedSlot.UTC()
	s.record(ctx, Decision{
		HookGroupID: def.HookGroupID, HookID: def.HookID, FiredBy: FiredBySchedule, Outcome: OutcomeCollapsed,
		ScheduledFor: &at, MissedSlots: count, Slots: missed,
		Reason: fmt.Sprintf("%d later scheduled slot(s) up to %s were missed and collapsed into the fire for %s; they do not fire",
			count, now.UTC().Format(time.RFC3339), at.Format(time.RFC3339)),
	}, nil)
}

// advance moves the hook to its first slot after now with a new taskId, if
// nobody changed it since it was read.
func (s *Scheduler) advance(ctx context.Context, h store.Hook, def Definition, now time.Time) bool {
	scheds, err := cron.ParseAll(def.Schedule)
	if err != nil {
		// Stored schedules were checked when saved; one that no longer
		// parses must not fire every minute forever.
		s.log.ErrorContext(ctx, "stored schedule does not parse; unscheduling", "hookGroupId", h.HookGroupID, "hookId", h.HookID, "err", err)
	}
	h.NextScheduledDate = nextDate(scheds, now)
	h.NextTaskID = s.newID()
	if _, err := s.store.UpdateHook(ctx, h); err != nil {
		if !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
			s.log.ErrorContext(ctx, "advance scheduled hook", "hookGroupId", h.HookGroupID, "hookId", h.HookID, "err", err)
		}
		return false
	}
	return true
}

// emailFailure tells the owner a scheduled fire failed, at most once per
// emailInterval per hook (a conditional claim enforces it across
// concurrent ticks and functions).
func (s *Scheduler) emailFailure(ctx context.Context, def Definition, fireErr error, now time.Time) {
	if !def.Metadata.EmailOnError || s.mailer == nil || def.Metadata.Owner == "" {
		return
	}
	key := "email/" + def.HookGroupID + "/" + def.HookID
	err := s.store.CreateClaim(ctx, store.Claim{Key: key, Body: []byte(`{}`), CreatedAt: now, ExpiresAt: now.Add(emailInterval)}, now)
	if errors.Is(err, store.ErrConflict) {
		s.log.InfoContext(ctx, "failure email skipped: one was sent in the last 12 hours", "hookGroupId", def.HookGroupID, "hookId", def.HookID)
		return
	}
	if err != nil {
		s.log.ErrorContext(ctx, "failure email rate limit", "hookGroupId", def.HookGroupID, "hookId", def.HookID, "err", err)
		return
	}
	subject, body := failureEmail(def, fireErr)
	if err := s.mailer.SendEmail(ctx, def.Metadata.Owner, subject, body); err != nil {
		s.log.WarnContext(ctx, "failure email not sent", "hookGroupId", def.HookGroupID, "hookId", def.HookID, "err", err)
		// Let the next failure try again rather than stay silent 12 hours.
		if derr := s.store.DeleteClaim(ctx, key); derr != nil {
			s.log.ErrorContext(ctx, "release failure email claim", "err", derr)
		}
	}
}

// failureEmail writes the email upstream sends for a failed scheduled fire.
func failureEmail(def Definition, fireErr error) (subject, body string) {
	id := def.HookGroupID + "/" + def.HookID
	details, err := json.MarshalIndent(errorDetails(fireErr), "", "  ")
	if err != nil {
		details = []byte(fireErr.Error())
	}
	subject = "[Taskcluster Hooks] Scheduled Hook failure: " + id
	body = fmt.Sprintf(`The hooks service was unable to create a task for hook %s,
for which you are listed as owner.

The error was:
  %s

Details:

%s

The service will try again at the hook's next scheduled time.

Thanks,
Taskcluster Automation
`, id, fireErr.Error(), details)
	return subject, body
}

func errorDetails(err error) any {
	var fe *FireError
	if errors.As(err, &fe) {
		if r, ok := fe.Refusal(); ok {
			return map[string]any{"code": r.ErrorCode(), "statusCode": r.HTTPStatus(), "message": r.ErrorMessage()}
		}
	}
	return map[string]any{"message": err.Error()}
}
