//go:build integration

package runtimetest

import (
	"debug/buildinfo"
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// maxBootstrapBytes is the size budget of a release bootstrap (linux/arm64,
// stripped): a smaller deployment package unpacks faster on a cold start.
// It was 15 MiB until the functions embedded the zone database (time/tzdata,
// about 450 KB), which schedules in IANA time zones need.
const maxBootstrapBytes = 16 << 20

// buildRelease builds id's bootstrap as `sam build` does, through the
// Makefile target build-<id> with ARTIFACTS_DIR set, and returns its path.
func buildRelease(tb testing.TB, root, id string) string {
	tb.Helper()
	if _, err := exec.LookPath("make"); err != nil {
		if os.Getenv("CI") == "true" {
			tb.Fatal("make is required under CI=true")
		}
		tb.Skip("make is not installed")
	}
	dir := filepath.Join(tb.TempDir(), id)
	cmd := exec.Command("make", "-s", "--no-print-directory", "build-"+id, "ARTIFACTS_DIR="+dir)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("make build-%s: %v\n%s", id, err, out)
	}
	return filepath.Join(dir, "bootstrap")
}

// TestReleaseBootstraps builds each function with its Makefile target and
// checks what Lambda's provided.al2023 arm64 runtime needs: a static
// linux/arm64 executable named bootstrap, built without cgo and without the
// RPC runtime, stripped, and within the size budget.
func TestReleaseBootstraps(t *testing.T) {
	root := repoRoot(t)
	ids := []string{"ApiFunction", "WebhookFunction", "SchedulerFunction"}
	if present(t, root, "TriggerFunction") {
		ids = append(ids, "TriggerFunction")
	}
	for _, id := range ids {
		t.Run(id, func(t *testing.T) {
			bin := buildRelease(t, root, id)
			fi, err := os.Stat(bin)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s bootstrap (linux/arm64, make build-%s): %d bytes (%.2f MiB)", id, id, fi.Size(), float64(fi.Size())/(1<<20))
			if fi.Size() > maxBootstrapBytes {
				t.Errorf("%d bytes, over the %d-byte budget", fi.Size(), maxBootstrapBytes)
			}
			if fi.Mode().Perm()&0o111 == 0 {
				t.Errorf("mode %v is not executable", fi.Mode())
			}

			f, err := elf.Open(bin)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_AARCH64 || f.Type != elf.ET_EXEC {
				t.Errorf("ELF class %v machine %v type %v, want a 64-bit AArch64 executable", f.Class, f.Machine, f.Type)
			}
			for _, p := range f.Progs {
				if p.Type == elf.PT_INTERP || p.Type == elf.PT_DYNAMIC {
					t.Errorf("program header %v: the binary is dynamically linked", p.Type)
				}
			}
			for _, s := range []string{".symtab", ".debug_info", ".zdebug_info"} {
				if f.Section(s) != nil {
					t.Errorf("section %s present: the binary is not stripped", s)
				}
			}

			info, err := buildinfo.ReadFile(bin)
			if err != nil {
				t.Fatal(err)
			}
			if want := "github.com/hookline/hookline/functions/" + functionDirs[id]; info.Path != want {
				t.Errorf("main package %s, want %s", info.Path, want)
			}
			settings := map[string]string{}
			for _, s := range info.Settings {
				settings[s.Key] = s.Value
			}
			// (Go leaves -ldflags out of the build info under -trimpath;
			// the missing sections above show -s -w took effect.)
			for k, want := range map[string]string{
				"GOOS": "linux", "GOARCH": "arm64", "CGO_ENABLED": "0",
				"-tags": "lambda.norpc", "-trimpath": "true",
			} {
				if settings[k] != want {
					t.Errorf("build setting %s = %q, want %q", k, settings[k], want)
				}
			}
		})
	}
}
