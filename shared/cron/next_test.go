package cron

import (
	"testing"
	"time"
)

func mustTime(tb testing.TB, s string) time.Time {
	tb.Helper()
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

func TestSchedule_Next(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, pattern, after, want string // want "" means it never fires
	}{
		// Fixtures and basics.
		{"daily", "0 0 0 * * *", "2026-03-04T10:20:30.5Z", "2026-03-05T00:00:00Z"},
		{"daily exactly on a slot", "0 0 0 * * *", "2026-03-05T00:00:00Z", "2026-03-06T00:00:00Z"},
		{"daily just before a slot", "0 0 0 * * *", "2026-03-04T23:59:59.999Z", "2026-03-05T00:00:00Z"},
		{"weekly friday", "0 0 0 * * 5", "2026-03-04T00:00:00Z", "2026-03-06T00:00:00Z"},
		{"weekday twice a day", "0 0 0,12 * * 1,2,3,4,5", "2026-03-06T12:00:00Z", "2026-03-09T00:00:00Z"},
		{"weekday noon", "0 0 0,12 * * 1,2,3,4,5", "2026-03-06T11:59:59Z", "2026-03-06T12:00:00Z"},
		{"biweekly", "0 0 12 1,14 * *", "2026-03-14T12:00:00Z", "2026-04-01T12:00:00Z"},
		{"monthly", "0 0 0 1,23 * *", "2026-03-01T00:00:00Z", "2026-03-23T00:00:00Z"},
		{"docs example", "0 0 9,21 * * 1-5", "2026-03-06T21:00:00Z", "2026-03-09T09:00:00Z"},

		// Milliseconds and strictly-after.
		{"every second drops millis", "* * * * * *", "2026-03-04T10:20:30.999Z", "2026-03-04T10:20:31Z"},
		{"every second on a whole second", "* * * * * *", "2026-03-04T10:20:30Z", "2026-03-04T10:20:31Z"},
		{"every second at minute end", "* * * * * *", "2026-03-04T10:20:59.5Z", "2026-03-04T10:21:00Z"},
		{"non-UTC input", "0 0 0 * * *", "2026-03-04T23:30:00-05:00", "2026-03-06T00:00:00Z"},

		// Five fields, empty string, predefined names.
		{"five fields", "*/15 * * * *", "2026-03-04T10:20:30Z", "2026-03-04T10:30:00Z"},
		{"five fields seconds are zero", "* * * * *", "2026-03-04T10:20:00Z", "2026-03-04T10:21:00Z"},
		{"empty string", "", "2026-03-04T10:20:30Z", "2026-03-04T10:21:00Z"},
		{"empty string on a slot", "", "2026-03-04T10:20:00Z", "2026-03-04T10:21:00Z"},
		{"@yearly", "@yearly", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"@annually", "@annually", "2026-06-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"@monthly", "@monthly", "2026-12-01T00:00:00Z", "2027-01-01T00:00:00Z"},
		{"@weekly", "@weekly", "2026-03-01T00:00:00Z", "2026-03-08T00:00:00Z"},
		{"@daily", "@daily", "2026-02-28T12:00:00Z", "2026-03-01T00:00:00Z"},
		{"@hourly", "@hourly", "2026-03-04T23:00:00Z", "2026-03-05T00:00:00Z"},
		{"@minutely", "@minutely", "2026-03-04T23:59:00Z", "2026-03-05T00:00:00Z"},
		{"@secondly", "@secondly", "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z"},
		{"@weekdays", "@weekdays", "2026-03-06T00:00:00Z", "2026-03-09T00:00:00Z"},
		{"@weekends", "@weekends", "2026-03-02T00:00:00Z", "2026-03-07T00:00:00Z"},
		{"@weekends sunday", "@weekends", "2026-03-07T00:00:00Z", "2026-03-08T00:00:00Z"},

		// Month ends and leap years.
		{"31st skips 30-day months", "0 0 0 31 * *", "2026-04-01T00:00:00Z", "2026-05-31T00:00:00Z"},
		{"31st skips february", "0 0 0 31 * *", "2026-01-31T00:00:00Z", "2026-03-31T00:00:00Z"},
		{"30th skips february", "0 0 0 30 * *", "2026-01-30T00:00:00Z", "2026-03-30T00:00:00Z"},
		{"feb 29 only in leap years", "0 0 0 29 2 *", "2025-03-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"feb 29 skips 2100", "0 0 0 29 2 *", "2096-03-01T00:00:00Z", "2104-02-29T00:00:00Z"},
		{"feb 29 in 2000", "0 0 0 29 2 *", "1999-01-01T00:00:00Z", "2000-02-29T00:00:00Z"},
		{"L in february", "0 0 0 L * *", "2026-02-01T00:00:00Z", "2026-02-28T00:00:00Z"},
		{"L in leap february", "0 0 0 L * *", "2028-02-01T00:00:00Z", "2028-02-29T00:00:00Z"},
		{"L after a 30th", "0 0 0 L * *", "2026-04-30T00:00:00Z", "2026-05-31T00:00:00Z"},
		{"L in february 2100", "0 0 0 L 2 *", "2099-03-01T00:00:00Z", "2100-02-28T00:00:00Z"},
		{"L or 15th", "0 0 0 L,15 * *", "2026-03-15T00:00:00Z", "2026-03-31T00:00:00Z"},

		// nL and d#n.
		{"last friday", "0 0 0 * * 5L", "2026-03-01T00:00:00Z", "2026-03-27T00:00:00Z"},
		{"last friday by name", "0 0 0 * * FriL", "2026-03-01T00:00:00Z", "2026-03-27T00:00:00Z"},
		{"last sunday as 7L", "0 0 0 * * 7L", "2026-03-01T00:00:00Z", "2026-03-29T00:00:00Z"},
		{"last sunday as 0L", "0 0 0 * * 0L", "2026-03-01T00:00:00Z", "2026-03-29T00:00:00Z"},
		{"last monday of feb", "0 0 0 * 2 1L", "2026-03-01T00:00:00Z", "2027-02-22T00:00:00Z"},
		{"last friday after it", "0 0 0 * * 5L", "2026-03-27T00:00:00Z", "2026-04-24T00:00:00Z"},
		{"first monday", "0 0 0 * * 1#1", "2026-03-02T00:00:00Z", "2026-04-06T00:00:00Z"},
		{"first sunday as 7#1", "0 0 0 * * 7#1", "2026-03-02T00:00:00Z", "2026-04-05T00:00:00Z"},
		{"fifth monday", "0 0 0 * * mon#5", "2026-03-01T00:00:00Z", "2026-03-30T00:00:00Z"},
		{"fifth monday of february", "0 0 0 * 2 1#5", "2017-01-01T00:00:00Z", "2044-02-29T00:00:00Z"},
		{"second week", "0 0 0 * * *#2", "2026-03-15T00:00:00Z", "2026-04-08T00:00:00Z"},

		// Day of month and day of week together.
		{"or: the 13th on a monday", "0 0 0 13 * 5", "2026-04-10T00:00:00Z", "2026-04-13T00:00:00Z"},
		{"or: a friday", "0 0 0 13 * 5", "2026-03-28T00:00:00Z", "2026-04-03T00:00:00Z"},
		{"and-like: dom only", "0 0 0 13 * *", "2026-03-14T00:00:00Z", "2026-04-13T00:00:00Z"},
		{"and-like: dom with ?", "0 0 0 13 * ?", "2026-03-14T00:00:00Z", "2026-04-13T00:00:00Z"},
		{"and-like: dow only", "0 0 0 * * 5", "2026-04-10T00:00:00Z", "2026-04-17T00:00:00Z"},
		{"and-like: dow with ?", "0 0 0 ? * 5", "2026-04-10T00:00:00Z", "2026-04-17T00:00:00Z"},
		{"*/1 is restricted so or applies", "0 0 0 */1 * 1", "2026-03-04T00:00:00Z", "2026-03-05T00:00:00Z"},
		{"or with L", "0 0 0 L * 3", "2026-03-26T00:00:00Z", "2026-03-31T00:00:00Z"},
		{"or with #", "0 0 0 1 * 1#2", "2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"},
		{"day of week rescues feb 30", "0 0 0 30 2 1", "2026-01-31T00:00:00Z", "2026-02-02T00:00:00Z"},

		// Lists, ranges, steps, names.
		{"steps in three fields", "0 */20 9-17/4 * * *", "2026-03-04T13:40:00Z", "2026-03-04T17:00:00Z"},
		{"steps past the last hour", "0 */20 9-17/4 * * *", "2026-03-04T17:40:00Z", "2026-03-05T09:00:00Z"},
		{"a/n", "0 5/20 * * * *", "2026-03-04T10:45:00Z", "2026-03-04T11:05:00Z"},
		{"second steps", "*/15 * * * * *", "2026-03-04T10:20:46Z", "2026-03-04T10:21:00Z"},
		{"month names", "0 30 9 1 jan,JUL *", "2026-03-04T00:00:00Z", "2026-07-01T09:30:00Z"},
		{"month name range", "0 0 0 1 Oct-dec *", "2026-03-04T00:00:00Z", "2026-10-01T00:00:00Z"},
		{"day name range", "0 0 0 * * Fri-SAT", "2026-03-02T00:00:00Z", "2026-03-06T00:00:00Z"},
		{"only the smallest day is checked", "0 0 0 31,30 4 ?", "2026-01-01T00:00:00Z", "2026-04-30T00:00:00Z"},
		{"7 is sunday", "0 0 0 * * 7", "2026-03-02T00:00:00Z", "2026-03-08T00:00:00Z"},
		{"range to 7", "0 0 0 * * 6-7", "2026-03-07T00:00:00Z", "2026-03-08T00:00:00Z"},
		{"2-7/2 includes sunday", "0 0 0 * * 2-7/2", "2026-03-07T00:00:00Z", "2026-03-08T00:00:00Z"},
		{"month steps", "0 0 0 1 */5 *", "2026-06-02T00:00:00Z", "2026-11-01T00:00:00Z"},
		{"all fields lists", "1,2 3,4 5,6 7,8 9,10 *", "2026-09-08T06:04:02Z", "2026-10-07T05:03:01Z"},

		// Year boundaries.
		{"new year", "0 0 0 1 1 *", "2026-12-31T23:59:59Z", "2027-01-01T00:00:00Z"},
		{"last second of the year", "59 59 23 31 12 *", "2026-12-31T23:59:59Z", "2027-12-31T23:59:59Z"},
		{"last second before it", "59 59 23 31 12 *", "2026-12-31T23:59:58.9Z", "2026-12-31T23:59:59Z"},
		{"december only", "0 0 0 * 12 *", "2026-12-31T00:00:00Z", "2027-12-01T00:00:00Z"},
		{"time rolls into next month", "0 0 0 * * *", "2026-01-31T23:59:59Z", "2026-02-01T00:00:00Z"},

		// Never fires.
		{"31st of april and june", "0 0 0 31 4,6 *", "2026-01-01T00:00:00Z", ""},
		{"31st of short months", "0 0 0 31 2,4,6,9,11 *", "2026-01-01T00:00:00Z", ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(tt.pattern)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.pattern, err)
			}
			after := mustTime(t, tt.after)
			got, ok := s.Next(after)
			if tt.want == "" {
				if ok {
					t.Fatalf("Next(%s) = %s, want none", tt.after, got)
				}
				return
			}
			want := mustTime(t, tt.want)
			if !ok || !got.Equal(want) {
				t.Fatalf("Next(%s) = %s, %v; want %s", tt.after, got.Format(time.RFC3339Nano), ok, tt.want)
			}
			if got.Location() != time.UTC || got.Nanosecond() != 0 {
				t.Errorf("Next returned %v, want UTC with no fraction", got)
			}
			if o, ook := bruteNext(s, after, 30*366*24*time.Hour); !ook || !o.Equal(got) {
				t.Errorf("brute-force search found %s, %v; Next found %s", o, ook, got)
			}
		})
	}
}

