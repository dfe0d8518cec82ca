package hooks

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookline/hookline/shared/slugid"
	"github.com/hookline/hookline/shared/store"
)

// The ways a hook is fired, as upstream names them (firedBy).
const (
	FiredBySchedule             = "schedule"
	FiredByTriggerHook          = "triggerHook"
	FiredByTriggerHookWithToken = "triggerHookWithToken"
	FiredByPulseMessage         = "pulseMessage"
)

// Retention of fire records and of fire claims.
const (
	lastFireRetention = 365 * 24 * time.Hour
	// A claim outlives every retry path (SQS retention is at most 14 days,
	// scheduler and client retries are minutes), so a retry always finds
	// the definition it must re-send.
	fireClaimRetention = 30 * 24 * time.Hour
	// maxStoredError bounds the error text kept in a fire record, as
	// upstream does (128 Ki characters): the store's limit.
	maxStoredError = store.MaxFireErrorSize
)

// FireRequest is one attempt to fire a hook.
type FireRequest struct {
	// FiredBy is one of the FiredBy constants.
	FiredBy string
	// Payload is the trigger payload (nil for scheduled fires).
	Payload any
	// ClientID is the caller, for triggerHook.
	ClientID string
	// TaskID, when set, is the taskId to use (the schedule's nextTaskId, a
	// payload taskId, a Pulse message digest). Otherwise one is derived
	// from IdempotencyKey, or generated.
	TaskID string
	// IdempotencyKey makes client retries safe: the same key for the same
	// hook always means the same taskId, hence at most one task.
	IdempotencyKey string
	// Created is the render time (`now` in the template, and the task's
	// default created); zero means the wall clock.
	Created time.Time
	// Extra adds top-level variables to the JSON-e context (the webhook
	// route's `webhook`). It never replaces a standard variable (firedBy,
	// taskId, now, payload, clientId), so templates keep upstream meaning.
	Extra map[string]any

	// RawPayload is Payload's JSON when the caller has it (a Pulse
	// message body), kept in the decision log as is.
	RawPayload json.RawMessage
	// Pulse names the message of a pulseMessage fire, for the decision log.
	Pulse *PulseSource
	// ReplayOf is the decision a replay re-fires.
	ReplayOf string
	// WebhookScheme is how a triggerHookWithToken fire proved itself, for
	// the decision log: WebhookToken (upstream's token route), or the
	// signed webhook route's scheme (WebhookBearer, WebhookGitHub,
	// WebhookHookline).
	WebhookScheme string

	// check says how the payload is checked before the fire: not at all
	// (schedules), against the triggerSchema (Pulse), or also for a
	// payload taskId, which then becomes the fire's taskId (API, token and
	// webhook triggers).
	check payloadCheck
	// slot is set for scheduled fires.
	slot *slotInfo
	// gates, when set, are the gates the caller read for this fire (a
	// tick firing several slots of a hook reads them once).
	gates *gates
}

type payloadCheck int

const (
	checkNone payloadCheck = iota
	checkSchema
	checkSchemaAndTaskID
)

// slotInfo describes the schedule slot a scheduled fire is for.
type slotInfo struct {
	at time.Time
	// fireAt is when the slot was due to fire: at, or later with a
	// jitter.
	fireAt time.Time
	// tick is when the scheduler handled it, to tell how late it is.
	tick time.Time
	// catchUp is the policy under which a missed slot fires, or "".
	catchUp string
	// backfill is set when a backfill fires the slot.
	backfill bool
	// version is the hook record's version the tick read, to tell
	// whether another tick has moved the hook on since (taken).
	version int64
	// deferred, when set, takes the recording of an outcome that claims
	// nothing (paused, filtered, a render error) instead of the fire: the
	// tick records it once it has won the hook's advance, so that two
	// ticks handling one slot record it once.
	deferred func(record func())
}

// createdSlack is how far a scheduled fire may come after its slot and
// still send a task created at the slot. A later fire (a jitter, a
// catch-up, a backfill) sends the task created when it is sent instead,
// with its deadline and expiry moved as much, since the queue refuses a
// task created more than 15 minutes ago; the template's now stays the
// slot. Five minutes leaves the claim's re-sends ten minutes.
const createdSlack = 5 * time.Minute

