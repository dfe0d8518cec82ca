package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/hookline/hookline/shared/store"
)

// deepJSON is a JSON text nesting n arrays.
func deepJSON(n int) []byte {
	return []byte(strings.Repeat("[", n) + strings.Repeat("]", n))
}

// deepValue is a decoded payload nesting n objects.
func deepValue(n int) any {
	var v any = map[string]any{}
	for range n - 1 {
		v = map[string]any{"a": v}
	}
	return v
}

func TestPayloadProblem(t *testing.T) {
	tests := []struct {
		name    string
		raw     []byte
		problem string // a part of the problem; "" when kept
	}{
		{"object", []byte(`{"a":[1,"x"]}`), ""},
		{"at the depth limit", deepJSON(maxDecisionDepth), ""},
		{"brackets in strings do not nest", []byte(`{"a":"` + strings.Repeat("[", 2*maxDecisionDepth) + `\"{"}`), ""},
		{"at the size limit", []byte(`"` + strings.Repeat("y", maxDecisionPayload-2) + `"`), ""},
		{"one level too deep", deepJSON(maxDecisionDepth + 1), "nests deeper than 512 levels"},
		{"10,000 levels", deepJSON(10_000), "nests deeper than 512 levels"},
		{"1,000,000 levels", deepJSON(1_000_000), "larger than 256 KiB"},
		{"one byte over the size limit", []byte(`"` + strings.Repeat("y", maxDecisionPayload-1) + `"`), "larger than 256 KiB"},
		{"a huge string", []byte(`{"s":"` + strings.Repeat("é", 1<<20) + `"}`), "larger than 256 KiB"},
		{"invalid JSON", []byte(`{"a":`), "not JSON"},
		{"data after the value", []byte(`{} {}`), "not JSON"},
		{"invalid UTF-8", []byte("{\"a\":\"\xff\xfe\"}"), "not valid UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d Decision
			keepPayload(&d, FireRequest{RawPayload: tt.raw})
			if tt.problem == "" {
				if d.PayloadOmitted || string(d.Payload) != string(tt.raw) || d.PayloadProblem != "" {
					t.Fatalf("not kept: omitted %v, problem %q", d.PayloadOmitted, d.PayloadProblem)
				}
				return
			}
			if !d.PayloadOmitted || d.Payload != nil || !strings.Contains(d.PayloadProblem, tt.problem) {
				t.Fatalf("omitted %v, problem %q, want one with %q", d.PayloadOmitted, d.PayloadProblem, tt.problem)
			}
			if d.PayloadSize != len(tt.raw) || !utf8.ValidString(d.PayloadPrefix) || len(d.PayloadPrefix) > payloadPrefixLen+3 || d.PayloadPrefix == "" {
				t.Fatalf("size %d (want %d), prefix of %d bytes, valid UTF-8: %v", d.PayloadSize, len(tt.raw), len(d.PayloadPrefix), utf8.ValidString(d.PayloadPrefix))
			}
		})
	}
}

func TestPayloadPrefixCutsBetweenCharacters(t *testing.T) {
	for pad := range 4 {
		raw := []byte(strings.Repeat("x", pad) + strings.Repeat("€", payloadPrefixLen))
		p := payloadPrefix(raw)
		if !utf8.ValidString(p) || strings.ContainsRune(p, utf8.RuneError) || len(p) > payloadPrefixLen || len(p) < payloadPrefixLen-3 {
			t.Fatalf("pad %d: prefix of %d bytes, valid %v", pad, len(p), utf8.ValidString(p))
		}
	}
	if p := payloadPrefix([]byte("a\xffb")); p != "a\uFFFDb" {
		t.Fatalf("invalid bytes: %q", p)
	}
}

func TestRefusedPayloadsReadBack(t *testing.T) {
	refusedPayloadsReadBack(t, newSchedEnv(t))
}

