package main

import (
	"fmt"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"
	"testing"

	"go.uber.org/goleak"
)

// childServe, set in a child's environment, makes the test binary run
// `hookline serve` instead of the tests: the durability test kills such a
// child with SIGKILL, and the memory benchmark reads its /proc status.
// With childHeapProfile set too, the child writes a heap profile there on
// SIGUSR1 (after a GC, so it shows what is live).
const (
	childServe       = "HOOKLINE_TEST_CHILD_SERVE"
	childHeapProfile = "HOOKLINE_TEST_CHILD_HEAP_PROFILE"
)

// serve runs the HTTP server, the scheduler and expiry loops and the
// bridge on goroutines: none may outlive the tests.
func TestMain(m *testing.M) {
	if os.Getenv(childServe) == "1" {
		if path := os.Getenv(childHeapProfile); path != "" {
			go writeHeapOnSignal(path)
		}
		os.Exit(run([]string{"serve"}, os.Stdin, os.Stdout, os.Stderr, os.Getenv))
	}
	goleak.VerifyTestMain(m)
}

// writeHeapOnSignal writes a heap profile to path at each SIGUSR1.
func writeHeapOnSignal(path string) {
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGUSR1)
	for range sig {
		runtime.GC()
		f, err := os.Create(path + ".tmp")
		if err == nil {
			err = pprof.Lookup("heap").WriteTo(f, 0)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err == nil {
			err = os.Rename(path+".tmp", path)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "heap profile:", err)
		}
	}
}
