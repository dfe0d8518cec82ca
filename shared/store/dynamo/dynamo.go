// Package dynamo is the DynamoDB store.Store backend used by the Lambda
// functions (aws-sdk-go-v2).
//
// One table holds everything (TableDefinition is the single source of its
// shape; template.yaml must match it, and a test checks that):
//
//	item          pk                    sk                     other attributes
//	hook          HOOK#<group>          <hookId>               def, token, nextTaskId, nextAt, ver, dueShard+dueAt (scheduled only)
//	group marker  GROUPS                <group>                -
//	claim         CLAIM#<key>           -                      body, createdAt, exp, expiresAt (TTL)
//	fire record   FIRES#<group>#<hook>  <time>#<taskId>        firedBy, taskId, at, result, err, exp, expiresAt (TTL)
//
// Ids cannot contain '#', so the composite keys are unambiguous.
//
// The sparse global index "due" (dueShard, dueAt) holds only scheduled
// hooks, so finding due hooks costs in proportion to the due ones. All due
// hooks share one shard key today; a busy deployment can spread them over
// several shard values and query each.
//
// No operation uses transactions (the test emulator has none). Group markers
// keep listHookGroups from reading hook bodies: CreateHook writes the hook
// and then its marker; DeleteHook deletes the hook, and if the group is then
// empty deletes the marker and looks again, re-writing the marker if a hook
// appeared meanwhile. So a group with hooks always ends with a marker. A
// create that fails between its two writes leaves the hook unlisted in
// listHookGroups until it is re-created (createHook is idempotent) or
// another hook of the group is created.
//
// Expired claims and fire records are deleted by DynamoDB's TTL, which is
// lazy: reads and conditions compare the exact expiry (exp) themselves.
package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hookline/hookline/shared/store"
)

// Store is the DynamoDB backend.
type Store struct {
	db    *dynamodb.Client
	table string
}

var _ store.Store = (*Store)(nil)

// New returns a store over an existing table shaped by TableDefinition.
func New(client *dynamodb.Client, table string) *Store { return &Store{db: client, table: table} }

// Close implements store.Store; the client needs no closing.
func (s *Store) Close() error { return nil }

const (
	dueIndex    = "due"
	dueShard    = "due"
	groupsPK    = "GROUPS"
	ttlAttr     = "expiresAt"
	timeLayout  = "2006-01-02T15:04:05.000000000Z" // fixed width: sorts as time
	batchWrites = 25
	batchGets   = 100
)

// TableDefinition is the table's shape: keys, the sparse due index and
// on-demand billing. Tests create tables from it; template.yaml declares the
// same.
func TableDefinition(table string) *dynamodb.CreateTableInput {
	s := types.ScalarAttributeTypeS
	return &dynamodb.CreateTableInput{
		TableName:   aws.String(table),
		BillingMode: types.BillingModePayPerRequest,
		AttributeDefinitions: []types.AttributeDefinition{
			{AttributeName: aws.String("pk"), AttributeType: s},
			{AttributeName: aws.String("sk"), AttributeType: s},
			{AttributeName: aws.String("dueShard"), AttributeType: s},
			{AttributeName: aws.String("dueAt"), AttributeType: s},
		},
		KeySchema: []types.KeySchemaElement{
			{AttributeName: aws.String("pk"), KeyType: types.KeyTypeHash},
			{AttributeName: aws.String("sk"), KeyType: types.KeyTypeRange},
		},
		GlobalSecondaryIndexes: []types.GlobalSecondaryIndex{{
			IndexName: aws.String(dueIndex),
			KeySchema: []types.KeySchemaElement{
				{AttributeName: aws.String("dueShard"), KeyType: types.KeyTypeHash},
				{AttributeName: aws.String("dueAt"), KeyType: types.KeyTypeRange},
			},
			Projection: &types.Projection{ProjectionType: types.ProjectionTypeKeysOnly},
		}},
	}
}

// TTLAttribute is the attribute DynamoDB's TTL must be enabled on.
func TTLAttribute() string { return ttlAttr }

// mapErr is the one place DynamoDB errors become store errors.
func mapErr(op string, err error) error {
	if err == nil {
		return nil
	}
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("dynamo: %s: %w", op, store.ErrConflict)
	}
	return fmt.Errorf("dynamo: %s: %w", op, err)
}