// TestSchedule_NextSequence follows Next across many firings and compares
// each with a brute-force search.
func TestSchedule_NextSequence(t *testing.T) {
	t.Parallel()
	for _, p := range []string{
		"0 0 0 * * *", "0 0 0,12 * * 1,2,3,4,5", "0 0 12 1,14 * *", "0 0 0 1,23 * *",
		"*/7 */13 */5 * * *", "0 0 0 L * *", "0 0 0 * * 5L", "0 0 0 * * 3#5", "0 0 0 13 * 5",
		"0 0 0 L,15 */2 0L,3", "0 0 6 29 2 *", "0 0 0 * * 2-7/2", "30 15 10 */3 * 1/2",
		"0 0 0 31 * *", "0 0 0 * * *#5", "@weekends",
	} {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(p)
			if err != nil {
				t.Fatal(err)
			}
			at := mustTime(t, "2026-12-25T07:08:09.01Z")
			for i := range 40 {
				got, ok := s.Next(at)
				want, wok := bruteNext(s, at, 10*366*24*time.Hour)
				if ok != wok || !got.Equal(want) {
					t.Fatalf("step %d after %s: Next = %s, %v; brute force = %s, %v", i, at, got, ok, want, wok)
				}
				at = got
			}
		})
	}
}

func TestNextDate(t *testing.T) {
	t.Parallel()
	parse := func(patterns ...string) []*Schedule {
		var out []*Schedule
		for _, p := range patterns {
			s, err := Parse(p)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, s)
		}
		return out
	}
	after := mustTime(t, "2026-03-04T10:20:30.25Z")
	for _, tt := range []struct {
		name   string
		scheds []*Schedule
		want   time.Time
		wantOK bool
	}{
		{name: "nil list", scheds: nil, want: NoSchedule(), wantOK: true},
		{name: "empty list", scheds: []*Schedule{}, want: NoSchedule(), wantOK: true},
		{name: "one", scheds: parse("0 0 0 * * *"), want: mustTime(t, "2026-03-05T00:00:00Z"), wantOK: true},
		{name: "earliest wins", scheds: parse("0 0 0 * * *", "0 30 10 * * *", "0 0 12 * * *"),
			want: mustTime(t, "2026-03-04T10:30:00Z"), wantOK: true},
		{name: "overlapping", scheds: parse("0 0 * * * *", "@hourly"),
			want: mustTime(t, "2026-03-04T11:00:00Z"), wantOK: true},
		{name: "never-firing entry skipped", scheds: parse("0 0 0 31 4,6 *", "0 0 0 * * *"),
			want: mustTime(t, "2026-03-05T00:00:00Z"), wantOK: true},
		{name: "nil entry skipped", scheds: append(parse("@daily"), nil),
			want: mustTime(t, "2026-03-05T00:00:00Z"), wantOK: true},
		{name: "none fires", scheds: parse("0 0 0 31 4,6 *"), wantOK: false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, ok := NextDate(tt.scheds, after)
			if ok != tt.wantOK || !got.Equal(tt.want) {
				t.Errorf("NextDate = %s, %v; want %s, %v", got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestNoSchedule(t *testing.T) {
	t.Parallel()
	want := "4000-02-01T00:00:00Z"
	if got := NoSchedule().Format(time.RFC3339Nano); got != want {
		t.Errorf("NoSchedule() = %s, want %s", got, want)
	}
}

func TestSchedule_NextZero(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		s    *Schedule
	}{
		{name: "nil", s: nil},
		{name: "zero value", s: &Schedule{}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got, ok := tt.s.Next(mustTime(t, "2026-01-01T00:00:00Z")); ok {
				t.Errorf("Next = %s, true; want false", got)
			}
		})
	}
}

// TestWeekdayOfFirst checks the calendar arithmetic against package time
// over several 400-year cycles, negative years included.
func TestWeekdayOfFirst(t *testing.T) {
	t.Parallel()
	for _, span := range []struct{ from, to int }{{-801, -399}, {-1, 1}, {1582, 2500}, {9999, 10001}} {
		for y := span.from; y <= span.to; y++ {
			for m := 1; m <= 12; m++ {
				want := int(time.Date(y, time.Month(m), 1, 0, 0, 0, 0, time.UTC).Weekday())
				if got := weekdayOfFirst(y, m); got != want {
					t.Fatalf("weekdayOfFirst(%d, %d) = %d, want %d", y, m, got, want)
				}
				wantDays := time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day()
				if got := daysIn(y, m); got != wantDays {
					t.Fatalf("daysIn(%d, %d) = %d, want %d", y, m, got, wantDays)
				}
			}
		}
	}
}

// bruteNext is a slow reference for Next. It steps through time with
// package time, using only the parsed value sets, and decides day matches
// with calendar arithmetic of its own (not dayMask). It gives up after limit.
func bruteNext(s *Schedule, after time.Time, limit time.Duration) (time.Time, bool) {
	t := after.UTC().Truncate(time.Second).Add(time.Second)
	end := t.Add(limit)
	for t.Before(end) {
		switch {
		case s.month&(1<<int(t.Month())) == 0:
			t = time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
		case !bruteDay(s, t):
			t = time.Date(t.Year(), t.Month(), t.Day()+1, 0, 0, 0, 0, time.UTC)
		case s.hour&(1<<t.Hour()) == 0:
			t = t.Truncate(time.Hour).Add(time.Hour)
		case s.minute&(1<<t.Minute()) == 0:
			t = t.Truncate(time.Minute).Add(time.Minute)
		case s.second&(1<<t.Second()) == 0:
			t = t.Add(time.Second)
		default:
			return t, true
		}
	}
	return time.Time{}, false
}

func bruteDay(s *Schedule, t time.Time) bool {
	day, wd := t.Day(), int(t.Weekday())
	domOK := s.dom&(1<<day) != 0 || s.domLast && t.AddDate(0, 0, 1).Day() == 1
	isLastOfWeekday := t.AddDate(0, 0, 7).Month() != t.Month()
	dowOK := s.dow&(1<<wd) != 0 && (s.nth == 0 || (day-1)/7+1 == s.nth) ||
		s.dowLast&(1<<wd) != 0 && isLastOfWeekday
	switch {
	case s.domStar && s.dowStar:
		return true
	case s.domStar:
		return dowOK
	case s.dowStar:
		return domOK
	}
	return domOK || dowOK
}

func FuzzParse(f *testing.F) {
	for _, seed := range []string{
		"", "0 0 0 * * *", "0 0 0,12 * * 1,2,3,4,5", "0 0 12 1,14 * *", "0 0 0 1,23 * *", "0 0 0 * * 5",
		"0 0 3 0 * *", "0 0 0 31 4,6 *", "0 0 0 29 2 *", "0 0 0 L * *", "0 0 0 * * 5L", "0 0 0 * 2 1#5",
		"@weekdays", "@bogus", "*/15 * * * *", "H * * * * *", "0 0 0 * * 2-7/2", "0 0 0 30 2 1",
		"1-2-3 * * * * *", "0 0 0 * JAN-mar,Dec Mon-FRI", "0 0 0 * * *#2", "*/99999999999999999999 * * * * *",
		"0 0 0 L,15 */2 0L,3", "? ? ? ? ? ?", "0,0 * * * * *",
	} {
		f.Add(seed)
	}
	afters := []time.Time{
		time.Date(2026, 3, 4, 10, 20, 30, 500_000_000, time.UTC),
		time.Date(2028, 2, 29, 23, 59, 59, 0, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
	}
	f.Fuzz(func(t *testing.T, pattern string) {
		s, err := Parse(pattern)
		verr := Validate(pattern)
		if err != nil {
			if verr == nil {
				t.Fatalf("Parse(%q) failed (%v) but Validate passed", pattern, err)
			}
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("Parse(%q) error %T is not a *ParseError", pattern, err)
			}
			return
		}
		for _, after := range afters {
			next, ok := s.Next(after)
			if ok != (verr == nil) {
				t.Fatalf("Next(%q) ok = %v, but Validate = %v", pattern, ok, verr)
			}
			if !ok {
				continue
			}
			if !next.After(after) || next.Nanosecond() != 0 || next.Location() != time.UTC {
				t.Fatalf("Next(%q, %s) = %s: not a whole UTC second after it", pattern, after, next)
			}
			// Nothing between after and next: the brute-force search over
			// that span must land on next too.
			if next.Sub(after) < 48*time.Hour {
				if b, bok := bruteNext(s, after, 49*time.Hour); !bok || !b.Equal(next) {
					t.Fatalf("Next(%q, %s) = %s; brute force = %s, %v", pattern, after, next, b, bok)
				}
			}
		}
	})
}

func BenchmarkNext(b *testing.B) {
	after := time.Date(2026, 3, 4, 10, 20, 30, 500_000_000, time.UTC)
	for _, p := range []string{
		"0 0 0 * * *",            // daily (fixture)
		"0 0 0,12 * * 1,2,3,4,5", // weekdays (fixture)
		"*/15 * * * * *",         // within the minute
		"0 0 0 * * 5L",           // last Friday
		"0 0 0 29 2 *",           // two years ahead
		"0 0 0 * 2 1#5",          // 18 years ahead (2044)
		"0 0 0 31 4,6 *",         // never fires
	} {
		s, err := Parse(p)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(p, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				s.Next(after)
			}
		})
	}
}

func BenchmarkParse(b *testing.B) {
	for _, p := range []string{"0 0 0,12 * * 1,2,3,4,5", "0 0 0 31 4,6 *"} {
		b.Run(p, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Parse(p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
