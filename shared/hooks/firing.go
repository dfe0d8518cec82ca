package hooks

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline/shared/store"
)

// Firing is the part of the service that fires hooks for callers of the
// hooks API (triggerHook, triggerHookWithToken) and reports a hook's fires
// (getHookStatus, listLastFires).
type Firing struct {
	*pipeline
}

// TriggerHook fires a hook for an authenticated API call (triggerHook).
func (f *Firing) TriggerHook(ctx context.Context, hookGroupID, hookID string, payload any, clientID, idempotencyKey string) (FireResult, error) {
	def, err := f.loadDefinition(ctx, hookGroupID, hookID)
	if err != nil {
		return FireResult{}, err
	}
	return f.trigger(ctx, def, FireRequest{FiredBy: FiredByTriggerHook, Payload: payload, ClientID: clientID, IdempotencyKey: idempotencyKey})
}

// TriggerHookWithToken fires a hook for a webhook call carrying its secret
// token (VerifyTriggerToken, then FireWithToken).
func (f *Firing) TriggerHookWithToken(ctx context.Context, hookGroupID, hookID, token string, payload any, idempotencyKey string) (FireResult, error) {
	t, err := f.VerifyTriggerToken(ctx, hookGroupID, hookID, token)
	if err != nil {
		return FireResult{}, err
	}
	return f.FireWithToken(ctx, t, payload, idempotencyKey)
}

// TokenTarget is a hook whose trigger token a call to the token route
// presented, verified by VerifyTriggerToken.
type TokenTarget struct {
	def Definition
}

// HookGroupID names the target hook's group.
func (t *TokenTarget) HookGroupID() string { return t.def.HookGroupID }

// HookID names the target hook.
func (t *TokenTarget) HookID() string { return t.def.HookID }

// WebhookToken is the WebhookScheme a decision records for a fire through
// upstream's token route (the token in the URL).
const WebhookToken = "token"

// VerifyTriggerToken checks a call to the token route before its body is
// read: the hook must exist (reported first, as upstream does), take
// unsigned calls, and token must be its trigger token (compared in
// constant time). A hook whose webhook settings ask for signed deliveries
// (github, hookline) refuses the token route whatever the token: its
// deliveries go to the signed webhook route, and a token seen in an old
// URL or a proxy log must not fire it. Refusals are *SignatureError values
// (ReasonSignedOnly, ReasonBadToken).
func (f *Firing) VerifyTriggerToken(ctx context.Context, hookGroupID, hookID, token string) (*TokenTarget, error) {
	var (
		settings  Settings
		settError error
		wg        sync.WaitGroup
	)
	// Both records are needed; on DynamoDB, reading them side by side
	// halves the wait.
	wg.Go(func() { settings, _, settError = f.loadSettings(ctx, hookGroupID, hookID) })
	rec, err := f.loadHook(ctx, hookGroupID, hookID)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	if settError != nil {
		return nil, settError
	}
	if w := settings.Webhook; w != nil && (w.Scheme == WebhookGitHub || w.Scheme == WebhookHookline) {
		return nil, refuse(WebhookToken, ReasonSignedOnly,
			"hook %s/%s takes signed deliveries only (webhook scheme %q): send them to its signed webhook route, POST /api/hookline/v1/hooks/%s/%s/webhook; the trigger token route is closed for it",
			hookGroupID, hookID, w.Scheme, hookGroupID, hookID)
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(rec.TriggerToken)) != 1 {
		return nil, refuse(WebhookToken, ReasonBadToken, "invalid hook token")
	}
	def, err := decodeDefinition(rec.Definition)
	if err != nil {
		return nil, err
	}
	return &TokenTarget{def: def}, nil
}

// FireWithToken fires the hook of a verified token-route call.
func (f *Firing) FireWithToken(ctx context.Context, t *TokenTarget, payload any, idempotencyKey string) (FireResult, error) {
	return f.trigger(ctx, t.def, FireRequest{FiredBy: FiredByTriggerHookWithToken, Payload: payload, IdempotencyKey: idempotencyKey, WebhookScheme: WebhookToken})
}

// trigger fires a hook for a caller with a payload: the payload is checked
// against the triggerSchema, and its taskId, if any, is the fire's.
func (f *Firing) trigger(ctx context.Context, def Definition, req FireRequest) (FireResult, error) {
	req.check = checkSchemaAndTaskID
	return f.fire(ctx, def, req)
}

// LastFireStatus is getHookStatus's lastFire.
type LastFireStatus struct {
	Result string    `json:"result"`
	TaskID string    `json:"taskId,omitempty"`
	Time   time.Time `json:"time,omitzero"`
	Error  any       `json:"error,omitempty"`
}

// HookStatus is getHookStatus's reply.
type HookStatus struct {
	LastFire          LastFireStatus `json:"lastFire"`
	NextScheduledDate *time.Time     `json:"nextScheduledDate,omitempty"`
}

