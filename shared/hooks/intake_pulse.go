package hooks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	"github.com/hookline/hookline/shared/store"
)

// PulseMessage is one Pulse message bound for one hook, as the bridge
// forwards it (the body of a trigger-queue message). Payload is the AMQP
// message body, JSON.
type PulseMessage struct {
	HookGroupID string          `json:"hookGroupId"`
	HookID      string          `json:"hookId"`
	Exchange    string          `json:"exchange"`
	RoutingKey  string          `json:"routingKey"`
	Payload     json.RawMessage `json:"payload"`
}

// TaskID is the taskId every fire of the message uses. It is derived from
// the hook, the exchange, the routing key and a digest of the payload bytes,
// so a redelivered message re-sends the same task and the fire protocol
// (claims, an idempotent createTask) makes it one task. Two distinct
// messages with the same exchange, routing key and body are one task too
// (within the claim retention); Pulse messages carry ids and times, so they
// rarely are.
func (m PulseMessage) TaskID() string {
	sum := sha256.Sum256(m.Payload)
	return derivedTaskID("pulse", m.HookGroupID, m.HookID, m.Exchange, m.RoutingKey, hex.EncodeToString(sum[:]))
}

// ParsePulseMessage reads a trigger-queue message body: PulseMessage JSON,
// as the Pulse bridge writes it (pulse.envelope). hookGroupId, hookId and
// payload are required.
func ParsePulseMessage(body []byte) (PulseMessage, error) {
	var msg PulseMessage
	if err := json.Unmarshal(body, &msg); err != nil {
		return msg, fmt.Errorf("hooks: pulse message: %w", err)
	}
	if msg.HookGroupID == "" || msg.HookID == "" || len(msg.Payload) == 0 {
		return msg, errors.New("hooks: pulse message: hookGroupId, hookId and payload are required")
	}
	return msg, nil
}

// Intake is the part of the service that fires hooks for deliveries from
// outside: Pulse messages the bridge forwards (this file) and webhook
// deliveries (intake_webhook.go). It counts Pulse outcomes in this
// process, which samples the discard log as upstream's listener does.
type Intake struct {
	*pipeline
	pulse pulseCounters
	// signatures counts refused webhook deliveries (signatures.go).
	signatures *signatureCounter
	// lastSecrets holds, by "<hookGroupId>/<hookId>", the webhook secret
	// that verified the hook's last delivery, tried first next time.
	lastSecrets sync.Map
}

// RecordPulseFailure records, as a failed pulseMessage fire of the hook, a
// message that could not be forwarded (too large for the trigger queue, not
// JSON), so the hook's owner sees it in listLastFires instead of the message
// vanishing. No task is created. A hook that no longer exists gets no
// record. An error means the record was not written and the caller should
// keep the message to try again.
func (in *Intake) RecordPulseFailure(ctx context.Context, msg PulseMessage, reason string) error {
	if _, err := in.store.GetHook(ctx, msg.HookGroupID, msg.HookID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		return fmt.Errorf("hooks: record pulse failure of %s/%s: %w", msg.HookGroupID, msg.HookID, err)
	}
	at := in.now()
	taskID := msg.TaskID()
	text := fmt.Sprintf("pulse message from exchange %q with routing key %q was not delivered to the hook and no task was created: %s", msg.Exchange, msg.RoutingKey, reason)
	fire := &store.LastFire{
		HookGroupID:    msg.HookGroupID,
		HookID:         msg.HookID,
		FiredBy:        FiredByPulseMessage,
		TaskID:         taskID,
		TaskCreateTime: at,
		Result:         "error",
		Error:          text,
		ExpiresAt:      at.Add(lastFireRetention),
	}
	// The body is not kept: it is what could not be delivered.
	_, err := in.writeDecision(ctx, Decision{
		HookGroupID: msg.HookGroupID, HookID: msg.HookID, FiredBy: FiredByPulseMessage, TaskID: taskID, Time: at,
		Pulse: &PulseSource{Exchange: msg.Exchange, RoutingKey: msg.RoutingKey}, Outcome: OutcomeRejected,
		Reason: "the bridge could not deliver the message to the hook", Error: reason, PayloadOmitted: true,
	}, fire)
	if err != nil {
		return fmt.Errorf("hooks: record pulse failure of %s/%s: %w", msg.HookGroupID, msg.HookID, err)
	}
	in.log.WarnContext(ctx, "hook-fire", "hookGroupId", msg.HookGroupID, "hookId", msg.HookID, "firedBy", FiredByPulseMessage, "taskId", taskID, "result", "failure", "reason", reason)
	return nil
}

