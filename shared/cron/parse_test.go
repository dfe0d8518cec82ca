package cron

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestParse_Fixtures parses every schedule of upstream's validate_test
// fixtures (copied unchanged into testdata).
func TestParse_Fixtures(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/schedule-*.json")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 6 {
		t.Fatalf("found %d fixture files, want 6", len(files))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			t.Parallel()
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var patterns []string
			if err := json.Unmarshal(raw, &patterns); err != nil {
				t.Fatal(err)
			}
			scheds, err := ParseAll(patterns)
			if err != nil {
				t.Fatalf("ParseAll(%q): %v", patterns, err)
			}
			if len(scheds) != len(patterns) {
				t.Fatalf("got %d schedules, want %d", len(scheds), len(patterns))
			}
			for i, p := range patterns {
				if err := Validate(p); err != nil {
					t.Errorf("Validate(%q): %v", p, err)
				}
				if scheds[i].String() != p {
					t.Errorf("String() = %q, want %q", scheds[i].String(), p)
				}
			}
		})
	}
}

func TestParse_Valid(t *testing.T) {
	t.Parallel()
	for _, p := range []string{
		"", "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@hourly",
		"@minutely", "@secondly", "@weekdays", "@weekends",
		"* * * * *", "* * * * * *", "? ? ? ? ? ?", "  0  0 0 * * *  ", "0\t0\t0\t*\t*\t*",
		"0 0 9,21 * * 1-5", "0 0 0 L * *", "0 0 0 L,15 * *", "0 0 0 * * 5L", "0 0 0 * * 0L,7L",
		"0 0 0 * * FRIL", "0 0 0 * * 5#5", "0 0 0 * * fri#1", "0 0 0 * * *#2", "0 0 0 * * ?#3",
		"0 0 0 ? * MON-FRI", "0 0 0 * JAN-mar,Dec *", "0 0 0 29 2 *", "0 0 0 L 2 *",
		"0 0 0 30 2 1", "0 0 0 1,30 2 *", "0 0 0 31,30 4 ?", "0 0 0 31 4,6 *", "0,0 * * * * *", "0 0 0 * * 0,7",
		"0 0 0 * * sun,7", "5/20 1-59/7 */5 1/10 */3 */2", "007 08 09 010 011 00",
		"59 59 23 31 12 7", "0 0 0 * * 2-7/2", "*/100 * * * * *",
	} {
		t.Run(p, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(p)
			if err != nil {
				t.Fatalf("Parse(%q): %v", p, err)
			}
			if s.String() != p {
				t.Errorf("String() = %q, want %q", s.String(), p)
			}
		})
	}
}

// TestParse_Fields checks the value sets that fields expand to.
func TestParse_Fields(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		pattern                   string
		second, minute, hour      []int
		dom, month, dow           []int
		domStar, dowStar, domLast bool
		dowLast                   []int
		nth                       int
	}{
		{pattern: "", second: []int{0}, minute: seq(0, 59, 1), hour: seq(0, 23, 1), dom: seq(1, 31, 1),
			month: seq(1, 12, 1), dow: seq(0, 6, 1), domStar: true, dowStar: true},
		{pattern: "*/15 5/20 9-17/4 1,15 jan-MAR 1-5", second: []int{0, 15, 30, 45}, minute: []int{5, 25, 45},
			hour: []int{9, 13, 17}, dom: []int{1, 15}, month: []int{1, 2, 3}, dow: seq(1, 5, 1)},
		// Five fields: seconds are 0.
		{pattern: "30 4 * * sun", second: []int{0}, minute: []int{30}, hour: []int{4}, dom: seq(1, 31, 1),
			month: seq(1, 12, 1), dow: []int{0}, domStar: true},
		// 7 is Sunday; upstream adds Sunday to any weekday range ending on 7.
		{pattern: "0 0 0 * * 7", second: []int{0}, minute: []int{0}, hour: []int{0}, dom: seq(1, 31, 1),
			month: seq(1, 12, 1), dow: []int{0}, domStar: true},
		{pattern: "0 0 0 * * 2-7/2", second: []int{0}, minute: []int{0}, hour: []int{0}, dom: seq(1, 31, 1),
			month: seq(1, 12, 1), dow: []int{0, 2, 4, 6}, domStar: true},
		{pattern: "0 0 0 * * 1/2", second: []int{0}, minute: []int{0}, hour: []int{0}, dom: seq(1, 31, 1),
			month: seq(1, 12, 1), dow: []int{0, 1, 3, 5}, domStar: true},
		// "*/1" is not a wildcard for the day-combining rule.
		{pattern: "0 0 0 */1 * 1", second: []int{0}, minute: []int{0}, hour: []int{0}, dom: seq(1, 31, 1),
			month: seq(1, 12, 1), dow: []int{1}},
		{pattern: "0 0 0 L,15 * 5L,7L", second: []int{0}, minute: []int{0}, hour: []int{0}, dom: []int{15},
			month: seq(1, 12, 1), domLast: true, dowLast: []int{0, 5}},
		{pattern: "0 0 0 ? * thu#4", second: []int{0}, minute: []int{0}, hour: []int{0}, dom: seq(1, 31, 1),
			month: seq(1, 12, 1), dow: []int{4}, nth: 4, domStar: true},
	} {
		t.Run(tt.pattern, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(tt.pattern)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.pattern, err)
			}
			got := map[string]any{
				"second": setOf(s.second), "minute": setOf(s.minute), "hour": setOf(s.hour),
				"dom": setOf(s.dom), "month": setOf(s.month), "dow": setOf(uint64(s.dow)),
				"domStar": s.domStar, "dowStar": s.dowStar, "domLast": s.domLast,
				"dowLast": setOf(uint64(s.dowLast)), "nth": s.nth,
			}
			want := map[string]any{
				"second": tt.second, "minute": tt.minute, "hour": tt.hour,
				"dom": tt.dom, "month": tt.month, "dow": orEmpty(tt.dow),
				"domStar": tt.domStar, "dowStar": tt.dowStar, "domLast": tt.domLast,
				"dowLast": orEmpty(tt.dowLast), "nth": tt.nth,
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("fields of %q (-want +got):\n%s", tt.pattern, diff)
			}
		})
	}
}

