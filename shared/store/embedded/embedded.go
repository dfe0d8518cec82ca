// Package embedded is the single-file store.Store backend used by
// `hookline serve`, built on bbolt.
//
// Layout: bucket "hooks" holds one nested bucket per hook group, keyed by
// hookId, so listing groups reads only the nested bucket names and never a
// hook body; a group's bucket is removed with its last hook. Bucket "claims"
// holds claims by key. Bucket "due" indexes scheduled hooks by next fire
// time (key: time, group, hookId), updated in the same transaction as the
// hook, so finding due hooks reads only the due ones. Bucket "fires" holds
// fire records keyed by hook, then newest first. Bucket "settings" holds
// each hook's settings record, keyed by hook. Decision logs
// share bucket "fires" (decisions.go).
//
// Every write goes through a group committer (shared/boltcommit): writes
// that arrive while a commit runs share the next transaction and fsync, so
// each write is durable when its call returns, a lone write commits at once,
// and many clients share the cost of a sync.
package embedded

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookline/hookline/shared/boltcommit"
	"github.com/hookline/hookline/shared/store"
)

var (
	bucketHooks    = []byte("hooks")
	bucketClaims   = []byte("claims")
	bucketDue      = []byte("due")
	bucketFires    = []byte("fires")
	bucketSettings = []byte("settings")
)

// Store is the bbolt-backed store.
type Store struct {
	db     *bolt.DB
	commit *boltcommit.Committer
}

var _ store.Store = (*Store)(nil)

// Options tune the store; nil means defaults.
type Options struct {
	// Timeout bounds the wait for the file lock held by another process.
	// Zero means 5 seconds.
	Timeout time.Duration
}

// Open opens (creating if needed) the database file at path.
func Open(path string, opts *Options) (*Store, error) {
	timeout := 5 * time.Second
	if opts != nil && opts.Timeout > 0 {
		timeout = opts.Timeout
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("embedded: create data dir: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketHooks, bucketClaims, bucketDue, bucketFires, bucketSettings} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("embedded: init buckets: %w", err)
	}
	return &Store{db: db, commit: boltcommit.New(db)}, nil
}

// Close stops the committer and closes the database file.
func (s *Store) Close() error {
	s.commit.Close()
	return s.db.Close()
}

// DB exposes the underlying database to other embedded-only components.
func (s *Store) DB() *bolt.DB { return s.db }

// hookRecord is the stored form of a hook.
type hookRecord struct {
	Definition   json.RawMessage `json:"def"`
	TriggerToken string          `json:"token"`
	NextTaskID   string          `json:"nextTaskId"`
	NextAt       *time.Time      `json:"nextAt,omitempty"`
	Version      int64           `json:"ver"`
}

func encodeHook(h store.Hook) ([]byte, error) {
	rec := hookRecord{Definition: h.Definition, TriggerToken: h.TriggerToken, NextTaskID: h.NextTaskID, Version: h.Version}
	if !h.NextScheduledDate.IsZero() {
		t := h.NextScheduledDate.UTC()
		rec.NextAt = &t
	}
	if len(rec.Definition) == 0 {
		rec.Definition = json.RawMessage("null")
	}
	return json.Marshal(rec)
}

func decodeHook(group, id string, data []byte) (store.Hook, error) {
	var rec hookRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return store.Hook{}, fmt.Errorf("embedded: decode hook %s/%s: %w", group, id, err)
	}
	h := store.Hook{
		HookGroupID:  group,
		HookID:       id,
		Definition:   rec.Definition,
		TriggerToken: rec.TriggerToken,
		NextTaskID:   rec.NextTaskID,
		Version:      rec.Version,
	}
	if rec.NextAt != nil {
		h.NextScheduledDate = rec.NextAt.UTC()
	}
	return h, nil
}

