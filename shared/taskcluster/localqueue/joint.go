package localqueue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/hookline/hookline/shared/store"
)

// Recorder turns a fire's records into writes in a transaction of the
// file it shares with the queue (embedded.Store does): check only reads,
// and refuses (store.ErrConflict) a claim that a live one holds; put
// writes the claim, the decision and the fire record.
type Recorder interface {
	FireWrite(w store.FireWrite) (check, put func(*bolt.Tx) error, err error)
}

// Joint is a queue opened in the embedded store's file (OpenShared) with
// that store: it creates a fire's task and stores the fire's records in
// one transaction, hence one fsync (shared with the writes of its group),
// where the queue and the store would otherwise commit one after the
// other. `hookline serve` fires through it (hooks.JointTaskCreator).
type Joint struct {
	*Queue
	records Recorder
}

// NewJoint joins q, which must have been opened with OpenShared on the
// file records writes to, and records.
func NewJoint(q *Queue, records Recorder) (*Joint, error) {
	if q.ownsDB {
		return nil, errors.New("localqueue: a joint queue must share its store's file (OpenShared)")
	}
	return &Joint{Queue: q, records: records}, nil
}

// CreateTaskJoint creates the task as CreateTask does and, in the same
// commit, stores w; when the task is already there with the same
// definition, w is stored with nothing else. When the queue refuses the
// task (the same *taskcluster.APIError as CreateTask's) or w's claim is
// held (store.ErrConflict), nothing is written; a storage error writes
// nothing either.
func (j *Joint) CreateTaskJoint(ctx context.Context, taskID string, task json.RawMessage, authorizedScopes []string, w store.FireWrite) (json.RawMessage, error) {
	check, put, err := j.records.FireWrite(w)
	if err != nil {
		return nil, err
	}
	out, err := j.create(ctx, taskID, task, j.inProcess(authorizedScopes), &companion{check: check, put: put})
	var ce errCompanion
	if errors.As(err, &ce) {
		return nil, ce.err
	}
	return out, err
}

// Adopt copies every task of old, a queue in a file of its own (the
// queue.db of `hookline serve` before its tasks moved into the store's
// file), into q in one transaction, with their task groups and pending
// entries; what q already has is kept. It returns how many tasks it
// copied.
func (q *Queue) Adopt(old *Queue) (int, error) {
	copied := 0
	err := old.db.View(func(from *bolt.Tx) error {
		return q.writes.Do(func(to *bolt.Tx) error {
			copied = 0
			for b := range bucketCount {
				dst := q.bucket(to, b)
				err := old.bucket(from, b).ForEach(func(k, v []byte) error {
					if dst.Get(k) != nil {
						return nil
					}
					if b == bucketTasks {
						copied++
					}
					return dst.Put(k, v)
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("localqueue: adopt tasks: %w", err)
	}
	if copied > 0 {
		q.work.signal()
	}
	return copied, nil
}
