package dynamo

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hookline/hookline/shared/store"
)

// The history cap and the awaited index.
//
// Each hook's fire records and decisions are counted in one item,
// pk COUNT#<len(group)>#<group>#<hook>, sk "history" (attributes fires,
// decisions, and counted: when they were last recounted). Every write
// that may add records puts each one with ReturnValues ALL_OLD and, side
// by side, adds 1 to the counts; a put that replaced a record takes its 1
// back. When a count passes its KeepAtMost, the writer reserves the excess
// over 99 % of the cap from the count (an update conditional on the count
// staying at least that), then reads the oldest records (keys only,
// oldest first, one query) and deletes as many, counting only the
// deletions that removed something, and gives back what it could not
// delete: concurrent trimmers, each from the count it read, never take
// the history below 99 % of the cap between them. The next 1 % of writes
// need no trimming, and the history never holds more than the cap. The cap thus costs nothing but the parallel
// count update per write, and one query and a few deletes per 1 % of
// the cap.
//
// DynamoDB's time to live deletes expired records without a word, which
// would leave the counts too high; a count found over its cap is therefore
// recounted first (a COUNT query of the hook's records) when its last
// recount (or its creation) is more than a day old.
//
// Fire records whose task outcome is awaited carry the due index's keys:
// shard "awaited-new" by TaskCreateTime while never checked, then
// "awaited" by CheckAt.

const (
	awaitedNewShard     = "awaited-new"
	awaitedCheckedShard = "awaited"
)

// recountAfter is how old a count may be before a trim recounts it.
const recountAfter = 24 * time.Hour

// historyKind is a kind of counted record.
type historyKind int

const (
	kindDecisions historyKind = iota
	kindFires
)

func (k historyKind) attr() string {
	if k == kindFires {
		return attrFires
	}
	return attrDecisions
}

func countKey(hookGroupID, hookID string) map[string]types.AttributeValue {
	return key(hookPartition("COUNT", hookGroupID, hookID), "history")
}

// countedPut is one record to write and count.
type countedPut struct {
	item map[string]types.AttributeValue
	kind historyKind
	// keep is the cap; 0: counted, but not trimmed.
	keep int
}

// putCounted writes the records of one hook side by side with the count
// update, then trims the kinds over their cap.
func (s *Store) putCounted(ctx context.Context, hookGroupID, hookID string, puts []countedPut) error {
	var (
		wg       sync.WaitGroup
		errs     = make([]error, len(puts)+1)
		replaced = make([]bool, len(puts))
		counted  map[string]types.AttributeValue
	)
	add := map[historyKind]int{}
	for i, p := range puts {
		in := &dynamodb.PutItemInput{TableName: s.table, Item: p.item, ReturnValues: types.ReturnValueAllOld}
		add[p.kind]++
		wg.Go(func() {
			out, err := s.client.PutItem(ctx, in)
			errs[i] = mapErr(err)
			replaced[i] = err == nil && len(out.Attributes) > 0
		})
	}
	wg.Go(func() { counted, errs[len(puts)] = s.addCounts(ctx, hookGroupID, hookID, add) })
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fix := map[historyKind]int{}
	for i, p := range puts {
		if replaced[i] {
			fix[p.kind]--
		}
	}
	if len(fix) > 0 {
		var err error
		if counted, err = s.addCounts(ctx, hookGroupID, hookID, fix); err != nil {
			return err
		}
	}
	for _, p := range puts {
		if p.keep <= 0 {
			continue
		}
		n, err := getOptionalInt(counted, p.kind.attr())
		if err != nil {
			return err
		}
		if n > p.keep {
			if err := s.trim(ctx, hookGroupID, hookID, p.kind, p.keep, n, counted); err != nil {
				return fmt.Errorf("trim history to %d: %w", p.keep, err)
			}
		}
	}
	return nil
}

