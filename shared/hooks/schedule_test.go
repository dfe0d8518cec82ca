package hooks

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // zones from Go's copy of the database, not the machine's
)

func mustParse(t testing.TB, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func TestCheckSchedule(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, settings, wantErr string
	}{
		{"empty", `{}`, ""},
		{"everything", `{"timeZone":"Australia/Lord_Howe","cron":["30 9 * * 1-5"],"at":["2026-12-24T18:00:00+11:00"],
			"start":"2026-01-01T00:00:00Z","end":"2027-01-01T00:00:00Z",
			"exclude":["2026-12-25",{"from":"2026-12-31T00:00","to":"2027-01-02"}],"catchUp":"all","maxCatchUp":5,"maxAge":"6h","jitter":"10m"}`, ""},
		{"unknown zone", `{"timeZone":"Mars/Olympus"}`, `schedule.timeZone "Mars/Olympus" is not an IANA time zone name`},
		{"local zone", `{"timeZone":"Local"}`, `schedule.timeZone "Local" is not an IANA time zone name`},
		{"six fields in cron", `{"cron":["0 30 9 * * *"]}`, `schedule.cron[0]: expected the standard 5 fields (minute hour day-of-month month day-of-week), found 6: a pattern with a seconds field belongs in the hook's upstream schedule`},
		{"L in cron", `{"cron":["0 0 L * *"]}`, `schedule.cron[0]: field "day of month": "L" is not standard cron`},
		{"impossible date", `{"cron":["0 0 30 2 *"]}`, `day 30 never occurs in february`},
		{"never fires", `{"cron":["0 0 31 4,6 *"]}`, `never fires`},
		{"at without offset", `{"at":["2026-12-24T18:00:00"]}`, `schedule.at[0] "2026-12-24T18:00:00" is not an RFC 3339 instant with a time zone offset`},
		{"start after end", `{"start":"2027-01-01T00:00:00Z","end":"2026-01-01T00:00:00Z"}`, `schedule.start (2027-01-01T00:00:00Z) must be before schedule.end`},
		{"bad date", `{"exclude":["2026-02-30"]}`, `schedule.exclude[0]: "2026-02-30" is not a date`},
		{"empty range", `{"exclude":[{"from":"2026-12-31","to":"2026-12-31"}]}`, `schedule.exclude[0]: from 2026-12-31 must be before to 2026-12-31`},
		{"bad range end", `{"exclude":[{"from":"2026-12-31","to":"soon"}]}`, `schedule.exclude[0]: to: "soon" is not an RFC 3339 instant`},
		{"unknown policy", `{"catchUp":"some"}`, `schedule.catchUp "some" is unknown`},
		{"maxCatchUp without all", `{"catchUp":"latest","maxCatchUp":3}`, `schedule.maxCatchUp only applies to catchUp "all"`},
		{"maxAge with none", `{"catchUp":"none","maxAge":"1h"}`, `schedule.maxAge does not apply to catchUp "none"`},
		{"jitter too long", `{"jitter":"2h"}`, `schedule.jitter "2h" must be a whole number of seconds from 1s to 1h0m0s`},
		{"jitter fraction", `{"jitter":"1.5s"}`, `schedule.jitter "1.5s" must be a whole number of seconds`},
		{"jitter not a duration", `{"jitter":"ten minutes"}`, `written as a Go duration such as "90s"`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var s ScheduleSettings
			if err := json.Unmarshal([]byte(tt.settings), &s); err != nil {
				t.Fatal(err)
			}
			err := checkSchedule(&s)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("unexpected error: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestExclusionJSON(t *testing.T) {
	var got []Exclusion
	in := `["2026-12-25",{"from":"2026-12-31T00:00","to":"2027-01-02"}]`
	if err := json.Unmarshal([]byte(in), &got); err != nil {
		t.Fatal(err)
	}
	if got[0] != (Exclusion{Date: "2026-12-25"}) || got[1] != (Exclusion{From: "2026-12-31T00:00", To: "2027-01-02"}) {
		t.Fatalf("decoded %+v", got)
	}
	out, _ := json.Marshal(got)
	if string(out) != in {
		t.Fatalf("round trip %s", out)
	}
	if err := json.Unmarshal([]byte(`[7]`), &got); err == nil || !strings.Contains(err.Error(), "an exclusion is a date") {
		t.Fatalf("a number: %v", err)
	}
}

func TestCheckPastAt(t *testing.T) {
	now := mustParse(t, "2026-03-04T10:00:00Z")
	for _, tt := range []struct {
		name, in, current, wantErr string
		late                       int
	}{
		{"future", `{"at":["2026-03-04T11:00:00Z"]}`, ``, "", 0},
		{"five minutes ago", `{"at":["2026-03-04T09:55:00Z"]}`, ``, "", 1},
		{"an hour ago", `{"at":["2026-03-04T09:00:00Z"]}`, ``, "is in the past (now is 2026-03-04T10:00:00Z); a past instant is accepted only within the catch-up window (15m0s", 0},
		{"an hour ago within maxAge", `{"at":["2026-03-04T09:00:00Z"],"maxAge":"2h"}`, ``, "", 1},
		{"never with none", `{"at":["2026-03-04T09:59:00Z"],"catchUp":"none"}`, ``, `catchUp "none"`, 0},
		{"stored already", `{"at":["2026-03-01T09:00:00Z"]}`, `{"at":["2026-03-01T09:00:00Z"]}`, "", 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var in, cur ScheduleSettings
			json.Unmarshal([]byte(tt.in), &in)
			var current *ScheduleSettings
			if tt.current != "" {
				json.Unmarshal([]byte(tt.current), &cur)
				current = &cur
			}
			late, err := checkPastAt(&in, current, now)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatal(err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("error %v, want %q", err, tt.wantErr)
			case len(late) != tt.late:
				t.Fatalf("late %v, want %d", late, tt.late)
			}
		})
	}
}

func mustPlan(t testing.TB, schedule []string, settings string) *plan {
	t.Helper()
	var st *ScheduleSettings
	if settings != "" {
		st = &ScheduleSettings{}
		if err := json.Unmarshal([]byte(settings), st); err != nil {
			t.Fatal(err)
		}
	}
	p, err := compilePlan(schedule, st)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPlanList walks listings through DST in the hook's zone, bounds,
// exclusions (dates and ranges, local and absolute), one-time fires and a
// pause.
func TestPlanList(t *testing.T) {
	t.Parallel()
	pause := &PauseState{Level: PauseHook, Reason: "maintenance", Since: mustParse(t, "2026-01-01T00:00:00Z")}
	type entry struct{ slot, reason string }
	for _, tt := range []struct {
		name      string
		schedule  []string
		settings  string
		from      string
		count     int
		pause     *PauseState
		fires     []string // local slots
		skipped   []entry
		truncated bool
	}{
		{name: "utc as upstream", schedule: []string{"0 0 9 * * *"}, from: "2026-03-07T10:00:00Z", count: 2,
			fires: []string{"2026-03-08T09:00:00Z", "2026-03-09T09:00:00Z"}},
		{name: "lord howe through the half-hour gap", settings: `{"timeZone":"Australia/Lord_Howe","cron":["15 2 * * *"]}`,
			from: "2026-10-02T12:00:00Z", count: 3,
			fires: []string{"2026-10-03T02:15:00+10:30", "2026-10-04T02:30:00+11:00", "2026-10-05T02:15:00+11:00"}},
		{name: "kolkata", settings: `{"timeZone":"Asia/Kolkata","cron":["30 9 * * *"]}`, from: "2026-06-30T00:00:00Z", count: 2,
			fires: []string{"2026-06-30T09:30:00+05:30", "2026-07-01T09:30:00+05:30"}},
		{name: "upstream schedule in the zone", schedule: []string{"0 30 1 * * *"}, settings: `{"timeZone":"America/New_York"}`,
			from: "2026-10-31T12:00:00Z", count: 3,
			fires: []string{"2026-11-01T01:30:00-04:00", "2026-11-02T01:30:00-05:00", "2026-11-03T01:30:00-05:00"}},
		{name: "exclusions in the zone", settings: `{"timeZone":"Europe/Berlin","cron":["0 9 * * *"],
			"exclude":["2026-12-25",{"from":"2026-12-31T00:00","to":"2027-01-02"},{"from":"2026-12-27T08:00:00Z","to":"2026-12-27T08:00:01Z"}]}`,
			from: "2026-12-24T00:00:00+01:00", count: 5,
			fires: []string{"2026-12-24T09:00:00+01:00", "2026-12-26T09:00:00+01:00", "2026-12-28T09:00:00+01:00",
				"2026-12-29T09:00:00+01:00", "2026-12-30T09:00:00+01:00"},
			skipped: []entry{{"2026-12-25T09:00:00+01:00", "exclusion"}, {"2026-12-27T09:00:00+01:00", "exclusion"}}},
		{name: "bounds", schedule: []string{"0 0 * * * *"}, settings: `{"start":"2026-03-04T12:00:00Z","end":"2026-03-04T14:00:00Z"}`,
			from: "2026-03-04T10:30:00Z", count: 5,
			fires:   []string{"2026-03-04T12:00:00Z", "2026-03-04T13:00:00Z"},
			skipped: []entry{{"2026-03-04T11:00:00Z", "before-start"}, {"2026-03-04T14:00:00Z", "after-end"}}},
		{name: "one-time fires only", settings: `{"at":["2026-03-05T08:00:00+01:00","2026-03-04T12:00:00Z","2026-03-04T12:00:00Z"]}`,
			from: "2026-03-04T00:00:00Z", count: 5, fires: []string{"2026-03-04T12:00:00Z", "2026-03-05T07:00:00Z"}},
		{name: "paused", schedule: []string{"0 0 * * * *"}, from: "2026-03-04T10:30:00Z", count: 2, pause: pause,
			fires: []string{}, skipped: []entry{{"2026-03-04T11:00:00Z", "paused"}, {"2026-03-04T12:00:00Z", "paused"}}},
		{name: "a long stretch before start is jumped", settings: `{"cron":["* * * * *"],"start":"2026-03-05T00:00:00Z"}`,
			from: "2026-03-04T00:00:00Z", count: 1, fires: []string{"2026-03-05T00:00:00Z"}, truncated: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			p := mustPlan(t, tt.schedule, tt.settings)
			l := p.list("g", "h", mustParse(t, tt.from), tt.count, tt.pause)
			var fires []string
			for _, f := range l.Fires {
				fires = append(fires, f.SlotLocal)
				if !f.FireAt.Equal(f.Slot) || f.FireAtLocal != f.SlotLocal {
					t.Errorf("no jitter, yet %s fires at %s", f.SlotLocal, f.FireAtLocal)
				}
				if !mustParse(t, f.SlotLocal).Equal(f.Slot) {
					t.Errorf("slotLocal %s is not slot %s", f.SlotLocal, f.Slot)
				}
			}
			if fmt.Sprint(fires) != fmt.Sprint(tt.fires) {
				t.Errorf("fires %v, want %v", fires, tt.fires)
			}
			if tt.truncated {
				if !l.SkippedTruncated || len(l.Skipped) != 10 {
					t.Errorf("%d skipped, truncated %v", len(l.Skipped), l.SkippedTruncated)
				}
				return
			}
			var skipped []entry
			for _, s := range l.Skipped {
				skipped = append(skipped, entry{s.SlotLocal, s.Reason})
			}
			if fmt.Sprint(skipped) != fmt.Sprint(tt.skipped) {
				t.Errorf("skipped %v, want %v", skipped, tt.skipped)
			}
		})
	}
}

// TestJitter checks the offsets: deterministic per hook and slot, within
// the jitter, below the gap to the next slot, and spread.
func TestJitter(t *testing.T) {
	t.Parallel()
	p := mustPlan(t, []string{"0 0 * * * *"}, `{"jitter":"10m"}`)
	slot := mustParse(t, "2026-03-04T10:00:00Z")
	offsets := map[time.Duration]bool{}
	for i := range 200 {
		id := fmt.Sprintf("h%d", i)
		at := p.fireAt("g", id, slot)
		if d := at.Sub(slot); d < 0 || d >= 10*time.Minute || d%time.Second != 0 {
			t.Fatalf("offset %s", d)
		}
		if again := mustPlan(t, []string{"0 0 * * * *"}, `{"jitter":"10m"}`).fireAt("g", id, slot); !again.Equal(at) {
			t.Fatalf("another scheduler's plan gives %s, not %s", again, at)
		}
		offsets[at.Sub(slot)] = true
	}
	if len(offsets) < 150 {
		t.Fatalf("200 hooks share %d offsets", len(offsets))
	}
	// Per-minute slots with an hour's jitter: offsets stay below a minute.
	fast := mustPlan(t, nil, `{"cron":["* * * * *"],"jitter":"1h"}`)
	for i := range 100 {
		if d := fast.fireAt("g", fmt.Sprintf("h%d", i), slot).Sub(slot); d >= time.Minute {
			t.Fatalf("offset %s reaches the next slot", d)
		}
	}
}

// BenchmarkScheduleListing lists 1,000 fires: upstream's UTC schedule, a
// zone across DST, and a zone with a jitter and exclusions.
func BenchmarkScheduleListing(b *testing.B) {
	from := mustParse(b, "2026-03-01T00:00:00Z")
	for _, c := range []struct{ name, settings string }{
		{"utc", ""},
		{"zoned", `{"timeZone":"America/New_York"}`},
		{"zoned+jitter+exclusions", `{"timeZone":"Australia/Lord_Howe","jitter":"10m","exclude":["2026-03-08",{"from":"2026-03-20","to":"2026-03-22"}]}`},
	} {
		p := mustPlan(b, []string{"0 0 * * * *"}, c.settings)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if l := p.list("g", "h", from, MaxScheduleListing, nil); len(l.Fires) != MaxScheduleListing {
					b.Fatalf("%d fires", len(l.Fires))
				}
			}
		})
	}
}

