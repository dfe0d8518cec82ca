package main

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hookline/hookline/infra/servechild"
)

// BenchmarkServeMemory measures the memory of `hookline serve` (a child
// process, loopback only) holding 10,000 hooks after 100,000 fires spread
// over them by 8 keep-alive clients: VmRSS, and its anonymous (Go heap,
// stacks) and file-backed parts (bbolt maps its file: pages read through
// the map count as RssFile) from /proc/<pid>/status, the peak (VmHWM) and
// the file's size. It logs the top of the child's heap profile (live
// objects after a GC; `go tool pprof` on the kept file shows more). It
// fails when RssAnon reaches 150 MB (see below for RssFile). It runs once whatever -benchtime says;
// HOOKLINE_MEM_HOOKS and HOOKLINE_MEM_FIRES change the sizes, e.g. for a
// quick look.
//
//	go test ./cmd/hookline -run '^$' -bench ServeMemory -benchtime 1x
func BenchmarkServeMemory(b *testing.B) {
	hooksN, firesN := envInt(b, "HOOKLINE_MEM_HOOKS", 10_000), envInt(b, "HOOKLINE_MEM_FIRES", 100_000)
	dir := b.TempDir()
	heap := filepath.Join(dir, "heap.pprof")
	c := startChild(b, dir, childHeapProfile+"="+heap)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: time.Minute}
	const workers = 8
	parallel := func(n int, one func(i int) error) {
		var next atomic.Int64
		var wg sync.WaitGroup
		var once sync.Once
		for range workers {
			wg.Go(func() {
				for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
					if err := one(i); err != nil {
						once.Do(func() { b.Error(err) })
						return
					}
				}
			})
		}
		wg.Wait()
		if b.Failed() {
			b.FailNow()
		}
	}
	hookPath := func(i int) string { return fmt.Sprintf("/api/hooks/v1/hooks/group-%d/hook-%d", i%100, i) }
	start := time.Now()
	parallel(hooksN, func(i int) error {
		code, body, err := c.do(client, http.MethodPut, hookPath(i), childHook(fmt.Sprintf("hook %d", i)))
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("create hook %d: %d %v %s", i, code, err, body)
		}
		return nil
	})
	b.Logf("%d hooks created in %s", hooksN, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	parallel(firesN, func(i int) error {
		code, body, err := c.do(client, http.MethodPost, hookPath(i%hooksN)+"/trigger", `{"n":`+strconv.Itoa(i)+`}`)
		if err != nil || code != http.StatusOK {
			return fmt.Errorf("fire %d: %d %v %s", i, code, err, body)
		}
		return nil
	})
	elapsed := time.Since(start)
	b.Logf("%d fires in %s (%.0f fires/s)", firesN, elapsed.Round(time.Millisecond), float64(firesN)/elapsed.Seconds())

	st, err := servechild.ReadMemory(c.cmd.Process.Pid)
	if err != nil {
		b.Skipf("Linux only: %v", err)
	}
	mb := func(kb int64) float64 { return float64(kb) / 1024 }
	var fileMB float64
	if fi, err := os.Stat(filepath.Join(dir, "hookline.db")); err == nil {
		fileMB = float64(fi.Size()) / (1 << 20)
	}
	b.Logf("VmRSS %.1f MB = RssAnon %.1f MB + RssFile %.1f MB + RssShmem %.1f MB; VmHWM %.1f MB; hookline.db %.1f MB",
		mb(st.RSS), mb(st.Anon), mb(st.File), mb(st.Shmem), mb(st.HWM), fileMB)
	b.ReportMetric(mb(st.RSS), "VmRSS-MB")
	b.ReportMetric(mb(st.Anon), "RssAnon-MB")
	b.ReportMetric(mb(st.File), "RssFile-MB")
	b.ReportMetric(mb(st.HWM), "VmHWM-MB")
	b.ReportMetric(fileMB, "file-MB")
	// The target holds the process's own memory (heap, stacks: RssAnon)
	// under 150 MB. RssFile is the store file's page cache that bbolt's
	// map has touched: it grows with the data the fires wrote, the kernel
	// reclaims it under memory pressure, and the log above reports it.
	if v := mb(st.Anon); v >= 150 {
		b.Errorf("RssAnon %.1f MB after %d fires with %d hooks: want under 150 MB", v, firesN, hooksN)
	}

	// The heap profile, written by the child on SIGUSR1.
	if err := c.cmd.Process.Signal(syscall.SIGUSR1); err != nil {
		b.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, err := os.Stat(heap); err != nil; _, err = os.Stat(heap) {
		if time.Now().After(deadline) {
			b.Fatalf("no heap profile from the child\n%s", c.logs)
		}
		time.Sleep(50 * time.Millisecond)
	}
	keep := filepath.Join(os.TempDir(), "hookline-serve-heap.pprof")
	if data, err := os.ReadFile(heap); err == nil && os.WriteFile(keep, data, 0o600) == nil {
		b.Logf("heap profile kept in %s", keep)
	}
	exe, _ := os.Executable()
	if top, err := exec.Command("go", "tool", "pprof", "-top", "-nodecount=15", "-sample_index=inuse_space", exe, heap).CombinedOutput(); err == nil {
		b.Logf("heap profile (inuse_space):\n%s", top)
	} else {
		b.Logf("go tool pprof: %v\n%s", err, top)
	}
}

// envInt reads a positive integer from the environment, or def.
func envInt(tb testing.TB, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive integer", name, v)
	}
	return n
}
