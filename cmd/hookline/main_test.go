package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/queue/sqstest"
	"github.com/hookline/hookline/shared/testutil"
)

func envFrom(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// writeFile writes body to dir/name and returns the path.
func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const validHook = `{
  "metadata": {"name": "n", "description": "d", "owner": "o@example.com"},
  "schedule": ["0 0 2 * * *"],
  "task": {"provisionerId": "p", "workerType": "w"}
}`

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string { return writeFile(t, dir, name, body) }
	for _, tt := range []struct {
		name, body string
		wantCode   int
		want       []string
	}{
		{name: "valid", body: validHook, wantCode: 0, want: []string{"valid hook definition"}},
		{name: "bad cron", body: strings.Replace(validHook, "0 0 2 * * *", "0 0 3 0 * *", 1), wantCode: 1, want: []string{"day of month"}},
		{name: "schema problems", body: `{"metadata":{"name":"n"},"task":{},"extra":1}`, wantCode: 1, want: []string{"description", "extra"}},
		{name: "denied exchange", body: strings.Replace(validHook, `"schedule"`, `"bindings":[{"exchange":"exchange/taskcluster-hooks/v1/hook-created","routingKeyPattern":"#"}],"schedule"`, 1), wantCode: 1, want: []string{"denied access"}},
		{name: "not JSON", body: `{`, wantCode: 1, want: []string{"not a JSON object"}},
		{name: "template syntax error", body: strings.Replace(validHook, `"workerType": "w"`, `"workerType": {"$eval": "1 +"}`, 1), wantCode: 1, want: []string{"task template: SyntaxError"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run([]string{"validate", write(tt.name+".json", tt.body)}, nil, &out, &errOut, envFrom(nil))
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.wantCode, out.String(), errOut.String())
			}
			for _, w := range tt.want {
				if !strings.Contains(out.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, out.String())
				}
			}
		})
	}
	var out bytes.Buffer
	if code := run([]string{"validate", "-"}, strings.NewReader(validHook), &out, io.Discard, envFrom(nil)); code != 0 {
		t.Fatalf("stdin: exit %d %s", code, out.String())
	}
	if code := run([]string{"validate"}, nil, io.Discard, io.Discard, envFrom(nil)); code != 2 {
		t.Fatalf("usage error exit %d", code)
	}
	if code := run([]string{"frobnicate"}, nil, io.Discard, io.Discard, envFrom(nil)); code != 2 {
		t.Fatalf("unknown command exit %d", code)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// startServe runs `hookline serve` with env (plus a free address and a
// fresh data directory) until the test ends, and returns its base URL, data
// directory and output.
func startServe(t *testing.T, env map[string]string) (base, dir string, stdout *syncBuffer) {
	t.Helper()
	s := startServeWith(t, env, defaultConnLimits)
	return s.base, s.dir, s.stdout
}

// served is a running `hookline serve`.
type served struct {
	base, addr, dir string
	stdout, stderr  *syncBuffer
}

// startServeWith is startServe with connection limits, keeping the logs.
func startServeWith(t *testing.T, env map[string]string, limits connLimits) *served {
	t.Helper()
	s := &served{dir: t.TempDir(), addr: freeAddr(t), stdout: &syncBuffer{}, stderr: &syncBuffer{}}
	vars := map[string]string{"HOOKLINE_ADDR": s.addr, "HOOKLINE_DATA_DIR": s.dir, "HOOKLINE_LOG_LEVEL": "warn"}
	maps.Copy(vars, env)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serveWith(ctx, envFrom(vars), s.stdout, s.stderr, limits) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Error("serve did not shut down")
		}
	})
	s.base = "http://" + s.addr
	waitUp(t, s.base+"/api/hooks/v1/ping")
	return s
}

