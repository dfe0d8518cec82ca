package hooks

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/xeipuuv/gojsonschema"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/jsone"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/taskcluster"
)

// The ways a hook is fired, as upstream names them (firedBy).
const (
	FiredBySchedule             = "schedule"
	FiredByTriggerHook          = "triggerHook"
	FiredByTriggerHookWithToken = "triggerHookWithToken"
	FiredByPulseMessage         = "pulseMessage"
)

// TaskCreator creates tasks on a Taskcluster queue. CreateTask must be
// idempotent: the same taskId with an identical definition succeeds again
// without a second task (Taskcluster's queue behaves so).
type TaskCreator interface {
	CreateTask(ctx context.Context, taskID string, task json.RawMessage, authorizedScopes []string) (json.RawMessage, error)
}

// Retention of fire records and of fire claims.
const (
	lastFireRetention = 365 * 24 * time.Hour
	// A claim outlives every retry path (SQS retention is at most 14 days,
	// scheduler and client retries are minutes), so a retry always finds
	// the definition it must re-send.
	fireClaimRetention = 30 * 24 * time.Hour
	// maxStoredError bounds the error text kept in a fire record, as
	// upstream does (128 Ki characters).
	maxStoredError = 128 << 10
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

	// check says how the payload is checked before the fire: not at all
	// (schedules), against the triggerSchema (Pulse), or also for a
	// payload taskId, which then becomes the fire's taskId (API, token and
	// webhook triggers).
	check payloadCheck
	// slot is set for scheduled fires.
	slot *slotInfo
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
	// tick is when the scheduler handled it, to tell how late it is.
	tick time.Time
}

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
	// the fire got as far as a decision.
	Decision Decision
}

// FireError is a fire that failed after the hook was found: the template
// did not render, or the queue refused or could not be reached. It is
// recorded as a last fire; Kind says how API callers see it.
type FireError struct {
	// Queue is the queue's error, when the queue answered one.
	Queue *taskcluster.APIError
	// Cause is the underlying error.
	Cause error
	// HookGroupID and HookID name the hook, for the message.
	HookGroupID, HookID string
}

func (e *FireError) Error() string {
	return "fire " + e.HookGroupID + "/" + e.HookID + ": " + e.Cause.Error()
}

func (e *FireError) Unwrap() error { return e.Cause }

// Retryable reports whether trying the same fire again may succeed: the
// queue answered 5xx or could not be reached.
func (e *FireError) Retryable() bool { return taskcluster.IsRetryable(e.Cause) }

// fireClaim is what a claim remembers of a fire: the exact definition sent,
// so a retry re-sends it byte for byte.
type fireClaim struct {
	Task     json.RawMessage `json:"task,omitempty"`
	Declined bool            `json:"declined,omitempty"`
	FiredBy  string          `json:"firedBy"`
	Created  time.Time       `json:"created"`
}

// Fire renders the hook's task and creates it, at most once per taskId.
//
// The protocol (DESIGN.md, "Firing exactly once"): the taskId is decided
// first; a claim keyed by hook and taskId stores the rendered definition
// before createTask is called; a retry that finds the claim re-sends the
// stored definition, which the queue accepts as a no-op. The fire record is
// keyed by taskId and claim time, so a retry replaces it.
func (s *Service) Fire(ctx context.Context, hookGroupID, hookID string, req FireRequest) (FireResult, error) {
	rec, err := s.store.GetHook(ctx, hookGroupID, hookID)
	if err != nil {
		return FireResult{}, s.hookErr(hookGroupID, hookID, err)
	}
	def, err := decodeDefinition(rec.Definition)
	if err != nil {
		return FireResult{}, err
	}
	return s.fire(ctx, def, req)
}