// BenchmarkPlanNext is the scheduler's next-slot computation for an
// hourly hook: upstream's (UTC), in a zone, and with a jitter as well.
func BenchmarkPlanNext(b *testing.B) {
	after := mustParse(b, "2026-03-04T10:20:30Z")
	for _, c := range []struct{ name, settings string }{
		{"utc", ""},
		{"zoned", `{"timeZone":"America/New_York"}`},
		{"zoned+jitter", `{"timeZone":"America/New_York","jitter":"10m"}`},
	} {
		p := mustPlan(b, []string{"0 0 * * * *"}, c.settings)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				slot, _ := p.nextSlot(after)
				p.dueAt("g", "h", slot)
			}
		})
	}
}

// FuzzScheduleSettings: any settings document either fails checkSchedule
// with an invalid-input error, or compiles to a plan whose listing ends,
// lists fires in order after `from`, each at or after its slot and before
// the next one.
func FuzzScheduleSettings(f *testing.F) {
	for _, seed := range []string{
		`{}`, `{"timeZone":"Australia/Lord_Howe","cron":["15 2 * * *"],"jitter":"1h"}`,
		`{"cron":["* * * * *"],"exclude":["2026-03-05",{"from":"2026-03-04T00:00","to":"2026-03-06"}],"start":"2026-03-04T12:00:00Z"}`,
		`{"at":["2026-03-04T11:00:00+01:00"],"end":"2026-03-04T10:30:00Z","catchUp":"all","maxCatchUp":3,"maxAge":"2h"}`,
		`{"timeZone":"America/Santiago","cron":["0 0 * * *"],"exclude":[{"from":"2026-09-06","to":"2026-09-07"}]}`,
	} {
		f.Add(seed, "0 0 * * * *")
	}
	from := mustParse(f, "2026-03-04T10:00:00Z")
	f.Fuzz(func(t *testing.T, settings, upstream string) {
		var st ScheduleSettings
		if json.Unmarshal([]byte(settings), &st) != nil {
			return
		}
		if err := checkSchedule(&st); err != nil {
			var he *Error
			if !errors.As(err, &he) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("checkSchedule error %T %v is not an invalid-input error", err, err)
			}
			return
		}
		var schedule []string
		if upstream != "" {
			schedule = []string{upstream}
		}
		p, err := compilePlan(schedule, &st)
		if err != nil {
			return // the upstream pattern does not parse
		}
		l := p.list("g", "h", from, 20, nil)
		last := from.Add(-time.Nanosecond)
		for _, fire := range l.Fires {
			if !fire.Slot.After(last) || fire.FireAt.Before(fire.Slot) || fire.FireAt.Sub(fire.Slot) > maxJitter {
				t.Fatalf("fire %+v after %s", fire, last)
			}
			if next, _, ok := p.nextCandidate(fire.Slot); ok && !fire.FireAt.Before(next) {
				t.Fatalf("fire %+v reaches the next slot %s", fire, next)
			}
			last = fire.Slot
		}
	})
}
