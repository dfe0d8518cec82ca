// Package storetest is the conformance suite every store.Store backend must
// pass, and the benchmarks every backend reports.
package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hookline/hookline/shared/store"
)

// NewStore returns an empty store isolated from every other call, and
// registers its own cleanup on tb.
type NewStore func(tb testing.TB) store.Store

// Run checks that a backend honours the store.Store contract.
func Run(t *testing.T, newStore NewStore) {
	t.Helper()
	cases := []struct {
		name string
		fn   func(*testing.T, store.Store)
	}{
		{"GetMissing", testGetMissing},
		{"CreateGet", testCreateGet},
		{"CreateExisting", testCreateExisting},
		{"UpdateVersioned", testUpdateVersioned},
		{"UpdateMissing", testUpdateMissing},
		{"StaleUpdateRefused", testStaleUpdateRefused},
		{"ConcurrentUpdatesOneWins", testConcurrentUpdatesOneWins},
		{"Delete", testDelete},
		{"DeleteVersioned", testDeleteVersioned},
		{"ListHookGroups", testListHookGroups},
		{"ListHookGroupsAfterDelete", testListHookGroupsAfterDelete},
		{"ListHooksOfGroup", testListHooksOfGroup},
		{"Pagination", testPagination},
		{"BadToken", testBadToken},
		{"SlashInHookID", testSlashInHookID},
		{"ScheduleFields", testScheduleFields},
		{"ClaimOnce", testClaimOnce},
		{"ClaimConcurrent", testClaimConcurrent},
		{"ClaimExpiry", testClaimExpiry},
		{"ClaimDelete", testClaimDelete},
		{"ClaimReplace", testClaimReplace},
		{"ClaimReplaceConcurrent", testClaimReplaceConcurrent},
		{"DueIndex", testDueIndex},
		{"DueIndexFollowsUpdatesAndDeletes", testDueFollowsChanges},
		{"DueIndexHoldsTheFireTime", testDueFireTime},
		{"LastFires", testLastFires},
		{"LastFireUpsert", testLastFireUpsert},
		{"LastFiresPagination", testLastFiresPagination},
		{"DeleteLastFires", testDeleteLastFires},
		{"SettingsGetMissing", testSettingsGetMissing},
		{"SettingsPutGet", testSettingsPutGet},
		{"SettingsStalePutRefused", testSettingsStalePut},
		{"SettingsConcurrentFirstPutsOneWins", testSettingsConcurrentFirstPuts},
		{"SettingsDelete", testSettingsDelete},
		{"CanceledContext", testCanceledContext},
	}
	cases = append(cases, decisionCases...)
	cases = append(cases, limitCases...)
	for _, tc := range append(cases, historyCases...) {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// sampleHook returns a hook with every field set but the schedule and the
// version (fullHook sets the schedule too).
func sampleHook(group, id string) store.Hook {
	return store.Hook{
		HookGroupID:  group,
		HookID:       id,
		Definition:   []byte(fmt.Sprintf(`{"hookGroupId":%q,"hookId":%q,"metadata":{"name":"n"}}`, group, id)),
		TriggerToken: "token-" + id,
		NextTaskID:   "task-" + id,
	}
}

// fullHook returns a hook with every field set that the caller sets.
func fullHook(group, id string) store.Hook {
	h := scheduled(group, id, epoch.Add(90*time.Minute))
	h.NextSlot = epoch.Add(80 * time.Minute)
	h.ScheduleKey = "key-" + id
	return h
}

func mustCreate(t *testing.T, s store.Store, h store.Hook) store.Hook {
	t.Helper()
	got, err := s.CreateHook(t.Context(), h)
	if err != nil {
		t.Fatalf("CreateHook(%s/%s): %v", h.HookGroupID, h.HookID, err)
	}
	return got
}

// errorKinds are the store's error kinds: an error the suite expects is
// of exactly one of them.
var errorKinds = []error{store.ErrNotFound, store.ErrConflict, store.ErrBadToken}

// wantErr fails unless err is of kind want (errors.Is, so wrapping is
// fine) and of no other store error kind.
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
	for _, other := range errorKinds {
		if other != want && errors.Is(err, other) {
			t.Fatalf("%s: error %v is %v as well as %v", what, err, other, want)
		}
	}
}

// wantSame fails when got differs from want in any field. Times compare
// with time.Time.Equal (cmp uses a type's Equal method); a nil and an
// empty slice are the same.
func wantSame[T any](t *testing.T, what string, want, got T) {
	t.Helper()
	if d := cmp.Diff(want, got, cmpopts.EquateEmpty()); d != "" {
		t.Fatalf("%s differs (-want +got):\n%s", what, d)
	}
}

// requireEveryField fails when the sample record v leaves a field zero,
// other than the fields the store sets (setByStore). Each round trip of
// the suite starts from such a sample and compares the whole record read
// back, so a field added to a store record fails here until the sample
// sets it, and then fails the round trip if a backend drops it.
func requireEveryField(t *testing.T, v any, setByStore ...string) {
	t.Helper()
	rv := reflect.ValueOf(v)
	for i := range rv.NumField() {
		name := rv.Type().Field(i).Name
		if !slices.Contains(setByStore, name) && rv.Field(i).IsZero() {
			t.Fatalf("the suite's sample %s leaves %s zero: set it, so that the round trip checks it", rv.Type(), name)
		}
	}
}

func testGetMissing(t *testing.T, s store.Store) {
	_, err := s.GetHook(t.Context(), "g", "missing")
	wantErr(t, "GetHook", err, store.ErrNotFound)
}

func testCreateGet(t *testing.T, s store.Store) {
	h := fullHook("g", "h")
	requireEveryField(t, h, "Version")
	created := mustCreate(t, s, h)
	want := h
	want.Version = 1
	wantSame(t, "CreateHook's answer", want, created)
	got, err := s.GetHook(t.Context(), "g", "h")
	if err != nil {
		t.Fatal(err)
	}
	wantSame(t, "hook read back", want, got)
}

func testCreateExisting(t *testing.T, s store.Store) {
	first := mustCreate(t, s, sampleHook("g", "h"))
	second := sampleHook("g", "h")
	second.Definition = []byte(`{"other":true}`)
	_, err := s.CreateHook(t.Context(), second)
	wantErr(t, "second CreateHook", err, store.ErrConflict)
	got, err := s.GetHook(t.Context(), "g", "h")
	if err != nil {
		t.Fatal(err)
	}
	wantSame(t, "hook after the refused create", first, got)
}

func testUpdateVersioned(t *testing.T, s store.Store) {
	ctx := t.Context()
	h := mustCreate(t, s, fullHook("g", "h"))
	h.Definition = []byte(`{"changed":1}`)
	h.TriggerToken = "new-token"
	h.NextTaskID = "new-task"
	h.NextScheduledDate = epoch.Add(3 * time.Hour)
	updated, err := s.UpdateHook(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	want := h
	want.Version = 2
	wantSame(t, "UpdateHook's answer", want, updated)
	got, err := s.GetHook(ctx, "g", "h")
	if err != nil {
		t.Fatal(err)
	}
	wantSame(t, "hook read back", want, got)
}

func testUpdateMissing(t *testing.T, s store.Store) {
	h := sampleHook("g", "nope")
	h.Version = 1
	_, err := s.UpdateHook(t.Context(), h)
	wantErr(t, "UpdateHook", err, store.ErrNotFound)
}

func testStaleUpdateRefused(t *testing.T, s store.Store) {
	ctx := t.Context()
	read := mustCreate(t, s, sampleHook("g", "h"))
	first := read
	first.Definition = []byte(`{"writer":"first"}`)
	if _, err := s.UpdateHook(ctx, first); err != nil {
		t.Fatal(err)
	}
	stale := read
	stale.Definition = []byte(`{"writer":"stale"}`)
	_, err := s.UpdateHook(ctx, stale)
	wantErr(t, "stale UpdateHook", err, store.ErrConflict)
	got, err := s.GetHook(ctx, "g", "h")
	if err != nil {
		t.Fatal(err)
	}
	want := first
	want.Version = 2
	wantSame(t, "hook after the refused stale write", want, got)
}

func testConcurrentUpdatesOneWins(t *testing.T, s store.Store) {
	ctx := t.Context()
	read := mustCreate(t, s, sampleHook("g", "h"))
	const writers = 8
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			h := read
			h.Definition = []byte(fmt.Sprintf(`{"writer":%d}`, i))
			_, err := s.UpdateHook(ctx, h)
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, store.ErrConflict):
				conflicts.Add(1)
			default:
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != writers-1 {
		t.Fatalf("wins=%d conflicts=%d, want 1 and %d", wins.Load(), conflicts.Load(), writers-1)
	}
}

func testDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, sampleHook("g", "h"))
	if err := s.DeleteHook(ctx, "g", "h", 0); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetHook(ctx, "g", "h")
	wantErr(t, "GetHook after delete", err, store.ErrNotFound)
	wantErr(t, "second DeleteHook", s.DeleteHook(ctx, "g", "h", 0), store.ErrNotFound)
	// A deleted hook can be created again from scratch.
	again := mustCreate(t, s, sampleHook("g", "h"))
	want := sampleHook("g", "h")
	want.Version = 1
	wantSame(t, "re-created hook", want, again)
}

