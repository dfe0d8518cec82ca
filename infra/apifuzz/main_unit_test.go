//go:build !integration

package apifuzz

import (
	"testing"

	"go.uber.org/goleak"
)

func testMain(m *testing.M) { goleak.VerifyTestMain(m) }
