package cron

import "time"

// Offsets of real time zones lie within ±16 hours of UTC (today between
// -12 and +14; historical local mean times a little further), so every
// instant showing a given wall-clock time lies within zoneReach of that
// wall time read as UTC, and two offsets never differ by more than
// offsetSpread.
const (
	zoneReach    = 16 * 3600
	offsetSpread = 32 * 3600
)

// NextIn returns the first instant strictly after `after` at which the
// pattern matches the wall clock of loc, as a whole second in UTC. nil and
// time.UTC mean UTC, where it is Next.
//
// Daylight saving time follows two rules:
//
//   - A wall-clock time skipped by a spring-forward gap fires once, at the
//     first valid instant after it: the instant the clocks jump (02:30 on
//     the night New York skips 02:00-03:00 fires at 03:00 EDT). Several
//     matches inside one gap are that one instant.
//   - A wall-clock time repeated by a fall-back overlap fires once, at its
//     first occurrence (01:30 EDT, not 01:30 EST, on the night New York
//     repeats 01:00-02:00).
//
// So every wall-clock match fires exactly once, and no instant twice. The
// answer is false only for a pattern that never fires.
func (s *Schedule) NextIn(after time.Time, loc *time.Location) (time.Time, bool) {
	if loc == nil || loc == time.UTC {
		return s.Next(after)
	}
	if s == nil || s.month == 0 || s.never {
		return time.Time{}, false
	}
	// Walk wall-clock matches (computed as if the wall clock were UTC)
	// from after's wall time; the first whose instant is after `after`
	// is the answer, since instants grow with wall times.
	wall := wallClock(after, loc)
	for range 1000 {
		n, ok := s.Next(wall)
		if !ok {
			return time.Time{}, false
		}
		at, offset := Resolve(n, loc)
		if at.After(after) {
			return at, true
		}
		// Only in the second pass of an overlap: n's first occurrence
		// has passed. Skip the wall times of n's zone period whose
		// instants are not after `after` either.
		wall = n
		skip := after.Add(time.Duration(offset) * time.Second).UTC()
		if _, end := at.In(loc).ZoneBounds(); !end.IsZero() {
			if last := end.Add(time.Duration(offset)*time.Second - time.Second).UTC(); last.Before(skip) {
				skip = last
			}
		}
		if skip.After(wall) {
			wall = skip
		}
	}
	return time.Time{}, false
}

// wallClock is t's wall-clock time in loc, read as a UTC time.
func wallClock(t time.Time, loc *time.Location) time.Time {
	_, offset := t.In(loc).Zone()
	return t.Add(time.Duration(offset) * time.Second).UTC()
}

// Resolve returns the instant at which loc's wall clock shows wall (a
// wall-clock time given as a UTC time, whole seconds), by the rules of
// NextIn: the first occurrence of a repeated time, the end of the gap for
// a skipped one. offset is loc's UTC offset in seconds at the instant.
func Resolve(wall time.Time, loc *time.Location) (at time.Time, offset int) {
	u := wall.Unix()
	// Fast path: guess the offset, and if the zone period holding the
	// guessed instant reaches further than any offset could, it is the
	// only instant showing that wall time.
	_, guess := time.Unix(u, 0).In(loc).Zone()
	t := time.Unix(u-int64(guess), 0).In(loc)
	if _, off := t.Zone(); off == guess {
		start, end := t.ZoneBounds()
		if (start.IsZero() || t.Unix()-start.Unix() > offsetSpread) && (end.IsZero() || end.Unix()-t.Unix() > offsetSpread) {
			return t.UTC(), off
		}
	}
	// Near a transition: visit the zone periods around the wall time in
	// order. The first holding an instant with that wall time holds the
	// first occurrence; a period that starts after its would-be instant
	// means the wall time fell into the gap before that period.
	p := time.Unix(u-zoneReach, 0).In(loc)
	for range 64 {
		start, end := p.ZoneBounds()
		_, off := p.Zone()
		at := u - int64(off)
		switch {
		case !start.IsZero() && at < start.Unix():
			return start.UTC(), off
		case end.IsZero() || at < end.Unix():
			return time.Unix(at, 0).UTC(), off
		case end.Unix() > u+zoneReach:
			// No period past the reach: cannot happen with real zones.
			return time.Unix(at, 0).UTC(), off
		}
		p = end.In(loc)
	}
	return time.Unix(u-int64(guess), 0).UTC(), guess
}
