package hooks

import (
	"context"
	"fmt"
	"time"
)

// Hook events: what happens to a hook that its owners may want to hear
// of. The parts of the service publish them through the EventSink port;
// the notification dispatcher (notifications.go) sends each to the
// targets of the hook's `notify` settings. Publishing never fails the
// work that caused the event: a sink logs its own errors.

// EventKind names a kind of hook event, as the `notify` settings list
// them.
type EventKind string

// The kinds of hook events.
const (
	// EventFireError: a fire of any kind ended in an error (the template
	// did not render, the queue refused the task or could not be reached,
	// the payload failed the triggerSchema, a filter could not be
	// evaluated). A Pulse message the triggerSchema refuses is a discard,
	// as upstream's, not an error.
	EventFireError EventKind = "fire-error"
	// EventTaskCompleted, EventTaskFailed, EventTaskException: a task a
	// fire created was resolved.
	EventTaskCompleted EventKind = "task-completed"
	EventTaskFailed    EventKind = "task-failed"
	EventTaskException EventKind = "task-exception"
	// EventSlotMissed: scheduled slots were missed and collapsed into one
	// fire; EventSlotLate: a scheduled fire came late.
	EventSlotMissed EventKind = "slot-missed"
	EventSlotLate   EventKind = "slot-late"
	// EventHookPaused, EventHookResumed: the hook itself was paused or
	// resumed.
	EventHookPaused  EventKind = "hook-paused"
	EventHookResumed EventKind = "hook-resumed"
	// EventSignatureFailures: the signed webhook route refused more
	// deliveries with bad signatures than the hook's threshold allows.
	EventSignatureFailures EventKind = "webhook-signature-failures"
)

// EventKinds lists every kind, in the order the documentation gives them.
func EventKinds() []EventKind {
	return []EventKind{EventFireError, EventTaskCompleted, EventTaskFailed, EventTaskException,
		EventSlotMissed, EventSlotLate, EventHookPaused, EventHookResumed, EventSignatureFailures}
}

// Event is one hook event. Its JSON is the body of a webhook notification
// (schemas/hookline/v1/notification.json).
type Event struct {
	Kind        EventKind `json:"kind"`
	HookGroupID string    `json:"hookGroupId"`
	HookID      string    `json:"hookId"`
	// ID names the occurrence: the same occurrence seen twice (a
	// redelivered task event, a retried fire, two overlapping workers)
	// has the same ID, and each target hears of it at most once.
	ID   string    `json:"id"`
	Time time.Time `json:"time"`
	// Summary says what happened in one line.
	Summary string `json:"summary"`

	// TaskID is the task concerned (fire errors, task outcomes, late
	// slots).
	TaskID string `json:"taskId,omitempty"`
	// FiredBy is how the fire was asked for.
	FiredBy string `json:"firedBy,omitempty"`
	// DecisionID is the decision the event belongs to, when the log keeps
	// one.
	DecisionID string `json:"decisionId,omitempty"`
	// Outcome and Error describe a fire error (the decision's outcome and
	// error text); WillRetry says whether the same fire is tried again.
	Outcome   string `json:"outcome,omitempty"`
	Error     string `json:"error,omitempty"`
	WillRetry bool   `json:"willRetry,omitempty"`
	// Task is a task outcome.
	Task *TaskOutcome `json:"task,omitempty"`
	// ScheduledFor is the slot of a scheduled fire; LateSeconds how late
	// it fired; MissedSlots how many slots were collapsed.
	ScheduledFor *time.Time `json:"scheduledFor,omitempty"`
	LateSeconds  int64      `json:"lateSeconds,omitempty"`
	MissedSlots  int        `json:"missedSlots,omitempty"`
	// Pause is the pause that was set (hook-paused) or lifted
	// (hook-resumed).
	Pause *PauseState `json:"pause,omitempty"`
	// Failures counts the refused deliveries within Window seconds
	// (webhook-signature-failures).
	Failures      int `json:"failures,omitempty"`
	WindowSeconds int `json:"windowSeconds,omitempty"`

	// owner and emailOnError carry the hook's metadata where the
	// publisher has it, so the default rule (upstream's failure email)
	// needs no read of the hook.
	owner        string
	emailOnError bool
}

// EventSink hears hook events: the notification dispatcher, or anything
// that wants them. Publish returns once the event is handled or queued;
// it logs its own failures, since the event's cause must not fail because
// of them.
type EventSink interface {
	Publish(ctx context.Context, ev Event)
}

// publish hands ev to the service's sink, if any.
func (c *core) publish(ctx context.Context, ev Event) {
	if c.events == nil {
		return
	}
	if ev.Time.IsZero() {
		ev.Time = c.now()
	}
	ev.Time = ev.Time.UTC()
	c.events.Publish(ctx, ev)
}

