package cron

import (
	"errors"
	"strings"
	"testing"
)

func TestParseStandard(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, pattern, after string
		want                 []string
	}{
		{"every five minutes", "*/5 * * * *", "2026-03-04T10:21:00Z", []string{"2026-03-04T10:25:00Z", "2026-03-04T10:30:00Z"}},
		{"weekdays at nine", "0 9 * * 1-5", "2026-03-06T10:00:00Z", []string{"2026-03-09T09:00:00Z", "2026-03-10T09:00:00Z"}},
		{"names", "30 6 * JAN,jul Sun", "2026-01-01T00:00:00Z", []string{"2026-01-04T06:30:00Z", "2026-01-11T06:30:00Z"}},
		{"sunday as 7", "0 0 * * 7", "2026-03-04T00:00:00Z", []string{"2026-03-08T00:00:00Z"}},
		{"both days restricted: either matches", "0 0 13 * 5", "2026-03-01T00:00:00Z", []string{"2026-03-06T00:00:00Z", "2026-03-13T00:00:00Z", "2026-03-20T00:00:00Z"}},
		// Vixie cron: a day field starting with * does not restrict, so
		// */2 in day of month leaves only the weekday (upstream's 6-field
		// dialect would match odd days too).
		{"star step in day of month", "0 0 */2 * 1", "2026-03-01T00:00:00Z", []string{"2026-03-02T00:00:00Z", "2026-03-09T00:00:00Z"}},
		{"leap day", "0 12 29 2 *", "2026-01-01T00:00:00Z", []string{"2028-02-29T12:00:00Z"}},
		{"31st", "0 0 31 * *", "2026-04-01T00:00:00Z", []string{"2026-05-31T00:00:00Z", "2026-07-31T00:00:00Z"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, err := ParseStandard(tt.pattern)
			if err != nil {
				t.Fatal(err)
			}
			at := mustTime(t, tt.after)
			for i, w := range tt.want {
				got, ok := s.Next(at)
				if !ok || !got.Equal(mustTime(t, w)) {
					t.Fatalf("step %d: got %s, want %s", i, got, w)
				}
				at = got
			}
		})
	}
	// Upstream's dialect reads the same fields as "odd days or Mondays".
	s, err := Parse("0 0 0 */2 * 1")
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Next(mustTime(t, "2026-03-02T00:00:00Z")); !got.Equal(mustTime(t, "2026-03-03T00:00:00Z")) {
		t.Errorf("upstream's dialect: */2 restricts the day (got %s)", got)
	}
}

func TestParseStandard_Errors(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		pattern, field string
		want           []string
	}{
		{"0 0 9 * * 1-5", "", []string{"expected the standard 5 fields", "found 6", "seconds field belongs in the hook's upstream schedule"}},
		{"@daily", "", []string{"found 1", "@daily belong in the hook's upstream schedule"}},
		{"", "", []string{"found 0"}},
		{"0 9 * *", "", []string{"found 4"}},
		{"0 0 L * *", "day of month", []string{`"L" is not standard cron`, "L, #, ? and @names belong in the hook's upstream 6-field schedule"}},
		{"0 0 * * 5L", "day of week", []string{`"5L" is not standard cron`}},
		{"0 0 * * mon#2", "day of week", []string{`"mon#2" is not standard cron`}},
		{"0 0 ? * 1", "day of month", []string{`"?" is not standard cron`}},
		{"jan 0 * * *", "minute", []string{`"jan" is not standard cron`}},
		{"*/x * * * *", "minute", []string{`step "x" must be a number`}},
		{"1--2 * * * *", "minute", []string{`"1--2" is not a value, range or step`}},
		{"60 * * * *", "minute", []string{"value 60 out of range 0-59"}},
		{"0 24 * * *", "hour", []string{"value 24 out of range 0-23"}},
		{"0 0 30 2 *", "day of month", []string{"day 30 never occurs in february"}},
		{"0 0 31 4,6 *", "", []string{"never fires"}},
	} {
		t.Run(tt.pattern, func(t *testing.T) {
			_, err := ParseStandard(tt.pattern)
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error %v is not a *ParseError", err)
			}
			if pe.Field != tt.field {
				t.Errorf("field %q, want %q", pe.Field, tt.field)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("%q lacks %q", err, w)
				}
			}
			if tt.pattern == "0 0 31 4,6 *" && !errors.Is(err, ErrNeverFires) {
				t.Error("does not wrap ErrNeverFires")
			}
		})
	}
}
