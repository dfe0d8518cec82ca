//go:build integration

package hooks

import (
	"testing"

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
