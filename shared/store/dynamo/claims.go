package dynamo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hookline/hookline/shared/store"
)

// claimSK is the sort key of every claim: a claim is alone in its partition.
const claimSK = "-"

func claimKey(k string) map[string]types.AttributeValue { return key("CLAIM#"+k, claimSK) }

// putExpiry stores an expiry twice: exactly, for the store's own checks, and
// in epoch seconds for the table's TTL.
func putExpiry(item map[string]types.AttributeValue, t time.Time) {
	if t.IsZero() {
		return
	}
	item[attrExpiry] = avS(formatTime(t))
	item[attrExpiresAt] = avN(ttlSeconds(t))
}

// claimItem is the stored form of c: its body inline, or the chunks that
// hold it (chunks.go) and the body's digest, which ReplaceClaim's
// condition compares instead of the body.
func claimItem(c store.Claim, ref chunkRef) map[string]types.AttributeValue {
	item := claimKey(c.Key)
	switch {
	case ref.n > 0:
		putHeadChunks(item, ref)
	case len(c.Body) > 0:
		item[attrBody] = avB(c.Body)
	}
	item[attrCreatedAt] = avS(formatTime(c.CreatedAt))
	putExpiry(item, c.ExpiresAt)
	return item
}

// CreateClaim implements store.Store. An expired claim still stored (TTL
// deletes lazily) is replaced as if absent. A body over inlineMax goes in
// chunks, written first and deleted again when the claim is refused.
func (s *Store) CreateClaim(ctx context.Context, c store.Claim, now time.Time) error {
	if err := store.CheckClaim(c); err != nil {
		return fmt.Errorf("dynamo: create claim %s: %w", c.Key, err)
	}
	ref, err := s.putChunks(ctx, claimChunkPK(c.Key), c.Body, c.ExpiresAt)
	if err != nil {
		return fmt.Errorf("dynamo: create claim %s: %w", c.Key, err)
	}
	out, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 s.table,
		Item:                      claimItem(c, ref),
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #expiry <= :now"),
		ExpressionAttributeNames:  names(attrPK, attrExpiry),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": avS(formatTime(now))},
		ReturnValues:              types.ReturnValueAllOld,
	})
	if err = s.afterClaimWrite(ctx, c.Key, ref, out, err); err != nil {
		return fmt.Errorf("dynamo: create claim %s: %w", c.Key, err)
	}
	return nil
}

// afterClaimWrite finishes a claim write whose head put answered out and
// err: a refused put deletes the new chunks, a done one the chunks of the
// claim it replaced. It returns the put's error, mapped.
func (s *Store) afterClaimWrite(ctx context.Context, k string, ref chunkRef, out *dynamodb.PutItemOutput, err error) error {
	if err = mapErr(err); err != nil {
		if errors.Is(err, store.ErrConflict) {
			if derr := s.dropChunks(ctx, claimChunkPK(k), ref); derr != nil {
				err = fmt.Errorf("%w (and deleting its unused chunks: %w)", err, derr)
			}
		}
		return err
	}
	// Chunks left by a failed delete expire with their claim (TTL).
	if old, rerr := headChunks(out.Attributes); rerr == nil && old.n > 0 {
		_ = s.dropChunks(ctx, claimChunkPK(k), old)
	}
	return nil
}

// GetClaim implements store.Store.
func (s *Store) GetClaim(ctx context.Context, k string, now time.Time) (store.Claim, error) {
	c, err := s.getClaim(ctx, k, now)
	if err != nil {
		return store.Claim{}, fmt.Errorf("dynamo: get claim %s: %w", k, err)
	}
	return c, nil
}

// getClaim reads a claim and, when it is chunked, its chunks; when a
// writer replaced them between the two reads, it reads again.
func (s *Store) getClaim(ctx context.Context, k string, now time.Time) (store.Claim, error) {
	for range maxChunkRereads {
		out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, Key: claimKey(k), ConsistentRead: aws.Bool(true)})
		if err != nil {
			return store.Claim{}, mapErr(err)
		}
		if out.Item == nil {
			return store.Claim{}, store.ErrNotFound
		}
		c := store.Claim{Key: k}
		if c.ExpiresAt, err = getTime(out.Item, attrExpiry); err != nil {
			return store.Claim{}, err
		}
		if !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt) {
			return store.Claim{}, store.ErrNotFound
		}
		if c.CreatedAt, err = getTime(out.Item, attrCreatedAt); err != nil {
			return store.Claim{}, err
		}
		ref, err := headChunks(out.Item)
		if err != nil {
			return store.Claim{}, err
		}
		if ref.n == 0 {
			c.Body, err = getB(out.Item, attrBody)
			return c, err
		}
		c.Body, err = s.readChunks(ctx, claimChunkPK(k), ref)
		if !errors.Is(err, errChunkMissing) {
			return c, err
		}
	}
	return store.Claim{}, fmt.Errorf("%w after %d reads: the claim keeps changing", errChunkMissing, maxChunkRereads)
}

// ReplaceClaim implements store.Store: one put, conditional on the body
// read and on the claim being live.
func (s *Store) ReplaceClaim(ctx context.Context, c store.Claim, oldBody []byte, now time.Time) error {
	if err := store.CheckClaim(c); err != nil {
		return fmt.Errorf("dynamo: replace claim %s: %w", c.Key, err)
	}
	// A claim without a body has no body attribute; a chunked one has
	// its digest instead (a body's length says which).
	cond, attrs := "attribute_exists(#pk) AND attribute_not_exists(#body) AND attribute_not_exists(#chunks)", []string{attrPK, attrBody, attrChunks, attrExpiry}
	values := map[string]types.AttributeValue{":now": avS(formatTime(now))}
	switch {
	case len(oldBody) > inlineMax:
		cond, attrs = "#digest = :old", []string{attrDigest, attrExpiry}
		values[":old"] = avB(bodyDigest(oldBody))
	case len(oldBody) > 0:
		cond, attrs = "#body = :old", []string{attrBody, attrExpiry}
		values[":old"] = avB(oldBody)
	}
	ref, err := s.putChunks(ctx, claimChunkPK(c.Key), c.Body, c.ExpiresAt)
	if err != nil {
		return fmt.Errorf("dynamo: replace claim %s: %w", c.Key, err)
	}
	out, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 s.table,
		Item:                      claimItem(c, ref),
		ConditionExpression:       aws.String(cond + " AND (attribute_not_exists(#expiry) OR #expiry > :now)"),
		ExpressionAttributeNames:  names(attrs...),
		ExpressionAttributeValues: values,
		ReturnValues:              types.ReturnValueAllOld,
	})
	if err = s.afterClaimWrite(ctx, c.Key, ref, out, err); err != nil {
		return fmt.Errorf("dynamo: replace claim %s: %w", c.Key, err)
	}
	return nil
}

// DeleteClaim implements store.Store.
func (s *Store) DeleteClaim(ctx context.Context, k string) error {
	out, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: s.table, Key: claimKey(k), ReturnValues: types.ReturnValueAllOld})
	if err != nil {
		return fmt.Errorf("dynamo: delete claim %s: %w", k, mapErr(err))
	}
	if ref, err := headChunks(out.Attributes); err == nil && ref.n > 0 {
		if err := s.dropChunks(ctx, claimChunkPK(k), ref); err != nil {
			return fmt.Errorf("dynamo: delete claim %s: claim deleted, its chunks not (they expire with it): %w", k, err)
		}
	}
	return nil
}
