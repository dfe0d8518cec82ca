package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookline/hookline/shared/store"
)

// Notifications live in bucket "notifications" under
// "<group>\x00<hook>\x00<id>"; the value is the version, the due time and
// the expiry (8 bytes each, big-endian; unix nanoseconds, 0 for none),
// then the body. Bucket "notifyDue" indexes the due ones:
// "<DueAt>\x00<group>\x00<hook>\x00<id>".

func notificationKey(group, hook, id string) []byte {
	return append(hookPrefix(group, hook), id...)
}

func notifyDueKey(n store.Notification) []byte {
	return []byte(n.DueAt.UTC().Format(dueTimeLayout) + "\x00" + n.HookGroupID + "\x00" + n.HookID + "\x00" + n.ID)
}

func unixNanos(t time.Time) uint64 {
	if t.IsZero() {
		return 0
	}
	return uint64(t.UnixNano())
}

func fromNanos(v uint64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.Unix(0, int64(v)).UTC()
}

func encodeNotification(n store.Notification) []byte {
	v := make([]byte, 0, 24+len(n.Body))
	v = binary.BigEndian.AppendUint64(v, uint64(n.Version))
	v = binary.BigEndian.AppendUint64(v, unixNanos(n.DueAt))
	v = binary.BigEndian.AppendUint64(v, unixNanos(n.ExpiresAt))
	return append(v, n.Body...)
}

func decodeNotification(group, hook, id string, v []byte) (store.Notification, error) {
	if len(v) < 24 {
		return store.Notification{}, fmt.Errorf("notification record %s/%s %s is %d bytes", group, hook, id, len(v))
	}
	return store.Notification{
		HookGroupID: group, HookID: hook, ID: id,
		Version:   int64(binary.BigEndian.Uint64(v[:8])),
		DueAt:     fromNanos(binary.BigEndian.Uint64(v[8:16])),
		ExpiresAt: fromNanos(binary.BigEndian.Uint64(v[16:24])),
		// bbolt's bytes are valid only inside the transaction.
		Body: bytes.Clone(v[24:]),
	}, nil
}

// putNotification writes n and moves its due entry from old's.
func putNotification(tx *bolt.Tx, n store.Notification, old *store.Notification) error {
	due := tx.Bucket(bucketNotifyDue)
	if old != nil && !old.DueAt.IsZero() {
		if err := due.Delete(notifyDueKey(*old)); err != nil {
			return err
		}
	}
	if !n.DueAt.IsZero() {
		if err := due.Put(notifyDueKey(n), nil); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketNotifications).Put(notificationKey(n.HookGroupID, n.HookID, n.ID), encodeNotification(n))
}

// CreateNotification implements store.Store.
func (s *Store) CreateNotification(ctx context.Context, n store.Notification) (store.Notification, error) {
	if err := store.CheckNotification(n); err != nil {
		return store.Notification{}, fmt.Errorf("embedded: create notification %s of %s/%s: %w", n.ID, n.HookGroupID, n.HookID, err)
	}
	n.Version = 1
	err := s.write(ctx, func(tx *bolt.Tx) error {
		if tx.Bucket(bucketNotifications).Get(notificationKey(n.HookGroupID, n.HookID, n.ID)) != nil {
			return store.ErrConflict
		}
		return putNotification(tx, n, nil)
	})
	if err != nil {
		return store.Notification{}, fmt.Errorf("embedded: create notification %s of %s/%s: %w", n.ID, n.HookGroupID, n.HookID, err)
	}
	return n, nil
}

// GetNotification implements store.Store.
func (s *Store) GetNotification(ctx context.Context, hookGroupID, hookID, id string) (store.Notification, error) {
	var n store.Notification
	err := s.read(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketNotifications).Get(notificationKey(hookGroupID, hookID, id))
		if v == nil {
			return store.ErrNotFound
		}
		var err error
		n, err = decodeNotification(hookGroupID, hookID, id, v)
		return err
	})
	if err != nil {
		return store.Notification{}, fmt.Errorf("embedded: get notification %s of %s/%s: %w", id, hookGroupID, hookID, err)
	}
	return n, nil
}

// UpdateNotification implements store.Store.
func (s *Store) UpdateNotification(ctx context.Context, n store.Notification) (store.Notification, error) {
	if err := store.CheckNotification(n); err != nil {
		return store.Notification{}, fmt.Errorf("embedded: update notification %s of %s/%s: %w", n.ID, n.HookGroupID, n.HookID, err)
	}
	want := n.Version
	n.Version++
	err := s.write(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketNotifications).Get(notificationKey(n.HookGroupID, n.HookID, n.ID))
		if v == nil {
			return store.ErrNotFound
		}
		old, err := decodeNotification(n.HookGroupID, n.HookID, n.ID, v)
		if err != nil {
			return err
		}
		if old.Version != want {
			return store.ErrConflict
		}
		return putNotification(tx, n, &old)
	})
	if err != nil {
		return store.Notification{}, fmt.Errorf("embedded: update notification %s of %s/%s: %w", n.ID, n.HookGroupID, n.HookID, err)
	}
	return n, nil
}

