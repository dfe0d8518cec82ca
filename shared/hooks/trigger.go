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

// TriggerHook fires a hook for an authenticated API call (triggerHook).
func (s *Service) TriggerHook(ctx context.Context, hookGroupID, hookID string, payload any, clientID, idempotencyKey string) (FireResult, error) {
	def, err := s.GetHook(ctx, hookGroupID, hookID)
	if err != nil {
		return FireResult{}, err
	}
	return s.trigger(ctx, def, FireRequest{FiredBy: FiredByTriggerHook, Payload: payload, ClientID: clientID, IdempotencyKey: idempotencyKey})
}

// TriggerHookWithToken fires a hook for a webhook call carrying its secret
// token. A missing hook is reported before a wrong token, as upstream does.
func (s *Service) TriggerHookWithToken(ctx context.Context, hookGroupID, hookID, token string, payload any, idempotencyKey string) (FireResult, error) {
	rec, err := s.store.GetHook(ctx, hookGroupID, hookID)
	if err != nil {
		return FireResult{}, s.hookErr(hookGroupID, hookID, err)
	}
	if subtle.ConstantTimeCompare([]byte(token), []byte(rec.TriggerToken)) != 1 {
		return FireResult{}, &Error{Kind: ErrUnauthorized, Message: "invalid hook token"}
	}
	def, err := decodeDefinition(rec.Definition)
	if err != nil {
		return FireResult{}, err
	}
	return s.trigger(ctx, def, FireRequest{FiredBy: FiredByTriggerHookWithToken, Payload: payload, IdempotencyKey: idempotencyKey})
}

// trigger fires a hook for a caller with a payload: the payload is checked
// against the triggerSchema, and its taskId, if any, is the fire's.
func (s *Service) trigger(ctx context.Context, def Definition, req FireRequest) (FireResult, error) {
	req.check = checkSchemaAndTaskID
	return s.fire(ctx, def, req)
}

// TriggerToken returns the hook's current trigger token.
func (s *Service) TriggerToken(ctx context.Context, hookGroupID, hookID string) (string, error) {
	rec, err := s.store.GetHook(ctx, hookGroupID, hookID)
	if err != nil {
		return "", s.hookErr(hookGroupID, hookID, err)
	}
	return rec.TriggerToken, nil
}

// ResetTriggerToken gives the hook a new token; the old one stops working
// at once.
func (s *Service) ResetTriggerToken(ctx context.Context, hookGroupID, hookID string) (string, error) {
	for attempt := 0; ; attempt++ {
		rec, err := s.store.GetHook(ctx, hookGroupID, hookID)
		if err != nil {
			return "", s.hookErr(hookGroupID, hookID, err)
		}
		rec.TriggerToken = s.newID()
		_, err = s.store.UpdateHook(ctx, rec)
		if errors.Is(err, store.ErrConflict) && attempt < 4 {
			continue
		}
		if err != nil {
			return "", s.hookErr(hookGroupID, hookID, err)
		}
		s.log.InfoContext(ctx, "trigger token reset", "hookGroupId", hookGroupID, "hookId", hookID)
		return rec.TriggerToken, nil
	}
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
func (s *Service) Status(ctx context.Context, hookGroupID, hookID string) (HookStatus, error) {
	rec, err := s.store.GetHook(ctx, hookGroupID, hookID)
	if err != nil {
		return HookStatus{}, s.hookErr(hookGroupID, hookID, err)
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
	fires, _, err := s.store.ListLastFires(ctx, hookGroupID, hookID, store.Page{Limit: 1})
	if err != nil {
		return HookStatus{}, fmt.Errorf("hooks: status of %s/%s: %w", hookGroupID, hookID, err)
	}
	if len(fires) == 0 {
		st.LastFire = LastFireStatus{Result: "no-fire"}
		return st, nil
	}
	f := fires[0]
	if f.Result == "success" {
		st.LastFire = LastFireStatus{Result: "success", TaskID: f.TaskID, Time: f.TaskCreateTime.UTC()}
		return st, nil
	}
	var parsed any
	if err := json.Unmarshal([]byte(f.Error), &parsed); err != nil {
		parsed = map[string]any{"message": f.Error}
	}
	st.LastFire = LastFireStatus{Result: f.Result, Error: parsed, Time: f.TaskCreateTime.UTC()}
	return st, nil
}

// TaskStatusReader reads a task's status from the queue, for the taskState
// of listLastFires. Optional: without it every state is "unknown".
type TaskStatusReader interface {
	Status(ctx context.Context, taskID string) (json.RawMessage, error)
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

// ListLastFires returns one page of a hook's fires, newest first. A hook
// that never fired has an empty list (upstream answers 404); a hook that
// does not exist is a not-found error.
func (s *Service) ListLastFires(ctx context.Context, hookGroupID, hookID string, page store.Page, statuses TaskStatusReader) ([]LastFireEntry, string, error) {
	if _, err := s.store.GetHook(ctx, hookGroupID, hookID); err != nil {
		return nil, "", s.hookErr(hookGroupID, hookID, err)
	}
	if page.Limit <= 0 || page.Limit > MaxLastFiresPage {
		page.Limit = MaxLastFiresPage
	}
	fires, next, err := s.store.ListLastFires(ctx, hookGroupID, hookID, page)
	if err != nil {
		if errors.Is(err, store.ErrBadToken) {
			return nil, "", invalid("Invalid continuation token")
		}
		return nil, "", fmt.Errorf("hooks: list last fires of %s/%s: %w", hookGroupID, hookID, err)
	}
	entries := make([]LastFireEntry, len(fires))
	for i, f := range fires {
		entries[i] = LastFireEntry{
			HookGroupID: f.HookGroupID, HookID: f.HookID, FiredBy: f.FiredBy, TaskID: f.TaskID,
			TaskCreateTime: f.TaskCreateTime.UTC(), Result: f.Result, Error: f.Error, TaskState: "unknown",
		}
	}
	if statuses != nil {
		s.fillTaskStates(ctx, entries, statuses)
	}
	return entries, next, nil
}

// fillTaskStates asks the queue for each task's state, a few at a time and
// within a bounded time; a task the queue cannot describe stays "unknown".
func (s *Service) fillTaskStates(ctx context.Context, entries []LastFireEntry, statuses TaskStatusReader) {
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
