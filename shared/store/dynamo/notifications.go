package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hookline/hookline/shared/store"
)

// Notifications: pk NOTIFY#<len(group)>#<group>#<hook>, sk the id;
// attributes body (B), ver (N), expiry and expiresAt (TTL), and while a
// step of their delivery is due, the due index's keys in shard "notify".

const notifyShard = "notify"

func notifyPK(hookGroupID, hookID string) string { return hookPartition("NOTIFY", hookGroupID, hookID) }

func notificationItem(n store.Notification) map[string]types.AttributeValue {
	item := key(notifyPK(n.HookGroupID, n.HookID), n.ID)
	item[attrBody] = avB(n.Body)
	item[attrVersion] = avN(strconv.FormatInt(n.Version, 10))
	putExpiry(item, n.ExpiresAt)
	if !n.DueAt.IsZero() {
		item[attrDueShard], item[attrDueAt] = avS(notifyShard), avS(formatTime(n.DueAt))
	}
	return item
}

func decodeNotification(item map[string]types.AttributeValue) (store.Notification, error) {
	var n store.Notification
	pk, err := getS(item, attrPK)
	if err != nil {
		return n, err
	}
	var ok bool
	if n.HookGroupID, n.HookID, ok = splitHookPartition("NOTIFY", pk); !ok {
		return n, fmt.Errorf("item %q is not a notification", pk)
	}
	if n.ID, err = getS(item, attrSK); err != nil {
		return n, err
	}
	if n.Body, err = getB(item, attrBody); err != nil {
		return n, err
	}
	if n.Version, err = getN(item, attrVersion); err != nil {
		return n, err
	}
	if n.ExpiresAt, err = getTime(item, attrExpiry); err != nil {
		return n, err
	}
	if n.DueAt, err = getTime(item, attrDueAt); err != nil {
		return n, err
	}
	return n, nil
}

// CreateNotification implements store.Store.
func (s *Store) CreateNotification(ctx context.Context, n store.Notification) (store.Notification, error) {
	if err := store.CheckNotification(n); err != nil {
		return store.Notification{}, fmt.Errorf("dynamo: create notification %s of %s/%s: %w", n.ID, n.HookGroupID, n.HookID, err)
	}
	n.Version = 1
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: s.table, Item: notificationItem(n),
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: names(attrPK),
	})
	if err != nil {
		return store.Notification{}, fmt.Errorf("dynamo: create notification %s of %s/%s: %w", n.ID, n.HookGroupID, n.HookID, mapErr(err))
	}
	return n, nil
}

// GetNotification implements store.Store.
func (s *Store) GetNotification(ctx context.Context, hookGroupID, hookID, id string) (store.Notification, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, Key: key(notifyPK(hookGroupID, hookID), id), ConsistentRead: aws.Bool(true)})
	if err == nil && out.Item == nil {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Notification{}, fmt.Errorf("dynamo: get notification %s of %s/%s: %w", id, hookGroupID, hookID, mapErr(err))
	}
	n, err := decodeNotification(out.Item)
	if err != nil {
		return store.Notification{}, fmt.Errorf("dynamo: get notification %s of %s/%s: %w", id, hookGroupID, hookID, err)
	}
	return n, nil
}

// UpdateNotification implements store.Store: a put conditional on the
// version read. A refusal returns the stored item, which tells a
// conflict from a notification that is gone.
func (s *Store) UpdateNotification(ctx context.Context, n store.Notification) (store.Notification, error) {
	if err := store.CheckNotification(n); err != nil {
		return store.Notification{}, fmt.Errorf("dynamo: update notification %s of %s/%s: %w", n.ID, n.HookGroupID, n.HookID, err)
	}
	want := n.Version
	n.Version++
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName: s.table, Item: notificationItem(n),
		ConditionExpression:                 aws.String("attribute_exists(#pk) AND #ver = :expected"),
		ExpressionAttributeNames:            names(attrPK, attrVersion),
		ExpressionAttributeValues:           map[string]types.AttributeValue{":expected": avN(strconv.FormatInt(want, 10))},
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err = mapErr(err); errors.Is(err, store.ErrConflict) {
		if old := refusedItem(err); old == nil {
			// No item came back: look, to tell gone from changed.
			if _, gerr := s.GetNotification(ctx, n.HookGroupID, n.HookID, n.ID); errors.Is(gerr, store.ErrNotFound) {
				err = store.ErrNotFound
			}
		}
	}
	if err != nil {
		return store.Notification{}, fmt.Errorf("dynamo: update notification %s of %s/%s: %w", n.ID, n.HookGroupID, n.HookID, err)
	}
	return n, nil
}

// ListDueNotifications implements store.Store: a query of the due index's
// notify shard, then consistent reads of what it names.
func (s *Store) ListDueNotifications(ctx context.Context, now time.Time, limit int) ([]store.Notification, error) {
	if limit <= 0 {
		limit = store.DefaultPageLimit
	}
	limit = min(limit, math.MaxInt32)
	in := &dynamodb.QueryInput{
		TableName: s.table, IndexName: aws.String(DueIndex),
		KeyConditionExpression:   aws.String("#dueShard = :shard AND #dueAt <= :now"),
		ExpressionAttributeNames: names(attrDueShard, attrDueAt),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":shard": avS(notifyShard), ":now": avS(formatTime(now)),
		},
	}
	var due []store.Notification
	for len(due) < limit {
		in.Limit = aws.Int32(int32(limit - len(due)))
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("dynamo: list due notifications: %w", mapErr(err))
		}
		for _, item := range out.Items {
			res, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, ConsistentRead: aws.Bool(true),
				Key: map[string]types.AttributeValue{attrPK: item[attrPK], attrSK: item[attrSK]}})
			if err != nil {
				return nil, fmt.Errorf("dynamo: list due notifications: %w", mapErr(err))
			}
			if res.Item == nil {
				continue
			}
			n, err := decodeNotification(res.Item)
			if err != nil {
				return nil, fmt.Errorf("dynamo: list due notifications: %w", err)
			}
			// The index is eventually consistent: trust only the item.
			if !n.DueAt.IsZero() && !n.DueAt.After(now) {
				due = append(due, n)
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	sort.SliceStable(due, func(i, j int) bool { return due[i].DueAt.Before(due[j].DueAt) })
	return due, nil
}

// ListNotifications implements store.Store: newest first.
func (s *Store) ListNotifications(ctx context.Context, hookGroupID, hookID string, p store.Page) ([]store.Notification, string, error) {
	out, next, err := listNewestFirst(ctx, s, notifyPK(hookGroupID, hookID), p, decodeNotification)
	if err != nil {
		return nil, "", fmt.Errorf("dynamo: list notifications of %s/%s: %w", hookGroupID, hookID, err)
	}
	return out, next, nil
}

// DeleteNotifications implements store.Store.
func (s *Store) DeleteNotifications(ctx context.Context, hookGroupID, hookID string) error {
	if err := s.deletePartition(ctx, notifyPK(hookGroupID, hookID)); err != nil {
		return fmt.Errorf("dynamo: delete notifications of %s/%s: %w", hookGroupID, hookID, err)
	}
	return nil
}
