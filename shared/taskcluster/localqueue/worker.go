package localqueue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/slugid"
	"github.com/hookline/hookline/shared/taskcluster"
)

// The worker side of the queue, as Taskcluster's queue defines it
// (services/queue/src/api.js), so that a worker can run the tasks hooks
// create under `hookline serve`:
//
//	POST /claim-work/<provisionerId>/<workerType>          claimWork
//	POST /task/<taskId>/runs/<runId>/reclaim               reclaimTask
//	POST /task/<taskId>/runs/<runId>/completed             reportCompleted
//	POST /task/<taskId>/runs/<runId>/failed                reportFailed
//	POST /task/<taskId>/runs/<runId>/exception             reportException
//
// claimWork needs queue:claim-work:<provisionerId>/<workerType> and
// queue:worker-id:<workerGroup>/<workerId>; it claims pending tasks of the
// task queue, highest priority then oldest first, and answers each with
// temporary credentials for the run (queue:reclaim-task, resolve-task and
// create-artifact for <taskId>/<runId>, plus the task's scopes). With no
// pending task it waits for one up to ClaimWait. The reports need
// queue:resolve-task:<taskId>/<runId>, which those credentials hold. A
// report of the state the run is already in answers as the first did;
// any other report on a run that is not running is 409 RequestConflict.
// reportException with worker-shutdown or intermittent-task starts a new
// pending run while retries are left, as upstream; any other reason
// resolves the task. Claims do not expire here (no claim resolver runs):
// a claimed task stays running until reported or past its deadline.

const (
	defaultClaimTimeout = 20 * time.Minute
	defaultClaimWait    = 20 * time.Second
	maxClaimTasks       = 32
)

// identifierPattern is Taskcluster's workerGroup and workerId pattern.
var identifierPattern = regexp.MustCompile(`^[a-zA-Z0-9-_]{1,38}$`)

// exceptionReasons are the reasons reportException takes.
var exceptionReasons = []string{"worker-shutdown", "malformed-payload", "resource-unavailable", "internal-error", "superseded", "intermittent-task"}

// priorityRank orders priorities for claiming, highest first.
var priorityRank = map[string]byte{"highest": '0', "very-high": '1', "high": '2', "medium": '3', "low": '4', "very-low": '5', "lowest": '6', "normal": '6'}

// pendingKey is a task's entry in bucket "pending": its task queue, then
// priority and creation time, so a cursor meets the tasks to claim first.
func pendingKey(taskQueueID, priority, created, taskID string) []byte {
	rank, ok := priorityRank[priority]
	if !ok {
		rank = '6'
	}
	return []byte(taskQueueID + "\x00" + string(rank) + "\x00" + created + "\x00" + taskID)
}

// workSignal wakes claimWork calls waiting for work.
type workSignal struct {
	mu sync.Mutex
	ch chan struct{}
}

func newWorkSignal() *workSignal { return &workSignal{ch: make(chan struct{})} }

func (w *workSignal) wait() <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.ch
}

func (w *workSignal) signal() {
	w.mu.Lock()
	close(w.ch)
	w.ch = make(chan struct{})
	w.mu.Unlock()
}

// ClaimedTask is one entry of claimWork's answer (claim-work-response).
type ClaimedTask struct {
	Status      json.RawMessage `json:"status"`
	RunID       int             `json:"runId"`
	WorkerGroup string          `json:"workerGroup"`
	WorkerID    string          `json:"workerId"`
	TakenUntil  string          `json:"takenUntil"`
	Task        json.RawMessage `json:"task"`
	Credentials TaskCredentials `json:"credentials"`
}

// TaskCredentials are a run's temporary credentials (task-credentials.json).
type TaskCredentials struct {
	ClientID    string `json:"clientId"`
	AccessToken string `json:"accessToken"`
	Certificate string `json:"certificate"`
}

