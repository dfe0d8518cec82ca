//go:build integration

package hooks

import (
	"testing"
	"time"

	"github.com/hookline/hookline/shared/store/dynamo/dynamotest"
)

// TestScheduleScenariosDynamo runs the schedule scenarios over DynamoDB
// (the dynalite emulator), one table per scenario.
func TestScheduleScenariosDynamo(t *testing.T) {
	for _, sc := range scheduleScenarios {
		t.Run(sc.name, func(t *testing.T) {
			t.Parallel()
			e := newSchedEnvOn(t, dynamotest.NewStore(t))
			e.clock.step = time.Millisecond // as newOperateEnv: decisions sort in order
			sc.run(t, e)
		})
	}
}
