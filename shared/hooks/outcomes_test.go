package hooks

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/taskcluster"
)

// statusQueue is a fakeQueue that also answers status, from a state per
// taskId, and counts the status calls.
type statusQueue struct {
	*fakeQueue
	mu     sync.Mutex
	states map[string]string // taskId -> "pending", "completed", "exception/deadline-exceeded", ...
	calls  int
}

func (q *statusQueue) Status(_ context.Context, taskID string) (json.RawMessage, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.calls++
	st, ok := q.states[taskID]
	if !ok {
		return nil, &taskcluster.APIError{StatusCode: 404, Code: "ResourceNotFound", Method: "status"}
	}
	state, reason, cut := strings.Cut(st, "/")
	if !cut {
		reason = state
	}
	run := fmt.Sprintf(`{"runId":0,"state":%q,"reasonCreated":"scheduled","scheduled":"2026-03-04T10:00:00.000Z"`, state)
	if state != "pending" && state != "running" {
		run += fmt.Sprintf(`,"reasonResolved":%q,"resolved":"2026-03-04T10:05:00.000Z"`, reason)
	}
	return json.RawMessage(fmt.Sprintf(`{"status":{"taskId":%q,"state":%q,"runs":[%s}]}}`, taskID, state, run)), nil
}

func (q *statusQueue) set(taskID, state string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.states[taskID] = state
}

func (q *statusQueue) statusCalls() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.calls
}

type outcomeEnv struct {
	*schedEnv
	sq     *statusQueue
	events *eventLog
}

func newOutcomeEnv(t *testing.T, edits ...func(*Options)) *outcomeEnv {
	t.Helper()
	e := &outcomeEnv{sq: &statusQueue{fakeQueue: &fakeQueue{}, states: map[string]string{}}, events: &eventLog{}}
	e.schedEnv = newOperateEnv(t, append([]func(*Options){func(o *Options) {
		o.Queue, o.Events = e.sq, e.events
	}}, edits...)...)
	e.queue = e.sq.fakeQueue
	return e
}

// fire triggers g/h and returns the taskId, marking it pending.
func (e *outcomeEnv) fire(t *testing.T) string {
	t.Helper()
	res, err := e.svc.Firing.TriggerHook(context.Background(), "g", "h", map[string]any{}, "c", "")
	if err != nil || res.TaskID == "" {
		t.Fatalf("fire: %+v %v", res, err)
	}
	e.sq.set(res.TaskID, "pending")
	return res.TaskID
}

