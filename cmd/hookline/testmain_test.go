package main

import (
	"testing"

	"go.uber.org/goleak"
)

// serve runs the HTTP server, the scheduler and expiry loops and the
// bridge on goroutines: none may outlive the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