// CreateHook implements store.Store.
func (s *Store) CreateHook(ctx context.Context, h store.Hook) (store.Hook, error) {
	h.Version = 1
	data, err := encodeHook(h)
	if err != nil {
		return store.Hook{}, err
	}
	err = s.write(ctx, func(tx *bolt.Tx) error {
		group, err := tx.Bucket(bucketHooks).CreateBucketIfNotExists([]byte(h.HookGroupID))
		if err != nil {
			return err
		}
		if group.Get([]byte(h.HookID)) != nil {
			return store.ErrConflict
		}
		if err := setDue(tx, h, time.Time{}); err != nil {
			return err
		}
		return group.Put([]byte(h.HookID), data)
	})
	if err != nil {
		return store.Hook{}, fmt.Errorf("embedded: create hook %s/%s: %w", h.HookGroupID, h.HookID, err)
	}
	return h, nil
}

// GetHook implements store.Store.
func (s *Store) GetHook(ctx context.Context, hookGroupID, hookID string) (store.Hook, error) {
	var h store.Hook
	err := s.read(ctx, func(tx *bolt.Tx) error {
		group := tx.Bucket(bucketHooks).Bucket([]byte(hookGroupID))
		if group == nil {
			return store.ErrNotFound
		}
		data := group.Get([]byte(hookID))
		if data == nil {
			return store.ErrNotFound
		}
		var err error
		h, err = decodeHook(hookGroupID, hookID, data)
		return err
	})
	if err != nil {
		return store.Hook{}, fmt.Errorf("embedded: get hook %s/%s: %w", hookGroupID, hookID, err)
	}
	return h, nil
}

// UpdateHook implements store.Store.
func (s *Store) UpdateHook(ctx context.Context, h store.Hook) (store.Hook, error) {
	expected := h.Version
	h.Version = expected + 1
	data, err := encodeHook(h)
	if err != nil {
		return store.Hook{}, err
	}
	err = s.write(ctx, func(tx *bolt.Tx) error {
		group := tx.Bucket(bucketHooks).Bucket([]byte(h.HookGroupID))
		if group == nil {
			return store.ErrNotFound
		}
		old := group.Get([]byte(h.HookID))
		if old == nil {
			return store.ErrNotFound
		}
		current, err := decodeHook(h.HookGroupID, h.HookID, old)
		if err != nil {
			return err
		}
		if current.Version != expected {
			return store.ErrConflict
		}
		if err := setDue(tx, h, current.NextScheduledDate); err != nil {
			return err
		}
		return group.Put([]byte(h.HookID), data)
	})
	if err != nil {
		return store.Hook{}, fmt.Errorf("embedded: update hook %s/%s: %w", h.HookGroupID, h.HookID, err)
	}
	return h, nil
}