func str(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func num(n int64) types.AttributeValue {
	return &types.AttributeValueMemberN{Value: strconv.FormatInt(n, 10)}
}

func getS(item map[string]types.AttributeValue, name string) string {
	if v, ok := item[name].(*types.AttributeValueMemberS); ok {
		return v.Value
	}
	return ""
}

func getB(item map[string]types.AttributeValue, name string) []byte {
	if v, ok := item[name].(*types.AttributeValueMemberB); ok {
		return v.Value
	}
	return nil
}

func getN(item map[string]types.AttributeValue, name string) int64 {
	if v, ok := item[name].(*types.AttributeValueMemberN); ok {
		n, _ := strconv.ParseInt(v.Value, 10, 64)
		return n
	}
	return 0
}

func getTime(item map[string]types.AttributeValue, name string) time.Time {
	t, err := time.Parse(timeLayout, getS(item, name))
	if err != nil {
		return time.Time{}
	}
	return t
}

func fmtTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func hookPK(group string) string { return "HOOK#" + group }

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{"pk": str(pk), "sk": str(sk)}
}

func hookItem(h store.Hook) map[string]types.AttributeValue {
	item := key(hookPK(h.HookGroupID), h.HookID)
	def := h.Definition
	if len(def) == 0 {
		def = []byte("null")
	}
	item["def"] = &types.AttributeValueMemberB{Value: def}
	item["token"] = str(h.TriggerToken)
	item["nextTaskId"] = str(h.NextTaskID)
	item["ver"] = num(h.Version)
	if !h.NextScheduledDate.IsZero() {
		at := fmtTime(h.NextScheduledDate)
		item["nextAt"] = str(at)
		// The due index's keys, only on scheduled hooks (sparse index).
		item["dueShard"] = str(dueShard)
		item["dueAt"] = str(at + "#" + h.HookGroupID + "#" + h.HookID)
	}
	return item
}

func hookFromItem(item map[string]types.AttributeValue) store.Hook {
	return store.Hook{
		HookGroupID:       strings.TrimPrefix(getS(item, "pk"), "HOOK#"),
		HookID:            getS(item, "sk"),
		Definition:        getB(item, "def"),
		TriggerToken:      getS(item, "token"),
		NextTaskID:        getS(item, "nextTaskId"),
		NextScheduledDate: getTime(item, "nextAt"),
		Version:           getN(item, "ver"),
	}
}

// CreateHook implements store.Store.
func (s *Store) CreateHook(ctx context.Context, h store.Hook) (store.Hook, error) {
	h.Version = 1
	op := "create hook " + h.HookGroupID + "/" + h.HookID
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:           &s.table,
		Item:                hookItem(h),
		ConditionExpression: aws.String("attribute_not_exists(pk)"),
	})
	if err != nil {
		return store.Hook{}, mapErr(op, err)
	}
	if err := s.putMarker(ctx, h.HookGroupID); err != nil {
		return store.Hook{}, mapErr(op+": group marker", err)
	}
	return h, nil
}

func (s *Store) putMarker(ctx context.Context, group string) error {
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: key(groupsPK, group)})
	return err
}

// GetHook implements store.Store.
func (s *Store) GetHook(ctx context.Context, hookGroupID, hookID string) (store.Hook, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key(hookPK(hookGroupID), hookID), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return store.Hook{}, mapErr("get hook "+hookGroupID+"/"+hookID, err)
	}
	if out.Item == nil {
		return store.Hook{}, fmt.Errorf("dynamo: get hook %s/%s: %w", hookGroupID, hookID, store.ErrNotFound)
	}
	return hookFromItem(out.Item), nil
}

// whyRefused tells a refused conditional write on a hook apart: gone
// (ErrNotFound) or changed (ErrConflict).
func (s *Store) whyRefused(ctx context.Context, op, hookGroupID, hookID string) error {
	if _, err := s.GetHook(ctx, hookGroupID, hookID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("dynamo: %s: %w", op, store.ErrNotFound)
		}
		return err
	}
	return fmt.Errorf("dynamo: %s: %w", op, store.ErrConflict)
}

// UpdateHook implements store.Store.
func (s *Store) UpdateHook(ctx context.Context, h store.Hook) (store.Hook, error) {
	expected := h.Version
	h.Version = expected + 1
	op := "update hook " + h.HookGroupID + "/" + h.HookID
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 &s.table,
		Item:                      hookItem(h),
		ConditionExpression:       aws.String("attribute_exists(pk) AND #ver = :expected"),
		ExpressionAttributeNames:  map[string]string{"#ver": "ver"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":expected": num(expected)},
	})
	if err != nil {
		if err = mapErr(op, err); errors.Is(err, store.ErrConflict) {
			return store.Hook{}, s.whyRefused(ctx, op, h.HookGroupID, h.HookID)
		}
		return store.Hook{}, err
	}
	return h, nil
}