// PulseOutcome says what became of a Pulse message.
type PulseOutcome string

// The outcomes of FirePulseMessage.
const (
	// PulseFired: the task was created (or already existed).
	PulseFired PulseOutcome = "fired"
	// PulseDeclined: the template rendered to nothing; no task, no record.
	PulseDeclined PulseOutcome = "declined"
	// PulseDiscarded: the payload failed the hook's triggerSchema (or was
	// not JSON); no task and no last fire, as upstream, but a rejected
	// decision.
	PulseDiscarded PulseOutcome = "discarded"
	// PulseHookGone: the hook no longer exists; the message is dropped.
	PulseHookGone PulseOutcome = "gone"
	// PulsePaused: the hook (or its group, or the service) is paused; the
	// message is acknowledged with no task and a paused decision.
	PulsePaused PulseOutcome = "paused"
	// PulseFiltered: a filter of the hook was false; no task.
	PulseFiltered PulseOutcome = "filtered"
	// PulseFailed: the fire failed for good (the template did not render,
	// the queue refused the task with a 4xx); the failure is recorded as
	// a last fire.
	PulseFailed PulseOutcome = "failed"
)

// PulseResult is what FirePulseMessage did.
type PulseResult struct {
	Outcome PulseOutcome
	// TaskID is the message's taskId (PulseMessage.TaskID) when the hook
	// was found.
	TaskID string
	// Reason explains a discard or a failure.
	Reason string
	// Duplicate is true when an earlier delivery of the message had
	// created its task and recorded the fire: this one recorded nothing
	// new (Outcome is PulseFired).
	Duplicate bool
}

// PulseCounts are the running totals of FirePulseMessage's outcomes.
type PulseCounts struct {
	Fired, Declined, Discarded, Gone, Failed, Retry, Paused, Filtered int64
	// Duplicates counts the fired messages whose fire an earlier delivery
	// had recorded (PulseResult.Duplicate); Fired counts them too.
	Duplicates int64
}

// discardLogEvery is upstream's sampling of hook-pulse-message-discarded:
// the first discard, then every 100th.
const discardLogEvery = 100

// pulseCounters count FirePulseMessage's outcomes in this process.
type pulseCounters struct {
	fired, declined, discarded, gone, failed, retry, paused, filtered, duplicates atomic.Int64
}

// PulseCounts returns the totals so far.
func (in *Intake) PulseCounts() PulseCounts {
	c := &in.pulse
	return PulseCounts{
		Fired: c.fired.Load(), Declined: c.declined.Load(), Discarded: c.discarded.Load(),
		Gone: c.gone.Load(), Failed: c.failed.Load(), Retry: c.retry.Load(),
		Paused: c.paused.Load(), Filtered: c.filtered.Load(), Duplicates: c.duplicates.Load(),
	}
}

