// Package dynamotest starts the dynalite DynamoDB emulator (pinned in
// infra/local) for tests, one process per test binary, and creates a fresh
// table per test.
//
// The emulator process is shared by every test of a binary, so this test
// helper keeps it in package state behind a mutex; Main stops it when the
// tests end. Production code has no such state.
package dynamotest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/hookline/hookline/shared/store/dynamo"
)

var (
	mu       sync.Mutex
	proc     *exec.Cmd
	endpoint string
	startErr error
	tables   atomic.Int64
)

// Main runs the tests and then stops the emulator; call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	mu.Lock()
	if proc != nil && proc.Process != nil {
		proc.Process.Kill()
		proc.Wait()
	}
	mu.Unlock()
	os.Exit(code)
}

// unavailable skips the test, or fails it under CI=true, where a missing
// emulator must never pass silently.
func unavailable(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("dynalite is required under CI=true: %v", err)
	}
	tb.Skipf("dynalite not available (run `make deps`): %v", err)
}

// Client returns a DynamoDB client for the shared emulator, starting it on
// first use.
func Client(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	mu.Lock()
	defer mu.Unlock()
	if endpoint == "" && startErr == nil {
		endpoint, startErr = start()
	}
	if startErr != nil {
		unavailable(tb, startErr)
	}
	return dynamodb.New(dynamodb.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(endpoint),
		Credentials:      credentials.NewStaticCredentialsProvider("test", "test", ""),
		RetryMaxAttempts: 3,
	})
}

// NewTable creates an empty table shaped by dynamo.TableDefinition and
// deletes it when the test ends.
func NewTable(tb testing.TB, client *dynamodb.Client) string {
	tb.Helper()
	name := fmt.Sprintf("hookline-test-%d-%d", os.Getpid(), tables.Add(1))
	ctx := context.Background()
	if _, err := client.CreateTable(ctx, dynamo.TableDefinition(name)); err != nil {
		tb.Fatalf("create table: %v", err)
	}
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) { o.MinDelay = 10 * time.Millisecond })
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: &name}, 30*time.Second); err != nil {
		tb.Fatalf("wait for table: %v", err)
	}
	tb.Cleanup(func() { client.DeleteTable(context.Background(), &dynamodb.DeleteTableInput{TableName: &name}) })
	return name
}

// start launches dynalite on a free port and waits until it answers.
func start() (string, error) {
	root, err := repoRoot()
	if err != nil {
		return "", err
	}
	cli := filepath.Join(root, "infra", "local", "node_modules", "dynalite", "cli.js")
	if _, err := os.Stat(cli); err != nil {
		return "", fmt.Errorf("%s is missing; run `make deps` (npm ci in infra/local)", cli)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return "", errors.New("node is not installed")
	}
	port, err := freePort()
	if err != nil {
		return "", err
	}
	cmd := exec.Command(node, cli, "--port", strconv.Itoa(port), "--createTableMs", "0", "--deleteTableMs", "0", "--updateTableMs", "0")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start dynalite: %w", err)
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	deadline := time.Now().Add(20 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			return "", fmt.Errorf("dynalite did not listen on %s within 20s", addr)
		}
		time.Sleep(50 * time.Millisecond)
	}
	proc = cmd
	return "http://" + addr, nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("go.mod not found above the working directory")
		}
		dir = parent
	}
}