func testDeleteVersioned(t *testing.T, s store.Store) {
	ctx := t.Context()
	h := mustCreate(t, s, sampleHook("g", "h"))
	wantErr(t, "DeleteHook with wrong version", s.DeleteHook(ctx, "g", "h", h.Version+1), store.ErrConflict)
	if _, err := s.GetHook(ctx, "g", "h"); err != nil {
		t.Fatalf("hook lost after refused delete: %v", err)
	}
	if err := s.DeleteHook(ctx, "g", "h", h.Version); err != nil {
		t.Fatal(err)
	}
}

func testListHookGroups(t *testing.T, s store.Store) {
	ctx := t.Context()
	groups, _, err := s.ListHookGroups(ctx, store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 0 {
		t.Fatalf("empty store lists groups %v", groups)
	}
	for _, g := range []string{"delta", "alpha", "charlie", "bravo"} {
		for _, id := range []string{"one", "two"} {
			mustCreate(t, s, sampleHook(g, id))
		}
	}
	groups = listAllGroups(t, s, 0)
	want := []string{"alpha", "bravo", "charlie", "delta"}
	if fmt.Sprint(groups) != fmt.Sprint(want) {
		t.Fatalf("groups = %v, want %v", groups, want)
	}
}

func testListHookGroupsAfterDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, sampleHook("keep", "a"))
	mustCreate(t, s, sampleHook("gone", "a"))
	mustCreate(t, s, sampleHook("gone", "b"))
	if err := s.DeleteHook(ctx, "gone", "a", 0); err != nil {
		t.Fatal(err)
	}
	if got := listAllGroups(t, s, 0); fmt.Sprint(got) != "[gone keep]" {
		t.Fatalf("after first delete groups = %v", got)
	}
	if err := s.DeleteHook(ctx, "gone", "b", 0); err != nil {
		t.Fatal(err)
	}
	if got := listAllGroups(t, s, 0); fmt.Sprint(got) != "[keep]" {
		t.Fatalf("after deleting the last hook of a group, groups = %v", got)
	}
	hooks, _, err := s.ListHooks(ctx, "gone", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if len(hooks) != 0 {
		t.Fatalf("emptied group still lists %d hooks", len(hooks))
	}
}

