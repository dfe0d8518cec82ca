package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline/shared/store"
)

// Outcomes: how the tasks that fires created ended.
//
// A fire that created a task writes its fire record awaiting the outcome
// (store.LastFire.CheckAt). Two sources resolve it, whichever comes
// first, and recording is idempotent:
//
//   - the queue's task-completed, task-failed and task-exception Pulse
//     messages, which the bridge matches against an index of awaited fires
//     (FireIndex) and forwards as TaskOutcomeMessages to the trigger
//     queue; `hookline serve`'s local queue reports its resolutions in
//     process;
//   - Poll, which reads the status of each awaited task one poll interval
//     after its fire and every interval after that, a bounded number per
//     run, so that a deployment without the bridge learns every outcome
//     within about an interval.
//
// Recording adds the outcome to the fire record and to its decision and
// publishes task-completed, task-failed or task-exception.

// The states a resolved task ends in, as the queue names them.
const (
	TaskCompleted = "completed"
	TaskFailed    = "failed"
	TaskException = "exception"
)

// Sources of outcomes.
const (
	OutcomeFromEvent = "event"
	OutcomeFromPoll  = "poll"
)

// maxAwait is how long a task's outcome is awaited: tasks' deadlines are
// at most five days after they are created; two more days cover a queue
// that resolves late.
const maxAwait = 7 * 24 * time.Hour

// TaskOutcome is how a task a fire created ended, as the queue reported
// it: the state and reason of its last run.
type TaskOutcome struct {
	// State is completed, failed or exception.
	State string `json:"state"`
	// ReasonResolved is the last run's reason (e.g. deadline-exceeded,
	// canceled, malformed-payload); for completed and failed runs it is
	// the state again.
	ReasonResolved string `json:"reasonResolved,omitempty"`
	// RunID is the run that resolved the task.
	RunID int `json:"runId"`
	// Resolved is when the queue resolved the run.
	Resolved time.Time `json:"resolved,omitzero"`
	// Recorded is when Hookline learned of it; Source says how: "event"
	// (the queue's Pulse message) or "poll" (a status read).
	Recorded time.Time `json:"recorded,omitzero"`
	Source   string    `json:"source,omitempty"`
}

// FireRef names the fire record of a task whose outcome is awaited.
type FireRef struct {
	HookGroupID    string    `json:"hookGroupId"`
	HookID         string    `json:"hookId"`
	TaskID         string    `json:"taskId"`
	TaskCreateTime time.Time `json:"taskCreateTime"`
}

func refOf(k store.FireKey) FireRef {
	return FireRef{HookGroupID: k.HookGroupID, HookID: k.HookID, TaskID: k.TaskID, TaskCreateTime: k.TaskCreateTime}
}

// Outcomes is the part of the service that records how tasks ended.
type Outcomes struct {
	*pipeline
}

// Record records how the task of a fire ended: on the fire record, on its
// decision, and as a task-* event. It reports whether it recorded
// anything: a fire record that is gone (trimmed, expired, its hook
// removed), or that already holds this run's outcome or a later one, is
// left alone, so the same outcome seen twice (the event and the poll, a
// redelivered message) records and notifies once.
func (o *Outcomes) Record(ctx context.Context, ref FireRef, out TaskOutcome) (bool, error) {
	switch out.State {
	case TaskCompleted, TaskFailed, TaskException:
	default:
		return false, fmt.Errorf("hooks: %q is not a resolved task state", out.State)
	}
	f, err := o.store.GetLastFire(ctx, ref.HookGroupID, ref.HookID, ref.TaskCreateTime, ref.TaskID)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("hooks: read the fire of task %s: %w", ref.TaskID, err)
	}
	if f.TaskState != "" && out.RunID <= f.TaskRunID {
		return false, nil
	}
	if out.Recorded.IsZero() {
		out.Recorded = o.now().UTC()
	}
	f.TaskState, f.TaskReason, f.TaskRunID, f.TaskResolved = out.State, out.ReasonResolved, out.RunID, out.Resolved
	f.CheckAt, f.Checks = time.Time{}, 0
	var dec *store.Decision
	var decision Decision
	if f.DecisionID != "" {
		rec, err := o.store.GetDecision(ctx, f.HookGroupID, f.HookID, f.DecisionID)
		switch {
		case errors.Is(err, store.ErrNotFound):
		case err != nil:
			return false, fmt.Errorf("hooks: read decision %s: %w", f.DecisionID, err)
		default:
			// A decision that does not decode whole is rewritten
			// without its payload (decodeDecision), which leaves it
			// readable from then on.
			decision = decodeDecision(rec)
			decision.Task = &out
			if rec.Body, err = json.Marshal(decision); err != nil {
				return false, fmt.Errorf("hooks: encode decision: %w", err)
			}
			dec = &rec
		}
	}
	if err := o.store.UpdateFire(ctx, f, dec); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		return false, fmt.Errorf("hooks: record the outcome of task %s: %w", ref.TaskID, err)
	}
	o.log.InfoContext(ctx, "task-outcome", "hookGroupId", f.HookGroupID, "hookId", f.HookID, "taskId", f.TaskID, "firedBy", f.FiredBy,
		"state", out.State, "reasonResolved", out.ReasonResolved, "runId", out.RunID, "source", out.Source)
	o.publishOutcome(ctx, f, out)
	return true, nil
}

