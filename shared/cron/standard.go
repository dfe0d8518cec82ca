package cron

import (
	"fmt"
	"strings"
)

// standardFields names the five fields of the standard form, in order.
var standardFields = [5]string{"minute", "hour", "day of month", "month", "day of week"}

// standardHint ends every error of ParseStandard: it says what the form
// is and where upstream's extensions go instead.
const standardHint = "; the standard 5-field form is minute hour day-of-month month day-of-week " +
	"with numbers, names (jan-dec, sun-sat), *, lists, ranges and steps; seconds, L, #, ? and " +
	"@names belong in the hook's upstream 6-field schedule"

// ParseStandard parses a pattern of the standard 5-field form, as POSIX
// cron and GitHub Actions write it:
//
//	minute hour day-of-month month day-of-week
//
// Items are "*", a value, a range "a-b", and steps "*/n", "a-b/n" and
// "a/n", joined by commas; months and weekdays may be named (jan..dec,
// sun..sat, any letter case) and both 0 and 7 are Sunday. Day of month and
// day of week combine as in Vixie cron: a day field that starts with "*"
// does not restrict the day; when both are restricted, a day matches if
// either does. Upstream's extensions (a seconds field, L, #, ?, @names,
// the empty pattern) are refused with an error that says so. A pattern
// that never fires is refused too (wrapping ErrNeverFires). Errors are
// *ParseError.
func ParseStandard(pattern string) (*Schedule, error) {
	fields := strings.Fields(pattern)
	if len(fields) != 5 {
		reason := fmt.Sprintf("expected the standard 5 fields (minute hour day-of-month month day-of-week), found %d", len(fields))
		switch {
		case len(fields) == 6:
			reason += ": a pattern with a seconds field belongs in the hook's upstream schedule"
		case len(fields) == 1 && strings.HasPrefix(fields[0], "@"):
			reason += ": predefined names such as @daily belong in the hook's upstream schedule"
		}
		return nil, &ParseError{Pattern: pattern, Reason: reason}
	}
	specs := fieldSpecs()
	for i, f := range fields {
		if reason := standardField(f, specs[i+1].names != ""); reason != "" {
			return nil, &ParseError{Pattern: pattern, Field: standardFields[i], Value: f, Reason: reason + standardHint}
		}
	}
	s, err := build(pattern, append([]string{"0"}, fields...), true)
	if err != nil {
		return nil, err
	}
	if s.never {
		return nil, &ParseError{Pattern: pattern, Err: ErrNeverFires, Reason: fmt.Sprintf(
			"never fires: no date has day of month %q, month %q and day of week %q", fields[2], fields[3], fields[4])}
	}
	return s, nil
}

// standardField checks that a field uses only the standard form's syntax
// and returns what is wrong, or "". Ranges and values are checked later,
// by the parser both forms share.
func standardField(field string, named bool) string {
	for item := range strings.SplitSeq(field, ",") {
		body, step, hasStep := strings.Cut(item, "/")
		if hasStep && (step == "" || strings.Trim(step, "0123456789") != "") {
			return fmt.Sprintf("step %q must be a number", step)
		}
		if body == "*" {
			continue
		}
		for part := range strings.SplitSeq(body, "-") {
			switch {
			case part == "":
				return fmt.Sprintf("%q is not a value, range or step", item)
			case strings.Trim(part, "0123456789") == "":
			case named && len(part) == 3 && isLetter(part[0]) && isLetter(part[1]) && isLetter(part[2]):
			default:
				return fmt.Sprintf("%q is not standard cron", item)
			}
		}
	}
	return ""
}
