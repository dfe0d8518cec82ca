package cron

import (
	"fmt"
	"testing"
	"time"
	_ "time/tzdata" // the tests read Go's copy of the zone database, not the machine's
)

func mustZone(tb testing.TB, name string) *time.Location {
	tb.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		tb.Fatal(err)
	}
	return loc
}

// TestSchedule_NextIn covers the DST rules in several zones (whole-hour,
// half-hour and 45-minute offsets, transitions at midnight, a skipped
// day), leap days, month ends, and the standard 5-field form.
func TestSchedule_NextIn(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, zone, pattern, after string
		want                       []string // the next instants, in order
	}{
		// America/New_York: 2026-03-08 02:00 EST → 03:00 EDT; 2026-11-01 02:00 EDT → 01:00 EST.
		{"gap fires at the jump", "America/New_York", "30 2 * * *", "2026-03-08T00:00:00-05:00",
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-09T02:30:00-04:00"}},
		{"several slots in one gap fire once", "America/New_York", "*/15 * * * *", "2026-03-08T01:50:00-05:00",
			[]string{"2026-03-08T03:00:00-04:00", "2026-03-08T03:15:00-04:00"}},
		{"before the gap", "America/New_York", "*/30 * * * *", "2026-03-08T01:00:00-05:00",
			[]string{"2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00", "2026-03-08T03:30:00-04:00"}},
		{"overlap fires at the first occurrence", "America/New_York", "30 1 * * *", "2026-11-01T00:00:00-04:00",
			[]string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00"}},
		{"hourly skips the repeated hour", "America/New_York", "0 * * * *", "2026-11-01T00:30:00-04:00",
			[]string{"2026-11-01T01:00:00-04:00", "2026-11-01T02:00:00-05:00", "2026-11-01T03:00:00-05:00"}},
		{"from inside the second pass", "America/New_York", "*/20 * * * *", "2026-11-01T01:10:00-05:00",
			[]string{"2026-11-01T02:00:00-05:00", "2026-11-01T02:20:00-05:00"}},
		{"first pass continues", "America/New_York", "*/20 * * * *", "2026-11-01T01:30:00-04:00",
			[]string{"2026-11-01T01:40:00-04:00", "2026-11-01T02:00:00-05:00"}},
		{"daily morning keeps its wall time", "America/New_York", "0 9 * * *", "2026-03-07T12:00:00-05:00",
			[]string{"2026-03-08T09:00:00-04:00", "2026-03-09T09:00:00-04:00"}},

		// Europe/Berlin: 2026-03-29 02:00 → 03:00; 2026-10-25 03:00 → 02:00.
		{"berlin gap", "Europe/Berlin", "30 2 * * *", "2026-03-28T12:00:00+01:00",
			[]string{"2026-03-29T03:00:00+02:00", "2026-03-30T02:30:00+02:00"}},
		{"berlin overlap", "Europe/Berlin", "30 2 * * *", "2026-10-24T12:00:00+02:00",
			[]string{"2026-10-25T02:30:00+02:00", "2026-10-26T02:30:00+01:00"}},
		{"berlin six fields", "Europe/Berlin", "15 30 2 * * *", "2026-03-28T12:00:00+01:00",
			[]string{"2026-03-29T03:00:00+02:00", "2026-03-30T02:30:15+02:00"}},

		// Australia/Lord_Howe: half-hour DST. 2026-04-05 02:00 (+11) → 01:30 (+10:30);
		// 2026-10-04 02:00 (+10:30) → 02:30 (+11).
		{"lord howe half-hour gap", "Australia/Lord_Howe", "15 2 * * *", "2026-10-04T00:00:00+10:30",
			[]string{"2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"}},
		{"lord howe half-hour overlap", "Australia/Lord_Howe", "45 1 * * *", "2026-04-05T00:00:00+11:00",
			[]string{"2026-04-05T01:45:00+11:00", "2026-04-06T01:45:00+10:30"}},
		{"lord howe every ten minutes through the overlap", "Australia/Lord_Howe", "*/10 1-2 * * *", "2026-04-05T01:35:00+11:00",
			[]string{"2026-04-05T01:40:00+11:00", "2026-04-05T01:50:00+11:00", "2026-04-05T02:00:00+10:30", "2026-04-05T02:10:00+10:30"}},

		// Asia/Kolkata: +05:30 all year, no DST.
		{"kolkata", "Asia/Kolkata", "30 9 * * *", "2026-03-08T00:00:00Z",
			[]string{"2026-03-08T09:30:00+05:30", "2026-03-09T09:30:00+05:30"}},
		{"kolkata midnight is the previous UTC day", "Asia/Kolkata", "0 0 * * *", "2026-06-30T12:00:00Z",
			[]string{"2026-07-01T00:00:00+05:30", "2026-07-02T00:00:00+05:30"}},

		// Pacific/Chatham: +12:45 / +13:45, switching at 02:45 standard time.
		{"chatham 45-minute offset gap", "Pacific/Chatham", "0 3 * * *", "2026-09-27T00:00:00+12:45",
			[]string{"2026-09-27T03:45:00+13:45", "2026-09-28T03:00:00+13:45"}},

		// America/Santiago: the gap is at midnight (2026-09-06 00:00 → 01:00),
		// the overlap repeats 23:00 (2026-04-04).
		{"midnight that does not exist", "America/Santiago", "0 0 * * *", "2026-09-05T12:00:00-04:00",
			[]string{"2026-09-06T01:00:00-03:00", "2026-09-07T00:00:00-03:00"}},
		{"late evening repeated", "America/Santiago", "30 23 * * *", "2026-04-04T12:00:00-03:00",
			[]string{"2026-04-04T23:30:00-03:00", "2026-04-05T23:30:00-04:00"}},

		// Pacific/Apia skipped 2011-12-30 altogether: its slot fires when the day would have ended.
		{"skipped day", "Pacific/Apia", "0 12 * * *", "2011-12-29T13:00:00-10:00",
			[]string{"2011-12-31T00:00:00+14:00", "2011-12-31T12:00:00+14:00"}},

		// Leap days, month ends and the zone's own calendar day.
		{"leap day in a zone", "Europe/Berlin", "0 9 29 2 *", "2026-01-01T00:00:00+01:00",
			[]string{"2028-02-29T09:00:00+01:00", "2032-02-29T09:00:00+01:00"}},
		{"last day of the month in the zone", "America/New_York", "0 0 22 L * *", "2026-02-01T00:00:00-05:00",
			[]string{"2026-02-28T22:00:00-05:00", "2026-03-31T22:00:00-04:00"}},
		{"month end in a zone ahead of UTC", "Asia/Kolkata", "0 0 1 1 * *", "2026-01-31T12:00:00Z",
			[]string{"2026-02-01T01:00:00+05:30", "2026-03-01T01:00:00+05:30"}},
		{"31st skips short months", "Australia/Lord_Howe", "0 0 31 * *", "2026-04-01T00:00:00+10:30",
			[]string{"2026-05-31T00:00:00+10:30", "2026-07-31T00:00:00+10:30"}},
		{"weekday in the zone", "Asia/Kolkata", "0 2 * * mon", "2026-03-01T20:00:00Z",
			[]string{"2026-03-02T02:00:00+05:30", "2026-03-09T02:00:00+05:30"}},

		// UTC is Next.
		{"utc", "UTC", "0 9 * * *", "2026-03-08T00:00:00Z", []string{"2026-03-08T09:00:00Z", "2026-03-09T09:00:00Z"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			loc := mustZone(t, tt.zone)
			at := mustTime(t, tt.after)
			for i, w := range tt.want {
				got, ok := s.NextIn(at, loc)
				want := mustTime(t, w)
				if !ok || !got.Equal(want) || got.Location() != time.UTC {
					t.Fatalf("step %d after %s: got %s (%v), want %s", i, at.In(loc), got.In(loc), ok, want.In(loc))
				}
				at = got
			}
		})
	}
}

func TestResolve(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		zone, wall, want string
		offset           int
	}{
		{"America/New_York", "2026-03-08T02:30:00Z", "2026-03-08T03:00:00-04:00", -4 * 3600},
		{"America/New_York", "2026-03-08T01:59:59Z", "2026-03-08T01:59:59-05:00", -5 * 3600},
		{"America/New_York", "2026-11-01T01:00:00Z", "2026-11-01T01:00:00-04:00", -4 * 3600},
		{"America/New_York", "2026-11-01T02:00:00Z", "2026-11-01T02:00:00-05:00", -5 * 3600},
		{"Australia/Lord_Howe", "2026-10-04T02:29:59Z", "2026-10-04T02:30:00+11:00", 11 * 3600},
		{"Australia/Lord_Howe", "2026-04-05T01:30:00Z", "2026-04-05T01:30:00+11:00", 11 * 3600},
		{"Asia/Kolkata", "2026-01-01T00:00:00Z", "2026-01-01T00:00:00+05:30", 19800},
		{"Pacific/Apia", "2011-12-30T00:00:00Z", "2011-12-31T00:00:00+14:00", 14 * 3600},
	} {
		at, off := Resolve(mustTime(t, tt.wall), mustZone(t, tt.zone))
		if want := mustTime(t, tt.want); !at.Equal(want) || off != tt.offset {
			t.Errorf("Resolve(%s in %s) = %s %d, want %s %d", tt.wall, tt.zone, at, off, want, tt.offset)
		}
	}
}

