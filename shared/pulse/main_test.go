package pulse

import (
	"testing"

	"go.uber.org/goleak"
)

// The bridge starts goroutines per connection, consumer and sender: none
// may outlive the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
