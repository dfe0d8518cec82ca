//go:build integration

package hooks

import (
	"fmt"
	"testing"

	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/dynamo/dynamotest"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// BenchmarkTickDynamo is BenchmarkTickEmbedded against DynamoDB (the
// dynalite emulator, which keeps its data in memory on this machine).
func BenchmarkTickDynamo(b *testing.B) {
	for _, c := range []struct{ stored, due int }{{100_000, 1_000}, {10_000, 1_000}, {100_000, 100}} {
		b.Run(fmt.Sprintf("stored=%d/due=%d", c.stored, c.due), func(b *testing.B) {
			benchTick(b, func(b *testing.B) store.Store { return dynamotest.NewStore(b) }, c.stored, c.due)
		})
	}
}
