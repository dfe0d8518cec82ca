package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

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
	// Interval is how often ticks come; 0 means a minute. A slot handled
	// within two intervals (at least two minutes) of its due time is on
	// time; later, it is missed, and the catch-up policy decides.
	Interval time.Duration
}

// TickReport says what a tick did.
type TickReport struct {
	// Due counts hooks; the others count slots. Declined counts slots
	// whose template declined or whose filters were false; Paused slots
	// skipped by a pause, Skipped slots excluded by the hook's schedule,
	// Collapsed missed slots its catch-up policy does not fire.
	Due, Fired, Declined, Failed, Retry, Lost, Paused, Skipped, Collapsed int
	// AlreadyTaken counts slots another tick had in hand (it fired them,
	// is firing them, or won the hook's advance past them): this tick
	// recorded nothing for them. Two schedulers on one table count here
	// what the other one did.
	AlreadyTaken int
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

// Tick fires every hook due at now, then advances it to its next slot.
// It is safe to run concurrently with itself: every slot has a fixed
// taskId (derived from the hook's schedule key and the slot), its fire
// claim makes a second render re-send the same task, and the advance is
// conditional on the version read, so a slot creates one task however many
// ticks see it.
//
// A hook is due when the time its next slot is due (the slot, or later
// with a jitter) has passed. The tick looks at every slot of the hook that
// is due by now: excluded ones are recorded as skipped decisions; of the
// others, the hook's catch-up policy decides which fire (by default the
// oldest, as upstream, and the rest are collapsed; see catchUp). A queue
// 5xx or network error leaves the slot due for the next tick (same taskId,
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
	if opts.Interval <= 0 {
		opts.Interval = time.Minute
	}
	deadline := s.now().Add(opts.Budget)
	var report TickReport
	var total tickCounts
	var mu sync.Mutex
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
				c := s.handleDue(ctx, h, now, opts, deadline)
				mu.Lock()
				total.add(c)
				mu.Unlock()
			})
		}
		wg.Wait()
		if report.Unfinished || len(due) < opts.BatchSize {
			break
		}
	}
	report.Fired, report.Declined, report.Failed = total.fired, total.declined, total.failed
	report.Retry, report.Lost, report.Paused = total.retry, total.lost, total.paused
	report.Skipped, report.Collapsed, report.AlreadyTaken = total.skipped, total.collapsed, total.taken
	report.Unfinished = report.Unfinished || total.unfinished
	s.log.InfoContext(ctx, "scheduler tick", "tick", now, "due", report.Due, "fired", report.Fired,
		"declined", report.Declined, "failed", report.Failed, "retry", report.Retry, "lost", report.Lost, "paused", report.Paused,
		"skipped", report.Skipped, "collapsed", report.Collapsed, "alreadyTaken", report.AlreadyTaken, "unfinished", report.Unfinished)
	return report, ctx.Err()
}

// tickCounts is what handling one due hook did, slot by slot.
type tickCounts struct {
	fired, declined, failed, retry, lost, paused, skipped, collapsed, taken int
	// unfinished: the budget ran out with slots of the hook still due.
	unfinished bool
}

func (c *tickCounts) add(o tickCounts) {
	c.fired += o.fired
	c.declined += o.declined
	c.failed += o.failed
	c.retry += o.retry
	c.lost += o.lost
	c.paused += o.paused
	c.skipped += o.skipped
	c.collapsed += o.collapsed
	c.taken += o.taken
	c.unfinished = c.unfinished || o.unfinished
}

type slotOutcome int

const (
	slotFired slotOutcome = iota
	slotDeclined
	slotFailed
	slotRetry
	// slotPaused: the hook was paused; the slot was skipped.
	slotPaused
	// slotTaken: another tick fired the slot, or moved the hook past it.
	slotTaken
	// slotInFlight: another tick is firing the slot; it stays due.
	slotInFlight
)

// pendingRecords are the records of a hook's slots that nothing claims
// (skipped, collapsed, paused, filtered, render errors), held until the
// tick wins the hook's advance past them: of two ticks handling the same
// slots, only the one whose advance lands records them. A tick that dies
// between its advance and these records loses them from the decision log;
// no task depends on them.
type pendingRecords struct {
	list []pendingRecord
}

type pendingRecord struct {
	// slots is how many slots the record covers, counted in *count.
	slots int
	count *int
	write func()
}

func (r *pendingRecords) add(slots int, count *int, write func()) {
	r.list = append(r.list, pendingRecord{slots: slots, count: count, write: write})
}

// settle writes the records and counts their slots when the tick won the
// advance; otherwise it counts them as taken.
func (r *pendingRecords) settle(won bool, c *tickCounts) {
	for _, p := range r.list {
		if won {
			p.write()
			*p.count += p.slots
		} else {
			c.taken += p.slots
		}
	}
	r.list = nil
}

