//go:build integration

package hooks

import (
	"testing"

	"github.com/hookline/hookline/shared/store/dynamo/dynamotest"
)

// TestRacingSchedulersOneDecisionPerSlotDynamo is the race of two
// schedulers on one DynamoDB table (the dynalite emulator): 36 hooks of
// every kind over 10 minutes, 360 slots.
func TestRacingSchedulersOneDecisionPerSlotDynamo(t *testing.T) {
	checkRace(t, raceTicks(t, newSchedEnvOn(t, dynamotest.NewStore(t)), 36, 10))
}
