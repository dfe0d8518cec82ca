package dynamo

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hookline/hookline/shared/store"
)

const (
	hookPrefix = "HOOK#"
	groupsPK   = "GROUPS"
)

func hookPK(hookGroupID string) string { return hookPrefix + hookGroupID }

func hookKey(hookGroupID, hookID string) map[string]types.AttributeValue {
	return key(hookPK(hookGroupID), hookID)
}

func markerKey(hookGroupID string) map[string]types.AttributeValue {
	return key(groupsPK, hookGroupID)
}

// hookItem is the stored form of h, including its due index attributes:
// its definition inline, or the chunks (chunks.go) that hold it.
func hookItem(h store.Hook, ref chunkRef) map[string]types.AttributeValue {
	item := hookKey(h.HookGroupID, h.HookID)
	switch {
	case ref.n > 0:
		putHeadChunks(item, ref)
	case len(h.Definition) > 0:
		item[attrDef] = avB(h.Definition)
	}
	putS(item, attrToken, h.TriggerToken)
	putS(item, attrNextTaskID, h.NextTaskID)
	putS(item, attrSchedKey, h.ScheduleKey)
	if !h.NextSlot.IsZero() {
		item[attrNextSlot] = avS(formatTime(h.NextSlot))
	}
	item[attrVersion] = avN(strconv.FormatInt(h.Version, 10))
	if !h.NextScheduledDate.IsZero() {
		at := formatTime(h.NextScheduledDate)
		item[attrNextAt] = avS(at)
		item[attrDueShard] = avS(dueShard)
		item[attrDueAt] = avS(at)
	}
	return item
}

// decodeHook reads a hook item. A chunked hook comes back without its
// definition, and with the chunks to read it from.
func decodeHook(item map[string]types.AttributeValue) (store.Hook, chunkRef, error) {
	h, err := decodeHookFields(item)
	if err != nil {
		return store.Hook{}, chunkRef{}, err
	}
	ref, err := headChunks(item)
	if err != nil {
		return store.Hook{}, chunkRef{}, err
	}
	return h, ref, nil
}

func decodeHookFields(item map[string]types.AttributeValue) (store.Hook, error) {
	pk, err := getS(item, attrPK)
	if err != nil {
		return store.Hook{}, err
	}
	group, ok := strings.CutPrefix(pk, hookPrefix)
	if !ok {
		return store.Hook{}, fmt.Errorf("item %q is not a hook", pk)
	}
	var h store.Hook
	h.HookGroupID = group
	if h.HookID, err = getS(item, attrSK); err != nil {
		return store.Hook{}, err
	}
	if h.Definition, err = getB(item, attrDef); err != nil {
		return store.Hook{}, err
	}
	if h.TriggerToken, err = getS(item, attrToken); err != nil {
		return store.Hook{}, err
	}
	if h.NextTaskID, err = getS(item, attrNextTaskID); err != nil {
		return store.Hook{}, err
	}
	if h.NextScheduledDate, err = getTime(item, attrNextAt); err != nil {
		return store.Hook{}, err
	}
	if h.NextSlot, err = getTime(item, attrNextSlot); err != nil {
		return store.Hook{}, err
	}
	if h.ScheduleKey, err = getS(item, attrSchedKey); err != nil {
		return store.Hook{}, err
	}
	if h.Version, err = getN(item, attrVersion); err != nil {
		return store.Hook{}, err
	}
	return h, nil
}

