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
// token. A missing hook is reported before a wrong token, as upstream does.
func (f *Firing) TriggerHookWithToken(ctx context.Context, hookGroupID, hookID, token string, payload any, idempotencyKey string) (FireResult, error) {
	rec, err := f.loadHook(ctx, hookGroupID, hookID)
	if err != nil {
		return FireResult{}, err
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(rec.TriggerToken)) != 1 {
		return FireResult{}, &Error{Kind: ErrUnauthorized, Message: "invalid hook token"}
	}
	def, err := decodeDefinition(rec.Definition)
	if err != nil {
		return FireResult{}, err
	}
	return f.trigger(ctx, def, FireRequest{FiredBy: FiredByTriggerHookWithToken, Payload: payload, IdempotencyKey: idempotencyKey})
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
// (getHookStatus). The next scheduled taskId is never exposed: knowing it
// would let someone create that task first.
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
	if len(def.Schedule) > 0 && !rec.NextScheduledDate.IsZero() {
		next := rec.NextScheduledDate.UTC()
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
	for i, fire := range fires {
		entries[i] = LastFireEntry{
			HookGroupID: fire.HookGroupID, HookID: fire.HookID, FiredBy: fire.FiredBy, TaskID: fire.TaskID,
			TaskCreateTime: fire.TaskCreateTime.UTC(), Result: fire.Result, Error: fire.Error, TaskState: "unknown",
		}
	}
	if f.statuses != nil {
		fillTaskStates(ctx, entries, f.statuses)
	}
	return entries, next, nil
}

// fillTaskStates asks the queue for each task's state, a few at a time and
// within a bounded time; a task the queue cannot describe stays "unknown".
func fillTaskStates(ctx context.Context, entries []LastFireEntry, statuses TaskStatusReader) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for i := range entries {
		if entries[i].Result != "success" {
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