func (s *Service) fire(ctx context.Context, def Definition, req FireRequest) (FireResult, error) {
	if s.queue == nil {
		return FireResult{}, errors.New("hooks: no queue configured to create tasks")
	}
	now := s.now()
	g, err := s.loadGates(ctx, def.HookGroupID, def.HookID)
	if err != nil {
		return FireResult{}, err
	}

	// The taskId is decided before anything can stop the fire, so every
	// decision names the task it was about.
	if req.check == checkSchemaAndTaskID && req.TaskID == "" {
		if obj, ok := req.Payload.(map[string]any); ok {
			if id, ok := obj["taskId"].(string); ok && id != "" && taskcluster.IsSlugID(id) {
				req.TaskID = id
			}
		}
	}
	taskID := req.TaskID
	switch {
	case taskID != "":
	case req.IdempotencyKey != "":
		taskID = derivedTaskID("idempotency", def.HookGroupID, def.HookID, req.IdempotencyKey)
	default:
		taskID = s.newID()
	}
	dec := newDecision(def, req, taskID)
	if req.slot != nil {
		at := req.slot.at.UTC()
		dec.ScheduledFor = &at
		if late := req.slot.tick.Sub(at); late > lateAfter {
			dec.Late, dec.LateSeconds = true, int64(late/time.Second)
		}
	}

	if g.pause != nil {
		dec.Outcome, dec.Pause = OutcomePaused, g.pause
		dec.Reason = "the hook was not fired: " + strings.TrimPrefix(pausedError(def, g.pause).Error(), "no task was created: ")
		dec = s.record(ctx, dec, nil)
		s.logFire(ctx, def, req.FiredBy, taskID, OutcomePaused)
		return FireResult{Decision: dec}, pausedError(def, g.pause)
	}
	if req.check != checkNone {
		if err := s.CheckPayload(def, req.Payload, req.check == checkSchemaAndTaskID); err != nil {
			var he *Error
			if errors.As(err, &he) && errors.Is(he.Kind, ErrInvalid) {
				dec.Outcome, dec.Error = OutcomeRejected, he.Message
				dec.Reason = "the payload does not match the hook's triggerSchema"
				dec = s.record(ctx, dec, nil)
				s.logFire(ctx, def, req.FiredBy, taskID, OutcomeRejected)
			}
			return FireResult{Decision: dec}, err
		}
	}

	claimKey := "fire/" + def.HookGroupID + "/" + def.HookID + "/" + taskID
	// Only a taskId that can come again (chosen by the caller, the
	// schedule, a message digest or an idempotency key) needs a claim; a
	// freshly generated one is never retried, so it skips a durable write.
	reusable := req.TaskID != "" || req.IdempotencyKey != ""

	var claim fireClaim
	found := false
	if reusable {
		var err error
		if claim, found, err = s.loadClaim(ctx, claimKey, now); err != nil {
			return FireResult{}, err
		}
	}
	if !found {
		created := req.Created
		if created.IsZero() {
			created = now
		}
		fireCtx := s.fireContext(req, taskID, created)
		// A found claim means an earlier attempt already passed the
		// filters and rendered: a retry re-sends it, whatever the
		// filters say now.
		if len(g.settings.Filters) > 0 {
			if v := s.evaluateFilters(g.settings.Filters, fireCtx, created); !v.pass {
				dec.Outcome, dec.Filter = OutcomeFiltered, v.filter
				dec.Reason = "the filter " + v.filter + " is false"
				if v.err != nil {
					dec.Reason = "the filter " + v.filter + " could not be evaluated, so the hook did not fire"
					dec.Error = v.err.Error()
				}
				dec = s.record(ctx, dec, nil)
				s.logFire(ctx, def, req.FiredBy, taskID, OutcomeFiltered)
				return FireResult{Filtered: true, Decision: dec}, nil
			}
		}
		task, declined, renderErr := s.render(def, fireCtx, taskID, created)
		if renderErr != nil {
			// A render error is deterministic: record it and stop. There
			// is nothing to claim, since no task was or will be sent.
			dec.Outcome, dec.Error = OutcomeRenderError, renderErr.Error()
			dec.Reason = "the task template did not render"
			dec = s.record(ctx, dec, lastFire(def, req.FiredBy, taskID, now, renderErr))
			s.logFire(ctx, def, req.FiredBy, taskID, OutcomeRenderError)
			return FireResult{Decision: dec}, &FireError{Cause: renderErr, HookGroupID: def.HookGroupID, HookID: def.HookID}
		}
		claim = fireClaim{Task: task, Declined: declined, FiredBy: req.FiredBy, Created: now}
		if reusable {
			var err error
			if claim, err = s.writeClaim(ctx, claimKey, claim, now); err != nil {
				return FireResult{}, err
			}
		}
	}
	if claim.Declined {
		dec.Outcome, dec.Reason = OutcomeDeclined, "the task template rendered to null, which declines the fire"
		dec = s.record(ctx, dec, nil)
		s.logFire(ctx, def, req.FiredBy, taskID, OutcomeDeclined)
		return FireResult{Declined: true, Decision: dec}, nil
	}

	if found && s.taskExists(ctx, taskID) {
		// A retry of a fire whose task the queue already has: the queue
		// would refuse a re-send once `created` is 15 minutes old, so ask
		// first and report the task as created.
		dec.Outcome, dec.Reason = OutcomeCreated, "the task already existed: an earlier attempt of this fire created it"
		dec = s.record(ctx, dec, lastFire(def, claim.FiredBy, taskID, claim.Created, nil))
		return FireResult{TaskID: taskID, Decision: dec}, nil
	}
	scopes := []string{"assume:hook-id:" + def.HookGroupID + "/" + def.HookID}
	_, qerr := s.queue.CreateTask(ctx, taskID, claim.Task, scopes)
	if qerr != nil {
		fe := &FireError{Cause: qerr, HookGroupID: def.HookGroupID, HookID: def.HookID}
		var apiErr *taskcluster.APIError
		if errors.As(qerr, &apiErr) {
			fe.Queue = apiErr
			dec.Error = fmt.Sprintf("%s (%d): %s", apiErr.Code, apiErr.StatusCode, apiErr.Message)
		} else {
			dec.Error = qerr.Error()
		}
		// Only the scheduler and the Pulse path try again by themselves.
		dec.Outcome = OutcomeQueueError
		dec.WillRetry = fe.Retryable() && req.ReplayOf == "" && (req.FiredBy == FiredBySchedule || req.FiredBy == FiredByPulseMessage)
		dec.Reason = "the queue did not create the task"
		if dec.WillRetry {
			dec.Reason += "; the same task will be sent again"
		}
		dec = s.record(ctx, dec, lastFire(def, claim.FiredBy, taskID, claim.Created, qerr))
		s.logFire(ctx, def, req.FiredBy, taskID, OutcomeQueueError)
		return FireResult{Decision: dec}, fe
	}
	dec.Outcome = OutcomeCreated
	dec = s.record(ctx, dec, lastFire(def, claim.FiredBy, taskID, claim.Created, nil))
	s.logFire(ctx, def, req.FiredBy, taskID, OutcomeCreated)
	return FireResult{TaskID: taskID, Decision: dec}, nil
}