// publishFireEvents publishes what a finished fire tells its owners: a
// fire error of any kind, and a scheduled fire that came late.
func (p *pipeline) publishFireEvents(ctx context.Context, a *attempt, e *ending, dec Decision) {
	if p.events == nil {
		return
	}
	base := Event{
		HookGroupID: a.def.HookGroupID, HookID: a.def.HookID, TaskID: a.taskID, FiredBy: a.req.FiredBy,
		DecisionID: dec.DecisionID, Time: dec.Time, ScheduledFor: dec.ScheduledFor,
		owner: a.def.Metadata.Owner, emailOnError: a.def.Metadata.EmailOnError,
	}
	if isFireError(e) && !(e.outcome == OutcomeRejected && a.req.FiredBy == FiredByPulseMessage) {
		// (A Pulse message its triggerSchema refuses is discarded, as
		// upstream does: the binding caught more than the hook wants,
		// which is no error of the fire.)
		ev := base
		ev.Kind, ev.ID = EventFireError, "fire-error/"+a.taskID+"/"+e.outcome
		ev.Outcome, ev.Error, ev.WillRetry = e.outcome, dec.Error, e.willRetry
		ev.Summary = fmt.Sprintf("hook %s/%s did not create task %s: %s", a.def.HookGroupID, a.def.HookID, a.taskID, dec.Reason)
		p.publish(ctx, ev)
	}
	if dec.Late {
		ev := base
		ev.Kind, ev.ID, ev.LateSeconds = EventSlotLate, "slot-late/"+a.taskID, dec.LateSeconds
		ev.Summary = fmt.Sprintf("hook %s/%s fired %d seconds after its scheduled time %s", a.def.HookGroupID, a.def.HookID,
			dec.LateSeconds, dec.ScheduledFor.Format(time.RFC3339))
		p.publish(ctx, ev)
	}
}

// isFireError reports whether a fire ended in an error its owners should
// hear of: whatever kept a wanted task from being created, as opposed to
// a pause, a false filter or a declining template, which are choices.
func isFireError(e *ending) bool {
	switch e.outcome {
	case OutcomeRenderError, OutcomeQueueError, OutcomeRejected:
		return true
	case OutcomeFiltered:
		return e.errText != "" // the filter could not be evaluated
	}
	return false
}

// publishSlotsMissed publishes a collapsed decision: scheduled slots that
// will never fire. The ID is the fired slot's, so overlapping ticks that
// both record it notify once.
func (s *Scheduler) publishSlotsMissed(ctx context.Context, def Definition, dec Decision) {
	at := dec.ScheduledFor
	s.publish(ctx, Event{
		Kind: EventSlotMissed, HookGroupID: def.HookGroupID, HookID: def.HookID, FiredBy: FiredBySchedule,
		ID: "slot-missed/" + at.UTC().Format(time.RFC3339Nano), DecisionID: dec.DecisionID, Time: dec.Time,
		ScheduledFor: at, MissedSlots: dec.MissedSlots, Summary: fmt.Sprintf("hook %s/%s missed %d scheduled slot(s) after %s; they were collapsed and do not fire",
			def.HookGroupID, def.HookID, dec.MissedSlots, at.UTC().Format(time.RFC3339)),
		owner: def.Metadata.Owner, emailOnError: def.Metadata.EmailOnError,
	})
}

// publishPauseChange publishes a hook's own pause being set or lifted;
// a pause that stays (only its reason changed) is no event. Group and
// global pauses are not: they concern every hook below them at once.
func (o *Operations) publishPauseChange(ctx context.Context, hookGroupID, hookID string, was, now *PauseState) {
	if (was == nil) == (now == nil) {
		return
	}
	ev := Event{HookGroupID: hookGroupID, HookID: hookID}
	at := o.now().UTC()
	if now != nil {
		ev.Kind, ev.Pause, ev.Time = EventHookPaused, now, now.Since
		ev.ID = "hook-paused/" + now.Since.UTC().Format(time.RFC3339Nano)
		ev.Summary = fmt.Sprintf("hook %s/%s was paused by %s: %s", hookGroupID, hookID, orSomeone(now.By), now.Reason)
	} else {
		ev.Kind, ev.Pause, ev.Time = EventHookResumed, was, at
		// The pause lifted is named by its start: resuming it twice is
		// one event.
		ev.ID = "hook-resumed/" + was.Since.UTC().Format(time.RFC3339Nano)
		ev.Summary = fmt.Sprintf("hook %s/%s was resumed (paused since %s: %s)", hookGroupID, hookID, was.Since.UTC().Format(time.RFC3339), was.Reason)
	}
	o.publish(ctx, ev)
}

func orSomeone(clientID string) string {
	if clientID == "" {
		return "an unnamed client"
	}
	return clientID
}

// notifyConfigured reports whether the hook has notify settings, which
// replace upstream's failure email: its fire errors go where they say.
func (s *Scheduler) notifyConfigured(ctx context.Context, def Definition) bool {
	st, _, err := s.loadSettings(ctx, def.HookGroupID, def.HookID)
	return err == nil && st.Notify != nil
}
