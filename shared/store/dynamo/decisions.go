package dynamo

import (
	"context"
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hookline/hookline/shared/store"
)

// decisionPK is the partition of one hook's decision log.
func decisionPK(hookGroupID, hookID string) string {
	return hookPartition("DECISION", hookGroupID, hookID)
}

func decisionItem(d store.Decision) map[string]types.AttributeValue {
	item := key(decisionPK(d.HookGroupID, d.HookID), d.ID)
	item[attrBody] = avB(d.Body)
	putExpiry(item, d.ExpiresAt)
	return item
}

// PutDecision implements store.Store. With a fire record, both items are
// put side by side with the count update (history.go): one round trip,
// without the doubled cost of a transaction (and dynalite, the test
// emulator, has no transactions). If the call fails part way, either item
// may be written; the caller's retry replaces both by key.
func (s *Store) PutDecision(ctx context.Context, d store.Decision, fire *store.LastFire) error {
	if err := store.CheckDecisionWrite(d, fire); err != nil {
		return fmt.Errorf("dynamo: put decision %s of %s/%s: %w", d.ID, d.HookGroupID, d.HookID, err)
	}
	puts := []countedPut{{item: decisionItem(d), kind: kindDecisions, keep: d.KeepAtMost}}
	if fire != nil {
		puts = append(puts, countedPut{item: fireItem(*fire), kind: kindFires, keep: fire.KeepAtMost})
	}
	if err := s.putCounted(ctx, d.HookGroupID, d.HookID, puts); err != nil {
		return fmt.Errorf("dynamo: put decision %s of %s/%s: %w", d.ID, d.HookGroupID, d.HookID, err)
	}
	return nil
}

// GetDecision implements store.Store.
func (s *Store) GetDecision(ctx context.Context, hookGroupID, hookID, id string) (store.Decision, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, Key: key(decisionPK(hookGroupID, hookID), id)})
	if err != nil {
		return store.Decision{}, fmt.Errorf("dynamo: get decision %s of %s/%s: %w", id, hookGroupID, hookID, mapErr(err))
	}
	if out.Item == nil {
		return store.Decision{}, fmt.Errorf("dynamo: get decision %s of %s/%s: %w", id, hookGroupID, hookID, store.ErrNotFound)
	}
	d, err := decodeDecision(hookGroupID, hookID, out.Item)
	if err != nil {
		return store.Decision{}, fmt.Errorf("dynamo: get decision %s of %s/%s: %w", id, hookGroupID, hookID, err)
	}
	return d, nil
}

// ListDecisions implements store.Store: newest first. Decisions past their
// expiry are listed until DynamoDB's TTL removes them.
func (s *Store) ListDecisions(ctx context.Context, hookGroupID, hookID string, p store.Page) ([]store.Decision, string, error) {
	out, next, err := listNewestFirst(ctx, s, decisionPK(hookGroupID, hookID), p, func(item map[string]types.AttributeValue) (store.Decision, error) {
		return decodeDecision(hookGroupID, hookID, item)
	})
	if err != nil {
		return nil, "", fmt.Errorf("dynamo: list decisions of %s/%s: %w", hookGroupID, hookID, err)
	}
	return out, next, nil
}

// DeleteDecisions implements store.Store.
func (s *Store) DeleteDecisions(ctx context.Context, hookGroupID, hookID string) error {
	if err := s.deletePartition(ctx, decisionPK(hookGroupID, hookID)); err != nil {
		return fmt.Errorf("dynamo: delete decisions of %s/%s: %w", hookGroupID, hookID, err)
	}
	if err := s.deleteCounts(ctx, hookGroupID, hookID, kindDecisions); err != nil {
		return fmt.Errorf("dynamo: delete decisions of %s/%s: count: %w", hookGroupID, hookID, err)
	}
	return nil
}

func decodeDecision(hookGroupID, hookID string, item map[string]types.AttributeValue) (store.Decision, error) {
	d := store.Decision{HookGroupID: hookGroupID, HookID: hookID}
	sk, ok := item[attrSK].(*types.AttributeValueMemberS)
	if !ok {
		return d, errors.New("decision item has no sort key")
	}
	d.ID = sk.Value
	var err error
	if d.Body, err = getB(item, attrBody); err != nil {
		return d, err
	}
	if d.ExpiresAt, err = getTime(item, attrExpiry); err != nil {
		return d, err
	}
	return d, nil
}
