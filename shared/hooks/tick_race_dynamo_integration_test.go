//go:build integration

package hooks

import (
	"testing"
	"time"

	"github.com/hookline/hookline/shared/store/dynamo/dynamotest"
)

// TestRacingSchedulersOneDecisionPerSlotDynamo is the race of two
// schedulers on one DynamoDB table (the dynalite emulator): 36 hooks of
// every kind over 10 minutes, 360 slots.
func TestRacingSchedulersOneDecisionPerSlotDynamo(t *testing.T) {
	checkRace(t, raceTicks(t, newSchedEnvOn(t, dynamotest.NewStore(t)), 36, 10))
}

// TestTickAfterACrashDynamo runs the crash scenarios over DynamoDB.
func TestTickAfterACrashDynamo(t *testing.T) {
	for _, sc := range crashScenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			sc.run(t, newSchedEnvOn(t, dynamotest.NewStore(t)))
		})
	}
}

// TestDuplicateDeliveriesRecordOnceDynamo delivers each kind of fire twice
// over DynamoDB.
func TestDuplicateDeliveriesRecordOnceDynamo(t *testing.T) {
	testDuplicateDeliveries(t, func(t *testing.T) *schedEnv {
		e := newSchedEnvOn(t, dynamotest.NewStore(t))
		e.clock.step = time.Millisecond
		return e
	})
}
