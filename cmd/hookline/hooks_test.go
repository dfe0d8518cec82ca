package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/hooksclient"
)

const hooksTestToken = "hooks-test-root-token-0123456789"

// startHooksServer runs `hookline serve` on loopback with a known root
// token until the test ends and returns its root URL.
func startHooksServer(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	vars := map[string]string{"HOOKLINE_ADDR": addr, "HOOKLINE_DATA_DIR": tb.TempDir(), "HOOKLINE_LOG_LEVEL": "error",
		"HOOKLINE_ROOT_ACCESS_TOKEN": hooksTestToken}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- serve(ctx, envFrom(vars), io.Discard, io.Discard) }()
	tb.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				tb.Errorf("serve: %v", err)
			}
		case <-time.After(15 * time.Second):
			tb.Error("serve did not shut down")
		}
	})
	base := "http://" + addr
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if res, err := http.Get(base + "/api/hooks/v1/ping"); err == nil {
			res.Body.Close()
			return base
		}
		if time.Now().After(deadline) {
			tb.Fatalf("%s never answered", base)
		}
	}
}

func testClient(tb testing.TB, base string) *hooksclient.Client {
	tb.Helper()
	c, err := hooksclient.New(base, auth.Credentials{ClientID: "root", AccessToken: hooksTestToken}, nil)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// hooksCLI runs `hookline hooks args...` against base with the root
// credentials and extra environment variables.
func hooksCLI(tb testing.TB, base string, env map[string]string, args ...string) (code int, stdout, stderr string) {
	tb.Helper()
	vars := map[string]string{"TASKCLUSTER_ROOT_URL": base, "TASKCLUSTER_CLIENT_ID": "root", "TASKCLUSTER_ACCESS_TOKEN": hooksTestToken}
	maps.Copy(vars, env)
	var out, errOut bytes.Buffer
	code = run(append([]string{"hooks"}, args...), nil, &out, &errOut, envFrom(vars))
	return code, out.String(), errOut.String()
}

// hookYAML is a hook file of the sample set: i picks its group, whether
// its id has folders, and which optional parts it has.
func hookYAML(i int) (group, id, body string) {
	group = fmt.Sprintf("group-%02d", i%10)
	id = fmt.Sprintf("hook-%03d", i)
	if i%3 == 0 {
		id = "nested/deeper/" + id
	}
	var b strings.Builder
	fmt.Fprintf(&b, `# hook %d of the sample set
metadata:
  name: Hook %d
  description: |
    The sample hook number %d.
    It has a description of two lines.
  owner: team-%d@example.com
  emailOnError: %v
task:
  provisionerId: proj-%d
  workerType: linux
  created: {$fromNow: ''}
  deadline: {$fromNow: '1 hour'}
  payload:
    command: [make, "target-%d"]
    env: {FIRED_BY: {$eval: firedBy}, N: %d}
  metadata:
    name: task of hook %d
    description: made by a hook
    owner: team@example.com
    source: https://example.com/hooks
`, i, i, i, i%7, i%2 == 0, i%4, i, i, i)
	if i%4 == 0 {
		fmt.Fprintf(&b, "schedule: ['0 %d 2 * * *', '0 0 0 * * 0']\n", i%60)
	}
	if i%5 == 0 {
		b.WriteString("bindings:\n  - exchange: exchange/taskcluster-queue/v1/task-completed\n    routingKeyPattern: 'route.index.#'\n")
		b.WriteString("triggerSchema: {type: object}\n")
	}
	if i%6 == 0 {
		b.WriteString("settings:\n  filters: ['firedBy != \"nobody\"']\n")
		if i%12 == 0 {
			b.WriteString("  webhook:\n    scheme: bearer\n    headers: [x-github-event]\n")
		}
		if i%18 == 0 {
			b.WriteString("  paused:\n    reason: kept paused by the sample set\n")
		}
	}
	return group, id, b.String()
}

// writeHookFiles writes the sample hooks lo..hi-1 under dir.
func writeHookFiles(tb testing.TB, dir string, lo, hi int) {
	tb.Helper()
	for i := lo; i < hi; i++ {
		group, id, body := hookYAML(i)
		writeHookFile(tb, dir, group+"/"+id+".yaml", body)
	}
}

func writeHookFile(tb testing.TB, dir, rel, body string) string {
	tb.Helper()
	path := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// readTree returns every file under dir by its path relative to dir.
func readTree(tb testing.TB, dir string) map[string]string {
	tb.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		rel, _ := filepath.Rel(dir, path)
		out[filepath.ToSlash(rel)] = string(data)
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	return out
}

func mustCode(tb testing.TB, want int, code int, stdout, stderr string) {
	tb.Helper()
	if code != want {
		tb.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, want, stdout, stderr)
	}
}

// TestHooks_RoundTrip applies 200 hooks in 10 groups to a server, exports
// them, diffs the export (no change), applies the export to an empty
// server and exports that: the two exports are the same files.
func TestHooks_RoundTrip(t *testing.T) {
	src := t.TempDir()
	writeHookFiles(t, src, 0, 200)
	first := startHooksServer(t)

	start := time.Now()
	code, out, errOut := hooksCLI(t, first, nil, "apply", "--yes", src)
	mustCode(t, 0, code, out, errOut)
	t.Logf("apply of 200 hooks to an empty server: %v", time.Since(start))
	if !strings.Contains(out, "applied 200 changes") {
		t.Fatalf("apply said:\n%s", out)
	}
	code, out, errOut = hooksCLI(t, first, nil, "diff", src)
	mustCode(t, 0, code, out, errOut)

	// By default an export writes no pause: files that say nothing of
	// pauses leave them to on-call.
	plain := t.TempDir()
	code, out, errOut = hooksCLI(t, first, nil, "export", "--group", "group-00", plain)
	mustCode(t, 0, code, out, errOut)
	if f := readTree(t, plain)["group-00/nested/deeper/hook-000.yaml"]; !strings.Contains(f, "settings:\n  filters:\n") || strings.Contains(f, "paused") {
		t.Errorf("a plain export of a paused hook:\n%s", f)
	}
	code, out, errOut = hooksCLI(t, first, nil, "diff", plain)
	mustCode(t, 0, code, out, errOut)

	// --with-pauses writes them, so they round-trip.
	exported := t.TempDir()
	start = time.Now()
	code, out, errOut = hooksCLI(t, first, nil, "export", "--with-pauses", exported)
	mustCode(t, 0, code, out, errOut)
	t.Logf("export of 200 hooks: %v", time.Since(start))
	files := readTree(t, exported)
	if len(files) != 200 {
		t.Fatalf("exported %d files, want 200: %s", len(files), out)
	}
	groups := map[string]bool{}
	for name := range files {
		groups[strings.SplitN(name, "/", 2)[0]] = true
	}
	if len(groups) != 10 {
		t.Errorf("exported %d groups, want 10", len(groups))
	}
	// Stable, diff-friendly files: sorted keys, no ids, no defaults.
	sample := files["group-00/nested/deeper/hook-000.yaml"]
	for _, want := range []string{"metadata:\n  description: |\n    The sample hook number 0.\n", "settings:\n  filters:\n", "paused:\n    reason: kept paused by the sample set\n"} {
		if !strings.Contains(sample, want) {
			t.Errorf("hook-000's file lacks %q:\n%s", want, sample)
		}
	}
	for _, unwanted := range []string{"hookGroupId", "hookId", "emailOnError: true", "since:", "level:", "bindings: []"} {
		if strings.Contains(sample, unwanted) {
			t.Errorf("hook-000's file holds %q:\n%s", unwanted, sample)
		}
	}
	code, out, errOut = hooksCLI(t, first, nil, "diff", exported)
	mustCode(t, 0, code, out, errOut)
	// Exporting again, even without --with-pauses, keeps the pauses of
	// files that manage them.
	code, out, errOut = hooksCLI(t, first, nil, "export", exported)
	mustCode(t, 0, code, out, errOut)
	if !strings.Contains(out, "0 written, 200 unchanged, 0 removed") {
		t.Errorf("a second export rewrote files: %s", out)
	}

	second := startHooksServer(t)
	code, out, errOut = hooksCLI(t, second, nil, "apply", "--yes", exported)
	mustCode(t, 0, code, out, errOut)
	again := t.TempDir()
	code, out, errOut = hooksCLI(t, second, nil, "export", "--with-pauses", again)
	mustCode(t, 0, code, out, errOut)
	if diff := cmpTrees(files, readTree(t, again)); diff != "" {
		t.Errorf("export → apply → export changed files:\n%s", diff)
	}

	// The JSON format round-trips too.
	asJSON := t.TempDir()
	code, out, errOut = hooksCLI(t, second, nil, "export", "--format", "json", "--group", "group-03", asJSON)
	mustCode(t, 0, code, out, errOut)
	if n := len(readTree(t, asJSON)); n != 20 {
		t.Errorf("--group group-03 exported %d files, want 20", n)
	}
	code, out, errOut = hooksCLI(t, second, nil, "diff", asJSON)
	mustCode(t, 0, code, out, errOut)
}

func cmpTrees(a, b map[string]string) string {
	var out []string
	for k, v := range a {
		if w, ok := b[k]; !ok {
			out = append(out, "only in the first: "+k)
		} else if v != w {
			out = append(out, fmt.Sprintf("%s differs:\n%s\n----\n%s", k, v, w))
		}
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			out = append(out, "only in the second: "+k)
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// jsonPlan decodes diff --json.
type jsonPlan struct {
	HooklineAPI bool `json:"hooklineApi"`
	Changes     []struct {
		Action      string `json:"action"`
		HookGroupID string `json:"hookGroupId"`
		HookID      string `json:"hookId"`
		File        string `json:"file"`
		Definition  bool   `json:"definition"`
		Settings    bool   `json:"settings"`
		Diff        string `json:"diff"`
	} `json:"changes"`
	Unchanged int       `json:"unchanged"`
	Warnings  []problem `json:"warnings"`
}

func decodePlan(tb testing.TB, out string) jsonPlan {
	tb.Helper()
	var p jsonPlan
	if err := json.Unmarshal([]byte(out), &p); err != nil {
		tb.Fatalf("diff --json printed no plan: %v\n%s", err, out)
	}
	return p
}

// TestHooks_DiffEdits makes one edit of each kind to an applied directory
// and checks that diff reports exactly that change, readably.
func TestHooks_DiffEdits(t *testing.T) {
	base := startHooksServer(t)
	src := t.TempDir()
	writeHookFiles(t, src, 0, 12)
	code, out, errOut := hooksCLI(t, base, nil, "apply", "--yes", src)
	mustCode(t, 0, code, out, errOut)

	edit := func(rel, old, new string) func(t *testing.T, dir string) {
		return func(t *testing.T, dir string) {
			path := filepath.Join(dir, rel)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(data), old) {
				t.Fatalf("%s lacks %q", rel, old)
			}
			if err := os.WriteFile(path, []byte(strings.Replace(string(data), old, new, 1)), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, tt := range []struct {
		name                 string
		change               func(t *testing.T, dir string)
		args                 []string
		action, hook         string
		definition, settings bool
		diffHas              []string
		unchanged            int
	}{
		{name: "definition", change: edit("group-01/hook-001.yaml", "workerType: linux", "workerType: windows"),
			action: "update", hook: "group-01/hook-001", definition: true, unchanged: 11,
			diffHas: []string{"-  workerType: linux", "+  workerType: windows"}},
		{name: "schedule", change: edit("group-04/hook-004.yaml", "'0 4 2 * * *'", "'0 30 5 * * *'"),
			action: "update", hook: "group-04/hook-004", definition: true, unchanged: 11,
			diffHas: []string{"-  - 0 4 2 * * *", "+  - 0 30 5 * * *"}},
		{name: "settings", change: edit("group-06/nested/deeper/hook-006.yaml", `firedBy != "nobody"`, `firedBy == "schedule"`),
			action: "update", hook: "group-06/nested/deeper/hook-006", settings: true, unchanged: 11,
			diffHas: []string{`-    - firedBy != "nobody"`, `+    - firedBy == "schedule"`}},
		{name: "settings removed", change: edit("group-06/nested/deeper/hook-006.yaml", "settings:\n  filters: ['firedBy != \"nobody\"']\n", ""),
			action: "update", hook: "group-06/nested/deeper/hook-006", settings: true, unchanged: 11,
			diffHas: []string{"-settings:", `-    - firedBy != "nobody"`}},
		{name: "pause lifted", change: edit("group-00/nested/deeper/hook-000.yaml", "  paused:\n    reason: kept paused by the sample set\n", "  paused: false\n"),
			action: "update", hook: "group-00/nested/deeper/hook-000", settings: true, unchanged: 11,
			diffHas: []string{"-  paused:", "-    reason: kept paused by the sample set"}},
		{name: "pause reason", change: edit("group-00/nested/deeper/hook-000.yaml", "kept paused by the sample set", "paused until the migration"),
			action: "update", hook: "group-00/nested/deeper/hook-000", settings: true, unchanged: 11,
			diffHas: []string{"-    reason: kept paused by the sample set", "+    reason: paused until the migration"}},
		{name: "deletion", change: func(t *testing.T, dir string) { os.Remove(filepath.Join(dir, "group-02/hook-002.yaml")) },
			args: []string{"--prune", "group-0"}, action: "delete", hook: "group-02/hook-002", definition: true, unchanged: 11,
			diffHas: []string{"+++ /dev/null", "-  name: Hook 2"}},
		{name: "creation", change: func(t *testing.T, dir string) { writeHookFiles(t, dir, 13, 14) },
			action: "create", hook: "group-03/hook-013", definition: true, unchanged: 12,
			diffHas: []string{"--- /dev/null", "+  name: Hook 13"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			if err := os.CopyFS(dir, os.DirFS(src)); err != nil {
				t.Fatal(err)
			}
			tt.change(t, dir)
			code, out, errOut := hooksCLI(t, base, nil, append(append([]string{"diff", "--json"}, tt.args...), dir)...)
			mustCode(t, hooksChanges, code, out, errOut)
			p := decodePlan(t, out)
			if len(p.Changes) != 1 || p.Unchanged != tt.unchanged {
				t.Fatalf("want one change and %d unchanged, got %+v", tt.unchanged, p)
			}
			c := p.Changes[0]
			if c.Action != tt.action || c.HookGroupID+"/"+c.HookID != tt.hook || (tt.action == "update" && (c.Definition != tt.definition || c.Settings != tt.settings)) {
				t.Errorf("change %+v, want %s %s definition=%v settings=%v", c, tt.action, tt.hook, tt.definition, tt.settings)
			}
			for _, want := range tt.diffHas {
				if !strings.Contains(c.Diff, want) {
					t.Errorf("diff lacks %q:\n%s", want, c.Diff)
				}
			}
			// The text form says the same, and the exit status gates CI.
			code, out, errOut = hooksCLI(t, base, nil, append(append([]string{"diff"}, tt.args...), dir)...)
			mustCode(t, hooksChanges, code, out, errOut)
			if !strings.Contains(out, tt.action+" "+tt.hook) {
				t.Errorf("text diff lacks %q:\n%s", tt.action+" "+tt.hook, out)
			}
		})
	}
}

// TestHooks_ApplyMeetsConcurrentChange makes a plan, lets someone else
// change a hook, and applies: that hook is reported, not overwritten, and
// apply stops there saying what was done; --force overwrites; a rerun
// converges.
func TestHooks_ApplyMeetsConcurrentChange(t *testing.T) {
	base := startHooksServer(t)
	client := testClient(t, base)
	ctx := context.Background()
	dir := t.TempDir()
	writeHookFiles(t, dir, 0, 6)
	code, out, errOut := hooksCLI(t, base, nil, "apply", "--yes", dir)
	mustCode(t, 0, code, out, errOut)
	// Edit three files: the plan will update hooks 1, 2 and 3.
	for _, i := range []int{1, 2, 3} {
		group, id, body := hookYAML(i)
		writeHookFile(t, dir, group+"/"+id+".yaml", strings.Replace(body, "workerType: linux", "workerType: edited", 1))
	}

	env, err := newHooksEnv(envFrom(map[string]string{"TASKCLUSTER_ROOT_URL": base, "TASKCLUSTER_CLIENT_ID": "root", "TASKCLUSTER_ACCESS_TOKEN": hooksTestToken}))
	if err != nil {
		t.Fatal(err)
	}
	r, err := env.reader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	files, probs := readHookDir(dir)
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	plan1, probs, err := makePlan(ctx, r, files, planOptions{getenv: envFrom(nil)})
	if err != nil || len(probs) > 0 || len(plan1.Changes) != 3 {
		t.Fatalf("plan: %v %v %+v", err, probs, plan1)
	}

	// Someone changes group-02's hook (the second change) by hand.
	raw, err := client.Hook(ctx, "group-02", "hook-002")
	if err != nil {
		t.Fatal(err)
	}
	byHand := bytes.Replace(raw, []byte(`"name":"Hook 2"`), []byte(`"name":"Edited by hand"`), 1)
	if _, err := client.UpdateHook(ctx, "group-02", "hook-002", byHand); err != nil {
		t.Fatal(err)
	}

	res := applyPlan(ctx, r, plan1, applyOptions{})
	if !slices.Equal(res.Done, []string{"update group-01/hook-001"}) || !slices.Equal(res.NotDone, []string{"update group-02/hook-002", "update group-03/nested/deeper/hook-003"}) {
		t.Fatalf("done %v, not done %v", res.Done, res.NotDone)
	}
	if !strings.Contains(res.Error, "group-02/hook-002") || !strings.Contains(res.Error, "changed by someone else since the plan was made (definition)") || !strings.Contains(res.Error, "--force") {
		t.Errorf("error %q", res.Error)
	}
	var got struct {
		Metadata struct{ Name string } `json:"metadata"`
		Task     struct{ WorkerType string }
	}
	raw, _ = client.Hook(ctx, "group-02", "hook-002")
	json.Unmarshal(raw, &got)
	if got.Metadata.Name != "Edited by hand" || got.Task.WorkerType != "linux" {
		t.Errorf("the hand edit was overwritten: %+v", got)
	}
	var printed strings.Builder
	res.print(&printed, plan1)
	for _, want := range []string{"done: update group-01/hook-001", "apply stopped at update group-02/hook-002", "not done: update group-03/nested/deeper/hook-003", "1 of 3 changes done, 2 not done"} {
		if !strings.Contains(printed.String(), want) {
			t.Errorf("report lacks %q:\n%s", want, printed.String())
		}
	}

	// The same stale plan, forced: the hand edit is overwritten.
	res = applyPlan(ctx, r, plan1, applyOptions{force: true})
	if res.Error != "" || len(res.Done) != 3 {
		t.Fatalf("forced: %+v", res)
	}
	raw, _ = client.Hook(ctx, "group-02", "hook-002")
	json.Unmarshal(raw, &got)
	if got.Metadata.Name != "Hook 2" || got.Task.WorkerType != "edited" {
		t.Errorf("forced apply did not write the file's hook: %+v", got)
	}

	// A settings change made by hand is caught the same way, through
	// the CLI this time; then a rerun without it converges.
	writeHookFile(t, dir, "group-00/nested/deeper/hook-000.yaml", strings.Replace(mustRead(t, filepath.Join(dir, "group-00/nested/deeper/hook-000.yaml")), "nobody", "somebody", 1))
	plan2, _, err := makePlan(ctx, r, mustFiles(t, dir), planOptions{getenv: envFrom(nil)})
	if err != nil || len(plan2.Changes) != 1 {
		t.Fatalf("plan 2: %v %+v", err, plan2)
	}
	if _, err := client.PutSettings(ctx, "group-00", "nested/deeper/hook-000", json.RawMessage(`{"filters":["true"]}`)); err != nil {
		t.Fatal(err)
	}
	if res := applyPlan(ctx, r, plan2, applyOptions{}); !strings.Contains(res.Error, "(settings)") || len(res.Done) != 0 {
		t.Fatalf("settings changed by hand: %+v", res)
	}
	code, out, errOut = hooksCLI(t, base, nil, "apply", "--yes", dir)
	mustCode(t, 0, code, out, errOut)
	code, out, errOut = hooksCLI(t, base, nil, "diff", dir)
	mustCode(t, hooksNoChange, code, out, errOut)
}

func mustRead(tb testing.TB, path string) string {
	tb.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		tb.Fatal(err)
	}
	return string(data)
}

func mustFiles(tb testing.TB, dir string) []*hookFile {
	tb.Helper()
	files, probs := readHookDir(dir)
	if len(probs) > 0 {
		tb.Fatal(probs)
	}
	return files
}

// TestHooks_Prune deletes the live hooks under a managed prefix that no
// file declares, and nothing outside it.
func TestHooks_Prune(t *testing.T) {
	base := startHooksServer(t)
	client := testClient(t, base)
	ctx := context.Background()
	all := t.TempDir()
	for _, rel := range []string{"team-a/keep", "team-a/nightly/old", "team-a/nightly/keep", "team-ab/other", "team-b/x", "misc/y"} {
		_, _, body := hookYAML(1)
		writeHookFile(t, all, rel+".yaml", body)
	}
	code, out, errOut := hooksCLI(t, base, nil, "apply", "--yes", all)
	mustCode(t, 0, code, out, errOut)

	dir := t.TempDir()
	_, _, body := hookYAML(1)
	writeHookFile(t, dir, "team-a/keep.yaml", body)
	writeHookFile(t, dir, "team-a/nightly/keep.yaml", body)

	// Without --prune nothing is deleted.
	code, out, errOut = hooksCLI(t, base, nil, "diff", dir)
	mustCode(t, hooksNoChange, code, out, errOut)

	code, out, errOut = hooksCLI(t, base, nil, "diff", "--json", "--prune", "team-a/", dir)
	mustCode(t, hooksChanges, code, out, errOut)
	p := decodePlan(t, out)
	if len(p.Changes) != 1 || p.Changes[0].Action != "delete" || p.Changes[0].HookID != "nightly/old" {
		t.Fatalf("plan %+v", p)
	}
	code, out, errOut = hooksCLI(t, base, nil, "apply", "--yes", "--prune", "team-a/", dir)
	mustCode(t, 0, code, out, errOut)
	for _, want := range []struct {
		group, id string
		exists    bool
	}{
		{"team-a", "keep", true}, {"team-a", "nightly/old", false}, {"team-a", "nightly/keep", true},
		{"team-ab", "other", true}, {"team-b", "x", true}, {"misc", "y", true},
	} {
		_, err := client.Hook(ctx, want.group, want.id)
		if exists := err == nil; exists != want.exists {
			t.Errorf("%s/%s exists=%v, want %v (%v)", want.group, want.id, exists, want.exists, err)
		}
	}
	// A narrower prefix: hooks of team-a under nightly/ only.
	code, out, errOut = hooksCLI(t, base, nil, "apply", "--yes", "--prune", "team-a/nightly/", "--prune", "team-a/keep", dir)
	mustCode(t, 0, code, out, errOut)

	// Every file must be under a managed prefix: nothing outside one is
	// touched, not even created.
	writeHookFile(t, dir, "team-c/new.yaml", body)
	code, out, errOut = hooksCLI(t, base, nil, "apply", "--yes", "--prune", "team-a/", dir)
	mustCode(t, hooksError, code, out, errOut)
	if !strings.Contains(errOut, "team-c/new.yaml:1: error: declares team-c/new, outside the managed prefixes (--prune team-a/)") {
		t.Errorf("stderr:\n%s", errOut)
	}
	if _, err := client.Hook(ctx, "team-c", "new"); !hooksclient.IsNotFound(err) {
		t.Errorf("team-c/new was created: %v", err)
	}
}

// TestHooks_BadFiles checks that every problem is reported with its file
// and line, and that nothing is applied while one remains.
func TestHooks_BadFiles(t *testing.T) {
	base := startHooksServer(t)
	client := testClient(t, base)
	dir := t.TempDir()
	_, _, good := hookYAML(1)
	writeHookFile(t, dir, "good/hook.yaml", good)
	type bad struct{ rel, body, message string }
	cases := []struct {
		name string
		bad
		line int
	}{
		// The sample file has a comment on line 1 and 21 lines; the
		// lines of what is appended to it start at 22.
		{"invalid YAML", bad{"bad/yaml.yaml", "metadata:\n  name: x\n  owner: [unclosed\ntask: {}\n", "not valid YAML"}, 3},
		{"repeated key", bad{"bad/twice.yaml", good + "metadata: {}\n", `"metadata" is given twice (first on line 2)`}, 22},
		{"invalid JSON", bad{"bad/json.json", "{\n  \"metadata\": {\n    \"name\": \"x\",\n  }\n}\n", "not valid JSON"}, 4},
		{"schema error", bad{"bad/schema.yaml", strings.Replace(good, "owner: team-1@example.com", "owner: not-an-email", 1), "metadata.owner: Does not match format 'email'"}, 7},
		{"unknown property", bad{"bad/extra.yaml", good + "color: blue\n", "Additional property color is not allowed"}, 22},
		{"JSON-e error", bad{"bad/jsone.yaml", strings.Replace(good, "FIRED_BY: {$eval: firedBy}", "FIRED_BY: {$eval: 'firedBy +'}", 1), "task template: SyntaxError at template.payload.env"}, 16},
		{"bad cron", bad{"bad/cron.yaml", good + "schedule: ['0 0 3 0 * *']\n", "day of month"}, 22},
		{"settings schema", bad{"bad/settings.yaml", good + "settings:\n  webhook:\n    scheme: carrier-pigeon\n", "settings: webhook.scheme"}, 24},
		{"bad filter", bad{"bad/filter.yaml", good + "settings:\n  filters: [ok, 'payload.(']\n", "filters[1] is not a JSON-e expression"}, 23},
		{"secret written out", bad{"bad/secret.yaml", good + "settings:\n  webhook:\n    scheme: github\n    secrets: [s3cr3t-value-0123456789]\n", "secrets never live in hook files"}, 25},
		{"secret variable unset", bad{"bad/unset.yaml", good + "settings:\n  webhook:\n    scheme: github\n    secrets:\n      - fromEnv: HOOKS_TEST_UNSET_SECRET\n", "the environment variable HOOKS_TEST_UNSET_SECRET, which holds this secret, is not set"}, 26},
		{"ids disagree with the path", bad{"bad/ids.yaml", "hookId: other\n" + good, "hookId is other but the file's place says \"ids\""}, 1},
	}
	for _, c := range cases {
		writeHookFile(t, dir, c.rel, c.body)
	}
	for _, verb := range []string{"diff", "apply"} {
		code, out, errOut := hooksCLI(t, base, nil, verb, "--yes", dir)
		if verb == "diff" {
			code, out, errOut = hooksCLI(t, base, nil, verb, dir)
		}
		mustCode(t, hooksError, code, out, errOut)
		for _, c := range cases {
			want := fmt.Sprintf("%s:%d: error: ", filepath.Join(dir, c.rel), c.line)
			found := false
			for _, line := range strings.Split(errOut, "\n") {
				if strings.HasPrefix(line, want) && strings.Contains(line, c.message) {
					found = true
				}
			}
			if !found {
				t.Errorf("%s %s: no line %q…%q in:\n%s", verb, c.name, want, c.message, errOut)
			}
		}
		if !strings.Contains(errOut, fmt.Sprintf("%d errors in the files", len(cases))) {
			t.Errorf("%s: summary missing:\n%s", verb, errOut)
		}
	}
	groups, err := client.ListHookGroups(context.Background())
	if err != nil || len(groups) != 0 {
		t.Fatalf("something was applied: %v %v", groups, err)
	}
	// A pre-check finding is a warning: it does not stop diff.
	warnDir := t.TempDir()
	writeHookFile(t, warnDir, "warn/hook.yaml", strings.Replace(good, "  workerType: linux\n", "  workerType: linux\n  priority: extreme\n", 1))
	code, out, errOut := hooksCLI(t, base, nil, "diff", warnDir)
	mustCode(t, hooksChanges, code, out, errOut)
	if !strings.Contains(out, filepath.Join(warnDir, "warn/hook.yaml")+":12: warning: pre-check: the queue would refuse the task: priority") {
		t.Errorf("no pre-check warning:\n%s", out)
	}
}

// TestHooks_Secrets keeps webhook secrets out of the files and out of the
// diff: a fingerprint shows that a secret changes.
func TestHooks_Secrets(t *testing.T) {
	base := startHooksServer(t)
	client := testClient(t, base)
	dir := t.TempDir()
	_, _, good := hookYAML(1)
	path := writeHookFile(t, dir, "hooks/gh.yaml", good+"settings:\n  webhook:\n    scheme: github\n    secrets:\n      - fromEnv: HOOKS_TEST_SECRET\n")
	first := map[string]string{"HOOKS_TEST_SECRET": "first-secret-value-0123456789"}
	code, out, errOut := hooksCLI(t, base, first, "apply", "--yes", dir)
	mustCode(t, 0, code, out, errOut)
	raw, err := client.Settings(context.Background(), "hooks", "gh")
	if err != nil || !strings.Contains(string(raw), `"secretCount":1`) {
		t.Fatalf("settings %s %v", raw, err)
	}
	code, out, errOut = hooksCLI(t, base, first, "diff", dir)
	mustCode(t, hooksNoChange, code, out, errOut)

	second := map[string]string{"HOOKS_TEST_SECRET": "second-secret-value-0123456789"}
	code, out, errOut = hooksCLI(t, base, second, "diff", dir)
	mustCode(t, hooksChanges, code, out, errOut)
	if !strings.Contains(out, "update hooks/gh (settings)") || !strings.Contains(out, "secretFingerprints") || strings.Contains(out, "secret-value") {
		t.Errorf("diff of a rotated secret:\n%s", out)
	}
	// Without the variable, diff --no-secrets compares the rest.
	code, out, errOut = hooksCLI(t, base, nil, "diff", "--no-secrets", dir)
	mustCode(t, hooksNoChange, code, out, errOut)
	if !strings.Contains(out, path+":26: warning: webhook.secrets[0] is not compared: the environment variable HOOKS_TEST_SECRET is not set") {
		t.Errorf("no note of the secret left out:\n%s", out)
	}
	code, out, errOut = hooksCLI(t, base, nil, "apply", "--no-secrets", "--yes", dir)
	mustCode(t, hooksError, code, out, errOut)

	// Export keeps the variable names of the file it replaces.
	code, out, errOut = hooksCLI(t, base, nil, "export", dir)
	mustCode(t, 0, code, out, errOut)
	if got := mustRead(t, path); !strings.Contains(got, "secrets:\n      - fromEnv: HOOKS_TEST_SECRET\n") {
		t.Errorf("export dropped the secret's variable:\n%s", got)
	}
	code, out, errOut = hooksCLI(t, base, first, "diff", dir)
	mustCode(t, hooksNoChange, code, out, errOut)
	// Exported afresh, the file leaves the secrets out, which keeps them.
	fresh := t.TempDir()
	code, out, errOut = hooksCLI(t, base, nil, "export", fresh)
	mustCode(t, 0, code, out, errOut)
	if got := mustRead(t, filepath.Join(fresh, "hooks/gh.yaml")); strings.Contains(got, "secret") || !strings.Contains(got, "scheme: github") {
		t.Errorf("fresh export:\n%s", got)
	}
	code, out, errOut = hooksCLI(t, base, nil, "diff", fresh)
	mustCode(t, hooksNoChange, code, out, errOut)
}

// upstreamProxy fronts a Hookline server like an upstream Taskcluster
// deployment: the hooks API passes, /api/hookline/ is not found.
func upstreamProxy(tb testing.TB, base string) string {
	tb.Helper()
	target, err := url.Parse(base)
	if err != nil {
		tb.Fatal(err)
	}
	proxy := httputil.NewSingleHostReverseProxy(target)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/hooks/v1/") {
			http.NotFound(w, r)
			return
		}
		proxy.ServeHTTP(w, r)
	})}
	go srv.Serve(l)
	tb.Cleanup(func() { srv.Close() })
	return "http://" + l.Addr().String()
}

