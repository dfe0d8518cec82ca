package hooks

import "time"

// The states a resolved task ends in, as the queue names them.
const (
	TaskCompleted = "completed"
	TaskFailed    = "failed"
	TaskException = "exception"
)

// TaskOutcome is how a task a fire created ended, as the queue reported
// it: the state and reason of its last run.
type TaskOutcome struct {
	// State is completed, failed or exception.
	State string `json:"state"`
	// ReasonResolved is the last run's reason (e.g. deadline-exceeded,
	// canceled, malformed-payload); for completed and failed runs it is
	// the state again.
	ReasonResolved string `json:"reasonResolved,omitempty"`
	// RunID is the run that resolved the task.
	RunID int `json:"runId"`
	// Resolved is when the queue resolved the run.
	Resolved time.Time `json:"resolved,omitzero"`
	// Recorded is when Hookline learned of it; Source says how: "event"
	// (the queue's Pulse message) or "poll" (a status read).
	Recorded time.Time `json:"recorded"`
	Source   string    `json:"source"`
}
