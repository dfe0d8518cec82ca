package servechild

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hookline/hookline/shared/testutil"
)

// TestStartPingStop runs the real binary: built here from ./cmd/hookline,
// started, pinged, measured, stopped.
func TestStartPingStop(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "hookline")
	build := exec.Command("go", "build", "-o", bin, "./cmd/hookline")
	build.Dir = testutil.RepoRoot(t)
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/hookline: %v\n%s", err, out)
	}
	parent := t.TempDir()
	c, err := Start(context.Background(), Options{Binary: bin, Parent: parent, Prefix: "test-"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Stop()
	if !strings.HasPrefix(filepath.Base(c.Dir), "test-") || filepath.Dir(c.Dir) != parent {
		t.Errorf("data directory %s: want test-* under %s", c.Dir, parent)
	}
	if err := c.Ping(); err != nil {
		t.Errorf("ping after Start: %v", err)
	}
	if exited, err := c.Exited(); exited {
		t.Fatalf("exited after Start: %v", err)
	}
	if _, err := os.Stat("/proc/self/status"); err == nil {
		// One read of /proc/<pid>/status: VmRSS is the sum of its parts.
		if m := c.Memory(); m.RSS <= 0 || m.HWM < m.RSS || m.Anon <= 0 || m.RSS != m.Anon+m.File+m.Shmem {
			t.Errorf("Memory() = %+v: want RSS > 0, HWM >= RSS, RssAnon > 0, RSS = Anon + File + Shmem", m)
		}
		if LoadAvg() == "unknown" {
			t.Error("LoadAvg() unknown on a machine with /proc")
		}
	}
	if len(c.Head(40)) == 0 {
		t.Errorf("no log lines; the server logs where it listens at level info")
	}
	c.Stop()
	if exited, _ := c.Exited(); !exited {
		t.Error("still running after Stop")
	}
	if _, err := os.Stat(c.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("data directory after Stop: %v, want it removed", err)
	}
	if err := c.Ping(); err == nil {
		t.Error("ping answered after Stop")
	}
}

// A binary that ends at once makes Start fail, saying so, and leaves no
// data directory behind.
func TestStartFailsWhenTheChildExits(t *testing.T) {
	bin, err := exec.LookPath("false")
	if err != nil {
		t.Skip("no false(1)")
	}
	parent := t.TempDir()
	_, err = Start(context.Background(), Options{Binary: bin, Parent: parent})
	if err == nil || !strings.Contains(err.Error(), "hookline serve exited") {
		t.Fatalf("Start(false) = %v, want hookline serve exited", err)
	}
	if left, _ := os.ReadDir(parent); len(left) != 0 {
		t.Errorf("left behind: %v", left)
	}
}

func TestStartNeedsTheBinary(t *testing.T) {
	_, err := Start(context.Background(), Options{Binary: filepath.Join(t.TempDir(), "missing")})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Start(missing) = %v, want a not-exist error", err)
	}
}