// refreshAfter is how old a claimed task's created may be when a retry
// re-sends it as it is. The queue refuses a task created more than 15
// minutes ago, so an older claim, whose task never reached the queue, is
// refreshed first: created moved to now, deadline and expires as much
// (see pipeline.refreshClaim). The five minutes left cover a clock skew
// between this service and the queue, and the request's way there.
const refreshAfter = 10 * time.Minute

// inFlightFor is how long a tick that finds another attempt's claim on a
// slot, and no fire record for it yet, takes that attempt to be still at
// work: it sends and records nothing and leaves the slot due. A live
// attempt lasts at most the scheduler function's 60-second timeout, or in
// `serve` the queue client's five tries of at most 30 seconds each; a
// claim older than this without a record is an attempt that died between
// its claim and its record, and the next tick finishes it (taken).
const inFlightFor = 3 * time.Minute

// FireResult is what a fire produced.
type FireResult struct {
	// TaskID is the created task's id; "" when no task was created.
	TaskID string
	// Declined is true when the template rendered to nothing.
	Declined bool
	// Filtered is true when a filter kept the hook from firing.
	Filtered bool
	// Decision is the decision recorded for the fire (its DecisionID is
	// empty when the decision log is off). It is set on errors too, when
	// the fire got as far as an outcome.
	Decision Decision
	// AlreadyTaken is true when another attempt of the same fire (a
	// second tick on the slot, a redelivered Pulse message) had recorded
	// it, or is still at it: this one sent and recorded nothing. Decision
	// then holds what the fire record says of the earlier one (its
	// outcome, taskId and DecisionID), when it says anything.
	AlreadyTaken bool
	// inFlight is true when AlreadyTaken because the other attempt is
	// still at it: the slot stays due.
	inFlight bool
}

// fireClaim is what a claim remembers of a fire: the exact definition sent,
// so a retry re-sends it byte for byte.
type fireClaim struct {
	Task     json.RawMessage `json:"task,omitempty"`
	Declined bool            `json:"declined,omitempty"`
	FiredBy  string          `json:"firedBy"`
	Created  time.Time       `json:"created"`
}

// pipeline is the one fire pipeline every part that fires shares (Firing,
// Scheduler, Intake, Operations' replay): the store, the renderer, the
// queue and the decision log.
type pipeline struct {
	*core
	*renderer
	queue TaskCreator
	// joint is queue when it commits a fire's task with the fire's
	// records (JointTaskCreator); nil otherwise.
	joint JointTaskCreator
	// statuses reads task states; nil when the queue cannot.
	statuses TaskStatusReader
	// decisionRetention is how long decisions are kept; 0 when the
	// decision log is off.
	decisionRetention time.Duration
	// historyMax caps each hook's history (history.go); pollInterval
	// spaces the status reads of awaited outcomes, 0 when none are
	// awaited (outcomes.go).
	historyMax   int
	pollInterval time.Duration
}

func newPipeline(c *core, opts Options) *pipeline {
	p := &pipeline{core: c, renderer: &renderer{}, queue: opts.Queue, historyMax: opts.HistoryMax, pollInterval: max(opts.OutcomePollInterval, 0)}
	p.statuses, _ = opts.Queue.(TaskStatusReader)
	p.joint, _ = opts.Queue.(JointTaskCreator)
	if opts.DecisionRetention > 0 {
		p.decisionRetention = opts.DecisionRetention
	}
	return p
}

// attempt is one fire on its way through the pipeline: what each step
// learns for the next.
type attempt struct {
	def Definition
	req FireRequest
	// now is when the fire started.
	now    time.Time
	taskID string
	// reusable is true when the taskId can come again (chosen by the
	// caller, the schedule, a message digest or an idempotency key): only
	// then is the fire claimed. A freshly generated taskId is never
	// retried, so it skips that durable write.
	reusable bool
	gates    gates
	// claim is the task to send; retry is true when it is an earlier
	// attempt's, found in the store. stored is the claim as the store
	// holds it, for a conditional refresh.
	claim  fireClaim
	retry  bool
	stored store.Claim
	// claimKey is set when the claim is still to be written, with the
	// task and the fire's records, by a joint queue (createJoint).
	claimKey string
	// refreshed is set when the retry sends the claimed task created
	// anew, since the queue would refuse its created (refreshAfter);
	// refreshedFrom is the created it had.
	refreshed     bool
	refreshedFrom time.Time
}

