package apifuzz

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestGenerate_deterministic(t *testing.T) {
	for i := range 120 {
		a, b := Generate(7, i, knownLimits), Generate(7, i, knownLimits)
		a.regen, b.regen = nil, nil
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("request %d differs between two calls:\n%s\n%s", i, a, b)
		}
	}
	same := 0
	for i := range 100 {
		if Generate(7, i, knownLimits).String() == Generate(8, i, knownLimits).String() {
			same++
		}
	}
	if same > 50 {
		t.Errorf("seeds 7 and 8 give the same request %d times in 100", same)
	}
}

// TestGenerate_covers: the first requests of a seed hold every category
// and the extremes the issue asks for.
func TestGenerate_covers(t *testing.T) {
	cats := map[string]int{}
	var deepest, longestID int
	var nul, badUTF8, pct2F, dotdot, overLimit, wrongMethod, badHawk bool
	for i := range 800 {
		r := Generate(1, i, knownLimits)
		cats[r.Category]++
		if r.Category == "nesting" {
			deepest = max(deepest, r.Size)
		}
		for seg := range strings.SplitSeq(r.Target, "/") {
			longestID = max(longestID, len(seg))
		}
		nul = nul || strings.ContainsAny(r.Target, "\x00") || strings.Contains(r.Target, "%00")
		badUTF8 = badUTF8 || r.Category == "invalid-utf8"
		pct2F = pct2F || strings.Contains(r.Target, "%2F")
		dotdot = dotdot || strings.Contains(r.Target, "/../") || strings.HasSuffix(r.Target, "/..")
		overLimit = overLimit || len(r.Body) > 10<<20 || r.ContentLength > 10<<20
		wrongMethod = wrongMethod || r.Method == "PATCH" || r.Method == "TRACE"
		badHawk = badHawk || r.Auth >= AuthHawkWrongKey
	}
	for _, c := range categories {
		if cats[c.name] == 0 {
			t.Errorf("category %s never drawn in 800 requests", c.name)
		}
	}
	if deepest < 500_000 {
		t.Errorf("deepest nesting %d, want some near 1,000,000", deepest)
	}
	if longestID < 20_000 {
		t.Errorf("longest path segment %d, want 20,000", longestID)
	}
	for name, seen := range map[string]bool{"NUL": nul, "invalid UTF-8": badUTF8, "%2F": pct2F, "..": dotdot, "a body over 10 MB": overLimit, "a wrong method": wrongMethod, "bad Hawk": badHawk} {
		if !seen {
			t.Errorf("no request with %s", name)
		}
	}
}

func TestRequest_Shrink(t *testing.T) {
	for i := range 500 {
		r := Generate(1, i, knownLimits)
		if r.Category != "nesting" || r.Size < 1000 {
			continue
		}
		small, ok := r.Shrink(100)
		if !ok || small.Size != 100 || len(small.Body) >= len(r.Body) || small.Route != r.Route {
			t.Fatalf("shrinking %s to 100: %v %s", r, ok, small)
		}
		return
	}
	t.Fatal("no nesting request to shrink in 500")
}

func TestParseSteps(t *testing.T) {
	for _, tt := range []struct {
		in      string
		want    []Step
		wantErr bool
	}{
		{in: "", want: nil},
		{in: "3", want: []Step{{3, -1}}},
		{in: "3, 17,42@1000", want: []Step{{3, -1}, {17, -1}, {42, 1000}}},
		{in: "0-2,5,7@3", want: []Step{{0, -1}, {1, -1}, {2, -1}, {5, -1}, {7, 3}}},
		{in: "3-1", wantErr: true},
		{in: "x", wantErr: true},
		{in: "1@", wantErr: true},
		{in: "-1", wantErr: true},
	} {
		got, err := ParseSteps(tt.in)
		if (err != nil) != tt.wantErr || !tt.wantErr && !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSteps(%q) = %v, %v; want %v (error %v)", tt.in, got, err, tt.want, tt.wantErr)
		}
	}
}

func TestFormatSteps(t *testing.T) {
	steps := []Step{{0, -1}, {1, -1}, {2, -1}, {3, -1}, {5, -1}, {6, -1}, {7, 40}, {9, -1}}
	got := formatSteps(steps)
	if got != "0-3,5,6,7@40,9" {
		t.Errorf("formatSteps = %q", got)
	}
	back, err := ParseSteps(got)
	if err != nil || !reflect.DeepEqual(back, steps) {
		t.Errorf("ParseSteps(%q) = %v, %v; want %v", got, back, err, steps)
	}
}

func TestMatch(t *testing.T) {
	known := []KnownIssue{
		{Item: "a", Routes: []string{"listDecisions"}, Status: 500, Log: []string{"decode decision", "max depth"}},
		{Item: "b", Store: "dynamodb", Status: 500, Log: []string{"Item size"}},
		{Item: "c", Status: 0},
		{Item: "d", RSS: true},
	}
	line := `{"level":"ERROR","err":"decode decision x: exceeded max depth"}`
	for _, tt := range []struct {
		name   string
		store  string
		req    Request
		route  string
		status int
		lines  []string
		want   string
	}{
		{"route, status and log", "embedded", Request{}, "listDecisions", 500, []string{line}, "a"},
		{"another route", "embedded", Request{}, "hook", 500, []string{line}, ""},
		{"no log line", "embedded", Request{}, "listDecisions", 500, nil, ""},
		{"half the log", "embedded", Request{}, "listDecisions", 500, []string{`exceeded max depth`}, ""},
		{"store", "dynamodb", Request{}, "createHook", 500, []string{"Item size has exceeded"}, "b"},
		{"other store", "embedded", Request{}, "createHook", 500, []string{"Item size has exceeded"}, ""},
		{"slow with schema items", "embedded", Request{SchemaItems: 5}, "createHook", 0, nil, "c"},
		{"slow without", "embedded", Request{}, "createHook", 0, nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := ""
			if k := match(known, tt.store, tt.req, tt.route, tt.status, tt.lines); k != nil {
				got = k.Item
			}
			if got != tt.want {
				t.Errorf("match = %q, want %q", got, tt.want)
			}
		})
	}
	if k := knownRSS(known, "embedded"); k == nil || k.Item != "d" {
		t.Errorf("knownRSS = %v, want d", k)
	}
}

