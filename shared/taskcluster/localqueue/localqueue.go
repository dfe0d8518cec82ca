package localqueue

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookline/hookline/shared/boltcommit"
	"github.com/hookline/hookline/shared/slugid"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/taskcluster"
)

// Buckets. "tasks" holds one record per taskId: the status JSON, a
// newline, then the definition JSON (compact JSON has no raw newline), so
// a task costs one put. "taskGroups" holds the schedulerId of each task
// group, except for groups named after a task that is in them (the usual
// decision-task convention, taskGroupId = taskId): that task's record
// already says it. "pending" lists the tasks workers may claim
// (worker.go). Every access goes through Queue.bucket, since the names
// depend on the file: a queue in a file of its own (Open) uses these, a
// queue in the embedded store's file (OpenShared) the same with a "queue."
// prefix, beside the store's buckets.
type bucketID int

const (
	bucketTasks bucketID = iota
	bucketGroups
	bucketPending
	bucketCount
)

var (
	ownBuckets    = [bucketCount][]byte{[]byte("tasks"), []byte("taskGroups"), []byte("pending")}
	sharedBuckets = [bucketCount][]byte{[]byte("queue.tasks"), []byte("queue.taskGroups"), []byte("queue.pending")}
)

// bucket is the one accessor of the queue's buckets.
func (q *Queue) bucket(tx *bolt.Tx, b bucketID) *bolt.Bucket { return tx.Bucket(q.buckets[b]) }

// splitRecord returns the status and definition parts of a task record.
func splitRecord(rec []byte) (status, def []byte) {
	i := bytes.IndexByte(rec, '\n')
	if i < 0 {
		return rec, nil
	}
	return rec[:i], rec[i+1:]
}

const (
	defaultLockTimeout = 5 * time.Second
	slugIDPattern      = `/^[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]$/`
)

// Options tune a Queue. A nil *Options, and zero fields, mean the
// defaults.
type Options struct {
	// Now is the clock that checks created/deadline and stamps runs
	// (default time.Now).
	Now func() time.Time
	// Schemas validates task definitions; nil compiles the embedded
	// schemas (pass the registry you already have to save the time).
	Schemas *schemas.Registry
	// Expand expands roles in the authorizedScopes of in-process
	// CreateTask calls, e.g. (*auth.Roles).Expand; nil means in-process
	// calls are not scope-checked.
	Expand func(scopes []string) []string
	// LockTimeout bounds the wait for the file lock held by another
	// process (default 5s).
	LockTimeout time.Duration
	// Logger records the causes of 500 answers (default slog.Default()).
	Logger *slog.Logger

	// Issuer issues the temporary credentials claimWork gives a worker
	// for each run (it must hold the tasks' scopes: `hookline serve`
	// uses a client of its own with scope *). Without it claimWork
	// fails.
	Issuer auth.Credentials
	// OnResolved, when set, hears of every resolution a worker reports
	// (a run completed, failed or ended in an exception without a
	// retry), with the task's status, as the queue's task-completed,
	// task-failed and task-exception messages carry it. It is called
	// after the change is durable, and again when a report is repeated.
	OnResolved func(ctx context.Context, taskID string, status json.RawMessage)
	// ClaimTimeout is how long a claim lasts (takenUntil; default 20
	// minutes, upstream's). ClaimWait is how long claimWork waits for
	// work when none is pending (default 20 seconds, upstream's).
	ClaimTimeout time.Duration
	ClaimWait    time.Duration
}

// Queue is a local Taskcluster queue stored in one bbolt file. It is safe
// for concurrent use; Close it when done.
type Queue struct {
	db     *bolt.DB
	writes *boltcommit.Committer
	// buckets names the queue's buckets in db; ownsDB is false when db
	// is the embedded store's (OpenShared), which closes it.
	buckets [bucketCount][]byte
	ownsDB  bool
	reg     *schemas.Registry
	// defaults are the task schema's, for validation from bytes.
	defaults taskDefaults
	now      func() time.Time
	expand   func([]string) []string
	log      *slog.Logger
	started  time.Time

	// The worker side (worker.go).
	work     *workSignal
	issuer   auth.Credentials
	resolved func(ctx context.Context, taskID string, status json.RawMessage)
	claimFor time.Duration
	waitFor  time.Duration
}