// ending is how a fire ended: what its decision records and what the
// caller gets back.
type ending struct {
	outcome string
	reason  string
	// errText is the decision's error text.
	errText   string
	pause     *PauseState
	filter    string
	willRetry bool
	// existed is true when a retry found its task already created.
	existed bool
	// fire is the fire record listLastFires shows, written with the
	// decision; nil for outcomes that never reached the queue.
	fire *store.LastFire
	// err is what the caller gets: ErrPaused, a triggerSchema refusal, a
	// *FireError.
	err error
	// recorded is the decision as recorded when it was committed with
	// the task (createJoint); finish then writes nothing.
	recorded *Decision
	// taken is set when another attempt of the fire recorded it or is
	// still at it (see taken): nothing is recorded, logged as a fire or
	// published, and the caller gets this result.
	taken *FireResult
}

// fire takes one fire of def through the pipeline, in named steps:
//
//  1. begin: read the gates (pauses, settings) and choose the taskId;
//  2. gate: a pause, or a payload the triggerSchema refuses, ends it;
//  3. claimOrRender: a retry finds an earlier attempt's claim and re-sends
//     its task; a first attempt evaluates the filters, renders the
//     template and claims the taskId with the rendered task;
//  4. create: createTask on the queue;
//  5. finish: the one place that records the decision (with the fire
//     record listLastFires shows) and logs the outcome.
//
// This is the exactly-once protocol (docs/architecture.md): the taskId is
// decided first; the claim, keyed by hook and taskId, stores the rendered
// definition before createTask is called; a retry re-sends that stored
// definition, which the queue accepts as a no-op, and the fire record is
// keyed by taskId and claim time, so a retry replaces it.
//
// A step that cannot read or write the store ends the fire with that error
// and no decision: no outcome is known yet, and the caller, which handles
// the error, logs it.
func (p *pipeline) fire(ctx context.Context, def Definition, req FireRequest) (FireResult, error) {
	if p.queue == nil {
		return FireResult{}, errors.New("hooks: no queue configured to create tasks")
	}
	a, err := p.begin(ctx, def, req)
	if err != nil {
		return FireResult{}, err
	}
	end, err := p.gate(a)
	if end == nil && err == nil {
		end, err = p.claimOrRender(ctx, a)
	}
	if end == nil && err == nil {
		end, err = p.create(ctx, a)
	}
	if err != nil {
		return FireResult{}, err
	}
	if end.taken != nil {
		p.log.DebugContext(ctx, "fire already taken by another attempt", "hookGroupId", def.HookGroupID, "hookId", def.HookID,
			"firedBy", req.FiredBy, "taskId", a.taskID, "inFlight", end.taken.inFlight)
		return *end.taken, nil
	}
	if slot := req.slot; slot != nil && slot.deferred != nil && end.claimsNothing() {
		// Nothing claims this slot's outcome: record it only if this
		// tick wins the slot (Scheduler.handleDue).
		slot.deferred(func() { p.finish(ctx, a, end) })
		return FireResult{Declined: end.outcome == OutcomeDeclined, Filtered: end.outcome == OutcomeFiltered,
			Decision: Decision{Outcome: end.outcome, Reason: end.reason}}, end.err
	}
	return p.finish(ctx, a, end), end.err
}

// claimsNothing reports whether the fire ended before any claim could
// hold it: a pause, a filter, a render error. A second attempt decides
// these again rather than find them.
func (e *ending) claimsNothing() bool {
	switch e.outcome {
	case OutcomePaused, OutcomeFiltered, OutcomeRenderError:
		return true
	}
	return false
}

// begin reads what can stop the fire and chooses its taskId.
func (p *pipeline) begin(ctx context.Context, def Definition, req FireRequest) (*attempt, error) {
	a := &attempt{def: def, req: req, now: p.now()}
	if req.gates != nil {
		a.gates = *req.gates
	} else {
		g, err := p.loadGates(ctx, def.HookGroupID, def.HookID)
		if err != nil {
			return nil, err
		}
		a.gates = g
	}
	a.taskID, a.reusable = p.chooseTaskID(def, req)
	return a, nil
}

