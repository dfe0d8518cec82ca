package dynamotest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	"go.uber.org/goleak"

	"github.com/hookline/hookline/shared/store/dynamo"
	"github.com/hookline/hookline/shared/testutil"
)

// Timeouts of the emulator's life cycle.
const (
	installTimeout = 5 * time.Minute
	startTimeout   = 30 * time.Second
	stopTimeout    = 5 * time.Second
	tableTimeout   = 30 * time.Second
)

// Region is the region every test client uses.
const Region = "us-east-1"

// emulatorScript starts dynalite in memory on a port the kernel picks,
// reports the port on stdout, and exits when stdin closes so that the
// process cannot outlive the test binary that started it. (dynalite's own
// cli.js treats port 0 as its default 4567 and ignores stdin.)
const emulatorScript = `
const dynalite = require('dynalite');
const server = dynalite({createTableMs: 0, deleteTableMs: 0, updateTableMs: 0});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write('listening ' + server.address().port + '\n');
});
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
`

// shared is the test binary's one emulator; see the package doc.
var shared struct {
	mu      sync.Mutex
	started bool
	emu     *emulator
	err     error
}

// Start returns a client of the test binary's shared emulator, starting the
// emulator on first use. When it cannot start, the test is skipped, or
// failed under CI=true.
func Start(tb testing.TB) *dynamodb.Client {
	tb.Helper()
	return NewClient(Endpoint(tb))
}

// Endpoint returns the base URL of the shared emulator (starting it like
// Start), for tests that configure a client of their own or pass the URL to
// a subprocess.
func Endpoint(tb testing.TB) string {
	tb.Helper()
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if !shared.started {
		shared.started = true
		shared.emu, shared.err = startEmulator()
	}
	if shared.err != nil {
		unavailable(tb, shared.err)
	}
	return shared.emu.endpoint
}

// NewClient returns a DynamoDB client for endpoint with static fake
// credentials in Region, changed by optFns.
func NewClient(endpoint string, optFns ...func(*dynamodb.Options)) *dynamodb.Client {
	return dynamodb.New(dynamodb.Options{
		Region:       Region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("hookline-test", "hookline-test", ""),
	}, optFns...)
}

// Observed returns a client of the shared emulator (starting it like
// Start) that calls see with each operation's context and input before
// the request is sent: tests count or record what the store asks for, or
// stage a race at that moment. Make tables with a plain client, so that
// see meets only the requests under test.
func Observed(tb testing.TB, see func(ctx context.Context, params any)) *dynamodb.Client {
	tb.Helper()
	observe := func(stack *middleware.Stack) error {
		return stack.Initialize.Add(middleware.InitializeMiddlewareFunc("hooklineObserver",
			func(ctx context.Context, in middleware.InitializeInput, next middleware.InitializeHandler) (middleware.InitializeOutput, middleware.Metadata, error) {
				see(ctx, in.Parameters)
				return next.HandleInitialize(ctx, in)
			}), middleware.Before)
	}
	return NewClient(Endpoint(tb), func(o *dynamodb.Options) { o.APIOptions = append(o.APIOptions, observe) })
}

// Main runs the tests of m, stops the emulator afterwards and then, as
// goleak.VerifyTestMain does, fails if any goroutine outlived the tests.
// Call it from TestMain:
//
//	func TestMain(m *testing.M) { dynamotest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if err := stop(); err != nil && code == 0 {
		fmt.Fprintln(os.Stderr, err)
		code = 1
	}
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: goroutines outlived the tests: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

// stop stops the shared emulator if it runs.
func stop() error {
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if shared.emu == nil {
		return nil
	}
	err := shared.emu.stop()
	shared.emu = nil
	shared.err = errors.New("emulator already stopped")
	return err
}

func unavailable(tb testing.TB, err error) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatalf("dynamotest: DynamoDB emulator unavailable (CI=true, so this is a failure): %v", err)
		return
	}
	tb.Skipf("dynamotest: DynamoDB emulator unavailable, skipping (run `make deps`; under CI=true this fails): %v", err)
}

