package hooks

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/hookline/hookline/shared/cron"
)

// The catch-up policies: what the scheduler does with slots it missed
// (it was down, or the hook stayed due) when it next sees the hook.
const (
	// CatchUpOldest fires the oldest missed slot and collapses the rest:
	// what upstream does, and the default.
	CatchUpOldest = "oldest"
	// CatchUpNone fires no missed slot: each is collapsed.
	CatchUpNone = "none"
	// CatchUpLatest fires the newest missed slot and collapses the rest.
	CatchUpLatest = "latest"
	// CatchUpAll fires each missed slot once, in order, up to MaxCatchUp
	// of the newest ones.
	CatchUpAll = "all"
)

// Bounds of a schedule section.
const (
	maxScheduleCron    = 20
	maxScheduleAt      = 100
	maxExclusions      = 100
	maxJitter          = time.Hour
	maxMaxAge          = 90 * 24 * time.Hour
	maxMaxCatchUp      = 1000
	defaultMaxCatchUp  = 10
	defaultAtPastLimit = 15 * time.Minute
)

// ScheduleSettings is the schedule section of a hook's settings: how its
// slots are computed and fired, beside the upstream definition's cron
// list, which it never changes. Times are kept as written; the zero value
// (or no section) schedules the hook as upstream does.
type ScheduleSettings struct {
	// TimeZone is the IANA zone slots are computed in; "" means UTC.
	TimeZone string `json:"timeZone,omitempty"`
	// Cron lists more patterns in the standard 5-field form (minute
	// first), besides the definition's 6-field schedule.
	Cron []string `json:"cron,omitempty"`
	// At lists one-time fires, RFC 3339 instants.
	At []string `json:"at,omitempty"`
	// Start and End bound the slots, RFC 3339: start <= slot < end.
	Start string `json:"start,omitempty"`
	End   string `json:"end,omitempty"`
	// Exclude lists dates and half-open instant ranges, in the hook's
	// zone, whose slots are skipped.
	Exclude []Exclusion `json:"exclude,omitempty"`
	// CatchUp is a CatchUp policy; "" means CatchUpOldest.
	CatchUp string `json:"catchUp,omitempty"`
	// MaxCatchUp bounds how many missed slots CatchUpAll fires.
	MaxCatchUp int `json:"maxCatchUp,omitempty"`
	// MaxAge is how late a missed slot may be and still fire, a Go
	// duration ("6h").
	MaxAge string `json:"maxAge,omitempty"`
	// Jitter spreads fires over up to this long after their slots, a Go
	// duration of at most an hour ("10m").
	Jitter string `json:"jitter,omitempty"`
}

// Exclusion is a date ("2026-12-25") or a half-open range of instants
// ({"from": ..., "to": ...}), in the hook's zone. A range's ends are RFC
// 3339 instants, or local date-times ("2026-12-24T18:00") or dates read
// in the hook's zone.
type Exclusion struct {
	Date string
	From string
	To   string
}

// String names the exclusion as decisions and listings show it.
func (e Exclusion) String() string {
	if e.Date != "" {
		return e.Date
	}
	return e.From + "/" + e.To
}

// MarshalJSON writes a date as a string and a range as an object.
func (e Exclusion) MarshalJSON() ([]byte, error) {
	if e.Date != "" {
		return json.Marshal(e.Date)
	}
	return json.Marshal(struct {
		From string `json:"from"`
		To   string `json:"to"`
	}{e.From, e.To})
}