// chooseTaskID decides the taskId before anything can stop the fire, so
// every decision names the task it was about: the request's (a schedule
// slot, a message digest), a valid payload taskId of an API or token
// trigger, one derived from the idempotency key, or a fresh one.
func (p *pipeline) chooseTaskID(def Definition, req FireRequest) (taskID string, reusable bool) {
	taskID = req.TaskID
	if taskID == "" && req.check == checkSchemaAndTaskID {
		if obj, ok := req.Payload.(map[string]any); ok {
			if id, ok := obj["taskId"].(string); ok && slugid.Valid(id) {
				taskID = id
			}
		}
	}
	switch {
	case taskID != "":
		return taskID, true
	case req.IdempotencyKey != "":
		return derivedTaskID("idempotency", def.HookGroupID, def.HookID, req.IdempotencyKey), true
	}
	return p.newID(), false
}

// gate ends a fire that a pause or the hook's triggerSchema forbids.
func (p *pipeline) gate(a *attempt) (*ending, error) {
	if pause := a.gates.pause; pause != nil {
		err := pausedError(a.def, pause)
		return &ending{outcome: OutcomePaused, pause: pause, err: err,
			reason: "the hook was not fired: " + strings.TrimPrefix(err.Error(), "no task was created: ")}, nil
	}
	if a.req.check == checkNone {
		return nil, nil
	}
	err := p.checkPayload(a.def, a.req.Payload, a.req.check == checkSchemaAndTaskID)
	var he *Error
	switch {
	case err == nil:
		return nil, nil
	case errors.As(err, &he) && errors.Is(he.Kind, ErrInvalid):
		return &ending{outcome: OutcomeRejected, errText: he.Message, err: err,
			reason: "the payload does not match the hook's triggerSchema"}, nil
	}
	return nil, err
}

// claimOrRender finds the task an earlier attempt of the fire claimed, or
// evaluates the filters, renders the task and claims it.
func (p *pipeline) claimOrRender(ctx context.Context, a *attempt) (*ending, error) {
	key := "fire/" + a.def.HookGroupID + "/" + a.def.HookID + "/" + a.taskID
	if a.reusable {
		claim, stored, found, err := p.loadClaim(ctx, key, a.now)
		if err != nil {
			return nil, err
		}
		if found {
			// The earlier attempt already passed the filters and
			// rendered: the retry re-sends its task, whatever the
			// filters say now.
			a.claim, a.stored, a.retry = claim, stored, true
			return nil, nil
		}
	}
	created := a.req.Created
	if created.IsZero() {
		created = a.now
	}
	fireCtx := fireContext(a.req, a.taskID, created)
	if len(a.gates.settings.Filters) > 0 {
		if v := p.evaluateFilters(a.gates.settings.Filters, fireCtx, created); !v.pass {
			e := &ending{outcome: OutcomeFiltered, filter: v.filter, reason: "the filter " + v.filter + " is false"}
			if v.err != nil {
				e.reason = "the filter " + v.filter + " could not be evaluated, so the hook did not fire"
				e.errText = v.err.Error()
			}
			return e, nil
		}
	}
	var sendAt time.Time
	if a.req.slot != nil {
		sendAt = a.now
	}
	task, declined, err := p.render(a.def, fireCtx, a.taskID, created, sendAt)
	if err == nil && len(task) > MaxTaskBytes {
		// No queue takes it, and no claim could hold it
		// (store.MaxClaimSize): as deterministic as a render error.
		err = fmt.Errorf("the rendered task is %d bytes, over the %d MiB a queue accepts", len(task), MaxTaskBytes>>20)
	}
	if err != nil {
		// A render error is deterministic: record it and stop. There is
		// nothing to claim, since no task was or will be sent.
		return &ending{outcome: OutcomeRenderError, errText: err.Error(), reason: "the task template did not render",
			fire: lastFire(a.def, a.req.FiredBy, a.taskID, a.now, err),
			err:  &FireError{Cause: err, HookGroupID: a.def.HookGroupID, HookID: a.def.HookID}}, nil
	}
	a.claim = fireClaim{Task: task, Declined: declined, FiredBy: a.req.FiredBy, Created: a.now}
	switch {
	case !a.reusable:
	case p.joint != nil && !declined:
		// The claim commits with the task and the fire's records
		// (createJoint): no attempt can see a claim without its task.
		a.claimKey = key
	default:
		won := false
		if a.claim, a.stored, won, err = p.writeClaim(ctx, key, a.claim, a.now); err != nil {
			return nil, err
		}
		// Another attempt claimed the taskId first: this one follows its
		// claim as a retry does.
		a.retry = !won
	}
	return nil, nil
}

