package embedded

import (
	"context"
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/hookline/hookline/shared/store"
)

// settingsRecord is the stored form of a settings record: its body
// first, copied as it is (withFirstMember), then its version.
type settingsRecord struct {
	Body json.RawMessage `json:"body"`
	settingsFields
}

type settingsFields struct {
	Version int64 `json:"ver"`
}

func decodeSettings(data []byte) (settingsRecord, error) {
	var rec settingsRecord
	err := json.Unmarshal(data, &rec)
	if err != nil {
		// Too deep for encoding/json (see decodeHook).
		body, rest, ok := cutFirstMember(data, "body")
		if !ok || json.Unmarshal(rest, &rec) != nil {
			return settingsRecord{}, err
		}
		rec.Body = body
	}
	return rec, nil
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
		var err error
		rec, err = decodeSettings(data)
		return err
	})
	if err != nil {
		return store.Settings{}, fmt.Errorf("embedded: get settings %s/%s: %w", hookGroupID, hookID, err)
	}
	return store.Settings{HookGroupID: hookGroupID, HookID: hookID, Body: rec.Body, Version: rec.Version}, nil
}

// PutSettings implements store.Store.
func (s *Store) PutSettings(ctx context.Context, st store.Settings) (store.Settings, error) {
	if err := store.CheckSettings(st); err != nil {
		return store.Settings{}, fmt.Errorf("embedded: put settings of %s/%s: %w", st.HookGroupID, st.HookID, err)
	}
	expected := st.Version
	st.Version = expected + 1
	fields, err := json.Marshal(settingsFields{Version: st.Version})
	if err != nil {
		return store.Settings{}, err
	}
	data := withFirstMember("body", st.Body, fields)
	k := settingsKey(st.HookGroupID, st.HookID)
	err = s.write(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSettings)
		var current int64
		if old := b.Get(k); old != nil {
			rec, err := decodeSettings(old)
			if err != nil {
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