// ClaimWork claims up to count pending tasks of provisionerID/workerType
// for a worker, waiting up to ClaimWait for one if none is pending, and
// returns {"tasks": [...]} as claimWork does. Scopes are the caller's
// business (the handler checks them).
func (q *Queue) ClaimWork(ctx context.Context, provisionerID, workerType, workerGroup, workerID string, count int) (json.RawMessage, error) {
	taskQueueID := provisionerID + "/" + workerType
	if q.issuer.ClientID == "" || q.issuer.AccessToken == "" {
		return nil, fmt.Errorf("localqueue: claimWork: no issuer of task credentials (Options.Issuer)")
	}
	wait := time.NewTimer(q.waitFor)
	defer wait.Stop()
	for {
		woken := q.work.wait()
		claimed, err := q.claim(taskQueueID, workerGroup, workerID, count)
		if err != nil {
			return nil, fmt.Errorf("localqueue: claimWork: %w", err)
		}
		if len(claimed) > 0 {
			return encodeJSON(map[string]any{"tasks": claimed})
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("localqueue: claimWork: %w", ctx.Err())
		case <-wait.C:
			return encodeJSON(map[string]any{"tasks": []ClaimedTask{}})
		case <-woken:
		}
	}
}

// claim takes up to count pending tasks of a task queue in one write.
func (q *Queue) claim(taskQueueID, workerGroup, workerID string, count int) ([]ClaimedTask, error) {
	now := q.now()
	takenUntil := now.Add(q.claimFor)
	var claimed []ClaimedTask
	err := q.writes.Do(func(tx *bolt.Tx) error {
		claimed = claimed[:0]
		pending, tasks := q.bucket(tx, bucketPending), q.bucket(tx, bucketTasks)
		prefix := []byte(taskQueueID + "\x00")
		var drop [][]byte
		c := pending.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix) && len(claimed) < count; k, _ = c.Next() {
			taskID := string(k[bytes.LastIndexByte(k, 0)+1:])
			drop = append(drop, bytes.Clone(k))
			rec := tasks.Get([]byte(taskID))
			if rec == nil {
				continue
			}
			st, def, err := decodeRecord(rec)
			if err != nil {
				return err
			}
			st.resolveDeadline(now)
			if st.State != "pending" || len(st.Runs) == 0 || st.Runs[len(st.Runs)-1].State != "pending" {
				continue // past its deadline, or no longer pending
			}
			r := &st.Runs[len(st.Runs)-1]
			r.State, r.WorkerGroup, r.WorkerID = "running", workerGroup, workerID
			r.TakenUntil, r.Started = takenUntil.UTC().Format(jsTime), now.UTC().Format(jsTime)
			st.State = "running"
			statusJSON, err := putRecord(tasks, taskID, st, def)
			if err != nil {
				return err
			}
			claimed = append(claimed, ClaimedTask{Status: statusJSON, RunID: r.RunID, WorkerGroup: workerGroup, WorkerID: workerID,
				TakenUntil: r.TakenUntil, Task: bytes.Clone(def)})
		}
		for _, k := range drop {
			if err := pending.Delete(k); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range claimed {
		creds, err := q.runCredentials(claimed[i], now, takenUntil)
		if err != nil {
			return nil, err
		}
		claimed[i].Credentials = creds
	}
	return claimed, nil
}

// runCredentials issues the temporary credentials of a claimed run, as
// upstream's task-creds.js names and scopes them.
func (q *Queue) runCredentials(c ClaimedTask, now, takenUntil time.Time) (TaskCredentials, error) {
	var st struct {
		TaskID string `json:"taskId"`
	}
	var def struct {
		Scopes []string `json:"scopes"`
	}
	if err := errors.Join(json.Unmarshal(c.Status, &st), json.Unmarshal(c.Task, &def)); err != nil {
		return TaskCredentials{}, err
	}
	run := st.TaskID + "/" + strconv.Itoa(c.RunID)
	name := strings.Join([]string{"task-client", st.TaskID, strconv.Itoa(c.RunID), "on", c.WorkerGroup, c.WorkerID,
		"until", strconv.FormatFloat(float64(takenUntil.UnixMilli())/1000, 'f', -1, 64)}, "/")
	scopes := append([]string{"queue:reclaim-task:" + run, "queue:resolve-task:" + run, "queue:create-artifact:" + run}, def.Scopes...)
	creds, err := auth.CreateNamedTemporaryCredentials(q.issuer, name, scopes, now.Add(-time.Minute), takenUntil)
	return TaskCredentials{ClientID: creds.ClientID, AccessToken: creds.AccessToken, Certificate: creds.Certificate}, err
}

func decodeRecord(rec []byte) (status, []byte, error) {
	data, def := splitRecord(rec)
	var st status
	if err := json.Unmarshal(data, &st); err != nil {
		return status{}, nil, fmt.Errorf("decode status: %w", err)
	}
	return st, bytes.Clone(def), nil
}

// putRecord stores a task's status beside its definition and returns the
// status written.
func putRecord(tasks *bolt.Bucket, taskID string, st status, def []byte) ([]byte, error) {
	statusJSON, err := encodeJSON(st)
	if err != nil {
		return nil, err
	}
	rec := make([]byte, 0, len(statusJSON)+1+len(def))
	rec = append(append(append(rec, statusJSON...), '\n'), def...)
	return statusJSON, tasks.Put([]byte(taskID), rec)
}

// runReport is a worker's report about one run.
type runReport struct {
	method string // reportCompleted, reportFailed, reportException, reclaimTask
	target string // completed, failed, exception
	reason string // reportException's
}

// Report resolves a run as reportCompleted, reportFailed or
// reportException do, and returns {"status": ...}.
func (q *Queue) Report(ctx context.Context, taskID string, runID int, target, reason string) (json.RawMessage, error) {
	rep := runReport{method: map[string]string{"completed": "reportCompleted", "failed": "reportFailed", "exception": "reportException"}[target], target: target, reason: reason}
	if rep.method == "" {
		return nil, fmt.Errorf("localqueue: unknown resolution %q", target)
	}
	out, _, err := q.report(ctx, taskID, runID, rep, nil)
	return out, err
}

// report applies rep to run runID of taskID. authorize, when not nil,
// checks the caller against the run's scope expression once the run is
// known (as upstream authorizes after loading the task).
func (q *Queue) report(ctx context.Context, taskID string, runID int, rep runReport, authorize func(auth.Expr) *failure) (json.RawMessage, *status, error) {
	now := q.now()
	c := call{method: rep.method, taskID: taskID, now: now}
	if err := ctx.Err(); err != nil {
		return nil, nil, fmt.Errorf("localqueue: %s %s: %w", rep.method, taskID, err)
	}
	if !slugid.Valid(taskID) {
		return nil, nil, c.apiError(badTaskID(taskID))
	}
	var (
		f          *failure
		out        []byte
		final      status
		resolved   bool
		newPending bool
	)
	err := q.writes.Do(func(tx *bolt.Tx) error {
		f, out, resolved, newPending = nil, nil, false, false
		tasks := q.bucket(tx, bucketTasks)
		rec := tasks.Get([]byte(taskID))
		if rec == nil {
			f = &failure{http.StatusNotFound, taskcluster.CodeResourceNotFound, "Task `" + taskID + "` not found. Are you sure it was created?"}
			return nil
		}
		st, d, err := decodeRecord(rec)
		if err != nil {
			return err
		}
		if runID < 0 || runID >= len(st.Runs) {
			f = &failure{http.StatusNotFound, taskcluster.CodeResourceNotFound, fmt.Sprintf("Run %d not found on task `%s`.", runID, taskID)}
			return nil
		}
		if authorize != nil {
			if f = authorize(auth.Scope("queue:" + map[bool]string{true: "reclaim", false: "resolve"}[rep.method == "reclaimTask"] + "-task:" + taskID + "/" + strconv.Itoa(runID))); f != nil {
				return nil
			}
		}
		st.resolveDeadline(now)
		r := &st.Runs[runID]
		if rep.method == "reclaimTask" {
			if runID != len(st.Runs)-1 || r.State != "running" {
				f = &failure{http.StatusConflict, taskcluster.CodeRequestConflict, fmt.Sprintf("Run %d on task `%s` is resolved or not running.", runID, taskID)}
				return nil
			}
			r.TakenUntil = now.Add(q.claimFor).UTC().Format(jsTime)
			out, err = putRecord(tasks, taskID, st, d)
			final = st
			return err
		}
		wantReason := rep.target
		if rep.target == "exception" {
			wantReason = rep.reason
		}
		switch {
		case r.State == rep.target && r.ReasonResolved == wantReason:
			// Repeated: the same answer, as upstream.
			out, err = encodeJSON(st)
			final, resolved = st, runID == len(st.Runs)-1
			return err
		case r.State != "running" || runID != len(st.Runs)-1:
			f = &failure{http.StatusConflict, taskcluster.CodeRequestConflict, fmt.Sprintf("Run %d on task `%s` is resolved or not running.", runID, taskID)}
			return nil
		}
		r.State, r.ReasonResolved, r.Resolved = rep.target, wantReason, now.UTC().Format(jsTime)
		st.State = rep.target
		retry := map[string]string{"worker-shutdown": "retry", "intermittent-task": "task-retry"}[rep.reason]
		if rep.target == "exception" && retry != "" && st.RetriesLeft > 0 {
			st.RetriesLeft--
			st.Runs = append(st.Runs, run{RunID: runID + 1, State: "pending", ReasonCreated: retry, Scheduled: now.UTC().Format(jsTime)})
			st.State = "pending"
			var dd definition
			if err := json.Unmarshal(d, &dd); err != nil {
				return err
			}
			if err := q.bucket(tx, bucketPending).Put(pendingKey(dd.TaskQueueID, dd.Priority, r.Resolved, taskID), nil); err != nil {
				return err
			}
			newPending = true
		} else {
			resolved = true
		}
		out, err = putRecord(tasks, taskID, st, d)
		final = st
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("localqueue: %s %s: %w", rep.method, taskID, err)
	}
	if f != nil {
		return nil, nil, c.apiError(f)
	}
	if newPending {
		q.work.signal()
	}
	resp := statusResponse(out)
	if resolved && q.resolved != nil {
		q.resolved(ctx, taskID, json.RawMessage(out))
	}
	return resp, &final, nil
}

// claimWork serves POST /claim-work/<provisionerId>/<workerType>.
func (h *handler) claimWork(w http.ResponseWriter, r *http.Request, provisionerID, workerType string) {
	c := call{method: "claimWork", now: h.q.now()}
	body, caller, ok := h.readWorkerRequest(w, r, c)
	if !ok {
		return
	}
	var in struct {
		WorkerGroup string `json:"workerGroup"`
		WorkerID    string `json:"workerId"`
		Tasks       *int   `json:"tasks"`
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		h.fail(w, c, c.apiError(&failure{http.StatusBadRequest, taskcluster.CodeInputValidationError, "Schema validation error: " + err.Error()}))
		return
	}
	count := 1
	if in.Tasks != nil {
		count = *in.Tasks
	}
	switch {
	case !identifierPattern.MatchString(in.WorkerGroup) || !identifierPattern.MatchString(in.WorkerID):
		h.fail(w, c, c.apiError(&failure{http.StatusBadRequest, taskcluster.CodeInputValidationError, "Schema validation error:\n * workerGroup and workerId are required: 1 to 38 of a-z A-Z 0-9 - _\n"}))
		return
	case count < 1 || count > maxClaimTasks:
		h.fail(w, c, c.apiError(&failure{http.StatusBadRequest, taskcluster.CodeInputValidationError, "Schema validation error:\n * tasks must be from 1 to 32\n"}))
		return
	case !identifierPattern.MatchString(provisionerID) || !identifierPattern.MatchString(workerType):
		h.fail(w, c, c.apiError(&failure{http.StatusBadRequest, taskcluster.CodeInvalidRequestArguments, "provisionerId and workerType must be 1 to 38 of a-z A-Z 0-9 - _"}))
		return
	}
	required := auth.AllOf(auth.Scope("queue:claim-work:"+provisionerID+"/"+workerType), auth.Scope("queue:worker-id:"+in.WorkerGroup+"/"+in.WorkerID))
	if !required.SatisfiedBy(caller.Scopes) {
		h.fail(w, c, c.apiError(insufficientScopes(caller.ClientID, caller.Authenticated, false, caller.Scopes, required)))
		return
	}
	out, err := h.q.ClaimWork(r.Context(), provisionerID, workerType, in.WorkerGroup, in.WorkerID, count)
	h.answer(w, r, c, out, err)
}

// runReport serves POST /task/<taskId>/runs/<runId>/<action>.
func (h *handler) runReport(w http.ResponseWriter, r *http.Request, taskID, runIDText, action string) {
	rep := map[string]runReport{
		"completed": {method: "reportCompleted", target: "completed"},
		"failed":    {method: "reportFailed", target: "failed"},
		"exception": {method: "reportException", target: "exception"},
		"reclaim":   {method: "reclaimTask"},
	}[action]
	c := call{method: rep.method, taskID: taskID, now: h.q.now()}
	body, caller, ok := h.readWorkerRequest(w, r, c)
	if !ok {
		return
	}
	runID, err := strconv.Atoi(runIDText)
	if err != nil || runID < 0 || runIDText != strconv.Itoa(runID) {
		h.fail(w, c, c.apiError(&failure{http.StatusBadRequest, taskcluster.CodeInvalidRequestArguments, "URL parameter 'runId' given as '" + runIDText + "' must match regular expression: '/^[1-9]*[0-9]+$/'"}))
		return
	}
	if action == "exception" {
		var in struct {
			Reason string `json:"reason"`
		}
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&in); err != nil || !contains(exceptionReasons, in.Reason) {
			h.fail(w, c, c.apiError(&failure{http.StatusBadRequest, taskcluster.CodeInputValidationError,
				"Schema validation error:\n * reason must be one of " + strings.Join(exceptionReasons, ", ") + "\n"}))
			return
		}
		rep.reason = in.Reason
	}
	authorize := func(required auth.Expr) *failure {
		if required.SatisfiedBy(caller.Scopes) {
			return nil
		}
		return insufficientScopes(caller.ClientID, caller.Authenticated, false, caller.Scopes, required)
	}
	out, st, err := h.q.report(r.Context(), taskID, runID, rep, authorize)
	if err == nil && rep.method == "reclaimTask" {
		out, err = h.q.reclaimAnswer(taskID, runID, st)
	}
	h.answer(w, r, c, out, err)
}

// reclaimAnswer is reclaimTask's answer: the status, the run and new
// credentials until the new takenUntil.
func (q *Queue) reclaimAnswer(taskID string, runID int, st *status) (json.RawMessage, error) {
	r := st.Runs[runID]
	statusJSON, err := encodeJSON(st)
	if err != nil {
		return nil, err
	}
	takenUntil, err := time.Parse(time.RFC3339Nano, r.TakenUntil)
	if err != nil {
		return nil, err
	}
	var def []byte
	err = q.db.View(func(tx *bolt.Tx) error {
		_, def = splitRecord(q.bucket(tx, bucketTasks).Get([]byte(taskID)))
		def = bytes.Clone(def)
		return nil
	})
	if err != nil {
		return nil, err
	}
	ct := ClaimedTask{Status: statusJSON, RunID: runID, WorkerGroup: r.WorkerGroup, WorkerID: r.WorkerID, TakenUntil: r.TakenUntil, Task: def}
	if ct.Credentials, err = q.runCredentials(ct, q.now(), takenUntil); err != nil {
		return nil, err
	}
	return encodeJSON(map[string]any{"status": json.RawMessage(statusJSON), "runId": runID, "workerGroup": r.WorkerGroup,
		"workerId": r.WorkerID, "takenUntil": r.TakenUntil, "credentials": ct.Credentials})
}

// readWorkerRequest reads and authenticates a worker call: the body, as
// JSON when there is one, then the caller; it answers the failure itself.
func (h *handler) readWorkerRequest(w http.ResponseWriter, r *http.Request, c call) ([]byte, auth.Caller, bool) {
	body, f := readBody(r)
	if f != nil {
		h.fail(w, c, c.apiError(f))
		return nil, auth.Caller{}, false
	}
	caller, err := h.authz.Authorize(r.Context(), r, body, auth.AllOf())
	if err != nil {
		h.fail(w, c, h.authError(c, err))
		return nil, auth.Caller{}, false
	}
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	return body, caller, true
}

// readBody reads a worker call's body: JSON, or nothing.
func readBody(r *http.Request) ([]byte, *failure) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	switch {
	case err != nil:
		return nil, &failure{http.StatusBadRequest, taskcluster.CodeMalformedPayload, "could not read the request body"}
	case len(body) > maxBody:
		return nil, &failure{http.StatusRequestEntityTooLarge, taskcluster.CodeInputTooLarge, "The request body is larger than 10 MB"}
	case len(body) > 0 && !json.Valid(body):
		return nil, &failure{http.StatusBadRequest, taskcluster.CodeMalformedPayload, "Failed to parse JSON payload"}
	}
	return body, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
