package localqueue

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookline/hookline/shared/boltcommit"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/taskcluster"
)

// fileRecorder is a Recorder writing to a bucket of the shared file: the
// fire's decision id under its task's id, and a claim as a key that
// refuses a second write.
type fileRecorder struct{}

var recorded = []byte("recorded")

func (fileRecorder) FireWrite(w store.FireWrite) (check, put func(*bolt.Tx) error, err error) {
	check = func(tx *bolt.Tx) error {
		if w.Claim != nil && tx.Bucket(recorded).Get([]byte(w.Claim.Key)) != nil {
			return fmt.Errorf("claim %s: %w", w.Claim.Key, store.ErrConflict)
		}
		return nil
	}
	put = func(tx *bolt.Tx) error {
		b := tx.Bucket(recorded)
		if w.Claim != nil {
			if err := b.Put([]byte(w.Claim.Key), w.Claim.Body); err != nil {
				return err
			}
		}
		return b.Put([]byte(w.Fire.TaskID), []byte(w.Decision.ID))
	}
	return check, put, nil
}

// sharedFile opens a bbolt file with a bucket of the recorder's, as the
// embedded store's file would be, and a queue in it.
func sharedFile(t *testing.T) (*bolt.DB, *boltcommit.Committer, *Queue) {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "hookline.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	commit := boltcommit.New(db)
	t.Cleanup(func() { commit.Close(); db.Close() })
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket(recorded); return err }); err != nil {
		t.Fatal(err)
	}
	q, err := OpenShared(db, commit, &Options{Now: func() time.Time { return testNow }})
	if err != nil {
		t.Fatal(err)
	}
	return db, commit, q
}

func get(t *testing.T, db *bolt.DB, key string) string {
	t.Helper()
	var v []byte
	if err := db.View(func(tx *bolt.Tx) error { v = tx.Bucket(recorded).Get([]byte(key)); return nil }); err != nil {
		t.Fatal(err)
	}
	return string(v)
}

// A joint createTask commits the task and the fire's records together;
// a refusal of the queue, or of the records' claim, writes neither.
func TestJointCreateTask(t *testing.T) {
	ctx := context.Background()
	db, _, q := sharedFile(t)
	j, err := NewJoint(q, fileRecorder{})
	if err != nil {
		t.Fatal(err)
	}
	write := func(taskID, decision, claim string) store.FireWrite {
		w := store.FireWrite{Decision: &store.Decision{ID: decision}, Fire: &store.LastFire{TaskID: taskID}, Now: testNow}
		if claim != "" {
			w.Claim = &store.Claim{Key: claim, Body: []byte("claimed")}
		}
		return w
	}

	if _, err := j.CreateTaskJoint(ctx, taskA, task(nil), nil, write(taskA, "d1", "c1")); err != nil {
		t.Fatal(err)
	}
	if _, err := q.Task(ctx, taskA); err != nil || get(t, db, taskA) != "d1" || get(t, db, "c1") != "claimed" {
		t.Errorf("created: task %v, decision %q, claim %q", err, get(t, db, taskA), get(t, db, "c1"))
	}

	// The same task again: the identical definition is accepted and the
	// records are written again.
	if _, err := j.CreateTaskJoint(ctx, taskA, task(nil), nil, write(taskA, "d2", "")); err != nil || get(t, db, taskA) != "d2" {
		t.Errorf("repeated: %v, decision %q", err, get(t, db, taskA))
	}

	// A different definition under the same taskId: the queue's 409, and
	// no records.
	_, err = j.CreateTaskJoint(ctx, taskA, task(map[string]any{"priority": "high"}), nil, write(taskA, "d3", "c3"))
	var api *taskcluster.APIError
	if !errors.As(err, &api) || api.StatusCode != 409 || get(t, db, taskA) != "d2" || get(t, db, "c3") != "" {
		t.Errorf("conflict: %v, decision %q, claim %q", err, get(t, db, taskA), get(t, db, "c3"))
	}

	// A schema refusal, before the transaction: no records.
	_, err = j.CreateTaskJoint(ctx, taskB, task(map[string]any{"priority": "urgent"}), nil, write(taskB, "d4", ""))
	if !errors.As(err, &api) || api.StatusCode != 400 || get(t, db, taskB) != "" {
		t.Errorf("invalid: %v, decision %q", err, get(t, db, taskB))
	}

	// The records' claim is held: store.ErrConflict, and no task.
	_, err = j.CreateTaskJoint(ctx, taskC, task(nil), nil, write(taskC, "d5", "c1"))
	if !errors.Is(err, store.ErrConflict) || get(t, db, taskC) != "" {
		t.Errorf("claim held: %v, decision %q", err, get(t, db, taskC))
	}
	if _, err := q.Task(ctx, taskC); err == nil {
		t.Error("claim held: the task was created")
	}
}

// A joint queue must share its file: one opened with a file of its own is
// refused.
func TestJointNeedsSharedFile(t *testing.T) {
	if _, err := NewJoint(newTestQueue(t, nil), fileRecorder{}); err == nil {
		t.Error("a queue with a file of its own was joined")
	}
}

// Adopt copies an old queue file's tasks into the shared file once.
func TestAdopt(t *testing.T) {
	ctx := context.Background()
	old := newTestQueue(t, nil)
	for _, id := range []string{taskA, taskB} {
		if _, err := old.CreateTask(ctx, id, task(nil), nil); err != nil {
			t.Fatal(err)
		}
	}
	_, _, q := sharedFile(t)
	if _, err := q.CreateTask(ctx, taskC, task(nil), nil); err != nil {
		t.Fatal(err)
	}
	if n, err := q.Adopt(old); err != nil || n != 2 {
		t.Fatalf("adopt: %d %v, want 2", n, err)
	}
	if n, err := q.Adopt(old); err != nil || n != 0 {
		t.Errorf("adopt again: %d %v, want 0", n, err)
	}
	for _, id := range []string{taskA, taskB, taskC} {
		if _, err := q.Status(ctx, id); err != nil {
			t.Errorf("task %s after adopt: %v", id, err)
		}
	}
	// The adopted tasks are pending: a worker can claim them.
	var pending int
	if err := q.db.View(func(tx *bolt.Tx) error { pending = q.bucket(tx, bucketPending).Stats().KeyN; return nil }); err != nil || pending != 3 {
		t.Errorf("pending %d %v, want 3", pending, err)
	}
}