// dueSlot is one slot of a hook that is due: when it was due, and the
// exclusion that skips it, if any.
type dueSlot struct {
	slot, at time.Time
	excluded *exclusion
}

// maxCollapsedScan bounds the due slots one tick looks at for a hook: a
// per-minute hook missed for a week has 10,080.
const maxCollapsedScan = 100_000

// handleDue handles every slot of one due hook that is due by now, then
// advances the hook past them. Past the deadline it starts no more fires:
// the hook stays due at the first slot it did not reach.
func (s *Scheduler) handleDue(ctx context.Context, h store.Hook, now time.Time, opts TickOptions, deadline time.Time) (c tickCounts) {
	ids := []any{"hookGroupId", h.HookGroupID, "hookId", h.HookID}
	def, err := decodeDefinition(h.Definition)
	if err != nil {
		s.log.ErrorContext(ctx, "scheduled hook unreadable", append(ids, "err", err)...)
		c.retry++
		return c
	}
	g, err := s.loadGates(ctx, h.HookGroupID, h.HookID)
	if err != nil {
		s.log.ErrorContext(ctx, "scheduled hook: read its settings", append(ids, "err", err)...)
		c.retry++
		return c
	}
	p, err := s.plan(def, g.settings.Schedule)
	if err != nil {
		// Stored schedules were checked when saved; one that no longer
		// compiles must not fire every minute forever.
		s.log.ErrorContext(ctx, "stored schedule does not compile; unscheduling", append(ids, "err", err)...)
		p = &plan{zone: "UTC", loc: time.UTC, catchUp: CatchUpOldest}
	}
	if h, err = s.ensureScheduleKey(ctx, h); err != nil {
		s.logLost(ctx, h, err)
		c.lost++
		return c
	}
	first := slotOf(h)
	if !p.isSlot(first) {
		// The schedule changed since this slot was stored (its settings
		// were saved without the reschedule that follows, or raced a
		// tick): move to the first slot of the schedule as it is now.
		next, ok := p.nextSlot(first.Add(-time.Nanosecond))
		s.log.InfoContext(ctx, "stored slot is no longer one of the schedule; rescheduled", append(ids, "slot", first)...)
		if !s.advance(ctx, h, p, next, ok) {
			c.lost++
		}
		return c
	}

	slots, next, more := s.dueSlots(h, p, first, now)
	fire := chooseFires(p, slots, now, max(lateAfter, 2*opts.Interval))
	if slots[0].excluded == nil && !fire[0] && s.attempted(ctx, h) {
		// An earlier tick sent this slot's task and could not finish (a
		// queue 5xx): whatever the policy, the attempt is completed.
		fire[0] = true
	}
	newest := -1
	for i, sl := range slots {
		if sl.excluded == nil {
			newest = i
		}
	}
	var collapsed []time.Time
	var firedSlot time.Time
	var pending pendingRecords
	for i := 0; i < len(slots); i++ {
		sl := slots[i]
		if sl.excluded != nil {
			j := i
			for j+1 < len(slots) && slots[j+1].excluded != nil && slots[j+1].excluded.name == sl.excluded.name {
				j++
			}
			run := slots[i : j+1]
			pending.add(len(run), &c.skipped, func() { s.recordSkipped(ctx, def, run, false) })
			i = j
			continue
		}
		if !fire[i] {
			collapsed = append(collapsed, sl.slot)
			continue
		}
		catchUp := ""
		if i != newest || now.Sub(sl.at) > max(lateAfter, 2*opts.Interval) {
			catchUp = p.catchUp
		}
		taskID := slotTaskID(h.ScheduleKey, h.HookGroupID, h.HookID, sl.slot)
		if i == 0 {
			taskID = h.NextTaskID
		}
		var write func()
		outcome := slotRetry
		if i == 0 || ctx.Err() == nil && s.now().Before(deadline) {
			outcome, write = s.fireSlot(ctx, def, &g, sl, taskID, catchUp, now, h.Version)
		} else {
			c.unfinished = true
		}
		var count *int
		switch outcome {
		case slotRetry, slotInFlight:
			// Keep this slot due, so the next tick sends the very same
			// task (or, out of time, starts there, or finds what the
			// tick at work on it did); later slots wait.
			switch {
			case outcome == slotInFlight:
				c.taken++
			case !c.unfinished:
				c.retry++
			}
			s.pendCollapsed(ctx, &pending, &c, def, p, firedSlot, collapsed, false, now)
			won := i == 0 || s.advance(ctx, h, p, sl.slot, true)
			if !won {
				c.lost++
			}
			pending.settle(won, &c)
			return c
		case slotTaken:
			count = &c.taken
		case slotFired:
			count = &c.fired
		case slotDeclined:
			count = &c.declined
		case slotFailed:
			count = &c.failed
		case slotPaused:
			count = &c.paused
		}
		if write != nil {
			pending.add(1, count, write)
		} else {
			*count++
		}
		if firedSlot.IsZero() {
			firedSlot = sl.slot
		}
	}
	s.pendCollapsed(ctx, &pending, &c, def, p, firedSlot, collapsed, more && len(slots) == maxCollapsedScan, now)
	won := s.advance(ctx, h, p, next, more)
	if !won {
		c.lost++
	}
	pending.settle(won, &c)
	return c
}

