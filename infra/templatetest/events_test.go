package templatetest

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"
	"github.com/google/go-cmp/cmp"
)

// sampleEvents maps each file of infra/events to the function it is for.
// The runtime tests (infra/runtimetest) feed them to the real binaries.
var sampleEvents = map[string]string{
	"api-create-hook.json":   "ApiFunction",
	"api-get-hook.json":      "ApiFunction",
	"api-unknown-route.json": "ApiFunction",
	"webhook-trigger.json":   "WebhookFunction",
	"scheduler-tick.json":    "SchedulerFunction",
	"trigger-batch.json":     "TriggerFunction",
}

// strictDecode decodes data into v, refusing fields v does not have, so a
// sample with a misspelt or foreign field (a REST v1 payload, say) fails.
func strictDecode(t *testing.T, data []byte, v any) {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatal(err)
	}
}

// TestEvents checks that the sample events are real payloads of the event
// source each function has in template.yaml.
func TestEvents(t *testing.T) {
	_, root := load(t)
	tpl := typed(t)
	dir := filepath.Join(root, "infra", "events")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range files {
		if filepath.Base(f) != "env.json" {
			names = append(names, filepath.Base(f))
		}
	}
	if diff := cmp.Diff(sortedKeys(sampleEvents), names); diff != "" {
		t.Errorf("sample events (-want +got):\n%s", diff)
	}
	covered := map[string]bool{}
	for _, name := range names {
		fn := sampleEvents[name]
		covered[fn] = true
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, name))
			if err != nil {
				t.Fatal(err)
			}
			switch fn {
			case "ApiFunction", "WebhookFunction":
				checkHTTPEvent(t, data, samEvents(t, tpl, fn))
			case "SchedulerFunction":
				var ev events.EventBridgeEvent
				strictDecode(t, data, &ev)
				if ev.DetailType != "Scheduled Event" || ev.Source != "aws.events" || ev.Time.IsZero() || len(ev.Resources) != 1 {
					t.Errorf("not a scheduled event: %+v", ev)
				}
			case "TriggerFunction":
				var ev events.SQSEvent
				strictDecode(t, data, &ev)
				esm, err := tpl.GetLambdaEventSourceMappingWithName("TriggerEventSource")
				if err != nil || esm.BatchSize == nil {
					t.Fatalf("TriggerEventSource BatchSize: %v", err)
				}
				batch := *esm.BatchSize
				if len(ev.Records) == 0 || len(ev.Records) > batch {
					t.Errorf("%d records; the event source delivers 1 to %d", len(ev.Records), batch)
				}
				var ids []string
				for _, r := range ev.Records {
					sum := md5.Sum([]byte(r.Body))
					if r.Md5OfBody != hex.EncodeToString(sum[:]) {
						t.Errorf("record %s: md5OfBody %s does not match its body", r.MessageId, r.Md5OfBody)
					}
					if r.EventSource != "aws:sqs" || !strings.HasPrefix(r.EventSourceARN, "arn:aws:sqs:"+r.AWSRegion+":") || r.ReceiptHandle == "" {
						t.Errorf("record %s is not an SQS record: %+v", r.MessageId, r)
					}
					if !json.Valid([]byte(r.Body)) {
						t.Errorf("record %s: the body is not JSON", r.MessageId)
					}
					if slices.Contains(ids, r.MessageId) {
						t.Errorf("message id %s appears twice", r.MessageId)
					}
					ids = append(ids, r.MessageId)
				}
			default:
				t.Fatalf("no function for %s", name)
			}
		})
	}
	for _, id := range sortedKeys(functions) {
		if !covered[id] {
			t.Errorf("no sample event for %s", id)
		}
	}
}

// checkHTTPEvent checks an HTTP API payload 2.0 request against the
// function's routes ("HttpApi METHOD /path" as events() lists them).
func checkHTTPEvent(t *testing.T, data []byte, routes []string) {
	t.Helper()
	var ev events.APIGatewayV2HTTPRequest
	strictDecode(t, data, &ev)
	if ev.Version != "2.0" {
		t.Errorf("version %q, want 2.0", ev.Version)
	}
	if ev.RouteKey != ev.RequestContext.RouteKey {
		t.Errorf("routeKey %q, but requestContext.routeKey %q", ev.RouteKey, ev.RequestContext.RouteKey)
	}
	if !slices.Contains(routes, "HttpApi "+ev.RouteKey) {
		t.Fatalf("routeKey %q is not one of the function's routes %v", ev.RouteKey, routes)
	}
	if ev.RawPath != ev.RequestContext.HTTP.Path || ev.RequestContext.Stage != "$default" || ev.RequestContext.RequestID == "" {
		t.Errorf("requestContext does not match the request: %+v", ev.RequestContext)
	}
	method, pattern, _ := strings.Cut(ev.RouteKey, " ")
	if method != "ANY" && method != ev.RequestContext.HTTP.Method {
		t.Errorf("method %s on route %s", ev.RequestContext.HTTP.Method, ev.RouteKey)
	}
	params, ok := matchRoute(pattern, ev.RawPath)
	if !ok {
		t.Fatalf("rawPath %s does not match route %s", ev.RawPath, pattern)
	}
	if diff := cmp.Diff(params, ev.PathParameters); diff != "" {
		t.Errorf("pathParameters (-from rawPath +event):\n%s", diff)
	}
	for k := range ev.Headers {
		if k != strings.ToLower(k) {
			t.Errorf("header %q: HTTP API sends header names in lower case", k)
		}
	}
	if ev.Body != "" || ev.Headers["content-length"] != "" {
		if n, err := strconv.Atoi(ev.Headers["content-length"]); err != nil || n != len(ev.Body) {
			t.Errorf("content-length %q for a body of %d bytes", ev.Headers["content-length"], len(ev.Body))
		}
		if strings.HasPrefix(ev.Headers["content-type"], "application/json") && !json.Valid([]byte(ev.Body)) {
			t.Error("the body is not JSON")
		}
	}
}

// matchRoute matches an HTTP API route pattern ({name} is one segment,
// {name+} the rest) against a path, returning the path parameters.
func matchRoute(pattern, path string) (map[string]string, bool) {
	pp := strings.Split(strings.Trim(pattern, "/"), "/")
	sp := strings.Split(strings.Trim(path, "/"), "/")
	params := map[string]string{}
	for i, p := range pp {
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "+}") {
			if i >= len(sp) {
				return nil, false
			}
			params[p[1:len(p)-2]] = strings.Join(sp[i:], "/")
			return params, true
		}
		if i >= len(sp) {
			return nil, false
		}
		if strings.HasPrefix(p, "{") && strings.HasSuffix(p, "}") {
			params[p[1:len(p)-1]] = sp[i]
			continue
		}
		if p != sp[i] {
			return nil, false
		}
	}
	return params, len(pp) == len(sp)
}
