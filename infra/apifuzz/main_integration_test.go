//go:build integration

package apifuzz

import (
	"testing"

	"github.com/hookline/hookline/shared/store/dynamo/dynamotest"
)

// testMain stops the emulator after the tests and checks for leaked
// goroutines.
func testMain(m *testing.M) { dynamotest.Main(m) }