func testListHooksOfGroup(t *testing.T, s store.Store) {
	ctx := t.Context()
	for _, g := range []string{"g1", "g2", "g"} {
		for _, id := range []string{"b", "a", "c/d"} {
			mustCreate(t, s, sampleHook(g, id))
		}
	}
	hooks, next, err := s.ListHooks(ctx, "g1", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if next != "" {
		t.Fatalf("single page returned continuation %q", next)
	}
	var want []store.Hook
	for _, id := range []string{"a", "b", "c/d"} {
		h := sampleHook("g1", id)
		h.Version = 1
		want = append(want, h)
	}
	wantSame(t, "ListHooks(g1), ordered by hookId", want, hooks)
	empty, _, err := s.ListHooks(ctx, "nobody", store.Page{})
	if err != nil || len(empty) != 0 {
		t.Fatalf("unknown group: %v, %d hooks", err, len(empty))
	}
}

func testPagination(t *testing.T, s store.Store) {
	ctx := t.Context()
	var want []string
	for i := range 23 {
		id := fmt.Sprintf("h%02d", i)
		want = append(want, id)
		mustCreate(t, s, sampleHook("paged", id))
		mustCreate(t, s, sampleHook(fmt.Sprintf("group%02d", i), "x"))
	}
	var got []string
	page := store.Page{Limit: 5}
	pages := 0
	for {
		hooks, next, err := s.ListHooks(ctx, "paged", page)
		if err != nil {
			t.Fatal(err)
		}
		if len(hooks) > 5 {
			t.Fatalf("page of %d exceeds limit 5", len(hooks))
		}
		for _, h := range hooks {
			got = append(got, h.HookID)
		}
		pages++
		if next == "" {
			break
		}
		if pages > 10 {
			t.Fatal("pagination does not end")
		}
		page.Token = next
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("paged ids = %v, want %v", got, want)
	}
	groups := listAllGroups(t, s, 4)
	if len(groups) != 24 || !sort.StringsAreSorted(groups) {
		t.Fatalf("paged groups = %v", groups)
	}
}

func testBadToken(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, sampleHook("g", "h"))
	for _, tok := range []string{"garbage!!", "eyJub3QiOiJ0aGlzIn0", "%%%"} {
		_, _, err := s.ListHooks(ctx, "g", store.Page{Token: tok})
		wantErr(t, "ListHooks("+tok+")", err, store.ErrBadToken)
		_, _, err = s.ListHookGroups(ctx, store.Page{Token: tok})
		wantErr(t, "ListHookGroups("+tok+")", err, store.ErrBadToken)
	}
}

