package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookline/hookline/shared/store"
)

type fireRecord struct {
	FiredBy        string    `json:"firedBy"`
	TaskID         string    `json:"taskId"`
	TaskCreateTime time.Time `json:"taskCreateTime"`
	Result         string    `json:"result"`
	Error          string    `json:"error"`
	ExpiresAt      time.Time `json:"expiresAt,omitzero"`
	DecisionID     string    `json:"decisionId,omitempty"`
	TaskState      string    `json:"taskState,omitempty"`
	TaskReason     string    `json:"taskReason,omitempty"`
	TaskRunID      int       `json:"taskRunId,omitempty"`
	TaskResolved   time.Time `json:"taskResolved,omitzero"`
	CheckAt        time.Time `json:"checkAt,omitzero"`
	Checks         int       `json:"checks,omitempty"`
}

func (rec fireRecord) lastFire(hookGroupID, hookID string) store.LastFire {
	return store.LastFire{
		HookGroupID: hookGroupID, HookID: hookID, FiredBy: rec.FiredBy, TaskID: rec.TaskID,
		TaskCreateTime: rec.TaskCreateTime, Result: rec.Result, Error: rec.Error, ExpiresAt: rec.ExpiresAt,
		DecisionID: rec.DecisionID, TaskState: rec.TaskState, TaskReason: rec.TaskReason, TaskRunID: rec.TaskRunID,
		TaskResolved: rec.TaskResolved, CheckAt: rec.CheckAt, Checks: rec.Checks,
	}
}

// hookPrefix starts the keys of one hook's fire records and decisions
// (hook ids contain no NUL).
func hookPrefix(group, id string) []byte {
	return []byte(group + "\x00" + id + "\x00")
}

// fireKey orders a hook's records newest first: the time is stored as the
// distance from the far future.
func fireKey(f store.LastFire) []byte {
	inverted := uint64(math.MaxInt64 - f.TaskCreateTime.UnixNano())
	return append(hookPrefix(f.HookGroupID, f.HookID), []byte(fmt.Sprintf("%020d\x00%s", inverted, f.TaskID))...)
}

func encodeFire(f store.LastFire) ([]byte, error) {
	data, err := json.Marshal(fireRecord{FiredBy: f.FiredBy, TaskID: f.TaskID, TaskCreateTime: f.TaskCreateTime.UTC(), Result: f.Result, Error: f.Error, ExpiresAt: f.ExpiresAt.UTC(),
		DecisionID: f.DecisionID, TaskState: f.TaskState, TaskReason: f.TaskReason, TaskRunID: f.TaskRunID, TaskResolved: f.TaskResolved.UTC(),
		CheckAt: f.CheckAt.UTC(), Checks: f.Checks})
	if err != nil {
		return nil, fmt.Errorf("embedded: encode fire record: %w", err)
	}
	return data, nil
}

// PutLastFire implements store.Store.
func (s *Store) PutLastFire(ctx context.Context, f store.LastFire) error {
	if err := store.CheckFire(f); err != nil {
		return fmt.Errorf("embedded: put fire record of %s/%s: %w", f.HookGroupID, f.HookID, err)
	}
	data, err := encodeFire(f)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(tx *bolt.Tx) error {
		return putFire(tx, f, data)
	})
	if err != nil {
		return fmt.Errorf("embedded: put last fire %s/%s %s: %w", f.HookGroupID, f.HookID, f.TaskID, err)
	}
	return nil
}

// ListLastFires implements store.Store.
func (s *Store) ListLastFires(ctx context.Context, hookGroupID, hookID string, p store.Page) ([]store.LastFire, string, error) {
	scope := "fires\x00" + hookGroupID + "\x00" + hookID
	after, err := decodeToken(p.Token, scope)
	if err != nil {
		return nil, "", err
	}
	limit := pageLimit(p)
	prefix := hookPrefix(hookGroupID, hookID)
	var fires []store.LastFire
	var next string
	err = s.read(ctx, func(tx *bolt.Tx) error {
		var lastKey []byte
		c := tx.Bucket(bucketFires).Cursor()
		var k, v []byte
		if after == "" {
			k, v = c.Seek(firesStart(prefix))
		} else {
			k, v = seekAfter(c, string(prefix)+after)
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if len(fires) == limit {
				next = encodeToken(scope, string(lastKey[len(prefix):]))
				break
			}
			var rec fireRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode fire record: %w", err)
			}
			fires = append(fires, rec.lastFire(hookGroupID, hookID))
			lastKey = append(lastKey[:0], k...)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("embedded: list last fires of %s/%s: %w", hookGroupID, hookID, err)
	}
	return fires, next, nil
}

// DeleteLastFires implements store.Store: the records, their entries in
// the awaited index, and the hook's count of them.
func (s *Store) DeleteLastFires(ctx context.Context, hookGroupID, hookID string) error {
	prefix := hookPrefix(hookGroupID, hookID)
	err := s.write(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFires)
		c := b.Cursor()
		start := firesStart(prefix)
		for k, v := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Seek(start) {
			if err := unindexAwaited(tx, hookGroupID, hookID, v); err != nil {
				return err
			}
			if err := c.Delete(); err != nil {
				return err
			}
		}
		n, err := loadCounts(b, prefix)
		if err != nil {
			return err
		}
		n.fires = 0
		return n.save(b, prefix)
	})
	if err != nil {
		return fmt.Errorf("embedded: delete last fires of %s/%s: %w", hookGroupID, hookID, err)
	}
	return nil
}

// firesStart is where a hook's fire records start: after its decisions,
// at the first key whose time digits follow the hook prefix.
func firesStart(prefix []byte) []byte {
	return append(bytes.Clone(prefix), '0')
}

// ExpireLastFires implements store.Expirer. It scans every fire record,
// skipping each hook's decisions; it runs once a day in `hookline serve`.
func (s *Store) ExpireLastFires(ctx context.Context, now time.Time) (int, error) {
	deleted := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		deleted = 0
		b := tx.Bucket(bucketFires)
		c := b.Cursor()
		perHook := map[string]int{}
		for k, v := c.First(); k != nil; {
			if isDecisionKey(k) || isCountKey(k) {
				k, v = c.Seek(firesStart(hookPrefixOf(k)))
				continue
			}
			var rec fireRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode fire record: %w", err)
			}
			if !rec.ExpiresAt.IsZero() && !now.Before(rec.ExpiresAt) {
				prefix := hookPrefixOf(k)
				if !rec.CheckAt.IsZero() {
					g, h := splitHookPrefix(prefix)
					if err := unindexAwaited(tx, g, h, v); err != nil {
						return err
					}
				}
				k = bytes.Clone(k)
				if err := c.Delete(); err != nil {
					return err
				}
				deleted++
				perHook[string(prefix)]++
				// After a delete the cursor points at the next item.
				k, v = c.Seek(k)
				continue
			}
			k, v = c.Next()
		}
		for prefix, n := range perHook {
			if err := addCounts(b, []byte(prefix), -n, 0); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("embedded: expire last fires: %w", err)
	}
	return deleted, nil
}