// TestHooks_UpstreamDeployment: against a deployment without
// /api/hookline/v1/, definitions apply and export, and settings are refused
// clearly, before anything is written.
func TestHooks_UpstreamDeployment(t *testing.T) {
	base := startHooksServer(t)
	upstream := upstreamProxy(t, base)
	client := testClient(t, upstream)
	ctx := context.Background()
	if ok, err := client.HasHooklineAPI(ctx); ok || err != nil {
		t.Fatalf("the proxy looks like Hookline: %v %v", ok, err)
	}
	dir := t.TempDir()
	for _, i := range []int{1, 2, 3} {
		group, id, body := hookYAML(i)
		writeHookFile(t, dir, group+"/"+id+".yaml", body)
	}
	code, out, errOut := hooksCLI(t, upstream, nil, "apply", "--yes", dir)
	mustCode(t, 0, code, out, errOut)
	code, out, errOut = hooksCLI(t, upstream, nil, "diff", "--json", dir)
	mustCode(t, hooksNoChange, code, out, errOut)
	if p := decodePlan(t, out); p.HooklineAPI || p.Unchanged != 3 {
		t.Errorf("plan %+v", p)
	}
	exported := t.TempDir()
	code, out, errOut = hooksCLI(t, upstream, nil, "export", exported)
	mustCode(t, 0, code, out, errOut)
	if n := len(readTree(t, exported)); n != 3 {
		t.Errorf("exported %d hooks", n)
	}

	// A file with settings: refused with its file and line, and nothing
	// is applied, not even the other new hook.
	_, _, withSettings := hookYAML(6)
	path := writeHookFile(t, dir, "group-06/hook-006.yaml", withSettings)
	_, _, plain := hookYAML(4)
	writeHookFile(t, dir, "group-04/hook-004.yaml", plain)
	for _, verb := range []string{"diff", "apply"} {
		code, out, errOut = hooksCLI(t, upstream, nil, verb, "--yes", dir)
		if verb == "diff" {
			code, out, errOut = hooksCLI(t, upstream, nil, verb, dir)
		}
		mustCode(t, hooksError, code, out, errOut)
		want := path + ":22: error: settings: " + upstream + " has no Hookline API (/api/hookline/v1/): it answers like upstream Taskcluster, which keeps no hook settings"
		if !strings.Contains(errOut, want) {
			t.Errorf("%s: stderr lacks %q:\n%s", verb, want, errOut)
		}
	}
	if _, err := client.Hook(ctx, "group-04", "hook-004"); !hooksclient.IsNotFound(err) {
		t.Errorf("group-04/hook-004 was applied: %v", err)
	}
	// The same files against Hookline itself apply whole.
	code, out, errOut = hooksCLI(t, base, nil, "apply", "--yes", dir)
	mustCode(t, 0, code, out, errOut)
}