// DeleteHook implements store.Store.
func (s *Store) DeleteHook(ctx context.Context, hookGroupID, hookID string, version int64) error {
	op := "delete hook " + hookGroupID + "/" + hookID
	in := &dynamodb.DeleteItemInput{
		TableName:           &s.table,
		Key:                 key(hookPK(hookGroupID), hookID),
		ConditionExpression: aws.String("attribute_exists(pk)"),
	}
	if version > 0 {
		in.ConditionExpression = aws.String("attribute_exists(pk) AND #ver = :expected")
		in.ExpressionAttributeNames = map[string]string{"#ver": "ver"}
		in.ExpressionAttributeValues = map[string]types.AttributeValue{":expected": num(version)}
	}
	if _, err := s.db.DeleteItem(ctx, in); err != nil {
		if err = mapErr(op, err); errors.Is(err, store.ErrConflict) {
			return s.whyRefused(ctx, op, hookGroupID, hookID)
		}
		return err
	}
	return s.dropMarkerIfEmpty(ctx, hookGroupID)
}

// dropMarkerIfEmpty removes an emptied group's marker. A concurrent
// CreateHook writes its hook before its marker, so looking again after the
// delete catches it and puts the marker back.
func (s *Store) dropMarkerIfEmpty(ctx context.Context, group string) error {
	empty, err := s.groupEmpty(ctx, group)
	if err != nil || !empty {
		return err
	}
	if _, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key(groupsPK, group)}); err != nil {
		return mapErr("delete group marker "+group, err)
	}
	if empty, err = s.groupEmpty(ctx, group); err != nil {
		return err
	}
	if !empty {
		return mapErr("restore group marker "+group, s.putMarker(ctx, group))
	}
	return nil
}

func (s *Store) groupEmpty(ctx context.Context, group string) (bool, error) {
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(hookPK(group))},
		ProjectionExpression:      aws.String("pk"),
		Limit:                     aws.Int32(1),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return false, mapErr("look for hooks of "+group, err)
	}
	return len(out.Items) == 0, nil
}

// pageToken is the opaque continuation token: the last key read, tied to
// the partition it belongs to.
type pageToken struct {
	PK string `json:"pk"`
	SK string `json:"sk"`
}

func encodeToken(lek map[string]types.AttributeValue) string {
	if lek == nil {
		return ""
	}
	data, _ := json.Marshal(pageToken{PK: getS(lek, "pk"), SK: getS(lek, "sk")})
	return base64.RawURLEncoding.EncodeToString(data)
}

func decodeToken(token, pk string) (map[string]types.AttributeValue, error) {
	if token == "" {
		return nil, nil
	}
	data, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, fmt.Errorf("dynamo: %w", store.ErrBadToken)
	}
	var t pageToken
	if err := json.Unmarshal(data, &t); err != nil || t.PK != pk || t.SK == "" {
		return nil, fmt.Errorf("dynamo: %w", store.ErrBadToken)
	}
	return key(t.PK, t.SK), nil
}

func limit32(p store.Page) *int32 {
	n := p.Limit
	if n <= 0 {
		n = store.DefaultPageLimit
	}
	return aws.Int32(int32(min(n, math.MaxInt32)))
}

// query reads one page of a partition.
func (s *Store) query(ctx context.Context, op, pk string, p store.Page, newestFirst bool) ([]map[string]types.AttributeValue, string, error) {
	start, err := decodeToken(p.Token, pk)
	if err != nil {
		return nil, "", err
	}
	out, err := s.db.Query(ctx, &dynamodb.QueryInput{
		TableName:                 &s.table,
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(pk)},
		ExclusiveStartKey:         start,
		Limit:                     limit32(p),
		ScanIndexForward:          aws.Bool(!newestFirst),
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		return nil, "", mapErr(op, err)
	}
	return out.Items, encodeToken(out.LastEvaluatedKey), nil
}

// ListHookGroups implements store.Store: it reads only group markers.
func (s *Store) ListHookGroups(ctx context.Context, p store.Page) ([]string, string, error) {
	items, next, err := s.query(ctx, "list hook groups", groupsPK, p, false)
	if err != nil {
		return nil, "", err
	}
	groups := make([]string, len(items))
	for i, it := range items {
		groups[i] = getS(it, "sk")
	}
	return groups, next, nil
}

