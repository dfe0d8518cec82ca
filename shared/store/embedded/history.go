package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookline/hookline/shared/store"
)

// The history cap and the awaited index.
//
// Each hook's fire records and decisions are counted in one key of bucket
// "fires", "<group>\x00<hook>\x00#": 16 bytes, the fire records then the
// decisions, big-endian. '#' sorts between a hook's decisions ('!') and
// its fire records (digits), so the count sits on the leaf page the fire
// and its decision dirty anyway. A write that adds a record counts it and,
// over the record's KeepAtMost, deletes the oldest: a hook's oldest fire
// record is the last key of its range, its oldest decision the first
// after '!'. Both are one seek: the cap costs no scan, whatever the
// history holds. A hook written before the counts existed is counted once,
// on its first write.
//
// Bucket "awaited" lists the fire records whose task outcome is awaited:
// "n\x00<TaskCreateTime>\x00<group>\x00<hook>\x00<taskId>" while never
// checked, "c\x00<CheckAt>\x00..." after; the value is the record's
// TaskCreateTime. A fire record's write moves its entry.

// countMark separates a hook's count key from its decisions and fires.
const countMark = '#'

func countKey(hook []byte) []byte { return append(bytes.Clone(hook), countMark) }

// isCountKey tells the count key from records in bucket "fires".
func isCountKey(k []byte) bool {
	p := hookPrefixOf(k)
	return p != nil && len(k) == len(p)+1 && k[len(p)] == countMark
}

// splitHookPrefix returns the group and hook of a "<group>\x00<hook>\x00"
// prefix.
func splitHookPrefix(prefix []byte) (string, string) {
	g, h, _ := bytes.Cut(bytes.TrimSuffix(prefix, []byte{0}), []byte{0})
	return string(g), string(h)
}

// counts is one hook's count of records.
type counts struct{ fires, decisions int64 }

// loadCounts reads a hook's counts, counting its records when no count is
// stored yet.
func loadCounts(b *bolt.Bucket, hook []byte) (counts, error) {
	if v := b.Get(countKey(hook)); v != nil {
		if len(v) != 16 {
			return counts{}, fmt.Errorf("count record of %q is %d bytes", hook, len(v))
		}
		return counts{int64(binary.BigEndian.Uint64(v[:8])), int64(binary.BigEndian.Uint64(v[8:]))}, nil
	}
	var n counts
	c := b.Cursor()
	for k, _ := c.Seek(hook); k != nil && bytes.HasPrefix(k, hook); k, _ = c.Next() {
		switch {
		case isDecisionKey(k):
			n.decisions++
		case !isCountKey(k):
			n.fires++
		}
	}
	return n, nil
}

func (n counts) save(b *bolt.Bucket, hook []byte) error {
	if n.fires <= 0 && n.decisions <= 0 {
		return b.Delete(countKey(hook))
	}
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 16), uint64(max(n.fires, 0)))
	return b.Put(countKey(hook), binary.BigEndian.AppendUint64(v, uint64(max(n.decisions, 0))))
}

// addCounts adds to a hook's counts.
func addCounts(b *bolt.Bucket, hook []byte, fires, decisions int) error {
	n, err := loadCounts(b, hook)
	if err != nil {
		return err
	}
	n.fires += int64(fires)
	n.decisions += int64(decisions)
	return n.save(b, hook)
}