// differentialZones are the zones the brute-force comparison runs in.
var differentialZones = []string{
	"America/New_York", "Europe/Berlin", "Australia/Lord_Howe", "Asia/Kolkata", "Pacific/Chatham",
	"America/Santiago", "Australia/Sydney", "Africa/Casablanca", "America/Havana", "Pacific/Apia", "Europe/London",
}

// differentialPatterns fire on whole minutes, so a minute-by-minute walk
// sees every instant they can fire at.
var differentialPatterns = []string{
	"* * * * *", "*/7 * * * *", "0 * * * *", "30 * * * *", "15,45 1-3 * * *", "0 0 * * *", "30 2 * * *",
	"0 2 * * *", "45 1 * * *", "0 23 * * *", "59 23 * * *", "0 12 * * *", "0 0 1 * *", "0 0 L * *",
	"30 1 * * 0", "0 0 * * 6L", "*/20 0-3 * * *", "0 3 * * *", "45 2 * * *",
}

// TestSchedule_NextInDifferential steps minute by minute through windows
// around every transition of several zones, deciding each instant by
// brute force (a first occurrence of a matching wall time, or the end of a
// gap that swallowed one), and compares with NextIn walked over the same
// window.
func TestSchedule_NextInDifferential(t *testing.T) {
	t.Parallel()
	for _, zone := range differentialZones {
		loc := mustZone(t, zone)
		year := 2026
		if zone == "Pacific/Apia" {
			year = 2011
		}
		var windows []time.Time
		for at := time.Date(year, 1, 1, 0, 0, 0, 0, time.UTC); at.Year() <= year; {
			_, end := at.In(loc).ZoneBounds()
			if end.IsZero() || end.Year() > year {
				break
			}
			windows = append(windows, end)
			at = end
		}
		// Every zone gets a quiet window too (Kolkata has nothing else).
		windows = append(windows, time.Date(year, 6, 15, 0, 0, 0, 0, time.UTC))
		for _, pattern := range differentialPatterns {
			s, err := Parse(pattern)
			if err != nil {
				t.Fatal(err)
			}
			for _, center := range windows {
				from, to := center.Add(-30*time.Hour), center.Add(30*time.Hour)
				want := bruteSlotsIn(s, loc, from, to)
				var got []time.Time
				for at := from; ; {
					next, ok := s.NextIn(at, loc)
					if !ok || !next.Before(to) {
						break
					}
					got = append(got, next)
					at = next
				}
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("%s %q around %s:\n NextIn:      %v\n brute force: %v", zone, pattern, center.In(loc), inZone(got, loc), inZone(want, loc))
				}
			}
		}
	}
}

