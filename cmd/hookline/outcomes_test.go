package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/notify"
)

// receiver is a webhook target that checks each delivery's signature as a
// receiver of Hookline's notifications would.
type receiver struct {
	secret string
	mu     sync.Mutex
	got    []hooks.WebhookBody
	bad    int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	cred := hooks.WebhookCredentials{Signature: r.Header.Get("X-Hookline-Signature"), Timestamp: r.Header.Get("X-Hookline-Timestamp")}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if err := hooks.VerifyDelivery(hooks.WebhookHookline, []string{rc.secret}, "", cred, body, time.Now()); err != nil {
		rc.bad++
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	var b hooks.WebhookBody
	json.Unmarshal(body, &b)
	rc.got = append(rc.got, b)
}

func (rc *receiver) deliveries() []hooks.WebhookBody {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	return append([]hooks.WebhookBody(nil), rc.got...)
}

// eventually retries check until it passes or ten seconds pass.
func eventually(t *testing.T, what string, check func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !check() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not after 10 seconds", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func outbox(t *testing.T, dir string) []notify.OutboxEmail {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "outbox.jsonl"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []notify.OutboxEmail
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e notify.OutboxEmail
		json.Unmarshal(sc.Bytes(), &e)
		out = append(out, e)
	}
	return out
}

// End to end under `hookline serve` with its local queue: a hook's task is
// claimed and run by `hookline work`, fails, and the outcome lands on the
// fire record, the decision and the status extension, with one
// notification to each target; the same resolution reported again
// notifies nobody twice.
func TestServeOutcomesAndNotifications(t *testing.T) {
	rc := &receiver{secret: "receiver-secret-0123456789"}
	recv := httptest.NewServer(rc)
	defer recv.Close()
	base, dir, _ := startServe(t, map[string]string{"HOOKLINE_NOTIFY_ALLOW_PRIVATE": "true", "HOOKLINE_SCHEDULER_INTERVAL": "1s"})
	token, err := os.ReadFile(filepath.Join(dir, "root-access-token"))
	if err != nil {
		t.Fatal(err)
	}
	creds := auth.Credentials{ClientID: "root", AccessToken: strings.TrimSpace(string(token))}

	hook := `{"metadata":{"name":"n","description":"d","owner":"o@example.com"},"triggerSchema":{"type":"object"},
	  "task":{"provisionerId":"local","workerType":"sh","payload":{"command":["sh","-c","echo running $TASK_ID >&2; exit 3"]},
	  "metadata":{"name":"t","description":"t","owner":"o@example.com","source":"https://example.com"}}}`
	if status, body := signed(t, creds, "PUT", base+"/api/hooks/v1/hooks/g/h", hook); status != 200 {
		t.Fatalf("create: %d %s", status, body)
	}
	settings := `{"notify":{"targets":[
	  {"type":"webhook","url":"` + recv.URL + `/hookline","secret":"` + rc.secret + `","events":["task-failed"]},
	  {"type":"email","address":"team@example.com","events":["task-failed","task-completed"]}]}}`
	if status, body := signed(t, creds, "PUT", base+"/api/hookline/v1/hooks/g/h/settings", settings); status != 200 {
		t.Fatalf("settings: %d %s", status, body)
	}
	status, body := signed(t, creds, "POST", base+"/api/hooks/v1/hooks/g/h/trigger", `{}`)
	var fired struct{ TaskID string }
	if json.Unmarshal([]byte(body), &fired); status != 200 || fired.TaskID == "" {
		t.Fatalf("trigger: %d %s", status, body)
	}

	// A worker claims the task, runs it and reports it failed.
	var out, errs bytes.Buffer
	env := envFrom(map[string]string{"TASKCLUSTER_CLIENT_ID": "root", "TASKCLUSTER_ACCESS_TOKEN": creds.AccessToken})
	if code := run([]string{"work", "--root-url", base, "--provisioner", "local", "--worker-type", "sh", "--once"}, nil, &out, &errs, env); code != 0 {
		t.Fatalf("work: %d %s %s", code, out.String(), errs.String())
	}
	var res workResult
	if err := json.Unmarshal(out.Bytes(), &res); err != nil || res.TaskID != fired.TaskID || res.Result != "failed" || res.ExitCode != 3 {
		t.Fatalf("work: %s (%v)", out.String(), err)
	}
	if !strings.Contains(errs.String(), "running "+fired.TaskID) {
		t.Fatalf("the command did not run with TASK_ID: %q", errs.String())
	}

	// The outcome reaches the record, the status extension and the
	// decision; listLastFires keeps upstream's schema.
	eventually(t, "the outcome on the status extension", func() bool {
		_, body := signed(t, creds, "GET", base+"/api/hookline/v1/hooks/g/h/status", "")
		return strings.Contains(body, `"task":{"state":"failed"`)
	})
	if _, body := signed(t, creds, "GET", base+"/api/hooks/v1/hooks/g/h/last-fires", ""); !strings.Contains(body, `"taskState":"failed"`) {
		t.Fatalf("last fires: %s", body)
	}
	_, body = signed(t, creds, "GET", base+"/api/hookline/v1/hooks/g/h/decisions", "")
	if !strings.Contains(body, `"task":{"state":"failed","reasonResolved":"failed","runId":0`) || !strings.Contains(body, `"source":"event"`) {
		t.Fatalf("decisions: %s", body)
	}
	// One notification to each target.
	eventually(t, "the webhook and the email", func() bool { return len(rc.deliveries()) == 1 && len(outbox(t, dir)) == 1 })
	d := rc.deliveries()[0]
	if d.Event.Kind != hooks.EventTaskFailed || d.Event.TaskID != fired.TaskID || d.Event.Task.State != "failed" {
		t.Fatalf("webhook body %+v", d)
	}
	if e := outbox(t, dir)[0]; e.To != "team@example.com" || !strings.Contains(e.Subject, "task-failed: g/h") || !strings.Contains(e.Body, fired.TaskID) {
		t.Fatalf("email %+v", e)
	}

	// The same resolution reported again: no second notification.
	if status, body := signed(t, creds, "POST", base+"/api/queue/v1/task/"+fired.TaskID+"/runs/0/failed", ""); status != 200 {
		t.Fatalf("second report: %d %s", status, body)
	}
	// Nothing to wait for but time: more than an upkeep interval.
	time.Sleep(1500 * time.Millisecond)
	if n, m := len(rc.deliveries()), len(outbox(t, dir)); n != 1 || m != 1 || rc.bad != 0 {
		t.Fatalf("after the repeated event: %d deliveries, %d emails, %d bad signatures", n, m, rc.bad)
	}
	_, body = signed(t, creds, "GET", base+"/api/hookline/v1/hooks/g/h/notifications", "")
	var page hooks.NotificationPage
	if json.Unmarshal([]byte(body), &page); len(page.Notifications) != 2 || page.Notifications[0].Status != "delivered" || page.Notifications[1].Status != "delivered" {
		t.Fatalf("notifications: %s", body)
	}
}
