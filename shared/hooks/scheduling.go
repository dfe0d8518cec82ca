package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline/shared/store"
)

// Keeping a hook's next scheduled fire in its record: the due index holds
// the time the next slot is due (its fire time, jitter included, or for
// an excluded slot the slot itself), and the record the slot and its
// taskId. Creating or updating a hook, changing its schedule settings and
// every tick write them through here.

// scheduleAfter sets rec's next slot to the first slot of p after `after`,
// or to the earliest of the late `at` instants the caller names (past
// one-time fires saved within the catch-up window), which then fire at the
// next tick. A hook without a schedule key gets one.
func (c *core) scheduleAfter(rec *store.Hook, p *plan, after time.Time, late ...time.Time) {
	slot, ok := p.nextSlot(after)
	for _, t := range late {
		if p.isSlot(t) && (!ok || t.Before(slot)) {
			slot, ok = t, true
		}
	}
	c.setNext(rec, p, slot, ok)
}

// setNext stores slot (when ok) as rec's next scheduled fire: the time it
// is due, the slot when that differs, and the slot's taskId.
func (c *core) setNext(rec *store.Hook, p *plan, slot time.Time, ok bool) {
	if rec.ScheduleKey == "" {
		rec.ScheduleKey = c.newID()
	}
	if !ok {
		rec.NextScheduledDate, rec.NextSlot, rec.NextTaskID = time.Time{}, time.Time{}, c.newID()
		return
	}
	due := p.dueAt(rec.HookGroupID, rec.HookID, slot)
	rec.NextScheduledDate, rec.NextSlot = due, time.Time{}
	if !due.Equal(slot) {
		rec.NextSlot = slot
	}
	rec.NextTaskID = slotTaskID(rec.ScheduleKey, rec.HookGroupID, rec.HookID, slot)
}

// slotOf is the slot a hook's next scheduled fire serves.
func slotOf(rec store.Hook) time.Time {
	if !rec.NextSlot.IsZero() {
		return rec.NextSlot
	}
	return rec.NextScheduledDate
}

// reschedule recomputes a hook's next fire after its schedule settings
// changed to st: the first slot after now, or a late `at` instant.
func (c *core) reschedule(ctx context.Context, hookGroupID, hookID string, st *ScheduleSettings, late []time.Time) error {
	for attempt := 0; ; attempt++ {
		rec, err := c.loadHook(ctx, hookGroupID, hookID)
		if err != nil {
			return err
		}
		def, err := decodeDefinition(rec.Definition)
		if err != nil {
			return err
		}
		p, err := c.plan(def, st)
		if err != nil {
			return err
		}
		c.scheduleAfter(&rec, p, c.now(), late...)
		_, err = c.store.UpdateHook(ctx, rec)
		if errors.Is(err, store.ErrConflict) && attempt < 4 {
			continue
		}
		if err != nil {
			return c.hookErr(hookGroupID, hookID, err)
		}
		c.log.InfoContext(ctx, "hook rescheduled", "hookGroupId", hookGroupID, "hookId", hookID, "nextScheduledDate", rec.NextScheduledDate)
		return nil
	}
}

// ensureScheduleKey gives a hook stored before schedule keys existed its
// key, with a write conditional on the version read, so that every
// scheduler derives the same slot taskIds. It returns the record as
// stored.
func (c *core) ensureScheduleKey(ctx context.Context, rec store.Hook) (store.Hook, error) {
	if rec.ScheduleKey != "" {
		return rec, nil
	}
	rec.ScheduleKey = c.newID()
	updated, err := c.store.UpdateHook(ctx, rec)
	if err != nil {
		return store.Hook{}, err
	}
	return updated, nil
}

// sameSchedule reports whether two schedule sections are the same.
func sameSchedule(a, b *ScheduleSettings) bool {
	ja, err1 := json.Marshal(a)
	jb, err2 := json.Marshal(b)
	return err1 == nil && err2 == nil && string(ja) == string(jb)
}

// recordSkipped records slots one exclusion skips as one skipped decision
// naming the exclusion: a tick on time sees one slot at a time; one after
// an outage, or a backfill, may see several in a row.
func (p *pipeline) recordSkipped(ctx context.Context, def Definition, slots []dueSlot, backfill bool) {
	first, last := slots[0].slot.UTC(), slots[len(slots)-1].slot.UTC()
	x := slots[0].excluded
	d := Decision{
		HookGroupID: def.HookGroupID, HookID: def.HookID, FiredBy: FiredBySchedule, Outcome: OutcomeSkipped,
		ScheduledFor: &first, Exclusion: x.name, Backfill: backfill,
		Reason: fmt.Sprintf("the slot %s is excluded by schedule.exclude %s; nothing fires", first.Format(time.RFC3339), x.name),
	}
	if len(slots) > 1 {
		d.MissedSlots = len(slots)
		for _, sl := range slots[:min(len(slots), maxListedSlots)] {
			d.Slots = append(d.Slots, sl.slot.UTC())
		}
		d.Reason = fmt.Sprintf("%d slots from %s to %s are excluded by schedule.exclude %s; nothing fires",
			len(slots), first.Format(time.RFC3339), last.Format(time.RFC3339), x.name)
	}
	p.record(ctx, d, nil)
}