// NewTable creates a fresh table with dynamo.TableDefinition, named after
// the test, and deletes it when the test ends. Time to live is enabled on
// dynamo.TTLAttribute where the server supports it (dynalite does not).
func NewTable(tb testing.TB, client *dynamodb.Client) string {
	tb.Helper()
	name := tableName(tb.Name())
	ctx, cancel := context.WithTimeout(tb.Context(), tableTimeout)
	defer cancel()
	if _, err := client.CreateTable(ctx, dynamo.TableDefinition(name)); err != nil {
		tb.Fatalf("dynamotest: create table %s: %v", name, err)
	}
	tb.Cleanup(func() {
		// tb.Context() is done by the time cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), tableTimeout)
		defer cancel()
		if _, err := client.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String(name)}); err != nil {
			tb.Errorf("dynamotest: delete table %s: %v", name, err)
		}
	})
	waiter := dynamodb.NewTableExistsWaiter(client, func(o *dynamodb.TableExistsWaiterOptions) {
		o.MinDelay = 50 * time.Millisecond
		o.MaxDelay = time.Second
	})
	if err := waiter.Wait(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(name)}, tableTimeout); err != nil {
		tb.Fatalf("dynamotest: wait for table %s: %v", name, err)
	}
	_, err := client.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
		TableName: aws.String(name),
		TimeToLiveSpecification: &types.TimeToLiveSpecification{
			AttributeName: aws.String(dynamo.TTLAttribute()),
			Enabled:       aws.Bool(true),
		},
	})
	if err != nil && !unsupported(err) {
		tb.Fatalf("dynamotest: enable time to live on %s: %v", name, err)
	}
	return name
}

// NewStore returns a dynamo.Store over a fresh table of the shared
// emulator; it matches storetest.NewStore.
func NewStore(tb testing.TB) *dynamo.Store {
	tb.Helper()
	client := Start(tb)
	return dynamo.New(client, NewTable(tb, client))
}

// unsupported reports whether err says the server lacks the operation, as
// dynalite answers UpdateTimeToLive.
func unsupported(err error) bool {
	var apiErr smithy.APIError
	return errors.As(err, &apiErr) && apiErr.ErrorCode() == "UnknownOperationException"
}

var unsafeTableChars = regexp.MustCompile(`[^a-zA-Z0-9_.-]+`)

// tableName derives a unique, valid table name from a test name.
func tableName(testName string) string {
	base := unsafeTableChars.ReplaceAllString(testName, "_")
	if len(base) > 80 {
		base = base[:80]
	}
	suffix := make([]byte, 6)
	rand.Read(suffix)
	return "hookline_" + base + "_" + hex.EncodeToString(suffix)
}

// emulator is one running dynalite process.
type emulator struct {
	cmd      *exec.Cmd
	stdin    io.Closer
	stderr   *syncBuffer
	exited   chan struct{}
	waitErr  error
	endpoint string
}

// startEmulator installs the pinned emulator if needed and starts it.
func startEmulator() (*emulator, error) {
	dir, err := localDir()
	if err != nil {
		return nil, err
	}
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, fmt.Errorf("node not found in PATH (install Node.js >= 20): %w", err)
	}
	if err := ensureInstalled(dir); err != nil {
		return nil, err
	}

	cmd := exec.Command(node, "-e", emulatorScript)
	cmd.Dir = dir
	e := &emulator{cmd: cmd, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = e.stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, fmt.Errorf("emulator stdin: %w", err)
	}
	e.stdin = stdin
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("emulator stdout: %w", err)
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start emulator: %w", err)
	}

	ports := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if port, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				select {
				case ports <- port:
				default:
				}
			}
		}
		// Keep draining so the emulator never blocks on a full pipe.
		io.Copy(io.Discard, stdout)
	}()
	// Wait closes stdout once the process exits; the reader above needs it
	// only while the emulator runs.
	go func() {
		e.waitErr = cmd.Wait()
		close(e.exited)
	}()

	timer := time.NewTimer(startTimeout)
	defer timer.Stop()
	select {
	case port := <-ports:
		e.endpoint = "http://127.0.0.1:" + port
	case <-e.exited:
		return nil, fmt.Errorf("emulator exited at start (%v): %s", e.waitErr, e.stderr.String())
	case <-timer.C:
		e.stop()
		return nil, fmt.Errorf("emulator did not report its port within %v: %s", startTimeout, e.stderr.String())
	}

	ctx, cancel := context.WithTimeout(context.Background(), startTimeout)
	defer cancel()
	if _, err := NewClient(e.endpoint).ListTables(ctx, &dynamodb.ListTablesInput{}); err != nil {
		e.stop()
		return nil, fmt.Errorf("emulator at %s does not answer: %w", e.endpoint, err)
	}
	return e, nil
}