func testSlashInHookID(t *testing.T, s store.Store) {
	ctx := t.Context()
	mustCreate(t, s, sampleHook("foo", "bar/slash"))
	mustCreate(t, s, sampleHook("foo", "bar"))
	got, err := s.GetHook(ctx, "foo", "bar/slash")
	if err != nil {
		t.Fatal(err)
	}
	want := sampleHook("foo", "bar/slash")
	want.Version = 1
	wantSame(t, "hook foo/bar/slash", want, got)
	if err := s.DeleteHook(ctx, "foo", "bar", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetHook(ctx, "foo", "bar/slash"); err != nil {
		t.Fatalf("deleting foo/bar touched foo/bar/slash: %v", err)
	}
}

func testScheduleFields(t *testing.T, s store.Store) {
	ctx := t.Context()
	h := sampleHook("g", "scheduled")
	h.NextScheduledDate = epoch.Add(90 * time.Minute)
	created := mustCreate(t, s, h)
	got, err := s.GetHook(ctx, "g", "scheduled")
	if err != nil {
		t.Fatal(err)
	}
	wantSame(t, "scheduled hook", created, got)
	if !got.NextScheduledDate.Equal(epoch.Add(90 * time.Minute)) {
		t.Fatalf("next date = %v", got.NextScheduledDate)
	}
	got.NextScheduledDate = time.Time{}
	cleared, err := s.UpdateHook(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	want := got
	want.Version = 2
	wantSame(t, "UpdateHook's answer after clearing the schedule", want, cleared)
	again, err := s.GetHook(ctx, "g", "scheduled")
	if err != nil {
		t.Fatal(err)
	}
	wantSame(t, "hook after clearing the schedule", want, again)
}

func testClaimOnce(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.Claim{Key: "fire/g/h/task1", Body: []byte(`{"task":1}`), CreatedAt: epoch}
	if err := s.CreateClaim(ctx, c, epoch); err != nil {
		t.Fatal(err)
	}
	dup := c
	dup.Body = []byte(`{"task":2}`)
	wantErr(t, "second CreateClaim", s.CreateClaim(ctx, dup, epoch), store.ErrConflict)
	got, err := s.GetClaim(ctx, c.Key, epoch)
	if err != nil {
		t.Fatal(err)
	}
	wantSame(t, "claim after the refused second claim", c, got)
	_, err = s.GetClaim(ctx, "fire/g/h/other", epoch)
	wantErr(t, "GetClaim missing", err, store.ErrNotFound)
}

func testClaimConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	var wins atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			err := s.CreateClaim(ctx, store.Claim{Key: "race", Body: []byte{byte(i)}, CreatedAt: epoch}, epoch)
			switch {
			case err == nil:
				wins.Add(1)
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("claimer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 {
		t.Fatalf("%d claimers won, want exactly 1", wins.Load())
	}
}

func testClaimExpiry(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.Claim{Key: "email/g/h", Body: []byte("1"), CreatedAt: epoch, ExpiresAt: epoch.Add(12 * time.Hour)}
	requireEveryField(t, c)
	if err := s.CreateClaim(ctx, c, epoch); err != nil {
		t.Fatal(err)
	}
	got, err := s.GetClaim(ctx, c.Key, epoch)
	if err != nil {
		t.Fatal(err)
	}
	wantSame(t, "claim read back", c, got)
	later := epoch.Add(11 * time.Hour)
	wantErr(t, "claim before expiry", s.CreateClaim(ctx, store.Claim{Key: c.Key, Body: []byte("2"), CreatedAt: later}, later), store.ErrConflict)
	after := epoch.Add(13 * time.Hour)
	_, err = s.GetClaim(ctx, c.Key, after)
	wantErr(t, "GetClaim after expiry", err, store.ErrNotFound)
	next := store.Claim{Key: c.Key, Body: []byte("3"), CreatedAt: after, ExpiresAt: after.Add(12 * time.Hour)}
	if err := s.CreateClaim(ctx, next, after); err != nil {
		t.Fatalf("claim after expiry: %v", err)
	}
	got, err = s.GetClaim(ctx, c.Key, after)
	if err != nil {
		t.Fatal(err)
	}
	wantSame(t, "renewed claim", next, got)
}

func testClaimDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.DeleteClaim(ctx, "never"); err != nil {
		t.Fatalf("deleting a missing claim: %v", err)
	}
	if err := s.CreateClaim(ctx, store.Claim{Key: "k", Body: []byte("x"), CreatedAt: epoch}, epoch); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteClaim(ctx, "k"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateClaim(ctx, store.Claim{Key: "k", Body: []byte("y"), CreatedAt: epoch}, epoch); err != nil {
		t.Fatalf("claim after delete: %v", err)
	}
}

func testClaimReplace(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.Claim{Key: "fire/g/h/task1", Body: []byte(`{"created":"old"}`), CreatedAt: epoch, ExpiresAt: epoch.Add(30 * time.Hour)}
	if err := s.CreateClaim(ctx, c, epoch); err != nil {
		t.Fatal(err)
	}
	later := epoch.Add(2 * time.Hour)
	next := store.Claim{Key: c.Key, Body: []byte(`{"created":"new"}`), CreatedAt: epoch, ExpiresAt: later.Add(30 * time.Hour)}
	requireEveryField(t, next)
	wantErr(t, "ReplaceClaim with a body that is not the stored one", s.ReplaceClaim(ctx, next, []byte(`{"created":"other"}`), later), store.ErrConflict)
	got, err := s.GetClaim(ctx, c.Key, later)
	if err != nil {
		t.Fatal(err)
	}
	wantSame(t, "claim after a refused replace", c, got)

	if err := s.ReplaceClaim(ctx, next, c.Body, later); err != nil {
		t.Fatalf("ReplaceClaim: %v", err)
	}
	if got, err = s.GetClaim(ctx, c.Key, later); err != nil {
		t.Fatal(err)
	}
	wantSame(t, "replaced claim", next, got)
	// The old body no longer matches: a second replace from the same read
	// is refused.
	wantErr(t, "ReplaceClaim from a stale read", s.ReplaceClaim(ctx, store.Claim{Key: c.Key, Body: []byte("3"), CreatedAt: later}, c.Body, later), store.ErrConflict)

	wantErr(t, "ReplaceClaim of a missing claim", s.ReplaceClaim(ctx, store.Claim{Key: "fire/g/h/none", Body: []byte("x"), CreatedAt: later}, []byte("x"), later), store.ErrConflict)
	if _, err := s.GetClaim(ctx, "fire/g/h/none", later); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused replace of a missing claim wrote one: %v", err)
	}
	expired := store.Claim{Key: "email/g/h", Body: []byte("1"), CreatedAt: epoch, ExpiresAt: epoch.Add(time.Hour)}
	if err := s.CreateClaim(ctx, expired, epoch); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "ReplaceClaim of an expired claim", s.ReplaceClaim(ctx, store.Claim{Key: expired.Key, Body: []byte("2"), CreatedAt: later}, expired.Body, later), store.ErrConflict)
	if err := s.CreateClaim(ctx, store.Claim{Key: "bodiless", CreatedAt: epoch}, epoch); err != nil {
		t.Fatal(err)
	}
	if err := s.ReplaceClaim(ctx, store.Claim{Key: "bodiless", Body: []byte("b"), CreatedAt: epoch}, nil, later); err != nil {
		t.Fatalf("ReplaceClaim of a claim without a body: %v", err)
	}
	wantErr(t, "ReplaceClaim expecting no body", s.ReplaceClaim(ctx, store.Claim{Key: "bodiless", CreatedAt: epoch}, nil, later), store.ErrConflict)
}

