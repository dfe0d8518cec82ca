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

// firePK is the partition of one hook's fire records.
func firePK(hookGroupID, hookID string) string { return hookPartition("FIRE", hookGroupID, hookID) }

// hookPartition is the key of one hook's partition of a kind of record. The
// group id's length makes it unambiguous whatever characters the ids contain.
func hookPartition(kind, hookGroupID, hookID string) string {
	return kind + "#" + strconv.Itoa(len(hookGroupID)) + "#" + hookGroupID + "#" + hookID
}

// PutLastFire implements store.Store. The sort key is the fire's time and
// taskId, so a retried fire overwrites its own record.
func (s *Store) PutLastFire(ctx context.Context, f store.LastFire) error {
	if err := store.CheckFire(f); err != nil {
		return fmt.Errorf("dynamo: put fire record of %s/%s: %w", f.HookGroupID, f.HookID, err)
	}
	if err := s.putCounted(ctx, f.HookGroupID, f.HookID, []countedPut{{item: fireItem(f), kind: kindFires, keep: f.KeepAtMost}}); err != nil {
		return fmt.Errorf("dynamo: put last fire %s/%s %s: %w", f.HookGroupID, f.HookID, f.TaskID, err)
	}
	return nil
}

func fireSK(f store.LastFire) string { return formatTime(f.TaskCreateTime) + "#" + f.TaskID }

func fireItem(f store.LastFire) map[string]types.AttributeValue {
	item := key(firePK(f.HookGroupID, f.HookID), fireSK(f))
	putS(item, attrFiredBy, f.FiredBy)
	putS(item, attrTaskID, f.TaskID)
	item[attrCreatedAt] = avS(formatTime(f.TaskCreateTime))
	putS(item, attrResult, f.Result)
	putS(item, attrError, f.Error)
	putExpiry(item, f.ExpiresAt)
	putS(item, attrDecisionID, f.DecisionID)
	putS(item, attrTaskState, f.TaskState)
	putS(item, attrTaskReason, f.TaskReason)
	if f.TaskRunID != 0 {
		item[attrTaskRunID] = avN(strconv.Itoa(f.TaskRunID))
	}
	if !f.TaskResolved.IsZero() {
		item[attrTaskResolved] = avS(formatTime(f.TaskResolved))
	}
	if !f.CheckAt.IsZero() {
		item[attrCheckAt] = avS(formatTime(f.CheckAt))
		item[attrChecks] = avN(strconv.Itoa(f.Checks))
		// In the due index while awaited: never checked by creation
		// time, then by the next check.
		if f.Checks == 0 {
			item[attrDueShard], item[attrDueAt] = avS(awaitedNewShard), avS(formatTime(f.TaskCreateTime))
		} else {
			item[attrDueShard], item[attrDueAt] = avS(awaitedCheckedShard), avS(formatTime(f.CheckAt))
		}
	}
	return item
}

// ListLastFires implements store.Store: newest first. Records past their
// expiry are listed until DynamoDB's TTL removes them.
func (s *Store) ListLastFires(ctx context.Context, hookGroupID, hookID string, p store.Page) ([]store.LastFire, string, error) {
	fires, next, err := listNewestFirst(ctx, s, firePK(hookGroupID, hookID), p, func(item map[string]types.AttributeValue) (store.LastFire, error) {
		return decodeFire(hookGroupID, hookID, item)
	})
	if err != nil {
		return nil, "", fmt.Errorf("dynamo: list last fires of %s/%s: %w", hookGroupID, hookID, err)
	}
	return fires, next, nil
}

// listNewestFirst reads a page of one partition in descending sort-key
// order and decodes each item.
func listNewestFirst[T any](ctx context.Context, s *Store, pk string, p store.Page, decode func(map[string]types.AttributeValue) (T, error)) ([]T, string, error) {
	in := s.partitionQuery(pk)
	in.ScanIndexForward = aws.Bool(false)
	items, next, err := s.queryPage(ctx, in, pk, p)
	if err != nil {
		return nil, "", err
	}
	out := make([]T, 0, len(items))
	for _, item := range items {
		v, err := decode(item)
		if err != nil {
			return nil, "", err
		}
		out = append(out, v)
	}
	return out, next, nil
}