// CreateHook implements store.Store. The hook is written before its group
// marker (see the package doc).
func (s *Store) CreateHook(ctx context.Context, h store.Hook) (store.Hook, error) {
	if err := store.CheckHook(h); err != nil {
		return store.Hook{}, fmt.Errorf("dynamo: create hook %s/%s: %w", h.HookGroupID, h.HookID, err)
	}
	h.Version = 1
	ref, err := s.putChunks(ctx, chunkPK(h.HookGroupID, h.HookID), h.Definition, time.Time{})
	if err != nil {
		return store.Hook{}, fmt.Errorf("dynamo: create hook %s/%s: %w", h.HookGroupID, h.HookID, err)
	}
	_, err = s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                s.table,
		Item:                     hookItem(h, ref),
		ConditionExpression:      aws.String("attribute_not_exists(#pk)"),
		ExpressionAttributeNames: names(attrPK),
	})
	if err = mapErr(err); err != nil {
		if errors.Is(err, store.ErrConflict) {
			// The head was not written: nothing names the new chunks.
			if derr := s.dropChunks(ctx, chunkPK(h.HookGroupID, h.HookID), ref); derr != nil {
				err = fmt.Errorf("%w (and deleting its unused chunks: %w)", err, derr)
			}
			// The hook exists, so its group needs the marker; a create
			// that failed after its hook write is repaired by its retry.
			if perr := s.putMarker(ctx, h.HookGroupID); perr != nil {
				err = fmt.Errorf("%w (and repairing group marker: %w)", err, perr)
			}
		}
		return store.Hook{}, fmt.Errorf("dynamo: create hook %s/%s: %w", h.HookGroupID, h.HookID, err)
	}
	if ref.n > 0 {
		// Leftovers of an earlier hook of these ids; a failure leaves
		// them to the next write.
		_ = s.dropLeftoverChunks(ctx, chunkPK(h.HookGroupID, h.HookID), ref.gen)
	}
	if err := s.putMarker(ctx, h.HookGroupID); err != nil {
		return store.Hook{}, fmt.Errorf("dynamo: create hook %s/%s: hook written, group marker not: %w", h.HookGroupID, h.HookID, err)
	}
	return h, nil
}

// GetHook implements store.Store.
func (s *Store) GetHook(ctx context.Context, hookGroupID, hookID string) (store.Hook, error) {
	h, err := s.getHook(ctx, hookGroupID, hookID)
	if err != nil {
		return store.Hook{}, fmt.Errorf("dynamo: get hook %s/%s: %w", hookGroupID, hookID, err)
	}
	return h, nil
}

// getHook reads a hook and, when it is chunked, its chunks; when a writer
// replaced them between the two reads, it reads again.
func (s *Store) getHook(ctx context.Context, hookGroupID, hookID string) (store.Hook, error) {
	return s.readHook(ctx, hookGroupID, hookID, func() (map[string]types.AttributeValue, error) {
		out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      s.table,
			Key:            hookKey(hookGroupID, hookID),
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return nil, mapErr(err)
		}
		return out.Item, nil
	})
}

// batchGetHook is getHook through BatchGetItem, for the listings, whose
// grants name that action.
func (s *Store) batchGetHook(ctx context.Context, hookGroupID, hookID string) (store.Hook, error) {
	return s.readHook(ctx, hookGroupID, hookID, func() (map[string]types.AttributeValue, error) {
		out, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: map[string]types.KeysAndAttributes{
			*s.table: {Keys: []map[string]types.AttributeValue{hookKey(hookGroupID, hookID)}, ConsistentRead: aws.Bool(true)},
		}})
		if err != nil {
			return nil, mapErr(err)
		}
		if len(out.UnprocessedKeys) > 0 {
			return nil, errors.New("the hook's read was left unprocessed")
		}
		if items := out.Responses[*s.table]; len(items) > 0 {
			return items[0], nil
		}
		return nil, nil
	})
}

// readHook reads a hook's head with get (nil: no such hook) and its
// chunks, again while a writer replaces them under it.
func (s *Store) readHook(ctx context.Context, hookGroupID, hookID string, get func() (map[string]types.AttributeValue, error)) (store.Hook, error) {
	for range maxChunkRereads {
		item, err := get()
		if err != nil {
			return store.Hook{}, err
		}
		if item == nil {
			return store.Hook{}, store.ErrNotFound
		}
		h, ref, err := decodeHook(item)
		if err != nil || ref.n == 0 {
			return h, err
		}
		h.Definition, err = s.readChunks(ctx, chunkPK(hookGroupID, hookID), ref)
		if !errors.Is(err, errChunkMissing) {
			return h, err
		}
	}
	return store.Hook{}, fmt.Errorf("%w after %d reads: the hook keeps changing", errChunkMissing, maxChunkRereads)
}

