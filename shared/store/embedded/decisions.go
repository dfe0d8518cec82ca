package embedded

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookline/hookline/shared/store"
)

// Decisions live in bucket "fires" beside the fire records, under
// "<group>\x00<hook>\x00!<decision id>". '!' sorts before the digits that
// start a fire record's key, and both are ordered so that a hook's newest
// decision sits right before its newest fire record: a fire and its
// decision then dirty the same leaf page, and a commit writes one page
// fewer than with a bucket of their own (measured: about a tenth of a
// durable write). One hook's log is one contiguous range, read backwards
// for newest first. The value is the expiry (8 bytes, big-endian unix
// nanoseconds, 0 for none) followed by the body as is: no re-encoding of
// payloads of up to a few hundred kilobytes.
//
// There is no expiry index, which would cost another page per fire. Ids
// sort by time and the retention is one setting, so within a hook's range
// the oldest decisions are the first to expire, and ExpireDecisions reads
// each range from its old end only as far as the first live decision.

// decisionMark separates a hook's decisions from its fire records.
const decisionMark = '!'

// decisionPrefix starts the keys of one hook's decisions.
func decisionPrefix(group, id string) []byte {
	return append(hookPrefix(group, id), decisionMark)
}

func decisionKey(d store.Decision) []byte {
	return append(decisionPrefix(d.HookGroupID, d.HookID), d.ID...)
}

// isDecisionKey tells a decision's key from a fire record's in bucket
// "fires".
func isDecisionKey(k []byte) bool {
	p := hookPrefixOf(k)
	return p != nil && len(k) > len(p) && k[len(p)] == decisionMark
}

func encodeDecisionValue(d store.Decision) []byte {
	var exp uint64
	if !d.ExpiresAt.IsZero() {
		exp = uint64(d.ExpiresAt.UnixNano())
	}
	v := binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(d.Body)), exp)
	return append(v, d.Body...)
}

func decodeDecisionValue(group, id string, key, v []byte) (store.Decision, error) {
	if len(v) < 8 {
		return store.Decision{}, fmt.Errorf("embedded: decision record %q is %d bytes", key, len(v))
	}
	d := store.Decision{HookGroupID: group, HookID: id, ID: string(key[len(decisionPrefix(group, id)):])}
	if exp := binary.BigEndian.Uint64(v[:8]); exp != 0 {
		d.ExpiresAt = time.Unix(0, int64(exp)).UTC()
	}
	// bbolt's bytes are valid only inside the transaction.
	d.Body = json.RawMessage(bytes.Clone(v[8:]))
	return d, nil
}

// PutDecision implements store.Store: the decision and the fire record, if
// any, commit in one transaction (one fsync, shared
// with concurrent writers by the group committer).
func (s *Store) PutDecision(ctx context.Context, d store.Decision, fire *store.LastFire) error {
	if err := store.CheckDecisionWrite(d, fire); err != nil {
		return fmt.Errorf("embedded: put decision %s of %s/%s: %w", d.ID, d.HookGroupID, d.HookID, err)
	}
	var fireData []byte
	if fire != nil {
		var err error
		if fireData, err = encodeFire(*fire); err != nil {
			return err
		}
	}
	value := encodeDecisionValue(d)
	err := s.write(ctx, func(tx *bolt.Tx) error {
		if err := putDecision(tx, d, value); err != nil {
			return err
		}
		if fire != nil {
			return putFire(tx, *fire, fireData)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("embedded: put decision %s of %s/%s: %w", d.ID, d.HookGroupID, d.HookID, err)
	}
	return nil
}

// GetDecision implements store.Store.
func (s *Store) GetDecision(ctx context.Context, hookGroupID, hookID, id string) (store.Decision, error) {
	var d store.Decision
	key := decisionKey(store.Decision{HookGroupID: hookGroupID, HookID: hookID, ID: id})
	err := s.read(ctx, func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketFires).Get(key)
		if v == nil {
			return store.ErrNotFound
		}
		var err error
		d, err = decodeDecisionValue(hookGroupID, hookID, key, v)
		return err
	})
	if err != nil {
		return store.Decision{}, fmt.Errorf("embedded: get decision %s of %s/%s: %w", id, hookGroupID, hookID, err)
	}
	return d, nil
}

