//go:build integration

package dynamo_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go/middleware"

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

func (c *chunkCounter) stack(stack *middleware.Stack) error {
	return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("hooklineChunkCounter",
		func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
			c.mu.Lock()
			if w, ok := in.Parameters.(*dynamodb.BatchWriteItemInput); ok {
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
				before(ctx, in.Parameters)
			}
			return next.HandleInitialize(ctx, in)
		}), middleware.Before)
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
	client := dynamodb.New(dynamodb.Options{
		Region:       dynamotest.Region,
		BaseEndpoint: aws.String(dynamotest.Endpoint(t)),
		Credentials:  credentials.NewStaticCredentialsProvider("hookline-test", "hookline-test", ""),
		APIOptions:   []func(*middleware.Stack) error{c.stack},
	})
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
