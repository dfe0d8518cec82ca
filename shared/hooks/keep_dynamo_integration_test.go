//go:build integration

package hooks

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/dynamo"
	"github.com/hookline/hookline/shared/store/dynamo/dynamotest"
)

// TestRefusedPayloadsReadBackDynamo is TestRefusedPayloadsReadBack over
// DynamoDB (the dynalite emulator).
func TestRefusedPayloadsReadBackDynamo(t *testing.T) {
	refusedPayloadsReadBack(t, newSchedEnvOn(t, dynamotest.NewStore(t)))
}

// TestLargeHookLifecycleDynamo is TestLargeHookLifecycle over DynamoDB.
func TestLargeHookLifecycleDynamo(t *testing.T) {
	largeHookLifecycle(t, newSchedEnvOn(t, dynamotest.NewStore(t)))
}

// The scheduler's fires of a hook large enough to be chunked advance the
// hook without changing its definition, so the hook's item keeps naming
// the chunks it was created with: no fire rewrites a megabyte.
func TestScheduledLargeHookKeepsChunksDynamo(t *testing.T) {
	ctx := context.Background()
	client := dynamotest.Start(t)
	table := dynamotest.NewTable(t, client)
	e := newSchedEnvOn(t, dynamo.New(client, table))
	in := input("big", "0 0 * * * *")
	pad := strings.Repeat("z", store.MaxHookSize-2<<10)
	in.Task = json.RawMessage(`{"provisionerId":"p","workerType":"w","extra":{"pad":"` + pad + `"}}`)
	if _, err := e.svc.Definitions.CreateHook(ctx, "g", "big", in); err != nil {
		t.Fatal(err)
	}
	head := func() (gen, version string) {
		t.Helper()
		out, err := client.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      aws.String(table),
			Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: "HOOK#g"}, "sk": &types.AttributeValueMemberS{Value: "big"}},
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			t.Fatal(err)
		}
		g, ok := out.Item["chunkGen"].(*types.AttributeValueMemberS)
		if !ok {
			t.Fatalf("the hook's item names no chunks: %v", out.Item)
		}
		return g.Value, out.Item["ver"].(*types.AttributeValueMemberN).Value
	}
	created, createdVersion := head()
	for h := range 3 {
		e.tick(t, e.clock.t.Truncate(time.Hour).Add(time.Hour+time.Second))
		if got := e.queue.taskCount(); got != h+1 {
			t.Fatalf("after tick %d: %d tasks", h, got)
		}
	}
	gen, version := head()
	if gen != created || version == createdVersion {
		t.Fatalf("after 3 fires the hook's item is at version %s (was %s) and names chunks %s (was %s)", version, createdVersion, gen, created)
	}
	if def, err := e.svc.Definitions.GetHook(ctx, "g", "big"); err != nil || len(def.Task) != len(in.Task) {
		t.Fatalf("get after the fires: %d bytes, %v", len(def.Task), err)
	}
}
