package cron

import (
	"fmt"
	"math/bits"
	"strings"
	"time"
)

const (
	monthAbbrevs = "janfebmaraprmayjunjulaugsepoctnovdec"
	dayAbbrevs   = "sunmontuewedthufrisat"

	// numberCap bounds parsed numbers so that huge digit strings cannot
	// overflow; anything this large is out of every field's range anyway.
	numberCap = 1 << 20
)

// fieldSpec describes one of the six fields.
type fieldSpec struct {
	name     string
	min, max int
	names    string // three-letter names, in value order, or ""
	nameBase int    // value of the first name
	last     bool   // L forms allowed (day of month, day of week)
	weekday  bool   // day of week: 7 is Sunday, d#n and nL allowed
}

// fieldSpecs returns the six fields in pattern order.
func fieldSpecs() [6]fieldSpec {
	return [6]fieldSpec{
		{name: "second", min: 0, max: 59},
		{name: "minute", min: 0, max: 59},
		{name: "hour", min: 0, max: 23},
		{name: "day of month", min: 1, max: 31, last: true},
		{name: "month", min: 1, max: 12, names: monthAbbrevs, nameBase: 1},
		{name: "day of week", min: 0, max: 7, names: dayAbbrevs, last: true, weekday: true},
	}
}

// fieldResult is one parsed field.
type fieldResult struct {
	bits     uint64 // matching values; for day of week 7 is kept apart from 0
	star     bool   // the field is literally "*" or "?"
	last     bool   // day of month: L
	lastDays uint8  // day of week: weekdays (0-6) given as nL
	nth      int    // day of week: n of d#n, or 0
}

// fieldError is a parse failure inside one field.
type fieldError struct {
	value, reason string
}

func errorf(value, format string, args ...any) *fieldError {
	return &fieldError{value: value, reason: fmt.Sprintf(format, args...)}
}

// parseField parses one field's text.
func parseField(spec *fieldSpec, raw string) (fieldResult, *fieldError) {
	r := fieldResult{star: raw == "*" || raw == "?"}
	if strings.Contains(raw, "#") {
		return parseNth(spec, raw)
	}
	var seen, seenLast uint64
	for item := range strings.SplitSeq(raw, ",") {
		if item == "" {
			return r, errorf(raw, "empty item in list %q", raw)
		}
		if err := parseItem(spec, item, &r, &seen, &seenLast); err != nil {
			return r, err
		}
	}
	r.bits = seen
	return r, nil
}

// parseItem parses one list item into r, refusing values already seen.
// Upstream (cron-parser 5.6.2) refuses repeated values but, testing them for
// truthiness, lets a repeated 0 through; so does this.
func parseItem(spec *fieldSpec, item string, r *fieldResult, seen, seenLast *uint64) *fieldError {
	if spec.last && strings.HasSuffix(item, "L") {
		return parseLast(spec, item, r, seenLast)
	}

	lo, hi, step := spec.min, spec.max, 1
	isRange := false
	var rest string
	if item[0] == '*' || item[0] == '?' {
		isRange = true
		rest = item[1:]
		if rest != "" && rest[0] != '/' {
			if rest[0] == '-' {
				return errorf(item, "%q cannot start a range", item[:1])
			}
			return unexpected(spec, item, rest)
		}
	} else {
		var err *fieldError
		if lo, rest, err = scanValue(spec, item, item); err != nil {
			return err
		}
		hi = lo
		if strings.HasPrefix(rest, "-") {
			isRange = true
			if hi, rest, err = scanValue(spec, item, rest[1:]); err != nil {
				return err
			}
			if strings.HasPrefix(rest, "-") {
				return errorf(item, "range %q has more than one \"-\"", item)
			}
		}
	}
	if strings.HasPrefix(rest, "/") {
		text := rest[1:]
		if strings.HasPrefix(text, "H") {
			return hashed(item)
		}
		n, after := scanDigits(text)
		if len(after) == len(text) {
			return errorf(item, "step in %q must be a positive number", item)
		}
		step, rest = n, after
		if !isRange {
			// a/n means a-max/n.
			if lo < spec.min || lo > spec.max {
				return errorf(item, "value %d out of range %d-%d", lo, spec.min, spec.max)
			}
			isRange, hi = true, spec.max
		}
	}
	if rest != "" {
		return unexpected(spec, item, rest)
	}

	var values uint64
	if !isRange {
		if lo < spec.min || lo > spec.max {
			return errorf(item, "value %d out of range %d-%d", lo, spec.min, spec.max)
		}
		if spec.weekday {
			lo %= 7 // a single 7 is Sunday
		}
		values = 1 << lo
	} else {
		if lo < spec.min || hi > spec.max {
			return errorf(item, "range %d-%d out of range %d-%d", lo, hi, spec.min, spec.max)
		}
		if lo > hi {
			return errorf(item, "range %d-%d starts after it ends", lo, hi)
		}
		if step < 1 {
			return errorf(item, "step %d must be a positive number", step)
		}
		if spec.weekday && hi%7 == 0 {
			// Upstream adds Sunday to every weekday range that ends on 7,
			// whatever the step ("2-7/2" includes Sunday).
			values = 1
		}
		for v := lo; v <= hi; v += step {
			values |= 1 << v
		}
	}
	if dup := *seen & values &^ 1; dup != 0 {
		return errorf(item, "value %d listed more than once", lowest(dup))
	}
	*seen |= values
	return nil
}

