package hooks

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/taskcluster"
)

// The schedule scenarios run against every store backend: on the
// embedded store here, on DynamoDB in the integration build
// (schedule_dynamo_integration_test.go). Each gets a fresh store.
var scheduleScenarios = []struct {
	name string
	run  func(t *testing.T, e *schedEnv)
}{
	{"ZonesAcrossDST", scenarioZones},
	{"JitterKeepsTheSlotsTaskID", scenarioJitter},
	{"CatchUpPolicies", scenarioCatchUp},
	{"Exclusions", scenarioExclusions},
	{"OneTimeFires", scenarioAt},
	{"Bounds", scenarioBounds},
	{"SettingsReschedule", scenarioReschedule},
	{"RetryInsideCatchUpAll", scenarioRetryInsideAll},
	{"AttemptedSlotIsFinished", scenarioAttempted},
	{"Backfill", scenarioBackfill},
	{"StatusAndListing", scenarioStatus},
	{"ConcurrentTicks", scenarioConcurrentTicks},
}

func TestScheduleScenarios(t *testing.T) {
	for _, sc := range scheduleScenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t, newOperateEnv(t))
		})
	}
}

// slotTemplate records the fire's context in the task.
const slotTemplate = `{"provisionerId":"p","workerType":"w","extra":{"firedBy":"${firedBy}","taskId":"${taskId}","now":"${now}"}}`

// scheduled creates hook g/id with an upstream schedule (possibly none)
// and then the schedule settings, at the clock's time.
func (e *schedEnv) scheduled(t *testing.T, id string, schedule []string, settings string) store.Hook {
	t.Helper()
	ctx := context.Background()
	in := input(id, schedule...)
	in.Task = json.RawMessage(slotTemplate)
	if _, err := e.svc.Definitions.CreateHook(ctx, "g", id, in); err != nil {
		t.Fatal(err)
	}
	if settings != "" {
		e.putSchedule(t, id, settings)
	}
	return e.get(t, id)
}

func (e *schedEnv) putSchedule(t *testing.T, id, settings string) {
	t.Helper()
	var st ScheduleSettings
	if err := json.Unmarshal([]byte(settings), &st); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Operations.PutSettings(context.Background(), "g", id, Settings{Schedule: &st}); err != nil {
		t.Fatal(err)
	}
}

