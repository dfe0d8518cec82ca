package cron

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNeverFires is wrapped by the *ParseError that Validate and ParseAll
// return for a pattern that parses but matches no date at all.
var ErrNeverFires = errors.New("cron: pattern never fires")

// ParseError describes a pattern that cannot be used. Field names the field
// at fault ("second", "minute", "hour", "day of month", "month" or
// "day of week"), or is empty when the pattern as a whole is wrong (wrong
// number of fields, unknown predefined name, never fires).
type ParseError struct {
	// Pattern is the pattern exactly as it was given.
	Pattern string
	// Field is the name of the offending field, or "".
	Field string
	// Value is the offending part of the field, such as "0" or "5-2", or "".
	Value string
	// Reason says what is wrong, in lower case.
	Reason string
	// Err is a sentinel the error wraps (ErrNeverFires), or nil.
	Err error
}

// Error formats the error as
// `cron: field "<field>": <reason> in "<pattern>"`.
func (e *ParseError) Error() string {
	if e.Field == "" {
		return fmt.Sprintf("cron: %s in %q", e.Reason, e.Pattern)
	}
	return fmt.Sprintf("cron: field %q: %s in %q", e.Field, e.Reason, e.Pattern)
}

// Unwrap returns the sentinel the error wraps, if any.
func (e *ParseError) Unwrap() error { return e.Err }

// Schedule is one parsed cron pattern. It is immutable and safe for
// concurrent use. The zero Schedule never fires.
type Schedule struct {
	pattern string

	second uint64 // bits 0-59
	minute uint64 // bits 0-59
	hour   uint64 // bits 0-23
	dom    uint64 // bits 1-31
	month  uint64 // bits 1-12

	domLast bool // L: the last day of the month
	domStar bool // day of month is literally * or ?
	dowStar bool // day of week is literally * or ?

	// dowByFirst[w] holds the days (bits 1-35) that match the plain
	// day-of-week items, or the d#n item, in a month whose first day is
	// weekday w. Days beyond the month's length are masked off later.
	dowByFirst [7]uint64
	dowLast    uint8 // bits 0-6: weekdays whose last occurrence matches (nL)
	dow        uint8 // bits 0-6: weekdays of the plain or d#n items
	nth        int   // n of d#n, or 0

	firstSecond, firstMinute, firstHour int

	never bool // no date in a whole 400-year cycle matches
}

// predefined maps upstream's predefined names to the patterns they stand
// for. Upstream looks the whole pattern up exactly, so " @daily" and
// "@DAILY" are not predefined names.
func predefined(name string) (string, bool) {
	switch name {
	case "@yearly", "@annually":
		return "0 0 0 1 1 *", true
	case "@monthly":
		return "0 0 0 1 * *", true
	case "@weekly":
		return "0 0 0 * * 0", true
	case "@daily":
		return "0 0 0 * * *", true
	case "@hourly":
		return "0 0 * * * *", true
	case "@minutely":
		return "0 * * * * *", true
	case "@secondly":
		return "* * * * * *", true
	case "@weekdays":
		return "0 0 0 * * 1-5", true
	case "@weekends":
		return "0 0 0 * * 0,6", true
	}
	return "", false
}

// NoSchedule returns 4000-02-01T00:00:00Z, the next date upstream gives a
// hook whose schedule is empty: a moment that is never due.
func NoSchedule() time.Time { return time.Date(4000, time.February, 1, 0, 0, 0, 0, time.UTC) }

// Parse parses one pattern as upstream's cron-parser 5.6.2 would, with the
// differences listed in the package documentation. A pattern that parses
// but can never fire is accepted (as upstream accepts it); use Validate to
// refuse it too. Errors are *ParseError.
func Parse(pattern string) (*Schedule, error) {
	expr := pattern
	if expr == "" {
		expr = "0 * * * * *"
	} else if p, ok := predefined(expr); ok {
		expr = p
	}
	fields := strings.Fields(expr)
	if len(fields) == 1 && strings.HasPrefix(fields[0], "@") {
		return nil, &ParseError{Pattern: pattern, Value: fields[0],
			Reason: fmt.Sprintf("unknown predefined schedule %q", fields[0])}
	}
	switch len(fields) {
	case 6:
	case 5:
		fields = append([]string{"0"}, fields...)
	default:
		return nil, &ParseError{Pattern: pattern,
			Reason: fmt.Sprintf("expected 6 fields (second minute hour day-of-month month day-of-week) or 5 (minute first), found %d", len(fields))}
	}
	return build(pattern, fields, false)
}