// logFire logs a fire's outcome under upstream's "hook-fire" message.
func (s *Service) logFire(ctx context.Context, def Definition, firedBy, taskID, outcome string) {
	result := "failure"
	switch outcome {
	case OutcomeCreated:
		result = "success"
	case OutcomeDeclined, OutcomeFiltered, OutcomePaused:
		result = outcome
	}
	s.log.InfoContext(ctx, "hook-fire", "hookGroupId", def.HookGroupID, "hookId", def.HookID, "firedBy", firedBy, "taskId", taskID, "result", result, "outcome", outcome)
}

// taskExists asks the queue, when it can say, whether taskID exists.
func (s *Service) taskExists(ctx context.Context, taskID string) bool {
	reader, ok := s.queue.(TaskStatusReader)
	if !ok {
		return false
	}
	_, err := reader.Status(ctx, taskID)
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
	return taskcluster.SlugIDFromBytes(b)
}

func (s *Service) loadClaim(ctx context.Context, key string, now time.Time) (fireClaim, bool, error) {
	c, err := s.store.GetClaim(ctx, key, now)
	if errors.Is(err, store.ErrNotFound) {
		return fireClaim{}, false, nil
	}
	if err != nil {
		return fireClaim{}, false, fmt.Errorf("hooks: read fire claim: %w", err)
	}
	var fc fireClaim
	if err := json.Unmarshal(c.Body, &fc); err != nil {
		return fireClaim{}, false, fmt.Errorf("hooks: decode fire claim %s: %w", key, err)
	}
	return fc, true, nil
}

// writeClaim stores the claim; if a concurrent fire of the same taskId won
// the race, its claim is the one to follow.
func (s *Service) writeClaim(ctx context.Context, key string, fc fireClaim, now time.Time) (fireClaim, error) {
	body, err := json.Marshal(fc)
	if err != nil {
		return fireClaim{}, fmt.Errorf("hooks: encode fire claim: %w", err)
	}
	err = s.store.CreateClaim(ctx, store.Claim{Key: key, Body: body, CreatedAt: now, ExpiresAt: now.Add(fireClaimRetention)}, now)
	if errors.Is(err, store.ErrConflict) {
		winner, found, lerr := s.loadClaim(ctx, key, now)
		if lerr != nil {
			return fireClaim{}, lerr
		}
		if found {
			return winner, nil
		}
	}
	if err != nil {
		return fireClaim{}, fmt.Errorf("hooks: write fire claim: %w", err)
	}
	return fc, nil
}