// DeleteHook implements store.Store.
func (s *Store) DeleteHook(ctx context.Context, hookGroupID, hookID string, version int64) error {
	err := s.write(ctx, func(tx *bolt.Tx) error {
		hooks := tx.Bucket(bucketHooks)
		group := hooks.Bucket([]byte(hookGroupID))
		if group == nil {
			return store.ErrNotFound
		}
		old := group.Get([]byte(hookID))
		if old == nil {
			return store.ErrNotFound
		}
		current, err := decodeHook(hookGroupID, hookID, old)
		if err != nil {
			return err
		}
		if version > 0 && current.Version != version {
			return store.ErrConflict
		}
		if err := tx.Bucket(bucketDue).Delete(dueKey(current.NextScheduledDate, hookGroupID, hookID)); err != nil {
			return err
		}
		if err := group.Delete([]byte(hookID)); err != nil {
			return err
		}
		if k, _ := group.Cursor().First(); k == nil {
			return hooks.DeleteBucket([]byte(hookGroupID))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("embedded: delete hook %s/%s: %w", hookGroupID, hookID, err)
	}
	return nil
}

// ListHookGroups implements store.Store. It reads only bucket names.
func (s *Store) ListHookGroups(ctx context.Context, p store.Page) ([]string, string, error) {
	after, err := decodeToken(p.Token, "groups")
	if err != nil {
		return nil, "", err
	}
	limit := pageLimit(p)
	var groups []string
	var next string
	err = s.read(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketHooks).Cursor()
		for k, _ := seekAfter(c, after); k != nil; k, _ = c.Next() {
			if len(groups) == limit {
				next = encodeToken("groups", groups[len(groups)-1])
				break
			}
			groups = append(groups, string(k))
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("embedded: list hook groups: %w", err)
	}
	return groups, next, nil
}

// ListHooks implements store.Store.
func (s *Store) ListHooks(ctx context.Context, hookGroupID string, p store.Page) ([]store.Hook, string, error) {
	scope := "hooks\x00" + hookGroupID
	after, err := decodeToken(p.Token, scope)
	if err != nil {
		return nil, "", err
	}
	limit := pageLimit(p)
	var hooks []store.Hook
	var next string
	err = s.read(ctx, func(tx *bolt.Tx) error {
		group := tx.Bucket(bucketHooks).Bucket([]byte(hookGroupID))
		if group == nil {
			return nil
		}
		c := group.Cursor()
		for k, v := seekAfter(c, after); k != nil; k, v = c.Next() {
			if len(hooks) == limit {
				next = encodeToken(scope, hooks[len(hooks)-1].HookID)
				break
			}
			h, err := decodeHook(hookGroupID, string(k), v)
			if err != nil {
				return err
			}
			hooks = append(hooks, h)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("embedded: list hooks of %s: %w", hookGroupID, err)
	}
	return hooks, next, nil
}

type claimRecord struct {
	Body      []byte    `json:"body"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt,omitzero"`
}

func liveClaim(data []byte, now time.Time) (claimRecord, bool, error) {
	if data == nil {
		return claimRecord{}, false, nil
	}
	var rec claimRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		return claimRecord{}, false, fmt.Errorf("decode claim: %w", err)
	}
	if !rec.ExpiresAt.IsZero() && !now.Before(rec.ExpiresAt) {
		return rec, false, nil
	}
	return rec, true, nil
}

// CreateClaim implements store.Store.
func (s *Store) CreateClaim(ctx context.Context, c store.Claim, now time.Time) error {
	data, err := json.Marshal(claimRecord{Body: c.Body, CreatedAt: c.CreatedAt.UTC(), ExpiresAt: c.ExpiresAt.UTC()})
	if err != nil {
		return err
	}
	err = s.write(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketClaims)
		_, live, err := liveClaim(b.Get([]byte(c.Key)), now)
		if err != nil {
			return err
		}
		if live {
			return store.ErrConflict
		}
		return b.Put([]byte(c.Key), data)
	})
	if err != nil {
		return fmt.Errorf("embedded: create claim %s: %w", c.Key, err)
	}
	return nil
}

// GetClaim implements store.Store.
func (s *Store) GetClaim(ctx context.Context, key string, now time.Time) (store.Claim, error) {
	var c store.Claim
	err := s.read(ctx, func(tx *bolt.Tx) error {
		rec, live, err := liveClaim(tx.Bucket(bucketClaims).Get([]byte(key)), now)
		if err != nil {
			return err
		}
		if !live {
			return store.ErrNotFound
		}
		c = store.Claim{Key: key, Body: rec.Body, CreatedAt: rec.CreatedAt, ExpiresAt: rec.ExpiresAt}
		return nil
	})
	if err != nil {
		return store.Claim{}, fmt.Errorf("embedded: get claim %s: %w", key, err)
	}
	return c, nil
}

// DeleteClaim implements store.Store.
func (s *Store) DeleteClaim(ctx context.Context, key string) error {
	err := s.write(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketClaims).Delete([]byte(key))
	})
	if err != nil {
		return fmt.Errorf("embedded: delete claim %s: %w", key, err)
	}
	return nil
}