// withChunks completes hooks listed by a query or a batch read: each
// chunked one gets its definition from its chunks, or, when a writer
// replaced them meanwhile, is read again whole; one deleted meanwhile is
// left out.
func (s *Store) withChunks(ctx context.Context, hooks []store.Hook, refs []chunkRef) ([]store.Hook, error) {
	out := hooks[:0]
	for i, h := range hooks {
		if refs[i].n > 0 {
			def, err := s.readChunks(ctx, chunkPK(h.HookGroupID, h.HookID), refs[i])
			switch {
			case errors.Is(err, errChunkMissing):
				h, err = s.batchGetHook(ctx, h.HookGroupID, h.HookID)
				if errors.Is(err, store.ErrNotFound) {
					continue
				}
				if err != nil {
					return nil, err
				}
			case err != nil:
				return nil, err
			default:
				h.Definition = def
			}
		}
		out = append(out, h)
	}
	return out, nil
}

// UpdateHook implements store.Store with one put conditional on the
// version read by the caller. A chunked hook whose definition does not
// change (every scheduled fire advances the hook with an update) keeps
// its chunks: the put names the generation it read, and is conditional on
// the head still naming it.
func (s *Store) UpdateHook(ctx context.Context, h store.Hook) (store.Hook, error) {
	if err := store.CheckHook(h); err != nil {
		return store.Hook{}, fmt.Errorf("dynamo: update hook %s/%s: %w", h.HookGroupID, h.HookID, err)
	}
	expected := h.Version
	h.Version = expected + 1
	pk := chunkPK(h.HookGroupID, h.HookID)
	var ref chunkRef
	if len(h.Definition) > inlineMax {
		var err error
		if ref, err = s.keptChunks(ctx, h, expected); err != nil {
			return store.Hook{}, fmt.Errorf("dynamo: update hook %s/%s: %w", h.HookGroupID, h.HookID, err)
		}
	}
	kept := ref.n > 0
	cond := "attribute_exists(#pk) AND #ver = :expected"
	attrs := []string{attrPK, attrVersion}
	values := map[string]types.AttributeValue{":expected": avN(strconv.FormatInt(expected, 10))}
	if kept {
		// The version alone does not say the chunks are still these: a
		// hook deleted and created again starts at version 1 again.
		cond += " AND #chunkGen = :gen"
		attrs = append(attrs, attrChunkGen)
		values[":gen"] = avS(ref.gen)
	} else {
		var err error
		if ref, err = s.putChunks(ctx, pk, h.Definition, time.Time{}); err != nil {
			return store.Hook{}, fmt.Errorf("dynamo: update hook %s/%s: %w", h.HookGroupID, h.HookID, err)
		}
	}
	out, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                           s.table,
		Item:                                hookItem(h, ref),
		ConditionExpression:                 aws.String(cond),
		ExpressionAttributeNames:            names(attrs...),
		ExpressionAttributeValues:           values,
		ReturnValues:                        types.ReturnValueAllOld,
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	})
	if err != nil {
		err = s.explainRefusal(ctx, err, h.HookGroupID, h.HookID)
		if !kept && (errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound)) {
			// The head was not written: nothing names the new chunks.
			if derr := s.dropChunks(ctx, pk, ref); derr != nil {
				err = fmt.Errorf("%w (and deleting its unused chunks: %w)", err, derr)
			}
		}
		return store.Hook{}, fmt.Errorf("dynamo: update hook %s/%s: %w", h.HookGroupID, h.HookID, err)
	}
	if !kept {
		if old := s.dropReplacedChunks(ctx, h.HookGroupID, h.HookID, out.Attributes); old.n > 0 || ref.n > 0 {
			// A failure leaves the leftovers to the next write.
			_ = s.dropLeftoverChunks(ctx, pk, ref.gen)
		}
	}
	return h, nil
}