// build parses six fields. With vixieDays, a day field counts as
// unrestricted when it starts with "*" (the standard form's rule) instead
// of only when it is exactly "*" or "?" (upstream's).
func build(pattern string, fields []string, vixieDays bool) (*Schedule, error) {
	s := &Schedule{pattern: pattern}
	var res [6]fieldResult
	specs := fieldSpecs()
	for i, spec := range specs {
		r, ferr := parseField(&spec, fields[i])
		if ferr != nil {
			return nil, &ParseError{Pattern: pattern, Field: spec.name, Value: ferr.value, Reason: ferr.reason}
		}
		res[i] = r
	}
	sec, mins, hrs, dom, mon, dow := res[0], res[1], res[2], res[3], res[4], res[5]
	s.second, s.minute, s.hour, s.dom, s.month = sec.bits, mins.bits, hrs.bits, dom.bits, mon.bits
	s.domLast, s.domStar, s.dowStar = dom.last, dom.star, dow.star
	if vixieDays {
		s.domStar, s.dowStar = strings.HasPrefix(fields[3], "*"), strings.HasPrefix(fields[5], "*")
	}
	s.dowLast = dow.lastDays
	s.firstSecond = lowest(s.second)
	s.firstMinute = lowest(s.minute)
	s.firstHour = lowest(s.hour)

	// Fold 7 into 0: both mean Sunday.
	weekdays := dow.bits&0x7f | dow.bits>>7&1
	s.dow, s.nth = uint8(weekdays), dow.nth
	for w := range 7 {
		var m uint64
		for k := range 7 {
			if weekdays&(1<<k) == 0 {
				continue
			}
			first := 1 + (k-w+7)%7 // the first day of the month that is weekday k
			if dow.nth > 0 {
				m |= 1 << (first + 7*(dow.nth-1))
			} else {
				m |= everyWeek << (first - 1)
			}
		}
		s.dowByFirst[w] = m
	}

	// Upstream's only parse-time date check: with a single month and no day
	// of week to rescue it, the smallest day of month must exist in that
	// month in some year (so February 29 passes).
	if onlyOne(s.month) && !s.domLast && s.dowStar && s.dom != 0 {
		m := lowest(s.month)
		if d := lowest(s.dom); d > maxDays(m) {
			return nil, &ParseError{Pattern: pattern, Field: specs[3].name, Value: fields[3],
				Reason: fmt.Sprintf("day %d never occurs in %s", d, monthName(m))}
		}
	}

	s.never = !s.firesInCycle()
	return s, nil
}

// Validate parses pattern and also refuses a pattern that can never fire,
// such as "0 0 0 31 4,6 *" (no April or June has 31 days). Upstream accepts
// that pattern and then fails when it computes the next date. Errors are
// *ParseError; a never-firing pattern's error wraps ErrNeverFires.
func Validate(pattern string) error {
	_, err := parseFiring(pattern)
	return err
}

func parseFiring(pattern string) (*Schedule, error) {
	s, err := Parse(pattern)
	if err != nil {
		return nil, err
	}
	if s.never {
		f := strings.Fields(s.expanded())
		return nil, &ParseError{Pattern: pattern, Err: ErrNeverFires, Reason: fmt.Sprintf(
			"never fires: no date has day of month %q, month %q and day of week %q", f[3], f[4], f[5])}
	}
	return s, nil
}

// expanded returns the six fields the pattern stands for.
func (s *Schedule) expanded() string {
	if s.pattern == "" {
		return "0 * * * * *"
	}
	if p, ok := predefined(s.pattern); ok {
		return p
	}
	f := strings.Fields(s.pattern)
	if len(f) == 5 {
		return "0 " + strings.Join(f, " ")
	}
	return strings.Join(f, " ")
}

// ParseAll parses a hook's schedule list. Like Validate, it refuses entries
// that never fire, so everything it returns has a next date. The error is
// the first entry's *ParseError, whose message ends with `in "<entry>"`.
func ParseAll(patterns []string) ([]*Schedule, error) {
	out := make([]*Schedule, 0, len(patterns))
	for _, p := range patterns {
		s, err := parseFiring(p)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// String returns the pattern as it was given to Parse.
func (s *Schedule) String() string { return s.pattern }

// NextDate returns the earliest Next over schedules: upstream's nextDate. For
// an empty list it returns NoSchedule() and true. Schedules that never fire
// (and nil entries) are skipped; it returns false only when none fires.
func NextDate(schedules []*Schedule, after time.Time) (time.Time, bool) {
	if len(schedules) == 0 {
		return NoSchedule(), true
	}
	var best time.Time
	found := false
	for _, s := range schedules {
		t, ok := s.Next(after)
		if ok && (!found || t.Before(best)) {
			best, found = t, true
		}
	}
	return best, found
}
