package dynamo

import (
	"context"
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

// CreateClaim implements store.Store. An expired claim still stored (TTL
// deletes lazily) is replaced as if absent.
func (s *Store) CreateClaim(ctx context.Context, c store.Claim, now time.Time) error {
	if err := store.CheckClaim(c); err != nil {
		return fmt.Errorf("dynamo: create claim %s: %w", c.Key, err)
	}
	item := claimKey(c.Key)
	if len(c.Body) > 0 {
		item[attrBody] = avB(c.Body)
	}
	item[attrCreatedAt] = avS(formatTime(c.CreatedAt))
	putExpiry(item, c.ExpiresAt)
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 s.table,
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(#pk) OR #expiry <= :now"),
		ExpressionAttributeNames:  names(attrPK, attrExpiry),
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": avS(formatTime(now))},
	})
	if err != nil {
		return fmt.Errorf("dynamo: create claim %s: %w", c.Key, mapErr(err))
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

func (s *Store) getClaim(ctx context.Context, k string, now time.Time) (store.Claim, error) {
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
	if c.Body, err = getB(out.Item, attrBody); err != nil {
		return store.Claim{}, err
	}
	if c.CreatedAt, err = getTime(out.Item, attrCreatedAt); err != nil {
		return store.Claim{}, err
	}
	return c, nil
}

// ReplaceClaim implements store.Store: one put, conditional on the body
// read and on the claim being live.
func (s *Store) ReplaceClaim(ctx context.Context, c store.Claim, oldBody []byte, now time.Time) error {
	if err := store.CheckClaim(c); err != nil {
		return fmt.Errorf("dynamo: replace claim %s: %w", c.Key, err)
	}
	item := claimKey(c.Key)
	if len(c.Body) > 0 {
		item[attrBody] = avB(c.Body)
	}
	item[attrCreatedAt] = avS(formatTime(c.CreatedAt))
	putExpiry(item, c.ExpiresAt)
	// A claim without a body has no body attribute.
	cond, attrs := "attribute_exists(#pk) AND attribute_not_exists(#body)", []string{attrPK, attrBody, attrExpiry}
	values := map[string]types.AttributeValue{":now": avS(formatTime(now))}
	if len(oldBody) > 0 {
		cond, attrs = "#body = :old", attrs[1:]
		values[":old"] = avB(oldBody)
	}
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 s.table,
		Item:                      item,
		ConditionExpression:       aws.String(cond + " AND (attribute_not_exists(#expiry) OR #expiry > :now)"),
		ExpressionAttributeNames:  names(attrs...),
		ExpressionAttributeValues: values,
	})
	if err != nil {
		return fmt.Errorf("dynamo: replace claim %s: %w", c.Key, mapErr(err))
	}
	return nil
}

// DeleteClaim implements store.Store.
func (s *Store) DeleteClaim(ctx context.Context, k string) error {
	if _, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: s.table, Key: claimKey(k)}); err != nil {
		return fmt.Errorf("dynamo: delete claim %s: %w", k, mapErr(err))
	}
	return nil
}