func (e *outcomeEnv) record(t *testing.T, taskID string) store.LastFire {
	t.Helper()
	fires, _, err := e.store.ListLastFires(context.Background(), "g", "h", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fires {
		if f.TaskID == taskID {
			return f
		}
	}
	t.Fatalf("no fire record of %s", taskID)
	return store.LastFire{}
}

func TestCreatedFiresAwaitTheirOutcome(t *testing.T) {
	e := newOutcomeEnv(t)
	e.operableHook(t, "g", "h")
	taskID := e.fire(t)
	f := e.record(t, taskID)
	d := e.lastDecision(t, "g", "h")
	if f.DecisionID != d.DecisionID || f.CheckAt.IsZero() || !f.CheckAt.Equal(f.TaskCreateTime.Add(time.Minute)) || f.Checks != 0 {
		t.Fatalf("fire record %+v, decision %s", f, d.DecisionID)
	}
	// A fire that created nothing awaits nothing.
	e.svc.Operations.PutSettings(context.Background(), "g", "h", Settings{Filters: []string{"false"}})
	e.svc.Firing.TriggerHook(context.Background(), "g", "h", map[string]any{}, "c", "")
	keys, _, _ := e.store.ListAwaitedFires(context.Background(), store.AwaitedQuery{})
	if len(keys) != 1 || keys[0].TaskID != taskID {
		t.Fatalf("awaited %+v", keys)
	}
	// With outcomes off, nothing is awaited.
	off := newOutcomeEnv(t, func(o *Options) { o.OutcomePollInterval = -1 })
	off.operableHook(t, "g", "h")
	if f := off.record(t, off.fire(t)); !f.CheckAt.IsZero() {
		t.Fatalf("awaited with outcomes off: %+v", f)
	}
}

func TestRecordOutcome(t *testing.T) {
	ctx := context.Background()
	e := newOutcomeEnv(t)
	e.operableHook(t, "g", "h")
	taskID := e.fire(t)
	f := e.record(t, taskID)
	ref := FireRef{HookGroupID: "g", HookID: "h", TaskID: taskID, TaskCreateTime: f.TaskCreateTime}
	out := TaskOutcome{State: TaskException, ReasonResolved: "deadline-exceeded", RunID: 0, Resolved: ten.Add(time.Hour), Source: OutcomeFromEvent}
	for i := range 2 { // the same outcome twice records and notifies once
		ok, err := e.svc.Outcomes.Record(ctx, ref, out)
		if err != nil || ok != (i == 0) {
			t.Fatalf("record #%d: %v %v", i, ok, err)
		}
	}
	f = e.record(t, taskID)
	if f.TaskState != TaskException || f.TaskReason != "deadline-exceeded" || !f.TaskResolved.Equal(out.Resolved) || !f.CheckAt.IsZero() {
		t.Fatalf("fire record %+v", f)
	}
	d := e.lastDecision(t, "g", "h")
	if d.Task == nil || d.Task.State != TaskException || d.Task.ReasonResolved != "deadline-exceeded" || d.Task.Source != OutcomeFromEvent || d.Task.Recorded.IsZero() {
		t.Fatalf("decision %+v", d.Task)
	}
	evs := e.events.of(EventTaskException)
	if len(evs) != 1 || evs[0].TaskID != taskID || evs[0].ID != "task/"+taskID+"/0/exception" || evs[0].Task.ReasonResolved != "deadline-exceeded" {
		t.Fatalf("events %+v", evs)
	}
	// listLastFires reads the recorded state: no queue call.
	before := e.sq.statusCalls()
	entries, _, err := e.svc.Firing.ListLastFires(ctx, "g", "h", store.Page{})
	if err != nil || len(entries) != 1 || entries[0].TaskState != TaskException || e.sq.statusCalls() != before {
		t.Fatalf("entries %+v err %v, %d status calls", entries, err, e.sq.statusCalls()-before)
	}
	// A later run (a rerun) replaces it; an earlier one does not.
	if ok, _ := e.svc.Outcomes.Record(ctx, ref, TaskOutcome{State: TaskCompleted, ReasonResolved: "completed", RunID: 1}); !ok {
		t.Fatal("a later run was not recorded")
	}
	if ok, _ := e.svc.Outcomes.Record(ctx, ref, TaskOutcome{State: TaskFailed, RunID: 0}); ok {
		t.Fatal("an earlier run was recorded")
	}
	if f := e.record(t, taskID); f.TaskState != TaskCompleted || f.TaskRunID != 1 {
		t.Fatalf("after the rerun %+v", f)
	}
	// A fire record that is gone records nothing.
	if ok, err := e.svc.Outcomes.Record(ctx, FireRef{HookGroupID: "g", HookID: "h", TaskID: "nope", TaskCreateTime: ten}, out); ok || err != nil {
		t.Fatalf("missing fire: %v %v", ok, err)
	}
}

func TestPollOutcomes(t *testing.T) {
	ctx := context.Background()
	e := newOutcomeEnv(t)
	e.operableHook(t, "g", "h")
	e.clock.Set(ten)
	a, b, c := e.fire(t), e.fire(t), e.fire(t)
	e.sq.set(a, "completed")
	e.sq.set(c, "exception/deadline-exceeded")
	e.sq.mu.Lock()
	delete(e.sq.states, b) // the queue does not know b
	e.sq.mu.Unlock()
	// Not due yet: nothing is read.
	e.clock.Set(ten.Add(30 * time.Second))
	if rep, err := e.svc.Outcomes.Poll(ctx, PollOptions{}); err != nil || rep.Due != 0 || e.sq.statusCalls() != 0 {
		t.Fatalf("before the interval: %+v %v", rep, err)
	}
	e.clock.Set(ten.Add(2 * time.Minute))
	rep, err := e.svc.Outcomes.Poll(ctx, PollOptions{})
	if err != nil || rep.Due != 3 || rep.Resolved != 2 || rep.GaveUp != 1 {
		t.Fatalf("poll %+v %v", rep, err)
	}
	if f := e.record(t, a); f.TaskState != TaskCompleted {
		t.Fatalf("a %+v", f)
	}
	if f := e.record(t, c); f.TaskState != TaskException || f.TaskReason != "deadline-exceeded" {
		t.Fatalf("c %+v", f)
	}
	if f := e.record(t, b); f.TaskState != "" || !f.CheckAt.IsZero() {
		t.Fatalf("b %+v", f)
	}
	if d := e.decisions(t, "g", "h"); d[0].Task == nil || d[0].Task.Source != OutcomeFromPoll {
		t.Fatalf("decision %+v", d[0].Task)
	}
	if n := len(e.events.of(EventTaskCompleted)) + len(e.events.of(EventTaskException)); n != 2 {
		t.Fatalf("%d outcome events", n)
	}
}

func TestPollReschedulesAndIsBounded(t *testing.T) {
	ctx := context.Background()
	e := newOutcomeEnv(t)
	e.operableHook(t, "g", "h")
	e.clock.Set(ten)
	var ids []string
	for range 5 {
		ids = append(ids, e.fire(t))
	}
	e.clock.Set(ten.Add(2 * time.Minute))
	rep, err := e.svc.Outcomes.Poll(ctx, PollOptions{Max: 3})
	if err != nil || rep.Due != 3 || rep.Pending != 3 {
		t.Fatalf("poll %+v %v", rep, err)
	}
	// The three read are looked at again in an interval, by CheckAt; the
	// two left come first next time.
	f := e.record(t, ids[0])
	if f.Checks != 1 || !f.CheckAt.Equal(ten.Add(3*time.Minute)) {
		t.Fatalf("rescheduled %+v", f)
	}
	rep, _ = e.svc.Outcomes.Poll(ctx, PollOptions{Max: 3})
	if rep.Due != 2 {
		t.Fatalf("second poll %+v", rep)
	}
	for _, id := range ids {
		e.sq.set(id, "failed")
	}
	e.clock.Set(ten.Add(4 * time.Minute))
	if rep, _ := e.svc.Outcomes.Poll(ctx, PollOptions{}); rep.Resolved != 5 {
		t.Fatalf("third poll %+v", rep)
	}
	// A week on, a task still pending is no longer awaited.
	id := e.fire(t)
	e.clock.Set(e.clock.Now().Add(8 * 24 * time.Hour))
	if rep, _ := e.svc.Outcomes.Poll(ctx, PollOptions{}); rep.GaveUp != 1 {
		t.Fatalf("poll a week on %+v", rep)
	}
	if f := e.record(t, id); !f.CheckAt.IsZero() {
		t.Fatalf("still awaited %+v", f)
	}
}

func TestFireIndex(t *testing.T) {
	ctx := context.Background()
	e := newOutcomeEnv(t)
	e.operableHook(t, "g", "h")
	e.clock.Set(ten)
	x := e.svc.Outcomes.NewFireIndex(FireIndexOptions{FullEvery: time.Hour})
	a := e.fire(t)
	if n, err := x.Refresh(ctx); err != nil || n != 1 {
		t.Fatalf("first refresh %d %v", n, err)
	}
	ref, ok := x.Match(a)
	if !ok || ref.HookID != "h" || ref.TaskID != a {
		t.Fatalf("match %+v %v", ref, ok)
	}
	if _, ok := x.Match("someone-elses-task-id0"); ok {
		t.Fatal("a foreign task matched")
	}
	// Incremental: the fires since the newest seen.
	e.clock.Set(ten.Add(10 * time.Second))
	b := e.fire(t)
	if n, _ := x.Refresh(ctx); n != 1 {
		t.Fatalf("incremental refresh added %d", n)
	}
	if _, ok := x.Match(b); !ok {
		t.Fatal("b not matched")
	}
	x.Forget(a)
	if _, ok := x.Match(a); ok || x.Len() != 1 {
		t.Fatal("a not forgotten")
	}
}

func TestParseTaskMessages(t *testing.T) {
	msg := []byte(`{"version":1,"status":{"taskId":"aaaaaaaaaaaaaaaaaaaaaa","state":"exception","runs":[
		{"runId":0,"state":"exception","reasonCreated":"scheduled","reasonResolved":"worker-shutdown","resolved":"2026-03-04T10:01:00.000Z"},
		{"runId":1,"state":"exception","reasonCreated":"retry","reasonResolved":"deadline-exceeded","resolved":"2026-03-04T11:00:00.000Z"}]},
		"runId":1,"workerGroup":"wg","workerId":"wi"}`)
	id, out, err := ParseTaskMessage(msg)
	if err != nil || id != "aaaaaaaaaaaaaaaaaaaaaa" || out.State != TaskException || out.ReasonResolved != "deadline-exceeded" || out.RunID != 1 ||
		!out.Resolved.Equal(time.Date(2026, 3, 4, 11, 0, 0, 0, time.UTC)) {
		t.Fatalf("%s %+v %v", id, out, err)
	}
	// A deadline exceeded before any run: no runId in the message.
	id, out, err = ParseTaskMessage([]byte(`{"status":{"taskId":"b","state":"exception","runs":[{"runId":0,"state":"exception","reasonCreated":"exception","reasonResolved":"deadline-exceeded"}]}}`))
	if err != nil || out.ReasonResolved != "deadline-exceeded" || id != "b" {
		t.Fatalf("%+v %v", out, err)
	}
	if _, _, err := ParseTaskMessage([]byte(`{"status":{"taskId":"c","state":"running","runs":[]}}`)); err == nil {
		t.Fatal("a running task is no outcome")
	}
	if _, _, err := ParseTaskMessage([]byte(`nope`)); err == nil {
		t.Fatal("not JSON")
	}
	for rk, want := range map[string]string{
		"primary.aaaaaaaaaaaaaaaaaaaaaa.0.wg.wi.p.w.s.g._": "aaaaaaaaaaaaaaaaaaaaaa",
		"primary.aaaaaaaaaaaaaaaaaaaaaa":                   "aaaaaaaaaaaaaaaaaaaaaa",
		"route.index.foo":                                  "",
		"primary.short.0":                                  "",
	} {
		got, ok := TaskIDOfRoutingKey(rk)
		if (want != "") != ok || (ok && got != want) {
			t.Fatalf("%s: %q %v", rk, got, ok)
		}
	}
	m, ok, err := ParseTaskOutcomeMessage([]byte(`{"kind":"task-outcome","fire":{"hookGroupId":"g","hookId":"h","taskId":"t","taskCreateTime":"2026-03-04T10:00:00Z"},"outcome":{"state":"failed","runId":0}}`))
	if err != nil || !ok || m.Fire.HookID != "h" || m.Outcome.State != TaskFailed {
		t.Fatalf("%+v %v %v", m, ok, err)
	}
	if _, ok, _ := ParseTaskOutcomeMessage([]byte(`{"hookGroupId":"g","hookId":"h","payload":{}}`)); ok {
		t.Fatal("a pulse message read as an outcome")
	}
}

func TestHistoryCap(t *testing.T) {
	ctx := context.Background()
	e := newOutcomeEnv(t, func(o *Options) { o.HistoryMax = 5 })
	e.operableHook(t, "g", "h")
	for range 8 {
		e.fire(t)
	}
	fires, _, _ := e.store.ListLastFires(ctx, "g", "h", store.Page{})
	if len(fires) != 5 || len(e.decisions(t, "g", "h")) != 5 {
		t.Fatalf("%d fires, %d decisions under a cap of 5", len(fires), len(e.decisions(t, "g", "h")))
	}
	// The hook's own cap, below the service's.
	if _, err := e.svc.Operations.PutSettings(ctx, "g", "h", Settings{History: &HistorySettings{MaxRecords: 6}}); err == nil {
		t.Fatal("a cap above the service's was accepted")
	}
	if _, err := e.svc.Operations.PutSettings(ctx, "g", "h", Settings{History: &HistorySettings{MaxRecords: 2}}); err != nil {
		t.Fatal(err)
	}
	e.fire(t)
	fires, _, _ = e.store.ListLastFires(ctx, "g", "h", store.Page{})
	if len(fires) != 2 || len(e.decisions(t, "g", "h")) != 2 {
		t.Fatalf("%d fires, %d decisions under the hook's cap of 2", len(fires), len(e.decisions(t, "g", "h")))
	}
	if st, _ := e.svc.Operations.GetSettings(ctx, "g", "h"); st.View().History.MaxRecords != 2 {
		t.Fatalf("settings %+v", st)
	}
}
