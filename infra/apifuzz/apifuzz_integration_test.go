//go:build integration

package apifuzz

import (
	"context"
	"flag"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/store/dynamo/dynamotest"
)

// The run's size: `make test` runs the defaults, `make fuzz-api` more.
var (
	flagRequests = flag.Int("apifuzz.requests", 150, "requests per store")
	flagDuration = flag.Duration("apifuzz.duration", 20*time.Second, "longest the requests may take per store (0: no bound)")
	flagSeed     = flag.Uint64("apifuzz.seed", 1, "the generator's seed")
	flagOnly     = flag.String("apifuzz.only", "", "send exactly these requests: index, first-last or index@size, comma-separated (a failure's replay command sets it)")
	flagBinary   = flag.String("apifuzz.hookline", "", "the hookline binary (default: built from ./cmd/hookline into a temporary directory)")
	flagStores   = flag.String("apifuzz.stores", "embedded,dynamodb", "the stores to fuzz")
	flagLogs     = flag.String("apifuzz.logs", "", "a directory to keep serve's log in when the run fails")
	flagMinimize = flag.Duration("apifuzz.minimize", 2*time.Minute, "longest the search for a shorter reproduction of a failure may take")
)

// TestAPIFuzz runs the fuzz against `hookline serve` on each store.
func TestAPIFuzz(t *testing.T) {
	only, err := ParseSteps(*flagOnly)
	if err != nil {
		t.Fatalf("-apifuzz.only: %v", err)
	}
	binary := *flagBinary
	if binary == "" {
		binary = buildHookline(t)
	}
	for _, store := range strings.Split(*flagStores, ",") {
		t.Run(store, func(t *testing.T) {
			opts := Options{
				Binary: binary, Store: store, Dir: t.TempDir(), Seed: *flagSeed,
				Requests: *flagRequests, Duration: *flagDuration, Only: only, MinimizeFor: *flagMinimize,
				KeepLogs: *flagLogs, Out: testWriter{t},
			}
			switch store {
			case "embedded":
			case "dynamodb":
				endpoint := dynamotest.Endpoint(t)
				client := dynamotest.NewClient(endpoint)
				opts.NewEnv = func() ([]string, error) {
					table := dynamotest.NewTable(t, client)
					return []string{"HOOKLINE_STORE=dynamodb:" + table, "AWS_REGION=" + dynamotest.Region,
						"AWS_ACCESS_KEY_ID=hookline-test", "AWS_SECRET_ACCESS_KEY=hookline-test", "AWS_ENDPOINT_URL_DYNAMODB=" + endpoint,
						"AWS_EC2_METADATA_DISABLED=true", "AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null"}, nil
				}
			default:
				t.Fatalf("-apifuzz.stores: unknown store %q (embedded, dynamodb)", store)
			}
			res, err := Run(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			t.Log(Report(res))
			for _, f := range res.Failures {
				t.Errorf("%s", f)
			}
			if res.Repro != "" {
				t.Errorf("%s", res.Repro)
			}
			if res.Sent == 0 {
				t.Errorf("no request was sent")
			}
		})
	}
}

// buildHookline builds ./cmd/hookline into a temporary directory.
func buildHookline(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "hookline")
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "go", "build", "-o", out, "./cmd/hookline")
	cmd.Dir = filepath.Join("..", "..")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/hookline: %v\n%s", err, msg)
	}
	return out
}
