package httpapi

import (
	"context"
	"strings"
	"testing"

	"github.com/hookline/hookline/shared/store"
)

// TestHookSizeLimit creates a hook whose stored definition is exactly
// store.MaxHookSize, then one a byte over: 413 InputTooLarge naming the
// limit, and nothing stored.
func TestHookSizeLimit(t *testing.T) {
	e := newTestEnv(t, nil)
	padded := func(n int) string {
		return hookBody(func(h map[string]any) {
			h["task"].(map[string]any)["extra"] = map[string]any{"pad": strings.Repeat("x", n)}
		})
	}
	// The stored definition differs from the body by what the service
	// adds (ids, defaults): measure it with a small pad.
	e.mustCreate(t, "/g/probe", padded(10))
	probe, err := e.store.GetHook(context.Background(), "g", "probe")
	if err != nil {
		t.Fatal(err)
	}
	pad := 10 + store.MaxHookSize - len(probe.Definition)
	// "probe" and "limit" are ids of one length, so the definitions of
	// the same pad are of one size.
	if r := e.do(t, "PUT", hooksURL+"/g/limit", padded(pad)); r.status != 200 {
		t.Fatalf("create at the limit: %d %.300s", r.status, r.raw)
	}
	at, err := e.store.GetHook(context.Background(), "g", "limit")
	if err != nil || len(at.Definition) != store.MaxHookSize {
		t.Fatalf("stored %d bytes (%v), want %d", len(at.Definition), err, store.MaxHookSize)
	}
	if r := e.do(t, "GET", hooksURL+"/g/limit", ""); r.status != 200 {
		t.Fatalf("get at the limit: %d %.300s", r.status, r.raw)
	}
	over := e.do(t, "PUT", hooksURL+"/g/overs", padded(pad+1))
	if over.status != 413 || over.code() != CodeInputTooLarge || !strings.Contains(over.raw, "1 MiB (1048576 bytes)") {
		t.Fatalf("create one byte over: %d %.500s", over.status, over.raw)
	}
	if r := e.do(t, "GET", hooksURL+"/g/overs", ""); r.status != 404 {
		t.Fatalf("a refused hook was stored: %d", r.status)
	}
	// An update one byte over is refused alike and keeps the hook.
	if r := e.do(t, "POST", hooksURL+"/g/limit", padded(pad+1)); r.status != 413 || r.code() != CodeInputTooLarge {
		t.Fatalf("update one byte over: %d %.300s", r.status, r.raw)
	}
	if again, err := e.store.GetHook(context.Background(), "g", "limit"); err != nil || again.Version != at.Version {
		t.Fatalf("after a refused update: version %d (%v), want %d", again.Version, err, at.Version)
	}
}

// TestTokenTriggerOfRefusedPayloads fires a hook through the token route
// with payloads a decision cannot keep, then reads the decision log: every
// page answers 200 and marks those payloads omitted.
func TestTokenTriggerOfRefusedPayloads(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustCreate(t, "/g/h", contextHook(openSchema))
	token, _ := e.do(t, "GET", hooksURL+"/g/h/token", "").body["token"].(string)
	bodies := map[string]string{
		"10,000 levels":  `{"a":` + strings.Repeat(`[`, 9_999) + strings.Repeat(`]`, 9_999) + `}`,
		"600 levels":     `{"a":` + strings.Repeat(`{"a":`, 599) + `1` + strings.Repeat(`}`, 599) + `}`,
		"a huge string":  `{"s":"` + strings.Repeat("y", 300<<10) + `"}`,
		"invalid UTF-8":  "{\"s\":\"\xff\"}",
		"1,000,000 deep": strings.Repeat(`[`, 1_000_000) + strings.Repeat(`]`, 1_000_000),
		"not JSON":       `{"a":`,
	}
	for name, body := range bodies {
		// e.do decodes the answer: an error body echoing the payload
		// must be readable too.
		if r := e.do(t, "POST", hooksURL+"/g/h/trigger/"+token, body); r.status >= 500 {
			t.Fatalf("%s: %d %.300s", name, r.status, r.raw)
		}
		e.clock.Advance(1)
	}
	omitted := 0
	for p := "?limit=1"; ; {
		r := e.do(t, "GET", settingsURL+"/g/h/decisions"+p, "")
		if r.status != 200 {
			t.Fatalf("list decisions%s: %d %.300s", p, r.status, r.raw)
		}
		for _, d := range r.body["decisions"].([]any) {
			d := d.(map[string]any)
			one := e.do(t, "GET", settingsURL+"/g/h/decisions/"+d["decisionId"].(string), "")
			if one.status != 200 {
				t.Fatalf("get decision %s: %d %.300s", d["decisionId"], one.status, one.raw)
			}
			if d["payload"] == nil && (d["payloadOmitted"] != true || d["payloadProblem"] == nil) {
				t.Fatalf("decision without payload or problem: %.500v", d)
			}
			if d["payloadOmitted"] == true {
				omitted++
			}
		}
		next, _ := r.body["continuationToken"].(string)
		if next == "" {
			break
		}
		p = "?limit=1&continuationToken=" + next
	}
	// The too deep and the too large payloads reached a decision; the
	// others were refused before the fire.
	if omitted != 3 {
		t.Fatalf("%d decisions omit their payload, want 3", omitted)
	}
}

// TestDeepTaskTemplateRefused creates hooks whose task template nests
// deeper than JSON-e renders: 400 naming the limit, nothing stored, and
// the group still reads.
func TestDeepTaskTemplateRefused(t *testing.T) {
	e := newTestEnv(t, nil)
	for _, n := range []int{513, 9_997} {
		body := hookBody(func(h map[string]any) {
			var v any = []any{}
			for range n - 2 {
				v = []any{v}
			}
			h["task"].(map[string]any)["extra"] = v
		})
		r := e.do(t, "PUT", hooksURL+"/g/deep", body)
		if r.status != 400 || !strings.Contains(r.raw, "512 levels") {
			t.Fatalf("a task %d levels deep: %d %.300s", n, r.status, r.raw)
		}
	}
	if r := e.do(t, "GET", hooksURL+"/g/deep", ""); r.status != 404 {
		t.Fatalf("a refused hook was stored: %d", r.status)
	}
}
