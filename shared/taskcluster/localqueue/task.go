package localqueue

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/taskcluster"
)

// jsTime is how JavaScript's Date.prototype.toJSON writes times, which is
// how the queue stores and returns them.
const jsTime = "2006-01-02T15:04:05.000Z"

// Limits of patchAndValidateTaskDef upstream.
const (
	clockDrift  = 15 * time.Minute
	maxDeadline = 5 * 24 * time.Hour
)

// definition is a task as the queue stores and returns it (task.json), in
// upstream's field order. Payload, metadata, tags and extra are decoded
// JSON values, so encoding them sorts object keys: equal definitions
// encode to equal bytes.
type definition struct {
	ProvisionerID string   `json:"provisionerId"`
	WorkerType    string   `json:"workerType"`
	TaskQueueID   string   `json:"taskQueueId"`
	SchedulerID   string   `json:"schedulerId"`
	ProjectID     string   `json:"projectId"`
	TaskGroupID   string   `json:"taskGroupId"`
	Dependencies  []string `json:"dependencies"`
	Requires      string   `json:"requires"`
	Routes        []string `json:"routes"`
	Priority      string   `json:"priority"`
	Retries       int      `json:"retries"`
	Created       string   `json:"created"`
	Deadline      string   `json:"deadline"`
	Expires       string   `json:"expires"`
	Scopes        []string `json:"scopes"`
	Payload       any      `json:"payload"`
	Metadata      any      `json:"metadata"`
	Tags          any      `json:"tags"`
	Extra         any      `json:"extra"`

	deadline, expires time.Time
}

// status is task-status.json.
type status struct {
	TaskID        string `json:"taskId"`
	ProvisionerID string `json:"provisionerId"`
	WorkerType    string `json:"workerType"`
	TaskQueueID   string `json:"taskQueueId"`
	SchedulerID   string `json:"schedulerId"`
	ProjectID     string `json:"projectId"`
	TaskGroupID   string `json:"taskGroupId"`
	Deadline      string `json:"deadline"`
	Expires       string `json:"expires"`
	RetriesLeft   int    `json:"retriesLeft"`
	State         string `json:"state"`
	Runs          []run  `json:"runs"`
}

// run is one entry of status.runs.
type run struct {
	RunID          int    `json:"runId"`
	State          string `json:"state"`
	ReasonCreated  string `json:"reasonCreated"`
	ReasonResolved string `json:"reasonResolved,omitempty"`
	// WorkerGroup, WorkerID, TakenUntil and Started are set once a
	// worker claims the run (worker.go).
	WorkerGroup string `json:"workerGroup,omitempty"`
	WorkerID    string `json:"workerId,omitempty"`
	TakenUntil  string `json:"takenUntil,omitempty"`
	Scheduled   string `json:"scheduled"`
	Started     string `json:"started,omitempty"`
	Resolved    string `json:"resolved,omitempty"`
}

// newStatus is the status of a task just created at now: pending with run
// 0, or unscheduled while it waits for dependencies.
func newStatus(taskID string, d *definition, now time.Time) status {
	s := status{
		TaskID: taskID, ProvisionerID: d.ProvisionerID, WorkerType: d.WorkerType, TaskQueueID: d.TaskQueueID,
		SchedulerID: d.SchedulerID, ProjectID: d.ProjectID, TaskGroupID: d.TaskGroupID,
		Deadline: d.Deadline, Expires: d.Expires, RetriesLeft: d.Retries,
		State: "unscheduled", Runs: []run{},
	}
	if len(d.Dependencies) == 0 {
		s.State = "pending"
		s.Runs = []run{{RunID: 0, State: "pending", ReasonCreated: "scheduled", Scheduled: now.UTC().Format(jsTime)}}
	}
	return s
}

// resolveDeadline reports s as upstream's deadline resolver leaves a task
// that nothing resolved before its deadline: the pending or running run
// (or, with no run, a new one) becomes exception/deadline-exceeded at the
// deadline.
func (s *status) resolveDeadline(now time.Time) {
	deadline, err := time.Parse(time.RFC3339Nano, s.Deadline)
	if err != nil || !now.After(deadline) || (s.State != "pending" && s.State != "unscheduled" && s.State != "running") {
		return
	}
	if len(s.Runs) == 0 {
		s.Runs = append(s.Runs, run{RunID: 0, ReasonCreated: "exception", Scheduled: s.Deadline})
	}
	last := &s.Runs[len(s.Runs)-1]
	last.State, last.ReasonResolved, last.Resolved = "exception", "deadline-exceeded", s.Deadline
	s.State = "exception"
}

