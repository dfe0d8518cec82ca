package hooks

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/hookline/hookline/shared/cron"
)

// Where a slot comes from, as listings name it.
const (
	SourceSchedule = "schedule" // the definition's upstream cron list
	SourceCron     = "cron"     // the settings' standard 5-field patterns
	SourceAt       = "at"       // the settings' one-time instants
)

// Why a slot is skipped, as listings and decisions name it.
const (
	SkipExclusion   = "exclusion"
	SkipBeforeStart = "before-start"
	SkipAfterEnd    = "after-end"
	SkipPaused      = "paused"
)

// plan is a hook's schedule compiled: the definition's cron list and the
// settings' schedule section together. A slot is an instant one of the
// cron patterns (in the plan's zone, with cron's DST rules) or the `at`
// list gives, inside the bounds; an excluded slot is still a slot, which
// the scheduler records as skipped. Plans are immutable and cached by
// content (core.plans).
type plan struct {
	zone       string
	loc        *time.Location
	crons      []*cron.Schedule
	sources    []string // the source of each cron
	at         []time.Time
	start, end time.Time
	exclusions []exclusion
	jitter     time.Duration
	catchUp    string
	maxCatchUp int
	maxAge     time.Duration // 0: no limit
}

// compilePlan compiles a definition's schedule with a settings section
// (nil for none). Stored schedules were checked when saved, so an error
// here means a stored record no longer reads.
func compilePlan(schedule []string, st *ScheduleSettings) (*plan, error) {
	p := &plan{zone: "UTC", loc: time.UTC, catchUp: CatchUpOldest, maxCatchUp: defaultMaxCatchUp}
	for _, pattern := range schedule {
		s, err := cron.Parse(pattern)
		if err != nil {
			return nil, invalid("%s", err)
		}
		p.crons, p.sources = append(p.crons, s), append(p.sources, SourceSchedule)
	}
	if st == nil {
		return p, nil
	}
	if err := checkSchedule(st); err != nil {
		return nil, err
	}
	if st.TimeZone != "" {
		p.zone = st.TimeZone
		p.loc, _ = loadZone(st.TimeZone)
	}
	for _, pattern := range st.Cron {
		s, _ := cron.ParseStandard(pattern)
		p.crons, p.sources = append(p.crons, s), append(p.sources, SourceCron)
	}
	for _, a := range st.At {
		t, _ := parseInstant(a)
		p.at = append(p.at, t.UTC())
	}
	slices.SortFunc(p.at, func(a, b time.Time) int { return a.Compare(b) })
	p.at = slices.CompactFunc(p.at, func(a, b time.Time) bool { return a.Equal(b) })
	p.start, p.end, _ = scheduleBounds(st)
	for _, e := range st.Exclude {
		x, _ := compileExclusion(e, p.loc)
		p.exclusions = append(p.exclusions, x)
	}
	p.catchUp = st.catchUpPolicy()
	if st.MaxCatchUp > 0 {
		p.maxCatchUp = st.MaxCatchUp
	}
	if st.MaxAge != "" {
		p.maxAge, _ = parseSpan("", st.MaxAge, time.Second, maxMaxAge)
	}
	if st.Jitter != "" {
		p.jitter, _ = parseSpan("", st.Jitter, time.Second, maxJitter)
	}
	return p, nil
}

// plans compiles a hook's plan, from the cache when its schedule and
// settings were seen before.
func (c *core) plan(def Definition, st *ScheduleSettings) (*plan, error) {
	return c.plans.get(planKey(def, st), func() (*plan, error) { return compilePlan(def.Schedule, st) })
}

// planKey is the content a plan is compiled from.
func planKey(def Definition, st *ScheduleSettings) []byte {
	// Encoding strings and a struct of strings cannot fail.
	key, _ := json.Marshal(struct {
		S []string          `json:"s"`
		T *ScheduleSettings `json:"t"`
	}{def.Schedule, st})
	return key
}

// scheduled reports whether the plan can have slots at all.
func (p *plan) scheduled() bool { return len(p.crons) > 0 || len(p.at) > 0 }