func TestParse_Errors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		pattern, field, value, reason string
	}{
		{"0 0 3 0 * *", "day of month", "0", "value 0 out of range 1-31"},
		{"60 * * * * *", "second", "60", "value 60 out of range 0-59"},
		{"* 60 * * * *", "minute", "60", "value 60 out of range 0-59"},
		{"* * 24 * * *", "hour", "24", "value 24 out of range 0-23"},
		{"* * * 32 * *", "day of month", "32", "value 32 out of range 1-31"},
		{"* * * * 13 *", "month", "13", "value 13 out of range 1-12"},
		{"* * * * 0 *", "month", "0", "value 0 out of range 1-12"},
		{"* * * * * 8", "day of week", "8", "value 8 out of range 0-7"},
		{"* * * * * 99999999999999999999999", "day of week", "99999999999999999999999", "out of range 0-7"},
		{"1 2 3 4 5 6 7", "", "", "expected 6 fields (second minute hour day-of-month month day-of-week) or 5 (minute first), found 7"},
		{"1 2 3 4", "", "", "expected 6 fields (second minute hour day-of-month month day-of-week) or 5 (minute first), found 4"},
		{"   ", "", "", "expected 6 fields (second minute hour day-of-month month day-of-week) or 5 (minute first), found 0"},
		{"@fortnightly", "", "@fortnightly", `unknown predefined schedule "@fortnightly"`},
		{"@DAILY", "", "@DAILY", `unknown predefined schedule "@DAILY"`},
		{" @daily", "", "@daily", `unknown predefined schedule "@daily"`},
		{"0 0 0 30 2 *", "day of month", "30", "day 30 never occurs in february"},
		{"0 0 0 31 apr *", "day of month", "31", "day 31 never occurs in april"},
		{"0 0 0 31,30 2 ?", "day of month", "31,30", "day 30 never occurs in february"},
		{"0 0 0 * * Sat-sun", "day of week", "Sat-sun", "range 6-0 starts after it ends"},
		{"H * * * * *", "second", "H", "hashed value \"H\" is not supported"},
		{"0 H/5 * * * *", "minute", "H/5", "hashed value"},
		{"0 0 H(0-5) * * *", "hour", "H(0-5)", "hashed value"},
		{"0 */H * * * *", "minute", "*/H", "hashed value"},
		{"0 1-H * * * *", "minute", "1-H", "hashed value"},
		{"5-2 * * * * *", "second", "5-2", "range 5-2 starts after it ends"},
		{"0 0-60 * * * *", "minute", "0-60", "range 0-60 out of range 0-59"},
		{"0 0 0 0-5 * *", "day of month", "0-5", "range 0-5 out of range 1-31"},
		{"*/0 * * * * *", "second", "*/0", "step 0 must be a positive number"},
		{"*/ * * * * *", "second", "*/", "step in \"*/\" must be a positive number"},
		{"0 5/x * * * *", "minute", "5/x", "step in \"5/x\" must be a positive number"},
		{"0 60/5 * * * *", "minute", "60/5", "value 60 out of range 0-59"},
		{"1,,2 * * * * *", "second", "1,,2", "empty item in list"},
		{"1, * * * * *", "second", "1,", "empty item in list"},
		{"1,1 * * * * *", "second", "1", "value 1 listed more than once"},
		{"0 0 0 1-5,3 * *", "day of month", "3", "value 3 listed more than once"},
		{"0 0 0 * * 5-7,6", "day of week", "6", "value 6 listed more than once"},
		{"0 0 0 * * 5-7,7-7", "day of week", "7-7", "value 7 listed more than once"},
		{"0 0 0 * foo *", "month", "foo", `unknown name "foo"`},
		{"0 0 0 * * sunday", "day of week", "sunday", `unknown name "sunday"`},
		{"0 0 0 * mon *", "month", "mon", `unknown name "mon"`},
		{"0 0 0 * * jan", "day of week", "jan", `unknown name "jan"`},
		{"0 0 0 * janfeb *", "month", "janfeb", `unknown name "janfeb"`},
		{"0 0 0 * */feb *", "month", "*/feb", "step in \"*/feb\" must be a positive number"},
		{"0 0 jan * * *", "hour", "jan", "names are not allowed in this field"},
		{"0 0 0 15L * *", "day of month", "15L", "use L alone for the last day of the month"},
		{"0 0 0 LL * *", "day of month", "LL", "use L alone"},
		{"0 0 0 L,L * *", "day of month", "L", "L listed more than once"},
		{"0 0 0 * * L", "day of week", "L", "needs a weekday before it"},
		{"0 0 0 * * 8L", "day of week", "8L", "value 8 out of range 0-7"},
		{"0 0 0 * * 5L,5L", "day of week", "5L", "listed more than once"},
		{"0 0 0 * L *", "month", "L", "L is only allowed in day of month and day of week"},
		{"0 0 L * * *", "hour", "L", "L is only allowed in day of month and day of week"},
		{"0 0 0 L-5 * *", "day of month", "L-5", "L cannot be combined with a range or step"},
		{"0 0 0 5L-6 * *", "day of month", "5L-6", "L cannot be combined with a range or step"},
		{"0 0 0 L/2 * *", "day of month", "L/2", "L cannot be combined with a range or step"},
		{"0 0 0 * * 1-5L", "day of week", "1-5L", "L cannot be combined with a range or step"},
		{"0 0 0 * * 0l", "day of week", "0l", `unexpected character "l" in "0l"`},
		{"0 0 0 * * 5#6", "day of week", "5#6", "occurrence 6 out of range 1-5"},
		{"0 0 0 * * 5#0", "day of week", "5#0", "occurrence 0 out of range 1-5"},
		{"0 0 0 * * 5#", "day of week", "5#", "must be a number from 1 to 5"},
		{"0 0 0 * * 5#1.0", "day of week", "5#1.0", "must be a number from 1 to 5"},
		{"0 0 0 * * 5#1,2", "day of week", "5#1,2", "cannot be combined with lists, ranges or steps"},
		{"0 0 0 * * 1-5#2", "day of week", "1-5#2", "cannot be combined with lists, ranges or steps"},
		{"0 0 0 * * 5#1#2", "day of week", "5#1#2", "only one \"#\" is allowed"},
		{"0 0 0 * * 5L#2", "day of week", "5L#2", "L cannot be combined with \"#\""},
		{"0 0 0 * * 8#2", "day of week", "8#2", "value 8 out of range 0-7"},
		{"0 0 0 1#2 * *", "day of month", "1#2", "\"#\" is only allowed in day of week"},
		{"0 0 0 * * #2", "day of week", "#2", "missing value"},
		{"0 *-5 * * * *", "minute", "*-5", "\"*\" cannot start a range"},
		{"0 1-2-3 * * * *", "minute", "1-2-3", "has more than one \"-\""},
		{"0 -5 * * * *", "minute", "-5", "unexpected character \"-\""},
		{"0 1x * * * *", "minute", "1x", "unexpected character \"x\" in \"1x\""},
		{"*/2/3 * * * * *", "second", "*/2/3", "unexpected character \"/\""},
		{"** * * * * *", "second", "**", "unexpected character \"*\""},
		{"0 0 0 * * mon-", "day of week", "mon-", "missing value"},
	} {
		t.Run(tt.pattern, func(t *testing.T) {
			t.Parallel()
			s, err := Parse(tt.pattern)
			if err == nil {
				t.Fatalf("Parse(%q) = %v, want an error", tt.pattern, s)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Parse(%q) error %T is not a *ParseError", tt.pattern, err)
			}
			if pe.Pattern != tt.pattern || pe.Field != tt.field || pe.Value != tt.value {
				t.Errorf("got pattern %q field %q value %q, want %q %q %q",
					pe.Pattern, pe.Field, pe.Value, tt.pattern, tt.field, tt.value)
			}
			if !strings.Contains(pe.Reason, tt.reason) {
				t.Errorf("reason %q does not contain %q", pe.Reason, tt.reason)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "cron: ") || !strings.HasSuffix(msg, " in \""+tt.pattern+"\"") {
				t.Errorf("message %q does not start with \"cron: \" and end with the pattern", msg)
			}
			if tt.field != "" && !strings.Contains(msg, `field "`+tt.field+`"`) {
				t.Errorf("message %q does not name field %q", msg, tt.field)
			}
			if errors.Is(err, ErrNeverFires) {
				t.Errorf("syntax error %q wraps ErrNeverFires", msg)
			}
		})
	}
}

