package main

import (
	"testing"

	"go.uber.org/goleak"
)

// The handler fires a batch's messages on goroutines: none may outlive
// the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
