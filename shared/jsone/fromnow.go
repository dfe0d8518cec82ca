package jsone

import (
	"errors"
	"time"
)

const (
	msSecond = int64(1000)
	msMinute = 60 * msSecond
	msHour   = 60 * msMinute
	msDay    = 24 * msHour
	// maxOffsetMs bounds an offset well past anything an ISO 8601 year in
	// 0000-9999 can express, and keeps the sum far from overflowing.
	maxOffsetMs = int64(1e15)
)

// isoLayout is the JavaScript Date#toISOString format, always in UTC.
const isoLayout = "2006-01-02T15:04:05.000Z"

// fromNowValue is fromNow with a one-entry memo of its boxed result:
// templates often compute the same expiry for every item of a $map.
func (r *renderer) fromNowValue(offset, ref string) (any, error) {
	if r.lastOK && r.lastOff == offset && r.lastRef == ref {
		return r.lastVal, nil
	}
	s, err := r.fromNow(offset, ref)
	if err != nil {
		return nil, err
	}
	r.lastOff, r.lastRef, r.lastVal, r.lastOK = offset, ref, r.str(s), true
	return r.lastVal, nil
}

// fromNow adds offset to the reference timestamp ref and formats the result.
func (r *renderer) fromNow(offset, ref string) (string, error) {
	if !r.refOK || r.refStr != ref {
		t, err := parseTime(ref)
		if err != nil {
			return "", err
		}
		r.refStr, r.refTime, r.refOK = ref, t, true
	}
	if !r.offOK || r.offStr != offset {
		ms, err := parseOffset(offset)
		if err != nil {
			return "", err
		}
		r.offStr, r.offMs, r.offOK = offset, ms, true
	}
	// Add in milliseconds: a time.Duration overflows beyond 292 years.
	t := r.refTime
	sub := time.Duration(t.Nanosecond() % 1e6)
	res := time.UnixMilli(t.UnixMilli() + r.offMs).Add(sub).UTC()
	if y := res.Year(); y < 0 || y > 9999 {
		return "", errors.New("time is out of range")
	}
	return r.arena.take(appendISO(r.arena.grab(24), res)), nil
}

// parseTime reads an ISO 8601 timestamp: RFC 3339 with optional fraction,
// a date and time without zone (taken as UTC), or a bare date.
func parseTime(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("invalid timestamp " + quoteForMessage(s))
}

func formatTime(t time.Time) (string, error) {
	t = t.UTC()
	if y := t.Year(); y < 0 || y > 9999 {
		return "", errors.New("time is out of range")
	}
	var buf [32]byte
	return string(appendISO(buf[:0], t)), nil
}

// appendISO appends t (UTC, year 0-9999) in isoLayout. It is what
// t.AppendFormat(dst, isoLayout) writes, without interpreting the layout.
func appendISO(dst []byte, t time.Time) []byte {
	year, month, day := t.Date()
	hour, minute, second := t.Clock()
	ms := t.Nanosecond() / 1e6
	digits := func(dst []byte, v, n int) []byte {
		var b [4]byte
		for i := n - 1; i >= 0; i-- {
			b[i] = byte('0' + v%10)
			v /= 10
		}
		return append(dst, b[:n]...)
	}
	dst = digits(dst, year, 4)
	dst = append(dst, '-')
	dst = digits(dst, int(month), 2)
	dst = append(dst, '-')
	dst = digits(dst, day, 2)
	dst = append(dst, 'T')
	dst = digits(dst, hour, 2)
	dst = append(dst, ':')
	dst = digits(dst, minute, 2)
	dst = append(dst, ':')
	dst = digits(dst, second, 2)
	dst = append(dst, '.')
	dst = digits(dst, ms, 3)
	return append(dst, 'Z')
}

// parseOffset reads a JSON-e time offset such as "2 days 3 hours" or
// "-1y2mo": an optional sign, then number-unit pairs with units from largest
// to smallest, each at most once, case-insensitive, spaces optional. A year
// is 365 days and a month 30 days. It returns milliseconds.
func parseOffset(s string) (int64, error) {
	i := 0
	skip := func() {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
			i++
		}
	}
	skip()
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	var total int64
	last := -1
	for {
		skip()
		if i == len(s) {
			break
		}
		if !isDigit(s[i]) {
			return 0, invalidOffset(s)
		}
		var n int64
		for i < len(s) && isDigit(s[i]) {
			n = n*10 + int64(s[i]-'0')
			if n > maxOffsetMs {
				return 0, invalidOffset(s)
			}
			i++
		}
		skip()
		start := i
		for i < len(s) && isLetter(s[i]) {
			i++
		}
		rank, unit := offsetUnit(s[start:i])
		if rank <= last {
			return 0, invalidOffset(s)
		}
		last = rank
		if n > maxOffsetMs/unit {
			return 0, invalidOffset(s)
		}
		total += n * unit
		if total > maxOffsetMs {
			return 0, invalidOffset(s)
		}
	}
	if neg {
		total = -total
	}
	return total, nil
}

func invalidOffset(s string) error {
	return errors.New("invalid time offset " + quoteForMessage(s))
}

// offsetUnit returns the rank (0 for years up to 6 for seconds) and the
// length in milliseconds of a unit name; rank -1 means unknown.
func offsetUnit(name string) (int, int64) {
	var lower [8]byte
	if len(name) == 0 || len(name) > len(lower) {
		return -1, 1
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	switch string(lower[:len(name)]) {
	case "y", "yr", "yrs", "year", "years":
		return 0, 365 * msDay
	case "mo", "mos", "month", "months":
		return 1, 30 * msDay
	case "w", "wk", "wks", "week", "weeks":
		return 2, 7 * msDay
	case "d", "day", "days":
		return 3, msDay
	case "h", "hr", "hrs", "hour", "hours":
		return 4, msHour
	case "m", "min", "mins", "minute", "minutes":
		return 5, msMinute
	case "s", "sec", "secs", "second", "seconds":
		return 6, msSecond
	}
	return -1, 1
}

// quoteForMessage quotes s for an error message, cutting long input short.
func quoteForMessage(s string) string {
	const max = 64
	if len(s) > max {
		s = s[:max] + "..."
	}
	return "'" + s + "'"
}
