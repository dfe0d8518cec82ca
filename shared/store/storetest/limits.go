package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/store"
)

// limitCases are the size-limit and read-back cases of Run.
var limitCases = []struct {
	name string
	fn   func(*testing.T, store.Store)
}{
	{"SizeLimits", testSizeLimits},
	{"LargeHookLifecycle", testLargeHookLifecycle},
	{"LargeHooksListed", testLargeHooksListed},
	{"LargeClaimLifecycle", testLargeClaimLifecycle},
	{"DeepHookDefinitions", testDeepHookDefinitions},
	{"LargeHookConcurrentUpdatesOneWins", testLargeHookConcurrentUpdates},
	{"LargeHookScheduledUpdates", testLargeHookScheduledUpdates},
	{"RefusedPayloadDecisionsReadBack", testRefusedPayloadDecisions},
}

// sized returns a JSON text of exactly n bytes (n >= 8) whose bytes vary,
// so that a backend that compresses cannot make it small.
func sized(n int, seed byte) []byte {
	b := make([]byte, n)
	copy(b, `{"p":"`)
	x := uint32(seed) + 1
	for i := 6; i < n-2; i++ {
		x = x*1664525 + 1013904223
		b[i] = 'a' + byte(x>>24)%26
	}
	copy(b[n-2:], `"}`)
	return b
}

// wantTooLarge fails unless err is a TooLargeError of kind and limit.
func wantTooLarge(t *testing.T, what string, err error, kind string, limit int) {
	t.Helper()
	var tl *store.TooLargeError
	if !errors.As(err, &tl) || !errors.Is(err, store.ErrTooLarge) || tl.Kind != kind || tl.Limit != limit || tl.Size != limit+1 {
		t.Fatalf("%s: got %v, want a TooLargeError of the %s limit %d", what, err, kind, limit)
	}
	for _, other := range errorKinds {
		if errors.Is(err, other) {
			t.Fatalf("%s: error %v is %v as well", what, err, other)
		}
	}
}

// testSizeLimits writes every record kind at its limit, reads it back
// whole, and writes it a byte over the limit: refused, nothing written.
func testSizeLimits(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := epoch
	kinds := []struct {
		kind  string
		limit int
		// write stores a record of body under a name; read returns the
		// bytes stored under it.
		write func(name string, body []byte) error
		read  func(name string) ([]byte, error)
	}{
		{store.KindHook, store.MaxHookSize,
			func(name string, body []byte) error {
				h := sampleHook("g", name)
				h.Definition = body
				_, err := s.CreateHook(ctx, h)
				return err
			},
			func(name string) ([]byte, error) { h, err := s.GetHook(ctx, "g", name); return h.Definition, err }},
		{store.KindSettings, store.MaxSettingsSize,
			func(name string, body []byte) error {
				_, err := s.PutSettings(ctx, store.Settings{HookGroupID: "g", HookID: name, Body: body})
				return err
			},
			func(name string) ([]byte, error) { st, err := s.GetSettings(ctx, "g", name); return st.Body, err }},
		{store.KindClaim, store.MaxClaimSize,
			func(name string, body []byte) error {
				return s.CreateClaim(ctx, store.Claim{Key: "fire/g/" + name, Body: body, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}, now)
			},
			func(name string) ([]byte, error) { c, err := s.GetClaim(ctx, "fire/g/"+name, now); return c.Body, err }},
		{store.KindDecision, store.MaxDecisionSize,
			func(name string, body []byte) error {
				d := decision("g", name, now, "a")
				d.Body = body
				return s.PutDecision(ctx, d, nil)
			},
			func(name string) ([]byte, error) {
				d, err := s.GetDecision(ctx, "g", name, decisionID(now, "a"))
				return d.Body, err
			}},
		{store.KindNotification, store.MaxNotificationSize,
			func(name string, body []byte) error {
				nt := notification("g", name, now, "a")
				nt.Body = body
				_, err := s.CreateNotification(ctx, nt)
				return err
			},
			func(name string) ([]byte, error) {
				nt, err := s.GetNotification(ctx, "g", name, decisionID(now, "a"))
				return nt.Body, err
			}},
		{store.KindFireError, store.MaxFireErrorSize,
			func(name string, body []byte) error {
				f := fire("g", name, "t1", now, "error")
				f.Error = string(body)
				return s.PutLastFire(ctx, f)
			},
			func(name string) ([]byte, error) {
				f, err := s.GetLastFire(ctx, "g", name, now, "t1")
				return []byte(f.Error), err
			}},
	}
	for _, k := range kinds {
		body := sized(k.limit, byte(len(k.kind)))
		if err := k.write("at", body); err != nil {
			t.Fatalf("%s of %d bytes, at the limit: %v", k.kind, k.limit, err)
		}
		if got, err := k.read("at"); err != nil || !bytes.Equal(got, body) {
			t.Fatalf("%s at the limit read back: %d bytes, %v", k.kind, len(got), err)
		}
		wantTooLarge(t, k.kind+" a byte over the limit", k.write("over", sized(k.limit+1, 1)), k.kind, k.limit)
		if _, err := k.read("over"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("%s over the limit was stored: %v", k.kind, err)
		}
	}
	// An update a byte over is refused too, and keeps the hook.
	h, err := s.GetHook(ctx, "g", "at")
	if err != nil {
		t.Fatal(err)
	}
	big := h
	big.Definition = sized(store.MaxHookSize+1, 7)
	_, err = s.UpdateHook(ctx, big)
	wantTooLarge(t, "hook update a byte over", err, store.KindHook, store.MaxHookSize)
	wantSameHooks(t, "hook after a refused update", h, mustGet(t, s, "g", "at"))
	// A decision of the limit with a fire record whose error is at its
	// limit goes in one call.
	d := decision("g", "pair", now, "b")
	d.Body = sized(store.MaxDecisionSize, 8)
	f := fire("g", "pair", "t2", now, "error")
	f.Error = string(sized(store.MaxFireErrorSize, 9))
	if err := s.PutDecision(ctx, d, &f); err != nil {
		t.Fatalf("decision and fire record at their limits: %v", err)
	}
}

