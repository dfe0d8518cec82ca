package apifuzz

import (
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	// Run as a child by the tests' fake server (fake_test.go).
	if flaw := os.Getenv(fakeEnv); flaw != "" {
		runFake(flaw)
		return
	}
	testMain(m)
}