func inZone(ts []time.Time, loc *time.Location) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.In(loc).Format("01-02T15:04-07:00")
	}
	return out
}

// bruteSlotsIn returns the instants in (from, to) at which a minute
// pattern fires in loc, found by looking at every minute: an instant fires
// when its wall time matches and was not shown before (the first
// occurrence), or when the wall clock jumped over a matching time not
// shown before (the end of a gap). It assumes whole-minute offsets.
func bruteSlotsIn(s *Schedule, loc *time.Location, from, to time.Time) []time.Time {
	matches := func(wall int64) bool {
		w := time.Unix(wall, 0).UTC()
		n, ok := s.Next(w.Add(-time.Second))
		return ok && n.Equal(w)
	}
	wallOf := func(t time.Time) int64 {
		_, off := t.In(loc).Zone()
		return t.Unix() + int64(off)
	}
	seen := map[int64]bool{}
	start := from.Truncate(time.Minute)
	for v := start.Add(-48 * time.Hour); !v.After(start); v = v.Add(time.Minute) {
		seen[wallOf(v)] = true
	}
	var out []time.Time
	prev := wallOf(start)
	for v := start.Add(time.Minute); v.Before(to); v = v.Add(time.Minute) {
		w := wallOf(v)
		fires := !seen[w] && matches(w)
		for m := prev + 60; m < w; m += 60 { // minutes the clock jumped over
			if !seen[m] && matches(m) {
				fires = true
			}
			seen[m] = true
		}
		seen[w] = true
		prev = w
		if fires && v.After(from) {
			out = append(out, v.UTC())
		}
	}
	return out
}

