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

// windowQueue checks createTask as Taskcluster's queue does, in its order:
// first that created is at most 15 minutes in the past (400 InputError),
// then the taskId (an identical definition is a no-op, another one 409).
// It reads statuses, and can be down (503 for both).
type windowQueue struct {
	mu    sync.Mutex
	now   func() time.Time
	down  bool
	tasks map[string]json.RawMessage
	// sent is every definition createTask was asked for.
	sent []json.RawMessage
}

func (q *windowQueue) CreateTask(_ context.Context, taskID string, task json.RawMessage, _ []string) (json.RawMessage, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.down {
		return nil, &taskcluster.APIError{StatusCode: 503, Method: "createTask", Message: "down"}
	}
	q.sent = append(q.sent, task)
	if q.now().Sub(taskCreated(task)) > 15*time.Minute {
		return nil, &taskcluster.APIError{StatusCode: 400, Code: "InputError", Method: "createTask", Message: "`created` cannot be in the past (max 15min drift)"}
	}
	if old, ok := q.tasks[taskID]; ok {
		if !bytes.Equal(old, task) {
			return nil, &taskcluster.APIError{StatusCode: 409, Code: "RequestConflict", Method: "createTask", Message: "taskId already used"}
		}
		return json.RawMessage(`{}`), nil
	}
	if q.tasks == nil {
		q.tasks = map[string]json.RawMessage{}
	}
	q.tasks[taskID] = task
	return json.RawMessage(`{}`), nil
}

func (q *windowQueue) Status(_ context.Context, taskID string) (json.RawMessage, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.down {
		return nil, &taskcluster.APIError{StatusCode: 503, Method: "status", Message: "down"}
	}
	if _, ok := q.tasks[taskID]; !ok {
		return nil, &taskcluster.APIError{StatusCode: 404, Code: "ResourceNotFound", Method: "status"}
	}
	return json.RawMessage(`{"status":{"state":"pending"}}`), nil
}

func (q *windowQueue) setDown(down bool) { q.mu.Lock(); defer q.mu.Unlock(); q.down = down }

func (q *windowQueue) sends() int { q.mu.Lock(); defer q.mu.Unlock(); return len(q.sent) }

// newWindowEnv is an operable hook g/h on a service whose queue is a
// windowQueue reading the env's clock, which stands at ten.
func newWindowEnv(t *testing.T, st func(store.Store) store.Store) (*schedEnv, *windowQueue) {
	t.Helper()
	q := &windowQueue{}
	e := newSchedEnv(t, func(o *Options) { o.Queue = q })
	if st != nil {
		e.svc = newServiceOn(t, st(e.store), Options{Now: e.clock.Now, Queue: q, Logger: slog.New(slog.NewJSONHandler(e.logs, nil))})
	}
	q.now = func() time.Time { e.clock.mu.Lock(); defer e.clock.mu.Unlock(); return e.clock.t }
	e.clock.Set(ten)
	e.operableHook(t, "g", "h")
	return e, q
}

func (e *schedEnv) fireClaim(t *testing.T, taskID string) fireClaim {
	t.Helper()
	c, err := e.store.GetClaim(context.Background(), "fire/g/h/"+taskID, e.clock.t)
	if err != nil {
		t.Fatal(err)
	}
	var fc fireClaim
	if err := json.Unmarshal(c.Body, &fc); err != nil {
		t.Fatal(err)
	}
	return fc
}

// taskTimes reads a definition's created, deadline and expires.
func taskTimes(t *testing.T, task json.RawMessage) (times [3]string) {
	t.Helper()
	var obj map[string]any
	if err := json.Unmarshal(task, &obj); err != nil {
		t.Fatal(err)
	}
	for i, k := range []string{"created", "deadline", "expires"} {
		times[i], _ = obj[k].(string)
	}
	return times
}