// putFire writes a fire record, moves its awaited entry, counts it when it
// is new and trims the hook's fire records to f.KeepAtMost.
func putFire(tx *bolt.Tx, f store.LastFire, data []byte) error {
	b := tx.Bucket(bucketFires)
	key := fireKey(f)
	if old := b.Get(key); old != nil {
		if err := unindexAwaited(tx, f.HookGroupID, f.HookID, old); err != nil {
			return err
		}
		if err := b.Put(key, data); err != nil {
			return err
		}
		return indexAwaited(tx, f)
	}
	// Counted before the put: a hook without a count yet is counted
	// without the new record.
	hook := hookPrefix(f.HookGroupID, f.HookID)
	n, err := loadCounts(b, hook)
	if err != nil {
		return err
	}
	if err := b.Put(key, data); err != nil {
		return err
	}
	if err := indexAwaited(tx, f); err != nil {
		return err
	}
	n.fires++
	for f.KeepAtMost > 0 && n.fires > int64(f.KeepAtMost) {
		c := b.Cursor()
		// 0xff sorts after every key of the hook: the key before it is
		// the hook's last, its oldest fire record.
		var k, v []byte
		if k, _ = c.Seek(append(bytes.Clone(hook), 0xff)); k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		if k == nil || !bytes.HasPrefix(k, hook) || isDecisionKey(k) || isCountKey(k) {
			n.fires = 0 // the count was wrong: none is left
			break
		}
		if err := unindexAwaited(tx, f.HookGroupID, f.HookID, v); err != nil {
			return err
		}
		if err := c.Delete(); err != nil {
			return err
		}
		n.fires--
	}
	return n.save(b, hook)
}

// putDecision writes a decision, counts it when it is new and trims the
// hook's decisions to d.KeepAtMost.
func putDecision(tx *bolt.Tx, d store.Decision, value []byte) error {
	b := tx.Bucket(bucketFires)
	key := decisionKey(d)
	if b.Get(key) != nil {
		return b.Put(key, value)
	}
	hook := hookPrefix(d.HookGroupID, d.HookID)
	n, err := loadCounts(b, hook)
	if err != nil {
		return err
	}
	if err := b.Put(key, value); err != nil {
		return err
	}
	n.decisions++
	prefix := decisionPrefix(d.HookGroupID, d.HookID)
	for d.KeepAtMost > 0 && n.decisions > int64(d.KeepAtMost) {
		c := b.Cursor()
		k, _ := c.Seek(prefix)
		if k == nil || !bytes.HasPrefix(k, prefix) {
			n.decisions = 0
			break
		}
		if err := c.Delete(); err != nil {
			return err
		}
		n.decisions--
	}
	return n.save(b, hook)
}

// awaitedKey is the entry of an awaited fire record in bucket "awaited".
func awaitedKey(f store.LastFire) []byte {
	kind, at := "n", f.TaskCreateTime
	if f.Checks > 0 {
		kind, at = "c", f.CheckAt
	}
	return []byte(kind + "\x00" + at.UTC().Format(dueTimeLayout) + "\x00" + f.HookGroupID + "\x00" + f.HookID + "\x00" + f.TaskID)
}

func indexAwaited(tx *bolt.Tx, f store.LastFire) error {
	if f.CheckAt.IsZero() {
		return nil
	}
	return tx.Bucket(bucketAwaited).Put(awaitedKey(f), []byte(f.TaskCreateTime.UTC().Format(dueTimeLayout)))
}

// unindexAwaited removes the awaited entry of a stored fire record (its
// encoded value), if it has one.
func unindexAwaited(tx *bolt.Tx, hookGroupID, hookID string, data []byte) error {
	var rec fireRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return fmt.Errorf("decode fire record: %w", err)
	}
	if rec.CheckAt.IsZero() {
		return nil
	}
	return tx.Bucket(bucketAwaited).Delete(awaitedKey(rec.lastFire(hookGroupID, hookID)))
}

// GetLastFire implements store.Store.
func (s *Store) GetLastFire(ctx context.Context, hookGroupID, hookID string, taskCreateTime time.Time, taskID string) (store.LastFire, error) {
	key := fireKey(store.LastFire{HookGroupID: hookGroupID, HookID: hookID, TaskCreateTime: taskCreateTime, TaskID: taskID})
	var f store.LastFire
	err := s.read(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketFires).Get(key)
		if v == nil {
			return store.ErrNotFound
		}
		var rec fireRecord
		if err := json.Unmarshal(v, &rec); err != nil {
			return fmt.Errorf("decode fire record: %w", err)
		}
		f = rec.lastFire(hookGroupID, hookID)
		return nil
	})
	if err != nil {
		return store.LastFire{}, fmt.Errorf("embedded: get last fire %s/%s %s: %w", hookGroupID, hookID, taskID, err)
	}
	return f, nil
}

