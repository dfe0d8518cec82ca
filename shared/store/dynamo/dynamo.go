package dynamo

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hookline/hookline/shared/store"
)

// Store is the DynamoDB-backed store.Store. It is safe for concurrent use.
type Store struct {
	client *dynamodb.Client
	table  *string
	// now dates the history counts' recounts (history.go).
	now func() time.Time
}

var _ store.Store = (*Store)(nil)

// New returns a store over the table named table, which must already exist
// with the schema of TableDefinition. The client stays owned by the caller.
func New(client *dynamodb.Client, table string) *Store {
	return &Store{client: client, table: aws.String(table), now: time.Now}
}

// Close implements store.Store. The store holds no resources of its own: the
// client belongs to the caller.
func (s *Store) Close() error { return nil }

// mapErr is the one place where DynamoDB's errors become store errors. A
// refused condition becomes store.ErrConflict while still wrapping the
// native error, so callers can read the item DynamoDB returned with it. Every
// other error, including a missing table, is a backend failure.
func mapErr(err error) error {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return fmt.Errorf("%w: %w", store.ErrConflict, err)
	}
	return err
}

// refusedItem returns the item DynamoDB sent with a refused condition, if
// it sent one (ReturnValuesOnConditionCheckFailure=ALL_OLD; emulators may
// ignore it).
func refusedItem(err error) map[string]types.AttributeValue {
	var ccf *types.ConditionalCheckFailedException
	if errors.As(err, &ccf) {
		return ccf.Item
	}
	return nil
}

// timeLayout is fixed width, so string order is time order for years 0-9999.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string { return t.UTC().Format(timeLayout) }

func parseTime(v string) (time.Time, error) {
	t, err := time.Parse(timeLayout, v)
	if err != nil {
		return time.Time{}, fmt.Errorf("corrupt time %q: %w", v, err)
	}
	return t, nil
}

// ttlSeconds is the TTL value for an expiry: epoch seconds rounded up, so
// DynamoDB never deletes a record while the store still counts it as live.
func ttlSeconds(t time.Time) string {
	sec := t.Unix()
	if t.Nanosecond() > 0 {
		sec++
	}
	return strconv.FormatInt(sec, 10)
}

func avS(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }
func avN(v string) types.AttributeValue { return &types.AttributeValueMemberN{Value: v} }
func avB(v []byte) types.AttributeValue { return &types.AttributeValueMemberB{Value: v} }

// putS sets a string attribute, leaving it out when empty: absent and empty
// read back the same.
func putS(item map[string]types.AttributeValue, name, v string) {
	if v != "" {
		item[name] = avS(v)
	}
}

func getS(item map[string]types.AttributeValue, name string) (string, error) {
	switch v := item[name].(type) {
	case nil:
		return "", nil
	case *types.AttributeValueMemberS:
		return v.Value, nil
	default:
		return "", fmt.Errorf("attribute %s: got %T, want a string", name, v)
	}
}

func getB(item map[string]types.AttributeValue, name string) ([]byte, error) {
	switch v := item[name].(type) {
	case nil:
		return nil, nil
	case *types.AttributeValueMemberB:
		return v.Value, nil
	default:
		return nil, fmt.Errorf("attribute %s: got %T, want binary", name, v)
	}
}

func getN(item map[string]types.AttributeValue, name string) (int64, error) {
	v, ok := item[name].(*types.AttributeValueMemberN)
	if !ok {
		return 0, fmt.Errorf("attribute %s: got %T, want a number", name, item[name])
	}
	n, err := strconv.ParseInt(v.Value, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("attribute %s: %w", name, err)
	}
	return n, nil
}

// getTime reads an optional time attribute; absent is the zero time.
func getTime(item map[string]types.AttributeValue, name string) (time.Time, error) {
	v, err := getS(item, name)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	return parseTime(v)
}

func key(pk, sk string) map[string]types.AttributeValue {
	return map[string]types.AttributeValue{attrPK: avS(pk), attrSK: avS(sk)}
}

// names returns expression attribute names mapping "#n" to n for each n.
func names(attrs ...string) map[string]string {
	m := make(map[string]string, len(attrs))
	for _, a := range attrs {
		m["#"+a] = a
	}
	return m
}

func pageLimit(p store.Page) int {
	if p.Limit <= 0 {
		return store.DefaultPageLimit
	}
	// One more than the page is requested to learn whether another page
	// follows, so keep room for it in an int32.
	return min(p.Limit, math.MaxInt32-1)
}

// queryPage runs in (a query of partition pk) page by page until it has
// one page of p, and returns the items and the token of the next page. It
// asks for one item more than the page so that a last full page carries no
// token.
func (s *Store) queryPage(ctx context.Context, in *dynamodb.QueryInput, pk string, p store.Page) ([]map[string]types.AttributeValue, string, error) {
	start, err := decodeToken(p.Token, pk)
	if err != nil {
		return nil, "", err
	}
	limit := pageLimit(p)
	var items []map[string]types.AttributeValue
	for {
		in.ExclusiveStartKey = start
		in.Limit = aws.Int32(int32(limit + 1 - len(items)))
		out, err := s.client.Query(ctx, in)
		if err != nil {
			return nil, "", mapErr(err)
		}
		items = append(items, out.Items...)
		if len(items) > limit {
			items = items[:limit]
			last := items[limit-1]
			sk, err := getS(last, attrSK)
			if err != nil {
				return nil, "", err
			}
			next, err := encodeToken(pk, sk)
			if err != nil {
				return nil, "", err
			}
			return items, next, nil
		}
		if len(out.LastEvaluatedKey) == 0 {
			return items, "", nil
		}
		start = out.LastEvaluatedKey
	}
}

// partitionQuery returns a consistent query of every item under pk.
func (s *Store) partitionQuery(pk string) *dynamodb.QueryInput {
	return &dynamodb.QueryInput{
		TableName:                 s.table,
		ConsistentRead:            aws.Bool(true),
		KeyConditionExpression:    aws.String("#pk = :pk"),
		ExpressionAttributeNames:  names(attrPK),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": avS(pk)},
	}
}
