package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/taskcluster"
)

// fakeQueue has Taskcluster's createTask semantics (same id and body: a
// no-op; different body: 409) and can be told to fail.
type fakeQueue struct {
	mu    sync.Mutex
	tasks map[string]json.RawMessage
	calls []string
	fail  func(taskID string) error
	// refuse, when set, refuses the tasks whose body contains it with a
	// 400, as the queue refuses a task it cannot take.
	refuse []byte
	// delay is how long each call takes, as a real queue's round trip.
	delay time.Duration
}

func (q *fakeQueue) CreateTask(_ context.Context, taskID string, task json.RawMessage, _ []string) (json.RawMessage, error) {
	time.Sleep(q.delay)
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls = append(q.calls, taskID)
	if q.fail != nil {
		if err := q.fail(taskID); err != nil {
			return nil, err
		}
	}
	if q.refuse != nil && bytes.Contains(task, q.refuse) {
		return nil, &taskcluster.APIError{StatusCode: 400, Code: "InputError", Method: "createTask", Message: "refused"}
	}
	if q.tasks == nil {
		q.tasks = map[string]json.RawMessage{}
	}
	if old, ok := q.tasks[taskID]; ok && !bytes.Equal(old, task) {
		return nil, &taskcluster.APIError{StatusCode: 409, Code: "RequestConflict", Method: "createTask"}
	}
	q.tasks[taskID] = task
	return json.RawMessage(`{}`), nil
}

func (q *fakeQueue) taskCount() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return len(q.tasks)
}

type sentEmail struct{ to, subject, body string }

type fakeMailer struct {
	mu   sync.Mutex
	sent []sentEmail
	fail error
}

func (m *fakeMailer) SendEmail(_ context.Context, to, subject, body string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.fail != nil {
		return m.fail
	}
	m.sent = append(m.sent, sentEmail{to, subject, body})
	return nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
	// step, when set, moves the clock on at every reading.
	step time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.t
	c.t = c.t.Add(c.step)
	return now
}

func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

type schedEnv struct {
	svc    *Service
	store  store.Store
	queue  *fakeQueue
	mailer *fakeMailer
	clock  *clock
	logs   *bytes.Buffer
}

// newSchedEnv is a service over the embedded store with a fake queue,
// mailer and clock, and Taskcluster's scope rules; edits adjust its
// options.
func newSchedEnv(t *testing.T, edits ...func(*Options)) *schedEnv {
	t.Helper()
	return newSchedEnvOn(t, nil, edits...)
}

// newSchedEnvOn is newSchedEnv over st (nil: a fresh embedded store).
func newSchedEnvOn(t *testing.T, st store.Store, edits ...func(*Options)) *schedEnv {
	t.Helper()
	e := &schedEnv{queue: &fakeQueue{}, mailer: &fakeMailer{}, clock: &clock{t: time.Date(2026, 3, 4, 9, 58, 10, 0, time.UTC)}, logs: &bytes.Buffer{}}
	opts := Options{Now: e.clock.Now, Queue: e.queue, Mailer: e.mailer, Logger: slog.New(slog.NewJSONHandler(e.logs, nil)), ScopeRules: taskcluster.ScopeRules{}}
	for _, edit := range edits {
		edit(&opts)
	}
	if st == nil {
		e.svc, e.store = newServiceWith(t, opts)
	} else {
		e.svc, e.store = newServiceOn(t, st, opts), st
	}
	return e
}