// TestHooks_Usage covers the command line's refusals.
func TestHooks_Usage(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		args []string
		env  map[string]string
		want string
	}{
		{args: nil, want: "usage: hookline hooks"},
		{args: []string{"frob"}, want: `unknown verb "frob"`},
		{args: []string{"diff"}, want: "usage: hookline hooks"},
		{args: []string{"diff", filepath.Join(dir, "missing")}, want: "is not a directory of hook files"},
		{args: []string{"diff", "--prune", "", dir}, want: "--prune needs a prefix"},
		{args: []string{"diff", dir}, env: map[string]string{"TASKCLUSTER_ROOT_URL": ""}, want: "TASKCLUSTER_ROOT_URL must name the deployment"},
		{args: []string{"export", "--group", "a/b", dir}, want: `--group "a/b" is not a hookGroupId`},
		{args: []string{"export", "--format", "toml", dir}, want: "usage: hookline hooks"},
	} {
		code, out, errOut := hooksCLI(t, "http://127.0.0.1:1", tt.env, tt.args...)
		if code != hooksError || !strings.Contains(errOut, tt.want) {
			t.Errorf("%v: exit %d, stderr %q (stdout %q), want %q", tt.args, code, errOut, out, tt.want)
		}
	}
}

// BenchmarkHooks_Apply200 applies 200 new hooks in 10 groups to an empty
// server per iteration, then exports them.
func BenchmarkHooks_Apply200(b *testing.B) {
	src := b.TempDir()
	writeHookFiles(b, src, 0, 200)
	b.ReportAllocs()
	for b.Loop() {
		b.StopTimer()
		base := startHooksServer(b)
		b.StartTimer()
		if code, out, errOut := hooksCLI(b, base, nil, "apply", "--yes", src); code != 0 {
			b.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
	}
}

// BenchmarkHooks_Export200 exports 200 hooks in 10 groups.
func BenchmarkHooks_Export200(b *testing.B) {
	src := b.TempDir()
	writeHookFiles(b, src, 0, 200)
	base := startHooksServer(b)
	if code, out, errOut := hooksCLI(b, base, nil, "apply", "--yes", src); code != 0 {
		b.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	b.ReportAllocs()
	for b.Loop() {
		if code, out, errOut := hooksCLI(b, base, nil, "export", b.TempDir()); code != 0 {
			b.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
	}
}

// BenchmarkHooks_Diff200 diffs 200 files against the hooks they declare.
func BenchmarkHooks_Diff200(b *testing.B) {
	src := b.TempDir()
	writeHookFiles(b, src, 0, 200)
	base := startHooksServer(b)
	if code, out, errOut := hooksCLI(b, base, nil, "apply", "--yes", src); code != 0 {
		b.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	b.ReportAllocs()
	for b.Loop() {
		if code, out, errOut := hooksCLI(b, base, nil, "diff", src); code != 0 {
			b.Fatalf("exit %d\n%s%s", code, out, errOut)
		}
	}
}