// TestServe starts `hookline serve` as a user would, with a generated root
// client, creates and fires a hook through the signed API, reads the task
// back from the local queue, and shuts down gracefully.
func TestServe(t *testing.T) {
	base, dir, stdout := startServe(t, nil)
	tokenBytes, err := os.ReadFile(filepath.Join(dir, "root-access-token"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(tokenBytes))
	if !strings.Contains(stdout.String(), token) {
		t.Fatalf("the generated root token was not printed: %q", stdout.String())
	}
	creds := auth.Credentials{ClientID: "root", AccessToken: token}

	hook := `{"metadata":{"name":"n","description":"d","owner":"o@example.com"},"triggerSchema":{"type":"object"},
	  "task":{"provisionerId":"p","workerType":"w","payload":{"n":{"$eval":"payload.n"}},
	  "metadata":{"name":"t","description":"t","owner":"o@example.com","source":"https://example.com"}}}`
	if status, body := signed(t, creds, "PUT", base+"/api/hooks/v1/hooks/g/h", hook); status != 200 {
		t.Fatalf("create: %d %s", status, body)
	}
	status, body := signed(t, creds, "POST", base+"/api/hooks/v1/hooks/g/h/trigger", `{"n":7}`)
	if status != 200 {
		t.Fatalf("trigger: %d %s", status, body)
	}
	var fired struct{ TaskID string }
	json.Unmarshal([]byte(body), &fired)
	res, err := http.Get(base + "/api/queue/v1/task/" + fired.TaskID)
	if err != nil {
		t.Fatal(err)
	}
	task, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !strings.Contains(string(task), `"payload":{"n":7}`) {
		t.Fatalf("task read back: %d %s", res.StatusCode, task)
	}
	// Unsigned calls get only anonymous scopes: none by default.
	res, err = http.Get(base + "/api/hooks/v1/hooks")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 403 {
		t.Fatalf("anonymous list: %d", res.StatusCode)
	}
}

// With roles configured, the local queue enforces them as a Taskcluster
// queue would, and the pre-check reports what a hook's role lacks.
func TestServeEnforcesConfiguredRoles(t *testing.T) {
	base, _, _ := startServe(t, map[string]string{"HOOKLINE_CLIENTS": `{
	  "clients": [{"clientId": "admin", "accessToken": "admin-token-0123456789", "scopes": ["*"]}],
	  "roles": [{"roleId": "hook-id:g/granted", "scopes": ["queue:create-task:*", "queue:scheduler-id:-"]}]}`})
	creds := auth.Credentials{ClientID: "admin", AccessToken: "admin-token-0123456789"}
	hook := `{"metadata":{"name":"n","description":"d","owner":"o@example.com"},
	  "task":{"provisionerId":"p","workerType":"w","payload":{},
	  "metadata":{"name":"t","description":"t","owner":"o@example.com","source":"https://example.com"}}}`
	for _, tt := range []struct {
		hookID      string
		wantFire    int
		wantWarning string
	}{
		{"granted", 200, ""},
		{"ungranted", 403, "missing-scopes"},
	} {
		t.Run(tt.hookID, func(t *testing.T) {
			if status, body := signed(t, creds, "PUT", base+"/api/hooks/v1/hooks/g/"+tt.hookID, hook); status != 200 {
				t.Fatalf("create: %d %s", status, body)
			}
			status, body := signed(t, creds, "POST", base+"/api/hookline/v1/hooks/g/"+tt.hookID+"/check", `{}`)
			var report struct{ Warnings []struct{ Code string } }
			if err := json.Unmarshal([]byte(body), &report); status != 200 || err != nil {
				t.Fatalf("check: %d %s", status, body)
			}
			var codes []string
			for _, w := range report.Warnings {
				codes = append(codes, w.Code)
			}
			if want := strings.Fields(tt.wantWarning); !slices.Equal(codes, want) {
				t.Fatalf("check warnings %q, want %q: %s", codes, want, body)
			}
			status, body = signed(t, creds, "POST", base+"/api/hooks/v1/hooks/g/"+tt.hookID+"/trigger", `{}`)
			if status != tt.wantFire || (status != 200 && !strings.Contains(body, "queue:create-task:")) {
				t.Fatalf("trigger: %d %s, want %d", status, body, tt.wantFire)
			}
		})
	}
}

// syncBuffer is written by one goroutine while the test reads it.
type syncBuffer = testutil.SyncBuffer

func waitUp(t *testing.T, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if res, err := http.Get(url); err == nil {
			res.Body.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("%s never answered", url)
}

func signed(t *testing.T, creds auth.Credentials, method, url, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := auth.SignRequest(req, creds, []byte(body), time.Now()); err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return res.StatusCode, fmt.Sprint(string(data))
}

func TestValidatePrecheck(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string { return writeFile(t, dir, name, body) }
	hook := write("hook.json", `{
  "metadata": {"name": "n", "description": "d", "owner": "o@example.com"},
  "schedule": ["0 0 2 * * *"],
  "triggerSchema": {"type": "object", "required": ["branch"]},
  "task": {"$if": "firedBy == 'schedule' || payload.branch == 'main'", "then": {
    "provisionerId": "p", "workerType": "w", "payload": {},
    "metadata": {"name": "n", "description": "d", "owner": "o@example.com", "source": "https://example.com/"}}}
}`)
	main := write("main.json", `{"branch": "main"}`)
	zoned := write("settings.json", `{"schedule": {"timeZone": "Australia/Lord_Howe", "exclude": ["2099-01-01"], "jitter": "10m"}}`)
	dev := write("dev.json", `{"branch": "dev"}`)
	roles := `{"roles":[{"roleId":"hook-id:g/h","scopes":["queue:create-task:*","queue:scheduler-id:-"]}]}`
	for _, tt := range []struct {
		name     string
		args     []string
		env      map[string]string
		wantCode int
		codes    []string
	}{
		{"fires, roles unknown", []string{"--hook", hook, "--payload", main}, nil, 0, []string{"roles-unknown"}},
		{"fires, roles known", []string{"--hook", hook, "--payload", main, "--hook-id", "g/h"}, map[string]string{"HOOKLINE_CLIENTS": roles}, 0, nil},
		{"missing scopes", []string{"--hook", hook, "--payload", main, "--hook-id", "g/other"}, map[string]string{"HOOKLINE_CLIENTS": roles}, 3, []string{"missing-scopes"}},
		{"declined", []string{"--hook", hook, "--payload", dev}, nil, 3, []string{"declined"}},
		{"payload schema", []string{"--hook", hook}, nil, 3, []string{"payload-schema", "render-error"}},
		{"schedule", []string{"--hook", hook, "--fired-by", "schedule"}, nil, 0, []string{"roles-unknown"}},
		{"schedule settings", []string{"--hook", hook, "--fired-by", "schedule", "--settings", zoned}, nil, 0, []string{"roles-unknown"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(append([]string{"validate"}, tt.args...), nil, &out, &errOut, envFrom(tt.env))
			if code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s%s", code, tt.wantCode, out.String(), errOut.String())
			}
			var rep struct {
				NextScheduledDates []string `json:"nextScheduledDates"`
				Warnings           []struct{ Code string }
				Schedule           struct {
					TimeZone string
					Fires    []struct{ SlotLocal string }
				}
			}
			if err := json.Unmarshal(out.Bytes(), &rep); err != nil {
				t.Fatalf("not a JSON report: %v\n%s", err, out.String())
			}
			var codes []string
			for _, w := range rep.Warnings {
				codes = append(codes, w.Code)
			}
			if fmt.Sprint(codes) != fmt.Sprint(tt.codes) || len(rep.NextScheduledDates) != 5 || len(rep.Schedule.Fires) != 5 {
				t.Fatalf("warnings %v, want %v; next dates %v", codes, tt.codes, rep.NextScheduledDates)
			}
			// The listing is the schedule route's: in the settings' zone,
			// 02:00 each day (+10:30 or +11:00 in Lord Howe).
			if zone := tt.name == "schedule settings"; zone != (rep.Schedule.TimeZone == "Australia/Lord_Howe") ||
				zone && !strings.Contains(rep.Schedule.Fires[0].SlotLocal, "T02:00:00+1") {
				t.Fatalf("schedule listing %+v", rep.Schedule)
			}
		})
	}
	for _, args := range [][]string{{"--payload", main}, {"--hook", hook, "--hook-id", "nogroup"}, {"--hook", filepath.Join(dir, "missing.json")}} {
		if code := run(append([]string{"validate"}, args...), nil, io.Discard, io.Discard, envFrom(nil)); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	badSettings := write("bad-settings.json", `{"schedule": {"cron": ["0 0 2 * * *"]}}`)
	var errOut bytes.Buffer
	if code := run([]string{"validate", "--hook", hook, "--settings", badSettings}, nil, io.Discard, &errOut, envFrom(nil)); code != 2 ||
		!strings.Contains(errOut.String(), "schedule.cron[0]: expected the standard 5 fields") {
		t.Errorf("bad settings: exit %d, %s", code, errOut.String())
	}
	bad := write("bad.json", `{"metadata":{}}`)
	if code := run([]string{"validate", "--hook", bad}, nil, io.Discard, io.Discard, envFrom(nil)); code != 1 {
		t.Errorf("invalid definition: exit %d, want 1", code)
	}
}

func TestRedriveCommand(t *testing.T) {
	srv := sqstest.New(t)
	dlq := srv.CreateQueue("dlq", 30*time.Second)
	trigger := srv.CreateQueue("trigger", 30*time.Second)
	ctx := context.Background()
	for _, body := range []string{
		`{"hookGroupId":"g","hookId":"a","exchange":"e","routingKey":"r","payload":{"n":1}}`,
		`{"hookGroupId":"g","hookId":"a","exchange":"e","routingKey":"r","payload":{"n":2}}`,
		`{"hookGroupId":"g","hookId":"b","exchange":"e","routingKey":"r","payload":{}}`,
		`{"hookGroupId":"other","hookId":"a","exchange":"e","routingKey":"r","payload":{}}`,
		`not a pulse message`,
	} {
		srv.Queue(dlq).Send(ctx, []byte(body))
	}
	t.Setenv("AWS_ENDPOINT_URL_SQS", srv.URL)
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTEST")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "secret")
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_CONFIG_FILE", "/dev/null")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", "/dev/null")
	env := envFrom(map[string]string{"HOOKLINE_TRIGGER_DLQ_URL": dlq, "HOOKLINE_TRIGGER_QUEUE_URL": trigger})

	redrive := func(args ...string) (int, map[string]any) {
		t.Helper()
		var out, errOut bytes.Buffer
		code := run(append([]string{"redrive"}, args...), nil, &out, &errOut, env)
		var sum map[string]any
		if err := json.Unmarshal(out.Bytes(), &sum); err != nil {
			t.Fatalf("exit %d, output %q %q: %v", code, out.String(), errOut.String(), err)
		}
		return code, sum
	}
	if code, sum := redrive("--dry-run", "--hook-group", "g"); code != 0 || sum["moved"] != 3.0 || srv.Queue(trigger).Len() != 0 {
		t.Fatalf("dry run: exit %d %v", code, sum)
	}
	if code, sum := redrive("--hook", "g/a"); code != 0 || sum["moved"] != 2.0 || sum["skipped"] != 3.0 || sum["byHook"].(map[string]any)["g/a"] != 2.0 {
		t.Fatalf("one hook: exit %d %v", code, sum)
	}
	if code, sum := redrive(); code != 0 || sum["moved"] != 2.0 || sum["skipped"] != 1.0 {
		t.Fatalf("the rest: exit %d %v", code, sum)
	}
	if srv.Queue(trigger).Len() != 4 || srv.Queue(dlq).Len() != 1 {
		t.Fatalf("trigger %d, dlq %d", srv.Queue(trigger).Len(), srv.Queue(dlq).Len())
	}
	var errOut bytes.Buffer
	if code := run([]string{"redrive"}, nil, io.Discard, &errOut, envFrom(nil)); code != 2 || !strings.Contains(errOut.String(), "HOOKLINE_TRIGGER_DLQ_URL") {
		t.Fatalf("without queues: exit %d %s", code, errOut.String())
	}
	if code := run([]string{"redrive", "--hook", "g/a", "--hook-group", "g"}, nil, io.Discard, io.Discard, env); code != 2 {
		t.Fatalf("both filters: exit %d", code)
	}
}