// A Pulse fire that failed while the queue was down for hours (SQS
// retries, the dead-letter queue, a redrive) is retried with a claim
// whose created the queue refuses: the retry refreshes the claim (created
// now, deadline and expires moved as much, nothing else changed) and the
// task is created. A retry inside the window re-sends the claim as it
// is, and a later retry finds the task.
func TestFireRetryRefreshesAStaleClaim(t *testing.T) {
	e, q := newWindowEnv(t, nil)
	ctx := context.Background()
	msg := PulseMessage{HookGroupID: "g", HookID: "h", Exchange: "e", RoutingKey: "rk", Payload: json.RawMessage(`{"n":12345678901234567890,"s":"<&>"}`)}
	taskID := msg.TaskID()
	q.setDown(true)
	if _, err := e.svc.Intake.FirePulseMessage(ctx, msg); err == nil {
		t.Fatal("a fire while the queue is down must fail for a retry")
	}
	first := e.fireClaim(t, taskID)
	firstTimes := taskTimes(t, first.Task)
	if firstTimes != [3]string{"2026-03-04T10:00:00.000Z", "2026-03-05T10:00:00.000Z", "2026-04-03T10:00:00.000Z"} {
		t.Fatalf("claimed task times %v", firstTimes)
	}

	// Nine minutes on, the claim is re-sent as it is.
	e.clock.Set(ten.Add(9 * time.Minute))
	if _, err := e.svc.Intake.FirePulseMessage(ctx, msg); err == nil {
		t.Fatal("the queue is still down")
	}
	if again := e.fireClaim(t, taskID); !bytes.Equal(again.Task, first.Task) {
		t.Fatalf("a claim inside the queue's window was changed:\n%s\n%s", first.Task, again.Task)
	}

	// Three hours on, the queue is back.
	q.setDown(false)
	e.clock.Set(ten.Add(3 * time.Hour))
	res, err := e.svc.Intake.FirePulseMessage(ctx, msg)
	if err != nil || res.Outcome != PulseFired || res.TaskID != taskID {
		t.Fatalf("retry after the outage: %+v %v", res, err)
	}
	sent := q.tasks[taskID]
	times := taskTimes(t, sent)
	if times != [3]string{"2026-03-04T13:00:00.000Z", "2026-03-05T13:00:00.000Z", "2026-04-03T13:00:00.000Z"} {
		t.Errorf("sent task times %v: want created now, deadline and expires moved as much", times)
	}
	// Byte for byte the claimed task, but for the three times.
	want := string(first.Task)
	for i, old := range firstTimes {
		want = strings.Replace(want, `"`+old+`"`, `"`+times[i]+`"`, 1)
	}
	if string(sent) != want {
		t.Errorf("the refresh changed more than the times:\n%s\n%s", first.Task, sent)
	}
	refreshed := e.fireClaim(t, taskID)
	if !bytes.Equal(refreshed.Task, sent) || !refreshed.Created.Equal(first.Created) || refreshed.FiredBy != first.FiredBy {
		t.Errorf("claim after the refresh %+v, want the sent task and the first claim time %s", refreshed, first.Created)
	}
	fires, _, _ := e.store.ListLastFires(ctx, "g", "h", store.Page{})
	if len(fires) != 1 || fires[0].Result != "success" {
		t.Errorf("the retry must replace the fire record: %+v", fires)
	}
	dec := e.lastDecision(t, "g", "h")
	if dec.Outcome != OutcomeCreated || !strings.Contains(dec.Reason, "created 2026-03-04T10:00:00.000Z") {
		t.Errorf("decision %+v", dec)
	}
	if !strings.Contains(e.logs.String(), `"createdWas":"2026-03-04T10:00:00.000Z"`) {
		t.Errorf("the hook-fire log does not tell the refresh:\n%s", e.logs)
	}

	// Another delivery an hour later finds the fire done and recorded:
	// nothing is sent, and the decision log keeps its one decision.
	sends := q.sends()
	e.clock.Set(ten.Add(4 * time.Hour))
	if res, err := e.svc.Intake.FirePulseMessage(ctx, msg); err != nil || res.Outcome != PulseFired || !res.Duplicate {
		t.Fatalf("a later delivery: %+v %v", res, err)
	}
	if q.sends() != sends || len(q.tasks) != 1 {
		t.Errorf("a later delivery sent again: %d sends, %d tasks", q.sends()-sends, len(q.tasks))
	}
	if last := e.lastDecision(t, "g", "h"); last.DecisionID != dec.DecisionID {
		t.Errorf("a later delivery recorded %+v", last)
	}
	if c := e.svc.Intake.PulseCounts(); c.Duplicates != 1 {
		t.Errorf("counts %+v: want one duplicate", c)
	}
}

