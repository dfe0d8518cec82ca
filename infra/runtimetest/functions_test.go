//go:build integration

package runtimetest

import (
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/queue/sqstest"
	"github.com/hookline/hookline/shared/store/dynamo/dynamotest"
)

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// pollInterval is the functions' HOOKLINE_OUTCOME_POLL_INTERVAL.
const pollInterval = 10 * time.Second

// stack is every function running under its own emulator against one
// dynalite table, a local Taskcluster queue and an SQS endpoint with the
// changes queue: the deployed stack, on this machine.
type stack struct {
	root       string
	funcs      map[string]*function
	queue      *localQueue
	sqs        *sqstest.Server
	changesURL string
}

func startStack(t *testing.T) *stack {
	t.Helper()
	root := repoRoot(t)
	rie := emulatorBinary(t)
	bins := bootstraps(t)
	client := dynamotest.Start(t)
	table := dynamotest.NewTable(t, client)
	s := &stack{root: root, funcs: map[string]*function{}, queue: newLocalQueue(t), sqs: sqstest.New(t)}
	s.changesURL = s.sqs.CreateQueue("hookline-ChangesQueue-runtimetest", 0)
	replace := map[string]string{
		"HOOKLINE_STORE":             "dynamodb:" + table,
		"TASKCLUSTER_ROOT_URL":       s.queue.url,
		"HOOKLINE_CHANGES_QUEUE_URL": s.changesURL,
		// Outcomes are polled 10 s after a fire, the shortest interval,
		// so the test need not wait a minute.
		"HOOKLINE_OUTCOME_POLL_INTERVAL": pollInterval.String(),
	}
	sdk := sdkEnv(t, map[string]string{
		"AWS_ENDPOINT_URL_DYNAMODB":        dynamotest.Endpoint(t),
		"AWS_ENDPOINT_URL_SQS":             s.sqs.URL,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": startSecrets(t, root),
	})
	for id, bin := range bins {
		s.funcs[id] = startFunction(t, rie, bin, id, functionEnv(t, root, id, replace, sdk))
	}
	return s
}