// Status summarises a hook's newest fire and its next scheduled time
// (getHookStatus): when its next slot that is not excluded fires, jitter
// included. The next scheduled taskId is never exposed: knowing it would
// let someone create that task first.
func (f *Firing) Status(ctx context.Context, hookGroupID, hookID string) (HookStatus, error) {
	rec, err := f.loadHook(ctx, hookGroupID, hookID)
	if err != nil {
		return HookStatus{}, err
	}
	def, err := decodeDefinition(rec.Definition)
	if err != nil {
		return HookStatus{}, err
	}
	var st HookStatus
	if next, err := f.nextFire(ctx, rec, def); err != nil {
		return HookStatus{}, err
	} else if !next.IsZero() {
		st.NextScheduledDate = &next
	}
	fires, _, err := f.store.ListLastFires(ctx, hookGroupID, hookID, store.Page{Limit: 1})
	if err != nil {
		return HookStatus{}, fmt.Errorf("hooks: status of %s/%s: %w", hookGroupID, hookID, err)
	}
	if len(fires) == 0 {
		st.LastFire = LastFireStatus{Result: "no-fire"}
		return st, nil
	}
	last := fires[0]
	if last.Result == "success" {
		st.LastFire = LastFireStatus{Result: "success", TaskID: last.TaskID, Time: last.TaskCreateTime.UTC()}
		return st, nil
	}
	var parsed any
	if err := json.Unmarshal([]byte(last.Error), &parsed); err != nil {
		parsed = map[string]any{"message": last.Error}
	}
	st.LastFire = LastFireStatus{Result: last.Result, Error: parsed, Time: last.TaskCreateTime.UTC()}
	return st, nil
}

// nextFire is when a hook's next slot that is not excluded fires: the
// stored due time when the stored slot fires, else the first fire the
// schedule lists from that slot on; zero when nothing is scheduled.
func (f *Firing) nextFire(ctx context.Context, rec store.Hook, def Definition) (time.Time, error) {
	if rec.NextScheduledDate.IsZero() {
		return time.Time{}, nil
	}
	settings, _, err := f.loadSettings(ctx, rec.HookGroupID, rec.HookID)
	if err != nil {
		return time.Time{}, err
	}
	p, err := f.plan(def, settings.Schedule)
	if err != nil {
		return time.Time{}, err
	}
	slot := slotOf(rec)
	if _, excluded := p.excludedBy(slot); p.isSlot(slot) && !excluded {
		return rec.NextScheduledDate.UTC(), nil
	}
	if l := p.list(rec.HookGroupID, rec.HookID, slot, 1, nil); len(l.Fires) > 0 {
		return l.Fires[0].FireAt.UTC(), nil
	}
	return time.Time{}, nil
}

// LastFireEntry is one item of listLastFires.
type LastFireEntry struct {
	HookGroupID    string    `json:"hookGroupId"`
	HookID         string    `json:"hookId"`
	FiredBy        string    `json:"firedBy"`
	TaskID         string    `json:"taskId"`
	TaskCreateTime time.Time `json:"taskCreateTime"`
	Result         string    `json:"result"`
	Error          string    `json:"error"`
	TaskState      string    `json:"taskState"`
}

// MaxLastFiresPage is the largest listLastFires page, as upstream.
const MaxLastFiresPage = 1000

// ListLastFires returns one page of a hook's fires, newest first, each
// with its task's state when the queue can say. A hook that never fired
// has an empty list (upstream answers 404); a hook that does not exist is
// a not-found error.
func (f *Firing) ListLastFires(ctx context.Context, hookGroupID, hookID string, page store.Page) ([]LastFireEntry, string, error) {
	if _, err := f.loadHook(ctx, hookGroupID, hookID); err != nil {
		return nil, "", err
	}
	if page.Limit <= 0 || page.Limit > MaxLastFiresPage {
		page.Limit = MaxLastFiresPage
	}
	fires, next, err := f.store.ListLastFires(ctx, hookGroupID, hookID, page)
	if err != nil {
		if errors.Is(err, store.ErrBadToken) {
			return nil, "", invalid("Invalid continuation token")
		}
		return nil, "", fmt.Errorf("hooks: list last fires of %s/%s: %w", hookGroupID, hookID, err)
	}
	entries := make([]LastFireEntry, len(fires))
	asks := 0
	for i, fire := range fires {
		entries[i] = LastFireEntry{
			HookGroupID: fire.HookGroupID, HookID: fire.HookID, FiredBy: fire.FiredBy, TaskID: fire.TaskID,
			TaskCreateTime: fire.TaskCreateTime.UTC(), Result: fire.Result, Error: fire.Error, TaskState: "unknown",
		}
		// A recorded outcome is final: only tasks whose outcome is not
		// known yet cost a queue call.
		if fire.TaskState != "" {
			entries[i].TaskState = fire.TaskState
		} else if fire.Result == "success" {
			asks++
		}
	}
	if f.statuses != nil && asks > 0 {
		fillTaskStates(ctx, entries, fires, f.statuses)
	}
	return entries, next, nil
}

// fillTaskStates asks the queue for each task's state, a few at a time and
// within a bounded time; a task the queue cannot describe stays "unknown".
func fillTaskStates(ctx context.Context, entries []LastFireEntry, fires []store.LastFire, statuses TaskStatusReader) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range entries {
		if entries[i].Result != "success" || fires[i].TaskState != "" {
			continue
		}
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			raw, err := statuses.Status(ctx, entries[i].TaskID)
			if err != nil {
				return
			}
			entries[i].TaskState = lastRunState(raw)
		})
	}
	wg.Wait()
}

// lastRunState reads the state of the last run from a queue status reply
// ({status: {runs: [...]}} or the bare status).
func lastRunState(raw json.RawMessage) string {
	var reply struct {
		Status *struct {
			Runs []struct {
				State string `json:"state"`
			} `json:"runs"`
		} `json:"status"`
		Runs []struct {
			State string `json:"state"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(raw, &reply); err != nil {
		return "unknown"
	}
	runs := reply.Runs
	if reply.Status != nil {
		runs = reply.Status.Runs
	}
	if len(runs) == 0 || strings.TrimSpace(runs[len(runs)-1].State) == "" {
		return "unknown"
	}
	return runs[len(runs)-1].State
}