// UpdateFire implements store.Store.
func (s *Store) UpdateFire(ctx context.Context, f store.LastFire, d *store.Decision) error {
	if err := store.CheckFireUpdate(f, d); err != nil {
		return fmt.Errorf("embedded: update fire record of %s/%s: %w", f.HookGroupID, f.HookID, err)
	}
	data, err := encodeFire(f)
	if err != nil {
		return err
	}
	var value []byte
	if d != nil {
		value = encodeDecisionValue(*d)
	}
	err = s.write(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFires)
		if b.Get(fireKey(f)) == nil {
			return store.ErrNotFound
		}
		if d != nil && b.Get(decisionKey(*d)) != nil {
			if err := b.Put(decisionKey(*d), value); err != nil {
				return err
			}
		}
		return putFire(tx, f, data)
	})
	if err != nil {
		return fmt.Errorf("embedded: update fire %s/%s %s: %w", f.HookGroupID, f.HookID, f.TaskID, err)
	}
	return nil
}

// ListAwaitedFires implements store.Store. The continuation token is the
// last entry's key.
func (s *Store) ListAwaitedFires(ctx context.Context, q store.AwaitedQuery) ([]store.FireKey, string, error) {
	kind, scope := "n\x00", "awaited-new"
	if q.Checked {
		kind, scope = "c\x00", "awaited-checked"
	}
	after, err := decodeToken(q.Token, scope)
	if err != nil {
		return nil, "", err
	}
	if after != "" && !bytes.HasPrefix([]byte(after), []byte(kind)) {
		return nil, "", fmt.Errorf("embedded: %w", store.ErrBadToken)
	}
	limit := pageLimit(q.Page)
	start := []byte(kind)
	if !q.From.IsZero() {
		start = append(start, q.From.UTC().Format(dueTimeLayout)...)
	}
	var end []byte
	if !q.To.IsZero() {
		end = append([]byte(kind), q.To.UTC().Format(dueTimeLayout)...)
	}
	var out []store.FireKey
	var next string
	err = s.read(ctx, func(tx *bolt.Tx) error {
		var last []byte
		c := tx.Bucket(bucketAwaited).Cursor()
		var k, v []byte
		if after != "" {
			k, v = seekAfter(c, after)
		} else {
			k, v = c.Seek(start)
		}
		for ; k != nil && bytes.HasPrefix(k, []byte(kind)); k, v = c.Next() {
			if end != nil && bytes.Compare(k, end) >= 0 {
				break
			}
			if len(out) == limit {
				next = encodeToken(scope, string(last))
				break
			}
			fk, err := decodeAwaited(k, v)
			if err != nil {
				return err
			}
			out = append(out, fk)
			last = append(last[:0], k...)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("embedded: list awaited fires: %w", err)
	}
	return out, next, nil
}

func decodeAwaited(k, v []byte) (store.FireKey, error) {
	parts := bytes.SplitN(k, []byte{0}, 5)
	if len(parts) != 5 {
		return store.FireKey{}, fmt.Errorf("corrupt awaited key %q", k)
	}
	at, err1 := time.Parse(dueTimeLayout, string(parts[1]))
	created, err2 := time.Parse(dueTimeLayout, string(v))
	if err := errors.Join(err1, err2); err != nil {
		return store.FireKey{}, fmt.Errorf("corrupt awaited entry %q: %w", k, err)
	}
	fk := store.FireKey{HookGroupID: string(parts[2]), HookID: string(parts[3]), TaskID: string(parts[4]), TaskCreateTime: created}
	if parts[0][0] == 'c' {
		fk.Checks, fk.CheckAt = 1, at
	}
	return fk, nil
}