// keptChunks returns the chunks of the stored hook when they can serve h
// as they are: their digest is that of h's definition. A head without a
// digest (written before heads kept one) or with other chunks gives the
// zero chunkRef: the update writes new chunks. A hook that is gone, or no
// longer at version expected, is refused here, before any chunk is
// written for it. The head read is small: a chunked head holds no
// definition.
func (s *Store) keptChunks(ctx context.Context, h store.Hook, expected int64) (chunkRef, error) {
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                s.table,
		Key:                      hookKey(h.HookGroupID, h.HookID),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#ver, #chunks, #chunkGen, #digest"),
		ExpressionAttributeNames: names(attrVersion, attrChunks, attrChunkGen, attrDigest),
	})
	if err != nil {
		return chunkRef{}, mapErr(err)
	}
	if out.Item == nil {
		return chunkRef{}, store.ErrNotFound
	}
	if v, err := getN(out.Item, attrVersion); err != nil || v != expected {
		return chunkRef{}, cmp.Or(err, store.ErrConflict)
	}
	ref, err := headChunks(out.Item)
	if err != nil || ref.digest == nil || !bytes.Equal(ref.digest, bodyDigest(h.Definition)) {
		return chunkRef{}, err
	}
	return ref, nil
}

// explainRefusal turns a write refused on a hook into ErrNotFound when the
// hook is missing and keeps ErrConflict when it exists. DynamoDB returns the
// current item with the refusal; an emulator that does not is answered with
// a consistent read.
func (s *Store) explainRefusal(ctx context.Context, err error, hookGroupID, hookID string) error {
	err = mapErr(err)
	if !errors.Is(err, store.ErrConflict) || refusedItem(err) != nil {
		return err
	}
	// The head's key says whether the hook exists; its definition, maybe
	// in chunks, is not needed.
	out, gerr := s.client.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:                s.table,
		Key:                      hookKey(hookGroupID, hookID),
		ConsistentRead:           aws.Bool(true),
		ProjectionExpression:     aws.String("#pk"),
		ExpressionAttributeNames: names(attrPK),
	})
	switch {
	case gerr != nil:
		return fmt.Errorf("%w (and reading the hook back: %w)", err, mapErr(gerr))
	case out.Item == nil:
		return store.ErrNotFound
	default:
		return err
	}
}

// DeleteHook implements store.Store, then removes the group marker if the
// group became empty (see the package doc).
func (s *Store) DeleteHook(ctx context.Context, hookGroupID, hookID string, version int64) error {
	in := &dynamodb.DeleteItemInput{
		TableName:                           s.table,
		Key:                                 hookKey(hookGroupID, hookID),
		ConditionExpression:                 aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames:            names(attrPK),
		ReturnValuesOnConditionCheckFailure: types.ReturnValuesOnConditionCheckFailureAllOld,
	}
	if version > 0 {
		in.ConditionExpression = aws.String("attribute_exists(#pk) AND #ver = :expected")
		in.ExpressionAttributeNames = names(attrPK, attrVersion)
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":expected": avN(strconv.FormatInt(version, 10))}
	}
	in.ReturnValues = types.ReturnValueAllOld
	out, err := s.client.DeleteItem(ctx, in)
	if err != nil {
		return fmt.Errorf("dynamo: delete hook %s/%s: %w", hookGroupID, hookID, s.explainRefusal(ctx, err, hookGroupID, hookID))
	}
	s.dropReplacedChunks(ctx, hookGroupID, hookID, out.Attributes)
	// Leftovers of any generation, whatever the head was: a crashed
	// update may have left chunks of a hook held inline. A failure leaves
	// them in place, named by nothing.
	_ = s.dropLeftoverChunks(ctx, chunkPK(hookGroupID, hookID), "")
	if err := s.dropMarkerIfEmpty(ctx, hookGroupID); err != nil {
		return fmt.Errorf("dynamo: delete hook %s/%s: hook deleted, group marker not updated: %w", hookGroupID, hookID, err)
	}
	return nil
}