// firedSlots returns the `now` of each task hook id created (found by
// its fire records), in order, and fails on a slot with two tasks.
func (e *schedEnv) firedSlots(t *testing.T, id string) []string {
	t.Helper()
	recs, _, err := e.store.ListLastFires(context.Background(), "g", id, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	e.queue.mu.Lock()
	defer e.queue.mu.Unlock()
	var slots []string
	seen := map[string]string{}
	for _, r := range recs {
		raw, ok := e.queue.tasks[r.TaskID]
		if r.Result != "success" || !ok {
			continue
		}
		var task struct {
			Extra struct{ Now, TaskID string } `json:"extra"`
		}
		if err := json.Unmarshal(raw, &task); err != nil || task.Extra.TaskID != r.TaskID {
			t.Fatalf("task %s: %s", r.TaskID, raw)
		}
		if other, dup := seen[task.Extra.Now]; dup {
			if other == r.TaskID {
				continue // one task, recorded by two attempts
			}
			t.Fatalf("slot %s of %s fired twice: %s and %s", task.Extra.Now, id, other, r.TaskID)
		}
		seen[task.Extra.Now] = r.TaskID
		slots = append(slots, task.Extra.Now)
	}
	slices.Sort(slots)
	return slots
}

// decisionsBy lists a hook's decisions oldest first, as "outcome slot"
// strings (the slot in UTC, hh:mm form on the day).
func (e *schedEnv) decisionsBy(t *testing.T, id string) []Decision {
	t.Helper()
	ds := e.decisions(t, "g", id)
	slices.Reverse(ds)
	return ds
}

func hhmm(ts time.Time) string { return ts.UTC().Format("01-02T15:04") }

func summarize(ds []Decision) []string {
	var out []string
	for _, d := range ds {
		s := d.Outcome
		if d.ScheduledFor != nil {
			s += " " + hhmm(*d.ScheduledFor)
		}
		if d.MissedSlots > 0 {
			s += fmt.Sprintf(" x%d", d.MissedSlots)
		}
		if d.CatchUp != "" {
			s += " catchUp=" + d.CatchUp
		}
		if d.Exclusion != "" {
			s += " excl=" + d.Exclusion
		}
		if d.Backfill {
			s += " backfill"
		}
		out = append(out, s)
	}
	return out
}

func scenarioZones(t *testing.T, e *schedEnv) {
	// Lord Howe: 2026-10-04 02:00 +10:30 jumps to 02:30 +11:00.
	e.clock.Set(mustParse(t, "2026-10-02T12:00:00Z"))
	e.scheduled(t, "lordhowe", nil, `{"timeZone":"Australia/Lord_Howe","cron":["15 2 * * *"]}`)
	// Kolkata, +05:30 all year; New York repeats 01:00-02:00 on 2026-11-01.
	e.scheduled(t, "kolkata", nil, `{"timeZone":"Asia/Kolkata","cron":["30 9 * * *"]}`)
	e.scheduled(t, "newyork", []string{"0 30 1 * * *"}, `{"timeZone":"America/New_York"}`)
	if next := e.get(t, "lordhowe").NextScheduledDate; !next.Equal(mustParse(t, "2026-10-03T02:15:00+10:30")) {
		t.Fatalf("first Lord Howe slot %s", next)
	}
	// A scheduler ticking every 20 minutes, through the two transitions.
	for _, window := range [][2]string{{"2026-10-02T12:00:00Z", "2026-10-05T00:00:00Z"}, {"2026-10-31T12:00:00Z", "2026-11-03T00:00:00Z"}} {
		for at := mustParse(t, window[0]); at.Before(mustParse(t, window[1])); at = at.Add(20 * time.Minute) {
			e.clock.Set(at)
			if _, err := e.svc.Scheduler.Tick(context.Background(), at, TickOptions{Interval: 20 * time.Minute}); err != nil {
				t.Fatal(err)
			}
		}
	}
	lh := e.firedSlots(t, "lordhowe")
	if lh[0] != "2026-10-02T15:45:00.000Z" || lh[1] != "2026-10-03T15:30:00.000Z" || lh[2] != "2026-10-04T15:15:00.000Z" {
		t.Fatalf("Lord Howe fired %v: want 02:15 +10:30, the gap's end 02:30 +11:00, then 02:15 +11:00", lh)
	}
	kk := e.firedSlots(t, "kolkata")
	if kk[0] != "2026-10-03T04:00:00.000Z" || !slices.Contains(kk, "2026-11-01T04:00:00.000Z") || !slices.Contains(kk, "2026-11-02T04:00:00.000Z") {
		t.Fatalf("Kolkata fired %v", kk)
	}
	ny := e.firedSlots(t, "newyork")
	if i := slices.Index(ny, "2026-11-01T05:30:00.000Z"); i < 0 || i+1 >= len(ny) || ny[i+1] != "2026-11-02T06:30:00.000Z" {
		t.Fatalf("New York fired %v around the overlap: want 01:30 EDT once, then 01:30 EST the next day", ny)
	}
	for _, d := range e.decisionsBy(t, "lordhowe")[:3] {
		if d.Outcome != OutcomeCreated || d.CatchUp != "" {
			t.Fatalf("decision %+v", d)
		}
	}
}

func scenarioJitter(t *testing.T, e *schedEnv) {
	const n = 30
	for i := range n {
		e.scheduled(t, fmt.Sprintf("h%02d", i), []string{"0 0 * * * *"}, `{"jitter":"10m"}`)
	}
	// A second scheduler, on the same store, agrees on every fire time.
	other := newServiceOn(t, e.store, Options{Now: e.clock.Now, Queue: e.queue})
	before := map[string]store.Hook{}
	late := 0
	for i := range n {
		id := fmt.Sprintf("h%02d", i)
		h := e.get(t, id)
		before[id] = h
		if !slotOf(h).Equal(ten) || h.NextScheduledDate.Before(ten) || !h.NextScheduledDate.Before(ten.Add(10*time.Minute)) {
			t.Fatalf("%s: slot %s due %s", id, slotOf(h), h.NextScheduledDate)
		}
		if h.NextTaskID != slotTaskID(h.ScheduleKey, "g", id, ten) {
			t.Fatal("the jittered fire's taskId is not the slot's")
		}
		def, _ := other.Definitions.GetHook(context.Background(), "g", id)
		p, _ := other.Scheduler.plan(def, &ScheduleSettings{Jitter: "10m"})
		if at := p.fireAt("g", id, ten); !at.Equal(h.NextScheduledDate) {
			t.Fatalf("the other scheduler would fire %s at %s, not %s", id, at, h.NextScheduledDate)
		}
		// Ticks come each whole minute and the clock moves a millisecond
		// at every reading: a hook due from 10:04 on is sent at 10:05:00
		// and a few milliseconds or later, more than five minutes late.
		if h.NextScheduledDate.Sub(ten) >= 4*time.Minute {
			late++
		}
	}
	// Ticks a minute apart: each hook fires once its own time has come,
	// so the hour's fires spread over ten minutes.
	fired := 0
	for m := 1; m <= 11; m++ {
		rep := e.tick(t, ten.Add(time.Duration(m)*time.Minute))
		if rep.Fired == n {
			t.Fatalf("all %d hooks fired in the same tick", n)
		}
		fired += rep.Fired
	}
	if fired != n {
		t.Fatalf("%d of %d fired", fired, n)
	}
	moved := 0
	for id, h := range before {
		var task map[string]any
		json.Unmarshal(e.queue.tasks[h.NextTaskID], &task)
		if task["extra"].(map[string]any)["now"] != "2026-03-04T10:00:00.000Z" {
			t.Fatalf("%s: the template's now must stay the slot: %v", id, task)
		}
		d := e.lastDecision(t, "g", id)
		if d.FireAt == nil && !h.NextSlot.IsZero() || d.FireAt != nil && !d.FireAt.Equal(h.NextScheduledDate) {
			t.Fatalf("%s: decision fireAt %v, due %s", id, d.FireAt, h.NextScheduledDate)
		}
		if task["created"] != "2026-03-04T10:00:00.000Z" {
			moved++
			if d.TaskCreated == nil || d.TaskCreated.Format(taskTimeLayout) != task["created"] {
				t.Fatalf("%s: created %v, decision %v", id, task["created"], d.TaskCreated)
			}
		}
		if next := e.get(t, id); !slotOf(next).Equal(ten.Add(time.Hour)) {
			t.Fatalf("%s advanced to %s", id, slotOf(next))
		}
	}
	// Fires sent more than five minutes after their slot are created then.
	if moved != late {
		t.Fatalf("%d tasks moved their created, %d fired more than 5 minutes late", moved, late)
	}
}

func scenarioCatchUp(t *testing.T, e *schedEnv) {
	hooks := map[string]string{
		"default":      ``,
		"none":         `{"catchUp":"none"}`,
		"latest":       `{"catchUp":"latest"}`,
		"latest-young": `{"catchUp":"latest","maxAge":"10m"}`,
		"all":          `{"catchUp":"all","maxCatchUp":3}`,
		"all-2h":       `{"catchUp":"all","maxAge":"2h"}`,
		"oldest-2h":    `{"catchUp":"oldest","maxAge":"2h"}`,
		"none-on-time": `{"catchUp":"none"}`,
	}
	for id, settings := range hooks {
		e.scheduled(t, id, []string{"0 0 * * * *"}, settings)
	}
	// The scheduler was down from before 10:00 until 15:30.
	e.tick(t, ten.Add(5*time.Hour+30*time.Minute+20*time.Second))
	want := map[string][]string{
		"default":      {"10:00"},
		"none":         nil,
		"latest":       {"15:00"},
		"latest-young": nil,
		"all":          {"13:00", "14:00", "15:00"},
		"all-2h":       {"14:00", "15:00"},
		"oldest-2h":    {"14:00"},
	}
	for id, slots := range want {
		var got []string
		for _, s := range e.firedSlots(t, id) {
			got = append(got, s[11:16])
		}
		if fmt.Sprint(got) != fmt.Sprint(slots) {
			t.Errorf("%s fired %v, want %v", id, got, slots)
		}
		if next := e.get(t, id); !next.NextScheduledDate.Equal(ten.Add(6 * time.Hour)) {
			t.Errorf("%s next %s, want 16:00", id, next.NextScheduledDate)
		}
	}
	wantDecisions := map[string][]string{
		"default": {"created 03-04T10:00 catchUp=oldest", "collapsed 03-04T10:00 x5 catchUp=oldest"},
		"none":    {"collapsed 03-04T10:00 x6 catchUp=none"},
		"all":     {"collapsed 03-04T13:00 x3 catchUp=all"}, // and three created, in any order
	}
	for id, w := range wantDecisions {
		got := summarize(e.decisionsBy(t, id))
		for _, d := range w {
			if !slices.Contains(got, d) {
				t.Errorf("%s decisions %v lack %q", id, got, d)
			}
		}
	}
	// On time, even catchUp none fires.
	rep := e.tick(t, ten.Add(6*time.Hour+30*time.Second))
	if got := e.firedSlots(t, "none-on-time"); len(got) != 1 || got[0] != "2026-03-04T16:00:00.000Z" || rep.Fired != len(hooks) {
		t.Fatalf("on time: %v, report %+v", got, rep)
	}
	if d := e.lastDecision(t, "g", "none"); d.CatchUp != "" || d.Late {
		t.Fatalf("an on-time fire is no catch-up: %+v", d)
	}
}

func scenarioExclusions(t *testing.T, e *schedEnv) {
	e.clock.Set(mustParse(t, "2026-12-23T12:00:00Z"))
	e.scheduled(t, "xmas", nil, `{"timeZone":"Europe/Berlin","cron":["0 9 * * *"],
		"exclude":["2026-12-25",{"from":"2026-12-31T00:00","to":"2027-01-02"}]}`)
	for day := mustParse(t, "2026-12-24T08:01:00Z"); day.Before(mustParse(t, "2027-01-04T00:00:00Z")); day = day.AddDate(0, 0, 1) {
		e.tick(t, day)
	}
	var fired []string
	for _, s := range e.firedSlots(t, "xmas") {
		fired = append(fired, s[5:10])
	}
	if fmt.Sprint(fired) != "[12-24 12-26 12-27 12-28 12-29 12-30 01-02 01-03]" {
		t.Fatalf("fired on %v", fired)
	}
	var skipped []string
	for _, d := range e.decisionsBy(t, "xmas") {
		if d.Outcome == OutcomeSkipped {
			skipped = append(skipped, summarize([]Decision{d})[0])
			if !strings.Contains(d.Reason, "excluded by schedule.exclude") || d.TaskID != "" {
				t.Fatalf("skipped decision %+v", d)
			}
		}
	}
	if fmt.Sprint(skipped) != "[skipped 12-25T08:00 excl=2026-12-25 skipped 12-31T08:00 excl=2026-12-31T00:00/2027-01-02 skipped 01-01T08:00 excl=2026-12-31T00:00/2027-01-02]" {
		t.Fatalf("skipped %v", skipped)
	}

	// After an outage across an excluded day: the exclusion is recorded,
	// the oldest live slot fires, the rest collapse.
	e.clock.Set(mustParse(t, "2027-12-23T12:00:00Z"))
	e.scheduled(t, "outage", nil, `{"timeZone":"Europe/Berlin","cron":["0 9 * * *"],"exclude":["2027-12-25","2027-12-26"]}`)
	e.tick(t, mustParse(t, "2027-12-28T10:00:00Z"))
	if got := summarize(e.decisionsBy(t, "outage")); fmt.Sprint(got) != "[created 12-24T08:00 catchUp=oldest skipped 12-25T08:00 excl=2027-12-25 skipped 12-26T08:00 excl=2027-12-26 collapsed 12-24T08:00 x2 catchUp=oldest]" {
		t.Fatalf("outage decisions %v", got)
	}
}

func scenarioAt(t *testing.T, e *schedEnv) {
	ctx := context.Background()
	// No upstream schedule: the hook fires only at its two instants.
	e.scheduled(t, "once", nil, `{"at":["2026-03-04T11:00:00+01:00","2026-03-04T12:30:00Z"]}`)
	if next := e.get(t, "once").NextScheduledDate; !next.Equal(ten) {
		t.Fatalf("first at %s", next)
	}
	for at := ten; at.Before(ten.Add(4 * time.Hour)); at = at.Add(time.Minute) {
		e.tick(t, at)
	}
	if got := e.firedSlots(t, "once"); fmt.Sprint(got) != "[2026-03-04T10:00:00.000Z 2026-03-04T12:30:00.000Z]" {
		t.Fatalf("fired %v", got)
	}
	if h := e.get(t, "once"); !h.NextScheduledDate.IsZero() {
		t.Fatalf("still scheduled at %s", h.NextScheduledDate)
	}
	if st, _ := e.svc.Firing.Status(ctx, "g", "once"); st.NextScheduledDate != nil {
		t.Fatalf("status %+v", st)
	}
	// Past instants: refused an hour late, fired within the window, and
	// kept when a GET reply comes back.
	e.clock.Set(ten.Add(5 * time.Hour))
	var st ScheduleSettings
	json.Unmarshal([]byte(`{"at":["2026-03-04T13:00:00Z"]}`), &st)
	_, err := e.svc.Operations.PutSettings(ctx, "g", "once", Settings{Schedule: &st})
	if err == nil || !strings.Contains(err.Error(), "schedule.at[0] 2026-03-04T13:00:00Z is in the past") {
		t.Fatalf("an hour-old instant: %v", err)
	}
	e.putSchedule(t, "once", `{"at":["2026-03-04T14:55:00Z"]}`)
	if rep := e.tick(t, ten.Add(5*time.Hour+time.Minute)); rep.Fired != 1 {
		t.Fatalf("the late instant did not fire: %+v", rep)
	}
	got, _ := e.svc.Operations.GetSettings(ctx, "g", "once")
	if _, err := e.svc.Operations.PutSettings(ctx, "g", "once", got); err != nil {
		t.Fatalf("a GET reply sent back: %v", err)
	}
	if rep := e.tick(t, ten.Add(5*time.Hour+2*time.Minute)); rep.Due != 0 {
		t.Fatalf("a kept past instant fired again: %+v", rep)
	}
}

func scenarioBounds(t *testing.T, e *schedEnv) {
	e.scheduled(t, "bounded", []string{"0 0 * * * *"}, `{"start":"2026-03-04T12:00:00Z","end":"2026-03-04T14:00:00Z"}`)
	if next := e.get(t, "bounded").NextScheduledDate; !next.Equal(ten.Add(2 * time.Hour)) {
		t.Fatalf("first slot %s, want start", next)
	}
	for at := ten; at.Before(ten.Add(6 * time.Hour)); at = at.Add(10 * time.Minute) {
		e.tick(t, at)
	}
	if got := e.firedSlots(t, "bounded"); fmt.Sprint(got) != "[2026-03-04T12:00:00.000Z 2026-03-04T13:00:00.000Z]" {
		t.Fatalf("fired %v", got)
	}
	if !e.get(t, "bounded").NextScheduledDate.IsZero() {
		t.Fatal("still scheduled after end")
	}
}

func scenarioReschedule(t *testing.T, e *schedEnv) {
	ctx := context.Background()
	e.scheduled(t, "h", []string{"0 0 * * * *"}, "")
	before := e.get(t, "h")
	// A zone moves the hourly slot to the zone's hours: Kolkata's are at :30 UTC.
	e.putSchedule(t, "h", `{"timeZone":"Asia/Kolkata"}`)
	after := e.get(t, "h")
	if !after.NextScheduledDate.Equal(ten.Add(-30*time.Minute).Add(time.Hour)) || after.NextTaskID == before.NextTaskID {
		t.Fatalf("after the zone: %+v", after)
	}
	// Settings that leave the schedule alone leave the hook alone.
	if _, err := e.svc.Operations.PutSettings(ctx, "g", "h", Settings{Filters: []string{"true"}, Schedule: &ScheduleSettings{TimeZone: "Asia/Kolkata"}}); err != nil {
		t.Fatal(err)
	}
	if again := e.get(t, "h"); again.Version != after.Version {
		t.Fatal("an unchanged schedule rewrote the hook")
	}
	// A stored slot the schedule no longer has (a reschedule lost) is
	// moved, not fired.
	stale := e.get(t, "h")
	stale.NextScheduledDate, stale.NextSlot = ten.Add(7*time.Minute), time.Time{}
	if _, err := e.store.UpdateHook(ctx, stale); err != nil {
		t.Fatal(err)
	}
	if rep := e.tick(t, ten.Add(8*time.Minute)); rep.Fired != 0 {
		t.Fatalf("a stale slot fired: %+v", rep)
	}
	if h := e.get(t, "h"); !h.NextScheduledDate.Equal(ten.Add(30 * time.Minute)) {
		t.Fatalf("rescheduled to %s", h.NextScheduledDate)
	}
	// Updating the definition keeps the settings' zone.
	if _, err := e.svc.Definitions.UpdateHook(ctx, "g", "h", input("h", "0 0 12 * * *")); err != nil {
		t.Fatal(err)
	}
	if h := e.get(t, "h"); !h.NextScheduledDate.Equal(mustParse(t, "2026-03-04T12:00:00+05:30").AddDate(0, 0, 1)) {
		t.Fatalf("after update: %s", h.NextScheduledDate)
	}
}

func scenarioRetryInsideAll(t *testing.T, e *schedEnv) {
	h := e.scheduled(t, "all", []string{"0 0 * * * *"}, `{"catchUp":"all"}`)
	second := slotTaskID(h.ScheduleKey, "g", "all", ten.Add(time.Hour))
	e.queue.fail = func(taskID string) error {
		if taskID == second {
			return &taskcluster.APIError{StatusCode: 503, Code: "InternalServerError", Method: "createTask"}
		}
		return nil
	}
	rep := e.tick(t, ten.Add(3*time.Hour+time.Minute))
	if rep.Fired != 1 || rep.Retry != 1 {
		t.Fatalf("report %+v", rep)
	}
	if got := e.get(t, "all"); !slotOf(got).Equal(ten.Add(time.Hour)) || got.NextTaskID != second {
		t.Fatalf("the failed slot must stay due: %+v", got)
	}
	e.queue.fail = nil
	rep = e.tick(t, ten.Add(3*time.Hour+2*time.Minute))
	if rep.Fired != 3 {
		t.Fatalf("report %+v", rep)
	}
	if got := e.firedSlots(t, "all"); len(got) != 4 {
		t.Fatalf("fired %v", got)
	}
}

func scenarioAttempted(t *testing.T, e *schedEnv) {
	h := e.scheduled(t, "h", []string{"0 0 * * * *"}, `{"catchUp":"none"}`)
	e.queue.fail = func(string) error {
		return &taskcluster.APIError{StatusCode: 502, Code: "InternalServerError", Method: "createTask"}
	}
	e.tick(t, ten.Add(time.Minute))
	e.queue.fail = nil
	// Ten minutes late, the slot counts as missed, but it was attempted:
	// the same task goes out.
	if rep := e.tick(t, ten.Add(10*time.Minute)); rep.Fired != 1 || e.queue.tasks[h.NextTaskID] == nil {
		t.Fatalf("report %+v", rep)
	}
}

func scenarioBackfill(t *testing.T, e *schedEnv) {
	ctx := context.Background()
	e.clock.Set(mustParse(t, "2026-03-01T00:00:00Z"))
	e.scheduled(t, "h", []string{"0 0 * * * *"}, `{"exclude":[{"from":"2026-03-04T03:00:00Z","to":"2026-03-04T04:00:00Z"}]}`)
	e.clock.Set(ten)
	req := BackfillRequest{From: mustParse(t, "2026-03-04T00:00:00Z"), To: mustParse(t, "2026-03-04T06:00:00Z")}
	res, err := e.svc.Operations.Backfill(ctx, "g", "h", req)
	if err != nil {
		t.Fatal(err)
	}
	var outcomes []string
	for _, s := range res.Slots {
		outcomes = append(outcomes, hhmm(s.Slot)+" "+s.Outcome)
	}
	if fmt.Sprint(outcomes) != "[03-04T00:00 created 03-04T01:00 created 03-04T02:00 created 03-04T03:00 skipped 03-04T04:00 created 03-04T05:00 created]" || res.ContinueFrom != nil {
		t.Fatalf("backfill %v %v", outcomes, res.ContinueFrom)
	}
	for _, d := range e.decisions(t, "g", "h") {
		if !d.Backfill || d.Late || d.WillRetry {
			t.Fatalf("decision %+v", d)
		}
	}
	// Again: the same taskIds, so nothing new; the created slots name
	// the decisions recorded the first time.
	decided := len(e.decisions(t, "g", "h"))
	again, err := e.svc.Operations.Backfill(ctx, "g", "h", req)
	if err != nil || e.queue.taskCount() != 5 || again.Slots[0].TaskID != res.Slots[0].TaskID {
		t.Fatalf("repeat: %d tasks, %v", e.queue.taskCount(), err)
	}
	if again.Slots[0].DecisionID != res.Slots[0].DecisionID || again.Slots[0].Outcome != OutcomeCreated {
		t.Fatalf("repeat: slot %+v, first %+v", again.Slots[0], res.Slots[0])
	}
	// The excluded slot is recorded as skipped again: nothing claims it.
	if n := len(e.decisions(t, "g", "h")); n != decided+1 {
		t.Fatalf("repeat: %d decisions, was %d", n, decided)
	}
	// Bounded, with a continuation; the future is the scheduler's.
	page, err := e.svc.Operations.Backfill(ctx, "g", "h", BackfillRequest{From: ten.Add(-3 * time.Hour), To: ten.Add(time.Hour), Max: 2})
	if err != nil || len(page.Slots) != 2 || page.ContinueFrom == nil || !page.ContinueFrom.Equal(ten.Add(-time.Hour)) ||
		page.To.Before(ten) || !page.To.Before(ten.Add(time.Second)) {
		t.Fatalf("page %+v %v", page, err)
	}
	// A slot the scheduler fired is not fired again.
	e.clock.Set(ten.Add(-2 * time.Minute))
	e.scheduled(t, "s", []string{"0 0 * * * *"}, "")
	e.tick(t, ten.Add(time.Minute))
	n := e.queue.taskCount()
	if _, err := e.svc.Operations.Backfill(ctx, "g", "s", BackfillRequest{From: ten.Add(-time.Hour), To: ten.Add(time.Hour)}); err != nil || e.queue.taskCount() != n+1 {
		t.Fatalf("backfill over a fired slot: %d tasks, was %d (%v)", e.queue.taskCount(), n, err)
	}
	// Pauses and filters apply.
	if _, err := e.svc.Operations.SetPause(ctx, PauseTarget{HookGroupID: "g", HookID: "h"}, true, "backfill test", "me"); err != nil {
		t.Fatal(err)
	}
	paused, err := e.svc.Operations.Backfill(ctx, "g", "h", BackfillRequest{From: ten.Add(-34 * time.Hour), To: ten.Add(-33 * time.Hour)})
	if err != nil || paused.Slots[0].Outcome != OutcomePaused {
		t.Fatalf("paused backfill %+v %v", paused, err)
	}
	// Bad requests.
	for _, bad := range []BackfillRequest{{From: ten, To: ten}, {From: ten.Add(-time.Hour), To: ten, Max: 1001}} {
		if _, err := e.svc.Operations.Backfill(ctx, "g", "h", bad); err == nil {
			t.Fatalf("%+v accepted", bad)
		}
	}
}

func scenarioStatus(t *testing.T, e *schedEnv) {
	ctx := context.Background()
	e.scheduled(t, "j", []string{"0 0 * * * *"}, `{"jitter":"30m","exclude":[{"from":"2026-03-04T10:00:00Z","to":"2026-03-04T11:00:00Z"}]}`)
	h := e.get(t, "j")
	if !h.NextScheduledDate.Equal(ten) {
		t.Fatalf("an excluded slot is due at its time: %s", h.NextScheduledDate)
	}
	st, err := e.svc.Firing.Status(ctx, "g", "j")
	if err != nil {
		t.Fatal(err)
	}
	l, err := e.svc.Operations.ListSchedule(ctx, "g", "j", time.Time{}, 3)
	if err != nil {
		t.Fatal(err)
	}
	if st.NextScheduledDate == nil || !st.NextScheduledDate.Equal(l.Fires[0].FireAt) || !l.Fires[0].Slot.Equal(ten.Add(time.Hour)) {
		t.Fatalf("status %v, listing %+v", st.NextScheduledDate, l.Fires)
	}
	if len(l.Skipped) != 1 || l.Skipped[0].Reason != SkipExclusion || l.Jitter != "30m0s" {
		t.Fatalf("listing %+v", l)
	}
	rep, err := e.svc.Operations.CheckHook(ctx, "g", "j", CheckInput{FiredBy: FiredBySchedule})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Schedule == nil || len(rep.Schedule.Fires) != 5 || !rep.NextScheduledDates[0].Equal(l.Fires[0].FireAt) {
		t.Fatalf("pre-check %+v", rep)
	}
	var task map[string]any
	json.Unmarshal(rep.Task, &task)
	if task["extra"].(map[string]any)["now"] != "2026-03-04T11:00:00.000Z" {
		t.Fatalf("pre-check renders the first slot: %v", task)
	}
	if _, err := e.svc.Operations.ListSchedule(ctx, "g", "j", time.Time{}, 1001); err == nil {
		t.Fatal("count 1001 accepted")
	}
	// A hook with only `at` has a next date too.
	e.scheduled(t, "at", nil, `{"at":["2026-03-05T00:00:00Z"]}`)
	if st, _ := e.svc.Firing.Status(ctx, "g", "at"); st.NextScheduledDate == nil || !st.NextScheduledDate.Equal(mustParse(t, "2026-03-05T00:00:00Z")) {
		t.Fatalf("at-only status %+v", st)
	}
}

// scenarioConcurrentTicks: overlapping ticks (three at once, two with
// the same time and one a minute later) over hooks with zones, jitter and
// catch-up all fire each slot once.
func scenarioConcurrentTicks(t *testing.T, e *schedEnv) {
	settings := []string{
		`{"timeZone":"Australia/Lord_Howe","catchUp":"all"}`,
		`{"jitter":"20m","catchUp":"all","maxCatchUp":4}`,
		`{"timeZone":"Asia/Kolkata","jitter":"5m","catchUp":"all"}`,
		`{"catchUp":"latest"}`,
		``,
	}
	const n = 25
	for i := range n {
		e.scheduled(t, fmt.Sprintf("h%02d", i), []string{"0 0 * * * *"}, settings[i%len(settings)])
	}
	// The scheduler was down for five hours.
	at := ten.Add(5*time.Hour + 45*time.Minute)
	e.clock.Set(at)
	var wg sync.WaitGroup
	for k := range 3 {
		wg.Go(func() {
			tick := at.Add(time.Duration(k/2) * time.Minute)
			if _, err := e.svc.Scheduler.Tick(context.Background(), tick, TickOptions{Concurrency: 4}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	e.tick(t, at.Add(2*time.Minute))
	total := 0
	for i := range n {
		id := fmt.Sprintf("h%02d", i)
		got := e.firedSlots(t, id) // fails on a slot fired twice
		total += len(got)
		if len(got) == 0 {
			t.Fatalf("%s fired nothing", id)
		}
	}
	if total != e.queue.taskCount() {
		t.Fatalf("%d slots, %d tasks", total, e.queue.taskCount())
	}
	if due, _ := e.store.ListDue(context.Background(), at.Add(2*time.Minute), 0); len(due) != 0 {
		t.Fatalf("%d hooks still due", len(due))
	}
}