func (o *Outcomes) publishOutcome(ctx context.Context, f store.LastFire, out TaskOutcome) {
	kind := map[string]EventKind{TaskCompleted: EventTaskCompleted, TaskFailed: EventTaskFailed, TaskException: EventTaskException}[out.State]
	summary := fmt.Sprintf("task %s of hook %s/%s %s", f.TaskID, f.HookGroupID, f.HookID, out.State)
	if out.State == TaskException && out.ReasonResolved != "" {
		summary += " (" + out.ReasonResolved + ")"
	}
	outcome := out
	o.publish(ctx, Event{
		Kind: kind, HookGroupID: f.HookGroupID, HookID: f.HookID, TaskID: f.TaskID, FiredBy: f.FiredBy,
		DecisionID: f.DecisionID, Task: &outcome, Time: out.Recorded, Summary: summary,
		ID: fmt.Sprintf("task/%s/%d/%s", f.TaskID, out.RunID, out.State),
	})
}

// ParseTaskStatus reads the queue's answer to status ({"status": ...},
// or the bare status of a task-* Pulse message) and returns the task's
// outcome, or false while the task is not resolved.
func ParseTaskStatus(raw []byte) (TaskOutcome, bool, error) {
	var reply struct {
		Status *taskStatus `json:"status"`
		taskStatus
	}
	if err := json.Unmarshal(raw, &reply); err != nil {
		return TaskOutcome{}, false, fmt.Errorf("hooks: task status: %w", err)
	}
	st := reply.taskStatus
	if reply.Status != nil {
		st = *reply.Status
	}
	return st.outcome()
}

type taskStatus struct {
	State string `json:"state"`
	Runs  []struct {
		RunID          int       `json:"runId"`
		State          string    `json:"state"`
		ReasonResolved string    `json:"reasonResolved"`
		Resolved       time.Time `json:"resolved"`
	} `json:"runs"`
}

func (st taskStatus) outcome() (TaskOutcome, bool, error) {
	switch st.State {
	case TaskCompleted, TaskFailed, TaskException:
	case "unscheduled", "pending", "running":
		return TaskOutcome{}, false, nil
	default:
		return TaskOutcome{}, false, fmt.Errorf("hooks: task status: unknown state %q", st.State)
	}
	if len(st.Runs) == 0 {
		return TaskOutcome{State: st.State, ReasonResolved: st.State}, true, nil
	}
	last := st.Runs[len(st.Runs)-1]
	return TaskOutcome{State: st.State, ReasonResolved: last.ReasonResolved, RunID: last.RunID, Resolved: last.Resolved.UTC()}, true, nil
}

// ParseTaskMessage reads a task-completed, task-failed or task-exception
// message of the queue: the task and its outcome.
func ParseTaskMessage(body []byte) (string, TaskOutcome, error) {
	var msg struct {
		Status struct {
			TaskID string `json:"taskId"`
			taskStatus
		} `json:"status"`
		RunID *int `json:"runId"`
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return "", TaskOutcome{}, fmt.Errorf("hooks: task message: %w", err)
	}
	out, resolved, err := msg.Status.outcome()
	if err != nil {
		return "", TaskOutcome{}, err
	}
	if !resolved {
		return "", TaskOutcome{}, fmt.Errorf("hooks: task message: task %s is %s, not resolved", msg.Status.TaskID, msg.Status.State)
	}
	if msg.RunID != nil {
		for _, r := range msg.Status.Runs {
			if r.RunID == *msg.RunID {
				out.RunID, out.ReasonResolved, out.Resolved = r.RunID, r.ReasonResolved, r.Resolved.UTC()
			}
		}
	}
	return msg.Status.TaskID, out, nil
}