// pendCollapsed holds the collapsed decision of the missed slots until
// the tick wins the advance past them.
func (s *Scheduler) pendCollapsed(ctx context.Context, pending *pendingRecords, c *tickCounts, def Definition, p *plan, firedSlot time.Time, missed []time.Time, uncounted bool, now time.Time) {
	if len(missed) > 0 {
		pending.add(len(missed), &c.collapsed, func() { s.recordCollapsed(ctx, def, p, firedSlot, missed, uncounted, now) })
	}
}

// dueSlots lists a hook's slots from first on whose due time is before
// now, and returns the first slot after them (ok false when the schedule
// has no more).
func (s *Scheduler) dueSlots(h store.Hook, p *plan, first, now time.Time) ([]dueSlot, time.Time, bool) {
	mk := func(slot, at time.Time) dueSlot {
		d := dueSlot{slot: slot, at: at}
		if x, ok := p.excludedBy(slot); ok {
			d.excluded = &x
		}
		return d
	}
	slots := []dueSlot{mk(first, h.NextScheduledDate)}
	next, more := p.nextSlot(first)
	for more {
		at := p.dueAt(h.HookGroupID, h.HookID, next)
		if !at.Before(now) {
			return slots, next, true
		}
		if len(slots) == maxCollapsedScan {
			// Too many to look at one by one: the ones not listed
			// collapse uncounted, and the hook moves to the first slot
			// due at or after now.
			next, more = p.nextSlot(now.Add(-maxJitter - time.Second))
			for more && p.dueAt(h.HookGroupID, h.HookID, next).Before(now) {
				next, more = p.nextSlot(next)
			}
			return slots, next, more
		}
		slots = append(slots, mk(next, at))
		next, more = p.nextSlot(next)
	}
	return slots, time.Time{}, false
}

// chooseFires decides which of a hook's due slots fire, by its catch-up
// policy. A slot is missed unless it is the newest due slot and comes
// within grace of its due time (a tick a little late is not an outage).
// maxAge bounds how late a missed slot may fire; an on-time slot always
// fires.
func chooseFires(p *plan, slots []dueSlot, now time.Time, grace time.Duration) []bool {
	fire := make([]bool, len(slots))
	var live []int
	for i, sl := range slots {
		if sl.excluded == nil {
			live = append(live, i)
		}
	}
	if len(live) == 0 {
		return fire
	}
	newest := live[len(live)-1]
	onTime := now.Sub(slots[newest].at) <= grace
	may := func(i int) bool {
		return i == newest && onTime || p.maxAge == 0 || now.Sub(slots[i].at) <= p.maxAge
	}
	switch p.catchUp {
	case CatchUpNone:
		fire[newest] = onTime
	case CatchUpLatest:
		fire[newest] = may(newest)
	case CatchUpAll:
		for k, n := len(live)-1, 0; k >= 0 && n < p.maxCatchUp; k-- {
			if i := live[k]; may(i) {
				fire[i] = true
				n++
			}
		}
	default:
		for _, i := range live {
			if may(i) {
				fire[i] = true
				break
			}
		}
	}
	return fire
}

// attempted reports whether a claim holds the task of the hook's stored
// slot: an earlier tick sent it.
func (s *Scheduler) attempted(ctx context.Context, h store.Hook) bool {
	_, err := s.store.GetClaim(ctx, "fire/"+h.HookGroupID+"/"+h.HookID+"/"+h.NextTaskID, s.now())
	return err == nil
}

