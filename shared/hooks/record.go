package hooks

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hookline/hookline/shared/jsontext"
	"github.com/hookline/hookline/shared/store"
)

// Writing the decision log: one decision per fire outcome, and with it,
// for fires that reached the queue (or failed to render), the fire record
// listLastFires shows. The pipeline's finish step is the writer of every
// fire's outcome; the scheduler's collapsed slots and the Pulse intake's
// undeliverable messages are recorded here too.

// newDecisionID makes a decision id that sorts by time: the UTC time to
// the nanosecond, then random hex so that two decisions of one nanosecond
// differ.
func newDecisionID(at time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return at.UTC().Format("20060102T150405.000000000Z") + "-" + hex.EncodeToString(b[:])
}

// decisionsEnabled reports whether decisions are recorded at all.
func (p *pipeline) decisionsEnabled() bool { return p.decisionRetention > 0 }

// record writes a decision and, when fire is not nil, the fire record that
// listLastFires shows, in one store write. A failure to record is logged,
// not returned: the task was (or was not) created either way, and the
// caller's answer must say which. It returns the decision as recorded.
func (p *pipeline) record(ctx context.Context, d Decision, fire *store.LastFire) Decision {
	d, err := p.writeDecision(ctx, d, fire)
	if err != nil {
		p.log.ErrorContext(ctx, "record decision", "hookGroupId", d.HookGroupID, "hookId", d.HookID, "outcome", d.Outcome, "taskId", d.TaskID, "err", err)
	}
	return d
}

// writeDecision is record's write, returning its error. With the decision
// log off it writes only the fire record.
func (p *pipeline) writeDecision(ctx context.Context, d Decision, fire *store.LastFire) (Decision, error) {
	d, rec, fire, err := p.prepareRecord(ctx, d, fire)
	switch {
	case err != nil:
		return d, err
	case rec != nil:
		return d, p.store.PutDecision(ctx, *rec, fire)
	case fire != nil:
		return d, p.store.PutLastFire(ctx, *fire)
	}
	return d, nil
}

// prepareRecord is what writeDecision stores: the decision as recorded,
// and the store's decision record (nil with the decision log off) and
// fire record (nil when fire is), ready to write.
func (p *pipeline) prepareRecord(ctx context.Context, d Decision, fire *store.LastFire) (Decision, *store.Decision, *store.LastFire, error) {
	if d.Time.IsZero() {
		d.Time = p.now()
	}
	d.Time = d.Time.UTC()
	if len(d.Error) > maxDecisionError {
		d.Error = d.Error[:maxDecisionError]
	}
	keep, err := p.historyKeep(ctx, d)
	if err != nil {
		return d, nil, nil, err
	}
	if fire != nil {
		f := *fire
		f.KeepAtMost = keep
		p.awaitOutcome(&f)
		fire = &f
	}
	if !p.decisionsEnabled() {
		return d, nil, fire, nil
	}
	d.DecisionID = newDecisionID(d.Time)
	if fire != nil {
		fire.DecisionID = d.DecisionID
	}
	body, err := json.Marshal(d)
	if err == nil && (len(body) > maxDecisionBody || jsontext.NestingExceeds(body, maxDecisionDepth+decisionOwnDepth)) {
		// Only the kept context can still be this large or deep: the
		// payload was checked (keepPayload).
		if d.Payload != nil {
			d.PayloadOmitted, d.PayloadSize = true, len(d.Payload)
			d.PayloadProblem = "the payload and context together are too large or too deep to keep"
		}
		d.Context, d.Payload = nil, nil
		body, err = json.Marshal(d)
	}
	if err != nil {
		return d, nil, nil, fmt.Errorf("hooks: encode decision: %w", err)
	}
	rec := &store.Decision{HookGroupID: d.HookGroupID, HookID: d.HookID, ID: d.DecisionID, Body: body, ExpiresAt: d.Time.Add(p.decisionRetention), KeepAtMost: keep}
	return d, rec, fire, nil
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

		WebhookScheme: req.WebhookScheme,
	}
	if req.FiredBy == FiredByTriggerHook || req.ReplayOf != "" {
		d.ClientID = req.ClientID
	}
	if req.FiredBy != FiredBySchedule {
		keepPayload(&d, req)
		if len(req.Extra) > 0 {
			d.Context = req.Extra
		}
	}
	return d
}

// keepPayload sets the payload of d as a decision keeps it: the raw
// bytes when the caller has them, else re-encoded, when payloadProblem
// finds nothing wrong with them; otherwise only why, their size and their
// start.
func keepPayload(d *Decision, req FireRequest) {
	raw := req.RawPayload
	if raw == nil {
		var err error
		if raw, err = json.Marshal(req.Payload); err != nil {
			d.PayloadOmitted, d.PayloadProblem = true, "the payload could not be encoded as JSON: "+err.Error()
			return
		}
	}
	if problem := payloadProblem(raw); problem != "" {
		d.PayloadOmitted, d.PayloadProblem = true, problem
		d.PayloadSize, d.PayloadPrefix = len(raw), payloadPrefix(raw)
		return
	}
	d.Payload = raw
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

// errorText is how a fire error is stored: the queue's refusal as pretty
// JSON (upstream's shape), anything else as its text, cut to
// maxStoredError.
func errorText(err error) string {
	var text string
	var r QueueRefusal
	if errors.As(err, &r) {
		b, _ := json.MarshalIndent(map[string]any{
			"name":       "Error",
			"message":    r.ErrorMessage(),
			"code":       r.ErrorCode(),
			"statusCode": r.HTTPStatus(),
			"body":       json.RawMessage(orNull(r.ErrorBody())),
		}, "", "  ")
		text = string(b)
	} else {
		text = err.Error()
	}
	if len(text) > maxStoredError {
		text = text[:maxStoredError]
	}
	return text
}

func orNull(b []byte) []byte {
	if len(b) == 0 || !json.Valid(b) {
		return []byte("null")
	}
	return b
}
