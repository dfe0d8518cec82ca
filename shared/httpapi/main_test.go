package httpapi

import (
	"testing"

	"go.uber.org/goleak"
)

// The API's tests start HTTP servers and clients: none of their goroutines
// may outlive the tests.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
