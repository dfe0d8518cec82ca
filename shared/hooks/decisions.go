package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline/shared/jsontext"
	"github.com/hookline/hookline/shared/store"
)

// The outcomes a decision records: what became of one attempt to fire a
// hook. Upstream's listLastFires shows only created tasks and errors; the
// decision log answers "why didn't my hook fire?" too.
const (
	// OutcomeCreated: the task was created (or already existed).
	OutcomeCreated = "created"
	// OutcomeDeclined: the template rendered to null; nothing to create.
	OutcomeDeclined = "declined"
	// OutcomeFiltered: one of the hook's filters was false (or could not
	// be evaluated); nothing was rendered.
	OutcomeFiltered = "filtered"
	// OutcomeRejected: the payload failed the hook's triggerSchema.
	OutcomeRejected = "rejected"
	// OutcomePaused: the hook, its group or the whole service was paused.
	OutcomePaused = "paused"
	// OutcomeRenderError: the template did not render to a task.
	OutcomeRenderError = "render-error"
	// OutcomeQueueError: the queue refused the task or could not be
	// reached; WillRetry says whether the same fire is tried again.
	OutcomeQueueError = "queue-error"
	// OutcomeCollapsed: scheduled slots that were missed (the scheduler
	// did not run, or the hook was due for longer than a tick) and are not
	// fired: only the oldest missed slot fires.
	OutcomeCollapsed = "collapsed"
	// OutcomeSkipped: scheduled slots the hook's schedule excludes
	// (Exclusion names the exclusion); nothing fires.
	OutcomeSkipped = "skipped"
)

// Bounds of what a decision keeps. DynamoDB items stop at 400 KB, and a
// decision must fit with room to spare.
const (
	// maxDecisionPayload is the largest payload kept for replay; a larger
	// one is dropped and the decision says so (PayloadOmitted).
	maxDecisionPayload = 256 << 10
	// maxDecisionError bounds the error text of a decision.
	maxDecisionError = 16 << 10
	// maxDecisionBody is the largest decision document written with its
	// payload and context: within store.MaxDecisionSize.
	maxDecisionBody = maxDecisionPayload + maxDecisionError + 16<<10
	// decisionOwnDepth is the nesting a decision adds around a kept
	// payload or context value.
	decisionOwnDepth = 4
	// maxListedSlots bounds the slot times a collapsed decision lists.
	maxListedSlots = 10
	// lateAfter is how late a scheduled fire must be to be marked late:
	// the scheduler ticks every minute, so a minute or so is normal.
	lateAfter = 2 * time.Minute
	// DefaultDecisionRetention is how long decisions are kept unless the
	// service is configured otherwise.
	DefaultDecisionRetention = 30 * 24 * time.Hour
)