// refusedPayloadsReadBack fires a hook with payloads a decision cannot
// keep, and stores decisions as they were written before payloads were
// checked, then lists and reads every decision of the hook.
func refusedPayloadsReadBack(t *testing.T, e *schedEnv) {
	t.Helper()
	ctx := context.Background()
	e.clock.step = time.Millisecond
	in := input("h")
	in.TriggerSchema = json.RawMessage(`{"type":"object"}`)
	if _, err := e.svc.Definitions.CreateHook(ctx, "g", "h", in); err != nil {
		t.Fatal(err)
	}
	fired := map[string]any{
		"10,000 levels":  deepValue(10_000),
		"600 levels":     deepValue(600),
		"over the limit": map[string]any{"s": strings.Repeat("y", maxDecisionPayload)},
		"a huge string":  map[string]any{"s": strings.Repeat("é", 1<<20)},
	}
	for name, p := range fired {
		// The fire itself may be refused (too deep to render); its
		// decision is recorded either way.
		_, _ = e.svc.Firing.TriggerHook(ctx, "g", "h", p, "c", "")
		if d := e.lastDecision(t, "g", "h"); !d.PayloadOmitted || d.PayloadProblem == "" || d.PayloadSize == 0 || d.PayloadPrefix == "" {
			t.Fatalf("%s: %+v", name, d)
		}
	}
	// Decisions stored before payloads were checked: the payload as it
	// came, however deep, or not JSON at all.
	legacy := map[string][]byte{
		"20260101T000000.000000001Z-00000001": []byte(`{"decisionId":"20260101T000000.000000001Z-00000001","hookGroupId":"g","hookId":"h","outcome":"rejected","payload":` + string(deepJSON(10_000)) + `}`),
		"20260101T000000.000000002Z-00000002": []byte(`{"decisionId":"20260101T000000.000000002Z-00000002","hookGroupId":"g","hookId":"h","outcome":"rejected","payload":` + string(deepJSON(100_000)) + `}`),
		"20260101T000000.000000003Z-00000003": []byte(`{"decisionId":"20260101T000000.000000003Z-00000003","hookGroupId":"g","hookId":"h","outcome":"created","payload":{"a":"` + strings.Repeat("x", 1000) + "\xff" + `"}}`),
		"20260101T000000.000000004Z-00000004": []byte(`{"decisionId":"20260101T000000.000000004Z-00000004","hookGroupId":"g","hookId":"h","outcome":"created","payload":{"a":`),
		"20260101T000000.000000005Z-00000005": []byte("\xff not a decision"),
	}
	for id, body := range legacy {
		if err := e.store.PutDecision(ctx, store.Decision{HookGroupID: "g", HookID: "h", ID: id, Body: body, ExpiresAt: e.clock.Now().Add(time.Hour)}, nil); err != nil {
			t.Fatalf("store legacy decision %s: %v", id, err)
		}
	}
	var all []Decision
	for p := (store.Page{Limit: 2}); ; {
		page, err := e.svc.Operations.ListDecisions(ctx, "g", "h", p)
		if err != nil {
			t.Fatalf("list decisions: %v", err)
		}
		all = append(all, page.Decisions...)
		if page.ContinuationToken == "" {
			break
		}
		p.Token = page.ContinuationToken
	}
	if len(all) != len(fired)+len(legacy) {
		t.Fatalf("listed %d decisions, want %d", len(all), len(fired)+len(legacy))
	}
	for _, d := range all {
		got, err := e.svc.Operations.GetDecision(ctx, "g", "h", d.DecisionID)
		if err != nil {
			t.Fatalf("get decision %s: %v", d.DecisionID, err)
		}
		if got.DecisionID != d.DecisionID || got.HookID != "h" || !got.PayloadOmitted || got.PayloadProblem == "" {
			t.Fatalf("decision %s read back as %+v", d.DecisionID, got)
		}
		// What is returned encodes and decodes again (the API's answer).
		b, err := json.Marshal(got)
		if err != nil || !utf8.Valid(b) || json.Unmarshal(b, new(map[string]any)) != nil {
			t.Fatalf("decision %s does not encode: %v", d.DecisionID, err)
		}
		if _, err := e.svc.Operations.Replay(ctx, "g", "h", d.DecisionID, "alice", ""); err == nil || !strings.Contains(err.Error(), "not kept") {
			t.Fatalf("replay of %s: %v", d.DecisionID, err)
		}
	}
}