// ListDueNotifications implements store.Store.
func (s *Store) ListDueNotifications(ctx context.Context, now time.Time, limit int) ([]store.Notification, error) {
	if limit <= 0 {
		limit = store.DefaultPageLimit
	}
	cutoff := []byte(now.UTC().Format(dueTimeLayout) + "\x01")
	var out []store.Notification
	err := s.read(ctx, func(tx *bolt.Tx) error {
		recs := tx.Bucket(bucketNotifications)
		c := tx.Bucket(bucketNotifyDue).Cursor()
		for k, _ := c.First(); k != nil && len(out) < limit && bytes.Compare(k, cutoff) < 0; k, _ = c.Next() {
			parts := bytes.SplitN(k, []byte{0}, 4)
			if len(parts) != 4 {
				return fmt.Errorf("corrupt notification due key %q", k)
			}
			g, h, id := string(parts[1]), string(parts[2]), string(parts[3])
			v := recs.Get(notificationKey(g, h, id))
			if v == nil {
				return fmt.Errorf("due index names missing notification %s/%s %s", g, h, id)
			}
			n, err := decodeNotification(g, h, id, v)
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("embedded: list due notifications: %w", err)
	}
	return out, nil
}

// ListNotifications implements store.Store: newest (greatest id) first.
func (s *Store) ListNotifications(ctx context.Context, hookGroupID, hookID string, p store.Page) ([]store.Notification, string, error) {
	scope := "notifications\x00" + hookGroupID + "\x00" + hookID
	after, err := decodeToken(p.Token, scope)
	if err != nil {
		return nil, "", err
	}
	limit := pageLimit(p)
	prefix := hookPrefix(hookGroupID, hookID)
	var out []store.Notification
	var next string
	err = s.read(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketNotifications).Cursor()
		var k, v []byte
		if after == "" {
			k, _ = c.Seek(append(bytes.Clone(prefix), 0xff))
		} else {
			k, _ = c.Seek(append(bytes.Clone(prefix), after...))
		}
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix); k, v = c.Prev() {
			if len(out) == limit {
				next = encodeToken(scope, out[len(out)-1].ID)
				break
			}
			n, err := decodeNotification(hookGroupID, hookID, string(k[len(prefix):]), v)
			if err != nil {
				return err
			}
			out = append(out, n)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("embedded: list notifications of %s/%s: %w", hookGroupID, hookID, err)
	}
	return out, next, nil
}

// DeleteNotifications implements store.Store.
func (s *Store) DeleteNotifications(ctx context.Context, hookGroupID, hookID string) error {
	prefix := hookPrefix(hookGroupID, hookID)
	err := s.write(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketNotifications).Cursor()
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Seek(prefix) {
			n, err := decodeNotification(hookGroupID, hookID, string(k[len(prefix):]), v)
			if err != nil {
				return err
			}
			if !n.DueAt.IsZero() {
				if err := tx.Bucket(bucketNotifyDue).Delete(notifyDueKey(n)); err != nil {
					return err
				}
			}
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("embedded: delete notifications of %s/%s: %w", hookGroupID, hookID, err)
	}
	return nil
}

// ExpireNotifications implements store.Expirer. It reads every
// notification; it runs once a day in `hookline serve`, and notifications
// are few (the rate limits keep them so).
func (s *Store) ExpireNotifications(ctx context.Context, now time.Time) (int, error) {
	deleted := 0
	limit := unixNanos(now)
	err := s.db.Update(func(tx *bolt.Tx) error {
		deleted = 0
		c := tx.Bucket(bucketNotifications).Cursor()
		for k, v := c.First(); k != nil; {
			if len(v) < 24 {
				return fmt.Errorf("notification record %q is %d bytes", k, len(v))
			}
			exp := binary.BigEndian.Uint64(v[16:24])
			if exp == 0 || exp > limit {
				k, v = c.Next()
				continue
			}
			if due := binary.BigEndian.Uint64(v[8:16]); due != 0 {
				parts := bytes.SplitN(k, []byte{0}, 3)
				if len(parts) == 3 {
					dk := notifyDueKey(store.Notification{HookGroupID: string(parts[0]), HookID: string(parts[1]), ID: string(parts[2]), DueAt: fromNanos(due)})
					if err := tx.Bucket(bucketNotifyDue).Delete(dk); err != nil {
						return err
					}
				}
			}
			k = bytes.Clone(k)
			if err := c.Delete(); err != nil {
				return err
			}
			deleted++
			k, v = c.Seek(k)
		}
		return ctx.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("embedded: expire notifications: %w", err)
	}
	return deleted, nil
}
