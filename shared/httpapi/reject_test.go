package httpapi

import (
	"encoding/json"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hookline/hookline/schemas"
)

// Refusing a body whose items each break the input schema costs time
// linear in the body (issue 16): the benchmarks below refuse bodies of
// about 1 MB, each in well under 100 ms.

// failingItems is n JSON nulls, an array whose every item breaks a
// schema asking for strings or objects.
func failingItems(n int) string {
	return "[" + strings.Repeat("null,", n-1) + "null]"
}

// A refusal lists at most schemas.MaxProblems problems and says how many
// more there are; one with few problems lists them all, as before.
func TestRefusalListsAtMostFiftyProblems(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustCreate(t, "/g/typed", hookBody(func(h map[string]any) {
		h["triggerSchema"] = map[string]any{
			"type":       "object",
			"properties": map[string]any{"items": map[string]any{"type": "array", "items": map[string]any{"type": "object"}}},
		}
	}))
	schedule := func(items string) string {
		var h map[string]any
		json.Unmarshal([]byte(hookBody(nil)), &h)
		h["schedule"] = json.RawMessage(items)
		data, _ := json.Marshal(h)
		return string(data)
	}
	for _, tt := range []struct {
		name, method, path, body string
		code                     string
		listed                   int
		end                      string
	}{
		{"createHook, a few", "PUT", hooksURL + "/g/a", schedule(`[null, 1]`), CodeInputValidationError, 2,
			" * schedule.1: Invalid type. Expected: string, given: integer\n"},
		{"createHook, many", "PUT", hooksURL + "/g/b", schedule(failingItems(60)), CodeInputValidationError, 50,
			" * schedule.49: Invalid type. Expected: string, given: null\nand at least 69 more\n"}, // 60 nulls, 59 repeated
		{"settings, many", "PUT", settingsURL + "/g/typed/settings", `{"filters":` + failingItems(60) + `}`, CodeInputValidationError, 50,
			"\nand at least 10 more\n"},
		{"triggerHook, many", "POST", hooksURL + "/g/typed/trigger", `{"items":` + failingItems(60) + `}`, CodeInputError, 50,
			"data/items/49 Invalid type. Expected: object, given: null; and at least 10 more"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(t, tt.method, tt.path, tt.body)
			if r.status != 400 || r.code() != tt.code {
				t.Fatalf("%d %s, want 400 %s: %.300s", r.status, r.code(), tt.code, r.raw)
			}
			msg := r.message()
			msg, _, _ = strings.Cut(msg, "\n\n---\n\n") // the envelope's footer
			listed := strings.Count(msg, " * ")
			if tt.code == CodeInputError {
				listed = strings.Count(msg, "Invalid type")
			}
			if listed != tt.listed || !strings.HasSuffix(msg, tt.end) {
				t.Errorf("%d problems listed, want %d ending %q:\n%s", listed, tt.listed, tt.end, msg)
			}
		})
	}
}

// cpuPerOp reports the process's CPU time per iteration beside the
// wall-clock time: on a machine shared with other work the wall clock
// also counts the waits for a CPU. Call it before the loop; it reports
// when the benchmark ends.
func cpuPerOp(b *testing.B) {
	cpu := func() time.Duration {
		var ru syscall.Rusage
		if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
			return 0
		}
		return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	start := cpu()
	b.Cleanup(func() {
		if b.N > 0 {
			b.ReportMetric(float64(cpu()-start)/float64(time.Millisecond)/float64(b.N), "cpu-ms/op")
		}
	})
}

// nullsBody is prefix, an array of nulls and suffix, size bytes at most.
func nullsBody(prefix, suffix string, size int) string {
	n := (size - len(prefix) - len(suffix) - 1) / len("null,")
	return prefix + failingItems(n) + suffix
}

// The bodies are 1 MB, or the route's limit when it is lower (a larger
// one is refused unread, with 413).
func BenchmarkRejectScheduleNulls(b *testing.B) {
	e := benchEnv(b)
	var h map[string]any
	if err := json.Unmarshal([]byte(hookBody(nil)), &h); err != nil {
		b.Fatal(err)
	}
	delete(h, "schedule")
	head, _ := json.Marshal(h)
	body := nullsBody(string(head[:len(head)-1])+`,"schedule":`, "}", 1<<20)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpuPerOp(b)
	for b.Loop() {
		benchDo(b, e, "PUT", hooksURL+"/bench/h", body, 400)
	}
}

// Settings take 512 KB at most.
func BenchmarkRejectSettingsFilterNulls(b *testing.B) {
	e := benchEnv(b)
	benchDo(b, e, "PUT", hooksURL+"/bench/h", hookBody(nil), 200)
	body := nullsBody(`{"filters":`, "}", int(bodyLimit(schemas.HookSettings)))
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpuPerOp(b)
	for b.Loop() {
		benchDo(b, e, "PUT", settingsURL+"/bench/h/settings", body, 400)
	}
}

// The hook's triggerSchema wants an array of objects; the payload is an
// array of nulls.
func BenchmarkRejectTriggerPayloadNulls(b *testing.B) {
	e := benchEnv(b)
	benchDo(b, e, "PUT", hooksURL+"/bench/h", hookBody(func(h map[string]any) {
		h["triggerSchema"] = map[string]any{
			"type":       "object",
			"properties": map[string]any{"items": map[string]any{"type": "array", "items": map[string]any{"type": "object"}}},
		}
	}), 200)
	body := nullsBody(`{"items":`, "}", 1<<20)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	cpuPerOp(b)
	for b.Loop() {
		benchDo(b, e, "POST", hooksURL+"/bench/h/trigger", body, 400)
	}
}