// Concurrent replaces from one read: exactly one wins, and the claim holds
// its body.
func testClaimReplaceConcurrent(t *testing.T, s store.Store) {
	ctx := t.Context()
	c := store.Claim{Key: "race", Body: []byte("read"), CreatedAt: epoch}
	if err := s.CreateClaim(ctx, c, epoch); err != nil {
		t.Fatal(err)
	}
	var winner atomic.Int32
	winner.Store(-1)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			err := s.ReplaceClaim(ctx, store.Claim{Key: c.Key, Body: []byte{byte(i)}, CreatedAt: epoch}, c.Body, epoch)
			switch {
			case err == nil:
				if !winner.CompareAndSwap(-1, int32(i)) {
					t.Errorf("replacer %d won after replacer %d", i, winner.Load())
				}
			case !errors.Is(err, store.ErrConflict):
				t.Errorf("replacer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	w := winner.Load()
	if w < 0 {
		t.Fatal("no replacer won")
	}
	got, err := s.GetClaim(ctx, c.Key, epoch)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Body, []byte{byte(w)}) {
		t.Errorf("claim body = %v, want the winner's %v", got.Body, []byte{byte(w)})
	}
}

func listAllGroups(t *testing.T, s store.Store, limit int) []string {
	t.Helper()
	var all []string
	page := store.Page{Limit: limit}
	for range 100 {
		groups, next, err := s.ListHookGroups(t.Context(), page)
		if err != nil {
			t.Fatal(err)
		}
		if limit > 0 && len(groups) > limit {
			t.Fatalf("page of %d groups exceeds limit %d", len(groups), limit)
		}
		all = append(all, groups...)
		if next == "" {
			return all
		}
		page.Token = next
	}
	t.Fatal("group pagination does not end")
	return nil
}

func scheduled(group, id string, at time.Time) store.Hook {
	h := sampleHook(group, id)
	h.NextScheduledDate = at
	return h
}

// dueIDs lists the hooks due at now and returns their ids, after checking
// that each listed hook is the whole record GetHook returns.
func dueIDs(t *testing.T, s store.Store, now time.Time, limit int) []string {
	t.Helper()
	hooks, err := s.ListDue(t.Context(), now, limit)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, h := range hooks {
		stored, err := s.GetHook(t.Context(), h.HookGroupID, h.HookID)
		if err != nil {
			t.Fatal(err)
		}
		wantSame(t, "due hook", stored, h)
		ids = append(ids, h.HookGroupID+"/"+h.HookID)
	}
	return ids
}

func testDueIndex(t *testing.T, s store.Store) {
	mustCreate(t, s, scheduled("g", "later", epoch.Add(2*time.Hour)))
	mustCreate(t, s, scheduled("g", "first", epoch.Add(-2*time.Hour)))
	mustCreate(t, s, scheduled("h", "second", epoch.Add(-time.Hour)))
	mustCreate(t, s, scheduled("g", "exactly-now", epoch))
	mustCreate(t, s, sampleHook("g", "unscheduled"))
	if got := fmt.Sprint(dueIDs(t, s, epoch, 0)); got != "[g/first h/second]" {
		t.Fatalf("due at epoch = %s (due means strictly before now, oldest first)", got)
	}
	if got := fmt.Sprint(dueIDs(t, s, epoch, 1)); got != "[g/first]" {
		t.Fatalf("limit 1 = %s", got)
	}
	if got := fmt.Sprint(dueIDs(t, s, epoch.Add(3*time.Hour), 0)); got != "[g/first h/second g/exactly-now g/later]" {
		t.Fatalf("due later = %s", got)
	}
}

func testDueFollowsChanges(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := mustCreate(t, s, scheduled("g", "a", epoch.Add(-time.Minute)))
	mustCreate(t, s, scheduled("g", "b", epoch.Add(-time.Minute)))
	// Advancing a hook past now takes it out of the due list.
	a.NextScheduledDate = epoch.Add(time.Hour)
	a.NextTaskID = "next"
	if _, err := s.UpdateHook(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(dueIDs(t, s, epoch, 0)); got != "[g/b]" {
		t.Fatalf("after advancing a: %s", got)
	}
	// A refused (stale) update must not touch the index either.
	stale := a
	stale.NextScheduledDate = epoch.Add(-time.Hour)
	if _, err := s.UpdateHook(ctx, stale); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("stale update: %v", err)
	}
	if got := fmt.Sprint(dueIDs(t, s, epoch, 0)); got != "[g/b]" {
		t.Fatalf("after refused update: %s", got)
	}
	if err := s.DeleteHook(ctx, "g", "b", 0); err != nil {
		t.Fatal(err)
	}
	if got := dueIDs(t, s, epoch.Add(24*time.Hour), 0); fmt.Sprint(got) != "[g/a]" {
		t.Fatalf("after delete: %v", got)
	}
}

// testDueFireTime: a jittered hook is due at its fire time
// (NextScheduledDate), not at its slot, and keeps both through updates.
func testDueFireTime(t *testing.T, s store.Store) {
	ctx := t.Context()
	h := scheduled("g", "jittered", epoch.Add(7*time.Minute))
	h.NextSlot, h.ScheduleKey = epoch, "key"
	created := mustCreate(t, s, h)
	mustCreate(t, s, scheduled("g", "plain", epoch.Add(time.Minute)))
	if got := fmt.Sprint(dueIDs(t, s, epoch.Add(5*time.Minute), 0)); got != "[g/plain]" {
		t.Fatalf("due between the slot and the fire time: %s", got)
	}
	if got := fmt.Sprint(dueIDs(t, s, epoch.Add(8*time.Minute), 0)); got != "[g/plain g/jittered]" {
		t.Fatalf("due after the fire time: %s", got)
	}
	// Advancing to an unjittered slot clears NextSlot.
	created.NextScheduledDate, created.NextSlot = epoch.Add(time.Hour), time.Time{}
	updated, err := s.UpdateHook(ctx, created)
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.GetHook(ctx, "g", "jittered")
	if err != nil {
		t.Fatal(err)
	}
	wantSame(t, "hook advanced past its jittered slot", updated, got)
	if got := fmt.Sprint(dueIDs(t, s, epoch.Add(8*time.Minute), 0)); got != "[g/plain]" {
		t.Fatalf("due after advancing: %s", got)
	}
}

func fire(group, id, taskID string, at time.Time, result string) store.LastFire {
	return store.LastFire{HookGroupID: group, HookID: id, FiredBy: "triggerHook", TaskID: taskID,
		TaskCreateTime: at, Result: result, ExpiresAt: at.Add(365 * 24 * time.Hour)}
}

func mustPutFire(t *testing.T, s store.Store, f store.LastFire) {
	t.Helper()
	if err := s.PutLastFire(t.Context(), f); err != nil {
		t.Fatalf("PutLastFire(%s/%s %s): %v", f.HookGroupID, f.HookID, f.TaskID, err)
	}
}

func listFires(t *testing.T, s store.Store, group, id string, p store.Page) ([]store.LastFire, string) {
	t.Helper()
	fires, next, err := s.ListLastFires(t.Context(), group, id, p)
	if err != nil {
		t.Fatal(err)
	}
	return fires, next
}

// allFireIDs pages through a hook's fire records, limit at a time, and
// returns their taskIds in the order listed.
func allFireIDs(t *testing.T, s store.Store, group, id string, limit int) []string {
	t.Helper()
	var ids []string
	page := store.Page{Limit: limit}
	for range 100 {
		fires, next := listFires(t, s, group, id, page)
		for _, f := range fires {
			ids = append(ids, f.TaskID)
		}
		if next == "" {
			return ids
		}
		page.Token = next
	}
	t.Fatalf("listing fires of %s/%s did not end after 100 pages", group, id)
	return nil
}

func testLastFires(t *testing.T, s store.Store) {
	ctx := t.Context()
	if fires, _ := listFires(t, s, "g", "h", store.Page{}); len(fires) != 0 {
		t.Fatalf("no fires yet, got %d", len(fires))
	}
	bad := fire("g", "h", "t2", epoch.Add(time.Minute), "error")
	bad.Error = `{"message":"uhoh"}`
	bad.DecisionID = decisionID(epoch, "zz")
	bad.TaskState, bad.TaskReason, bad.TaskRunID, bad.TaskResolved = "exception", "deadline-exceeded", 2, epoch.Add(time.Hour)
	bad.CheckAt, bad.Checks = epoch.Add(2*time.Hour), 3
	requireEveryField(t, bad, "KeepAtMost")
	first, last := fire("g", "h", "t1", epoch, "success"), fire("g", "h", "t3", epoch.Add(2*time.Minute), "success")
	for _, f := range []store.LastFire{first, bad, last, fire("g", "other", "t9", epoch, "success"), fire("g", "h/x", "t8", epoch, "success")} {
		if err := s.PutLastFire(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	fires, next := listFires(t, s, "g", "h", store.Page{})
	if next != "" {
		t.Fatalf("one page of 3 fires has a continuation %q", next)
	}
	wantSame(t, "fires of g/h, newest first", []store.LastFire{last, bad, first}, fires)
}

func testLastFireUpsert(t *testing.T, s store.Store) {
	ctx := t.Context()
	first := fire("g", "h", "t1", epoch, "error")
	first.Error = "queue said 500"
	if err := s.PutLastFire(ctx, first); err != nil {
		t.Fatal(err)
	}
	retried := fire("g", "h", "t1", epoch, "success")
	if err := s.PutLastFire(ctx, retried); err != nil {
		t.Fatal(err)
	}
	fires, _ := listFires(t, s, "g", "h", store.Page{})
	wantSame(t, "fires after the retried fire", []store.LastFire{retried}, fires)
}

func testLastFiresPagination(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 7 {
		if err := s.PutLastFire(ctx, fire("g", "h", fmt.Sprintf("t%d", i), epoch.Add(time.Duration(i)*time.Second), "success")); err != nil {
			t.Fatal(err)
		}
	}
	if ids := allFireIDs(t, s, "g", "h", 3); fmt.Sprint(ids) != "[t6 t5 t4 t3 t2 t1 t0]" {
		t.Fatalf("paged fires = %v", ids)
	}
	_, _, err := s.ListLastFires(ctx, "g", "h", store.Page{Token: "garbage!!"})
	wantErr(t, "bad token", err, store.ErrBadToken)
	// A token of one hook's listing cannot be used for another's.
	_, tok := listFires(t, s, "g", "h", store.Page{Limit: 1})
	_, _, err = s.ListLastFires(ctx, "g", "other", store.Page{Token: tok})
	wantErr(t, "token of another hook", err, store.ErrBadToken)
}

func testDeleteLastFires(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 3 {
		mustPutFire(t, s, fire("g", "h", fmt.Sprintf("t%d", i), epoch.Add(time.Duration(i)*time.Second), "success"))
	}
	mustPutFire(t, s, fire("g", "h2", "keep", epoch, "success"))
	mustPutFire(t, s, fire("g", "h/sub", "keep-too", epoch, "success"))
	if err := s.DeleteLastFires(ctx, "g", "h"); err != nil {
		t.Fatal(err)
	}
	if fires, _ := listFires(t, s, "g", "h", store.Page{}); len(fires) != 0 {
		t.Fatalf("fires left: %+v", fires)
	}
	if fires, _ := listFires(t, s, "g", "h2", store.Page{}); len(fires) != 1 {
		t.Fatal("deleting one hook's fires touched another's")
	}
	if fires, _ := listFires(t, s, "g", "h/sub", store.Page{}); len(fires) != 1 {
		t.Fatal("deleting g/h's fires touched g/h/sub's")
	}
}

func getSettings(t *testing.T, s store.Store, group, id string) store.Settings {
	t.Helper()
	got, err := s.GetSettings(t.Context(), group, id)
	if err != nil {
		t.Fatalf("GetSettings(%s/%s): %v", group, id, err)
	}
	return got
}

func testSettingsGetMissing(t *testing.T, s store.Store) {
	_, err := s.GetSettings(t.Context(), "g", "missing")
	wantErr(t, "GetSettings", err, store.ErrNotFound)
	// A hook without settings has none either.
	mustCreate(t, s, sampleHook("g", "h"))
	_, err = s.GetSettings(t.Context(), "g", "h")
	wantErr(t, "GetSettings of a hook without settings", err, store.ErrNotFound)
}

func testSettingsPutGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	sample := store.Settings{HookGroupID: "g", HookID: "a/b", Body: []byte(`{"webhook":{"scheme":"github"}}`)}
	requireEveryField(t, sample, "Version")
	first, err := s.PutSettings(ctx, sample)
	if err != nil {
		t.Fatal(err)
	}
	want := sample
	want.Version = 1
	wantSame(t, "first PutSettings' answer", want, first)
	wantSame(t, "settings read back", want, getSettings(t, s, "g", "a/b"))
	first.Body = []byte(`{"webhook":{"scheme":"hookline"}}`)
	second, err := s.PutSettings(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	want = first
	want.Version = 2
	wantSame(t, "second PutSettings' answer", want, second)
	wantSame(t, "settings read back after the second put", want, getSettings(t, s, "g", "a/b"))
	// Records of other hooks, and of ids that share a prefix, are apart.
	for _, other := range [][2]string{{"g", "a"}, {"g", "a/b/c"}, {"g/a", "b"}, {"ga", "/b"}} {
		_, err := s.GetSettings(ctx, other[0], other[1])
		wantErr(t, "GetSettings("+other[0]+", "+other[1]+")", err, store.ErrNotFound)
	}
}

func testSettingsStalePut(t *testing.T, s store.Store) {
	ctx := t.Context()
	v1, err := s.PutSettings(ctx, store.Settings{HookGroupID: "g", HookID: "h", Body: []byte(`{"n":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	// A second first put (version 0) finds the record.
	_, err = s.PutSettings(ctx, store.Settings{HookGroupID: "g", HookID: "h", Body: []byte(`{"n":"again"}`)})
	wantErr(t, "PutSettings with version 0 over a record", err, store.ErrConflict)
	v2 := v1
	v2.Body = []byte(`{"n":2}`)
	if v2, err = s.PutSettings(ctx, v2); err != nil {
		t.Fatal(err)
	}
	stale := v1
	stale.Body = []byte(`{"n":"stale"}`)
	_, err = s.PutSettings(ctx, stale)
	wantErr(t, "stale PutSettings", err, store.ErrConflict)
	ahead := v2
	ahead.Version = 7
	_, err = s.PutSettings(ctx, ahead)
	wantErr(t, "PutSettings with a version never stored", err, store.ErrConflict)
	wantSame(t, "settings after the refused puts", v2, getSettings(t, s, "g", "h"))
	// A put expecting a version of a record that is gone is refused too.
	if err := s.DeleteSettings(ctx, "g", "h"); err != nil {
		t.Fatal(err)
	}
	_, err = s.PutSettings(ctx, v2)
	wantErr(t, "PutSettings of a deleted record", err, store.ErrConflict)
	_, err = s.GetSettings(ctx, "g", "h")
	wantErr(t, "GetSettings after refused put", err, store.ErrNotFound)
}

func testSettingsConcurrentFirstPuts(t *testing.T, s store.Store) {
	const writers = 8
	var wins, conflicts atomic.Int32
	var wg sync.WaitGroup
	for i := range writers {
		wg.Go(func() {
			_, err := s.PutSettings(t.Context(), store.Settings{HookGroupID: "g", HookID: "h", Body: []byte(fmt.Sprintf(`{"writer":%d}`, i))})
			switch {
			case err == nil:
				wins.Add(1)
			case errors.Is(err, store.ErrConflict):
				conflicts.Add(1)
			default:
				t.Errorf("writer %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != writers-1 {
		t.Fatalf("%d first puts won and %d conflicted, want 1 and %d", wins.Load(), conflicts.Load(), writers-1)
	}
	if got := getSettings(t, s, "g", "h"); got.Version != 1 {
		t.Fatalf("version %d after one winning put, want 1", got.Version)
	}
}

func testSettingsDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	if err := s.DeleteSettings(ctx, "g", "never"); err != nil {
		t.Fatalf("deleting missing settings: %v", err)
	}
	for _, id := range []string{"h", "other"} {
		if _, err := s.PutSettings(ctx, store.Settings{HookGroupID: "g", HookID: id, Body: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteSettings(ctx, "g", "h"); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetSettings(ctx, "g", "h")
	wantErr(t, "GetSettings after delete", err, store.ErrNotFound)
	getSettings(t, s, "g", "other")
	// A record put after a delete starts again at version 1.
	again, err := s.PutSettings(ctx, store.Settings{HookGroupID: "g", HookID: "h", Body: []byte(`{"again":true}`)})
	if err != nil {
		t.Fatal(err)
	}
	wantSame(t, "settings put after a delete", store.Settings{HookGroupID: "g", HookID: "h", Body: []byte(`{"again":true}`), Version: 1}, again)
}

// A call whose context is done fails with the context's error, which is
// none of the store's kinds (a canceled read must not pass for a missing
// hook), and a refused write leaves nothing behind.
func testCanceledContext(t *testing.T, s store.Store) {
	mustCreate(t, s, sampleHook("g", "there"))
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	wantCanceled := func(what string, err error) {
		t.Helper()
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("%s with a canceled context: got %v, want context.Canceled", what, err)
		}
		for _, kind := range errorKinds {
			if errors.Is(err, kind) {
				t.Fatalf("%s with a canceled context: %v is %v", what, err, kind)
			}
		}
	}
	_, err := s.CreateHook(ctx, sampleHook("g", "h"))
	wantCanceled("CreateHook", err)
	_, err = s.GetHook(ctx, "g", "there")
	wantCanceled("GetHook of a stored hook", err)
	_, err = s.GetHook(ctx, "g", "missing")
	wantCanceled("GetHook of a missing hook", err)
	wantCanceled("CreateClaim", s.CreateClaim(ctx, store.Claim{Key: "k", Body: []byte("x"), CreatedAt: epoch}, epoch))
	_, err = s.PutSettings(ctx, store.Settings{HookGroupID: "g", HookID: "h", Body: []byte(`{}`)})
	wantCanceled("PutSettings", err)

	_, err = s.GetHook(t.Context(), "g", "h")
	wantErr(t, "GetHook of the hook a canceled CreateHook was given", err, store.ErrNotFound)
	_, err = s.GetClaim(t.Context(), "k", epoch)
	wantErr(t, "GetClaim of the claim a canceled CreateClaim was given", err, store.ErrNotFound)
	_, err = s.GetSettings(t.Context(), "g", "h")
	wantErr(t, "GetSettings of the record a canceled PutSettings was given", err, store.ErrNotFound)
}