// UnmarshalJSON reads either form.
func (e *Exclusion) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if len(data) > 0 && data[0] == '"' {
		*e = Exclusion{}
		return json.Unmarshal(data, &e.Date)
	}
	var r struct {
		From string `json:"from"`
		To   string `json:"to"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return errors.New("an exclusion is a date such as \"2026-12-25\" or {\"from\": ..., \"to\": ...}")
	}
	*e = Exclusion{From: r.From, To: r.To}
	return nil
}

// catchUpPolicy is the effective policy.
func (s *ScheduleSettings) catchUpPolicy() string {
	if s == nil || s.CatchUp == "" {
		return CatchUpOldest
	}
	return s.CatchUp
}

// checkSchedule checks a schedule section on its own (compilePlan checks
// it with the hook's definition). Errors name the field at fault.
func checkSchedule(s *ScheduleSettings) error {
	if s == nil {
		return nil
	}
	if s.TimeZone != "" {
		if _, err := loadZone(s.TimeZone); err != nil {
			return err
		}
	}
	if len(s.Cron) > maxScheduleCron {
		return invalid("schedule.cron may hold at most %d patterns", maxScheduleCron)
	}
	for i, p := range s.Cron {
		if _, err := cron.ParseStandard(p); err != nil {
			return invalid("schedule.cron[%d]: %s", i, strings.TrimPrefix(err.Error(), "cron: "))
		}
	}
	if len(s.At) > maxScheduleAt {
		return invalid("schedule.at may hold at most %d instants", maxScheduleAt)
	}
	for i, a := range s.At {
		if _, err := parseInstant(a); err != nil {
			return invalid("schedule.at[%d] %q is not an RFC 3339 instant with a time zone offset, such as \"2026-12-24T18:00:00+01:00\"", i, a)
		}
	}
	start, end, err := scheduleBounds(s)
	if err != nil {
		return err
	}
	if !start.IsZero() && !end.IsZero() && !start.Before(end) {
		return invalid("schedule.start (%s) must be before schedule.end (%s)", s.Start, s.End)
	}
	if len(s.Exclude) > maxExclusions {
		return invalid("schedule.exclude may hold at most %d exclusions", maxExclusions)
	}
	loc := time.UTC
	if s.TimeZone != "" {
		loc, _ = loadZone(s.TimeZone)
	}
	for i, e := range s.Exclude {
		if _, err := compileExclusion(e, loc); err != nil {
			return invalid("schedule.exclude[%d]: %s", i, err)
		}
	}
	switch s.CatchUp {
	case "", CatchUpOldest, CatchUpNone, CatchUpLatest, CatchUpAll:
	default:
		return invalid("schedule.catchUp %q is unknown; use %q (the default: fire the oldest missed slot, as upstream), %q, %q or %q",
			s.CatchUp, CatchUpOldest, CatchUpNone, CatchUpLatest, CatchUpAll)
	}
	if s.MaxCatchUp != 0 {
		if s.catchUpPolicy() != CatchUpAll {
			return invalid("schedule.maxCatchUp only applies to catchUp %q", CatchUpAll)
		}
		if s.MaxCatchUp < 1 || s.MaxCatchUp > maxMaxCatchUp {
			return invalid("schedule.maxCatchUp must be from 1 to %d", maxMaxCatchUp)
		}
	}
	if s.MaxAge != "" {
		if s.catchUpPolicy() == CatchUpNone {
			return invalid("schedule.maxAge does not apply to catchUp %q, which fires no missed slot", CatchUpNone)
		}
		if _, err := parseSpan("schedule.maxAge", s.MaxAge, time.Second, maxMaxAge); err != nil {
			return err
		}
	}
	if s.Jitter != "" {
		if _, err := parseSpan("schedule.jitter", s.Jitter, time.Second, maxJitter); err != nil {
			return err
		}
	}
	return nil
}

// checkPastAt refuses an `at` instant that is already past when saved,
// unless the stored settings held it already (a GET reply sent back) or it
// lies within the catch-up window: not older than maxAge (15 minutes
// without one), with a policy that fires missed slots. It returns the
// newly added past instants, which the scheduler should still fire.
func checkPastAt(in, current *ScheduleSettings, now time.Time) ([]time.Time, error) {
	if in == nil {
		return nil, nil
	}
	var kept []string
	if current != nil {
		kept = current.At
	}
	window := defaultAtPastLimit
	if in.MaxAge != "" {
		window, _ = parseSpan("", in.MaxAge, time.Second, maxMaxAge)
	}
	if in.catchUpPolicy() == CatchUpNone {
		window = 0
	}
	var late []time.Time
	for i, a := range in.At {
		t, err := parseInstant(a)
		if err != nil || !t.Before(now) || slices.Contains(kept, a) {
			continue
		}
		if now.Sub(t) > window {
			return nil, invalid("schedule.at[%d] %s is in the past (now is %s); a past instant is accepted only within the catch-up window (%s with catchUp %q and maxAge %q)",
				i, a, now.UTC().Format(time.RFC3339), window, in.catchUpPolicy(), in.MaxAge)
		}
		late = append(late, t)
	}
	return late, nil
}

// scheduleBounds parses start and end (zero when absent).
func scheduleBounds(s *ScheduleSettings) (start, end time.Time, err error) {
	if s.Start != "" {
		if start, err = parseInstant(s.Start); err != nil {
			return start, end, invalid("schedule.start %q is not an RFC 3339 instant with a time zone offset", s.Start)
		}
	}
	if s.End != "" {
		if end, err = parseInstant(s.End); err != nil {
			return start, end, invalid("schedule.end %q is not an RFC 3339 instant with a time zone offset", s.End)
		}
	}
	return start, end, nil
}

// parseSpan parses a Go duration from min to max, in whole seconds.
func parseSpan(field, text string, lo, hi time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(text)
	if err != nil || d < lo || d > hi || d%time.Second != 0 {
		return 0, invalid("%s %q must be a whole number of seconds from %s to %s, written as a Go duration such as \"90s\", \"15m\" or \"1h30m\"", field, text, lo, hi)
	}
	return d, nil
}

// parseInstant parses an RFC 3339 instant (a time zone offset required).
func parseInstant(text string) (time.Time, error) {
	return time.Parse(time.RFC3339Nano, text)
}

// loadZone loads an IANA time zone by name; "Local" and "" are refused,
// since the server's own zone means nothing to a hook's owner.
func loadZone(name string) (*time.Location, error) {
	if name == "" || name == "Local" {
		return nil, invalid("schedule.timeZone %q is not an IANA time zone name such as \"Europe/Berlin\" or \"UTC\"", name)
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, invalid("schedule.timeZone %q is not an IANA time zone name such as \"Europe/Berlin\" or \"UTC\"", name)
	}
	return loc, nil
}

// exclusion is a compiled Exclusion: a local date, or a half-open range
// of instants.
type exclusion struct {
	name     string
	date     string // "2006-01-02" in the hook's zone, or ""
	day      civilDate
	from, to time.Time
}

// civilDate is a calendar date.
type civilDate struct {
	year  int
	month time.Month
	day   int
}

const dateLayout = "2006-01-02"

// compileExclusion reads an exclusion in loc.
func compileExclusion(e Exclusion, loc *time.Location) (exclusion, error) {
	if e.Date != "" {
		if e.From != "" || e.To != "" {
			return exclusion{}, errors.New("give either a date or a from/to range")
		}
		d, err := time.Parse(dateLayout, e.Date)
		if err != nil {
			return exclusion{}, fmt.Errorf("%q is not a date such as \"2026-12-25\"", e.Date)
		}
		return exclusion{name: e.Date, date: e.Date, day: civilDate{d.Year(), d.Month(), d.Day()}}, nil
	}
	from, err := parseZoned(e.From, loc)
	if err != nil {
		return exclusion{}, fmt.Errorf("from: %w", err)
	}
	to, err := parseZoned(e.To, loc)
	if err != nil {
		return exclusion{}, fmt.Errorf("to: %w", err)
	}
	if !from.Before(to) {
		return exclusion{}, fmt.Errorf("from %s must be before to %s (the range is half-open: from <= slot < to)", e.From, e.To)
	}
	return exclusion{name: e.String(), from: from, to: to}, nil
}

// parseZoned reads an RFC 3339 instant, or a local date-time or date in
// loc (with the DST rules of slots: a time in a gap is the end of the gap,
// a repeated time its first occurrence).
func parseZoned(text string, loc *time.Location) (time.Time, error) {
	if t, err := parseInstant(text); err == nil {
		return t, nil
	}
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04", dateLayout} {
		if wall, err := time.Parse(layout, text); err == nil {
			at, _ := cron.Resolve(wall, loc)
			return at, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an RFC 3339 instant, a local date-time (\"2026-12-24T18:00\") or a date", text)
}

// contains reports whether the exclusion covers slot, seen in loc.
func (x exclusion) contains(slot time.Time, loc *time.Location) bool {
	if x.date != "" {
		y, m, d := slot.In(loc).Date()
		return civilDate{y, m, d} == x.day
	}
	return !slot.Before(x.from) && slot.Before(x.to)
}

// end is the first instant the exclusion no longer covers.
func (x exclusion) end(loc *time.Location) time.Time {
	if x.date == "" {
		return x.to
	}
	next := time.Date(x.day.year, x.day.month, x.day.day+1, 0, 0, 0, 0, time.UTC)
	at, _ := cron.Resolve(next, loc)
	return at
}
