package embedded

import (
	"bytes"
	"context"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookline/hookline/shared/store"
)

// dueTimeLayout sorts lexically in time order.
const dueTimeLayout = "2006-01-02T15:04:05.000000000Z"

func dueKey(t time.Time, group, id string) []byte {
	return []byte(t.UTC().Format(dueTimeLayout) + "\x00" + group + "\x00" + id)
}

// setDue moves h's entry in the due index from its previous time (zero:
// none) to its current one.
func setDue(tx *bolt.Tx, h store.Hook, previous time.Time) error {
	due := tx.Bucket(bucketDue)
	if !previous.IsZero() {
		if err := due.Delete(dueKey(previous, h.HookGroupID, h.HookID)); err != nil {
			return err
		}
	}
	if h.NextScheduledDate.IsZero() {
		return nil
	}
	return due.Put(dueKey(h.NextScheduledDate, h.HookGroupID, h.HookID), nil)
}

// ListDue implements store.Store.
func (s *Store) ListDue(ctx context.Context, now time.Time, limit int) ([]store.Hook, error) {
	if limit <= 0 {
		limit = store.DefaultPageLimit
	}
	cutoff := []byte(now.UTC().Format(dueTimeLayout))
	var due []store.Hook
	err := s.read(ctx, func(tx *bolt.Tx) error {
		hooks := tx.Bucket(bucketHooks)
		c := tx.Bucket(bucketDue).Cursor()
		for k, _ := c.First(); k != nil && len(due) < limit; k, _ = c.Next() {
			parts := bytes.SplitN(k, []byte{0}, 3)
			if len(parts) != 3 {
				return fmt.Errorf("corrupt due key %q", k)
			}
			if bytes.Compare(parts[0], cutoff) >= 0 {
				break
			}
			group := hooks.Bucket(parts[1])
			if group == nil {
				return fmt.Errorf("due index names missing group %q", parts[1])
			}
			data := group.Get(parts[2])
			if data == nil {
				return fmt.Errorf("due index names missing hook %s/%s", parts[1], parts[2])
			}
			h, err := decodeHook(string(parts[1]), string(parts[2]), data)
			if err != nil {
				return err
			}
			due = append(due, h)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: list due hooks: %w", err)
	}
	return due, nil
}