// stop asks the emulator to exit by closing its stdin, and kills it if it
// does not.
func (e *emulator) stop() error {
	e.stdin.Close()
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-e.exited:
		return nil
	case <-timer.C:
	}
	if err := e.cmd.Process.Kill(); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return fmt.Errorf("dynamotest: kill emulator: %w", err)
	}
	<-e.exited
	return nil
}

// localDir returns the repository's infra/local, found by walking up from
// the working directory (a test runs in its package's directory) to go.mod.
func localDir() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("find repository root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			local := filepath.Join(dir, "infra", "local")
			if _, err := os.Stat(filepath.Join(local, "package.json")); err != nil {
				return "", fmt.Errorf("repository root %s has no infra/local/package.json: %w", dir, err)
			}
			return local, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// ensureInstalled runs `npm ci` in dir unless node_modules already holds the
// pinned emulator. A lock serializes test binaries that start at once on a
// fresh clone: the first installs, the others then find it installed.
func ensureInstalled(dir string) error {
	unlock, err := lockDir(dir)
	if err != nil {
		return err
	}
	defer unlock()
	want, err := pinnedVersion(dir)
	if err != nil {
		return err
	}
	if installedVersion(dir) == want {
		return nil
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		return fmt.Errorf("infra/local/node_modules lacks dynalite %s and npm is not in PATH: %w", want, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), installTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		return fmt.Errorf("npm ci in %s: %w: %s", dir, err, bytes.TrimSpace(out))
	}
	if got := installedVersion(dir); got != want {
		return fmt.Errorf("npm ci in %s installed dynalite %q, want %q", dir, got, want)
	}
	return nil
}

// pinnedVersion reads the dynalite version pinned in dir/package.json.
func pinnedVersion(dir string) (string, error) {
	var pkg struct {
		Dependencies    map[string]string `json:"dependencies"`
		DevDependencies map[string]string `json:"devDependencies"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "package.json"))
	if err != nil {
		return "", fmt.Errorf("read pinned emulator version: %w", err)
	}
	if err := json.Unmarshal(data, &pkg); err != nil {
		return "", fmt.Errorf("read pinned emulator version: %w", err)
	}
	v := pkg.Dependencies["dynalite"]
	if v == "" {
		v = pkg.DevDependencies["dynalite"]
	}
	if v == "" {
		return "", fmt.Errorf("%s does not pin dynalite", filepath.Join(dir, "package.json"))
	}
	return v, nil
}

// installedVersion returns the version of the installed dynalite, or "" when
// it is absent or its install did not complete (npm writes
// node_modules/.package-lock.json last).
func installedVersion(dir string) string {
	if _, err := os.Stat(filepath.Join(dir, "node_modules", ".package-lock.json")); err != nil {
		return ""
	}
	var pkg struct {
		Version string `json:"version"`
	}
	data, err := os.ReadFile(filepath.Join(dir, "node_modules", "dynalite", "package.json"))
	if err != nil || json.Unmarshal(data, &pkg) != nil {
		return ""
	}
	return pkg.Version
}

// syncBuffer is written by one goroutine while the test reads it.
type syncBuffer = testutil.SyncBuffer
