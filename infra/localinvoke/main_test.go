package main

import (
	"testing"

	"go.uber.org/goleak"
)

// The local invoker runs servers and subprocess pipes on goroutines: none
// may outlive the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
