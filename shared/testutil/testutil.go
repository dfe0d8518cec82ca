// Package testutil holds small helpers shared by tests across packages.
package testutil

import (
	"bytes"
	"os"
	"path/filepath"
	"sync"
	"testing"

	amqp "github.com/rabbitmq/amqp091-go"
)

// SyncBuffer is a bytes.Buffer that one goroutine may write (a server's
// log, a child process's output) while another reads it.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// RepoRoot returns the repository root: the nearest directory above the
// working directory that holds go.mod.
func RepoRoot(tb testing.TB) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatal("no go.mod above the working directory")
		}
		dir = parent
	}
}

// BrokerURL is the RabbitMQ the Pulse tests use: HOOKLINE_TEST_AMQP_URL,
// or the local one with RabbitMQ's default account.
func BrokerURL() string {
	if u := os.Getenv("HOOKLINE_TEST_AMQP_URL"); u != "" {
		return u
	}
	return "amqp://guest:guest@127.0.0.1:5672/"
}

// DialBroker connects to BrokerURL and closes the connection when the test
// ends. Without a broker the test is skipped, except under CI=true, where
// a missing broker is a failure.
func DialBroker(tb testing.TB) *amqp.Connection {
	tb.Helper()
	conn, err := amqp.Dial(BrokerURL())
	if err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatalf("RabbitMQ is required under CI=true: %v", err)
		}
		tb.Skipf("no RabbitMQ at %s: %v", BrokerURL(), err)
	}
	tb.Cleanup(func() { conn.Close() })
	return conn
}
