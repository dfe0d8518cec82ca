package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookline/hookline/shared/jsontext"
	"github.com/hookline/hookline/shared/store"
)

// hookRecord is the stored form of a hook: its definition first, then its
// other fields.
type hookRecord struct {
	Definition json.RawMessage `json:"def"`
	hookFields
}

// hookFields are a hook's fields but its definition.
type hookFields struct {
	TriggerToken string     `json:"token"`
	NextTaskID   string     `json:"nextTaskId"`
	NextAt       *time.Time `json:"nextAt,omitempty"`
	NextSlot     *time.Time `json:"nextSlot,omitempty"`
	ScheduleKey  string     `json:"scheduleKey,omitempty"`
	Version      int64      `json:"ver"`
}

// encodeHook writes {"def":<definition>,<fields>}. The definition is
// copied as it is, not re-encoded: encoding/json would refuse one nested
// nearly 10,000 levels (its limit) once inside the record, and the store
// keeps definitions as opaque bytes.
func encodeHook(h store.Hook) ([]byte, error) {
	f := hookFields{TriggerToken: h.TriggerToken, NextTaskID: h.NextTaskID, ScheduleKey: h.ScheduleKey, Version: h.Version}
	if !h.NextScheduledDate.IsZero() {
		t := h.NextScheduledDate.UTC()
		f.NextAt = &t
	}
	if !h.NextSlot.IsZero() {
		t := h.NextSlot.UTC()
		f.NextSlot = &t
	}
	fields, err := json.Marshal(f)
	if err != nil {
		return nil, err
	}
	return withFirstMember("def", h.Definition, fields), nil
}

// withFirstMember writes the JSON object fields (encoded, at least one
// member) with a member name: raw before them, raw copied as it is ("null"
// when empty).
func withFirstMember(name string, raw, fields []byte) []byte {
	if len(raw) == 0 {
		raw = []byte("null")
	}
	out := make([]byte, 0, len(name)+len(raw)+len(fields)+5)
	out = append(out, '{', '"')
	out = append(out, name...)
	out = append(out, '"', ':')
	out = append(out, raw...)
	out = append(out, ',')
	return append(out, fields[1:]...)
}

func decodeHook(group, id string, data []byte) (store.Hook, error) {
	var rec hookRecord
	if err := json.Unmarshal(data, &rec); err != nil {
		// encoding/json refuses nesting past 10,000 levels, and the record
		// nests one level deeper than the definition it holds: read the
		// definition as the bytes they are, and decode the rest.
		def, rest, ok := cutFirstMember(data, "def")
		if !ok || json.Unmarshal(rest, &rec) != nil {
			return store.Hook{}, fmt.Errorf("embedded: decode hook %s/%s: %w", group, id, err)
		}
		rec.Definition = def
	}
	h := store.Hook{
		HookGroupID:  group,
		HookID:       id,
		Definition:   rec.Definition,
		TriggerToken: rec.TriggerToken,
		NextTaskID:   rec.NextTaskID,
		ScheduleKey:  rec.ScheduleKey,
		Version:      rec.Version,
	}
	if rec.NextAt != nil {
		h.NextScheduledDate = rec.NextAt.UTC()
	}
	if rec.NextSlot != nil {
		h.NextSlot = rec.NextSlot.UTC()
	}
	return h, nil
}

// CreateHook implements store.Store.
func (s *Store) CreateHook(ctx context.Context, h store.Hook) (store.Hook, error) {
	if err := store.CheckHook(h); err != nil {
		return store.Hook{}, fmt.Errorf("embedded: create hook %s/%s: %w", h.HookGroupID, h.HookID, err)
	}
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
		if cached, ok := s.hooks.get(hookGroupID, hookID, data); ok {
			h = cached
			return nil
		}
		var err error
		if h, err = decodeHook(hookGroupID, hookID, data); err == nil {
			s.hooks.put(hookGroupID, hookID, data, h)
		}
		return err
	})
	if err != nil {
		return store.Hook{}, fmt.Errorf("embedded: get hook %s/%s: %w", hookGroupID, hookID, err)
	}
	return h, nil
}

// UpdateHook implements store.Store.
func (s *Store) UpdateHook(ctx context.Context, h store.Hook) (store.Hook, error) {
	if err := store.CheckHook(h); err != nil {
		return store.Hook{}, fmt.Errorf("embedded: update hook %s/%s: %w", h.HookGroupID, h.HookID, err)
	}
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

// cutFirstMember splits a record written by withFirstMember (or, before
// it, by encoding/json, which wrote the member first too) into the
// member's value, as bytes, and the record without it, reading only
// brackets and strings.
func cutFirstMember(data []byte, name string) (raw json.RawMessage, rest []byte, ok bool) {
	head := `{"` + name + `":`
	if !bytes.HasPrefix(data, []byte(head)) {
		return nil, nil, false
	}
	end := jsontext.SkipValue(data, len(head))
	if end >= len(data) || (data[end] != ',' && data[end] != '}') {
		return nil, nil, false
	}
	rest = append([]byte{'{'}, bytes.TrimPrefix(data[end:], []byte(","))...)
	// bbolt's bytes are valid only inside the transaction.
	return json.RawMessage(bytes.Clone(data[len(head):end])), rest, true
}