// create sends the claimed task to the queue. Its error is the store's,
// when a stale claim could not be refreshed.
func (p *pipeline) create(ctx context.Context, a *attempt) (*ending, error) {
	if a.retry {
		if e, err := p.taken(ctx, a); e != nil || err != nil {
			return e, err
		}
	}
	if a.claim.Declined {
		return &ending{outcome: OutcomeDeclined, reason: "the task template rendered to null, which declines the fire"}, nil
	}
	if a.retry {
		if p.taskExists(ctx, a.taskID) {
			// A retry of a fire whose task the queue already has: the
			// queue would refuse a re-send once `created` is 15 minutes
			// old, so ask first and report the task as created.
			return existed(a), nil
		}
		if created := taskCreated(a.claim.Task); !created.IsZero() && a.now.Sub(created) > refreshAfter {
			if err := p.refreshClaim(ctx, a, created); err != nil {
				return nil, err
			}
		}
	}
	scopes := []string{"assume:hook-id:" + a.def.HookGroupID + "/" + a.def.HookID}
	if p.joint != nil && !a.retry {
		e, err := p.createJoint(ctx, a, scopes)
		if e != nil || err != nil {
			return e, err
		}
		// Another attempt claimed the taskId first: a.claim is now its
		// claim, which this one re-sends as a retry does.
		if a.retry {
			if e, err := p.taken(ctx, a); e != nil || err != nil {
				return e, err
			}
		}
		if p.taskExists(ctx, a.taskID) {
			return existed(a), nil
		}
	}
	c := a.claim
	if _, err := p.queue.CreateTask(ctx, a.taskID, c.Task, scopes); err != nil {
		var r QueueRefusal
		if a.refreshed && errors.As(err, &r) && r.HTTPStatus() == 409 && p.taskExists(ctx, a.taskID) {
			// The claimed task as it was before the refresh reached the
			// queue meanwhile (an earlier attempt's request was still on
			// its way), so the queue refuses the refreshed one as a
			// different definition of the same taskId.
			return existed(a), nil
		}
		return queueError(a, err), nil
	}
	e := &ending{outcome: OutcomeCreated, fire: lastFire(a.def, c.FiredBy, a.taskID, c.Created, nil)}
	if a.refreshed {
		e.reason = "an earlier attempt's task was sent again, created now with its deadline and expires moved as much: " +
			"it was created " + isoTime(a.refreshedFrom) + ", and the queue refuses a task created more than 15 minutes ago"
	}
	return e, nil
}

// createJoint creates the task and records the fire (its decision, fire
// record and pending claim) in one commit, through a queue that can
// (JointTaskCreator): the decision is the one finish would record for
// the task created. When the queue refuses the task nothing is written,
// and finish records the refusal as for any queue. When another attempt
// holds the fire's claim, it returns no ending: a.claim is then that
// attempt's, to re-send as a retry does.
func (p *pipeline) createJoint(ctx context.Context, a *attempt, scopes []string) (*ending, error) {
	e := &ending{outcome: OutcomeCreated, fire: lastFire(a.def, a.claim.FiredBy, a.taskID, a.claim.Created, nil)}
	dec, rec, fire, err := p.prepareRecord(ctx, p.decisionOf(a, e), e.fire)
	if err != nil {
		return nil, err
	}
	w := store.FireWrite{Decision: rec, Fire: fire, Now: a.now}
	if a.claimKey != "" {
		body, err := json.Marshal(a.claim)
		if err != nil {
			return nil, fmt.Errorf("hooks: encode fire claim: %w", err)
		}
		w.Claim = &store.Claim{Key: a.claimKey, Body: body, CreatedAt: a.now, ExpiresAt: a.now.Add(fireClaimRetention)}
	}
	_, err = p.joint.CreateTaskJoint(ctx, a.taskID, a.claim.Task, scopes, w)
	switch {
	case err == nil:
		e.recorded = &dec
		return e, nil
	case w.Claim != nil && errors.Is(err, store.ErrConflict):
		winner, stored, found, lerr := p.loadClaim(ctx, a.claimKey, a.now)
		if lerr != nil {
			return nil, lerr
		}
		if !found {
			// It expired between the two reads: claim as with a queue
			// without a joint commit, then send.
			won := false
			if winner, stored, won, lerr = p.writeClaim(ctx, a.claimKey, a.claim, a.now); lerr != nil {
				return nil, lerr
			}
			found = !won
		}
		a.claim, a.stored, a.retry = winner, stored, found
		return nil, nil
	}
	return queueError(a, err), nil
}

