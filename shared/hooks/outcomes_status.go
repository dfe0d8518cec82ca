package hooks

import (
	"context"
	"fmt"
	"time"

	"github.com/hookline/hookline/shared/store"
)

// HookOutcomeStatus is the status extension's answer (GET
// /api/hookline/v1/hooks/<g>/<h>/status): getHookStatus's, with the
// outcome of the last fire's task once known, and the newest fire whose
// task's outcome is known.
type HookOutcomeStatus struct {
	LastFire          LastFireOutcome `json:"lastFire"`
	NextScheduledDate *time.Time      `json:"nextScheduledDate,omitempty"`
	LastOutcome       *FireOutcome    `json:"lastOutcome,omitempty"`
}

// LastFireOutcome is getHookStatus's lastFire with its task's outcome.
type LastFireOutcome struct {
	LastFireStatus
	Task *TaskOutcome `json:"task,omitempty"`
}

// FireOutcome is a fire and how its task ended.
type FireOutcome struct {
	TaskID  string       `json:"taskId"`
	Time    time.Time    `json:"time"`
	FiredBy string       `json:"firedBy"`
	Task    *TaskOutcome `json:"task"`
}

// outcomeScan bounds the fire records the status extension reads to find
// the newest known outcome.
const outcomeScan = 100

// StatusWithOutcomes is Status with the outcomes of the hook's tasks, from
// the fire records: no queue call.
func (f *Firing) StatusWithOutcomes(ctx context.Context, hookGroupID, hookID string) (HookOutcomeStatus, error) {
	st, err := f.Status(ctx, hookGroupID, hookID)
	if err != nil {
		return HookOutcomeStatus{}, err
	}
	out := HookOutcomeStatus{LastFire: LastFireOutcome{LastFireStatus: st.LastFire}, NextScheduledDate: st.NextScheduledDate}
	fires, _, err := f.store.ListLastFires(ctx, hookGroupID, hookID, store.Page{Limit: outcomeScan})
	if err != nil {
		return HookOutcomeStatus{}, fmt.Errorf("hooks: status of %s/%s: %w", hookGroupID, hookID, err)
	}
	for i, fire := range fires {
		if fire.TaskState == "" {
			continue
		}
		task := &TaskOutcome{State: fire.TaskState, ReasonResolved: fire.TaskReason, RunID: fire.TaskRunID, Resolved: fire.TaskResolved.UTC()}
		if i == 0 {
			out.LastFire.Task = task
		}
		out.LastOutcome = &FireOutcome{TaskID: fire.TaskID, Time: fire.TaskCreateTime.UTC(), FiredBy: fire.FiredBy, Task: task}
		break
	}
	return out, nil
}
