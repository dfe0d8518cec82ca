//go:build integration

package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/dynamo"
	"github.com/hookline/hookline/shared/store/dynamo/dynamotest"
)

// chunkCounter counts the chunk items a client's batch writes put and
// delete, and runs before, when set, before each request is sent.
type chunkCounter struct {
	mu            sync.Mutex
	puts, deletes int
	before        func(ctx context.Context, params any)
}

// see counts a batch write's chunk items before it is sent
// (dynamotest.Observed).
func (c *chunkCounter) see(ctx context.Context, params any) {
	c.mu.Lock()
	if w, ok := params.(*dynamodb.BatchWriteItemInput); ok {
		for _, reqs := range w.RequestItems {
			for _, r := range reqs {
				switch {
				case r.PutRequest != nil && isChunk(r.PutRequest.Item):
					c.puts++
				case r.DeleteRequest != nil && isChunk(r.DeleteRequest.Key):
					c.deletes++
				}
			}
		}
	}
	before := c.before
	c.mu.Unlock()
	if before != nil {
		before(ctx, params)
	}
}

func isChunk(item map[string]types.AttributeValue) bool {
	pk, ok := item["pk"].(*types.AttributeValueMemberS)
	return ok && strings.HasPrefix(pk.Value, dynamo.PartitionChunks)
}

// take returns the counts since the last take.
func (c *chunkCounter) take() (puts, deletes int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	puts, deletes = c.puts, c.deletes
	c.puts, c.deletes = 0, 0
	return puts, deletes
}

// countingStore returns a store whose requests c sees, and a plain store
// on the same table.
func countingStore(t *testing.T, c *chunkCounter) (counted, plain *dynamo.Store) {
	t.Helper()
	client := dynamotest.Observed(t, c.see)
	plainClient := dynamotest.Start(t)
	table := dynamotest.NewTable(t, plainClient)
	return dynamo.New(client, table), dynamo.New(plainClient, table)
}