func TestParseError_Message(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ pattern, want string }{
		{"0 0 3 0 * *", `cron: field "day of month": value 0 out of range 1-31 in "0 0 3 0 * *"`},
		{"1 2 3", `cron: expected 6 fields (second minute hour day-of-month month day-of-week) or 5 (minute first), found 3 in "1 2 3"`},
		{"0 0 0 31 4,6 *", `cron: never fires: no date has day of month "31", month "4,6" and day of week "*" in "0 0 0 31 4,6 *"`},
	} {
		t.Run(tt.pattern, func(t *testing.T) {
			t.Parallel()
			err := Validate(tt.pattern)
			if err == nil || err.Error() != tt.want {
				t.Errorf("Validate(%q) = %v, want %s", tt.pattern, err, tt.want)
			}
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		pattern    string
		wantErr    bool
		neverFires bool
	}{
		{pattern: "0 0 0 * * *"},
		{pattern: "0 0 0 29 2 *"},
		{pattern: "0 0 0 * 2 1#5"},  // fifth Monday of February: once in 28 years
		{pattern: "0 0 0 30 2 mon"}, // day of week rescues the day of month
		{pattern: "0 0 0 L 2 *"},
		{pattern: "0 0 3 0 * *", wantErr: true},
		{pattern: "0 0 0 30 2 *", wantErr: true},
		{pattern: "0 0 0 31 4,6 *", wantErr: true, neverFires: true},
		{pattern: "0 0 0 30,31 2 *", wantErr: true},
		{pattern: "0 0 0 30,31 2,2 *", wantErr: true},
		{pattern: "0 0 0 31 2,4,6,9,11 *", wantErr: true, neverFires: true},
		{pattern: "0 0 0 30 2 ?", wantErr: true},
		{pattern: "0 0 0 30-31 feb,apr ?"}, // April 30 exists
	} {
		t.Run(tt.pattern, func(t *testing.T) {
			t.Parallel()
			err := Validate(tt.pattern)
			if (err != nil) != tt.wantErr {
				t.Fatalf("Validate(%q) = %v, want error %v", tt.pattern, err, tt.wantErr)
			}
			if got := errors.Is(err, ErrNeverFires); got != tt.neverFires {
				t.Errorf("errors.Is(%v, ErrNeverFires) = %v, want %v", err, got, tt.neverFires)
			}
			var pe *ParseError
			if err != nil && !errors.As(err, &pe) {
				t.Errorf("error %T is not a *ParseError", err)
			}
			if tt.neverFires {
				// Parse itself accepts it, as upstream does.
				s, perr := Parse(tt.pattern)
				if perr != nil {
					t.Fatalf("Parse(%q): %v", tt.pattern, perr)
				}
				if next, ok := s.Next(mustTime(t, "2026-01-01T00:00:00Z")); ok {
					t.Errorf("Next = %v, true; want false", next)
				}
			}
		})
	}
}

func TestParseAll(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name     string
		patterns []string
		wantN    int
		wantErr  string
	}{
		{name: "nil", patterns: nil, wantN: 0},
		{name: "empty", patterns: []string{}, wantN: 0},
		{name: "several", patterns: []string{"0 0 0 * * *", "@hourly", ""}, wantN: 3},
		{name: "bad second entry", patterns: []string{"0 0 0 * * *", "0 0 3 0 * *"},
			wantErr: `cron: field "day of month": value 0 out of range 1-31 in "0 0 3 0 * *"`},
		{name: "never fires", patterns: []string{"0 0 0 31 4,6 *"},
			wantErr: `in "0 0 0 31 4,6 *"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := ParseAll(tt.patterns)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("ParseAll error = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseAll: %v", err)
			}
			if len(got) != tt.wantN || got == nil {
				t.Fatalf("got %d schedules (nil %v), want %d", len(got), got == nil, tt.wantN)
			}
		})
	}
}

func seq(lo, hi, step int) []int {
	var out []int
	for v := lo; v <= hi; v += step {
		out = append(out, v)
	}
	return out
}

func setOf(m uint64) []int {
	out := []int{}
	for v := range 64 {
		if m&(1<<v) != 0 {
			out = append(out, v)
		}
	}
	return out
}

func orEmpty(s []int) []int {
	if s == nil {
		return []int{}
	}
	return slices.Clip(s)
}