// nextCandidate returns the first instant strictly after `after` that a
// cron pattern or the `at` list gives, bounds and exclusions aside, and
// the source that gives it.
func (p *plan) nextCandidate(after time.Time) (time.Time, string, bool) {
	var best time.Time
	source, found := "", false
	for i, s := range p.crons {
		if t, ok := s.NextIn(after, p.loc); ok && (!found || t.Before(best)) {
			best, source, found = t, p.sources[i], true
		}
	}
	if i, _ := slices.BinarySearchFunc(p.at, after, func(a, b time.Time) int {
		if a.After(b) {
			return 1
		}
		return -1
	}); i < len(p.at) {
		if t := p.at[i]; !found || t.Before(best) {
			best, source, found = t, SourceAt, true
		}
	}
	return best, source, found
}

// nextSlot returns the first slot strictly after `after`: a candidate
// inside the bounds (start <= slot < end). Excluded slots are slots.
func (p *plan) nextSlot(after time.Time) (time.Time, bool) {
	if !p.start.IsZero() && after.Before(p.start) {
		after = p.start.Add(-time.Nanosecond)
	}
	t, _, ok := p.nextCandidate(after)
	if !ok || !p.end.IsZero() && !t.Before(p.end) {
		return time.Time{}, false
	}
	return t, true
}

// isSlot reports whether t is one of the plan's slots.
func (p *plan) isSlot(t time.Time) bool {
	s, ok := p.nextSlot(t.Add(-time.Nanosecond))
	return ok && s.Equal(t)
}

// excludedBy returns the first exclusion covering slot.
func (p *plan) excludedBy(slot time.Time) (exclusion, bool) {
	for _, x := range p.exclusions {
		if x.contains(slot, p.loc) {
			return x, true
		}
	}
	return exclusion{}, false
}

// fireAt is when a slot of hook g/h fires: the slot itself, or with a
// jitter, the slot plus an offset in whole seconds drawn from a digest of
// the hook and the slot, so every scheduler and every retry agree on it.
// The offset stays below both the jitter and the time to the next
// candidate slot, so fires keep the order of their slots.
func (p *plan) fireAt(hookGroupID, hookID string, slot time.Time) time.Time {
	if p.jitter <= 0 {
		return slot
	}
	window := p.jitter
	if next, _, ok := p.nextCandidate(slot); ok && next.Sub(slot) < window {
		window = next.Sub(slot)
	}
	secs := uint64(window / time.Second)
	if secs <= 1 {
		return slot
	}
	// The digest of "<len>:<group>;<len>:<hook>;<unix seconds>".
	var buf [256]byte
	in := strconv.AppendInt(buf[:0], int64(len(hookGroupID)), 10)
	in = append(append(append(in, ':'), hookGroupID...), ';')
	in = strconv.AppendInt(in, int64(len(hookID)), 10)
	in = append(append(append(in, ':'), hookID...), ';')
	in = strconv.AppendInt(in, slot.Unix(), 10)
	sum := sha256.Sum256(in)
	offset := binary.BigEndian.Uint64(sum[:8]) % secs
	return slot.Add(time.Duration(offset) * time.Second)
}

// dueAt is when the scheduler should handle a slot: its fire time, or
// for an excluded slot (which fires nothing) the slot itself.
func (p *plan) dueAt(hookGroupID, hookID string, slot time.Time) time.Time {
	if _, excluded := p.excludedBy(slot); excluded {
		return slot
	}
	return p.fireAt(hookGroupID, hookID, slot)
}

// slotTaskID is the taskId of a hook's schedule slot: derived from the
// hook's secret schedule key, so every scheduler, retry and backfill
// names the slot's task alike, and nobody without the key can.
func slotTaskID(key, hookGroupID, hookID string, slot time.Time) string {
	return derivedTaskID("slot", key, hookGroupID, hookID, slot.UTC().Format(time.RFC3339Nano))
}