// A scheduled fire of a chunked hook advances the hook with an update that
// leaves its definition as it was: that update writes the head alone. A
// change of the definition replaces the chunks, put first, the old ones
// deleted after.
func TestUpdateHook_UnchangedDefinitionKeepsChunks(t *testing.T) {
	ctx := t.Context()
	c := &chunkCounter{}
	s, _ := countingStore(t, c)
	h := store.Hook{HookGroupID: "g", HookID: "big", TriggerToken: "t", Definition: bigDefinition(store.MaxHookSize, 'a'),
		NextScheduledDate: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	cur, err := s.CreateHook(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	const n = 3 // chunks of a hook at the limit
	if puts, deletes := c.take(); puts != n || deletes != 0 {
		t.Fatalf("create: %d chunk puts, %d deletes; want %d, 0", puts, deletes, n)
	}
	for i := range 3 {
		next := cur
		next.NextScheduledDate = cur.NextScheduledDate.Add(time.Hour)
		next.Definition = append([]byte(nil), cur.Definition...) // equal bytes, not the same slice
		if cur, err = s.UpdateHook(ctx, next); err != nil {
			t.Fatal(err)
		}
		if puts, deletes := c.take(); puts != 0 || deletes != 0 {
			t.Fatalf("unchanged update %d: %d chunk puts, %d deletes; want none", i, puts, deletes)
		}
		got, err := s.GetHook(ctx, "g", "big")
		if err != nil || !got.NextScheduledDate.Equal(next.NextScheduledDate) || string(got.Definition) != string(h.Definition) {
			t.Fatalf("unchanged update %d read back: %v", i, err)
		}
	}
	changed := cur
	changed.Definition = bigDefinition(store.MaxHookSize, 'b')
	if cur, err = s.UpdateHook(ctx, changed); err != nil {
		t.Fatal(err)
	}
	if puts, deletes := c.take(); puts != n || deletes != n {
		t.Fatalf("changed update: %d chunk puts, %d deletes; want %d, %d", puts, deletes, n, n)
	}
	if got, err := s.GetHook(ctx, "g", "big"); err != nil || string(got.Definition) != string(changed.Definition) {
		t.Fatalf("changed update read back: %v", err)
	}
	// A refused unchanged update keeps the chunks the hook names.
	if _, err := s.UpdateHook(ctx, changed); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale unchanged update: %v, want a conflict", err)
	}
	if puts, deletes := c.take(); puts != 0 || deletes != 0 {
		t.Fatalf("refused unchanged update: %d chunk puts, %d deletes; want none", puts, deletes)
	}
	if got, err := s.GetHook(ctx, "g", "big"); err != nil || string(got.Definition) != string(changed.Definition) || got.Version != cur.Version {
		t.Fatalf("after a refused unchanged update: %v", err)
	}
}

// An unchanged update reads the head, then writes it naming the chunks it
// read. When the hook is deleted and created again in between (its version
// starts at 1 again), the write is refused: it would name chunks that the
// delete removed.
func TestUpdateHook_UnchangedRacingRecreate(t *testing.T) {
	ctx := t.Context()
	c := &chunkCounter{}
	s, plain := countingStore(t, c)
	h := store.Hook{HookGroupID: "g", HookID: "big", TriggerToken: "t", Definition: bigDefinition(store.MaxHookSize, 'a')}
	v1, err := s.CreateHook(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	c.mu.Lock()
	c.before = func(ctx context.Context, params any) {
		if p, ok := params.(*dynamodb.PutItemInput); !ok || !strings.HasPrefix(p.Item["pk"].(*types.AttributeValueMemberS).Value, dynamo.PartitionHooks) {
			return
		}
		once.Do(func() {
			if err := plain.DeleteHook(ctx, "g", "big", 0); err != nil {
				t.Error(err)
			}
			if _, err := plain.CreateHook(ctx, h); err != nil {
				t.Error(err)
			}
		})
	}
	c.mu.Unlock()
	_, err = s.UpdateHook(ctx, v1)
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("unchanged update racing a re-create: %v, want a conflict", err)
	}
	got, err := plain.GetHook(ctx, "g", "big")
	if err != nil || string(got.Definition) != string(h.Definition) || got.Version != 1 {
		t.Fatalf("hook created again, read after the refused update: %v", err)
	}
}

func bigDefinition(n int, fill byte) []byte {
	b := []byte(`{"p":"` + strings.Repeat(string(fill), n-8) + `"}`)
	return b
}

// putLeftover writes, as a writer that stopped before its head would have
// left it, one chunk of a generation begun at began in the chunk
// partition of hook g/h, and returns the chunk's sort key.
func putLeftover(t *testing.T, client *dynamodb.Client, table, g, h string, began time.Time) string {
	t.Helper()
	sk := strconv.FormatInt(began.UnixNano(), 36) + "-leftover#0000"
	_, err := client.PutItem(t.Context(), &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"pk":   &types.AttributeValueMemberS{Value: fmt.Sprintf("CHUNK#%d#%s#%s", len(g), g, h)},
		"sk":   &types.AttributeValueMemberS{Value: sk},
		"body": &types.AttributeValueMemberB{Value: []byte("left over")},
	}})
	if err != nil {
		t.Fatal(err)
	}
	return sk
}