// Open opens (creating if needed) the queue database at path with default
// options.
func Open(path string) (*Queue, error) { return OpenWithOptions(path, nil) }

// OpenWithOptions opens (creating if needed) the queue database at path.
// opts may be nil.
func OpenWithOptions(path string, opts *Options) (*Queue, error) {
	o, err := defaults(opts)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("localqueue: create data dir: %w", err)
	}
	// NoFreelistSync saves writing the freelist on every commit; bbolt
	// rebuilds it by scanning the file when it is opened.
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: o.LockTimeout, FreelistType: bolt.FreelistMapType, NoFreelistSync: true})
	if err != nil {
		return nil, fmt.Errorf("localqueue: open %s: %w", path, err)
	}
	q, err := newQueue(db, boltcommit.New(db), ownBuckets, o)
	if err != nil {
		db.Close()
		return nil, err
	}
	q.ownsDB = true
	return q, nil
}

// OpenShared opens the queue in a bbolt file another adapter owns (the
// embedded store's, embedded.Store.File), in buckets of its own, writing
// through that file's group committer: a task then commits in the same
// transaction and fsync as the store's writes that share its group, and
// Joint commits a fire's task with the fire's records. Close leaves db
// and commit open; their owner closes them after the queue.
func OpenShared(db *bolt.DB, commit *boltcommit.Committer, opts *Options) (*Queue, error) {
	o, err := defaults(opts)
	if err != nil {
		return nil, err
	}
	return newQueue(db, commit, sharedBuckets, o)
}