func TestRunner_rebase(t *testing.T) {
	r := &runner{group: "fz-2"}
	got := r.rebase(Request{Target: "/api/hooks/v1/hooks/fz/h0/trigger?g=fz", Group: "fz", Hook: "h0"})
	if got.Target != "/api/hooks/v1/hooks/fz-2/h0/trigger?g=fz" || got.Group != "fz-2" {
		t.Errorf("rebase: %s group %s", got.Target, got.Group)
	}
	got = r.rebase(Request{Target: "/api/hooks/v1/hooks/fzbig/big0", Group: "fzbig"})
	if got.Target != "/api/hooks/v1/hooks/fzbig/big0" || got.Group != "fzbig" {
		t.Errorf("rebase of another group: %s group %s", got.Target, got.Group)
	}
}

func TestChunk(t *testing.T) {
	body := bytes.Repeat([]byte("x"), 70<<10)
	got := chunk(body)
	want := fmt.Sprintf("10000\r\n%s\r\n1800\r\n%s\r\n0\r\n\r\n", body[:64<<10], body[64<<10:])
	if string(got) != want {
		t.Errorf("chunk: %d bytes, want %d", len(got), len(want))
	}
}

// index finds the first request of seed 1 for which ok holds.
func index(t *testing.T, ok func(Request) bool) int {
	t.Helper()
	for i := range 5000 {
		if ok(Generate(1, i, knownLimits)) {
			return i
		}
	}
	t.Fatal("no such request in 5000")
	return 0
}

// fakeOptions runs the test binary as a fake server with flaw.
func fakeOptions(t *testing.T, flaw string) Options {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return Options{Binary: exe, Store: "fake", Dir: t.TempDir(), Seed: 1, Timeout: 20 * time.Second,
		NewEnv: func() ([]string, error) { return []string{fakeEnv + "=" + flaw}, nil }, Out: testWriter{t}}
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestRun_storedRefusal: a server that stores a createHook it refuses is
// caught, and the reproduction drops the requests that do not matter.
func TestRun_storedRefusal(t *testing.T) {
	bad := index(t, func(r Request) bool {
		return r.Category == "malformed-json" && r.Route == "createHook" && r.Hook != "" && !json.Valid(r.Body)
	})
	harmless := index(t, func(r Request) bool { return r.Category == "valid" && r.Route == "ping" })
	opts := fakeOptions(t, "stores-refused")
	opts.Only = []Step{{harmless, -1}, {bad, -1}}
	opts.MinimizeFor = time.Minute
	res, err := Run(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Failures) != 1 || res.Failures[0].Kind != "stored" || res.Failures[0].Route != "createHook" {
		t.Fatalf("failures %v, want one of kind stored on createHook", res.Failures)
	}
	if want := fmt.Sprintf("-apifuzz.only=%d\n", bad); !strings.Contains(res.Repro+"\n", want) {
		t.Errorf("reproduction does not replay request %d alone:\n%s", bad, res.Repro)
	}
	// Without the flaw, the same requests pass.
	opts = fakeOptions(t, "none")
	opts.Only = []Step{{harmless, -1}, {bad, -1}}
	if res, err := Run(t.Context(), opts); err != nil || len(res.Failures) > 0 {
		t.Fatalf("without the flaw: %v %v", err, res.Failures)
	}
}

// TestRun_knownIssue: a 5xx is a failure, unless a known issue matches
// it (route, status and the server's error line); then it is counted.
func TestRun_knownIssue(t *testing.T) {
	deep := index(t, func(r Request) bool {
		return r.Category == "nesting" && r.Route == "createHook" && r.Hook != "" && bytes.Contains(r.Body, []byte("[[[["))
	})
	for _, tt := range []struct {
		name  string
		known []KnownIssue
		want  string // the failure's kind, or "" for none
	}{
		{"unknown", []KnownIssue{}, "5xx"},
		{"known", []KnownIssue{{Item: "16.x", Routes: []string{"createHook"}, Status: 500, Log: []string{"exceeded max depth"}}}, ""},
		{"known on another route", []KnownIssue{{Item: "16.x", Routes: []string{"hook"}, Status: 500, Log: []string{"exceeded max depth"}}}, "5xx"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := fakeOptions(t, "fails-deep")
			opts.Only, opts.Known = []Step{{deep, -1}}, tt.known
			res, err := Run(t.Context(), opts)
			if err != nil {
				t.Fatal(err)
			}
			got := ""
			if len(res.Failures) > 0 {
				got = res.Failures[0].Kind
			}
			if got != tt.want || res.FiveXX != 1 {
				t.Fatalf("failure %q (%v), 5xx %d; want %q and 1", got, res.Failures, res.FiveXX, tt.want)
			}
			if tt.want == "" && res.Known["16.x"] != 1 {
				t.Errorf("known issues counted %v, want 16.x once", res.Known)
			}
		})
	}
}