// TestFunctions drives every function's bootstrap through AWS's Runtime
// Interface Emulator with API Gateway HTTP API (payload 2.0), EventBridge
// and SQS events, against dynalite and a local Taskcluster queue: the API
// creates hooks and announces the changes on the changes queue, the webhook
// fires them with a token and with a signed GitHub delivery, the scheduler
// fires a due hook, and the trigger function fires hooks for Pulse
// messages, reporting the records to retry as batch item failures.
func TestFunctions(t *testing.T) {
	s := startStack(t)
	root := s.root
	api, webhook, scheduler := s.funcs["ApiFunction"], s.funcs["WebhookFunction"], s.funcs["SchedulerFunction"]
	q := s.queue

	createSample := readEvent(t, root, "api-create-hook.json")
	var created map[string]any
	if err := json.Unmarshal([]byte(createSample["body"].(string)), &created); err != nil {
		t.Fatal(err)
	}
	proxy := strings.Split(createSample["pathParameters"].(map[string]any)["proxy"].(string), "/")
	group, hook := proxy[1], proxy[2]
	hookPath := "hooks/" + group + "/" + hook

	// createHook creates another hook of the group from the sample's
	// definition, edited, without a schedule (the scheduler tests count on
	// the sample hook being the only one due).
	createHook := func(t *testing.T, id string, edit func(def map[string]any)) {
		t.Helper()
		def := clone(created)
		def["schedule"] = []any{}
		edit(def)
		res := callHTTP(t, api, proxyEvent(t, createSample, "PUT", "hooks/"+group+"/"+id, string(encode(t, def))))
		if res.Status != 200 {
			t.Fatalf("create %s: %d %s", id, res.Status, res.Body)
		}
	}
	lastFires := func(t *testing.T, hookID string) []map[string]any {
		t.Helper()
		res := callHTTP(t, api, proxyEvent(t, createSample, "GET", "hooks/"+group+"/"+hookID+"/last-fires", ""))
		if res.Status != 200 {
			t.Fatalf("last-fires: %d %s", res.Status, res.Body)
		}
		var out struct {
			LastFires []map[string]any `json:"lastFires"`
		}
		if err := json.Unmarshal(res.Body, &out); err != nil {
			t.Fatal(err)
		}
		return out.LastFires
	}
	firesBy := func(fires []map[string]any, firedBy string) []map[string]any {
		var out []map[string]any
		for _, f := range fires {
			if f["firedBy"] == firedBy {
				out = append(out, f)
			}
		}
		return out
	}

	t.Run("api/createHook", func(t *testing.T) {
		res := callHTTP(t, api, encode(t, createSample))
		if res.Status != 200 {
			t.Fatalf("createHook: %d %s", res.Status, res.Body)
		}
		if res.JSON["hookGroupId"] != group || res.JSON["hookId"] != hook {
			t.Errorf("createHook answered hook %v/%v, want %s/%s", res.JSON["hookGroupId"], res.JSON["hookId"], group, hook)
		}
		for _, k := range []string{"schedule", "bindings", "task", "metadata"} {
			if diff := cmp.Diff(created[k], res.JSON[k]); diff != "" {
				t.Errorf("createHook %s (-sent +answered):\n%s", k, diff)
			}
		}
	})

	t.Run("api/createHook announces the change", func(t *testing.T) {
		var found bool
		for _, b := range s.sqs.Queue(s.changesURL).Bodies() {
			var body any
			if json.Unmarshal(b, &body) == nil && findHookRef(body, group, hook) {
				found = true
			}
		}
		if !found {
			t.Errorf("no message naming %s/%s reached HOOKLINE_CHANGES_QUEUE_URL; it holds %d", group, hook, s.sqs.Queue(s.changesURL).Len())
		}
	})

	t.Run("api/hook", func(t *testing.T) {
		res := callHTTP(t, api, encode(t, readEvent(t, root, "api-get-hook.json")))
		if res.Status != 200 || res.JSON["hookId"] != hook {
			t.Fatalf("hook: %d %s", res.Status, res.Body)
		}
		if diff := cmp.Diff(created["task"], res.JSON["task"]); diff != "" {
			t.Errorf("task template (-created +read):\n%s", diff)
		}
	})

	t.Run("api/cookies are not echoed", func(t *testing.T) {
		ev := readEvent(t, root, "api-get-hook.json")
		ev["cookies"] = []any{"session=f00dcafe", "theme=dark"}
		res := callHTTP(t, api, encode(t, ev))
		if res.Status != 200 || res.JSON["hookId"] != hook {
			t.Fatalf("hook with cookies: %d %s", res.Status, res.Body)
		}
		if len(res.Cookies) > 0 || strings.Contains(string(res.Body), "f00dcafe") {
			t.Errorf("the response carries the request's cookies: %v %s", res.Cookies, res.Body)
		}
	})

	t.Run("api/unknown route", func(t *testing.T) {
		res := callHTTP(t, api, encode(t, readEvent(t, root, "api-unknown-route.json")))
		if res.Status != 404 || res.JSON["code"] != "ResourceNotFound" || res.JSON["requestInfo"] == nil {
			t.Errorf("got %d %s, want 404 ResourceNotFound with requestInfo", res.Status, res.Body)
		}
	})

	t.Run("api/invocation that is not an API Gateway event", func(t *testing.T) {
		r := api.invoke(t, []byte(`["not", "an", "event"]`))
		if !r.failed() {
			t.Fatalf("got %d %s, want an error with errorMessage and errorType", r.status, r.body)
		}
		// The runtime goes on serving.
		if res := callHTTP(t, api, encode(t, readEvent(t, root, "api-get-hook.json"))); res.Status != 200 {
			t.Errorf("after the error: %d %s", res.Status, res.Body)
		}
	})

	var token string
	t.Run("api/getTriggerToken", func(t *testing.T) {
		res := callHTTP(t, api, proxyEvent(t, createSample, "GET", hookPath+"/token", ""))
		token, _ = res.JSON["token"].(string)
		if res.Status != 200 || token == "" {
			t.Fatalf("token: %d %s", res.Status, res.Body)
		}
	})

	webhookSample := readEvent(t, root, "webhook-trigger.json")
	t.Run("webhook/wrong token", func(t *testing.T) {
		res := callHTTP(t, webhook, encode(t, webhookSample))
		if res.Status != 401 || res.JSON["code"] != "AuthenticationFailed" {
			t.Errorf("got %d %s, want 401 AuthenticationFailed", res.Status, res.Body)
		}
	})

	t.Run("webhook/triggerHookWithToken", func(t *testing.T) {
		if token == "" {
			t.Skip("no token")
		}
		ev := clone(webhookSample)
		old := ev["pathParameters"].(map[string]any)["token"].(string)
		path := strings.Replace(ev["rawPath"].(string), old, token, 1)
		ev["rawPath"] = path
		ev["requestContext"].(map[string]any)["http"].(map[string]any)["path"] = path
		ev["pathParameters"].(map[string]any)["token"] = token
		res := callHTTP(t, webhook, encode(t, ev))
		status, _ := res.JSON["status"].(map[string]any)
		taskID, _ := status["taskId"].(string)
		if res.Status != 200 || taskID == "" {
			t.Fatalf("trigger: %d %s", res.Status, res.Body)
		}
		def := task(t, q, taskID)
		var sent any
		json.Unmarshal([]byte(webhookSample["body"].(string)), &sent)
		payload, _ := def["payload"].(map[string]any)
		if payload["firedBy"] != "triggerHookWithToken" {
			t.Errorf("task payload.firedBy = %v", payload["firedBy"])
		}
		if diff := cmp.Diff(sent, payload["input"]); diff != "" {
			t.Errorf("task payload.input (-webhook body +task):\n%s", diff)
		}
		if fires := firesBy(lastFires(t, hook), "triggerHookWithToken"); len(fires) != 1 || fires[0]["taskId"] != taskID {
			t.Errorf("last fires by token: %v, want one with task %s", fires, taskID)
		}
	})

	t.Run("webhook/serves only its routes", func(t *testing.T) {
		res := callHTTP(t, webhook, encode(t, createSample))
		if res.Status != 404 || res.JSON["code"] != "ResourceNotFound" {
			t.Errorf("createHook through the webhook: %d %s, want 404 ResourceNotFound", res.Status, res.Body)
		}
	})

	t.Run("webhook/signed GitHub delivery", func(t *testing.T) {
		// A GitHub delivery in its form encoding (payload=<JSON>), which
		// HTTP API hands over base64-encoded, with a query string that
		// repeats a parameter and the cookies a browser might add.
		const hookID, secret, cookieSecret = "github-push", "9d3f0c1b2a4e6d8f0a1b2c3d4e5f6a7b", "c00k1e-s3cr3t"
		createHook(t, hookID, func(def map[string]any) {
			def["task"].(map[string]any)["payload"] = map[string]any{
				"firedBy": map[string]any{"$eval": "firedBy"},
				"input":   map[string]any{"$eval": "payload"},
				"webhook": map[string]any{"$eval": "webhook"},
			}
		})
		settings := hooklineEvent(t, createSample, "PUT", "hooks/"+group+"/"+hookID+"/settings",
			`{"webhook": {"scheme": "github", "secrets": ["`+secret+`"]}}`)
		if res := callHTTP(t, api, settings); res.Status != 200 {
			t.Fatalf("put settings: %d %s", res.Status, res.Body)
		}

		push := map[string]any{"ref": "refs/heads/main", "after": "9fceb02d0ae598e95dc970b74767f19372d61af8", "repository": map[string]any{"full_name": "hookline/hookline"}}
		raw := []byte("payload=" + url.QueryEscape(string(encode(t, push))))
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(raw)
		path := "/api/hookline/v1/hooks/" + group + "/" + hookID + "/webhook"
		ev := clone(webhookSample)
		ev["routeKey"] = "POST /api/hookline/v1/hooks/{hookGroupId}/{hookId}/webhook"
		ev["rawPath"] = path
		ev["rawQueryString"] = "env=prod&env=staging&source=github"
		ev["queryStringParameters"] = map[string]any{"env": "prod,staging", "source": "github"}
		ev["cookies"] = []any{"session=" + cookieSecret, "theme=dark"}
		ev["pathParameters"] = map[string]any{"hookGroupId": group, "hookId": hookID}
		rc := ev["requestContext"].(map[string]any)
		rc["routeKey"] = ev["routeKey"]
		rc["http"].(map[string]any)["path"] = path
		headers := ev["headers"].(map[string]any)
		headers["content-type"] = "application/x-www-form-urlencoded"
		headers["content-length"] = fmt.Sprint(len(raw))
		headers["x-github-event"] = "push"
		headers["x-github-delivery"] = "72d3162e-cc78-11e3-81ab-4c9367dc0958"
		headers["x-hub-signature-256"] = "sha256=" + hex.EncodeToString(mac.Sum(nil))
		ev["body"] = base64.StdEncoding.EncodeToString(raw)
		ev["isBase64Encoded"] = true

		res := callHTTP(t, webhook, encode(t, ev))
		status, _ := res.JSON["status"].(map[string]any)
		taskID, _ := status["taskId"].(string)
		if res.Status != 200 || taskID == "" {
			t.Fatalf("delivery: %d %s", res.Status, res.Body)
		}
		def := task(t, q, taskID)
		payload, _ := def["payload"].(map[string]any)
		if diff := cmp.Diff(any(push), payload["input"]); diff != "" {
			t.Errorf("task payload.input (-delivered +task):\n%s", diff)
		}
		wh, _ := payload["webhook"].(map[string]any)
		if diff := cmp.Diff(map[string]any{"env": "prod", "source": "github"}, wh["query"]); diff != "" {
			t.Errorf("webhook.query, the first value of each parameter of rawQueryString (-want +got):\n%s", diff)
		}
		if wh["contentType"] != "application/x-www-form-urlencoded" || wh["event"] != "push" || wh["scheme"] != "github" {
			t.Errorf("webhook = %v", wh)
		}
		if strings.Contains(string(encode(t, def)), cookieSecret) {
			t.Error("the request's cookie reached the task: cookies are credentials")
		}

		// The flag matters: the same body taken as text is not what was
		// signed.
		ev["isBase64Encoded"] = false
		if res := callHTTP(t, webhook, encode(t, ev)); res.Status != 401 || res.JSON["code"] != "AuthenticationFailed" {
			t.Errorf("the base64 text as the body: %d %s, want 401 AuthenticationFailed", res.Status, res.Body)
		}
	})

	tickSample := readEvent(t, root, "scheduler-tick.json")
	t.Run("scheduler/sample tick", func(t *testing.T) {
		// The sample's time is before the hook existed: nothing is due.
		if out := scheduler.invokeOK(t, encode(t, tickSample)); string(out) != "null" {
			t.Errorf("response %s, want null", out)
		}
		if fires := firesBy(lastFires(t, hook), "schedule"); len(fires) != 0 {
			t.Errorf("fires by schedule: %v, want none", fires)
		}
	})

	t.Run("scheduler/fires a due hook once", func(t *testing.T) {
		res := callHTTP(t, api, proxyEvent(t, createSample, "GET", hookPath+"/status", ""))
		next, err := time.Parse(time.RFC3339, str(res.JSON["nextScheduledDate"]))
		if res.Status != 200 || err != nil {
			t.Fatalf("status: %d %s", res.Status, res.Body)
		}
		ev := clone(tickSample)
		ev["time"] = next.Add(time.Second).UTC().Format(time.RFC3339)
		for range 2 {
			if out := scheduler.invokeOK(t, encode(t, ev)); string(out) != "null" {
				t.Errorf("response %s, want null", out)
			}
		}
		fires := firesBy(lastFires(t, hook), "schedule")
		if len(fires) != 1 || fires[0]["result"] != "success" {
			t.Fatalf("fires by schedule after two ticks at %s: %v, want one success", ev["time"], fires)
		}
		def := task(t, q, str(fires[0]["taskId"]))
		payload, _ := def["payload"].(map[string]any)
		if _, hasInput := payload["input"]; payload["firedBy"] != "schedule" || hasInput {
			t.Errorf("scheduled task payload %v", payload)
		}
		res = callHTTP(t, api, proxyEvent(t, createSample, "GET", hookPath+"/status", ""))
		if after, _ := time.Parse(time.RFC3339, str(res.JSON["nextScheduledDate"])); !after.After(next) {
			t.Errorf("nextScheduledDate %v did not advance past %v", res.JSON["nextScheduledDate"], next)
		}
	})

	t.Run("scheduler/event without a time", func(t *testing.T) {
		ev := clone(tickSample)
		delete(ev, "time")
		if r := scheduler.invoke(t, encode(t, ev)); !r.failed() || !strings.Contains(string(r.body), "no time") {
			t.Errorf("got %d %s, want an error naming the missing time (for an async retry)", r.status, r.body)
		}
	})

	t.Run("trigger/batch with failures", func(t *testing.T) {
		trigger, ok := s.funcs["TriggerFunction"]
		if !ok {
			t.Skip("functions/trigger does not exist yet (a failure under CI=true)")
		}
		// A hook whose tasks the queue refuses with 503 for now: a
		// Taskcluster outage.
		createHook(t, "flaky", func(def map[string]any) {
			def["task"].(map[string]any)["metadata"].(map[string]any)["description"] = queueFault
		})
		q.failing.Store(true)

		sample := readEvent(t, root, "trigger-batch.json")
		good := sample["Records"].([]any)
		pulse := func(hookID string, n int) string {
			return string(encode(t, map[string]any{
				"hookGroupId": group, "hookId": hookID, "exchange": "exchange/taskcluster-github/v1/push",
				"routingKey": "primary.hookline.flaky", "payload": map[string]any{"n": n},
			}))
		}
		malformed := sqsRecord(t, good[0], "0b7e4c5a-1d2f-4e3a-9b8c-7d6e5f4a3b21", `{"hookGroupId": "`+group+`", "hookId"`)
		flaky := sqsRecord(t, good[0], "1c8f5d6b-2e3a-4f4b-8c9d-8e7f6a5b4c32", pulse("flaky", 1))
		gone := sqsRecord(t, good[0], "2d9a6e7c-3f4b-4a5c-9dae-9f8a7b6c5d43", pulse("no-such-hook", 2))
		batch := map[string]any{"Records": append(slices.Clone(good), malformed, flaky, gone)}

		var res events.SQSEventResponse
		if err := json.Unmarshal(trigger.invokeOK(t, encode(t, batch)), &res); err != nil {
			t.Fatalf("not an SQS batch response: %v", err)
		}
		var failed []string
		for _, f := range res.BatchItemFailures {
			failed = append(failed, f.ItemIdentifier)
		}
		slices.Sort(failed)
		// The malformed body and the hook whose task the queue refused are
		// to be delivered again; a message for a hook that is gone is done.
		want := []string{str(malformed["messageId"]), str(flaky["messageId"])}
		slices.Sort(want)
		if diff := cmp.Diff(want, failed); diff != "" {
			t.Fatalf("batch item failures (-want +got):\n%s", diff)
		}
		fires := firesBy(lastFires(t, hook), "pulseMessage")
		if len(fires) != len(good) {
			t.Fatalf("%d fires of %s by pulse messages, want %d", len(fires), hook, len(good))
		}
		for _, f := range fires {
			if f["result"] != "success" {
				t.Errorf("pulse fire %v", f)
			}
			if payload, _ := task(t, q, str(f["taskId"]))["payload"].(map[string]any); payload["firedBy"] != "pulseMessage" {
				t.Errorf("task %s payload %v", f["taskId"], payload)
			}
		}

		// SQS delivers the failed records again, once the queue is back:
		// the flaky hook fires now, the malformed body fails again (until
		// the redrive policy moves it to the dead-letter queue).
		q.failing.Store(false)
		for _, r := range []map[string]any{malformed, flaky} {
			r["attributes"].(map[string]any)["ApproximateReceiveCount"] = "2"
		}
		res = events.SQSEventResponse{}
		if err := json.Unmarshal(trigger.invokeOK(t, encode(t, map[string]any{"Records": []any{malformed, flaky}})), &res); err != nil {
			t.Fatalf("not an SQS batch response: %v", err)
		}
		if len(res.BatchItemFailures) != 1 || res.BatchItemFailures[0].ItemIdentifier != str(malformed["messageId"]) {
			t.Errorf("redelivery: batch item failures %v, want only the malformed record", res.BatchItemFailures)
		}
		var succeeded []map[string]any
		for _, f := range firesBy(lastFires(t, "flaky"), "pulseMessage") {
			if f["result"] == "success" {
				succeeded = append(succeeded, f)
			}
		}
		if len(succeeded) != 1 {
			t.Fatalf("successful pulse fires of flaky: %v, want one", succeeded)
		}
		if def := task(t, q, str(succeeded[0]["taskId"])); def["metadata"].(map[string]any)["description"] != queueFault {
			t.Errorf("flaky task %v", def)
		}
	})

	// Task outcomes: a task the pulse fires created fails on the queue;
	// the bridge's message of it makes the trigger function record it on
	// the fire and its decision. Another completes; the scheduler
	// function's poller reads its status an interval (10 s here) after the
	// fire and records it.
	decisionTasks := func(t *testing.T, hookID string) map[string]map[string]any {
		t.Helper()
		res := callHTTP(t, api, hooklineEvent(t, createSample, "GET", "hooks/"+group+"/"+hookID+"/decisions", ""))
		if res.Status != 200 {
			t.Fatalf("decisions: %d %s", res.Status, res.Body)
		}
		out := map[string]map[string]any{}
		for _, d := range res.JSON["decisions"].([]any) {
			d := d.(map[string]any)
			if task, ok := d["task"].(map[string]any); ok {
				out[str(d["taskId"])] = task
			}
		}
		return out
	}
	t.Run("trigger/task outcome", func(t *testing.T) {
		trigger := s.funcs["TriggerFunction"]
		fires := firesBy(lastFires(t, hook), "pulseMessage")
		if len(fires) == 0 {
			t.Skip("no pulse fire to follow")
		}
		f := fires[0]
		taskID := str(f["taskId"])
		q.resolve(t, taskID, "failed")
		created, err := time.Parse(time.RFC3339Nano, str(f["taskCreateTime"]))
		if err != nil {
			t.Fatal(err)
		}
		body := encode(t, hooks.TaskOutcomeMessage{Kind: hooks.KindTaskOutcome,
			Fire:    hooks.FireRef{HookGroupID: group, HookID: hook, TaskID: taskID, TaskCreateTime: created},
			Outcome: hooks.TaskOutcome{State: "failed", ReasonResolved: "failed", Source: "event"}})
		sample := readEvent(t, root, "trigger-batch.json")
		rec := sqsRecord(t, sample["Records"].([]any)[0].(map[string]any), "3e0b7f8d-4a5c-4b6d-8ebf-0a9b8c7d6e54", string(body))
		var res events.SQSEventResponse
		if err := json.Unmarshal(trigger.invokeOK(t, encode(t, map[string]any{"Records": []any{rec}})), &res); err != nil || len(res.BatchItemFailures) != 0 {
			t.Fatalf("outcome batch: %+v %v", res, err)
		}
		if task := decisionTasks(t, hook)[taskID]; task["state"] != "failed" || task["source"] != "event" {
			t.Fatalf("decision task outcome %v", task)
		}
	})
	t.Run("scheduler/polls task outcomes", func(t *testing.T) {
		fires := firesBy(lastFires(t, hook), "pulseMessage")
		if len(fires) < 2 {
			t.Skip("no second pulse fire to follow")
		}
		f := fires[1]
		taskID := str(f["taskId"])
		q.resolve(t, taskID, "completed")
		created, err := time.Parse(time.RFC3339Nano, str(f["taskCreateTime"]))
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Until(created.Add(pollInterval + time.Second))) // due for a status read
		ev := clone(tickSample)
		ev["time"] = time.Now().UTC().Format(time.RFC3339)
		scheduler.invokeOK(t, encode(t, ev))
		if task := decisionTasks(t, hook)[taskID]; task["state"] != "completed" || task["source"] != "poll" {
			t.Fatalf("decision task outcome %v", task)
		}
	})

	t.Run("api/listLastFires with a repeated query parameter", func(t *testing.T) {
		// HTTP API joins a repeated parameter with commas in
		// queryStringParameters ("1,50", not a number); rawQueryString
		// keeps both, and the first counts, as for any HTTP server.
		ev := map[string]any{}
		json.Unmarshal(proxyEvent(t, createSample, "GET", hookPath+"/last-fires", ""), &ev)
		ev["rawQueryString"] = "limit=1&limit=50"
		ev["queryStringParameters"] = map[string]any{"limit": "1,50"}
		res := callHTTP(t, api, encode(t, ev))
		fires, _ := res.JSON["lastFires"].([]any)
		if res.Status != 200 || len(fires) != 1 || str(res.JSON["continuationToken"]) == "" {
			t.Errorf("last-fires?limit=1&limit=50: %d %s, want one fire and a continuationToken", res.Status, res.Body)
		}
	})

	t.Run("logs are JSON with request ids", func(t *testing.T) {
		for id, f := range s.funcs {
			var withID bool
			for _, line := range f.logLines(t) {
				if str(line["requestId"]) != "" {
					withID = true
				}
			}
			if !withID {
				t.Errorf("%s logged no line with a requestId", id)
			}
		}
	})
}

