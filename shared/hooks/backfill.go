package hooks

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/hookline/hookline/shared/store"
)

// ListSchedule lists a hook's schedule from `from` (inclusive; zero means
// now): its next count fires (1 to MaxScheduleListing), each slot in UTC
// and the hook's zone with its jittered fire time, and the slots skipped
// among them, with their reasons. A pause in force skips every slot while
// it lasts, so the listing shows those slots as skipped.
func (o *Operations) ListSchedule(ctx context.Context, hookGroupID, hookID string, from time.Time, count int) (ScheduleListing, error) {
	if count < 1 || count > MaxScheduleListing {
		return ScheduleListing{}, invalid("count must be from 1 to %d, not %d", MaxScheduleListing, count)
	}
	def, err := o.loadDefinition(ctx, hookGroupID, hookID)
	if err != nil {
		return ScheduleListing{}, err
	}
	g, err := o.loadGates(ctx, hookGroupID, hookID)
	if err != nil {
		return ScheduleListing{}, err
	}
	p, err := o.plan(def, g.settings.Schedule)
	if err != nil {
		return ScheduleListing{}, err
	}
	if from.IsZero() {
		from = o.now()
	}
	return p.list(hookGroupID, hookID, from, count, g.pause), nil
}

// Bounds of one backfill call.
const (
	// MaxBackfillSlots is the most slots one call handles; a longer
	// range continues in the next call (BackfillResult.ContinueFrom).
	MaxBackfillSlots     = 1000
	defaultBackfillSlots = 100
	backfillConcurrency  = 8
	// backfillBudget is how long a call may start fires: below API
	// Gateway's 30-second limit.
	backfillBudget = 20 * time.Second
)

// BackfillRequest asks to fire a hook's slots in [From, To), at most Max
// (0 means 100) of them.
type BackfillRequest struct {
	From, To time.Time
	Max      int
}

// BackfillResult is what a backfill did, slot by slot in slot order.
type BackfillResult struct {
	HookGroupID string         `json:"hookGroupId"`
	HookID      string         `json:"hookId"`
	From        time.Time      `json:"from"`
	To          time.Time      `json:"to"`
	Slots       []BackfillSlot `json:"slots"`
	// ContinueFrom is set when slots in the range remain: send it as
	// `from` to go on.
	ContinueFrom *time.Time `json:"continueFrom,omitempty"`
}

// BackfillSlot is one slot a backfill handled.
type BackfillSlot struct {
	Slot time.Time `json:"slot"`
	// Outcome is the decision's outcome (`skipped` for an excluded slot).
	Outcome string `json:"outcome"`
	// TaskID is the task created (or that already existed).
	TaskID     string `json:"taskId,omitempty"`
	DecisionID string `json:"decisionId,omitempty"`
	Exclusion  string `json:"exclusion,omitempty"`
	Error      string `json:"error,omitempty"`
}