// Decision is one entry of a hook's decision log.
type Decision struct {
	DecisionID  string    `json:"decisionId"`
	HookGroupID string    `json:"hookGroupId"`
	HookID      string    `json:"hookId"`
	Time        time.Time `json:"time"`
	// FiredBy is how the fire was asked for: schedule, triggerHook,
	// triggerHookWithToken or pulseMessage.
	FiredBy string `json:"firedBy"`
	Outcome string `json:"outcome"`
	// TaskID is the task created, or the taskId the fire used or would
	// have used.
	TaskID string `json:"taskId,omitempty"`
	// Reason says in words why the outcome happened.
	Reason string `json:"reason,omitempty"`
	// Error is the error text: the triggerSchema problems, the JSON-e
	// error, the queue's error.
	Error string `json:"error,omitempty"`
	// WillRetry is true for a queue error that is tried again with the
	// same taskId (a 5xx or an unreachable queue).
	WillRetry bool `json:"willRetry,omitempty"`
	// Pause is the pause that stopped the fire.
	Pause *PauseState `json:"pause,omitempty"`
	// Filter is the filter that was false.
	Filter string `json:"filter,omitempty"`
	// ClientID is the caller of triggerHook or of a replay.
	ClientID string `json:"clientId,omitempty"`
	// WebhookScheme tells how a triggerHookWithToken fire proved itself:
	// "token" (the token in upstream's token route), or the signed webhook
	// route's scheme ("bearer", "github", "hookline").
	WebhookScheme string `json:"webhookScheme,omitempty"`
	// ScheduledFor is the slot of a scheduled fire; Late is set when the
	// fire came more than two minutes after it (LateSeconds says by how
	// much).
	ScheduledFor *time.Time `json:"scheduledFor,omitempty"`
	Late         bool       `json:"late,omitempty"`
	LateSeconds  int64      `json:"lateSeconds,omitempty"`
	// FireAt is when a jittered slot was due to fire.
	FireAt *time.Time `json:"fireAt,omitempty"`
	// CatchUp is the catch-up policy under which a missed slot fired or
	// missed slots collapsed.
	CatchUp string `json:"catchUp,omitempty"`
	// Backfill marks the decisions of a backfill.
	Backfill bool `json:"backfill,omitempty"`
	// Exclusion names the exclusion that skipped a slot.
	Exclusion string `json:"exclusion,omitempty"`
	// TaskCreated is the task's created when it is not the slot: a fire
	// more than five minutes after its slot sends its task created then.
	TaskCreated *time.Time `json:"taskCreated,omitempty"`
	// MissedSlots counts the slots a collapsed or skipped decision stands
	// for; Slots lists the first few of them.
	MissedSlots int         `json:"missedSlots,omitempty"`
	Slots       []time.Time `json:"slots,omitempty"`
	// Pulse names the message of a pulseMessage fire.
	Pulse *PulseSource `json:"pulse,omitempty"`
	// Payload is the trigger payload, kept for replay, unless it could not
	// be kept safely (PayloadOmitted): larger than maxDecisionPayload, not
	// valid UTF-8 or JSON, or nested deeper than maxDecisionDepth. Then
	// PayloadProblem says which, PayloadSize is its size in bytes and
	// PayloadPrefix its start as text (when it was received at all).
	Payload        json.RawMessage `json:"payload,omitempty"`
	PayloadOmitted bool            `json:"payloadOmitted,omitempty"`
	PayloadProblem string          `json:"payloadProblem,omitempty"`
	PayloadSize    int             `json:"payloadSize,omitempty"`
	PayloadPrefix  string          `json:"payloadPrefix,omitempty"`
	// Context holds the extra JSON-e variables of the fire (a webhook's
	// `webhook`), kept for replay.
	Context map[string]any `json:"context,omitempty"`
	// ReplayOf is the decision this fire replayed.
	ReplayOf string `json:"replayOf,omitempty"`
	// Task is how the task this fire created ended, once known.
	Task *TaskOutcome `json:"task,omitempty"`

	// keep, when above 0, is the hook's history cap, for writers that
	// have its settings at hand (history.go).
	keep int
}

// PulseSource names the Pulse message a fire came from.
type PulseSource struct {
	Exchange   string `json:"exchange"`
	RoutingKey string `json:"routingKey"`
}

// DecisionPage is one page of a hook's decision log.
type DecisionPage struct {
	Decisions         []Decision `json:"decisions"`
	ContinuationToken string     `json:"continuationToken,omitempty"`
}

// ListDecisions returns a page of a hook's decisions, newest first. A
// missing hook is a not-found error.
func (o *Operations) ListDecisions(ctx context.Context, hookGroupID, hookID string, p store.Page) (DecisionPage, error) {
	if _, err := o.loadHook(ctx, hookGroupID, hookID); err != nil {
		return DecisionPage{}, err
	}
	recs, next, err := o.store.ListDecisions(ctx, hookGroupID, hookID, p)
	if err != nil {
		if errors.Is(err, store.ErrBadToken) {
			return DecisionPage{}, invalid("the continuationToken is not one this listing returned")
		}
		return DecisionPage{}, fmt.Errorf("hooks: list decisions of %s/%s: %w", hookGroupID, hookID, err)
	}
	page := DecisionPage{Decisions: make([]Decision, 0, len(recs)), ContinuationToken: next}
	for _, rec := range recs {
		page.Decisions = append(page.Decisions, decodeDecision(rec))
	}
	return page, nil
}