// dropReplacedChunks deletes the chunks the head old named, once a write
// replaced or deleted it, and returns them. It cannot fail the write,
// which is done: chunks it leaves (a failed delete) are named by no head,
// take storage only, and go with the hook's next write that replaces its
// chunks, or its delete (dropLeftoverChunks).
func (s *Store) dropReplacedChunks(ctx context.Context, hookGroupID, hookID string, old map[string]types.AttributeValue) chunkRef {
	ref, err := headChunks(old)
	if err != nil || ref.n == 0 {
		return chunkRef{}
	}
	_ = s.dropChunks(ctx, chunkPK(hookGroupID, hookID), ref)
	return ref
}

func (s *Store) putMarker(ctx context.Context, hookGroupID string) error {
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: s.table, Item: markerKey(hookGroupID)})
	return mapErr(err)
}

// dropMarkerIfEmpty deletes the group's marker when the group has no hook,
// and puts it back when a hook was created meanwhile.
func (s *Store) dropMarkerIfEmpty(ctx context.Context, hookGroupID string) error {
	empty, err := s.groupEmpty(ctx, hookGroupID)
	if err != nil || !empty {
		return err
	}
	if _, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: s.table, Key: markerKey(hookGroupID)}); err != nil {
		return mapErr(err)
	}
	// A create that wrote its hook before the delete above may have put
	// its marker before it too: look again.
	empty, err = s.groupEmpty(ctx, hookGroupID)
	if err != nil || empty {
		return err
	}
	return s.putMarker(ctx, hookGroupID)
}

func (s *Store) groupEmpty(ctx context.Context, hookGroupID string) (bool, error) {
	in := s.partitionQuery(hookPK(hookGroupID))
	in.Limit = aws.Int32(1)
	in.ProjectionExpression = aws.String("#pk")
	out, err := s.client.Query(ctx, in)
	if err != nil {
		return false, mapErr(err)
	}
	return len(out.Items) == 0, nil
}

// ListHookGroups implements store.Store. It reads only the group markers.
func (s *Store) ListHookGroups(ctx context.Context, p store.Page) ([]string, string, error) {
	in := s.partitionQuery(groupsPK)
	in.ProjectionExpression = aws.String("#sk")
	in.ExpressionAttributeNames["#sk"] = attrSK
	items, next, err := s.queryPage(ctx, in, groupsPK, p)
	if err != nil {
		return nil, "", fmt.Errorf("dynamo: list hook groups: %w", err)
	}
	groups := make([]string, 0, len(items))
	for _, item := range items {
		g, err := getS(item, attrSK)
		if err != nil {
			return nil, "", fmt.Errorf("dynamo: list hook groups: %w", err)
		}
		groups = append(groups, g)
	}
	return groups, next, nil
}

// ListHooks implements store.Store.
func (s *Store) ListHooks(ctx context.Context, hookGroupID string, p store.Page) ([]store.Hook, string, error) {
	pk := hookPK(hookGroupID)
	items, next, err := s.queryPage(ctx, s.partitionQuery(pk), pk, p)
	if err != nil {
		return nil, "", fmt.Errorf("dynamo: list hooks of %s: %w", hookGroupID, err)
	}
	hooks := make([]store.Hook, 0, len(items))
	refs := make([]chunkRef, 0, len(items))
	for _, item := range items {
		h, ref, err := decodeHook(item)
		if err != nil {
			return nil, "", fmt.Errorf("dynamo: list hooks of %s: %w", hookGroupID, err)
		}
		hooks, refs = append(hooks, h), append(refs, ref)
	}
	if hooks, err = s.withChunks(ctx, hooks, refs); err != nil {
		return nil, "", fmt.Errorf("dynamo: list hooks of %s: %w", hookGroupID, err)
	}
	return hooks, next, nil
}

// batchGetMax is BatchGetItem's limit on keys per call.
const batchGetMax = 100

