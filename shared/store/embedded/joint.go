package embedded

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/hookline/hookline/shared/boltcommit"
	"github.com/hookline/hookline/shared/store"
)

// File is the store's bbolt file and its group committer, for an adapter
// that keeps its own buckets in the same file so that its writes and the
// store's share commits (localqueue.OpenShared). Such an adapter must
// write only through the committer and only to buckets of its own; the
// store closes both on Close.
func (s *Store) File() (*bolt.DB, *boltcommit.Committer) { return s.db, s.commit }

// FireWrite prepares w for a transaction another adapter runs in the
// store's file (localqueue.Joint, which commits a fire's task with it):
// check only reads, and refuses with store.ErrConflict a claim that a
// live one holds; put writes the claim, then the decision and fire
// record as PutDecision does (or the fire record alone, as PutLastFire).
// Encoding happens here, before the transaction.
func (s *Store) FireWrite(w store.FireWrite) (check, put func(*bolt.Tx) error, err error) {
	var claimData, fireData, decisionValue []byte
	if err := store.CheckFireWrite(w); err != nil {
		return nil, nil, fmt.Errorf("embedded: fire write: %w", err)
	}
	if w.Claim != nil {
		if claimData, err = json.Marshal(claimRecord{Body: w.Claim.Body, CreatedAt: w.Claim.CreatedAt.UTC(), ExpiresAt: w.Claim.ExpiresAt.UTC()}); err != nil {
			return nil, nil, fmt.Errorf("embedded: encode claim %s: %w", w.Claim.Key, err)
		}
	}
	if w.Fire != nil {
		if fireData, err = encodeFire(*w.Fire); err != nil {
			return nil, nil, err
		}
	}
	if w.Decision != nil {
		decisionValue = encodeDecisionValue(*w.Decision)
	}
	check = func(tx *bolt.Tx) error {
		if w.Claim == nil {
			return nil
		}
		_, live, err := liveClaim(tx.Bucket(bucketClaims).Get([]byte(w.Claim.Key)), w.Now)
		if err != nil {
			return fmt.Errorf("embedded: create claim %s: %w", w.Claim.Key, err)
		}
		if live {
			return fmt.Errorf("embedded: create claim %s: %w", w.Claim.Key, store.ErrConflict)
		}
		return nil
	}
	put = func(tx *bolt.Tx) error {
		if w.Claim != nil {
			if err := tx.Bucket(bucketClaims).Put([]byte(w.Claim.Key), claimData); err != nil {
				return err
			}
		}
		if w.Decision != nil {
			if err := putDecision(tx, *w.Decision, decisionValue); err != nil {
				return err
			}
		}
		if w.Fire != nil {
			return putFire(tx, *w.Fire, fireData)
		}
		return nil
	}
	return check, put, nil
}