// A scheduled slot retried after a long outage gets its task too, and its
// decision says when the task was created.
func TestScheduledRetryRefreshesAStaleClaim(t *testing.T) {
	e, q := newWindowEnv(t, nil)
	h := e.get(t, "h")
	slot, slotTask := h.NextScheduledDate, h.NextTaskID
	q.setDown(true)
	if rep := e.tick(t, slot.Add(30*time.Second)); rep.Due != 1 || rep.Fired != 0 {
		t.Fatalf("tick while the queue was down: %+v", rep)
	}
	q.setDown(false)
	later := slot.Add(90 * time.Minute)
	e.tick(t, later)
	sent, ok := q.tasks[slotTask]
	if !ok {
		t.Fatalf("the slot's task was not created; sent %d definitions", q.sends())
	}
	if got := taskCreated(sent); !got.Equal(later) {
		t.Errorf("created %s, want %s", got, later)
	}
	var dec Decision
	for _, d := range e.decisions(t, "g", "h") {
		if d.TaskID == slotTask && d.Outcome == OutcomeCreated {
			dec = d
		}
	}
	if dec.ScheduledFor == nil || !dec.ScheduledFor.Equal(slot) || dec.TaskCreated == nil || !dec.TaskCreated.Equal(later) {
		t.Errorf("decision %+v: want the slot %s, its task created at %s", dec, slot, later)
	}
}

// racingStore runs race, once, just before the first ReplaceClaim: what
// another attempt of the same fire does between this one's reading the
// claim and its refresh. (One goroutine: race may call ReplaceClaim.)
type racingStore struct {
	store.Store
	race func()
}

func (s *racingStore) ReplaceClaim(ctx context.Context, c store.Claim, oldBody []byte, now time.Time) error {
	if race := s.race; race != nil {
		s.race = nil
		race()
	}
	return s.Store.ReplaceClaim(ctx, c, oldBody, now)
}

// Two retries of one fire refresh the same stale claim: the one that
// refreshes second follows the first one's claim, so both send one
// definition and one task is created.
func TestFireRefreshRace(t *testing.T) {
	var race func()
	e, q := newWindowEnv(t, func(st store.Store) store.Store {
		return &racingStore{Store: st, race: func() { race() }}
	})
	ctx := context.Background()
	msg := PulseMessage{HookGroupID: "g", HookID: "h", Exchange: "e", RoutingKey: "rk", Payload: json.RawMessage(`{}`)}
	q.setDown(true)
	if _, err := e.svc.Intake.FirePulseMessage(ctx, msg); err == nil {
		t.Fatal("a fire while the queue is down must fail for a retry")
	}
	q.setDown(false)
	e.clock.Set(ten.Add(2 * time.Hour))
	// Every reading of the clock is a second on, so two refreshes would
	// differ.
	e.clock.step = time.Second
	var other PulseResult
	var otherErr error
	race = func() { other, otherErr = e.svc.Intake.FirePulseMessage(ctx, msg) }
	res, err := e.svc.Intake.FirePulseMessage(ctx, msg)
	if otherErr != nil || other.TaskID != msg.TaskID() {
		t.Fatalf("the racing retry: %+v %v", other, otherErr)
	}
	if err != nil || res.Outcome != PulseFired || res.TaskID != msg.TaskID() {
		t.Fatalf("the retry that lost the refresh: %+v %v", res, err)
	}
	if len(q.tasks) != 1 || len(q.sent) != 2 || !bytes.Equal(q.sent[0], q.sent[1]) {
		t.Fatalf("%d tasks from %d sends, want one task sent twice alike: %s", len(q.tasks), len(q.sent), q.sent)
	}
	if claim := e.fireClaim(t, msg.TaskID()); !bytes.Equal(claim.Task, q.sent[0]) {
		t.Errorf("the claim holds another task than the one sent:\n%s\n%s", claim.Task, q.sent[0])
	}
}