// wantSameHooks is wantSame for hooks, comparing definitions as bytes:
// cmp reads a megabyte slice element by element.
func wantSameHooks[T store.Hook | []store.Hook](t *testing.T, what string, want, got T) {
	t.Helper()
	var w, g []store.Hook
	switch v := any(want).(type) {
	case store.Hook:
		w, g = []store.Hook{v}, []store.Hook{any(got).(store.Hook)}
	case []store.Hook:
		w, g = v, any(got).([]store.Hook)
	}
	if len(w) != len(g) {
		t.Fatalf("%s: %d hooks, want %d", what, len(g), len(w))
	}
	for i := range w {
		if !bytes.Equal(w[i].Definition, g[i].Definition) {
			t.Fatalf("%s: hook %s/%s has a definition of %d bytes, want the %d written", what, g[i].HookGroupID, g[i].HookID, len(g[i].Definition), len(w[i].Definition))
		}
		a, b := w[i], g[i]
		a.Definition, b.Definition = nil, nil
		wantSame(t, what, a, b)
	}
}

func mustGet(t *testing.T, s store.Store, group, id string) store.Hook {
	t.Helper()
	h, err := s.GetHook(t.Context(), group, id)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// testLargeHookLifecycle takes a hook at the size limit through every
// hook operation, from large to small and back.
func testLargeHookLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	h := fullHook("g", "big")
	h.Definition = sized(store.MaxHookSize, 1)
	created := mustCreate(t, s, h)
	wantSameHooks(t, "large hook read back", created, mustGet(t, s, "g", "big"))
	dup := h
	dup.Definition = sized(store.MaxHookSize, 2)
	_, err := s.CreateHook(ctx, dup)
	wantErr(t, "second create of a large hook", err, store.ErrConflict)
	wantSameHooks(t, "large hook after a refused create", created, mustGet(t, s, "g", "big"))

	steps := []int{100, store.MaxHookSize - 1, 500 << 10, store.MaxHookSize, 10}
	cur := created
	for i, n := range steps {
		next := cur
		next.Definition = sized(n, byte(10+i))
		next.NextScheduledDate = epoch.Add(time.Duration(i+1) * time.Minute)
		up, err := s.UpdateHook(ctx, next)
		if err != nil {
			t.Fatalf("update to %d bytes: %v", n, err)
		}
		wantSameHooks(t, fmt.Sprintf("hook updated to %d bytes", n), up, mustGet(t, s, "g", "big"))
		stale := cur
		stale.Definition = sized(store.MaxHookSize, 99)
		_, err = s.UpdateHook(ctx, stale)
		wantErr(t, "stale update of a large hook", err, store.ErrConflict)
		cur = up
	}
	// Due: ListDue returns the whole hook.
	large := cur
	large.Definition = sized(store.MaxHookSize, 3)
	cur, err = s.UpdateHook(ctx, large)
	if err != nil {
		t.Fatal(err)
	}
	due, err := s.ListDue(ctx, epoch.Add(time.Hour), 10)
	if err != nil || len(due) != 1 {
		t.Fatalf("ListDue: %d hooks, %v", len(due), err)
	}
	wantSameHooks(t, "large hook listed due", cur, due[0])
	if err := s.DeleteHook(ctx, "g", "big", cur.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetHook(ctx, "g", "big"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted large hook: %v", err)
	}
	if groups, _, err := s.ListHookGroups(ctx, store.Page{}); err != nil || len(groups) != 0 {
		t.Fatalf("groups after deleting the large hook: %v, %v", groups, err)
	}
	// The ids can be used again, large.
	again := sampleHook("g", "big")
	again.Definition = sized(store.MaxHookSize, 4)
	wantSameHooks(t, "large hook created again", mustCreate(t, s, again), mustGet(t, s, "g", "big"))
}

// testLargeClaimLifecycle takes a claim at the size limit through every
// claim operation, from large to small and back.
func testLargeClaimLifecycle(t *testing.T, s store.Store) {
	ctx := t.Context()
	now := epoch
	get := func(what string, want []byte) {
		t.Helper()
		c, err := s.GetClaim(ctx, "fire/big", now)
		if err != nil || !bytes.Equal(c.Body, want) {
			t.Fatalf("%s: %d bytes (want %d), %v", what, len(c.Body), len(want), err)
		}
	}
	c := store.Claim{Key: "fire/big", Body: sized(store.MaxClaimSize, 1), CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.CreateClaim(ctx, c, now); err != nil {
		t.Fatal(err)
	}
	get("large claim", c.Body)
	dup := c
	dup.Body = sized(store.MaxClaimSize, 2)
	wantErr(t, "second large claim", s.CreateClaim(ctx, dup, now), store.ErrConflict)
	get("large claim after a refused create", c.Body)
	// Replaced by the body read only: a stale large body is refused.
	wantErr(t, "replace with a stale large body", s.ReplaceClaim(ctx, dup, dup.Body, now), store.ErrConflict)
	old := c.Body
	for i, n := range []int{100, 800 << 10, store.MaxClaimSize, 0, 500 << 10} {
		next := c
		next.Body = nil
		if n > 0 {
			next.Body = sized(n, byte(10+i))
		}
		if err := s.ReplaceClaim(ctx, next, old, now); err != nil {
			t.Fatalf("replace %d bytes by %d: %v", len(old), n, err)
		}
		get(fmt.Sprintf("claim replaced by %d bytes", n), next.Body)
		old = next.Body
	}
	// An expired large claim is replaced by a new one.
	later := now.Add(2 * time.Hour)
	fresh := store.Claim{Key: c.Key, Body: sized(store.MaxClaimSize-1, 3), CreatedAt: later, ExpiresAt: later.Add(time.Hour)}
	if err := s.CreateClaim(ctx, fresh, later); err != nil {
		t.Fatalf("create over an expired large claim: %v", err)
	}
	now = later
	get("claim over an expired one", fresh.Body)
	if err := s.DeleteClaim(ctx, c.Key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetClaim(ctx, c.Key, now); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("deleted large claim: %v", err)
	}
}

// testDeepHookDefinitions stores hook definitions and settings nested as
// deep as encoding/json reads and deeper: the store keeps them as opaque bytes,
// so every operation works on them and they read back unchanged.
func testDeepHookDefinitions(t *testing.T, s store.Store) {
	ctx := t.Context()
	deep := func(n int) []byte {
		return []byte(`{"task":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
	}
	var want []store.Hook
	for i, n := range []int{9_999, 10_000, 100_000} {
		h := scheduled("g", fmt.Sprintf("d%d", i), epoch.Add(time.Duration(i)*time.Minute))
		h.Definition = deep(n)
		c := mustCreate(t, s, h)
		wantSameHooks(t, "deep hook read back", c, mustGet(t, s, "g", c.HookID))
		c.Definition = deep(n - 1)
		up, err := s.UpdateHook(ctx, c)
		if err != nil {
			t.Fatalf("update a hook %d levels deep: %v", n, err)
		}
		wantSameHooks(t, "deep hook updated", up, mustGet(t, s, "g", c.HookID))
		want = append(want, up)
	}
	hooks, _, err := s.ListHooks(ctx, "g", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	wantSameHooks(t, "deep hooks listed", want, hooks)
	due, err := s.ListDue(ctx, epoch.Add(time.Hour), 10)
	if err != nil {
		t.Fatal(err)
	}
	wantSameHooks(t, "deep hooks due", want, due)
	for _, h := range want {
		if err := s.DeleteHook(ctx, "g", h.HookID, h.Version); err != nil {
			t.Fatalf("delete deep hook %s: %v", h.HookID, err)
		}
	}
	// Settings alike.
	for i, n := range []int{9_999, 10_000, 100_000} {
		id := fmt.Sprintf("d%d", i)
		first, err := s.PutSettings(ctx, store.Settings{HookGroupID: "g", HookID: id, Body: deep(n)})
		if err != nil {
			t.Fatalf("put settings %d levels deep: %v", n, err)
		}
		first.Body = deep(n + 1)
		second, err := s.PutSettings(ctx, first)
		if err != nil {
			t.Fatalf("replace settings %d levels deep: %v", n, err)
		}
		if got, err := s.GetSettings(ctx, "g", id); err != nil || !bytes.Equal(got.Body, second.Body) || got.Version != 2 {
			t.Fatalf("settings %d levels deep read back: %d bytes, version %d, %v", n, len(got.Body), got.Version, err)
		}
	}
}

// testLargeHooksListed lists a group of large and small hooks in pages.
func testLargeHooksListed(t *testing.T, s store.Store) {
	var want []store.Hook
	for i := range 5 {
		h := sampleHook("g", fmt.Sprintf("h%d", i))
		if i%2 == 0 {
			h.Definition = sized(store.MaxHookSize-i, byte(i))
		}
		want = append(want, mustCreate(t, s, h))
	}
	var got []store.Hook
	for p := (store.Page{Limit: 2}); ; {
		hooks, next, err := s.ListHooks(t.Context(), "g", p)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, hooks...)
		if next == "" {
			break
		}
		p.Token = next
	}
	wantSameHooks(t, "large and small hooks listed", want, got)
}

// testLargeHookConcurrentUpdates races updates of one large hook: one
// wins per version, and the hook read after is whole and is the winner's.
func testLargeHookConcurrentUpdates(t *testing.T, s store.Store) {
	h := sampleHook("g", "race")
	h.Definition = sized(store.MaxHookSize, 1)
	base := mustCreate(t, s, h)
	var updates []store.Hook
	for i := range 4 {
		next := base
		next.Definition = sized(store.MaxHookSize-i, byte(20+i))
		updates = append(updates, next)
	}
	won := raceUpdates(t, s, updates...)
	wantSameHooks(t, "large hook after racing updates", won, mustGet(t, s, "g", "race"))
}

// raceUpdates sends updates at once and returns the one that won: exactly
// one must, the others must be conflicts.
func raceUpdates(t *testing.T, s store.Store, updates ...store.Hook) store.Hook {
	t.Helper()
	var wg sync.WaitGroup
	wins := make(chan store.Hook, len(updates))
	for i, next := range updates {
		wg.Go(func() {
			up, err := s.UpdateHook(t.Context(), next)
			switch {
			case err == nil:
				wins <- up
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("update %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	close(wins)
	var won []store.Hook
	for w := range wins {
		won = append(won, w)
	}
	if len(won) != 1 {
		t.Fatalf("%d updates of one version won", len(won))
	}
	return won[0]
}

// testLargeHookScheduledUpdates updates a large hook as the scheduler
// does, its definition unchanged, between changes of the definition and
// racing them: every read gives the hook last written, whole, and a stale
// update is a conflict whether or not it changes the definition.
func testLargeHookScheduledUpdates(t *testing.T, s store.Store) {
	ctx := t.Context()
	h := fullHook("g", "sched")
	h.Definition = sized(store.MaxHookSize, 1)
	cur := mustCreate(t, s, h)
	for i, def := range [][]byte{nil, nil, sized(store.MaxHookSize, 2), nil, sized(100, 3), nil, sized(500<<10, 4), nil} {
		next := cur
		if def != nil {
			next.Definition = def
		}
		next.NextScheduledDate = cur.NextScheduledDate.Add(time.Hour)
		next.NextTaskID = fmt.Sprintf("task-%d", i)
		up, err := s.UpdateHook(ctx, next)
		if err != nil {
			t.Fatalf("update %d: %v", i, err)
		}
		wantSameHooks(t, fmt.Sprintf("hook after update %d", i), up, mustGet(t, s, "g", "sched"))
		_, err = s.UpdateHook(ctx, cur)
		wantErr(t, fmt.Sprintf("stale unchanged update after update %d", i), err, store.ErrConflict)
		cur = up
	}

	// An unchanged update racing a change of the definition: one wins,
	// and the hook read after is the winner's.
	base := cur
	changed := base
	changed.Definition = sized(store.MaxHookSize, 5)
	won := raceUpdates(t, s, base, changed)
	wantSameHooks(t, "hook after an unchanged update raced a change", won, mustGet(t, s, "g", "sched"))

	// Deleted and created again with the same definition, the hook takes
	// unchanged updates as before.
	if err := s.DeleteHook(ctx, "g", "sched", 0); err != nil {
		t.Fatal(err)
	}
	again := mustCreate(t, s, h)
	next := again
	next.NextScheduledDate = again.NextScheduledDate.Add(time.Hour)
	up, err := s.UpdateHook(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	wantSameHooks(t, "hook created again, then updated unchanged", up, mustGet(t, s, "g", "sched"))
}

// refusedPayloads are decision bodies as the fuzz's refused payloads
// made them before payloads were checked: the store keeps them as opaque
// bytes and returns them unchanged.
func refusedPayloads() map[string][]byte {
	deep := func(n int) []byte {
		return []byte(`{"outcome":"rejected","payload":` + strings.Repeat("[", n) + strings.Repeat("]", n) + `}`)
	}
	return map[string][]byte{
		"10k-deep":      deep(10_000),
		"100k-deep":     deep(100_000),
		"invalid-json":  []byte(`{"outcome":"rejected","payload":{"a":`),
		"invalid-utf8":  []byte("{\"outcome\":\"created\",\"payload\":\"\xff\xfe\xc0\"}"),
		"nul-bytes":     []byte("{\"outcome\":\"created\"}\x00\x00"),
		"huge-string":   []byte(`{"outcome":"rejected","payload":"` + strings.Repeat("é", (store.MaxDecisionSize-50)/2) + `"}`),
		"at-size-limit": sized(store.MaxDecisionSize, 5),
	}
}

// testRefusedPayloadDecisions stores a decision for each kind of payload
// an API call can be refused for, then lists and reads every one back as
// written; a 1,000,000-level payload is over the size limit.
func testRefusedPayloadDecisions(t *testing.T, s store.Store) {
	ctx := context.Background()
	bodies := refusedPayloads()
	byID := map[string][]byte{}
	i := 0
	for name, body := range bodies {
		d := decision("g", "h", epoch.Add(time.Duration(i)*time.Second), name)
		d.Body = body
		putDecision(t, s, d, nil)
		byID[d.ID] = body
		i++
	}
	ids, _ := decisionIDs(t, s, "g", "h", store.Page{Limit: 3})
	seen := 0
	for p := (store.Page{Limit: 3}); ; {
		ds, next, err := s.ListDecisions(ctx, "g", "h", p)
		if err != nil {
			t.Fatalf("list decisions: %v", err)
		}
		for _, d := range ds {
			if !bytes.Equal(d.Body, byID[d.ID]) {
				t.Fatalf("decision %s listed with %d bytes, stored %d", d.ID, len(d.Body), len(byID[d.ID]))
			}
			got, err := s.GetDecision(ctx, "g", "h", d.ID)
			if err != nil || !bytes.Equal(got.Body, byID[d.ID]) {
				t.Fatalf("decision %s read back: %d bytes, %v", d.ID, len(got.Body), err)
			}
			seen++
		}
		if next == "" {
			break
		}
		p.Token = next
	}
	if seen != len(bodies) || len(ids) == 0 {
		t.Fatalf("listed %d decisions, stored %d", seen, len(bodies))
	}
	d := decision("g", "h", epoch.Add(time.Hour), "1m-deep")
	d.Body = []byte(`{"payload":` + strings.Repeat("[", 1_000_000) + strings.Repeat("]", 1_000_000) + `}`)
	err := s.PutDecision(ctx, d, nil)
	var tl *store.TooLargeError
	if !errors.As(err, &tl) || tl.Kind != store.KindDecision {
		t.Fatalf("decision of a 1,000,000-level payload: %v, want a TooLargeError", err)
	}
}