// existed ends a retry whose task the queue already has.
func existed(a *attempt) *ending {
	return &ending{outcome: OutcomeCreated, existed: true, fire: lastFire(a.def, a.claim.FiredBy, a.taskID, a.claim.Created, nil),
		reason: "the task already existed: an earlier attempt of this fire created it"}
}

// refreshClaim makes a retry's claimed task one the queue accepts: the
// same definition, created now with deadline and expires moved as much,
// stored in place of the claim read only if that is still the claim (a
// conditional replace). When a concurrent retry refreshed it first, this
// one follows that claim, so both send the same task. The claim keeps its
// claim time, which keys the fire record that retries replace.
func (p *pipeline) refreshClaim(ctx context.Context, a *attempt, created time.Time) error {
	task, ok := refreshedTask(a.claim.Task, a.now)
	if !ok {
		// Not a task the queue would take anyway: send it as it is and
		// let the queue say what is wrong.
		return nil
	}
	fc := a.claim
	fc.Task = task
	body, err := json.Marshal(fc)
	if err != nil {
		return fmt.Errorf("hooks: encode fire claim: %w", err)
	}
	key := a.stored.Key
	next := store.Claim{Key: key, Body: body, CreatedAt: a.stored.CreatedAt, ExpiresAt: a.now.Add(fireClaimRetention)}
	err = p.store.ReplaceClaim(ctx, next, a.stored.Body, a.now)
	if err != nil && !errors.Is(err, store.ErrConflict) {
		return fmt.Errorf("hooks: refresh fire claim: %w", err)
	}
	a.refreshed, a.refreshedFrom = true, created
	if err == nil {
		a.claim, a.stored = fc, next
		return nil
	}
	// Another retry refreshed the claim first: follow it. A claim that
	// expired meanwhile is written again (writeClaim follows the winner
	// of a race for that).
	winner, stored, found, err := p.loadClaim(ctx, key, a.now)
	if err != nil {
		return err
	}
	if !found {
		winner, stored, _, err = p.writeClaim(ctx, key, fc, a.now)
	}
	a.claim, a.stored = winner, stored
	return err
}

// queueError ends a fire whose task the queue did not create.
func queueError(a *attempt, qerr error) *ending {
	fe := &FireError{Cause: qerr, HookGroupID: a.def.HookGroupID, HookID: a.def.HookID}
	e := &ending{outcome: OutcomeQueueError, errText: qerr.Error(), err: fe,
		fire: lastFire(a.def, a.claim.FiredBy, a.taskID, a.claim.Created, qerr)}
	if r, ok := fe.Refusal(); ok {
		e.errText = fmt.Sprintf("%s (%d): %s", r.ErrorCode(), r.HTTPStatus(), r.ErrorMessage())
	}
	// Only the scheduler and the Pulse path try again by themselves.
	backfill := a.req.slot != nil && a.req.slot.backfill
	e.willRetry = fe.Retryable() && a.req.ReplayOf == "" && !backfill && (a.req.FiredBy == FiredBySchedule || a.req.FiredBy == FiredByPulseMessage)
	e.reason = "the queue did not create the task"
	if e.willRetry {
		e.reason += "; the same task will be sent again"
	}
	return e
}

// finish records the fire's decision, with its fire record, and logs its
// outcome: the one place every outcome goes through.
func (p *pipeline) finish(ctx context.Context, a *attempt, e *ending) FireResult {
	var dec Decision
	if e.recorded != nil {
		dec = *e.recorded
	} else {
		dec = p.record(ctx, p.decisionOf(a, e), e.fire)
	}
	p.logFire(ctx, a, e)
	p.publishFireEvents(ctx, a, e, dec)
	res := FireResult{Decision: dec, Declined: e.outcome == OutcomeDeclined, Filtered: e.outcome == OutcomeFiltered}
	if e.outcome == OutcomeCreated {
		res.TaskID = a.taskID
	}
	return res
}

