package main

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// childServe, set in a child's environment, makes the test binary run
// `hookline serve` instead of the tests: the durability test kills such a
// child with SIGKILL, and the memory benchmark reads its /proc status.
const childServe = "HOOKLINE_TEST_CHILD_SERVE"

// serve runs the HTTP server, the scheduler and expiry loops and the
// bridge on goroutines: none may outlive the tests.
func TestMain(m *testing.M) {
	if os.Getenv(childServe) == "1" {
		os.Exit(run([]string{"serve"}, os.Stdin, os.Stdout, os.Stderr, os.Getenv))
	}
	goleak.VerifyTestMain(m)
}