// addCounts adds to a hook's counts and returns them all.
func (s *Store) addCounts(ctx context.Context, hookGroupID, hookID string, add map[historyKind]int) (map[string]types.AttributeValue, error) {
	var parts []string
	nm := map[string]string{}
	vals := map[string]types.AttributeValue{}
	for k, n := range add {
		parts = append(parts, "#"+k.attr()+" :"+k.attr())
		nm["#"+k.attr()] = k.attr()
		vals[":"+k.attr()] = avN(strconv.Itoa(n))
	}
	// A new count is as good as a recount.
	nm["#counted"] = attrCounted
	vals[":now"] = avS(formatTime(s.now()))
	out, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: s.table, Key: countKey(hookGroupID, hookID),
		UpdateExpression:          aws.String("ADD " + strings.Join(parts, ", ") + " SET #counted = if_not_exists(#counted, :now)"),
		ExpressionAttributeNames:  nm,
		ExpressionAttributeValues: vals,
		ReturnValues:              types.ReturnValueAllNew,
	})
	if err != nil {
		return nil, mapErr(err)
	}
	return out.Attributes, nil
}

// partitionOf is the partition a kind of record lives in.
func partitionOf(kind historyKind, hookGroupID, hookID string) string {
	if kind == kindFires {
		return firePK(hookGroupID, hookID)
	}
	return decisionPK(hookGroupID, hookID)
}

// trim deletes a hook's oldest records of kind until 99 % of keep are
// left; n is the count that passed keep.
func (s *Store) trim(ctx context.Context, hookGroupID, hookID string, kind historyKind, keep, n int, counts map[string]types.AttributeValue) error {
	pk := partitionOf(kind, hookGroupID, hookID)
	counted, err := getTime(counts, attrCounted)
	if err != nil {
		return err
	}
	now := s.now()
	if counted.IsZero() || now.Sub(counted) > recountAfter {
		actual, err := s.countPartition(ctx, pk)
		if err != nil {
			return err
		}
		// The count is set, not adjusted, and by one recount only (the
		// one that saw this counted time; the others neither recount nor
		// trim). A record written meanwhile is mostly counted once: its
		// put and count update go side by side, and the count query sees
		// the put only if it came first, so the update then also came
		// before this SET, which overwrites it; or the query missed it,
		// which keeps one record too many until the next recount. Only
		// an update delayed past this whole recount (query and SET)
		// after a put the query saw counts one twice, and trims one
		// record too many once.
		in := &dynamodb.UpdateItemInput{
			TableName: s.table, Key: countKey(hookGroupID, hookID),
			UpdateExpression:          aws.String("SET #n = :actual, #counted = :now"),
			ExpressionAttributeNames:  map[string]string{"#n": kind.attr(), "#counted": attrCounted},
			ExpressionAttributeValues: map[string]types.AttributeValue{":actual": avN(strconv.Itoa(actual)), ":now": avS(formatTime(now))},
			ConditionExpression:       aws.String("attribute_not_exists(#counted)"),
		}
		if !counted.IsZero() {
			in.ConditionExpression = aws.String("#counted = :was")
			in.ExpressionAttributeValues[":was"] = avS(formatTime(counted))
		}
		if _, err = s.client.UpdateItem(ctx, in); err != nil {
			if err = mapErr(err); errors.Is(err, store.ErrConflict) {
				return nil // another writer recounted and trims
			}
			return err
		}
		if n = actual; n <= keep {
			return nil
		}
	}
	return s.trimTo(ctx, hookGroupID, hookID, kind, keep-keep/100, n)
}

// maxTrimRounds bounds the rounds of a trim: reserving from the count,
// and querying the oldest records again when others took the ones found.
const maxTrimRounds = 5