// decisionOf is the decision a fire's ending records.
func (p *pipeline) decisionOf(a *attempt, e *ending) Decision {
	dec := newDecision(a.def, a.req, a.taskID)
	if slot := a.req.slot; slot != nil {
		at := slot.at.UTC()
		dec.ScheduledFor = &at
		due := at
		if !slot.fireAt.IsZero() && !slot.fireAt.Equal(at) {
			fireAt := slot.fireAt.UTC()
			dec.FireAt, due = &fireAt, fireAt
		}
		if late := slot.tick.Sub(due); late > lateAfter && !slot.backfill {
			dec.Late, dec.LateSeconds = true, int64(late/time.Second)
		}
		dec.CatchUp, dec.Backfill = slot.catchUp, slot.backfill
		if a.claim.Task != nil && (a.refreshed || a.claim.Created.Sub(at) > createdSlack) {
			if c := taskCreated(a.claim.Task); !c.IsZero() && !c.Equal(at) {
				dec.TaskCreated = &c
			}
		}
	}
	dec.Outcome, dec.Reason, dec.Error = e.outcome, e.reason, e.errText
	dec.Pause, dec.Filter, dec.WillRetry = e.pause, e.filter, e.willRetry
	dec.keep = p.keepFor(a.gates.settings)
	return dec
}

// logFire logs a fire's outcome under upstream's "hook-fire" message.
func (p *pipeline) logFire(ctx context.Context, a *attempt, e *ending) {
	result := "failure"
	switch e.outcome {
	case OutcomeCreated:
		result = "success"
	case OutcomeDeclined, OutcomeFiltered, OutcomePaused:
		result = e.outcome
	}
	attrs := []any{"hookGroupId", a.def.HookGroupID, "hookId", a.def.HookID, "firedBy", a.req.FiredBy, "taskId", a.taskID, "result", result, "outcome", e.outcome}
	if e.existed {
		attrs = append(attrs, "alreadyExisted", true)
	}
	if a.refreshed {
		attrs = append(attrs, "createdWas", isoTime(a.refreshedFrom))
	}
	p.log.InfoContext(ctx, "hook-fire", attrs...)
}

// taskExists asks the queue, when it can say, whether taskID exists.
func (p *pipeline) taskExists(ctx context.Context, taskID string) bool {
	if p.statuses == nil {
		return false
	}
	_, err := p.statuses.Status(ctx, taskID)
	return err == nil
}

// derivedTaskID maps a stable key to a slugid, so the same key always names
// the same task.
func derivedTaskID(parts ...string) string {
	h := sha256.New()
	for _, p := range parts {
		fmt.Fprintf(h, "%d:%s;", len(p), p)
	}
	var b [16]byte
	copy(b[:], h.Sum(nil))
	return slugid.FromBytes(b)
}

// loadClaim reads the fire claim under key: what it says, and the claim as
// stored.
func (p *pipeline) loadClaim(ctx context.Context, key string, now time.Time) (fireClaim, store.Claim, bool, error) {
	c, err := p.store.GetClaim(ctx, key, now)
	if errors.Is(err, store.ErrNotFound) {
		return fireClaim{}, store.Claim{}, false, nil
	}
	if err != nil {
		return fireClaim{}, store.Claim{}, false, fmt.Errorf("hooks: read fire claim: %w", err)
	}
	var fc fireClaim
	if err := json.Unmarshal(c.Body, &fc); err != nil {
		return fireClaim{}, store.Claim{}, false, fmt.Errorf("hooks: decode fire claim %s: %w", key, err)
	}
	return fc, c, true, nil
}

