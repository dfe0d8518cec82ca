package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/auth"
)

// pauseByHand pauses a hook as on-call does, through the pause API.
func pauseByHand(t *testing.T, base, group, id, reason string) {
	t.Helper()
	body := []byte(`{"reason":"` + reason + `"}`)
	req, err := http.NewRequest("PUT", base+"/api/hookline/v1/hooks/"+group+"/"+url.PathEscape(id)+"/pause", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if err := auth.SignRequest(req, auth.Credentials{ClientID: "root", AccessToken: hooksTestToken}, body, time.Now()); err != nil {
		t.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if out, _ := io.ReadAll(res.Body); res.StatusCode != 200 {
		t.Fatalf("pause %s/%s: %d %s", group, id, res.StatusCode, out)
	}
}

// livePause reads a hook's pause from its settings (nil: not paused).
func livePause(t *testing.T, base, group, id string) map[string]any {
	t.Helper()
	raw, err := testClient(t, base).Settings(context.Background(), group, id)
	if err != nil {
		t.Fatal(err)
	}
	var s struct {
		Paused map[string]any `json:"paused"`
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		t.Fatal(err)
	}
	return s.Paused
}

// TestHooks_PauseLeftToOnCall: a file without `paused` leaves a pause set
// by hand as it is, through diff, apply of other changes and export;
// `paused: {reason}` pauses; `paused: false` resumes.
func TestHooks_PauseLeftToOnCall(t *testing.T) {
	base := startHooksServer(t)
	dir := t.TempDir()
	group, id, body := hookYAML(6) // settings: filters, no pause
	if strings.Contains(body, "paused") {
		t.Fatalf("the sample hook says paused:\n%s", body)
	}
	file := writeHookFile(t, dir, group+"/"+id+".yaml", body)
	code, out, errOut := hooksCLI(t, base, nil, "apply", "--yes", dir)
	mustCode(t, 0, code, out, errOut)

	// On-call pauses it during an incident.
	pauseByHand(t, base, group, id, "incident 42")
	before := livePause(t, base, group, id)
	if before["reason"] != "incident 42" {
		t.Fatalf("not paused: %v", before)
	}
	code, out, errOut = hooksCLI(t, base, nil, "diff", dir)
	mustCode(t, hooksNoChange, code, out, errOut)

	// An apply of another settings change keeps the pause, since and by
	// included.
	writeHookFile(t, dir, group+"/"+id+".yaml", strings.Replace(body, "nobody", "somebody", 1))
	code, out, errOut = hooksCLI(t, base, nil, "diff", "--json", dir)
	mustCode(t, hooksChanges, code, out, errOut)
	if p := decodePlan(t, out); len(p.Changes) != 1 || strings.Contains(p.Changes[0].Diff, "paused") {
		t.Fatalf("the diff shows the pause: %+v", p)
	}
	code, out, errOut = hooksCLI(t, base, nil, "apply", "--yes", dir)
	mustCode(t, 0, code, out, errOut)
	if after := livePause(t, base, group, id); !cmp.Equal(before, after) {
		t.Fatalf("apply changed the pause: before %v, after %v", before, after)
	}

	// Export leaves it out; --with-pauses writes it; a re-export keeps
	// what the file manages.
	exported := t.TempDir()
	code, out, errOut = hooksCLI(t, base, nil, "export", exported)
	mustCode(t, 0, code, out, errOut)
	exportedFile := filepath.Join(exported, group, id+".yaml")
	if strings.Contains(mustRead(t, exportedFile), "paused") {
		t.Errorf("export wrote the pause:\n%s", mustRead(t, exportedFile))
	}
	code, out, errOut = hooksCLI(t, base, nil, "export", "--with-pauses", exported)
	mustCode(t, 0, code, out, errOut)
	if !strings.Contains(mustRead(t, exportedFile), "  paused:\n    reason: incident 42\n") {
		t.Errorf("export --with-pauses:\n%s", mustRead(t, exportedFile))
	}

	// `paused: false` resumes it, and export then says so.
	writeHookFile(t, dir, group+"/"+id+".yaml", mustRead(t, file)+"  paused: false\n")
	code, out, errOut = hooksCLI(t, base, nil, "diff", dir)
	mustCode(t, hooksChanges, code, out, errOut)
	if !strings.Contains(out, "-  paused:") || !strings.Contains(out, "-    reason: incident 42") {
		t.Errorf("diff does not show the pause lifted:\n%s", out)
	}
	code, out, errOut = hooksCLI(t, base, nil, "apply", "--yes", dir)
	mustCode(t, 0, code, out, errOut)
	if p := livePause(t, base, group, id); p != nil {
		t.Fatalf("still paused: %v", p)
	}
	code, out, errOut = hooksCLI(t, base, nil, "export", exported)
	mustCode(t, 0, code, out, errOut)
	if !strings.Contains(mustRead(t, exportedFile), "  paused: false\n") {
		t.Errorf("a re-export over a file that managed the pause:\n%s", mustRead(t, exportedFile))
	}

	// `paused: {reason}` pauses it, with the file's reason.
	writeHookFile(t, dir, group+"/"+id+".yaml", mustRead(t, file)[:len(mustRead(t, file))-len("  paused: false\n")]+"  paused:\n    reason: retired\n")
	code, out, errOut = hooksCLI(t, base, nil, "apply", "--yes", dir)
	mustCode(t, 0, code, out, errOut)
	if p := livePause(t, base, group, id); p["reason"] != "retired" || p["by"] != "root" {
		t.Fatalf("pause %v, want reason retired by root", p)
	}
	code, out, errOut = hooksCLI(t, base, nil, "diff", dir)
	mustCode(t, hooksNoChange, code, out, errOut)
}

// TestPauseInFiles: what a file may say about the pause, and what an
// export writes for each case.
func TestPauseInFiles(t *testing.T) {
	const head = "metadata: {name: n, description: d, owner: o@example.com}\ntask: {provisionerId: p}\nsettings:\n  filters: ['true']\n"
	for _, tt := range []struct {
		name, paused string
		mode         pauseMode
		problem      string
	}{
		{"left", "", pauseLeft, ""},
		{"on", "  paused: {reason: maintenance}\n", pauseOn, ""},
		{"off", "  paused: false\n", pauseOff, ""},
		{"true", "  paused: true\n", 0, "paused: write `paused: {reason: ...}` to pause the hook, or `paused: false`"},
		{"null", "  paused:\n", 0, "paused: write"},
		{"text", "  paused: maintenance\n", 0, "paused: write"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, probs := parseHookFile(writeHookFile(t, t.TempDir(), "g/h.yaml", head+tt.paused), "g", "h")
			if tt.problem != "" {
				if len(probs) != 1 || probs[0].Line != 5 || !strings.Contains(probs[0].Message, tt.problem) {
					t.Fatalf("problems %v, want one on line 5 saying %q", probs, tt.problem)
				}
				return
			}
			if len(probs) > 0 {
				t.Fatal(probs)
			}
			if f.pause != tt.mode {
				t.Errorf("mode %v, want %v", f.pause, tt.mode)
			}
			if _, ok := f.settings[pausedKey]; ok != (tt.mode == pauseOn) {
				t.Errorf("settings %v: `paused` should be sent only to pause", f.settings)
			}
		})
	}

	reg, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	old := func(mode pauseMode) *hookFile { return &hookFile{pause: mode} }
	paused := `{"filters":["true"],"paused":{"level":"hook","reason":"incident","since":"2026-01-01T00:00:00Z","by":"oncall"}}`
	running := `{"filters":["true"]}`
	for _, tt := range []struct {
		name, live string
		old        *hookFile
		withPauses bool
		want       any // settings.paused in the export; nil: absent
	}{
		{"paused, not asked", paused, nil, false, nil},
		{"paused, asked", paused, nil, true, map[string]any{"reason": "incident"}},
		{"paused, file left it", paused, old(pauseLeft), false, nil},
		{"paused, file managed it", paused, old(pauseOff), false, map[string]any{"reason": "incident"}},
		{"running, asked", running, nil, true, nil},
		{"running, file managed it", running, old(pauseOn), false, false},
		{"running, file kept it off", running, old(pauseOff), true, false},
	} {
		t.Run("export "+tt.name, func(t *testing.T) {
			live := &liveHook{hookGroupID: "g", hookID: "h", definition: []byte(`{"metadata":{},"task":{}}`), settings: []byte(tt.live)}
			settings, _ := exportDoc(reg, live, tt.old, tt.withPauses)[settingsKey].(map[string]any)
			if got, ok := settings[pausedKey]; !cmp.Equal(got, tt.want) || ok != (tt.want != nil) {
				t.Errorf("paused %#v, want %#v", got, tt.want)
			}
		})
	}
}