// ListDecisions implements store.Store: newest (greatest id) first. The
// continuation token is the last id returned.
func (s *Store) ListDecisions(ctx context.Context, hookGroupID, hookID string, p store.Page) ([]store.Decision, string, error) {
	scope := "decisions\x00" + hookGroupID + "\x00" + hookID
	after, err := decodeToken(p.Token, scope)
	if err != nil {
		return nil, "", err
	}
	limit := pageLimit(p)
	prefix := decisionPrefix(hookGroupID, hookID)
	var out []store.Decision
	var next string
	err = s.read(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketFires).Cursor()
		// Position on the greatest key of the range (or, with a token, on
		// the greatest key below the last one returned), then walk down.
		var k, v []byte
		if after == "" {
			// 0xff sorts after every id character.
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
			d, err := decodeDecisionValue(hookGroupID, hookID, k, v)
			if err != nil {
				return err
			}
			out = append(out, d)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("embedded: list decisions of %s/%s: %w", hookGroupID, hookID, err)
	}
	return out, next, nil
}

// DeleteDecisions implements store.Store.
func (s *Store) DeleteDecisions(ctx context.Context, hookGroupID, hookID string) error {
	prefix := decisionPrefix(hookGroupID, hookID)
	err := s.write(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFires)
		c := b.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(prefix) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		hook := hookPrefix(hookGroupID, hookID)
		n, err := loadCounts(b, hook)
		if err != nil {
			return err
		}
		n.decisions = 0
		return n.save(b, hook)
	})
	if err != nil {
		return fmt.Errorf("embedded: delete decisions of %s/%s: %w", hookGroupID, hookID, err)
	}
	return nil
}

// ExpireDecisions implements store.Expirer. For each hook it deletes from
// its oldest decision up to the first that is still live, then skips to the
// next hook: its cost follows the hooks and the expired decisions, not the
// stored records. After the retention is shortened, decisions kept under
// the longer one hold back newer ones behind them until they expire too.
func (s *Store) ExpireDecisions(ctx context.Context, now time.Time) (int, error) {
	deleted := 0
	limit := uint64(now.UnixNano())
	err := s.db.Update(func(tx *bolt.Tx) error {
		deleted = 0
		b := tx.Bucket(bucketFires)
		c := b.Cursor()
		k, _ := c.First()
		for k != nil {
			hook := hookPrefixOf(k)
			if hook == nil {
				return fmt.Errorf("record key %q has no hook prefix", k)
			}
			prefix := append(bytes.Clone(hook), decisionMark)
			var v []byte
			n := 0
			for k, v = c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Seek(prefix) {
				if len(v) < 8 {
					return fmt.Errorf("decision record %q is %d bytes", k, len(v))
				}
				if exp := binary.BigEndian.Uint64(v[:8]); exp == 0 || exp > limit {
					break
				}
				if err := c.Delete(); err != nil {
					return err
				}
				n++
			}
			if n > 0 {
				deleted += n
				if err := addCounts(b, hook, 0, -n); err != nil {
					return err
				}
			}
			// 0xff sorts after every key character: the next hook.
			k, _ = c.Seek(append(hook, 0xff))
		}
		return ctx.Err()
	})
	if err != nil {
		return 0, fmt.Errorf("embedded: expire decisions: %w", err)
	}
	return deleted, nil
}

// hookPrefixOf returns the "<group>\x00<hook>\x00" prefix of a decision
// key (ids contain no NUL), or nil.
func hookPrefixOf(key []byte) []byte {
	first := bytes.IndexByte(key, 0)
	if first < 0 {
		return nil
	}
	second := bytes.IndexByte(key[first+1:], 0)
	if second < 0 {
		return nil
	}
	return bytes.Clone(key[:first+1+second+1])
}
