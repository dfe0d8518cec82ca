// Package storetest is the conformance suite every store.Store backend must
// pass, and the benchmarks every backend reports.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/store"
)

// NewStore returns an empty store isolated from every other call, and
// registers its own cleanup on tb.
type NewStore func(tb testing.TB) store.Store

// Run checks that a backend honours the store.Store contract.
func Run(t *testing.T, newStore NewStore) {
	t.Helper()
	for _, tc := range []struct {
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
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore(t))
		})
	}
}

var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// sampleHook returns a hook with every field set.
func sampleHook(group, id string) store.Hook {
	return store.Hook{
		HookGroupID:  group,
		HookID:       id,
		Definition:   []byte(fmt.Sprintf(`{"hookGroupId":%q,"hookId":%q,"metadata":{"name":"n"}}`, group, id)),
		TriggerToken: "token-" + id,
		NextTaskID:   "task-" + id,
	}
}

func mustCreate(t *testing.T, s store.Store, h store.Hook) store.Hook {
	t.Helper()
	got, err := s.CreateHook(context.Background(), h)
	if err != nil {
		t.Fatalf("CreateHook(%s/%s): %v", h.HookGroupID, h.HookID, err)
	}
	return got
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

func sameHook(t *testing.T, want, got store.Hook) {
	t.Helper()
	if want.HookGroupID != got.HookGroupID || want.HookID != got.HookID ||
		string(want.Definition) != string(got.Definition) ||
		want.TriggerToken != got.TriggerToken || want.NextTaskID != got.NextTaskID ||
		!want.NextScheduledDate.Equal(got.NextScheduledDate) || want.Version != got.Version {
		t.Fatalf("hook differs:\nwant %+v\n got %+v", want, got)
	}
}

func testGetMissing(t *testing.T, s store.Store) {
	_, err := s.GetHook(context.Background(), "g", "missing")
	wantErr(t, "GetHook", err, store.ErrNotFound)
}

func testCreateGet(t *testing.T, s store.Store) {
	h := sampleHook("g", "h")
	created := mustCreate(t, s, h)
	if created.Version != 1 {
		t.Fatalf("created version = %d, want 1", created.Version)
	}
	got, err := s.GetHook(context.Background(), "g", "h")
	if err != nil {
		t.Fatal(err)
	}
	h.Version = 1
	sameHook(t, h, got)
}

func testCreateExisting(t *testing.T, s store.Store) {
	first := mustCreate(t, s, sampleHook("g", "h"))
	second := sampleHook("g", "h")
	second.Definition = []byte(`{"other":true}`)
	_, err := s.CreateHook(context.Background(), second)
	wantErr(t, "second CreateHook", err, store.ErrConflict)
	got, err := s.GetHook(context.Background(), "g", "h")
	if err != nil {
		t.Fatal(err)
	}
	sameHook(t, first, got)
}

func testUpdateVersioned(t *testing.T, s store.Store) {
	ctx := context.Background()
	h := mustCreate(t, s, sampleHook("g", "h"))
	h.Definition = []byte(`{"changed":1}`)
	h.TriggerToken = "new-token"
	updated, err := s.UpdateHook(ctx, h)
	if err != nil {
		t.Fatal(err)
	}
	if updated.Version != 2 {
		t.Fatalf("version after update = %d, want 2", updated.Version)
	}
	got, err := s.GetHook(ctx, "g", "h")
	if err != nil {
		t.Fatal(err)
	}
	sameHook(t, updated, got)
}

func testUpdateMissing(t *testing.T, s store.Store) {
	h := sampleHook("g", "nope")
	h.Version = 1
	_, err := s.UpdateHook(context.Background(), h)
	wantErr(t, "UpdateHook", err, store.ErrNotFound)
}

func testStaleUpdateRefused(t *testing.T, s store.Store) {
	ctx := context.Background()
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
	if string(got.Definition) != `{"writer":"first"}` || got.Version != 2 {
		t.Fatalf("stale write was not refused cleanly: %s v%d", got.Definition, got.Version)
	}
}

func testConcurrentUpdatesOneWins(t *testing.T, s store.Store) {
	ctx := context.Background()
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
	ctx := context.Background()
	mustCreate(t, s, sampleHook("g", "h"))
	if err := s.DeleteHook(ctx, "g", "h", 0); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetHook(ctx, "g", "h")
	wantErr(t, "GetHook after delete", err, store.ErrNotFound)
	wantErr(t, "second DeleteHook", s.DeleteHook(ctx, "g", "h", 0), store.ErrNotFound)
	// A deleted hook can be created again from scratch.
	again := mustCreate(t, s, sampleHook("g", "h"))
	if again.Version != 1 {
		t.Fatalf("re-created version = %d, want 1", again.Version)
	}
}

func testDeleteVersioned(t *testing.T, s store.Store) {
	ctx := context.Background()
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
	ctx := context.Background()
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
	ctx := context.Background()
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
	ctx := context.Background()
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
	var ids []string
	for _, h := range hooks {
		if h.HookGroupID != "g1" {
			t.Fatalf("ListHooks(g1) returned a hook of group %q", h.HookGroupID)
		}
		if h.Version != 1 || h.TriggerToken == "" {
			t.Fatalf("listed hook lacks system fields: %+v", h)
		}
		ids = append(ids, h.HookID)
	}
	if fmt.Sprint(ids) != "[a b c/d]" {
		t.Fatalf("ids = %v, want [a b c/d]", ids)
	}
	empty, _, err := s.ListHooks(ctx, "nobody", store.Page{})
	if err != nil || len(empty) != 0 {
		t.Fatalf("unknown group: %v, %d hooks", err, len(empty))
	}
}

func testPagination(t *testing.T, s store.Store) {
	ctx := context.Background()
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
	ctx := context.Background()
	mustCreate(t, s, sampleHook("g", "h"))
	for _, tok := range []string{"garbage!!", "eyJub3QiOiJ0aGlzIn0", "%%%"} {
		_, _, err := s.ListHooks(ctx, "g", store.Page{Token: tok})
		wantErr(t, "ListHooks("+tok+")", err, store.ErrBadToken)
		_, _, err = s.ListHookGroups(ctx, store.Page{Token: tok})
		wantErr(t, "ListHookGroups("+tok+")", err, store.ErrBadToken)
	}
}

func testSlashInHookID(t *testing.T, s store.Store) {
	ctx := context.Background()
	mustCreate(t, s, sampleHook("foo", "bar/slash"))
	mustCreate(t, s, sampleHook("foo", "bar"))
	got, err := s.GetHook(ctx, "foo", "bar/slash")
	if err != nil {
		t.Fatal(err)
	}
	if got.HookID != "bar/slash" {
		t.Fatalf("hookId = %q", got.HookID)
	}
	if err := s.DeleteHook(ctx, "foo", "bar", 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetHook(ctx, "foo", "bar/slash"); err != nil {
		t.Fatalf("deleting foo/bar touched foo/bar/slash: %v", err)
	}
}

func testScheduleFields(t *testing.T, s store.Store) {
	ctx := context.Background()
	h := sampleHook("g", "scheduled")
	h.NextScheduledDate = epoch.Add(90 * time.Minute)
	created := mustCreate(t, s, h)
	got, err := s.GetHook(ctx, "g", "scheduled")
	if err != nil {
		t.Fatal(err)
	}
	sameHook(t, created, got)
	if !got.NextScheduledDate.Equal(epoch.Add(90 * time.Minute)) {
		t.Fatalf("next date = %v", got.NextScheduledDate)
	}
	got.NextScheduledDate = time.Time{}
	cleared, err := s.UpdateHook(ctx, got)
	if err != nil {
		t.Fatal(err)
	}
	if !cleared.NextScheduledDate.IsZero() {
		t.Fatalf("cleared next date = %v", cleared.NextScheduledDate)
	}
	again, err := s.GetHook(ctx, "g", "scheduled")
	if err != nil {
		t.Fatal(err)
	}
	if !again.NextScheduledDate.IsZero() {
		t.Fatalf("stored next date after clear = %v", again.NextScheduledDate)
	}
}

func testClaimOnce(t *testing.T, s store.Store) {
	ctx := context.Background()
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
	if string(got.Body) != `{"task":1}` || !got.CreatedAt.Equal(epoch) || got.Key != c.Key {
		t.Fatalf("claim = %+v", got)
	}
	_, err = s.GetClaim(ctx, "fire/g/h/other", epoch)
	wantErr(t, "GetClaim missing", err, store.ErrNotFound)
}

func testClaimConcurrent(t *testing.T, s store.Store) {
	ctx := context.Background()
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
	ctx := context.Background()
	c := store.Claim{Key: "email/g/h", Body: []byte("1"), CreatedAt: epoch, ExpiresAt: epoch.Add(12 * time.Hour)}
	if err := s.CreateClaim(ctx, c, epoch); err != nil {
		t.Fatal(err)
	}
	later := epoch.Add(11 * time.Hour)
	wantErr(t, "claim before expiry", s.CreateClaim(ctx, store.Claim{Key: c.Key, Body: []byte("2"), CreatedAt: later}, later), store.ErrConflict)
	after := epoch.Add(13 * time.Hour)
	_, err := s.GetClaim(ctx, c.Key, after)
	wantErr(t, "GetClaim after expiry", err, store.ErrNotFound)
	next := store.Claim{Key: c.Key, Body: []byte("3"), CreatedAt: after, ExpiresAt: after.Add(12 * time.Hour)}
	if err := s.CreateClaim(ctx, next, after); err != nil {
		t.Fatalf("claim after expiry: %v", err)
	}
	got, err := s.GetClaim(ctx, c.Key, after)
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Body) != "3" || !got.ExpiresAt.Equal(after.Add(12*time.Hour)) {
		t.Fatalf("renewed claim = %+v", got)
	}
}

func testClaimDelete(t *testing.T, s store.Store) {
	ctx := context.Background()
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

func listAllGroups(t *testing.T, s store.Store, limit int) []string {
	t.Helper()
	var all []string
	page := store.Page{Limit: limit}
	for range 100 {
		groups, next, err := s.ListHookGroups(context.Background(), page)
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