// hourly creates a hook firing at minute 0 of every hour, created at
// 09:58:10, so its first slot is 10:00:00.
func (e *schedEnv) hourly(t *testing.T, id string, edit func(*Input)) store.Hook {
	t.Helper()
	in := input("hourly", "0 0 * * * *")
	in.Task = json.RawMessage(`{"provisionerId":"p","workerType":"w","created":{"$fromNow":"0 seconds"},"extra":{"firedBy":"${firedBy}","taskId":"${taskId}","now":"${now}"}}`)
	if edit != nil {
		edit(&in)
	}
	if _, err := e.svc.Definitions.CreateHook(context.Background(), "g", id, in); err != nil {
		t.Fatal(err)
	}
	rec, err := e.store.GetHook(context.Background(), "g", id)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

func (e *schedEnv) tick(t *testing.T, at time.Time) TickReport {
	t.Helper()
	e.clock.Set(at)
	rep, err := e.svc.Scheduler.Tick(context.Background(), at, TickOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func (e *schedEnv) get(t *testing.T, id string) store.Hook {
	t.Helper()
	rec, err := e.store.GetHook(context.Background(), "g", id)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}

var ten = time.Date(2026, 3, 4, 10, 0, 0, 0, time.UTC)

func TestTickFiresDueHookWithItsSlot(t *testing.T) {
	e := newSchedEnv(t)
	before := e.hourly(t, "h", nil)
	if !before.NextScheduledDate.Equal(ten) {
		t.Fatalf("first slot = %v", before.NextScheduledDate)
	}
	// Not due yet, nor exactly at the slot: due means strictly before now.
	if rep := e.tick(t, ten); rep.Due != 0 {
		t.Fatalf("fired at the slot instant: %+v", rep)
	}
	rep := e.tick(t, ten.Add(20*time.Second))
	if rep.Fired != 1 || rep.Due != 1 {
		t.Fatalf("report %+v", rep)
	}
	var task map[string]any
	json.Unmarshal(e.queue.tasks[before.NextTaskID], &task)
	extra := task["extra"].(map[string]any)
	// The task uses the stored nextTaskId and is rendered at the slot time.
	if extra["taskId"] != before.NextTaskID || extra["firedBy"] != "schedule" || extra["now"] != "2026-03-04T10:00:00.000Z" || task["created"] != "2026-03-04T10:00:00.000Z" {
		t.Fatalf("task %v", task)
	}
	after := e.get(t, "h")
	if after.NextTaskID == before.NextTaskID || !after.NextScheduledDate.Equal(ten.Add(time.Hour)) {
		t.Fatalf("not advanced: %+v", after)
	}
	fires, _, _ := e.store.ListLastFires(context.Background(), "g", "h", store.Page{})
	if len(fires) != 1 || fires[0].FiredBy != "schedule" || fires[0].Result != "success" {
		t.Fatalf("fires %+v", fires)
	}
}

func TestTickSkipsHooksNotDue(t *testing.T) {
	e := newSchedEnv(t)
	e.hourly(t, "due", nil)
	e.hourly(t, "daily", func(in *Input) { in.Schedule = []string{"0 0 0 * * *"} })
	e.hourly(t, "never", func(in *Input) { in.Schedule = []string{} })
	rep := e.tick(t, ten.Add(time.Minute))
	if rep.Due != 1 || rep.Fired != 1 || len(e.queue.calls) != 1 {
		t.Fatalf("report %+v calls %v", rep, e.queue.calls)
	}
}

func TestMissedSlotsCollapse(t *testing.T) {
	e := newSchedEnv(t)
	before := e.hourly(t, "h", nil)
	// The scheduler was down from 10:00 until 15:30: one catch-up fire,
	// for the oldest slot, then the next future slot.
	rep := e.tick(t, ten.Add(5*time.Hour+30*time.Minute))
	if rep.Fired != 1 || e.queue.taskCount() != 1 {
		t.Fatalf("report %+v, %d tasks", rep, e.queue.taskCount())
	}
	var task map[string]any
	json.Unmarshal(e.queue.tasks[before.NextTaskID], &task)
	if now := task["extra"].(map[string]any)["now"]; now != "2026-03-04T10:00:00.000Z" {
		t.Fatalf("catch-up fire must be for the oldest slot: now = %v", now)
	}
	// Sent five and a half hours late, the task is created when sent (a
	// queue refuses one created more than 15 minutes ago), its deadline
	// moved as much.
	if task["created"] != "2026-03-04T15:30:00.000Z" || task["deadline"] != "2026-03-05T15:30:00.000Z" {
		t.Fatalf("created %v, deadline %v", task["created"], task["deadline"])
	}
	if next := e.get(t, "h").NextScheduledDate; !next.Equal(ten.Add(6 * time.Hour)) {
		t.Fatalf("next = %v, want 16:00", next)
	}
}

func TestQueue5xxLeavesSlotDue(t *testing.T) {
	e := newSchedEnv(t)
	before := e.hourly(t, "h", nil)
	e.queue.fail = func(string) error {
		return &taskcluster.APIError{StatusCode: 503, Code: "InternalServerError", Method: "createTask", Message: "down"}
	}
	rep := e.tick(t, ten.Add(time.Minute))
	if rep.Retry != 1 || rep.Fired != 0 {
		t.Fatalf("report %+v", rep)
	}
	after := e.get(t, "h")
	if after.NextTaskID != before.NextTaskID || !after.NextScheduledDate.Equal(before.NextScheduledDate) {
		t.Fatal("a 5xx must change nothing")
	}
	if len(e.mailer.sent) != 0 {
		t.Fatal("a 5xx must not email")
	}
	// Next tick: the queue is back, the same slot and taskId fire.
	e.queue.fail = nil
	rep = e.tick(t, ten.Add(2*time.Minute))
	if rep.Fired != 1 || e.queue.taskCount() != 1 || e.queue.tasks[before.NextTaskID] == nil {
		t.Fatalf("retry: %+v, tasks %d", rep, e.queue.taskCount())
	}
	fires, _, _ := e.store.ListLastFires(context.Background(), "g", "h", store.Page{})
	if len(fires) != 1 || fires[0].Result != "success" {
		t.Fatalf("the retry must replace the error record, not collide with it: %+v", fires)
	}
}

func TestQueue4xxEmailsAndAdvances(t *testing.T) {
	e := newSchedEnv(t)
	before := e.hourly(t, "h", nil)
	e.queue.fail = func(string) error {
		return &taskcluster.APIError{StatusCode: 499, Code: "InputError", Method: "createTask", Message: "bad task"}
	}
	rep := e.tick(t, ten.Add(time.Minute))
	if rep.Failed != 1 {
		t.Fatalf("report %+v", rep)
	}
	after := e.get(t, "h")
	if after.NextTaskID == before.NextTaskID || !after.NextScheduledDate.Equal(ten.Add(time.Hour)) {
		t.Fatal("a 4xx must advance the hook")
	}
	if len(e.mailer.sent) != 1 {
		t.Fatalf("emails: %+v", e.mailer.sent)
	}
	m := e.mailer.sent[0]
	if m.to != "o@example.com" || m.subject != "[Taskcluster Hooks] Scheduled Hook failure: g/h" {
		t.Fatalf("email %+v", m)
	}
	for _, want := range []string{"unable to create a task for hook g/h", "The error was:", "Details:", "Taskcluster Automation", "bad task"} {
		if !strings.Contains(m.body, want) {
			t.Errorf("body lacks %q:\n%s", want, m.body)
		}
	}
	// Rate limit: the next failures within 12 hours send nothing more.
	e.tick(t, ten.Add(time.Hour+time.Minute))
	e.tick(t, ten.Add(2*time.Hour+time.Minute))
	if len(e.mailer.sent) != 1 {
		t.Fatalf("%d emails within 12 hours", len(e.mailer.sent))
	}
	e.tick(t, ten.Add(13*time.Hour+time.Minute))
	if len(e.mailer.sent) != 2 {
		t.Fatalf("%d emails after 13 hours, want 2", len(e.mailer.sent))
	}
}

func TestRenderErrorEmails(t *testing.T) {
	e := newSchedEnv(t)
	e.hourly(t, "h", func(in *Input) { in.Task = json.RawMessage(`{"$eval":"1 +"}`) })
	if rep := e.tick(t, ten.Add(time.Minute)); rep.Failed != 1 || len(e.mailer.sent) != 1 {
		t.Fatalf("report %+v, emails %d", rep, len(e.mailer.sent))
	}
}

func TestEmailFailureDoesNotStopTick(t *testing.T) {
	e := newSchedEnv(t)
	e.hourly(t, "h", nil)
	e.mailer.fail = errors.New("DenylistedAddress: o@example.com is denylisted")
	e.queue.fail = func(string) error {
		return &taskcluster.APIError{StatusCode: 400, Code: "InputError", Method: "createTask"}
	}
	rep := e.tick(t, ten.Add(time.Minute))
	if rep.Failed != 1 {
		t.Fatalf("report %+v", rep)
	}
	if n := strings.Count(e.logs.String(), "failure email not sent"); n != 1 {
		t.Fatalf("want one warning, got %d:\n%s", n, e.logs.String())
	}
	if !e.get(t, "h").NextScheduledDate.Equal(ten.Add(time.Hour)) {
		t.Fatal("hook did not advance")
	}
}

func TestNoEmailWhenOptedOut(t *testing.T) {
	e := newSchedEnv(t)
	e.hourly(t, "h", func(in *Input) { in.Metadata.EmailOnError = false })
	e.queue.fail = func(string) error {
		return &taskcluster.APIError{StatusCode: 400, Code: "InputError", Method: "createTask"}
	}
	e.tick(t, ten.Add(time.Minute))
	if len(e.mailer.sent) != 0 {
		t.Fatal("emailOnError false must send nothing")
	}
}

func TestDeclinedScheduleAdvancesWithoutRecord(t *testing.T) {
	e := newSchedEnv(t)
	e.hourly(t, "h", func(in *Input) { in.Task = json.RawMessage(`{"$if":"false","then":{}}`) })
	rep := e.tick(t, ten.Add(time.Minute))
	if rep.Declined != 1 || e.queue.taskCount() != 0 {
		t.Fatalf("report %+v", rep)
	}
	fires, _, _ := e.store.ListLastFires(context.Background(), "g", "h", store.Page{})
	if len(fires) != 0 || !e.get(t, "h").NextScheduledDate.Equal(ten.Add(time.Hour)) {
		t.Fatalf("fires %+v", fires)
	}
}

// Two ticks running at once over the same due hooks create one task per
// slot.
func TestConcurrentTicksFireOncePerSlot(t *testing.T) {
	e := newSchedEnv(t)
	const n = 40
	for i := range n {
		e.hourly(t, "h"+string(rune('A'+i%26))+string(rune('a'+i/26)), nil)
	}
	at := ten.Add(time.Minute)
	e.clock.Set(at)
	var wg sync.WaitGroup
	for range 2 {
		wg.Go(func() {
			if _, err := e.svc.Scheduler.Tick(context.Background(), at, TickOptions{Concurrency: 4}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if got := e.queue.taskCount(); got != n {
		t.Fatalf("%d tasks for %d slots", got, n)
	}
	if due, _ := e.store.ListDue(context.Background(), at, 0); len(due) != 0 {
		t.Fatalf("%d hooks still due", len(due))
	}
}

func TestScheduleEditsTakeEffect(t *testing.T) {
	e := newSchedEnv(t)
	e.hourly(t, "edited", nil)
	e.hourly(t, "removed", nil)
	e.hourly(t, "unscheduled", nil)
	ctx := context.Background()
	e.clock.Set(ten.Add(-30 * time.Second))
	daily := input("hourly", "0 0 0 * * *")
	if _, err := e.svc.Definitions.UpdateHook(ctx, "g", "edited", daily); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Definitions.UpdateHook(ctx, "g", "unscheduled", input("hourly")); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Definitions.RemoveHook(ctx, "g", "removed"); err != nil {
		t.Fatal(err)
	}
	if rep := e.tick(t, ten.Add(time.Minute)); rep.Due != 0 {
		t.Fatalf("edited, removed or unscheduled hooks fired: %+v", rep)
	}
	if next := e.get(t, "edited").NextScheduledDate; !next.Equal(time.Date(2026, 3, 5, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("edited next = %v", next)
	}
}

func TestTickBudget(t *testing.T) {
	e := newSchedEnv(t)
	for _, id := range []string{"a", "b", "c"} {
		e.hourly(t, id, nil)
	}
	at := ten.Add(time.Minute)
	e.clock.Set(at)
	// Each clock reading takes 10 seconds and the budget is 15: the tick
	// starts what it can, stops, and leaves the rest due.
	e.clock.mu.Lock()
	e.clock.step = 10 * time.Second
	e.clock.mu.Unlock()
	rep, err := e.svc.Scheduler.Tick(context.Background(), at, TickOptions{Budget: 15 * time.Second, Concurrency: 1})
	if err != nil || !rep.Unfinished || rep.Fired == 0 || rep.Fired == 3 {
		t.Fatalf("%+v %v", rep, err)
	}
	if due, _ := e.store.ListDue(context.Background(), at, 0); len(due) != 3-rep.Fired {
		t.Fatalf("%d due after the budget ran out, %d fired", len(due), rep.Fired)
	}
}

// A hook catching up many slots stops at the tick's budget and goes on
// from the first slot it did not reach at the next tick.
func TestTickBudgetInsideCatchUp(t *testing.T) {
	e := newSchedEnv(t)
	in := input("all", "0 0 * * * *")
	in.Task = json.RawMessage(slotTemplate)
	if _, err := e.svc.Definitions.CreateHook(context.Background(), "g", "all", in); err != nil {
		t.Fatal(err)
	}
	e.putSchedule(t, "all", `{"catchUp":"all"}`)
	at := ten.Add(5*time.Hour + time.Minute)
	e.clock.Set(at)
	e.clock.mu.Lock()
	e.clock.step = 10 * time.Second
	e.clock.mu.Unlock()
	rep, err := e.svc.Scheduler.Tick(context.Background(), at, TickOptions{Budget: 90 * time.Second})
	if err != nil || !rep.Unfinished || rep.Fired == 0 || rep.Fired >= 6 || rep.Retry != 0 {
		t.Fatalf("%+v %v", rep, err)
	}
	first := rep.Fired
	e.clock.mu.Lock()
	e.clock.step = 0
	e.clock.mu.Unlock()
	rep = e.tick(t, at.Add(time.Minute))
	if got := e.firedSlots(t, "all"); len(got) != 6 || rep.Fired != 6-first || rep.Unfinished {
		t.Fatalf("fired %v; second tick %+v", got, rep)
	}
}
