package main

import (
	"io"
	"os"
	"syscall"
	"testing"

	"github.com/hookline/hookline/shared/store/dynamo/dynamotest"
)

// childEnv set to 1 makes the test binary the bridge command itself: the
// replica tests start it as a real process (and kill it with SIGKILL).
// The child stops (SIGTERM, a graceful drain) when its stdin closes, so it
// never outlives the test that started it.
const childEnv = "HOOKLINE_TEST_BRIDGE_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		go func() {
			io.Copy(io.Discard, os.Stdin)
			syscall.Kill(os.Getpid(), syscall.SIGTERM)
		}()
		main()
		os.Exit(0)
	}
	dynamotest.Main(m)
}