func FuzzNextIn(f *testing.F) {
	for i, p := range differentialPatterns {
		f.Add(p, uint8(i), int64(1772935200+i*86400*17)) // spread over 2026
	}
	f.Add("0 30 2 * * *", uint8(0), int64(1772920800))
	f.Add("0 0 0 L * *", uint8(2), int64(1775313000))
	zones := make([]*time.Location, len(differentialZones))
	for i, z := range differentialZones {
		zones[i] = mustZone(f, z)
	}
	f.Fuzz(func(t *testing.T, pattern string, zone uint8, afterUnix int64) {
		s, err := Parse(pattern)
		if err != nil || s.never {
			return
		}
		// 1900-2100: the years the zone database describes in detail.
		after := time.Unix(-2208988800+(afterUnix%6311433600+6311433600)%6311433600, 0)
		loc := zones[int(zone)%len(zones)]
		next, ok := s.NextIn(after, loc)
		if !ok {
			t.Fatalf("NextIn(%q, %s, %s) gave up on a pattern that fires", pattern, after, loc)
		}
		if !next.After(after) || next.Nanosecond() != 0 || next.Location() != time.UTC {
			t.Fatalf("NextIn(%q, %s, %s) = %s: not a whole UTC second after it", pattern, after, loc, next)
		}
		// The wall time shown at next matches, unless next ends a gap.
		wall := wallClock(next, loc)
		if n, ok := s.Next(wall.Add(-time.Second)); !ok || !n.Equal(wall) {
			if before := wallClock(next.Add(-time.Second), loc); wall.Sub(before) == time.Second {
				t.Fatalf("NextIn(%q, %s, %s) = %s, whose wall time %s does not match", pattern, after, loc, next, wall)
			}
		}
		// Minute patterns: nothing the brute force finds lies between.
		if s.second == 1 && next.Sub(after) < 48*time.Hour && whollyMinutes(loc, after, next) {
			if want := bruteSlotsIn(s, loc, after, next.Add(time.Minute)); len(want) == 0 || !want[0].Equal(next) {
				t.Fatalf("NextIn(%q, %s, %s) = %s; brute force %v", pattern, after, loc, next, want)
			}
		}
	})
}

// whollyMinutes reports whether loc's offsets between from and to (and a
// day before) are whole minutes, as the brute force assumes.
func whollyMinutes(loc *time.Location, from, to time.Time) bool {
	for t := from.Add(-49 * time.Hour); t.Before(to.Add(time.Hour)); t = t.Add(time.Hour) {
		if _, off := t.In(loc).Zone(); off%60 != 0 {
			return false
		}
	}
	return true
}

func BenchmarkNextIn(b *testing.B) {
	after := time.Date(2026, 3, 4, 10, 20, 30, 500_000_000, time.UTC)
	for _, p := range []string{"0 0 0 * * *", "*/15 * * * * *", "0 0 0 * * 5L"} {
		s, err := Parse(p)
		if err != nil {
			b.Fatal(err)
		}
		for _, zone := range []string{"UTC", "Asia/Kolkata", "America/New_York", "Australia/Lord_Howe"} {
			loc := mustZone(b, zone)
			b.Run(p+"/"+zone, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					s.NextIn(after, loc)
				}
			})
		}
	}
	// Across a transition, where the slow path runs.
	s, _ := Parse("*/15 * * * *")
	loc := mustZone(b, "America/New_York")
	gap := time.Date(2026, 3, 8, 6, 50, 0, 0, time.UTC)
	b.Run("*/15 * * * */America/New_York/gap", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			s.NextIn(gap, loc)
		}
	})
}