// ListHooks implements store.Store.
func (s *Store) ListHooks(ctx context.Context, hookGroupID string, p store.Page) ([]store.Hook, string, error) {
	items, next, err := s.query(ctx, "list hooks of "+hookGroupID, hookPK(hookGroupID), p, false)
	if err != nil {
		return nil, "", err
	}
	hooks := make([]store.Hook, len(items))
	for i, it := range items {
		hooks[i] = hookFromItem(it)
	}
	return hooks, next, nil
}

// ListDue implements store.Store. The index is eventually consistent, so
// each candidate is re-read and kept only if it is still due.
func (s *Store) ListDue(ctx context.Context, now time.Time, limit int) ([]store.Hook, error) {
	if limit <= 0 {
		limit = store.DefaultPageLimit
	}
	var keys []map[string]types.AttributeValue
	var start map[string]types.AttributeValue
	for len(keys) < limit {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName:              &s.table,
			IndexName:              aws.String(dueIndex),
			KeyConditionExpression: aws.String("dueShard = :shard AND dueAt < :now"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":shard": str(dueShard),
				":now":   str(fmtTime(now)),
			},
			ExclusiveStartKey: start,
			Limit:             aws.Int32(int32(limit - len(keys))),
		})
		if err != nil {
			return nil, mapErr("list due hooks", err)
		}
		for _, it := range out.Items {
			keys = append(keys, key(getS(it, "pk"), getS(it, "sk")))
		}
		if out.LastEvaluatedKey == nil {
			break
		}
		start = out.LastEvaluatedKey
	}
	items, err := s.batchGet(ctx, keys)
	if err != nil {
		return nil, err
	}
	due := make([]store.Hook, 0, len(items))
	for _, it := range items {
		h := hookFromItem(it)
		if !h.NextScheduledDate.IsZero() && h.NextScheduledDate.Before(now) {
			due = append(due, h)
		}
	}
	sortByDue(due)
	return due, nil
}

func sortByDue(hooks []store.Hook) {
	// Insertion order from the index is already by time; BatchGetItem
	// returns items in any order, so restore it.
	for i := 1; i < len(hooks); i++ {
		for j := i; j > 0 && dueBefore(hooks[j], hooks[j-1]); j-- {
			hooks[j], hooks[j-1] = hooks[j-1], hooks[j]
		}
	}
}

func dueBefore(a, b store.Hook) bool {
	if !a.NextScheduledDate.Equal(b.NextScheduledDate) {
		return a.NextScheduledDate.Before(b.NextScheduledDate)
	}
	if a.HookGroupID != b.HookGroupID {
		return a.HookGroupID < b.HookGroupID
	}
	return a.HookID < b.HookID
}

// batchGet reads items by key, 100 at a time, retrying unprocessed keys
// with a short backoff.
func (s *Store) batchGet(ctx context.Context, keys []map[string]types.AttributeValue) ([]map[string]types.AttributeValue, error) {
	var items []map[string]types.AttributeValue
	for len(keys) > 0 {
		chunk := keys[:min(batchGets, len(keys))]
		keys = keys[len(chunk):]
		req := map[string]types.KeysAndAttributes{s.table: {Keys: chunk, ConsistentRead: aws.Bool(true)}}
		for attempt := 0; len(req) > 0; attempt++ {
			if attempt > 0 {
				if err := sleep(ctx, backoff(attempt)); err != nil {
					return nil, err
				}
			}
			out, err := s.db.BatchGetItem(ctx, &dynamodb.BatchGetItemInput{RequestItems: req})
			if err != nil {
				return nil, mapErr("batch get", err)
			}
			items = append(items, out.Responses[s.table]...)
			req = out.UnprocessedKeys
		}
	}
	return items, nil
}

// CreateClaim implements store.Store.
func (s *Store) CreateClaim(ctx context.Context, c store.Claim, now time.Time) error {
	item := key("CLAIM#"+c.Key, "-")
	if len(c.Body) > 0 {
		item["body"] = &types.AttributeValueMemberB{Value: c.Body}
	}
	item["createdAt"] = str(fmtTime(c.CreatedAt))
	if !c.ExpiresAt.IsZero() {
		item["exp"] = str(fmtTime(c.ExpiresAt))
		item[ttlAttr] = num(c.ExpiresAt.Unix() + 1)
	}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                 &s.table,
		Item:                      item,
		ConditionExpression:       aws.String("attribute_not_exists(pk) OR (attribute_exists(#exp) AND #exp <= :now)"),
		ExpressionAttributeNames:  map[string]string{"#exp": "exp"},
		ExpressionAttributeValues: map[string]types.AttributeValue{":now": str(fmtTime(now))},
	})
	return mapErr("create claim "+c.Key, err)
}

