package queue_test

import (
	"testing"

	"go.uber.org/goleak"
)

// The memory queue's long polls and the local queue's deliveries run on
// goroutines: none may outlive the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