// ScheduleListing is a hook's schedule from a time on: the next fires and
// the slots skipped among them, with their reasons.
type ScheduleListing struct {
	HookGroupID string    `json:"hookGroupId"`
	HookID      string    `json:"hookId"`
	TimeZone    string    `json:"timeZone"`
	From        time.Time `json:"from"`
	CatchUp     string    `json:"catchUp"`
	Jitter      string    `json:"jitter,omitempty"`
	// Fires are the next fires, in slot order.
	Fires []ScheduledFire `json:"fires"`
	// Skipped are the slots among them that will not fire.
	Skipped []SkippedSlot `json:"skipped"`
	// SkippedTruncated is set when more slots were skipped than listed.
	SkippedTruncated bool `json:"skippedTruncated,omitempty"`
	// Pause is the pause in force, which skips every slot while it lasts.
	Pause *PauseState `json:"pause,omitempty"`
}

// ScheduledFire is one slot that fires, in UTC and in the hook's zone.
type ScheduledFire struct {
	Slot        time.Time `json:"slot"`
	SlotLocal   string    `json:"slotLocal"`
	FireAt      time.Time `json:"fireAt"`
	FireAtLocal string    `json:"fireAtLocal"`
	Source      string    `json:"source"`
}

// SkippedSlot is one slot that does not fire, and why.
type SkippedSlot struct {
	Slot      time.Time `json:"slot"`
	SlotLocal string    `json:"slotLocal"`
	Source    string    `json:"source"`
	Reason    string    `json:"reason"`
	Exclusion string    `json:"exclusion,omitempty"`
	Message   string    `json:"message"`
}

// MaxScheduleListing is the most fires one listing may ask for.
const MaxScheduleListing = 1000

// list walks the plan from `from` (inclusive) until count slots would
// fire (or would, but for the pause), listing on the way the slots
// skipped by exclusions and bounds, at most max(count, 10) of them.
// Stretches it cannot list in full (before start, inside an exclusion)
// it jumps over, so a listing costs at most a few times count steps.
func (p *plan) list(hookGroupID, hookID string, from time.Time, count int, pause *PauseState) ScheduleListing {
	l := ScheduleListing{HookGroupID: hookGroupID, HookID: hookID, TimeZone: p.zone, From: from.UTC(), CatchUp: p.catchUp,
		Fires: []ScheduledFire{}, Skipped: []SkippedSlot{}, Pause: pause}
	if p.jitter > 0 {
		l.Jitter = p.jitter.String()
	}
	maxSkipped := max(count, 10)
	local := func(t time.Time) string { return t.In(p.loc).Format(time.RFC3339) }
	skip := func(slot time.Time, source, reason, excl, msg string) bool {
		if len(l.Skipped) >= maxSkipped {
			l.SkippedTruncated = true
			return false
		}
		l.Skipped = append(l.Skipped, SkippedSlot{Slot: slot, SlotLocal: local(slot), Source: source, Reason: reason, Exclusion: excl, Message: msg})
		return true
	}
	live := 0
	after := from.Add(-time.Nanosecond)
	for steps := 0; live < count && steps < count+maxSkipped+2*len(p.exclusions)+16; steps++ {
		slot, source, ok := p.nextCandidate(after)
		if !ok {
			break
		}
		after = slot
		switch {
		case !p.start.IsZero() && slot.Before(p.start):
			if !skip(slot, source, SkipBeforeStart, "", "before schedule.start "+local(p.start)) {
				after = p.start.Add(-time.Nanosecond)
			}
			continue
		case !p.end.IsZero() && !slot.Before(p.end):
			skip(slot, source, SkipAfterEnd, "", "at or after schedule.end "+local(p.end)+": no slot fires from then on")
			return l
		}
		if x, excluded := p.excludedBy(slot); excluded {
			if !skip(slot, source, SkipExclusion, x.name, "excluded by schedule.exclude "+x.name) {
				after = x.end(p.loc).Add(-time.Nanosecond)
			}
			continue
		}
		live++
		if pause != nil {
			skip(slot, source, SkipPaused, "", "skipped while the "+pause.Level+" pause lasts: "+pause.Reason)
			continue
		}
		at := p.fireAt(hookGroupID, hookID, slot)
		l.Fires = append(l.Fires, ScheduledFire{Slot: slot, SlotLocal: local(slot), FireAt: at, FireAtLocal: local(at), Source: source})
	}
	return l
}