// TestOversizedTaskIsARenderError fires a hook whose task renders larger
// than a queue accepts: a render error, recorded, with nothing claimed or
// sent; and the largest task a queue accepts fits a claim.
func TestOversizedTaskIsARenderError(t *testing.T) {
	ctx := context.Background()
	e := newSchedEnv(t)
	in := input("h")
	in.TriggerSchema = json.RawMessage(`{"type":"object"}`)
	in.Task = json.RawMessage(`{"provisionerId":"p","workerType":"w","extra":{"$eval":"payload"}}`)
	if _, err := e.svc.Definitions.CreateHook(ctx, "g", "h", in); err != nil {
		t.Fatal(err)
	}
	chunk := strings.Repeat("y", 3<<20)
	payload := map[string]any{"a": chunk, "b": chunk, "c": chunk, "d": chunk[:1<<20]}
	_, err := e.svc.Firing.TriggerHook(ctx, "g", "h", payload, "c", "")
	var fe *FireError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), "over the 10 MiB a queue accepts") {
		t.Fatalf("fire of an oversized task: %v", err)
	}
	if d := e.lastDecision(t, "g", "h"); d.Outcome != OutcomeRenderError || !strings.Contains(d.Error, "10 MiB") {
		t.Fatalf("decision %+v", d)
	}
	if n := e.queue.taskCount(); n != 0 {
		t.Fatalf("%d tasks sent", n)
	}

	body, err := json.Marshal(fireClaim{Task: json.RawMessage(`"` + strings.Repeat("x", MaxTaskBytes-2) + `"`), FiredBy: FiredByTriggerHookWithToken, Created: time.Now()})
	if err != nil || len(body) > store.MaxClaimSize {
		t.Fatalf("the claim of the largest task is %d bytes (%v), over store.MaxClaimSize %d", len(body), err, store.MaxClaimSize)
	}
}

func TestLargeHookLifecycle(t *testing.T) {
	largeHookLifecycle(t, newSchedEnv(t))
}

// largeHookLifecycle creates a hook of nearly store.MaxHookSize, reads,
// lists and fires it (its claim is as large), updates it and removes it;
// then one over the limit is refused as too large.
func largeHookLifecycle(t *testing.T, e *schedEnv) {
	t.Helper()
	ctx := context.Background()
	in := input("big")
	in.TriggerSchema = json.RawMessage(`{"type":"object"}`)
	pad := strings.Repeat("z", store.MaxHookSize-2<<10)
	in.Task = json.RawMessage(`{"provisionerId":"p","workerType":"w","extra":{"pad":"` + pad + `"}}`)
	if _, err := e.svc.Definitions.CreateHook(ctx, "g", "big", in); err != nil {
		t.Fatalf("create a hook of %d bytes: %v", len(in.Task), err)
	}
	def, err := e.svc.Definitions.GetHook(ctx, "g", "big")
	if err != nil || len(def.Task) != len(in.Task) {
		t.Fatalf("get: %d bytes, %v", len(def.Task), err)
	}
	if listed, err := e.svc.Definitions.ListHooks(ctx, "g"); err != nil || len(listed) != 1 || len(listed[0]) < len(pad) {
		t.Fatalf("list: %d hooks, %v", len(listed), err)
	}
	res, err := e.svc.Firing.TriggerHook(ctx, "g", "big", map[string]any{}, "c", "key")
	if err != nil || res.TaskID == "" {
		t.Fatalf("fire: %+v, %v", res, err)
	}
	// A retry with the same key follows the (large) claim: one task.
	again, err := e.svc.Firing.TriggerHook(ctx, "g", "big", map[string]any{}, "c", "key")
	if err != nil || again.TaskID != res.TaskID || e.queue.taskCount() != 1 {
		t.Fatalf("retried fire: %+v, %v, %d tasks", again, err, e.queue.taskCount())
	}
	in.Metadata.Name = "bigger"
	if _, err := e.svc.Definitions.UpdateHook(ctx, "g", "big", in); err != nil {
		t.Fatalf("update: %v", err)
	}
	if def, err := e.svc.Definitions.GetHook(ctx, "g", "big"); err != nil || def.Metadata.Name != "bigger" {
		t.Fatalf("get after update: %v", err)
	}
	if err := e.svc.Definitions.RemoveHook(ctx, "g", "big"); err != nil {
		t.Fatalf("remove: %v", err)
	}
	in.Task = json.RawMessage(`{"provisionerId":"p","workerType":"w","extra":{"pad":"` + pad + pad[:4<<10] + `"}}`)
	_, err = e.svc.Definitions.CreateHook(ctx, "g", "over", in)
	var tl *store.TooLargeError
	if !errors.As(err, &tl) || tl.Kind != store.KindHook || tl.Limit != store.MaxHookSize {
		t.Fatalf("create over the limit: %v", err)
	}
}

