//go:build integration

package hooks

import (
	"testing"

	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/dynamo/dynamotest"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

// BenchmarkTickDynamo is BenchmarkTickEmbedded against DynamoDB (the
// dynalite emulator, which keeps its data in memory on this machine).
func BenchmarkTickDynamo(b *testing.B) {
	for _, c := range tickCases {
		b.Run(tickCaseName(c.stored, c.due, c.featured), func(b *testing.B) {
			benchTick(b, func(b *testing.B) store.Store { return dynamotest.NewStore(b) }, c.stored, c.due, c.featured)
		})
	}
}
