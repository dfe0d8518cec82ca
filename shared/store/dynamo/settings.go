package dynamo

import (
	"context"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hookline/hookline/shared/store"
)

const settingsPrefix = "SETTINGS#"

func settingsKey(hookGroupID, hookID string) map[string]types.AttributeValue {
	return key(settingsPrefix+hookGroupID, hookID)
}

// GetSettings implements store.Store.
func (s *Store) GetSettings(ctx context.Context, hookGroupID, hookID string) (store.Settings, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      s.table,
		Key:            settingsKey(hookGroupID, hookID),
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return store.Settings{}, fmt.Errorf("dynamo: get settings %s/%s: %w", hookGroupID, hookID, mapErr(err))
	}
	if out.Item == nil {
		return store.Settings{}, fmt.Errorf("dynamo: get settings %s/%s: %w", hookGroupID, hookID, store.ErrNotFound)
	}
	st := store.Settings{HookGroupID: hookGroupID, HookID: hookID}
	if st.Body, err = getB(out.Item, attrBody); err != nil {
		return store.Settings{}, fmt.Errorf("dynamo: get settings %s/%s: %w", hookGroupID, hookID, err)
	}
	if st.Version, err = getN(out.Item, attrVersion); err != nil {
		return store.Settings{}, fmt.Errorf("dynamo: get settings %s/%s: %w", hookGroupID, hookID, err)
	}
	return st, nil
}

// PutSettings implements store.Store with one put conditional on the
// version read by the caller (absence for version 0).
func (s *Store) PutSettings(ctx context.Context, st store.Settings) (store.Settings, error) {
	if err := store.CheckSettings(st); err != nil {
		return store.Settings{}, fmt.Errorf("dynamo: put settings of %s/%s: %w", st.HookGroupID, st.HookID, err)
	}
	expected := st.Version
	st.Version = expected + 1
	item := settingsKey(st.HookGroupID, st.HookID)
	if len(st.Body) > 0 {
		item[attrBody] = avB(st.Body)
	}
	item[attrVersion] = avN(strconv.FormatInt(st.Version, 10))
	in := &dynamodb.PutItemInput{
		TableName:                s.table,
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: names(attrPK),
	}
	if expected > 0 {
		in.ConditionExpression = aws.String("#ver = :expected")
		in.ExpressionAttributeNames = names(attrVersion)
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":expected": avN(strconv.FormatInt(expected, 10))}
	}
	if _, err := s.client.PutItem(ctx, in); err != nil {
		return store.Settings{}, fmt.Errorf("dynamo: put settings %s/%s: %w", st.HookGroupID, st.HookID, mapErr(err))
	}
	return st, nil
}

// DeleteSettings implements store.Store.
func (s *Store) DeleteSettings(ctx context.Context, hookGroupID, hookID string) error {
	if _, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: s.table, Key: settingsKey(hookGroupID, hookID)}); err != nil {
		return fmt.Errorf("dynamo: delete settings %s/%s: %w", hookGroupID, hookID, mapErr(err))
	}
	return nil
}