// trimTo deletes a hook's oldest records of kind down to target; n is the
// count the caller read. Concurrent writers trim at once, each from the
// count it read, which may already be stale: deciding from it alone lets
// them delete, between them, far more than the excess, newest records
// included. So a trimmer first reserves what it deletes from the count
// itself (one update conditional on the count staying at least target),
// then deletes that many of the oldest records, counting only deletions
// that removed something, and gives back what it could not delete.
func (s *Store) trimTo(ctx context.Context, hookGroupID, hookID string, kind historyKind, target, n int) error {
	var reserved int
	for round := 0; ; round++ {
		if n <= target {
			return nil
		}
		ok, err := s.reserveTrim(ctx, hookGroupID, hookID, kind, n-target, target)
		if err != nil {
			return err
		}
		if ok {
			reserved = n - target
			break
		}
		if round == maxTrimRounds {
			return nil // the others trim; the next write looks again
		}
		// Another trimmer changed the count: read it again, by adding
		// 0 (the count's only access is UpdateItem; see access.go).
		counts, err := s.addCounts(ctx, hookGroupID, hookID, map[historyKind]int{kind: 0})
		if err != nil {
			return err
		}
		if n, err = getOptionalInt(counts, kind.attr()); err != nil {
			return err
		}
	}
	deleted, err := s.deleteOldest(ctx, partitionOf(kind, hookGroupID, hookID), reserved)
	if left := reserved - deleted; left > 0 {
		if _, aerr := s.addCounts(ctx, hookGroupID, hookID, map[historyKind]int{kind: left}); aerr != nil {
			err = errors.Join(err, aerr)
		}
	}
	return err
}

// reserveTrim takes k from the count of kind if that leaves at least
// target; false when the count is lower than that.
func (s *Store) reserveTrim(ctx context.Context, hookGroupID, hookID string, kind historyKind, k, target int) (bool, error) {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: s.table, Key: countKey(hookGroupID, hookID),
		UpdateExpression:          aws.String("ADD #n :minus"),
		ConditionExpression:       aws.String("#n >= :least"),
		ExpressionAttributeNames:  map[string]string{"#n": kind.attr()},
		ExpressionAttributeValues: map[string]types.AttributeValue{":minus": avN(strconv.Itoa(-k)), ":least": avN(strconv.Itoa(target + k))},
	})
	if err = mapErr(err); errors.Is(err, store.ErrConflict) {
		return false, nil
	}
	return err == nil, err
}

// deleteOldest deletes up to k of the oldest records of partition pk and
// returns how many it removed. Records another trimmer deleted first do
// not count, and the next oldest are taken in their place.
func (s *Store) deleteOldest(ctx context.Context, pk string, k int) (int, error) {
	deleted := 0
	var start map[string]types.AttributeValue
	for round := 0; deleted < k && round < maxTrimRounds; round++ {
		in := s.partitionQuery(pk)
		in.ProjectionExpression = aws.String("#pk, #sk")
		in.ExpressionAttributeNames["#sk"] = attrSK
		in.Limit = aws.Int32(int32(k - deleted))
		in.ExclusiveStartKey = start
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return deleted, mapErr(err)
		}
		var (
			mu   sync.Mutex
			errs []error
			wg   sync.WaitGroup
			sem  = make(chan struct{}, 16)
		)
		for _, item := range out.Items {
			wg.Go(func() {
				sem <- struct{}{}
				defer func() { <-sem }()
				res, err := s.client.DeleteItem(ctx, &dynamodb.DeleteItemInput{
					TableName: s.table, Key: map[string]types.AttributeValue{attrPK: item[attrPK], attrSK: item[attrSK]},
					ReturnValues: types.ReturnValueAllOld,
				})
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, mapErr(err))
				} else if len(res.Attributes) > 0 {
					deleted++
				}
			})
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return deleted, err
		}
		if len(out.LastEvaluatedKey) == 0 {
			break
		}
		// The records just listed are gone, by this trimmer or another:
		// go on after them.
		start = out.LastEvaluatedKey
	}
	return deleted, nil
}

// countPartition counts the items of partition pk with COUNT queries.
func (s *Store) countPartition(ctx context.Context, pk string) (int, error) {
	in := s.partitionQuery(pk)
	in.Select = types.SelectCount
	total := 0
	for {
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return 0, mapErr(err)
		}
		total += int(out.Count)
		if len(out.LastEvaluatedKey) == 0 {
			return total, nil
		}
		in.ExclusiveStartKey = out.LastEvaluatedKey
	}
}

// deleteCounts removes the count of a kind (its records are gone).
func (s *Store) deleteCounts(ctx context.Context, hookGroupID, hookID string, kind historyKind) error {
	_, err := s.client.UpdateItem(ctx, &dynamodb.UpdateItemInput{
		TableName: s.table, Key: countKey(hookGroupID, hookID),
		UpdateExpression:         aws.String("REMOVE #n"),
		ConditionExpression:      aws.String("attribute_exists(#pk)"),
		ExpressionAttributeNames: map[string]string{"#n": kind.attr(), "#pk": attrPK},
	})
	if err = mapErr(err); errors.Is(err, store.ErrConflict) {
		return nil // nothing was counted
	}
	return err
}