// FirePulseMessage handles one Pulse message for its hook, as upstream's
// listener does: the hook is loaded fresh (gone: the message is dropped);
// a pause in force acknowledges the message with a paused decision and no
// task; the payload is checked against the hook's triggerSchema (failing:
// the message is discarded with no task and no last fire, but a rejected
// decision; the counter goes up and hook-pulse-message-discarded is logged
// for the 1st and every 100th discard); the hook's filters may stop it;
// then the hook fires with firedBy pulseMessage, the payload as its only
// input, and the message's derived taskId, so handling the same message
// twice creates one task.
//
// It returns an error only when trying the same message again may succeed:
// the store failed, or the queue answered 5xx or could not be reached. Every
// other outcome is final and reported in the result; every outcome past
// the hook lookup is a decision, and failed fires are also last fires.
func (in *Intake) FirePulseMessage(ctx context.Context, msg PulseMessage) (PulseResult, error) {
	c := &in.pulse
	rec, err := in.store.GetHook(ctx, msg.HookGroupID, msg.HookID)
	if errors.Is(err, store.ErrNotFound) {
		c.gone.Add(1)
		in.log.InfoContext(ctx, "pulse message for a hook that no longer exists dropped", "hookGroupId", msg.HookGroupID, "hookId", msg.HookID, "exchange", msg.Exchange, "routingKey", msg.RoutingKey)
		return PulseResult{Outcome: PulseHookGone}, nil
	}
	if err != nil {
		c.retry.Add(1)
		return PulseResult{}, fmt.Errorf("hooks: pulse message for %s/%s: %w", msg.HookGroupID, msg.HookID, err)
	}
	def, err := decodeDefinition(rec.Definition)
	if err != nil {
		// A stored definition that does not decode will not decode on a
		// retry either.
		c.failed.Add(1)
		return PulseResult{Outcome: PulseFailed, Reason: err.Error()}, nil
	}
	taskID := msg.TaskID()

	source := &PulseSource{Exchange: msg.Exchange, RoutingKey: msg.RoutingKey}

	payload, err := decodePayload(msg.Payload)
	if err != nil {
		in.record(ctx, Decision{
			HookGroupID: def.HookGroupID, HookID: def.HookID, FiredBy: FiredByPulseMessage, TaskID: taskID, Pulse: source,
			Outcome: OutcomeRejected, Reason: "the Pulse message body is not JSON", Error: err.Error(), PayloadOmitted: true,
		}, nil)
		return in.discard(ctx, msg, taskID, "payload", err.Error()), nil
	}

	res, err := in.fire(ctx, def, FireRequest{FiredBy: FiredByPulseMessage, Payload: payload, RawPayload: msg.Payload, TaskID: taskID, Pulse: source, check: checkSchema})
	if errors.Is(err, ErrPaused) {
		// Acknowledged, not kept: a backlog would fire all at once on
		// resume. The decision keeps the payload for a replay.
		c.paused.Add(1)
		return PulseResult{Outcome: PulsePaused, TaskID: taskID, Reason: res.Decision.Reason}, nil
	}
	var herr *Error
	if errors.As(err, &herr) && errors.Is(herr.Kind, ErrInvalid) {
		// The payload failed the triggerSchema; the same payload would
		// fail again.
		return in.discard(ctx, msg, taskID, "triggerSchema", herr.Message), nil
	}
	if err != nil {
		var fe *FireError
		if errors.As(err, &fe) && !fe.Retryable() {
			c.failed.Add(1)
			return PulseResult{Outcome: PulseFailed, TaskID: taskID, Reason: err.Error()}, nil
		}
		// A retryable queue answer, or a claim the store could not read
		// or write: the same message with the same taskId can be tried
		// again safely.
		c.retry.Add(1)
		return PulseResult{TaskID: taskID}, err
	}
	if res.Declined {
		c.declined.Add(1)
		return PulseResult{Outcome: PulseDeclined, TaskID: taskID}, nil
	}
	if res.Filtered {
		c.filtered.Add(1)
		return PulseResult{Outcome: PulseFiltered, TaskID: taskID, Reason: res.Decision.Reason}, nil
	}
	c.fired.Add(1)
	if res.AlreadyTaken {
		// A redelivery of a message whose fire is done and recorded: the
		// decision log keeps the one decision.
		c.duplicates.Add(1)
	}
	return PulseResult{Outcome: PulseFired, TaskID: taskID, Duplicate: res.AlreadyTaken}, nil
}

// discardMessage is the fixed text of hook-pulse-message-discarded for a
// reason (the triggerSchema one is upstream's).
func discardMessage(reason string) string {
	if reason == "payload" {
		return "Pulse message discarded because its body is not JSON"
	}
	return "Pulse message discarded because payload does not match hook triggerSchema"
}

// discard counts a discarded message and logs it, sampled.
func (in *Intake) discard(ctx context.Context, msg PulseMessage, taskID, reason, problem string) PulseResult {
	n := in.pulse.discarded.Add(1)
	if n == 1 || n%discardLogEvery == 0 {
		in.log.InfoContext(ctx, "hook-pulse-message-discarded",
			"hookGroupId", msg.HookGroupID, "hookId", msg.HookID,
			"exchange", msg.Exchange, "routingKey", msg.RoutingKey,
			"reason", reason, "validationError", problem, "discardedCount", n,
			"message", discardMessage(reason))
	}
	return PulseResult{Outcome: PulseDiscarded, TaskID: taskID, Reason: problem}
}

// decodePayload decodes a message body the way request bodies are decoded:
// one JSON value, numbers kept exact.
func decodePayload(raw json.RawMessage) (any, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("the message body is not JSON: %v", err)
	}
	if dec.More() {
		return nil, errors.New("the message body has data after its JSON value")
	}
	return v, nil
}
