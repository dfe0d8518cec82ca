//go:build integration

package runtimetest

import (
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/queue/sqstest"
	"github.com/hookline/hookline/shared/store/dynamo/dynamotest"
)

// benchStack is what the benchmarks run the functions against: dynalite
// with the sample hook stored, a local queue and an SQS endpoint, and for
// each function its variables and an event generator.
type benchStack struct {
	rie   string
	bins  map[string]string
	env   map[string]map[string]string
	event map[string]func(n int) []byte
}

// newBenchStack starts the endpoints and stores the sample hook (through
// the api function), so that each function's event takes its full path:
// the api reads the hook, the webhook fires it with its token, the
// scheduler queries the due index, and the trigger fires it for two fresh
// Pulse messages.
func newBenchStack(b *testing.B) *benchStack {
	b.Helper()
	root := repoRoot(b)
	bs := &benchStack{rie: emulatorBinary(b), bins: bootstraps(b), env: map[string]map[string]string{}, event: map[string]func(int) []byte{}}
	client := dynamotest.Start(b)
	table := dynamotest.NewTable(b, client)
	q := newLocalQueue(b)
	sqs := sqstest.New(b)
	replace := map[string]string{
		"HOOKLINE_STORE":             "dynamodb:" + table,
		"TASKCLUSTER_ROOT_URL":       q.url,
		"HOOKLINE_CHANGES_QUEUE_URL": sqs.CreateQueue("changes", 0),
	}
	sdk := sdkEnv(b, map[string]string{"AWS_ENDPOINT_URL_DYNAMODB": dynamotest.Endpoint(b), "AWS_ENDPOINT_URL_SQS": sqs.URL,
		"AWS_ENDPOINT_URL_SECRETS_MANAGER": startSecrets(b, root)})
	for id := range bs.bins {
		bs.env[id] = functionEnv(b, root, id, replace, sdk)
	}

	api := startFunction(b, bs.rie, bs.bins["ApiFunction"], "ApiFunction", bs.env["ApiFunction"])
	create := readEvent(b, root, "api-create-hook.json")
	if res := callHTTP(b, api, encode(b, create)); res.Status != 200 {
		b.Fatalf("create the sample hook: %d %s", res.Status, res.Body)
	}
	proxy := create["pathParameters"].(map[string]any)["proxy"].(string)
	res := callHTTP(b, api, proxyEvent(b, create, "GET", proxy+"/token", ""))
	token := str(res.JSON["token"])
	if token == "" {
		b.Fatalf("token: %d %s", res.Status, res.Body)
	}
	api.stop(b)

	getHook := encode(b, readEvent(b, root, "api-get-hook.json"))
	bs.event["ApiFunction"] = func(int) []byte { return getHook }
	wh := readEvent(b, root, "webhook-trigger.json")
	old := wh["pathParameters"].(map[string]any)["token"].(string)
	path := strings.Replace(wh["rawPath"].(string), old, token, 1)
	wh["rawPath"] = path
	wh["requestContext"].(map[string]any)["http"].(map[string]any)["path"] = path
	wh["pathParameters"].(map[string]any)["token"] = token
	trigger := encode(b, wh)
	bs.event["WebhookFunction"] = func(int) []byte { return trigger }
	tick := encode(b, readEvent(b, root, "scheduler-tick.json"))
	bs.event["SchedulerFunction"] = func(int) []byte { return tick }
	batch := readEvent(b, root, "trigger-batch.json")
	bs.event["TriggerFunction"] = func(n int) []byte {
		// Fresh messages each time: a redelivered one would only find its
		// fire done.
		ev := clone(batch)
		for i, r := range ev["Records"].([]any) {
			rec := r.(map[string]any)
			var msg map[string]any
			json.Unmarshal([]byte(rec["body"].(string)), &msg)
			msg["payload"].(map[string]any)["eventId"] = fmt.Sprintf("bench-%d-%d-%d", time.Now().UnixNano(), n, i)
			ev["Records"].([]any)[i] = sqsRecord(b, rec, fmt.Sprintf("bench-%d-%d", n, i), string(encode(b, msg)))
		}
		return encode(b, ev)
	}
	return bs
}

// BenchmarkColdStart measures each function's cold start under the
// emulator: from starting the emulator process, which starts the bootstrap
// on the first invocation as Lambda does, to that invocation answered. It
// reports the median and 99th percentile, and the median of the init
// duration the emulator reports (the bootstrap's start to its first
// request for an invocation, what Lambda bills as Init Duration).
//
//	go test -tags integration -run '^$' -bench ColdStart -benchtime 50x ./infra/runtimetest
func BenchmarkColdStart(b *testing.B) {
	bs := newBenchStack(b)
	for _, id := range functionIDs {
		bin, ok := bs.bins[id]
		if !ok {
			continue
		}
		b.Run(id, func(b *testing.B) {
			var cold, inits []time.Duration
			n := 0
			for b.Loop() {
				n++
				start := time.Now()
				f, err := launch(b, bs.rie, bin, id, bs.env[id])
				if err != nil {
					b.Fatal(err)
				}
				f.invokeOK(b, bs.event[id](n))
				cold = append(cold, time.Since(start))
				f.stop(b)
				if m := initReport.FindStringSubmatch(f.output.String()); m != nil {
					v, _ := strconv.ParseFloat(m[1], 64)
					inits = append(inits, time.Duration(v*float64(time.Millisecond)))
				}
			}
			reportPercentiles(b, "cold", cold)
			if len(inits) > 0 {
				b.ReportMetric(ms(percentile(inits, 50)), "init-p50-ms")
			}
		})
	}
}

// BenchmarkWarmInvoke measures each function's warm invocation under the
// emulator, from posting the event to the answer, with the median and
// 99th percentile.
//
//	go test -tags integration -run '^$' -bench WarmInvoke -benchtime 500x ./infra/runtimetest
func BenchmarkWarmInvoke(b *testing.B) {
	bs := newBenchStack(b)
	for _, id := range functionIDs {
		bin, ok := bs.bins[id]
		if !ok {
			continue
		}
		b.Run(id, func(b *testing.B) {
			f := startFunction(b, bs.rie, bin, id, bs.env[id])
			f.invokeOK(b, bs.event[id](0)) // the cold start
			var warm []time.Duration
			n := 0
			for b.Loop() {
				n++
				event := bs.event[id](n)
				start := time.Now()
				f.invokeOK(b, event)
				warm = append(warm, time.Since(start))
			}
			reportPercentiles(b, "warm", warm)
		})
	}
}

func reportPercentiles(b *testing.B, what string, d []time.Duration) {
	b.ReportMetric(ms(percentile(d, 50)), what+"-p50-ms")
	b.ReportMetric(ms(percentile(d, 99)), what+"-p99-ms")
}

// percentile is the nearest-rank percentile p of d.
func percentile(d []time.Duration, p float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	rank := int(math.Ceil(p / 100 * float64(len(s))))
	return s[max(rank, 1)-1]
}