// GetLastFire implements store.Store.
func (s *Store) GetLastFire(ctx context.Context, hookGroupID, hookID string, taskCreateTime time.Time, taskID string) (store.LastFire, error) {
	k := key(firePK(hookGroupID, hookID), fireSK(store.LastFire{TaskCreateTime: taskCreateTime, TaskID: taskID}))
	out, err := s.client.GetItem(ctx, &dynamodb.GetItemInput{TableName: s.table, Key: k, ConsistentRead: aws.Bool(true)})
	if err != nil {
		return store.LastFire{}, fmt.Errorf("dynamo: get last fire %s/%s %s: %w", hookGroupID, hookID, taskID, mapErr(err))
	}
	if out.Item == nil {
		return store.LastFire{}, fmt.Errorf("dynamo: get last fire %s/%s %s: %w", hookGroupID, hookID, taskID, store.ErrNotFound)
	}
	f, err := decodeFire(hookGroupID, hookID, out.Item)
	if err != nil {
		return store.LastFire{}, fmt.Errorf("dynamo: get last fire %s/%s %s: %w", hookGroupID, hookID, taskID, err)
	}
	return f, nil
}

// UpdateFire implements store.Store: both puts are conditional on the
// item existing, side by side.
func (s *Store) UpdateFire(ctx context.Context, f store.LastFire, d *store.Decision) error {
	if err := store.CheckFireUpdate(f, d); err != nil {
		return fmt.Errorf("dynamo: update fire record of %s/%s: %w", f.HookGroupID, f.HookID, err)
	}
	var (
		wg           sync.WaitGroup
		fireErr, dec error
	)
	exists := aws.String("attribute_exists(#pk)")
	if d != nil {
		wg.Go(func() {
			_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: s.table, Item: decisionItem(*d),
				ConditionExpression: exists, ExpressionAttributeNames: names(attrPK)})
			if err = mapErr(err); !errors.Is(err, store.ErrConflict) {
				dec = err // a decision that is gone is skipped
			}
		})
	}
	_, err := s.client.PutItem(ctx, &dynamodb.PutItemInput{TableName: s.table, Item: fireItem(f),
		ConditionExpression: exists, ExpressionAttributeNames: names(attrPK)})
	if fireErr = mapErr(err); errors.Is(fireErr, store.ErrConflict) {
		fireErr = store.ErrNotFound
	}
	wg.Wait()
	if err := errors.Join(fireErr, dec); err != nil {
		return fmt.Errorf("dynamo: update fire %s/%s %s: %w", f.HookGroupID, f.HookID, f.TaskID, err)
	}
	return nil
}

// awaitedToken is the JSON of a continuation token of ListAwaitedFires:
// the due index's last key.
type awaitedToken struct {
	Shard string `json:"shard"`
	At    string `json:"at"`
	PK    string `json:"pk"`
	SK    string `json:"sk"`
}