func TestDeepHookRefused(t *testing.T) {
	ctx := context.Background()
	e := newSchedEnv(t)
	for _, tt := range []struct {
		name string
		edit func(*Input, int)
		want string
	}{
		{"task", func(in *Input, n int) {
			in.Task = json.RawMessage(`{"provisionerId":"p","workerType":"w","extra":` + string(deepJSON(n-1)) + `}`)
		}, "task template nests deeper than 512"},
	} {
		in := input(tt.name)
		tt.edit(&in, maxTemplateDepth)
		if _, err := e.svc.Definitions.CreateHook(ctx, "g", tt.name, in); err != nil {
			t.Fatalf("%s at the depth limit: %v", tt.name, err)
		}
		for _, n := range []int{maxTemplateDepth + 1, 9_999} {
			in := input(tt.name)
			tt.edit(&in, n)
			if _, err := e.svc.Definitions.CreateHook(ctx, "g", tt.name+"-deep", in); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("create with a %s %d levels deep: %v", tt.name, n, err)
			}
			if _, err := e.svc.Definitions.UpdateHook(ctx, "g", tt.name, in); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("update with a %s %d levels deep: %v", tt.name, n, err)
			}
		}
	}
}

// TestTriggerSchemaRefCycle: a triggerSchema that applies itself to the
// same value without end is refused at create and update, and a stored
// one refuses fires instead of overflowing the stack.
func TestTriggerSchemaRefCycle(t *testing.T) {
	ctx := context.Background()
	e := newSchedEnv(t)
	cyclic := json.RawMessage(`{"$ref":"#/definitions/a","definitions":{"a":{"$ref":"#/definitions/a"}}}`)
	in := input("h")
	in.TriggerSchema = cyclic
	if _, err := e.svc.Definitions.CreateHook(ctx, "g", "h", in); !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), "refers to itself") {
		t.Fatalf("create with a cyclic triggerSchema: %v", err)
	}
	in.TriggerSchema = json.RawMessage(`{"type":"object"}`)
	if _, err := e.svc.Definitions.CreateHook(ctx, "g", "h", in); err != nil {
		t.Fatal(err)
	}
	in.TriggerSchema = cyclic
	if _, err := e.svc.Definitions.UpdateHook(ctx, "g", "h", in); !errors.Is(err, ErrInvalid) {
		t.Fatalf("update with a cyclic triggerSchema: %v", err)
	}
	// As if stored before the check.
	rec, err := e.store.GetHook(ctx, "g", "h")
	if err != nil {
		t.Fatal(err)
	}
	var def map[string]any
	if err := json.Unmarshal(rec.Definition, &def); err != nil {
		t.Fatal(err)
	}
	def["triggerSchema"] = cyclic
	if rec.Definition, err = json.Marshal(def); err != nil {
		t.Fatal(err)
	}
	if _, err := e.store.UpdateHook(ctx, rec); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Firing.TriggerHook(ctx, "g", "h", map[string]any{}, "c", ""); err == nil || !strings.Contains(err.Error(), "refers to itself") {
		t.Fatalf("fire with a stored cyclic triggerSchema: %v", err)
	}
}