// fireSlot fires one slot through the pipeline; version is the hook's,
// as the tick read it. write, when not nil, records the outcome: it
// claims nothing, so the tick calls it only once it wins the advance.
func (s *Scheduler) fireSlot(ctx context.Context, def Definition, g *gates, sl dueSlot, taskID, catchUp string, now time.Time, version int64) (outcome slotOutcome, write func()) {
	res, fireErr := s.fire(ctx, def, FireRequest{FiredBy: FiredBySchedule, TaskID: taskID, Created: sl.slot, gates: g,
		slot: &slotInfo{at: sl.slot, fireAt: sl.at, tick: now, catchUp: catchUp, version: version,
			deferred: func(w func()) { write = w }}})
	switch {
	case res.AlreadyTaken && res.inFlight:
		return slotInFlight, nil
	case res.AlreadyTaken:
		return slotTaken, nil
	case errors.Is(fireErr, ErrPaused):
		// Skipped, and recorded once the tick wins the advance;
		// advancing means a resume fires nothing that was missed.
		return slotPaused, write
	case fireErr == nil && (res.Declined || res.Filtered):
		return slotDeclined, write
	case fireErr != nil:
		var fe *FireError
		if !errors.As(fireErr, &fe) || fe.Retryable() {
			// The queue could not answer (or our own store failed): keep
			// the slot, so the next tick sends the very same task.
			s.log.WarnContext(ctx, "scheduled fire will be retried", "hookGroupId", def.HookGroupID, "hookId", def.HookID, "taskId", taskID, "err", fireErr)
			return slotRetry, nil
		}
		s.emailFailure(ctx, def, fireErr, now)
		return slotFailed, write
	}
	return slotFired, write
}

// recordCollapsed records the missed slots that do not fire as one
// collapsed decision: it counts them (at least, when there were too many
// to count) and lists the first few. firedSlot is the slot that fired in
// their place, if any.
func (s *Scheduler) recordCollapsed(ctx context.Context, def Definition, p *plan, firedSlot time.Time, missed []time.Time, uncounted bool, now time.Time) {
	if len(missed) == 0 {
		return
	}
	count := fmt.Sprintf("%d", len(missed))
	if uncounted {
		count = "at least " + count
	}
	first, last := missed[0].UTC(), missed[len(missed)-1].UTC()
	var reason string
	switch {
	case p.catchUp == CatchUpOldest && !firedSlot.IsZero() && firedSlot.Before(first):
		reason = fmt.Sprintf("%s later scheduled slot(s) up to %s were missed and collapsed into the fire for %s; they do not fire",
			count, now.UTC().Format(time.RFC3339), firedSlot.UTC().Format(time.RFC3339))
	case p.catchUp == CatchUpNone:
		reason = fmt.Sprintf("%s missed slot(s) from %s to %s do not fire: catchUp is %q", count, first.Format(time.RFC3339), last.Format(time.RFC3339), CatchUpNone)
	default:
		reason = fmt.Sprintf("%s missed slot(s) from %s to %s do not fire under catchUp %q", count, first.Format(time.RFC3339), last.Format(time.RFC3339), p.catchUp)
		if p.maxAge > 0 {
			reason += fmt.Sprintf(" with maxAge %s", p.maxAge)
		}
		if p.catchUp == CatchUpAll {
			reason += fmt.Sprintf(" and maxCatchUp %d", p.maxCatchUp)
		}
		if !firedSlot.IsZero() {
			reason += "; the slots that fired have decisions of their own"
		}
	}
	at := first
	if !firedSlot.IsZero() {
		at = firedSlot.UTC()
	}
	listed := make([]time.Time, 0, min(len(missed), maxListedSlots))
	for _, t := range missed[:min(len(missed), maxListedSlots)] {
		listed = append(listed, t.UTC())
	}
	dec := s.record(ctx, Decision{
		HookGroupID: def.HookGroupID, HookID: def.HookID, FiredBy: FiredBySchedule, Outcome: OutcomeCollapsed,
		ScheduledFor: &at, MissedSlots: len(missed), Slots: listed, CatchUp: p.catchUp, Reason: reason,
	}, nil)
	s.publishSlotsMissed(ctx, def, dec)
}

// advance stores slot (when ok) as the hook's next scheduled fire, if
// nobody changed the hook since it was read.
func (s *Scheduler) advance(ctx context.Context, h store.Hook, p *plan, slot time.Time, ok bool) bool {
	s.setNext(&h, p, slot, ok)
	if _, err := s.store.UpdateHook(ctx, h); err != nil {
		s.logLost(ctx, h, err)
		return false
	}
	return true
}

// logLost logs a write on a due hook that another tick or an edit beat.
func (s *Scheduler) logLost(ctx context.Context, h store.Hook, err error) {
	if !errors.Is(err, store.ErrConflict) && !errors.Is(err, store.ErrNotFound) {
		s.log.ErrorContext(ctx, "advance scheduled hook", "hookGroupId", h.HookGroupID, "hookId", h.HookID, "err", err)
	}
}

// emailFailure tells the owner a scheduled fire failed, at most once per
// emailInterval per hook (a conditional claim enforces it across
// concurrent ticks and functions).
func (s *Scheduler) emailFailure(ctx context.Context, def Definition, fireErr error, now time.Time) {
	if !def.Metadata.EmailOnError || s.mailer == nil || def.Metadata.Owner == "" || s.notifyConfigured(ctx, def) {
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