// write runs fn in a durable read-write transaction shared with other
// writers. fn may run more than once (when another write of its group
// fails), so it must read what it needs inside the transaction and decide
// before it writes. The store's own refusals (conflict, not found) are
// fn's answer, not a failure: they are returned to the caller without
// rolling back the writes that share the transaction.
func (s *Store) write(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var refusal error
	err := s.commit.Do(func(tx *bolt.Tx) error {
		refusal = nil
		err := fn(tx)
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			refusal = err
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	return refusal
}

func (s *Store) read(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

func pageLimit(p store.Page) int {
	if p.Limit <= 0 {
		return store.DefaultPageLimit
	}
	return p.Limit
}

// seekAfter positions c on the first key strictly after `after` ("" means
// the first key).
func seekAfter(c *bolt.Cursor, after string) ([]byte, []byte) {
	if after == "" {
		return c.First()
	}
	k, v := c.Seek([]byte(after))
	if k != nil && bytes.Equal(k, []byte(after)) {
		return c.Next()
	}
	return k, v
}

// A continuation token is the last key returned, tagged with the listing it
// belongs to so that a token from one listing cannot steer another.
func encodeToken(scope, last string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(scope + "\x00\x00" + last))
}

func decodeToken(token, scope string) (string, error) {
	if token == "" {
		return "", nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return "", fmt.Errorf("embedded: %w", store.ErrBadToken)
	}
	prefix := []byte(scope + "\x00\x00")
	if !bytes.HasPrefix(raw, prefix) || len(raw) == len(prefix) {
		return "", fmt.Errorf("embedded: %w", store.ErrBadToken)
	}
	return string(raw[len(prefix):]), nil
}

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

type fireRecord struct {
	FiredBy        string    `json:"firedBy"`
	TaskID         string    `json:"taskId"`
	TaskCreateTime time.Time `json:"taskCreateTime"`
	Result         string    `json:"result"`
	Error          string    `json:"error"`
	ExpiresAt      time.Time `json:"expiresAt,omitzero"`
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
	data, err := json.Marshal(fireRecord{FiredBy: f.FiredBy, TaskID: f.TaskID, TaskCreateTime: f.TaskCreateTime.UTC(), Result: f.Result, Error: f.Error, ExpiresAt: f.ExpiresAt.UTC()})
	if err != nil {
		return nil, fmt.Errorf("embedded: encode fire record: %w", err)
	}
	return data, nil
}

// PutLastFire implements store.Store.
func (s *Store) PutLastFire(ctx context.Context, f store.LastFire) error {
	data, err := encodeFire(f)
	if err != nil {
		return err
	}
	err = s.write(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketFires).Put(fireKey(f), data)
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
			fires = append(fires, store.LastFire{
				HookGroupID: hookGroupID, HookID: hookID, FiredBy: rec.FiredBy, TaskID: rec.TaskID,
				TaskCreateTime: rec.TaskCreateTime, Result: rec.Result, Error: rec.Error, ExpiresAt: rec.ExpiresAt,
			})
			lastKey = append(lastKey[:0], k...)
		}
		return nil
	})
	if err != nil {
		return nil, "", fmt.Errorf("embedded: list last fires of %s/%s: %w", hookGroupID, hookID, err)
	}
	return fires, next, nil
}

// DeleteLastFires implements store.Store.
func (s *Store) DeleteLastFires(ctx context.Context, hookGroupID, hookID string) error {
	prefix := hookPrefix(hookGroupID, hookID)
	if err := s.deleteRange(ctx, bucketFires, firesStart(prefix), prefix); err != nil {
		return fmt.Errorf("embedded: delete last fires of %s/%s: %w", hookGroupID, hookID, err)
	}
	return nil
}

// firesStart is where a hook's fire records start: after its decisions,
// at the first key whose time digits follow the hook prefix.
func firesStart(prefix []byte) []byte {
	return append(bytes.Clone(prefix), '0')
}

