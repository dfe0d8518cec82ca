package cron

import (
	"math/bits"
	"time"
)

const (
	// everyWeek has bits 1, 8, 15, 22 and 29: the days that share day 1's
	// weekday. Shifted left by k it gives the days k places later.
	everyWeek uint64 = 1<<1 | 1<<8 | 1<<15 | 1<<22 | 1<<29

	// cycleYears is the Gregorian cycle: after 400 years (146097 days, a
	// whole number of weeks) dates, leap days and weekdays all repeat.
	cycleYears = 400

	// maxMonthVisits caps Next's search. A pattern that fires matches some
	// day in every 400-year window, and Next visits each month at most
	// once, so it finds the date well within this many visits.
	maxMonthVisits = cycleYears*12 + 1
)

// Next returns the first time strictly after `after` that the pattern
// matches: a whole second in UTC (so milliseconds are zero). It returns
// false if the pattern never fires, in which case it answers at once.
func (s *Schedule) Next(after time.Time) (time.Time, bool) {
	if s == nil || s.month == 0 || s.never {
		return time.Time{}, false
	}
	// The first candidate is the next whole second.
	t := after.UTC().Truncate(time.Second).Add(time.Second)
	y, mon, d := t.Date()
	h, mi, sec := t.Clock()
	m := int(mon)

	for range maxMonthVisits {
		if s.month&(1<<m) == 0 {
			next := nextBit(s.month, m+1)
			if next < 0 {
				y++
				next = lowest(s.month)
			}
			m, d, h, mi, sec = next, 1, 0, 0, 0
		}
		days := s.dayMask(y, m) >> d << d // days from d on
		for days != 0 {
			day := bits.TrailingZeros64(days)
			if day != d {
				return time.Date(y, time.Month(m), day, s.firstHour, s.firstMinute, s.firstSecond, 0, time.UTC), true
			}
			if hh, mm, ss, ok := s.timeFrom(h, mi, sec); ok {
				return time.Date(y, time.Month(m), day, hh, mm, ss, 0, time.UTC), true
			}
			days &^= 1 << day
		}
		m++
		if m > 12 {
			m, y = 1, y+1
		}
		d, h, mi, sec = 1, 0, 0, 0
	}
	return time.Time{}, false
}

// timeFrom returns the first matching time of day at or after h:mi:sec, or
// false if none is left in the day.
func (s *Schedule) timeFrom(h, mi, sec int) (int, int, int, bool) {
	if s.hour&(1<<h) != 0 {
		if s.minute&(1<<mi) != 0 {
			if ss := nextBit(s.second, sec); ss >= 0 {
				return h, mi, ss, true
			}
		}
		if mm := nextBit(s.minute, mi+1); mm >= 0 {
			return h, mm, s.firstSecond, true
		}
	}
	if hh := nextBit(s.hour, h+1); hh >= 0 {
		return hh, s.firstMinute, s.firstSecond, true
	}
	return 0, 0, 0, false
}

// dayMask returns the days (bits 1-31) of month m of year y that the day of
// month and day of week fields accept.
func (s *Schedule) dayMask(y, m int) uint64 {
	n := daysIn(y, m)
	all := uint64(1)<<(n+1) - 2 // days 1..n
	if s.domStar && s.dowStar {
		return all
	}
	var byDay, byWeekday uint64
	if !s.domStar {
		byDay = s.dom & all
		if s.domLast {
			byDay |= 1 << n
		}
	}
	if !s.dowStar {
		first := weekdayOfFirst(y, m)
		byWeekday = s.dowByFirst[first] & all
		if s.dowLast != 0 {
			lastWeekday := (first + n - 1) % 7
			for k := range 7 {
				if s.dowLast&(1<<k) != 0 {
					byWeekday |= 1 << (n - (lastWeekday-k+7)%7)
				}
			}
		}
	}
	switch {
	case s.domStar:
		return byWeekday
	case s.dowStar:
		return byDay
	}
	// Both restricted: upstream matches a day if either field does.
	return byDay | byWeekday
}

// firesInCycle reports whether any day of one whole 400-year cycle
// matches. Every field holds at least one value, so a matching day always
// has a matching time.
func (s *Schedule) firesInCycle() bool {
	for y := 2000; y < 2000+cycleYears; y++ {
		for m := 1; m <= 12; m++ {
			if s.month&(1<<m) != 0 && s.dayMask(y, m) != 0 {
				return true
			}
		}
	}
	return false
}

// nextBit returns the lowest set bit of mask at or above from, or -1.
func nextBit(mask uint64, from int) int {
	if from >= 64 {
		return -1
	}
	rest := mask >> from
	if rest == 0 {
		return -1
	}
	return from + bits.TrailingZeros64(rest)
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// daysIn returns the number of days in month m (1-12) of year y.
func daysIn(y, m int) int {
	if m == 2 && isLeap(y) {
		return 29
	}
	if m == 2 {
		return 28
	}
	return maxDays(m)
}

// weekdayOfFirst returns the weekday (0 = Sunday) of the first day of month
// m of year y in the proleptic Gregorian calendar. It counts days from
// 0000-03-01 in whole 400-year eras, with years starting in March so the
// leap day falls at the end.
func weekdayOfFirst(y, m int) int {
	if m <= 2 {
		y--
	}
	era := y / cycleYears
	if y < 0 && y%cycleYears != 0 {
		era--
	}
	yearOfEra := y - era*cycleYears           // 0-399
	monthFromMarch := (m + 9) % 12            // March = 0
	dayOfYear := (153*monthFromMarch + 2) / 5 // day 1 of the month, 0-based
	dayOfEra := yearOfEra*365 + yearOfEra/4 - yearOfEra/100 + dayOfYear
	// 0000-03-01 was a Wednesday (3); an era is a whole number of weeks.
	return (dayOfEra + 3) % 7
}
