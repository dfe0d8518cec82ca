package hooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

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
)

// Bounds of what a decision keeps. DynamoDB items stop at 400 KB, and a
// decision must fit with room to spare.
const (
	// maxDecisionPayload is the largest payload kept for replay; a larger
	// one is dropped and the decision says so (PayloadOmitted).
	maxDecisionPayload = 256 << 10
	// maxDecisionError bounds the error text of a decision.
	maxDecisionError = 16 << 10
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
	// ScheduledFor is the slot of a scheduled fire; Late is set when the
	// fire came more than two minutes after it (LateSeconds says by how
	// much).
	ScheduledFor *time.Time `json:"scheduledFor,omitempty"`
	Late         bool       `json:"late,omitempty"`
	LateSeconds  int64      `json:"lateSeconds,omitempty"`
	// MissedSlots counts the slots a collapsed decision skipped;
	// Slots lists the first few of them.
	MissedSlots int         `json:"missedSlots,omitempty"`
	Slots       []time.Time `json:"slots,omitempty"`
	// Pulse names the message of a pulseMessage fire.
	Pulse *PulseSource `json:"pulse,omitempty"`
	// Payload is the trigger payload, kept for replay, unless it was too
	// large (PayloadOmitted).
	Payload        json.RawMessage `json:"payload,omitempty"`
	PayloadOmitted bool            `json:"payloadOmitted,omitempty"`
	// Context holds the extra JSON-e variables of the fire (a webhook's
	// `webhook`), kept for replay.
	Context map[string]any `json:"context,omitempty"`
	// ReplayOf is the decision this fire replayed.
	ReplayOf string `json:"replayOf,omitempty"`
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
func (s *Service) ListDecisions(ctx context.Context, hookGroupID, hookID string, p store.Page) (DecisionPage, error) {
	if _, err := s.store.GetHook(ctx, hookGroupID, hookID); err != nil {
		return DecisionPage{}, s.hookErr(hookGroupID, hookID, err)
	}
	recs, next, err := s.store.ListDecisions(ctx, hookGroupID, hookID, p)
	if err != nil {
		if errors.Is(err, store.ErrBadToken) {
			return DecisionPage{}, invalid("the continuationToken is not one this listing returned")
		}
		return DecisionPage{}, fmt.Errorf("hooks: list decisions of %s/%s: %w", hookGroupID, hookID, err)
	}
	page := DecisionPage{Decisions: make([]Decision, 0, len(recs)), ContinuationToken: next}
	for _, rec := range recs {
		d, err := decodeDecision(rec)
		if err != nil {
			return DecisionPage{}, err
		}
		page.Decisions = append(page.Decisions, d)
	}
	return page, nil
}

// GetDecision returns one decision of a hook.
func (s *Service) GetDecision(ctx context.Context, hookGroupID, hookID, decisionID string) (Decision, error) {
	if _, err := s.store.GetHook(ctx, hookGroupID, hookID); err != nil {
		return Decision{}, s.hookErr(hookGroupID, hookID, err)
	}
	rec, err := s.store.GetDecision(ctx, hookGroupID, hookID, decisionID)
	if errors.Is(err, store.ErrNotFound) {
		return Decision{}, notFound(fmt.Sprintf("hook %s/%s has no decision %q (decisions are kept for a limited time; list them at .../decisions)", hookGroupID, hookID, decisionID), err)
	}
	if err != nil {
		return Decision{}, fmt.Errorf("hooks: read decision %s of %s/%s: %w", decisionID, hookGroupID, hookID, err)
	}
	return decodeDecision(rec)
}

func decodeDecision(rec store.Decision) (Decision, error) {
	var d Decision
	if err := json.Unmarshal(rec.Body, &d); err != nil {
		return Decision{}, fmt.Errorf("hooks: decode decision %s of %s/%s: %w", rec.ID, rec.HookGroupID, rec.HookID, err)
	}
	return d, nil
}

// newDecisionID makes a decision id that sorts by time: the UTC time to
// the nanosecond, then random hex so that two decisions of one nanosecond
// differ.
func newDecisionID(at time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return at.UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(b[:])
}

// decisionsEnabled reports whether decisions are recorded at all.
func (s *Service) decisionsEnabled() bool { return s.decisionRetention > 0 }

// record writes a decision and, when fire is not nil, the fire record that
// listLastFires shows, in one store write. A failure to record is logged,
// not returned: the task was (or was not) created either way, and the
// caller's answer must say which. It returns the decision as recorded.
func (s *Service) record(ctx context.Context, d Decision, fire *store.LastFire) Decision {
	d, err := s.writeDecision(ctx, d, fire)
	if err != nil {
		s.log.ErrorContext(ctx, "record decision", "hookGroupId", d.HookGroupID, "hookId", d.HookID, "outcome", d.Outcome, "taskId", d.TaskID, "err", err)
	}
	return d
}

// writeDecision is record's write, returning its error. With the decision
// log off it writes only the fire record.
func (s *Service) writeDecision(ctx context.Context, d Decision, fire *store.LastFire) (Decision, error) {
	if d.Time.IsZero() {
		d.Time = s.now()
	}
	d.Time = d.Time.UTC()
	if len(d.Error) > maxDecisionError {
		d.Error = d.Error[:maxDecisionError]
	}
	if !s.decisionsEnabled() {
		if fire == nil {
			return d, nil
		}
		return d, s.store.PutLastFire(ctx, *fire)
	}
	d.DecisionID = newDecisionID(d.Time)
	body, err := json.Marshal(d)
	if err == nil && len(body) > maxDecisionPayload+maxDecisionError+16<<10 {
		// Only the kept context can still be this large.
		d.Context, d.PayloadOmitted = nil, d.PayloadOmitted || d.Payload != nil
		d.Payload = nil
		body, err = json.Marshal(d)
	}
	if err != nil {
		return d, fmt.Errorf("hooks: encode decision: %w", err)
	}
	rec := store.Decision{HookGroupID: d.HookGroupID, HookID: d.HookID, ID: d.DecisionID, Body: body, ExpiresAt: d.Time.Add(s.decisionRetention)}
	return d, s.store.PutDecision(ctx, rec, fire)
}

// newDecision starts the decision of a fire request.
func newDecision(def Definition, req FireRequest, taskID string) Decision {
	d := Decision{
		HookGroupID: def.HookGroupID,
		HookID:      def.HookID,
		FiredBy:     req.FiredBy,
		TaskID:      taskID,
		Pulse:       req.Pulse,
		ReplayOf:    req.ReplayOf,
	}
	if req.FiredBy == FiredByTriggerHook || req.ReplayOf != "" {
		d.ClientID = req.ClientID
	}
	if req.FiredBy != FiredBySchedule {
		d.Payload, d.PayloadOmitted = keptPayload(req)
		if len(req.Extra) > 0 {
			d.Context = req.Extra
		}
	}
	return d
}

// keptPayload is the payload as a decision keeps it: the raw bytes when
// the caller has them, else re-encoded; nil and true when too large.
func keptPayload(req FireRequest) (json.RawMessage, bool) {
	raw := req.RawPayload
	if raw == nil {
		var err error
		if raw, err = json.Marshal(req.Payload); err != nil {
			return nil, true
		}
	}
	if len(raw) > maxDecisionPayload {
		return nil, true
	}
	return raw, false
}

// lastFire is the fire record of a decision that reached the queue (or
// failed to render), as listLastFires shows it.
func lastFire(def Definition, firedBy, taskID string, at time.Time, fireErr error) *store.LastFire {
	f := &store.LastFire{
		HookGroupID:    def.HookGroupID,
		HookID:         def.HookID,
		FiredBy:        firedBy,
		TaskID:         taskID,
		TaskCreateTime: at,
		Result:         "success",
		ExpiresAt:      at.Add(lastFireRetention),
	}
	if fireErr != nil {
		f.Result = "error"
		f.Error = errorText(fireErr)
	}
	return f
}

// Replay fires a hook again with a past decision's payload and context,
// under a new taskId (derived from idempotencyKey when one is given, so a
// retried replay creates one task). The decision it records names the
// original (ReplayOf) and the caller. The hook fires as it is now: a pause,
// its triggerSchema and its filters apply again; a payload taskId is not
// reused, since the original fire may have created that task.
func (s *Service) Replay(ctx context.Context, hookGroupID, hookID, decisionID, clientID, idempotencyKey string) (FireResult, error) {
	def, err := s.GetHook(ctx, hookGroupID, hookID)
	if err != nil {
		return FireResult{}, err
	}
	orig, err := s.GetDecision(ctx, hookGroupID, hookID, decisionID)
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
			return FireResult{}, invalid("decision %s cannot be replayed: its payload was not kept (larger than %d KiB, or not JSON)", decisionID, maxDecisionPayload>>10)
		}
		payload, err := decodePayload(orig.Payload)
		if err != nil {
			return FireResult{}, fmt.Errorf("hooks: decode the payload of decision %s: %w", decisionID, err)
		}
		req.Payload, req.RawPayload, req.check = payload, orig.Payload, checkSchema
	}
	return s.fire(ctx, def, req)
}
