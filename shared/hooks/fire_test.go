package hooks

import (
	"context"
	"encoding/json"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hookline/hookline/shared/store"
)

func renderTask(t *testing.T, svc *Service, template string, req FireRequest, taskID string, created time.Time) map[string]any {
	t.Helper()
	def := Definition{HookGroupID: "g", HookID: "h", Task: json.RawMessage(template)}
	data, declined, err := svc.Operations.render(def, fireContext(req, taskID, created), taskID, created, time.Time{})
	if err != nil || declined {
		t.Fatalf("render: declined=%v err=%v", declined, err)
	}
	var task map[string]any
	if err := json.Unmarshal(data, &task); err != nil {
		t.Fatal(err)
	}
	return task
}

// Upstream taskcreator cases: the JSON-e context, upstream defaults, and
// templates that set their own times or group.
func TestRender(t *testing.T) {
	svc, _ := newService(t)
	created := time.Date(2026, 5, 6, 7, 8, 9, 123e6, time.UTC)
	req := FireRequest{FiredBy: FiredByTriggerHook, Payload: map[string]any{"location": "Iceland"}, ClientID: "c"}

	task := renderTask(t, svc, `{
		"workerType": {"$eval": "'w' + str(1 + 2)"},
		"list": {"$flattenDeep": [[1, [2]], 3]},
		"firedBy": "${firedBy}", "taskId": "${taskId}", "where": "${payload.location}", "client": "${clientId}",
		"deadline": {"$fromNow": "1 minute"}, "expires": {"$fromNow": "2 minutes"}
	}`, req, "TASKID", created)
	if task["workerType"] != "w3" || len(task["list"].([]any)) != 3 || task["firedBy"] != "triggerHook" ||
		task["taskId"] != "TASKID" || task["where"] != "Iceland" || task["client"] != "c" {
		t.Fatalf("context not rendered: %v", task)
	}
	// Default taskGroupId is the taskId; $fromNow counts from the fire time.
	if task["taskGroupId"] != "TASKID" || task["created"] != "2026-05-06T07:08:09.123Z" ||
		task["deadline"] != "2026-05-06T07:09:09.123Z" || task["expires"] != "2026-05-06T07:10:09.123Z" {
		t.Fatalf("defaults/offsets: %v", task)
	}

	own := renderTask(t, svc, `{"created":"2020-01-01T00:00:00.000Z","deadline":"2020-01-02T00:00:00.000Z","expires":"2021-01-01T00:00:00.000Z","taskGroupId":"GROUP"}`, req, "T2", created)
	if own["created"] != "2020-01-01T00:00:00.000Z" || own["deadline"] != "2020-01-02T00:00:00.000Z" ||
		own["expires"] != "2021-01-01T00:00:00.000Z" || own["taskGroupId"] != "GROUP" {
		t.Fatalf("template's own fields overwritten: %v", own)
	}

	// Scheduled fires have no payload or clientId in their context.
	sched := renderTask(t, svc, `{"has":{"$eval":"[defined('payload'), defined('clientId'), defined('now')]"}}`, FireRequest{FiredBy: FiredBySchedule}, "T3", created)
	if b, _ := json.Marshal(sched["has"]); string(b) != "[false,false,true]" {
		t.Fatalf("schedule context: %s", b)
	}
}

// Two fires with the same created time but different taskIds, at different
// wall-clock times, give the same created, deadline and expires. The
// bubble's clock moves exactly between the two renders.
func TestRenderIsDeterministic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		svc, _ := newService(t)
		created := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
		tmpl := `{"deadline":{"$fromNow":"1 day"},"expires":{"$fromNow":"1 year"}}`
		a := renderTask(t, svc, tmpl, FireRequest{FiredBy: FiredBySchedule}, "A", created)
		time.Sleep(36 * time.Hour)
		b := renderTask(t, svc, tmpl, FireRequest{FiredBy: FiredBySchedule}, "B", created)
		for _, k := range []string{"created", "deadline", "expires"} {
			if a[k] != b[k] {
				t.Fatalf("%s differs: %v vs %v", k, a[k], b[k])
			}
		}
	})
}

func TestLastRunState(t *testing.T) {
	for _, tt := range []struct{ reply, want string }{
		{`{"status":{"runs":[{"state":"pending"},{"state":"completed"}]}}`, "completed"},
		{`{"status":{"runs":[]}}`, "unknown"},
		{`{"runs":[{"state":"running"}]}`, "running"},
		{`not json`, "unknown"},
	} {
		if got := lastRunState(json.RawMessage(tt.reply)); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.reply, got, tt.want)
		}
	}
}

type statusOnly map[string]string

func (s statusOnly) Status(_ context.Context, taskID string) (json.RawMessage, error) {
	if state, ok := s[taskID]; ok {
		return json.RawMessage(`{"status":{"runs":[{"state":"` + state + `"}]}}`), nil
	}
	return nil, context.DeadlineExceeded
}

// A fire whose task the queue does not know shows "unknown".
func TestFillTaskStates(t *testing.T) {
	entries := []LastFireEntry{
		{TaskID: "a", Result: "success", TaskState: "unknown"},
		{TaskID: "gone", Result: "success", TaskState: "unknown"},
		{TaskID: "b", Result: "error", TaskState: "unknown"},
	}
	fillTaskStates(context.Background(), entries, make([]store.LastFire, len(entries)), statusOnly{"a": "completed", "b": "running"})
	if entries[0].TaskState != "completed" || entries[1].TaskState != "unknown" || entries[2].TaskState != "unknown" {
		t.Fatalf("states: %+v", entries)
	}
}