// TaskOutcomeMessage is a task's outcome on its way from the bridge to
// the trigger function, which records it (Kind "task-outcome").
type TaskOutcomeMessage struct {
	Kind    string      `json:"kind"`
	Fire    FireRef     `json:"fire"`
	Outcome TaskOutcome `json:"outcome"`
}

// KindTaskOutcome marks a TaskOutcomeMessage on the trigger queue.
const KindTaskOutcome = "task-outcome"

// ParseTaskOutcomeMessage reads a trigger-queue message body that is a
// TaskOutcomeMessage; ok is false for any other message (a PulseMessage).
func ParseTaskOutcomeMessage(body []byte) (msg TaskOutcomeMessage, ok bool, err error) {
	var probe struct {
		Kind string `json:"kind"`
	}
	if json.Unmarshal(body, &probe) != nil || probe.Kind != KindTaskOutcome {
		return TaskOutcomeMessage{}, false, nil
	}
	if err := json.Unmarshal(body, &msg); err != nil {
		return msg, true, fmt.Errorf("hooks: task outcome message: %w", err)
	}
	if msg.Fire.HookGroupID == "" || msg.Fire.HookID == "" || msg.Fire.TaskID == "" || msg.Fire.TaskCreateTime.IsZero() || msg.Outcome.State == "" {
		return msg, true, errors.New("hooks: task outcome message: fire.hookGroupId, hookId, taskId, taskCreateTime and outcome.state are required")
	}
	return msg, true, nil
}

// PollOptions bound one run of Poll.
type PollOptions struct {
	// Max is how many task statuses it reads at most; 0 means 500.
	Max int
	// Budget bounds the time it may start new reads; 0 means 40 seconds.
	Budget time.Duration
	// Concurrency is how many reads run at once; 0 means 8.
	Concurrency int
}

// PollReport says what a run of Poll did.
type PollReport struct {
	// Due is how many awaited fires were due for a look, up to Max.
	Due, Resolved, Pending, Errors, GaveUp int
	// Unfinished is true when the budget ran out with fires left.
	Unfinished bool
}

// Poll reads the status of the awaited tasks that are due for a look
// (one poll interval after their fire, then every interval), oldest first
// and at most opts.Max, records those resolved, and schedules the others'
// next look. A task not resolved a week after its fire, or that the queue
// does not know, is no longer awaited. Without a queue that reads
// statuses, or with outcomes off, it does nothing.
func (o *Outcomes) Poll(ctx context.Context, opts PollOptions) (PollReport, error) {
	if o.statuses == nil || o.pollInterval <= 0 {
		return PollReport{}, nil
	}
	if opts.Max <= 0 {
		opts.Max = 500
	}
	if opts.Budget <= 0 {
		opts.Budget = 40 * time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	now := o.now()
	deadline := now.Add(opts.Budget)
	// Never checked, due one interval after the fire; then by their
	// next check. The oldest due of both lists first.
	fresh, _, err := o.store.ListAwaitedFires(ctx, store.AwaitedQuery{To: now.Add(-o.pollInterval), Page: store.Page{Limit: opts.Max}})
	if err != nil {
		return PollReport{}, fmt.Errorf("hooks: list awaited fires: %w", err)
	}
	checked, _, err := o.store.ListAwaitedFires(ctx, store.AwaitedQuery{Checked: true, To: now, Page: store.Page{Limit: opts.Max}})
	if err != nil {
		return PollReport{}, fmt.Errorf("hooks: list awaited fires: %w", err)
	}
	due := append(fresh, checked...)
	dueAt := func(k store.FireKey) time.Time {
		if k.Checks == 0 {
			return k.TaskCreateTime.Add(o.pollInterval)
		}
		return k.CheckAt
	}
	sort.SliceStable(due, func(i, j int) bool { return dueAt(due[i]).Before(dueAt(due[j])) })
	if len(due) > opts.Max {
		due = due[:opts.Max]
	}
	var (
		rep  = PollReport{Due: len(due)}
		mu   sync.Mutex
		wg   sync.WaitGroup
		sem  = make(chan struct{}, opts.Concurrency)
		tell = func(f func(*PollReport)) { mu.Lock(); f(&rep); mu.Unlock() }
	)
	for _, k := range due {
		if ctx.Err() != nil || !o.now().Before(deadline) {
			rep.Unfinished = true
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			o.pollOne(ctx, k, now, tell)
		})
	}
	wg.Wait()
	if rep.Due > 0 {
		o.log.InfoContext(ctx, "outcome poll", "due", rep.Due, "resolved", rep.Resolved, "pending", rep.Pending, "errors", rep.Errors, "gaveUp", rep.GaveUp, "unfinished", rep.Unfinished)
	}
	return rep, ctx.Err()
}