// writeClaim stores the claim; if a concurrent fire of the same taskId won
// the race, its claim is the one to follow (won is false). It returns the
// claim to follow and the claim as stored.
func (p *pipeline) writeClaim(ctx context.Context, key string, fc fireClaim, now time.Time) (claim fireClaim, stored store.Claim, won bool, err error) {
	body, err := json.Marshal(fc)
	if err != nil {
		return fireClaim{}, store.Claim{}, false, fmt.Errorf("hooks: encode fire claim: %w", err)
	}
	c := store.Claim{Key: key, Body: body, CreatedAt: now, ExpiresAt: now.Add(fireClaimRetention)}
	err = p.store.CreateClaim(ctx, c, now)
	if errors.Is(err, store.ErrConflict) {
		winner, stored, found, lerr := p.loadClaim(ctx, key, now)
		if lerr != nil {
			return fireClaim{}, store.Claim{}, false, lerr
		}
		if found {
			return winner, stored, false, nil
		}
	}
	if err != nil {
		return fireClaim{}, store.Claim{}, false, fmt.Errorf("hooks: write fire claim: %w", err)
	}
	return fc, c, true, nil
}

// taken decides, for an attempt that found another attempt's claim on its
// fire, whether that attempt has the fire in hand, so that this one sends
// and records nothing: a second tick on a slot, a backfill over a slot
// already fired, a redelivered Pulse message or webhook, a client's retry
// under the same Idempotency-Key. (A replay records as before: it answers
// with its decision.)
//
//   - The fire record keyed by the claim says the task was created: the
//     fire is done and recorded; a retry would only log it again. The
//     result names the decision recorded with that fire record, and its
//     task, which is what the caller answers with.
//   - For a tick: the hook has moved on since the tick read it, so
//     another tick finished the slot (or an edit rescheduled it; either
//     way this tick's advance will lose).
//   - For a tick: no fire record yet and the claim is younger than
//     inFlightFor: its attempt is still at work. The slot stays due, so
//     that if that attempt died, a later tick finishes it.
//   - For a tick: an error fire record whose decision says the slot ends
//     there (the queue refused the task; that tick advances the hook), or
//     that another tick of this moment will retry it (recorded after
//     this tick began): the retry is the next tick's.
//
// Otherwise (the queue failed an earlier tick's attempt and left the slot
// due; or an old claim without a record: its attempt died) this attempt
// re-sends the claimed task and records the outcome, as before.
func (p *pipeline) taken(ctx context.Context, a *attempt) (*ending, error) {
	tick := a.req.slot != nil && !a.req.slot.backfill
	if a.req.ReplayOf != "" {
		return nil, nil
	}
	g, h := a.def.HookGroupID, a.def.HookID
	f, err := p.store.GetLastFire(ctx, g, h, a.claim.Created, a.taskID)
	switch {
	case err == nil && f.Result == "success":
		return &ending{taken: &FireResult{AlreadyTaken: true, TaskID: f.TaskID,
			Decision: Decision{HookGroupID: g, HookID: h, DecisionID: f.DecisionID, FiredBy: f.FiredBy, TaskID: f.TaskID, Outcome: OutcomeCreated}}}, nil
	case err != nil && !errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("hooks: read fire record: %w", err)
	case !tick:
		return nil, nil
	}
	recorded := err == nil
	rec, err := p.store.GetHook(ctx, g, h)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("hooks: read hook %s/%s: %w", g, h, err)
	}
	if err != nil || rec.Version != a.req.slot.version {
		return &ending{taken: &FireResult{AlreadyTaken: true}}, nil
	}
	inFlight := &ending{taken: &FireResult{AlreadyTaken: true, inFlight: true}}
	if !recorded {
		if a.now.Sub(a.stored.CreatedAt) < inFlightFor {
			return inFlight, nil
		}
		return nil, nil
	}
	if f.DecisionID == "" {
		// The decision log is off: nothing to double.
		return nil, nil
	}
	// The queue failed the other attempt. Its decision says whether the
	// slot ends there (a refusal: that tick advances the hook) or stays
	// due, and when: a retry is the next tick's, not that of a tick
	// running at the same time.
	drec, err := p.store.GetDecision(ctx, g, h, f.DecisionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("hooks: read decision %s: %w", f.DecisionID, err)
	}
	d := decodeDecision(drec)
	switch {
	case d.Time.IsZero():
		// Unreadable (decodeDecision kept no more than its ids): fire
		// as before rather than hold the slot.
		return nil, nil
	case !d.WillRetry:
		return &ending{taken: &FireResult{AlreadyTaken: true}}, nil
	case !d.Time.Before(a.req.slot.tick):
		return inFlight, nil
	}
	return nil, nil
}