// GetClaim implements store.Store.
func (s *Store) GetClaim(ctx context.Context, k string, now time.Time) (store.Claim, error) {
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: key("CLAIM#"+k, "-"), ConsistentRead: aws.Bool(true)})
	if err != nil {
		return store.Claim{}, mapErr("get claim "+k, err)
	}
	if out.Item == nil {
		return store.Claim{}, fmt.Errorf("dynamo: get claim %s: %w", k, store.ErrNotFound)
	}
	c := store.Claim{Key: k, Body: getB(out.Item, "body"), CreatedAt: getTime(out.Item, "createdAt"), ExpiresAt: getTime(out.Item, "exp")}
	if !c.ExpiresAt.IsZero() && !now.Before(c.ExpiresAt) {
		return store.Claim{}, fmt.Errorf("dynamo: get claim %s: expired: %w", k, store.ErrNotFound)
	}
	return c, nil
}

// DeleteClaim implements store.Store.
func (s *Store) DeleteClaim(ctx context.Context, k string) error {
	_, err := s.db.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: &s.table, Key: key("CLAIM#"+k, "-")})
	return mapErr("delete claim "+k, err)
}

func firesPK(group, id string) string { return "FIRES#" + group + "#" + id }

// PutLastFire implements store.Store.
func (s *Store) PutLastFire(ctx context.Context, f store.LastFire) error {
	item := key(firesPK(f.HookGroupID, f.HookID), fmtTime(f.TaskCreateTime)+"#"+f.TaskID)
	item["firedBy"] = str(f.FiredBy)
	item["taskId"] = str(f.TaskID)
	item["at"] = str(fmtTime(f.TaskCreateTime))
	item["result"] = str(f.Result)
	item["err"] = str(f.Error)
	if !f.ExpiresAt.IsZero() {
		item["exp"] = str(fmtTime(f.ExpiresAt))
		item[ttlAttr] = num(f.ExpiresAt.Unix() + 1)
	}
	_, err := s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: item})
	return mapErr("put last fire "+f.HookGroupID+"/"+f.HookID+" "+f.TaskID, err)
}

// ListLastFires implements store.Store.
func (s *Store) ListLastFires(ctx context.Context, hookGroupID, hookID string, p store.Page) ([]store.LastFire, string, error) {
	items, next, err := s.query(ctx, "list last fires of "+hookGroupID+"/"+hookID, firesPK(hookGroupID, hookID), p, true)
	if err != nil {
		return nil, "", err
	}
	fires := make([]store.LastFire, len(items))
	for i, it := range items {
		fires[i] = store.LastFire{
			HookGroupID:    hookGroupID,
			HookID:         hookID,
			FiredBy:        getS(it, "firedBy"),
			TaskID:         getS(it, "taskId"),
			TaskCreateTime: getTime(it, "at"),
			Result:         getS(it, "result"),
			Error:          getS(it, "err"),
			ExpiresAt:      getTime(it, "exp"),
		}
	}
	return fires, next, nil
}

// DeleteLastFires implements store.Store.
func (s *Store) DeleteLastFires(ctx context.Context, hookGroupID, hookID string) error {
	pk := firesPK(hookGroupID, hookID)
	page := store.Page{Limit: 500}
	for {
		items, next, err := s.query(ctx, "list fires to delete", pk, page, false)
		if err != nil {
			return err
		}
		var keys []map[string]types.AttributeValue
		for _, it := range items {
			keys = append(keys, key(pk, getS(it, "sk")))
		}
		if err := s.batchDelete(ctx, keys); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		page.Token = next
	}
}

func (s *Store) batchDelete(ctx context.Context, keys []map[string]types.AttributeValue) error {
	for len(keys) > 0 {
		chunk := keys[:min(batchWrites, len(keys))]
		keys = keys[len(chunk):]
		reqs := make([]types.WriteRequest, len(chunk))
		for i, k := range chunk {
			reqs[i] = types.WriteRequest{DeleteRequest: &types.DeleteRequest{Key: k}}
		}
		pending := map[string][]types.WriteRequest{s.table: reqs}
		for attempt := 0; len(pending) > 0; attempt++ {
			if attempt > 0 {
				if err := sleep(ctx, backoff(attempt)); err != nil {
					return err
				}
			}
			out, err := s.db.BatchWriteItem(ctx, &dynamodb.BatchWriteItemInput{RequestItems: pending})
			if err != nil {
				return mapErr("batch delete", err)
			}
			pending = out.UnprocessedItems
		}
	}
	return nil
}

func backoff(attempt int) time.Duration {
	d := 20 * time.Millisecond << min(attempt, 6)
	return min(d, time.Second)
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