func decodeFire(hookGroupID, hookID string, item map[string]types.AttributeValue) (store.LastFire, error) {
	f := store.LastFire{HookGroupID: hookGroupID, HookID: hookID}
	var err error
	if f.FiredBy, err = getS(item, attrFiredBy); err != nil {
		return f, err
	}
	if f.TaskID, err = getS(item, attrTaskID); err != nil {
		return f, err
	}
	if f.TaskCreateTime, err = getTime(item, attrCreatedAt); err != nil {
		return f, err
	}
	if f.Result, err = getS(item, attrResult); err != nil {
		return f, err
	}
	if f.Error, err = getS(item, attrError); err != nil {
		return f, err
	}
	if f.ExpiresAt, err = getTime(item, attrExpiry); err != nil {
		return f, err
	}
	if f.DecisionID, err = getS(item, attrDecisionID); err != nil {
		return f, err
	}
	if f.TaskState, err = getS(item, attrTaskState); err != nil {
		return f, err
	}
	if f.TaskReason, err = getS(item, attrTaskReason); err != nil {
		return f, err
	}
	if f.TaskRunID, err = getOptionalInt(item, attrTaskRunID); err != nil {
		return f, err
	}
	if f.TaskResolved, err = getTime(item, attrTaskResolved); err != nil {
		return f, err
	}
	if f.CheckAt, err = getTime(item, attrCheckAt); err != nil {
		return f, err
	}
	if f.Checks, err = getOptionalInt(item, attrChecks); err != nil {
		return f, err
	}
	return f, nil
}

// getOptionalInt reads an optional number attribute; absent is 0.
func getOptionalInt(item map[string]types.AttributeValue, name string) (int, error) {
	if _, ok := item[name]; !ok {
		return 0, nil
	}
	n, err := getN(item, name)
	return int(n), err
}

// batchWriteMax is BatchWriteItem's limit on requests per call.
const batchWriteMax = 25

// DeleteLastFires implements store.Store: it reads the keys of the hook's
// records and deletes them in batches.
func (s *Store) DeleteLastFires(ctx context.Context, hookGroupID, hookID string) error {
	if err := s.deletePartition(ctx, firePK(hookGroupID, hookID)); err != nil {
		return fmt.Errorf("dynamo: delete last fires of %s/%s: %w", hookGroupID, hookID, err)
	}
	if err := s.deleteCounts(ctx, hookGroupID, hookID, kindFires); err != nil {
		return fmt.Errorf("dynamo: delete last fires of %s/%s: count: %w", hookGroupID, hookID, err)
	}
	return nil
}

func (s *Store) deletePartition(ctx context.Context, pk string) error {
	in := s.partitionQuery(pk)
	in.ProjectionExpression = aws.String("#pk, #sk")
	in.ExpressionAttributeNames["#sk"] = attrSK
	for {
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return mapErr(err)
		}
		for items := out.Items; len(items) > 0; {
			n := min(len(items), batchWriteMax)
			if err := s.batchDelete(ctx, items[:n]); err != nil {
				return err
			}
			items = items[n:]
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// batchDelete deletes up to batchWriteMax items by key, retrying the
// requests DynamoDB leaves unprocessed.
func (s *Store) batchDelete(ctx context.Context, keys []map[string]types.AttributeValue) error {
	reqs := make([]types.WriteRequest, 0, len(keys))
	for _, k := range keys {
		reqs = append(reqs, types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}})
	}
	return s.batchWrite(ctx, reqs)
}

// batchWrite sends up to batchWriteMax write requests in one
// BatchWriteItem, retrying those DynamoDB leaves unprocessed.
func (s *Store) batchWrite(ctx context.Context, reqs []types.WriteRequest) error {
	pending := map[string][]types.WriteRequest{*s.table: reqs}
	for attempt := 0; len(pending) > 0; attempt++ {
		if attempt > 0 {
			if err := backoff(ctx, attempt); err != nil {
				return err
			}
		}
		out, err := s.client.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
		if err != nil {
			return mapErr(err)
		}
		pending = out.UnprocessedItems
	}
	return nil
}
