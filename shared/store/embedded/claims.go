package embedded

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookline/hookline/shared/store"
)

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
	if err := store.CheckClaim(c); err != nil {
		return fmt.Errorf("embedded: create claim %s: %w", c.Key, err)
	}
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

// ReplaceClaim implements store.Store.
func (s *Store) ReplaceClaim(ctx context.Context, c store.Claim, oldBody []byte, now time.Time) error {
	if err := store.CheckClaim(c); err != nil {
		return fmt.Errorf("embedded: replace claim %s: %w", c.Key, err)
	}
	data, err := json.Marshal(claimRecord{Body: c.Body, CreatedAt: c.CreatedAt.UTC(), ExpiresAt: c.ExpiresAt.UTC()})
	if err != nil {
		return err
	}
	err = s.write(ctx, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketClaims)
		rec, live, err := liveClaim(b.Get([]byte(c.Key)), now)
		if err != nil {
			return err
		}
		if !live || !bytes.Equal(rec.Body, oldBody) {
			return store.ErrConflict
		}
		return b.Put([]byte(c.Key), data)
	})
	if err != nil {
		return fmt.Errorf("embedded: replace claim %s: %w", c.Key, err)
	}
	return nil
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