// chunkKeys lists the sort keys in the chunk partition of hook g/h.
func chunkKeys(t *testing.T, client *dynamodb.Client, table, g, h string) []string {
	t.Helper()
	out, err := client.Query(t.Context(), &dynamodb.QueryInput{
		TableName:                 aws.String(table),
		KeyConditionExpression:    aws.String("pk = :pk"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": &types.AttributeValueMemberS{Value: fmt.Sprintf("CHUNK#%d#%s#%s", len(g), g, h)}},
		ConsistentRead:            aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	var sks []string
	for _, item := range out.Items {
		sks = append(sks, item["sk"].(*types.AttributeValueMemberS).Value)
	}
	return sks
}

// Chunks a crashed writer left (no head names them) go with the hook's
// next write that replaces its chunks, and with its delete, once they are
// old enough that no writer still names them; younger ones, and the
// chunks the head names, stay.
func TestLeftoverChunksDropped(t *testing.T) {
	ctx := t.Context()
	s, client, table := rawStore(t)
	now := time.Now()
	for _, step := range []struct {
		name  string
		write func(cur store.Hook) (store.Hook, error)
	}{
		{"create", func(store.Hook) (store.Hook, error) {
			return s.CreateHook(ctx, store.Hook{HookGroupID: "g", HookID: "big", TriggerToken: "t", Definition: bigDefinition(store.MaxHookSize, 'a')})
		}},
		{"update changing the definition", func(cur store.Hook) (store.Hook, error) {
			cur.Definition = bigDefinition(store.MaxHookSize, 'b')
			return s.UpdateHook(ctx, cur)
		}},
		{"update to an inline definition", func(cur store.Hook) (store.Hook, error) {
			cur.Definition = []byte(`{}`)
			return s.UpdateHook(ctx, cur)
		}},
	} {
		cur, _ := s.GetHook(ctx, "g", "big")
		old := putLeftover(t, client, table, "g", "big", now.Add(-2*time.Hour))
		young := putLeftover(t, client, table, "g", "big", now.Add(-time.Minute))
		up, err := step.write(cur)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		sks := chunkKeys(t, client, table, "g", "big")
		if slices.Contains(sks, old) || !slices.Contains(sks, young) {
			t.Fatalf("%s: chunk keys %q; want %s gone, %s kept", step.name, sks, old, young)
		}
		if got, err := s.GetHook(ctx, "g", "big"); err != nil || string(got.Definition) != string(up.Definition) {
			t.Fatalf("%s: hook read back: %v", step.name, err)
		}
	}
	// An update that keeps the chunks leaves leftovers alone: it does not
	// query for them.
	cur, err := s.GetHook(ctx, "g", "big")
	if err != nil {
		t.Fatal(err)
	}
	cur.Definition = bigDefinition(store.MaxHookSize, 'c')
	if cur, err = s.UpdateHook(ctx, cur); err != nil {
		t.Fatal(err)
	}
	old := putLeftover(t, client, table, "g", "big", now.Add(-2*time.Hour))
	cur.NextTaskID = "next"
	if _, err := s.UpdateHook(ctx, cur); err != nil {
		t.Fatal(err)
	}
	if sks := chunkKeys(t, client, table, "g", "big"); !slices.Contains(sks, old) {
		t.Fatalf("unchanged update: chunk keys %q; want %s kept", sks, old)
	}
	// The delete takes every old leftover, whatever the head was.
	young := putLeftover(t, client, table, "g", "big", now.Add(-time.Minute))
	if err := s.DeleteHook(ctx, "g", "big", 0); err != nil {
		t.Fatal(err)
	}
	if sks := chunkKeys(t, client, table, "g", "big"); !slices.Equal(sks, []string{young}) {
		t.Fatalf("after delete: chunk keys %q; want %s alone", sks, young)
	}
}

// A writer whose chunks took longer than other writers wait before they
// count chunks as leftovers writes no head naming them: it deletes them
// and fails.
func TestSlowChunkWriteNamesNoChunks(t *testing.T) {
	ctx := t.Context()
	s, client, table := rawStore(t)
	small, err := s.CreateHook(ctx, store.Hook{HookGroupID: "g", HookID: "big", TriggerToken: "t", Definition: []byte(`{}`)})
	if err != nil {
		t.Fatal(err)
	}
	// Every reading of the clock is 31 minutes after the one before.
	var mu sync.Mutex
	clock := time.Now()
	dynamo.SetNow(s, func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(31 * time.Minute)
		return clock
	})
	big := small
	big.Definition = bigDefinition(store.MaxHookSize, 'a')
	if _, err := s.UpdateHook(ctx, big); err == nil {
		t.Fatal("an update whose chunks took 31 minutes succeeded")
	}
	if _, err := s.CreateHook(ctx, store.Hook{HookGroupID: "g", HookID: "other", TriggerToken: "t", Definition: big.Definition}); err == nil {
		t.Fatal("a create whose chunks took 31 minutes succeeded")
	}
	for _, id := range []string{"big", "other"} {
		if sks := chunkKeys(t, client, table, "g", id); len(sks) != 0 {
			t.Fatalf("hook %s: chunk keys %q left", id, sks)
		}
	}
	if got, err := s.GetHook(ctx, "g", "big"); err != nil || string(got.Definition) != `{}` || got.Version != small.Version {
		t.Fatalf("hook after the refused update: %+v, %v", got, err)
	}
}