// parseBody decodes a createTask body as lib-api does: an empty body is
// {}, anything but a JSON object is MalformedPayload. Numbers become
// float64, as in JavaScript.
func parseBody(body []byte) (map[string]any, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return map[string]any{}, nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if dec.More() {
		return nil, errors.New("unexpected data after the JSON value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("the body must be a JSON object")
	}
	return m, nil
}

// buildDefinition turns a schema-valid, defaulted createTask body into the
// definition to store, applying upstream's queue-identifier rules. It does
// not check dates (patch does, after authorization, as upstream).
func buildDefinition(doc map[string]any) (definition, *failure) {
	d := definition{
		ProvisionerID: str(doc, "provisionerId"),
		WorkerType:    str(doc, "workerType"),
		TaskQueueID:   str(doc, "taskQueueId"),
		SchedulerID:   str(doc, "schedulerId"),
		ProjectID:     str(doc, "projectId"),
		TaskGroupID:   str(doc, "taskGroupId"),
		Dependencies:  strs(doc, "dependencies"),
		Requires:      str(doc, "requires"),
		Routes:        strs(doc, "routes"),
		Priority:      str(doc, "priority"),
		Created:       str(doc, "created"),
		Deadline:      str(doc, "deadline"),
		Expires:       str(doc, "expires"),
		Scopes:        strs(doc, "scopes"),
		Payload:       doc["payload"],
		Metadata:      doc["metadata"],
		Tags:          doc["tags"],
		Extra:         doc["extra"],
	}
	if f, ok := doc["retries"].(float64); ok {
		d.Retries = int(f)
	}
	switch {
	case d.ProvisionerID != "" && d.WorkerType != "" && d.TaskQueueID != "":
		if d.ProvisionerID+"/"+d.WorkerType != d.TaskQueueID {
			return d, &failure{http.StatusBadRequest, taskcluster.CodeInputError, `taskQueueId must match "provisionerId/workerType"`}
		}
	case d.ProvisionerID != "" && d.WorkerType != "":
		d.TaskQueueID = d.ProvisionerID + "/" + d.WorkerType
	case d.TaskQueueID != "":
		d.ProvisionerID, d.WorkerType, _ = strings.Cut(d.TaskQueueID, "/")
	default:
		return d, &failure{http.StatusBadRequest, taskcluster.CodeInputError, "at least a provisionerId and a workerType or a taskQueueId must be provided"}
	}
	if d.ProjectID == "" {
		d.ProjectID = "none"
	}
	return d, nil
}

// requiredScopes is createTask's scope expression for d.
func (d *definition) requiredScopes() auth.Expr {
	return taskcluster.CreateTaskScopes(taskcluster.TaskScopeFields{
		Scopes: d.Scopes, Routes: d.Routes, ProjectID: d.ProjectID, SchedulerID: d.SchedulerID,
		Priority: d.Priority, ProvisionerID: d.ProvisionerID, WorkerType: d.WorkerType,
	})
}

// patch fills taskGroupId and expires and checks the dates against now, as
// upstream's patchAndValidateTaskDef does, normalizing every date to
// toJSON's form so that idempotent calls compare equal.
func (d *definition) patch(taskID string, now time.Time) *failure {
	if d.TaskGroupID == "" {
		d.TaskGroupID = taskID
	}
	created, err1 := parseTime(d.Created)
	deadline, err2 := parseTime(d.Deadline)
	if err := errors.Join(err1, err2); err != nil {
		return &failure{http.StatusBadRequest, taskcluster.CodeInputError, err.Error()}
	}
	switch {
	case created.Before(now.Add(-clockDrift)):
		return &failure{http.StatusBadRequest, taskcluster.CodeInputError, "`created` cannot be in the past (max 15min drift)"}
	case created.After(now.Add(clockDrift)):
		return &failure{http.StatusBadRequest, taskcluster.CodeInputError, "`created` cannot be in the future (max 15min drift)"}
	case created.After(deadline):
		return &failure{http.StatusBadRequest, taskcluster.CodeInputError, "`deadline` cannot be later than `created`"}
	case deadline.Before(now):
		return &failure{http.StatusBadRequest, taskcluster.CodeInputError, "`deadline` cannot be in the past"}
	case deadline.Sub(now) > maxDeadline+clockDrift:
		return &failure{http.StatusBadRequest, taskcluster.CodeInputError, "`deadline` cannot be more than 5 days into the future"}
	}
	expires := deadline.AddDate(1, 0, 0)
	if d.Expires != "" {
		var err error
		if expires, err = parseTime(d.Expires); err != nil {
			return &failure{http.StatusBadRequest, taskcluster.CodeInputError, err.Error()}
		}
	}
	if deadline.After(expires) {
		return &failure{http.StatusBadRequest, taskcluster.CodeInputError, "`expires` cannot be before `deadline`"}
	}
	d.Created, d.Deadline, d.Expires = created.Format(jsTime), deadline.Format(jsTime), expires.Format(jsTime)
	d.deadline, d.expires = deadline, expires
	for _, s := range d.Scopes {
		if strings.HasSuffix(s, "**") {
			return &failure{http.StatusBadRequest, taskcluster.CodeInputError, "scopes must not end with `**`"}
		}
	}
	return nil
}

// parseTime reads a schema-checked date-time the way JavaScript's Date
// does: to the millisecond, in UTC.
func parseTime(s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("invalid date-time %q", s)
	}
	return t.UTC().Truncate(time.Millisecond), nil
}

// encodeJSON encodes v compactly without HTML escaping (JSON.stringify
// leaves <, > and & alone).
func encodeJSON(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

func str(doc map[string]any, key string) string {
	s, _ := doc[key].(string)
	return s
}

func strs(doc map[string]any, key string) []string {
	items, _ := doc[key].([]any)
	out := make([]string, 0, len(items))
	for _, it := range items {
		if s, ok := it.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// validationMessage words a schema failure as the hooks API does.
func validationMessage(err error) string {
	var ve *schemas.ValidationError
	if !errors.As(err, &ve) {
		return "Schema validation error: " + err.Error()
	}
	var b strings.Builder
	b.WriteString("Schema validation error:\n")
	for _, p := range ve.Problems {
		b.WriteString(" * " + p + "\n")
	}
	if more := ve.MoreLine(); more != "" {
		b.WriteString(more + "\n")
	}
	return b.String()
}