// deleteRange deletes the keys of bucket from start on that start with
// prefix.
func (s *Store) deleteRange(ctx context.Context, bucket, start, prefix []byte) error {
	return s.write(ctx, func(tx *bolt.Tx) error {
		c := tx.Bucket(bucket).Cursor()
		for k, _ := c.Seek(start); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Seek(start) {
			if err := c.Delete(); err != nil {
				return err
			}
		}
		return nil
	})
}

var _ store.Expirer = (*Store)(nil)

// ExpireLastFires implements store.Expirer. It scans every fire record,
// skipping each hook's decisions; it runs once a day in `hookline serve`.
func (s *Store) ExpireLastFires(ctx context.Context, now time.Time) (int, error) {
	deleted := 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		deleted = 0
		c := tx.Bucket(bucketFires).Cursor()
		for k, v := c.First(); k != nil; {
			if isDecisionKey(k) {
				k, v = c.Seek(firesStart(hookPrefixOf(k)))
				continue
			}
			var rec fireRecord
			if err := json.Unmarshal(v, &rec); err != nil {
				return fmt.Errorf("decode fire record: %w", err)
			}
			if !rec.ExpiresAt.IsZero() && !now.Before(rec.ExpiresAt) {
				if err := c.Delete(); err != nil {
					return err
				}
				deleted++
				// After a delete the cursor points at the next item.
				k, v = c.Seek(k)
				continue
			}
			k, v = c.Next()
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("embedded: expire last fires: %w", err)
	}
	return deleted, nil
}

// settingsRecord is the stored form of a settings record.
type settingsRecord struct {
	Body    json.RawMessage `json:"body"`
	Version int64           `json:"ver"`
}

// settingsKey is unambiguous whatever characters the ids contain: the
// group id's length comes first.
func settingsKey(hookGroupID, hookID string) []byte {
	return fmt.Appendf(nil, "%d\x00%s\x00%s", len(hookGroupID), hookGroupID, hookID)
}

// GetSettings implements store.Store.
func (s *Store) GetSettings(ctx context.Context, hookGroupID, hookID string) (store.Settings, error) {
	var rec settingsRecord
	err := s.read(ctx, func(tx *bolt.Tx) error {
		data := tx.Bucket(bucketSettings).Get(settingsKey(hookGroupID, hookID))
		if data == nil {
			return store.ErrNotFound
		}
		return json.Unmarshal(data, &rec)
	})
	if err != nil {
		return store.Settings{}, fmt.Errorf("embedded: get settings %s/%s: %w", hookGroupID, hookID, err)
	}
	return store.Settings{HookGroupID: hookGroupID, HookID: hookID, Body: rec.Body, Version: rec.Version}, nil
}

// PutSettings implements store.Store.
func (s *Store) PutSettings(ctx context.Context, st store.Settings) (store.Settings, error) {
	expected := st.Version
	st.Version = expected + 1
	body := st.Body
	if len(body) == 0 {
		body = json.RawMessage("null")
	}
	data, err := json.Marshal(settingsRecord{Body: body, Version: st.Version})
	if err != nil {
		return store.Settings{}, err
	}
	k := settingsKey(st.HookGroupID, st.HookID)
	err = s.write(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		var current int64
		if old := b.Get(k); old != nil {
			var rec settingsRecord
			if err := json.Unmarshal(old, &rec); err != nil {
				return err
			}
			current = rec.Version
		}
		if current != expected {
			return store.ErrConflict
		}
		return b.Put(k, data)
	})
	if err != nil {
		return store.Settings{}, fmt.Errorf("embedded: put settings %s/%s: %w", st.HookGroupID, st.HookID, err)
	}
	return st, nil
}

// DeleteSettings implements store.Store.
func (s *Store) DeleteSettings(ctx context.Context, hookGroupID, hookID string) error {
	err := s.write(ctx, func(tx *bolt.Tx) error {
		return tx.Bucket(bucketSettings).Delete(settingsKey(hookGroupID, hookID))
	})
	if err != nil {
		return fmt.Errorf("embedded: delete settings %s/%s: %w", hookGroupID, hookID, err)
	}
	return nil
}