// render builds the task definition: JSON-e over the hook's template with
// the upstream context, then upstream's defaults.
// fireContext is the JSON-e context of a fire, upstream's variables plus
// the request's extras. Filters and the template both see it.
func (s *Service) fireContext(req FireRequest, taskID string, created time.Time) map[string]any {
	context := map[string]any{"firedBy": req.FiredBy, "taskId": taskID, "now": isoTime(created)}
	if req.FiredBy != FiredBySchedule {
		context["payload"] = req.Payload
	}
	if req.FiredBy == FiredByTriggerHook {
		context["clientId"] = req.ClientID
	}
	for k, v := range req.Extra {
		if _, standard := context[k]; !standard && k != "clientId" && k != "payload" {
			context[k] = v
		}
	}
	return context
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (s *Service) render(def Definition, context map[string]any, taskID string, created time.Time) (json.RawMessage, bool, error) {
	compiled, err := s.template(def)
	if err != nil {
		return nil, false, err
	}
	nowISO := isoTime(created)
	out, err := compiled.Render(context, jsone.Options{Now: func() time.Time { return created }})
	if err != nil {
		return nil, false, err
	}
	if out == nil || out == false {
		return nil, true, nil
	}
	task, ok := out.(map[string]any)
	if !ok {
		return nil, false, fmt.Errorf("the task template rendered to %T, not an object", out)
	}
	setDefault(task, "created", nowISO)
	setDefault(task, "deadline", created.Add(24*time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"))
	setDefault(task, "expires", created.Add(30*24*time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"))
	setDefault(task, "taskGroupId", taskID)
	data, err := json.Marshal(task)
	if err != nil {
		return nil, false, fmt.Errorf("hooks: encode rendered task: %w", err)
	}
	return data, false, nil
}

// setDefault sets task[key] when it is missing or falsy, as upstream does.
func setDefault(task map[string]any, key string, value any) {
	switch v := task[key].(type) {
	case nil:
	case string:
		if v != "" {
			return
		}
	case bool:
		if v {
			return
		}
	case float64:
		if v != 0 {
			return
		}
	default:
		return
	}
	task[key] = value
}

// errorText is how a fire error is stored: the queue's error as pretty JSON
// (upstream's shape), anything else as its text, cut to maxStoredError.
func errorText(err error) string {
	var text string
	var apiErr *taskcluster.APIError
	if errors.As(err, &apiErr) {
		b, _ := json.MarshalIndent(map[string]any{
			"name":       "Error",
			"message":    apiErr.Message,
			"code":       apiErr.Code,
			"statusCode": apiErr.StatusCode,
			"body":       json.RawMessage(orNull(apiErr.Body)),
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

// CheckPayload validates a trigger payload against the hook's triggerSchema
// and, for API and token triggers, the optional payload taskId. It returns
// an ErrInvalid error with upstream's message forms.
func (s *Service) CheckPayload(def Definition, payload any, checkTaskID bool) error {
	compiled, err := s.triggerSchema(def)
	if err != nil {
		return err
	}
	problems, err := schemas.ValidateUser(compiled, payload)
	if err != nil {
		return fmt.Errorf("hooks: validate payload: %w", err)
	}
	if problems != "" {
		return invalid("%s", problems)
	}
	if !checkTaskID {
		return nil
	}
	if obj, ok := payload.(map[string]any); ok {
		if raw, present := obj["taskId"]; present && raw != nil && raw != false && raw != "" {
			id, isString := raw.(string)
			if !isString || !taskcluster.IsSlugID(id) {
				return invalid("Invalid taskId format: %v", raw)
			}
		}
	}
	return nil
}

// maxCached bounds each compiled-artifact cache.
const maxCached = 1024

// compiledCache keeps compiled trigger schemas and task templates by the
// hash of their JSON: compiling costs far more than using the result, and
// one compiled artifact serves every fire of a hook. Entries never go
// stale (the key is the content); the cache is emptied when full, which is
// crude but bounded, and hooks in use refill it.
type compiledCache[V any] struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]V
}

func (c *compiledCache[V]) get(content []byte, compile func() (V, error)) (V, error) {
	sum := sha256.Sum256(content)
	c.mu.Lock()
	v, ok := c.entries[sum]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := compile()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= maxCached {
		c.entries = map[[sha256.Size]byte]V{}
	}
	c.entries[sum] = v
	c.mu.Unlock()
	return v, nil
}

func (s *Service) triggerSchema(def Definition) (*gojsonschema.Schema, error) {
	return s.schemaCache.get(def.TriggerSchema, func() (*gojsonschema.Schema, error) {
		var schema map[string]any
		if err := json.Unmarshal(def.TriggerSchema, &schema); err != nil {
			return nil, fmt.Errorf("hooks: decode triggerSchema of %s/%s: %w", def.HookGroupID, def.HookID, err)
		}
		compiled, err := schemas.CompileUser(schema)
		if err != nil {
			return nil, invalid("the hook's triggerSchema cannot be used: %s", err)
		}
		return compiled, nil
	})
}

// template returns the hook's compiled task template.
func (s *Service) template(def Definition) (*jsone.Template, error) {
	return s.templateCache.get(def.Task, func() (*jsone.Template, error) {
		var tmpl any
		dec := json.NewDecoder(bytes.NewReader(def.Task))
		dec.UseNumber()
		if err := dec.Decode(&tmpl); err != nil {
			return nil, fmt.Errorf("hooks: decode task template: %w", err)
		}
		return jsone.Compile(tmpl)
	})
}