// sqsRecord derives from a sample SQS record one with another message id
// and body (and the body's digest and a receipt handle to match).
func sqsRecord(t testing.TB, sample any, messageID, body string) map[string]any {
	t.Helper()
	r := clone(sample.(map[string]any))
	sum := md5.Sum([]byte(body))
	r["messageId"] = messageID
	r["body"] = body
	r["md5OfBody"] = hex.EncodeToString(sum[:])
	r["receiptHandle"] = "AQEB" + base64.StdEncoding.EncodeToString([]byte(messageID))
	return r
}

// hooklineEvent derives, from an ANY /api/hooks/v1/{proxy+} sample, the
// event of a call to Hookline's own API (ANY /api/hookline/v1/{proxy+}).
func hooklineEvent(t *testing.T, sample map[string]any, method, path, body string) []byte {
	t.Helper()
	ev := map[string]any{}
	json.Unmarshal(proxyEvent(t, sample, method, path, body), &ev)
	full := "/api/hookline/v1/" + path
	ev["routeKey"] = "ANY /api/hookline/v1/{proxy+}"
	ev["rawPath"] = full
	rc := ev["requestContext"].(map[string]any)
	rc["routeKey"] = ev["routeKey"]
	rc["http"].(map[string]any)["path"] = full
	return encode(t, ev)
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// TestInitFailure checks that a function whose configuration is wrong fails
// its init visibly, as Lambda reports it: the emulator answers the
// invocation with an error and logs "Runtime exited with error: exit
// status 1" (Runtime.ExitError), and the function's JSON log line names the
// variable.
func TestInitFailure(t *testing.T) {
	root := repoRoot(t)
	rie := emulatorBinary(t)
	bin := bootstraps(t)["ApiFunction"]
	env := functionEnv(t, root, "ApiFunction", map[string]string{"HOOKLINE_STORE": "tape:/dev/null"}, sdkEnv(t, nil))
	f := startFunction(t, rie, bin, "ApiFunction", env)
	r := f.invoke(t, encode(t, readEvent(t, root, "api-get-hook.json")))
	if !r.failed() {
		t.Errorf("the invocation got %d %s, want an error", r.status, r.body)
	}
	// The emulator logged the exit before answering, but its output
	// reaches f.output through a pipe that may still hold the lines: only
	// once the emulator has exited is the output complete.
	f.stop(t)
	if !f.exitedWith(1) {
		t.Errorf("the emulator (answering %d %s) did not see the bootstrap exit with status 1:\n%s", r.status, r.body, f.output.String())
	}
	var logged bool
	for _, line := range f.logLines(t) {
		if line["level"] == "ERROR" && strings.Contains(str(line["err"]), "HOOKLINE_STORE") {
			logged = true
		}
	}
	if !logged {
		t.Errorf("no ERROR log line names HOOKLINE_STORE:\n%s", f.output.String())
	}
}