// ListDue implements store.Store: it queries the due index, then reads the
// hooks it names with consistent reads and keeps those still due.
func (s *Store) ListDue(ctx context.Context, now time.Time, limit int) ([]store.Hook, error) {
	if limit <= 0 {
		limit = store.DefaultPageLimit
	}
	limit = min(limit, math.MaxInt32)
	cutoff := formatTime(now)
	in := &dynamodb.QueryInput{
		TableName:                s.table,
		IndexName:                aws.String(DueIndex),
		KeyConditionExpression:   aws.String("#dueShard = :shard AND #dueAt < :now"),
		ExpressionAttributeNames: names(attrDueShard, attrDueAt),
		ExpressionAttributeValues: map[string]types.AttributeValue{
			":shard": avS(dueShard),
			":now":   avS(cutoff),
		},
	}
	var due []store.Hook
	for len(due) < limit {
		in.Limit = aws.Int32(int32(limit - len(due)))
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, fmt.Errorf("dynamo: list due hooks: %w", mapErr(err))
		}
		keys := make([]map[string]types.AttributeValue, 0, len(out.Items))
		for _, item := range out.Items {
			keys = append(keys, map[string]types.AttributeValue{attrPK: item[attrPK], attrSK: item[attrSK]})
		}
		hooks, err := s.batchGetHooks(ctx, keys)
		if err != nil {
			return nil, fmt.Errorf("dynamo: list due hooks: %w", err)
		}
		for _, h := range hooks {
			// The index is eventually consistent: trust only the hook.
			if !h.NextScheduledDate.IsZero() && h.NextScheduledDate.Before(now) {
				due = append(due, h)
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
	sort.SliceStable(due, func(i, j int) bool {
		a, b := due[i], due[j]
		if !a.NextScheduledDate.Equal(b.NextScheduledDate) {
			return a.NextScheduledDate.Before(b.NextScheduledDate)
		}
		if a.HookGroupID != b.HookGroupID {
			return a.HookGroupID < b.HookGroupID
		}
		return a.HookID < b.HookID
	})
	return due, nil
}

// batchGetHooks reads the hooks under keys with consistent reads; missing
// hooks are left out.
func (s *Store) batchGetHooks(ctx context.Context, keys []map[string]types.AttributeValue) ([]store.Hook, error) {
	var hooks []store.Hook
	var refs []chunkRef
	err := s.batchGet(ctx, keys, func(item map[string]types.AttributeValue) error {
		h, ref, err := decodeHook(item)
		if err != nil {
			return err
		}
		hooks, refs = append(hooks, h), append(refs, ref)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return s.withChunks(ctx, hooks, refs)
}

// batchGet reads the items under keys with consistent reads, batchGetMax
// keys a call, again for those left unprocessed, and hands each item read
// to each; missing items are left out.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue, each func(map[string]types.AttributeValue) error) error {
	for len(keys) > 0 {
		n := min(len(keys), batchGetMax)
		pending := map[string]types.KeysAndAttributes{
			*s.table: {Keys: keys[:n], ConsistentRead: aws.Bool(true)},
		}
		keys = keys[n:]
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 0 {
				if err := backoff(ctx, attempt); err != nil {
					return err
				}
			}
			out, err := s.client.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: pending})
			if err != nil {
				return mapErr(err)
			}
			for _, item := range out.Responses[*s.table] {
				if err := each(item); err != nil {
					return err
				}
			}
			pending = out.UnprocessedKeys
		}
	}
	return nil
}

// maxBackoffAttempts bounds the retries of unprocessed batch items.
const maxBackoffAttempts = 10

// backoff waits before retry number attempt of unprocessed batch items,
// doubling from 10ms up to about a second.
func backoff(ctx context.Context, attempt int) error {
	if attempt > maxBackoffAttempts {
		return fmt.Errorf("batch items still unprocessed after %d attempts", maxBackoffAttempts)
	}
	d := min(10*time.Millisecond<<(attempt-1), time.Second)
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
