package httpapi

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/boltcommit"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/store/embedded"
	"github.com/hookline/hookline/shared/taskcluster/localqueue"
)

// fireEnv is `hookline serve` in miniature: the router, the embedded store
// and the local queue in the store's file, every write durable (fsync'd)
// before it answers, a fire's task and records in one commit.
// decisionRetention < 0 turns the decision log off, to measure its cost;
// historyMax caps the hook's history (0: the default cap, 10,000).
func fireEnv(b *testing.B, decisionRetention time.Duration, historyMax int) (*Router, *boltcommit.Committer) {
	b.Helper()
	dir := b.TempDir()
	st, err := embedded.Open(filepath.Join(dir, "hooks.db"), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	reg, err := schemas.New()
	if err != nil {
		b.Fatal(err)
	}
	// As in serve: the queue's tasks in the store's file, a fire's task
	// committed with its records.
	db, commit := st.File()
	own, err := localqueue.OpenShared(db, commit, &localqueue.Options{Schemas: reg})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { own.Close() })
	q, err := localqueue.NewJoint(own, st)
	if err != nil {
		b.Fatal(err)
	}
	quiet := slog.New(slog.NewJSONHandler(io.Discard, nil))
	svc, err := hooks.NewService(st, reg, hooks.Options{Logger: quiet, Queue: q, Now: time.Now, DecisionRetention: decisionRetention, HistoryMax: historyMax})
	if err != nil {
		b.Fatal(err)
	}
	rt, err := NewRouter(svc, Options{Authorizer: grantAll{}, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	benchRouterDo(b, rt, "PUT", hooksURL+"/bench/fire", contextHook(openSchema), 200)
	return rt, commit
}

// reportCommits reports the file's commits per fire since before (each
// commit is one bbolt transaction: its pages, then its meta page, each
// fdatasync'd). Below 1 with concurrent fires, which share commits.
func reportCommits(b *testing.B, commit *boltcommit.Committer, before int64) {
	commits, _ := commit.Stats()
	n := float64(commits - before)
	b.ReportMetric(n/float64(b.N), "commits/fire")
}

func benchRouterDo(b *testing.B, rt *Router, method, path, body string, want int) {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	rt.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body.String())
	}
}

// decisionModes runs a fire benchmark with the decision log on (as
// deployed) and off, so the cost of recording decisions shows beside it,
// and with a history cap of 100 that every fire past the first 100 hits
// (each then deletes the hook's oldest fire record and decision), so the
// cost of the cap shows too.
var decisionModes = []struct {
	name       string
	retention  time.Duration
	historyMax int
}{{"decisions=on", 0, 0}, {"decisions=off", -1, 0}, {"decisions=on,cap=100", 0, 100}}

// BenchmarkTriggerHook: one client firing a hook through the API; each fire
// renders the task, creates it on the local queue and records the fire (and,
// with the log on, its decision in the same write).
func BenchmarkTriggerHook(b *testing.B) {
	for _, mode := range decisionModes {
		b.Run(mode.name, func(b *testing.B) {
			rt, commit := fireEnv(b, mode.retention, mode.historyMax)
			b.ReportAllocs()
			before, _ := commit.Stats()
			for b.Loop() {
				benchRouterDo(b, rt, "POST", hooksURL+"/bench/fire/trigger", `{"n":1}`, 200)
			}
			reportCommits(b, commit, before)
		})
	}
}

// BenchmarkTriggerHookParallel16: 16 concurrent clients; reports fires/s.
func BenchmarkTriggerHookParallel16(b *testing.B) {
	for _, mode := range decisionModes {
		b.Run(mode.name, func(b *testing.B) {
			rt, commit := fireEnv(b, mode.retention, mode.historyMax)
			b.ReportAllocs()
			before, _ := commit.Stats()
			b.SetParallelism(8) // 8 × GOMAXPROCS(2) = 16 clients on this machine
			start := time.Now()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					benchRouterDo(b, rt, "POST", hooksURL+"/bench/fire/trigger", `{"n":1}`, 200)
				}
			})
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "fires/s")
			reportCommits(b, commit, before)
		})
	}
}