// parseLast parses "L" (day of month) and "nL" (day of week).
func parseLast(spec *fieldSpec, item string, r *fieldResult, seenLast *uint64) *fieldError {
	if !spec.weekday {
		if item != "L" {
			return errorf(item, "%q is not supported: use L alone for the last day of the month", item)
		}
		if *seenLast != 0 {
			return errorf(item, "L listed more than once")
		}
		*seenLast, r.last = 1, true
		return nil
	}
	if item == "L" {
		return errorf(item, "L in day of week needs a weekday before it, such as 5L for the last friday")
	}
	v, rest, err := scanValue(spec, item, item[:len(item)-1])
	if err != nil {
		return err
	}
	if rest != "" {
		return errorf(item, "L cannot be combined with a range or step in %q", item)
	}
	if v > spec.max {
		return errorf(item, "value %d out of range %d-%d", v, spec.min, spec.max)
	}
	if *seenLast&(1<<v) != 0 {
		return errorf(item, "%q listed more than once", item)
	}
	*seenLast |= 1 << v
	r.lastDays |= 1 << (v % 7)
	return nil
}

// parseNth parses a day-of-week field of the form d#n.
func parseNth(spec *fieldSpec, raw string) (fieldResult, *fieldError) {
	var r fieldResult
	if !spec.weekday {
		return r, errorf(raw, "\"#\" is only allowed in day of week")
	}
	if strings.ContainsAny(raw, ",-/") {
		return r, errorf(raw, "\"#\" cannot be combined with lists, ranges or steps")
	}
	day, count, _ := strings.Cut(raw, "#")
	if strings.Contains(count, "#") {
		return r, errorf(raw, "only one \"#\" is allowed")
	}
	n, rest := scanDigits(count)
	if count == "" || rest != "" {
		return r, errorf(raw, "occurrence %q after \"#\" must be a number from 1 to 5", count)
	}
	if n < 1 || n > 5 {
		return r, errorf(raw, "occurrence %d out of range 1-5", n)
	}
	r.nth = n
	switch {
	case day == "*" || day == "?":
		r.bits = 0x7f
	case strings.HasSuffix(day, "L"):
		return r, errorf(raw, "L cannot be combined with \"#\"")
	default:
		v, rest, err := scanValue(spec, raw, day)
		if err != nil {
			return r, err
		}
		if rest != "" {
			return r, unexpected(spec, raw, rest)
		}
		if v < spec.min || v > spec.max {
			return r, errorf(raw, "value %d out of range %d-%d", v, spec.min, spec.max)
		}
		r.bits = 1 << (v % 7)
	}
	return r, nil
}

// scanValue reads a number or, where the field has them, a three-letter
// name from the start of s. item is the whole list item, for messages.
func scanValue(spec *fieldSpec, item, s string) (int, string, *fieldError) {
	if s == "" {
		return 0, s, errorf(item, "missing value in %q", item)
	}
	c := s[0]
	if c >= '0' && c <= '9' {
		n, rest := scanDigits(s)
		return n, rest, nil
	}
	if !isLetter(c) {
		return 0, s, unexpected(spec, item, s)
	}
	if c == 'H' {
		return 0, s, hashed(item)
	}
	end := 1
	for end < len(s) && isLetter(s[end]) {
		end++
	}
	word := s[:end]
	if word == "L" {
		return 0, s, unexpected(spec, item, s)
	}
	if spec.names == "" {
		return 0, s, errorf(item, "names are not allowed in this field, got %q", word)
	}
	if len(word) == 3 {
		lw := strings.ToLower(word)
		for i := 0; i+3 <= len(spec.names); i += 3 {
			if spec.names[i:i+3] == lw {
				return spec.nameBase + i/3, s[end:], nil
			}
		}
	}
	return 0, s, errorf(item, "unknown name %q, expected one of %s", word, nameList(spec.names))
}

// scanDigits reads leading decimal digits, saturating at numberCap.
func scanDigits(s string) (int, string) {
	n, i := 0, 0
	for ; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		n = min(n*10+int(s[i]-'0'), numberCap)
	}
	return n, s[i:]
}

func unexpected(spec *fieldSpec, item, rest string) *fieldError {
	if rest[0] == 'L' {
		if spec.last {
			return errorf(item, "L cannot be combined with a range or step in %q", item)
		}
		return errorf(item, "L is only allowed in day of month and day of week")
	}
	if rest[0] == 'H' {
		return hashed(item)
	}
	return errorf(item, "unexpected character %q in %q", rest[:1], item)
}

func hashed(item string) *fieldError {
	return errorf(item, "hashed value %q is not supported: upstream picks it at random on every parse, "+
		"so the hook would fire at a different time each time its schedule is read", item)
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func nameList(names string) string {
	var b strings.Builder
	for i := 0; i < len(names); i += 3 {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(names[i : i+3])
	}
	return b.String()
}

// lowest returns the lowest set bit of a non-zero mask.
func lowest(m uint64) int { return bits.TrailingZeros64(m) }

// onlyOne reports whether exactly one bit is set.
func onlyOne(m uint64) bool { return m != 0 && m&(m-1) == 0 }

// maxDays returns the most days month m (1-12) can have.
func maxDays(m int) int {
	switch m {
	case 2:
		return 29
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func monthName(m int) string { return strings.ToLower(time.Month(m).String()) }