// Backfill fires each slot of a hook in [From, To) once, with the slot's
// own taskId, so a slot the scheduler or an earlier backfill already fired
// creates nothing new (and, when its task was created, records nothing
// new: its BackfillSlot names the decision recorded then). Slots not
// before now are left to the scheduler (To comes back as now). Pauses and
// filters apply as to any fire; excluded slots are recorded as skipped;
// every decision it records is marked backfill. One
// call handles at most Max slots (1 to MaxBackfillSlots) and stops
// starting fires after 20 seconds; ContinueFrom then says where to go on.
func (o *Operations) Backfill(ctx context.Context, hookGroupID, hookID string, req BackfillRequest) (BackfillResult, error) {
	if req.Max == 0 {
		req.Max = defaultBackfillSlots
	}
	if req.Max < 1 || req.Max > MaxBackfillSlots {
		return BackfillResult{}, invalid("max must be from 1 to %d, not %d", MaxBackfillSlots, req.Max)
	}
	if !req.From.Before(req.To) {
		return BackfillResult{}, invalid("from (%s) must be before to (%s): the range is half-open, from <= slot < to", req.From.Format(time.RFC3339), req.To.Format(time.RFC3339))
	}
	now := o.now()
	if req.To.After(now) {
		req.To = now
	}
	res := BackfillResult{HookGroupID: hookGroupID, HookID: hookID, From: req.From.UTC(), To: req.To.UTC(), Slots: []BackfillSlot{}}
	rec, err := o.keyedHook(ctx, hookGroupID, hookID)
	if err != nil {
		return BackfillResult{}, err
	}
	def, err := decodeDefinition(rec.Definition)
	if err != nil {
		return BackfillResult{}, err
	}
	settings, _, err := o.loadSettings(ctx, hookGroupID, hookID)
	if err != nil {
		return BackfillResult{}, err
	}
	p, err := o.plan(def, settings.Schedule)
	if err != nil {
		return BackfillResult{}, err
	}

	var slots []dueSlot
	next, ok := p.nextSlot(req.From.Add(-time.Nanosecond))
	for ok && next.Before(req.To) && len(slots) < req.Max {
		d := dueSlot{slot: next, at: next}
		if x, excluded := p.excludedBy(next); excluded {
			d.excluded = &x
		}
		slots = append(slots, d)
		next, ok = p.nextSlot(next)
	}
	if ok && next.Before(req.To) {
		res.ContinueFrom = &next
	}

	results := make([]BackfillSlot, len(slots))
	started := make([]bool, len(slots))
	var firstErr error
	var mu sync.Mutex
	sem := make(chan struct{}, backfillConcurrency)
	var wg sync.WaitGroup
	deadline := now.Add(backfillBudget)
	for i := 0; i < len(slots); i++ {
		sl := slots[i]
		if ctx.Err() != nil || !o.now().Before(deadline) {
			break
		}
		if sl.excluded != nil {
			j := i
			for j+1 < len(slots) && slots[j+1].excluded != nil && slots[j+1].excluded.name == sl.excluded.name {
				j++
			}
			o.recordSkipped(ctx, def, slots[i:j+1], true)
			for k := i; k <= j; k++ {
				started[k] = true
				results[k] = BackfillSlot{Slot: slots[k].slot.UTC(), Outcome: OutcomeSkipped, Exclusion: sl.excluded.name}
			}
			i = j
			continue
		}
		started[i] = true
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			taskID := slotTaskID(rec.ScheduleKey, hookGroupID, hookID, sl.slot)
			fr, ferr := o.fire(ctx, def, FireRequest{FiredBy: FiredBySchedule, TaskID: taskID, Created: sl.slot,
				slot: &slotInfo{at: sl.slot, fireAt: sl.slot, tick: now, backfill: true}})
			out := BackfillSlot{Slot: sl.slot.UTC(), Outcome: fr.Decision.Outcome, TaskID: fr.TaskID, DecisionID: fr.Decision.DecisionID, Error: fr.Decision.Error}
			if ferr != nil && out.Outcome == "" {
				// No outcome: the store failed before the fire was decided.
				mu.Lock()
				firstErr = cmpErr(firstErr, ferr)
				mu.Unlock()
			}
			results[i] = out
		})
	}
	wg.Wait()
	if firstErr != nil {
		return BackfillResult{}, fmt.Errorf("hooks: backfill %s/%s: %w", hookGroupID, hookID, firstErr)
	}
	for i, done := range started {
		if !done {
			// The budget ran out: go on from the first slot not started.
			at := slots[i].slot
			res.ContinueFrom = &at
			break
		}
		res.Slots = append(res.Slots, results[i])
	}
	o.log.InfoContext(ctx, "hook backfilled", "hookGroupId", hookGroupID, "hookId", hookID, "from", res.From, "to", res.To,
		"slots", len(res.Slots), "continueFrom", res.ContinueFrom)
	return res, nil
}

// keyedHook reads a hook, giving it a schedule key first if it was stored
// before schedule keys existed.
func (o *Operations) keyedHook(ctx context.Context, hookGroupID, hookID string) (store.Hook, error) {
	for attempt := 0; ; attempt++ {
		rec, err := o.loadHook(ctx, hookGroupID, hookID)
		if err != nil {
			return store.Hook{}, err
		}
		rec, err = o.ensureScheduleKey(ctx, rec)
		if errors.Is(err, store.ErrConflict) && attempt < 4 {
			continue
		}
		if err != nil {
			return store.Hook{}, o.hookErr(hookGroupID, hookID, err)
		}
		return rec, nil
	}
}

// cmpErr keeps the first error.
func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}