func (o *Outcomes) pollOne(ctx context.Context, k store.FireKey, now time.Time, tell func(func(*PollReport))) {
	raw, err := o.statuses.Status(ctx, k.TaskID)
	var refusal QueueRefusal
	switch {
	case err == nil:
		out, resolved, perr := ParseTaskStatus(raw)
		if perr != nil {
			err = perr
			break
		}
		if resolved {
			out.Source = OutcomeFromPoll
			if _, rerr := o.Record(ctx, refOf(k), out); rerr != nil {
				o.log.ErrorContext(ctx, "record task outcome", "hookGroupId", k.HookGroupID, "hookId", k.HookID, "taskId", k.TaskID, "err", rerr)
				tell(func(r *PollReport) { r.Errors++ })
				return
			}
			tell(func(r *PollReport) { r.Resolved++ })
			return
		}
	case errors.As(err, &refusal) && refusal.HTTPStatus() == 404:
		// The queue does not know the task (it expired, or the queue lost
		// it): looking again will not help.
		o.stopAwaiting(ctx, k, "the queue does not know the task")
		tell(func(r *PollReport) { r.GaveUp++ })
		return
	}
	if err != nil {
		o.log.WarnContext(ctx, "read task status", "hookGroupId", k.HookGroupID, "hookId", k.HookID, "taskId", k.TaskID, "err", err)
	}
	if now.Sub(k.TaskCreateTime) > maxAwait {
		o.stopAwaiting(ctx, k, "no outcome a week after the fire")
		tell(func(r *PollReport) { r.GaveUp++ })
		return
	}
	f, gerr := o.store.GetLastFire(ctx, k.HookGroupID, k.HookID, k.TaskCreateTime, k.TaskID)
	if gerr == nil && !f.CheckAt.IsZero() {
		f.Checks++
		f.CheckAt = now.Add(o.pollInterval)
		gerr = o.store.UpdateFire(ctx, f, nil)
	}
	if gerr != nil && !errors.Is(gerr, store.ErrNotFound) {
		o.log.ErrorContext(ctx, "schedule the next status read", "taskId", k.TaskID, "err", gerr)
	}
	tell(func(r *PollReport) {
		if err != nil {
			r.Errors++
		} else {
			r.Pending++
		}
	})
}

// stopAwaiting takes a fire record out of the awaited index, its outcome
// unknown.
func (o *Outcomes) stopAwaiting(ctx context.Context, k store.FireKey, why string) {
	f, err := o.store.GetLastFire(ctx, k.HookGroupID, k.HookID, k.TaskCreateTime, k.TaskID)
	if err == nil {
		f.CheckAt, f.Checks = time.Time{}, 0
		err = o.store.UpdateFire(ctx, f, nil)
	}
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		o.log.ErrorContext(ctx, "stop awaiting a task outcome", "taskId", k.TaskID, "err", err)
		return
	}
	o.log.InfoContext(ctx, "task outcome no longer awaited", "hookGroupId", k.HookGroupID, "hookId", k.HookID, "taskId", k.TaskID, "why", why)
}

// TaskIDOfRoutingKey returns the taskId of a queue task message's
// primary routing key, primary.<taskId>.<runId>...; it allocates nothing.
func TaskIDOfRoutingKey(rk string) (string, bool) {
	rest, ok := strings.CutPrefix(rk, "primary.")
	if !ok {
		return "", false
	}
	if i := strings.IndexByte(rest, '.'); i >= 0 {
		rest = rest[:i]
	}
	return rest, len(rest) == 22
}