// defaults fills in the options left zero.
func defaults(opts *Options) (Options, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.LockTimeout <= 0 {
		o.LockTimeout = defaultLockTimeout
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Schemas == nil {
		reg, err := schemas.New()
		if err != nil {
			return o, fmt.Errorf("localqueue: %w", err)
		}
		o.Schemas = reg
	}
	return o, nil
}

// newQueue creates the queue's buckets in db if needed.
func newQueue(db *bolt.DB, commit *boltcommit.Committer, buckets [bucketCount][]byte, o Options) (*Queue, error) {
	err := db.Update(func(tx *bolt.Tx) error {
		for _, name := range buckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("localqueue: init buckets: %w", err)
	}
	defaults, err := newTaskDefaults(o.Schemas)
	if err != nil {
		return nil, err
	}
	q := &Queue{defaults: defaults,
		db: db, writes: commit, buckets: buckets, reg: o.Schemas, now: o.Now, expand: o.Expand, log: o.Logger, started: o.Now(),
		work: newWorkSignal(), issuer: o.Issuer, resolved: o.OnResolved, claimFor: o.ClaimTimeout, waitFor: o.ClaimWait,
	}
	if q.claimFor <= 0 {
		q.claimFor = defaultClaimTimeout
	}
	if q.waitFor <= 0 {
		q.waitFor = defaultClaimWait
	}
	return q, nil
}

// Close waits for the write in progress and closes the database file, if
// the queue owns it. Calls after Close fail.
func (q *Queue) Close() error {
	if !q.ownsDB {
		return nil
	}
	q.writes.Close()
	if err := q.db.Close(); err != nil {
		return fmt.Errorf("localqueue: close: %w", err)
	}
	return nil
}

// CreateTask creates a task as Taskcluster's createTask does (see the
// package documentation) and returns {"status": <task status>}. task is
// the request body. Refusals are *taskcluster.APIError values with
// Taskcluster's status codes, codes and requestInfo; 409 RequestConflict
// means the taskId holds a different definition. Repeating a call with an
// identical definition returns the stored status and creates nothing.
//
// authorizedScopes restricts the call when non-nil and Options.Expand is
// set; otherwise the in-process caller is trusted.
func (q *Queue) CreateTask(ctx context.Context, taskID string, task json.RawMessage, authorizedScopes []string) (json.RawMessage, error) {
	return q.create(ctx, taskID, task, q.inProcess(authorizedScopes), nil)
}

// inProcess checks an in-process call's authorizedScopes, when given and
// Options.Expand is set.
func (q *Queue) inProcess(authorizedScopes []string) func(auth.Expr) *failure {
	return func(required auth.Expr) *failure {
		if q.expand == nil || authorizedScopes == nil {
			return nil
		}
		scopes := q.expand(authorizedScopes)
		if required.SatisfiedBy(scopes) {
			return nil
		}
		return insufficientScopes("", false, true, scopes, required)
	}
}

// Status returns {"status": <task status>} for taskID; an unknown task is
// a 404 ResourceNotFound *taskcluster.APIError.
func (q *Queue) Status(ctx context.Context, taskID string) (json.RawMessage, error) {
	c := call{method: "status", taskID: taskID, now: q.now()}
	rec, err := q.get(ctx, c, "Are you sure this task exists?")
	if err != nil {
		return nil, err
	}
	data, _ := splitRecord(rec)
	var s status
	if err := json.Unmarshal(data, &s); err != nil {
		return nil, fmt.Errorf("localqueue: decode status of %s: %w", taskID, err)
	}
	s.resolveDeadline(c.now)
	out, err := encodeJSON(s)
	if err != nil {
		return nil, fmt.Errorf("localqueue: encode status of %s: %w", taskID, err)
	}
	return statusResponse(out), nil
}

// Task returns the stored definition of taskID (task.json), defaults
// filled in; an unknown task is a 404 ResourceNotFound
// *taskcluster.APIError.
func (q *Queue) Task(ctx context.Context, taskID string) (json.RawMessage, error) {
	c := call{method: "task", taskID: taskID, now: q.now()}
	rec, err := q.get(ctx, c, "Are you sure this task has already been submitted?")
	if err != nil {
		return nil, err
	}
	_, def := splitRecord(rec)
	return def, nil
}

// get reads the record of c.taskID.
func (q *Queue) get(ctx context.Context, c call, hint string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("localqueue: %s %s: %w", c.method, c.taskID, err)
	}
	if !slugid.Valid(c.taskID) {
		return nil, c.apiError(badTaskID(c.taskID))
	}
	var out []byte
	err := q.db.View(func(tx *bolt.Tx) error {
		out = bytes.Clone(q.bucket(tx, bucketTasks).Get([]byte(c.taskID)))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("localqueue: read %s: %w", c.taskID, err)
	}
	if out == nil {
		return nil, c.apiError(&failure{http.StatusNotFound, taskcluster.CodeResourceNotFound,
			"`" + c.taskID + "` does not correspond to a task that exists.\n" + hint})
	}
	return out, nil
}

// companion is a write that commits with a created task (Joint): check
// runs first, only reads, and refuses with its error (nothing is written
// then, and the shared transaction goes on); put runs after the task's
// own writes, and its error fails the transaction.
type companion struct {
	check, put func(*bolt.Tx) error
}

// errCompanion marks a companion's refusal, so that create returns it as
// the companion gave it.
type errCompanion struct{ err error }

func (e errCompanion) Error() string { return e.err.Error() }

// create is createTask for the in-process API, the handler and Joint;
// authorize checks the scope expression once the definition is known.
// with, when not nil, commits with the task if the task is created or
// found identical; when the queue refuses the task, with writes nothing.
func (q *Queue) create(ctx context.Context, taskID string, body []byte, authorize func(auth.Expr) *failure, with *companion) (json.RawMessage, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("localqueue: createTask %s: %w", taskID, err)
	}
	c := call{method: "createTask", taskID: taskID, now: q.now()}
	if len(body) > maxBody {
		// The same limit in process as over HTTP: a task the queue of a
		// deployment would refuse is refused here too.
		return nil, c.apiError(tooLarge())
	}
	if !slugid.Valid(taskID) {
		return nil, c.apiError(badTaskID(taskID))
	}
	doc, err := parseBody(body)
	if err != nil {
		return nil, c.apiError(&failure{http.StatusBadRequest, taskcluster.CodeMalformedPayload, "Failed to parse JSON payload: " + err.Error()})
	}
	c.payload = doc
	err = q.defaults.validate(q.reg, body, doc)
	q.reg.ApplyDefaults(schemas.QueueCreateTaskRequest, doc)
	if err != nil {
		var ve *schemas.ValidationError
		if !errors.As(err, &ve) {
			return nil, fmt.Errorf("localqueue: validate task %s: %w", taskID, err)
		}
		return nil, c.apiError(&failure{http.StatusBadRequest, taskcluster.CodeInputValidationError, validationMessage(err)})
	}
	d, f := buildDefinition(doc)
	if f == nil {
		f = authorize(d.requiredScopes())
	}
	if f == nil {
		f = d.patch(taskID, c.now)
	}
	if f != nil {
		return nil, c.apiError(f)
	}
	defJSON, err := encodeJSON(&d)
	if err != nil {
		return nil, fmt.Errorf("localqueue: encode task %s: %w", taskID, err)
	}
	statusJSON, err := encodeJSON(newStatus(taskID, &d, c.now))
	if err != nil {
		return nil, fmt.Errorf("localqueue: encode status of %s: %w", taskID, err)
	}
	key := []byte(taskID)
	var (
		out     []byte
		refusal error
	)
	err = q.writes.Do(func(tx *bolt.Tx) error {
		// This may run more than once; each run starts afresh. A
		// refusal (f, or the companion's) writes nothing of this task
		// and must not fail the transaction other callers share, so only
		// storage errors abort.
		out, f, refusal = nil, nil, nil
		if with != nil {
			if refusal = with.check(tx); refusal != nil {
				return nil
			}
		}
		var err error
		if out, f, err = q.store(tx, key, &d, defJSON, statusJSON); err != nil || f != nil {
			return err
		}
		if with != nil {
			return with.put(tx)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("localqueue: store task %s: %w", taskID, err)
	}
	if refusal != nil {
		return nil, errCompanion{refusal}
	}
	if f != nil {
		return nil, c.apiError(f)
	}
	q.work.signal()
	return statusResponse(out), nil
}

// store writes a new task, or finds the identical one already there, and
// returns the status to answer with, or the refusal.
func (q *Queue) store(tx *bolt.Tx, key []byte, d *definition, defJSON, statusJSON []byte) ([]byte, *failure, error) {
	tasks, groups := q.bucket(tx, bucketTasks), q.bucket(tx, bucketGroups)
	taskID := string(key)
	sched, known := groupScheduler(tasks, groups, d.TaskGroupID)
	if known && sched != d.SchedulerID {
		return nil, &failure{http.StatusConflict, taskcluster.CodeRequestConflict,
			"Task group `" + d.TaskGroupID + "` contains tasks with a schedulerId other\nthan `" + d.SchedulerID +
				"`. All tasks in the same task-group must have\nthe same schedulerId."}, nil
	}
	if rec := tasks.Get(key); rec != nil {
		st, def := splitRecord(rec)
		if !bytes.Equal(def, defJSON) {
			return nil, &failure{http.StatusConflict, taskcluster.CodeRequestConflict,
				"taskId `" + taskID + "` already used by another task.\nThis could be the result of faulty idempotency!"}, nil
		}
		return bytes.Clone(st), nil, nil
	}
	if f := checkDependencies(tasks, taskID, d); f != nil {
		return nil, f, nil
	}
	if !known && d.TaskGroupID != taskID {
		if err := groups.Put([]byte(d.TaskGroupID), []byte(d.SchedulerID)); err != nil {
			return nil, nil, err
		}
	}
	rec := make([]byte, 0, len(statusJSON)+1+len(defJSON))
	rec = append(append(append(rec, statusJSON...), '\n'), defJSON...)
	if err := tasks.Put(key, rec); err != nil {
		return nil, nil, err
	}
	if len(d.Dependencies) == 0 {
		// Pending at once: workers may claim it (worker.go).
		if err := q.bucket(tx, bucketPending).Put(pendingKey(d.TaskQueueID, d.Priority, d.Created, taskID), nil); err != nil {
			return nil, nil, err
		}
	}
	return statusJSON, nil, nil
}

// groupScheduler returns the schedulerId of a task group, if the group has
// any task yet.
func groupScheduler(tasks, groups *bolt.Bucket, groupID string) (string, bool) {
	if s := groups.Get([]byte(groupID)); s != nil {
		return string(s), true
	}
	rec := tasks.Get([]byte(groupID))
	if rec == nil {
		return "", false
	}
	st, _ := splitRecord(rec)
	var s struct {
		TaskGroupID string `json:"taskGroupId"`
		SchedulerID string `json:"schedulerId"`
	}
	if json.Unmarshal(st, &s) != nil || s.TaskGroupID != groupID {
		return "", false
	}
	return s.SchedulerID, true
}

// checkDependencies refuses dependencies that do not exist or that expire
// before the task's deadline, with upstream's message.
func checkDependencies(tasks *bolt.Bucket, taskID string, d *definition) *failure {
	var missing, expiring []string
	for _, dep := range d.Dependencies {
		if dep == taskID {
			continue // a task may depend on itself; it then never runs
		}
		rec := tasks.Get([]byte(dep))
		if rec == nil {
			missing = append(missing, dep)
			continue
		}
		data, _ := splitRecord(rec)
		var s struct {
			Expires string `json:"expires"`
		}
		if json.Unmarshal(data, &s) != nil {
			missing = append(missing, dep)
			continue
		}
		if exp, err := parseTime(s.Expires); err == nil && d.deadline.After(exp) {
			expiring = append(expiring, dep)
		}
	}
	if len(missing) == 0 && len(expiring) == 0 {
		return nil
	}
	var b strings.Builder
	if len(missing) > 0 {
		b.WriteString("`task.dependencies` references non-existing tasks: \n")
		for i, id := range missing {
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString(" * " + id)
		}
		b.WriteString("\nAll taskIds in `task.dependencies` **must** exist\nbefore the task is created.\n")
	}
	if len(expiring) > 0 {
		b.WriteString("`task.dependencies` references tasks that expires\nbefore `task.deadline` this is not allowed, see tasks: \n")
		for i, id := range expiring {
			if i > 0 {
				b.WriteString("\n")
			}
			b.WriteString(" * " + id + ",")
		}
		b.WriteString("\nAll taskIds in `task.dependencies` **must** have\n`task.expires` greater than the `deadline` for this task.\n")
	}
	return &failure{http.StatusBadRequest, taskcluster.CodeInputError, b.String()}
}

// badTaskID is lib-api's answer to a taskId that is not a slugid.
func badTaskID(taskID string) *failure {
	return &failure{http.StatusBadRequest, taskcluster.CodeInvalidRequestArguments,
		"URL parameter 'taskId' given as '" + taskID + "' must match regular expression: '" + slugIDPattern + "'"}
}

// statusResponse wraps a status as task-status-response.json.
func statusResponse(status []byte) json.RawMessage {
	out := make([]byte, 0, len(status)+11)
	out = append(out, `{"status":`...)
	out = append(out, status...)
	return append(out, '}')
}
