// Package cron parses Taskcluster hook schedules and computes when they fire.
//
// A hook's schedule is a list of cron patterns. Upstream parses each one with
// the npm package cron-parser 5.6.2 (CronExpressionParser.parse) and takes the
// earliest next date over the list (services/hooks/src/nextdate.js). This
// package reproduces that syntax and those semantics in UTC (Parse, Next),
// and adds time zones (NextIn) and the standard 5-field form of POSIX cron
// (ParseStandard) for Hookline's schedule settings.
//
// # Syntax
//
// A pattern has six whitespace-separated fields,
//
//	second minute hour day-of-month month day-of-week
//
// or five, in which case the seconds field is taken as 0 and the fields are
// minute hour day-of-month month day-of-week. Ranges are 0-59, 0-59, 0-23,
// 1-31, 1-12 and 0-7, where both 0 and 7 mean Sunday. A field is a
// comma-separated list of items; an item is
//
//   - "*" or "?": every value;
//   - a value "a", a range "a-b", or a step "*/n", "a-b/n" or "a/n" (a/n means
//     a-max/n);
//   - in month and day of week, the three-letter names jan..dec and sun..sat,
//     in any letter case, wherever a number may stand;
//   - in day of month, "L": the last day of the month;
//   - in day of week, "nL": the last weekday n of the month (5L is the last
//     Friday);
//   - in day of week, "d#n" as the whole field: the nth weekday d of the month,
//     n from 1 to 5 ("*#n" means any day from 7n-6 to 7n).
//
// The predefined names @yearly, @annually, @monthly, @weekly, @daily,
// @hourly, @minutely, @secondly, @weekdays and @weekends stand for fixed
// six-field patterns, and the empty string means "0 * * * * *" (every
// minute). As upstream, a value listed twice in one field is refused, except
// 0: cron-parser 5.6.2 tests duplicates for truthiness, so "0,0" and the
// Sunday pair "0,7" are accepted.
//
// Day of month and day of week combine the way upstream does: when exactly
// one of them is the literal "*" or "?", only the other one restricts the
// day; when both are restricted (anything else, "*/1" included), a day
// matches if either of them matches. A pattern whose month field names a
// single month, whose day of week is a wildcard and whose smallest day of
// month never occurs in that month (February 30) is refused by Parse, as
// upstream refuses it.
//
// # Next dates
//
// Schedule.Next returns the first whole second strictly after the given time
// that the pattern matches, in UTC. It jumps month by month, then to the
// matching day through a bitmask of the month's days, then to the hour,
// minute and second, so its cost does not depend on how far away the next
// date is. The Gregorian calendar, weekdays included, repeats every 400
// years; Parse scans one such cycle once to learn whether the pattern can fire
// at all, so Next never gives up on a pattern that fires, and answers false
// at once for one that never does. Its search is also capped at one 400-year
// cycle of months, so it always terminates.
//
// NextDate is upstream's nextDate: the earliest Next over a list, and
// NoSchedule (4000-02-01T00:00:00Z) for an empty list.
//
// # Time zones
//
// Schedule.NextIn matches the pattern against the wall clock of a
// time.Location. It walks wall-clock matches with Next and turns each into
// an instant with Resolve, under two rules for daylight saving time: a
// wall time that a spring-forward gap skips fires once, at the instant the
// clocks jump (several such times in one gap are that one instant); a wall
// time that a fall-back overlap repeats fires once, at its first
// occurrence. Every wall-clock match thus fires once and no instant twice.
// Resolve looks only at the zone periods (time.Time.ZoneBounds) within 16
// hours of the wall time, and most of the time at none: a period that
// reaches further than any two offsets differ holds the only occurrence.
// A brute-force walk, minute by minute through every transition of a
// year in eleven zones, checks it in the tests.
//
// # The standard form
//
// ParseStandard takes exactly five fields, minute first, with numbers,
// names, "*", lists, ranges and steps, and nothing of upstream's
// extensions (a seconds field, L, #, ?, @names), which it refuses with an
// error pointing at the hook's upstream schedule. Day of month and day of
// week combine as in Vixie cron: a day field starting with "*" does not
// restrict the day. Both forms share the parser and Next.
//
// # Why not an existing Go parser
//
// The well-kept Go cron libraries do not accept this dialect. For example
// github.com/robfig/cron/v3, even with optional seconds, has no L or #, limits
// day of week to 0-6, lacks @weekdays, @weekends, @minutely and @secondly,
// rejects the empty string, treats any field starting with "*" (such as
// "*/2") as unrestricted when choosing between AND and OR for the two day
// fields, does not refuse impossible dates, and gives up after five years.
// Libraries that know L and # (gorhill/cronexpr and its forks) differ in other
// ways: a year field, W, 0-6 weekdays, different wildcard rules. Matching
// upstream exactly matters more here than reuse, because a hook fires when
// the pattern says, so this package implements the dialect itself.
//
// # Deliberate differences from cron-parser 5.6.2
//
//   - Hashed values (H, H/n, H(a-b), H(a-b)/n) are refused. Upstream draws
//     them at random on every parse, and the hooks service parses a schedule
//     again each time it computes the next date, so such a hook would fire at
//     a different moment each time.
//   - Patterns with fewer than five fields are refused; upstream pads them
//     from the left with "* * * * 0"-style defaults that shift every field.
//   - Upstream fails at next-date time on a pattern that parses but never
//     fires ("0 0 0 31 4,6 *"), which createHook turns into a 500. Parse
//     accepts such a pattern, as upstream does, but Validate and ParseAll
//     refuse it with an error that wraps ErrNeverFires.
//   - Upstream gives up after 10000 search steps, so rare but real dates
//     (the fifth Monday of February) make it throw; Next finds them.
//   - Odd forms that upstream accepts by accident are refused with a clear
//     error: names outside their own field (upstream reads "mon" in the
//     month field as January) or glued to other text ("janfeb"), a name as a
//     step, "nL" in day of month (upstream reads it as plain L), L inside a
//     range or step, L alone in day of week (upstream throws later), nL with
//     n above 7, L together with #, "*" inside a range ("*-5"), ranges with
//     more than one "-" ("1-2-3", upstream drops the tail), and a # count
//     that is not plain digits.
//   - Next works in UTC. Upstream passes a utc option that cron-parser 5
//     ignores and so uses the process time zone, which is UTC in its
//     containers. NextIn is for zones a hook's settings name.
package cron