// GetDecision returns one decision of a hook.
func (o *Operations) GetDecision(ctx context.Context, hookGroupID, hookID, decisionID string) (Decision, error) {
	if _, err := o.loadHook(ctx, hookGroupID, hookID); err != nil {
		return Decision{}, err
	}
	rec, err := o.store.GetDecision(ctx, hookGroupID, hookID, decisionID)
	if errors.Is(err, store.ErrNotFound) {
		return Decision{}, notFound(fmt.Sprintf("hook %s/%s has no decision %q (decisions are kept for a limited time; list them at .../decisions)", hookGroupID, hookID, decisionID), err)
	}
	if err != nil {
		return Decision{}, fmt.Errorf("hooks: read decision %s of %s/%s: %w", decisionID, hookGroupID, hookID, err)
	}
	return decodeDecision(rec), nil
}

// decodeDecision reads a stored decision. It never fails: a record that
// does not decode (one stored before payloads were checked, whose payload
// nests deeper than encoding/json reads) is read without its payload and
// context, marked omitted; one that does not decode even then is shown as
// what the store knows of it. A decision log must stay readable whatever
// one fire stored in it.
func decodeDecision(rec store.Decision) Decision {
	var d Decision
	err := json.Unmarshal(rec.Body, &d)
	if err == nil {
		// A payload stored before keepPayload checked it is shown only
		// if it passes the same checks now.
		if d.Payload != nil {
			if problem := payloadProblem(d.Payload); problem != "" {
				d.PayloadOmitted, d.PayloadProblem = true, problem
				d.PayloadSize, d.PayloadPrefix = len(d.Payload), payloadPrefix(d.Payload)
				d.Payload = nil
			}
		}
		return d
	}
	d = Decision{}
	if rest, serr := jsontext.WithoutMembers(rec.Body, "payload", "context"); serr != nil || json.Unmarshal(rest, &d) != nil {
		d = Decision{DecisionID: rec.ID, HookGroupID: rec.HookGroupID, HookID: rec.HookID, Reason: "the stored decision could not be read"}
	}
	d.Payload, d.Context, d.PayloadOmitted = nil, nil, true
	d.PayloadProblem = "the stored decision could not be read back whole (" + err.Error() + "); its payload and context are left out"
	d.PayloadSize = len(rec.Body)
	return d
}

// Replay fires a hook again with a past decision's payload and context,
// under a new taskId (derived from idempotencyKey when one is given, so a
// retried replay creates one task). The decision it records names the
// original (ReplayOf) and the caller. The hook fires as it is now: a pause,
// its triggerSchema and its filters apply again; a payload taskId is not
// reused, since the original fire may have created that task.
func (o *Operations) Replay(ctx context.Context, hookGroupID, hookID, decisionID, clientID, idempotencyKey string) (FireResult, error) {
	def, err := o.loadDefinition(ctx, hookGroupID, hookID)
	if err != nil {
		return FireResult{}, err
	}
	orig, err := o.GetDecision(ctx, hookGroupID, hookID, decisionID)
	if err != nil {
		return FireResult{}, err
	}
	req := FireRequest{
		FiredBy:  orig.FiredBy,
		ClientID: clientID,
		Extra:    orig.Context,
		Pulse:    orig.Pulse,
		ReplayOf: orig.DecisionID,
	}
	if idempotencyKey != "" {
		req.IdempotencyKey = "replay:" + orig.DecisionID + ":" + idempotencyKey
	}
	if orig.FiredBy != FiredBySchedule {
		if orig.PayloadOmitted || orig.Payload == nil {
			why := orig.PayloadProblem
			if why == "" {
				why = fmt.Sprintf("larger than %d KiB, or not JSON", maxDecisionPayload>>10)
			}
			return FireResult{}, invalid("decision %s cannot be replayed: its payload was not kept (%s)", decisionID, why)
		}
		payload, err := decodePayload(orig.Payload)
		if err != nil {
			return FireResult{}, fmt.Errorf("hooks: decode the payload of decision %s: %w", decisionID, err)
		}
		req.Payload, req.RawPayload, req.check = payload, orig.Payload, checkSchema
	}
	return o.fire(ctx, def, req)
}
