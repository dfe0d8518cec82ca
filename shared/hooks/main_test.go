//go:build !integration

package hooks

import (
	"testing"

	"go.uber.org/goleak"
)

// Firing, ticking, pauses and webhook intake run work on goroutines: none
// may outlive the tests. (With the integration tag, TestMain is in
// tick_dynamo_bench_test.go: dynamotest.Main checks the same.)
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
