package dynamotest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestTableName(t *testing.T) {
	valid := regexp.MustCompile(`^[a-zA-Z0-9_.-]{3,255}$`)
	for _, tt := range []struct{ name, test string }{
		{name: "plain", test: "TestX"},
		{name: "subtest", test: "TestConformance/Create Get#01"},
		{name: "long", test: strings.Repeat("TestLong/", 40)},
		{name: "unicode", test: "Test/ü€"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tableName(tt.test), tableName(tt.test)
			if !valid.MatchString(a) {
				t.Fatalf("invalid table name %q", a)
			}
			if a == b {
				t.Fatalf("two calls returned the same name %q", a)
			}
		})
	}
}

func TestLocalDir(t *testing.T) {
	dir, err := localDir()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "..", "..", "go.mod")); err != nil {
		t.Fatalf("%s is not infra/local of the module root: %v", dir, err)
	}
}

func TestVersions(t *testing.T) {
	write := func(t *testing.T, path, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct {
		name          string
		files         map[string]string
		wantPinned    string
		wantPinErr    bool
		wantInstalled string
	}{
		{
			name: "installed",
			files: map[string]string{
				"package.json":                       `{"dependencies":{"dynalite":"4.0.0"}}`,
				"node_modules/.package-lock.json":    `{}`,
				"node_modules/dynalite/package.json": `{"version":"4.0.0"}`,
			},
			wantPinned: "4.0.0", wantInstalled: "4.0.0",
		},
		{
			name: "install not finished",
			files: map[string]string{
				"package.json":                       `{"devDependencies":{"dynalite":"4.0.0"}}`,
				"node_modules/dynalite/package.json": `{"version":"4.0.0"}`,
			},
			wantPinned: "4.0.0",
		},
		{
			name: "other version installed",
			files: map[string]string{
				"package.json":                       `{"dependencies":{"dynalite":"4.0.0"}}`,
				"node_modules/.package-lock.json":    `{}`,
				"node_modules/dynalite/package.json": `{"version":"3.2.2"}`,
			},
			wantPinned: "4.0.0", wantInstalled: "3.2.2",
		},
		{
			name:       "not pinned",
			files:      map[string]string{"package.json": `{"dependencies":{}}`},
			wantPinErr: true,
		},
		{
			name:       "no package.json",
			wantPinErr: true,
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				write(t, filepath.Join(dir, name), content)
			}
			pinned, err := pinnedVersion(dir)
			if (err != nil) != tt.wantPinErr || pinned != tt.wantPinned {
				t.Fatalf("pinnedVersion = %q, %v; want %q, error %v", pinned, err, tt.wantPinned, tt.wantPinErr)
			}
			if got := installedVersion(dir); got != tt.wantInstalled {
				t.Fatalf("installedVersion = %q, want %q", got, tt.wantInstalled)
			}
		})
	}
}

// recordingTB records how a test helper ended a test.
type recordingTB struct {
	testing.TB
	skipped, failed string
}

func (r *recordingTB) Helper()                        {}
func (r *recordingTB) Skipf(format string, a ...any)  { r.skipped = fmt.Sprintf(format, a...) }
func (r *recordingTB) Fatalf(format string, a ...any) { r.failed = fmt.Sprintf(format, a...) }

func TestUnavailable(t *testing.T) {
	for _, tt := range []struct {
		name     string
		ci       string
		wantFail bool
	}{
		{name: "local", ci: ""},
		{name: "ci false", ci: "false"},
		{name: "ci", ci: "true", wantFail: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			r := &recordingTB{}
			unavailable(r, fmt.Errorf("no node"))
			if tt.wantFail != (r.failed != "") || tt.wantFail == (r.skipped != "") {
				t.Fatalf("skipped %q, failed %q; want failure %v", r.skipped, r.failed, tt.wantFail)
			}
			if msg := r.skipped + r.failed; !strings.Contains(msg, "no node") {
				t.Fatalf("message %q lacks the reason", msg)
			}
		})
	}
}