// The claimed task as it was reaches the queue while a retry refreshes the
// claim (an earlier attempt's request was still on its way): the queue
// refuses the refreshed one as a different definition, and the retry
// reports the task the earlier attempt created.
func TestFireRefreshRacesTheOldDefinition(t *testing.T) {
	var race func()
	e, q := newWindowEnv(t, func(st store.Store) store.Store {
		return &racingStore{Store: st, race: func() { race() }}
	})
	ctx := context.Background()
	msg := PulseMessage{HookGroupID: "g", HookID: "h", Exchange: "e", RoutingKey: "rk", Payload: json.RawMessage(`{}`)}
	q.setDown(true)
	if _, err := e.svc.Intake.FirePulseMessage(ctx, msg); err == nil {
		t.Fatal("a fire while the queue is down must fail for a retry")
	}
	old := e.fireClaim(t, msg.TaskID()).Task
	q.setDown(false)
	// Eleven minutes on: stale enough to refresh, still inside the
	// queue's window.
	e.clock.Set(ten.Add(11 * time.Minute))
	race = func() {
		if _, err := q.CreateTask(ctx, msg.TaskID(), old, nil); err != nil {
			t.Errorf("the earlier attempt's createTask: %v", err)
		}
	}
	res, err := e.svc.Intake.FirePulseMessage(ctx, msg)
	if err != nil || res.Outcome != PulseFired || res.TaskID != msg.TaskID() {
		t.Fatalf("retry: %+v %v", res, err)
	}
	if len(q.tasks) != 1 || !bytes.Equal(q.tasks[msg.TaskID()], old) {
		t.Errorf("tasks %v, want the earlier attempt's", q.tasks)
	}
	if dec := e.lastDecision(t, "g", "h"); dec.Outcome != OutcomeCreated || !strings.Contains(dec.Reason, "already existed") {
		t.Errorf("decision %+v", dec)
	}
}

// A store that cannot refresh the claim ends the fire with its error, for
// a retry, and sends nothing.
func TestFireRefreshStoreFailure(t *testing.T) {
	broken := errors.New("store down")
	e, q := newWindowEnv(t, func(st store.Store) store.Store { return &failingReplace{Store: st, err: broken} })
	ctx := context.Background()
	msg := PulseMessage{HookGroupID: "g", HookID: "h", Exchange: "e", RoutingKey: "rk", Payload: json.RawMessage(`{}`)}
	q.setDown(true)
	e.svc.Intake.FirePulseMessage(ctx, msg)
	q.setDown(false)
	e.clock.Set(ten.Add(time.Hour))
	if _, err := e.svc.Intake.FirePulseMessage(ctx, msg); !errors.Is(err, broken) {
		t.Fatalf("err = %v, want the store's", err)
	}
	if q.sends() != 0 {
		t.Errorf("%d sends", q.sends())
	}
}

type failingReplace struct {
	store.Store
	err error
}

func (s *failingReplace) ReplaceClaim(context.Context, store.Claim, []byte, time.Time) error {
	return s.err
}