// ListAwaitedFires implements store.Store: a query of the due index's
// awaited shard, keys only.
func (s *Store) ListAwaitedFires(ctx context.Context, q store.AwaitedQuery) ([]store.FireKey, string, error) {
	shard := awaitedNewShard
	if q.Checked {
		shard = awaitedCheckedShard
	}
	cond := "#dueShard = :shard"
	vals := map[string]types.AttributeValue{":shard": avS(shard)}
	switch {
	case !q.From.IsZero() && !q.To.IsZero():
		cond += " AND #dueAt BETWEEN :from AND :to"
		vals[":from"], vals[":to"] = avS(formatTime(q.From)), avS(formatTime(q.To.Add(-time.Nanosecond)))
	case !q.From.IsZero():
		cond += " AND #dueAt >= :from"
		vals[":from"] = avS(formatTime(q.From))
	case !q.To.IsZero():
		cond += " AND #dueAt < :to"
		vals[":to"] = avS(formatTime(q.To))
	}
	nm := names(attrDueShard)
	if len(vals) > 1 {
		nm = names(attrDueShard, attrDueAt)
	}
	in := &dynamodb.QueryInput{
		TableName: s.table, IndexName: aws.String(DueIndex),
		KeyConditionExpression:    aws.String(cond),
		ExpressionAttributeNames:  nm,
		ExpressionAttributeValues: vals,
	}
	if q.Token != "" {
		start, err := decodeAwaitedToken(q.Token, shard)
		if err != nil {
			return nil, "", err
		}
		in.ExclusiveStartKey = start
	}
	limit := pageLimit(q.Page)
	var out []store.FireKey
	for {
		in.Limit = aws.Int32(int32(limit + 1 - len(out)))
		res, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, "", fmt.Errorf("dynamo: list awaited fires: %w", mapErr(err))
		}
		for _, item := range res.Items {
			if len(out) == limit {
				last := out[len(out)-1]
				tok, err := encodeAwaitedToken(shard, last)
				return out, tok, err
			}
			fk, err := decodeAwaited(item, q.Checked)
			if err != nil {
				return nil, "", fmt.Errorf("dynamo: list awaited fires: %w", err)
			}
			out = append(out, fk)
		}
		if len(res.LastEvaluatedKey) == 0 {
			return out, "", nil
		}
		in.ExclusiveStartKey = res.LastEvaluatedKey
	}
}

// decodeAwaited reads a fire record's key from its due-index entry.
func decodeAwaited(item map[string]types.AttributeValue, checked bool) (store.FireKey, error) {
	pk, err1 := getS(item, attrPK)
	sk, err2 := getS(item, attrSK)
	at, err3 := getTime(item, attrDueAt)
	if err := errors.Join(err1, err2, err3); err != nil {
		return store.FireKey{}, err
	}
	g, h, ok := splitHookPartition("FIRE", pk)
	created, taskID, ok2 := strings.Cut(sk, "#")
	if !ok || !ok2 {
		return store.FireKey{}, fmt.Errorf("awaited entry %q %q is not a fire record", pk, sk)
	}
	t, err := parseTime(created)
	if err != nil {
		return store.FireKey{}, err
	}
	fk := store.FireKey{HookGroupID: g, HookID: h, TaskCreateTime: t, TaskID: taskID}
	if checked {
		fk.Checks, fk.CheckAt = 1, at
	}
	return fk, nil
}

// splitHookPartition reverses hookPartition.
func splitHookPartition(kind, pk string) (string, string, bool) {
	rest, ok := strings.CutPrefix(pk, kind+"#")
	if !ok {
		return "", "", false
	}
	n, rest, ok := strings.Cut(rest, "#")
	size, err := strconv.Atoi(n)
	if !ok || err != nil || size < 0 || len(rest) < size+1 || rest[size] != '#' {
		return "", "", false
	}
	return rest[:size], rest[size+1:], true
}

func encodeAwaitedToken(shard string, last store.FireKey) (string, error) {
	at := last.TaskCreateTime
	if last.Checks > 0 {
		at = last.CheckAt
	}
	f := store.LastFire{TaskCreateTime: last.TaskCreateTime, TaskID: last.TaskID}
	data, err := json.Marshal(awaitedToken{Shard: shard, At: formatTime(at), PK: firePK(last.HookGroupID, last.HookID), SK: fireSK(f)})
	if err != nil {
		return "", fmt.Errorf("dynamo: encode token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(data), nil
}

func decodeAwaitedToken(token, shard string) (map[string]types.AttributeValue, error) {
	data, err := base64.RawURLEncoding.DecodeString(token)
	if err != nil {
		return nil, fmt.Errorf("dynamo: %w: %w", store.ErrBadToken, err)
	}
	var t awaitedToken
	if err := json.Unmarshal(data, &t); err != nil || t.Shard != shard || t.PK == "" || t.SK == "" || t.At == "" {
		return nil, fmt.Errorf("dynamo: %w: not a token of this listing", store.ErrBadToken)
	}
	k := key(t.PK, t.SK)
	k[attrDueShard], k[attrDueAt] = avS(t.Shard), avS(t.At)
	return k, nil
}
