//go:build integration

package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hookline/hookline/shared/testutil"
)

// TestMakeLocalInvoke runs `make local-invoke` as the README shows it, for
// every function, and checks what it prints: each response on its own line
// of stdout, the logs and what reached the local queue on stderr. Nothing
// else may reach stdout, also when make first builds the emulator or
// installs dynalite.
func TestMakeLocalInvoke(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skipf("the emulator runs on linux only; this is %s", runtime.GOOS)
	}
	for _, tool := range []string{"make", "node", "npm"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") == "true" {
				t.Fatalf("%s is required under CI=true", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	root := testutil.RepoRoot(t)
	makeInvoke := func(t *testing.T, vars ...string) (stdout, stderr string, err error) {
		t.Helper()
		var out, errOut bytes.Buffer
		// No -s: the README's command echoes recipes, which must not
		// reach stdout. --no-print-directory because under `make test`
		// this make is a sub-make, which would print "Entering directory".
		cmd := exec.Command("make", append([]string{"--no-print-directory", "local-invoke"}, vars...)...)
		cmd.Dir = root
		cmd.Stdout, cmd.Stderr = &out, &errOut
		err = cmd.Run()
		return out.String(), errOut.String(), err
	}
	httpAnswer := func(t *testing.T, line string) (int, map[string]any) {
		t.Helper()
		var res events.APIGatewayV2HTTPResponse
		var body map[string]any
		if err := json.Unmarshal([]byte(line), &res); err != nil || json.Unmarshal([]byte(res.Body), &body) != nil {
			t.Fatalf("not an API Gateway response with a JSON body: %s", line)
		}
		return res.StatusCode, body
	}
	const seed = "SEED=infra/events/api-create-hook.json"

	for _, tt := range []struct {
		function string
		vars     []string
		check    func(t *testing.T, lines []string, stderr string)
	}{
		{"ApiFunction", []string{"EVENT=infra/events/api-create-hook.json infra/events/api-get-hook.json"}, func(t *testing.T, lines []string, stderr string) {
			if len(lines) != 2 {
				t.Fatalf("%d lines, want one per event", len(lines))
			}
			for _, line := range lines {
				if status, body := httpAnswer(t, line); status != 200 || body["hookId"] != "build" {
					t.Errorf("got %d %v, want 200 with hook build", status, body)
				}
			}
			if !strings.Contains(stderr, `SQS: message to https://sqs.us-east-1.amazonaws.com/123456789012/hookline-ChangesQueue-7K8L9M0N1O2P: {"kind":"hook-created"`) {
				t.Error("the hook-created announcement was not shown")
			}
		}},
		{"WebhookFunction", []string{"EVENT=infra/events/webhook-trigger.json", seed}, func(t *testing.T, lines []string, stderr string) {
			// The sample's token is not the seeded hook's.
			if status, body := httpAnswer(t, lines[0]); status != 401 || body["code"] != "AuthenticationFailed" {
				t.Errorf("got %d %v, want 401 AuthenticationFailed", status, body)
			}
		}},
		{"SchedulerFunction", []string{"EVENT=infra/events/scheduler-tick.json"}, func(t *testing.T, lines []string, stderr string) {
			if lines[0] != "null" {
				t.Errorf("got %s, want null", lines[0])
			}
		}},
		{"TriggerFunction", []string{"EVENT=infra/events/trigger-batch.json", seed}, func(t *testing.T, lines []string, stderr string) {
			var res events.SQSEventResponse
			if err := json.Unmarshal([]byte(lines[0]), &res); err != nil || len(res.BatchItemFailures) != 0 {
				t.Errorf("got %s, want no batch item failures", lines[0])
			}
			if n := strings.Count(stderr, "answered 200"); n != 2 {
				t.Errorf("%d tasks created, want one per record (2):\n%s", n, stderr)
			}
		}},
	} {
		t.Run(tt.function, func(t *testing.T) {
			stdout, stderr, err := makeInvoke(t, append([]string{"FUNCTION=" + tt.function}, tt.vars...)...)
			// Deferred, so that a check's Fatalf shows them too.
			defer func() {
				if t.Failed() {
					t.Logf("stdout:\n%s\nstderr:\n%s", stdout, stderr)
				}
			}()
			if err != nil {
				t.Fatalf("make local-invoke: %v", err)
			}
			lines := strings.Split(strings.TrimSpace(stdout), "\n")
			tt.check(t, lines, stderr)
			if !strings.Contains(stderr, "local-invoke: store: table hookline-HooksTable-1X2Y3Z4W5V6U in dynalite") {
				t.Errorf("the store was not a dynalite table")
			}
		})
	}

	t.Run("a bad configuration fails", func(t *testing.T) {
		_, stderr, err := makeInvoke(t, "FUNCTION=ApiFunction", "EVENT=infra/events/api-get-hook.json", "SET=HOOKLINE_STORE=tape:/dev/null")
		if err == nil || !strings.Contains(stderr, "HOOKLINE_STORE") || !strings.Contains(stderr, "did not start") {
			t.Errorf("err %v, want a failure naming HOOKLINE_STORE:\n%s", err, stderr)
		}
	})
	t.Run("an unknown function fails", func(t *testing.T) {
		if _, stderr, err := makeInvoke(t, "FUNCTION=NoSuchFunction", "EVENT=infra/events/api-get-hook.json"); err == nil {
			t.Errorf("no error:\n%s", stderr)
		}
	})
}
