package boltcommit

import (
	"testing"

	"go.uber.org/goleak"
)

// A group committer runs a goroutine until it is closed: none may outlive
// the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
