package embedded_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The store commits through a group committer's goroutine (boltcommit):
// every store the tests open must be closed, and its goroutine gone.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
