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
		{"DueIndex", testDueIndex},
		{"DueIndexFollowsUpdatesAndDeletes", testDueFollowsChanges},
		{"LastFires", testLastFires},
		{"LastFireUpsert", testLastFireUpsert},
		{"LastFiresPagination", testLastFiresPagination},
		{"DeleteLastFires", testDeleteLastFires},
		{"SettingsGetMissing", testSettingsGetMissing},
		{"SettingsPutGet", testSettingsPutGet},
		{"SettingsStalePutRefused", testSettingsStalePut},
		{"SettingsConcurrentFirstPutsOneWins", testSettingsConcurrentFirstPuts},
		{"SettingsDelete", testSettingsDelete},
	}
	for _, tc := range append(cases, decisionCases...) {
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

func scheduled(group, id string, at time.Time) store.Hook {
	h := sampleHook(group, id)
	h.NextScheduledDate = at
	return h
}

func dueIDs(t *testing.T, s store.Store, now time.Time, limit int) []string {
	t.Helper()
	hooks, err := s.ListDue(context.Background(), now, limit)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{}
	for _, h := range hooks {
		if h.TriggerToken == "" || h.Version == 0 || len(h.Definition) == 0 {
			t.Fatalf("due hook lacks fields: %+v", h)
		}
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
	ctx := context.Background()
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

func fire(group, id, taskID string, at time.Time, result string) store.LastFire {
	return store.LastFire{HookGroupID: group, HookID: id, FiredBy: "triggerHook", TaskID: taskID,
		TaskCreateTime: at, Result: result, ExpiresAt: at.Add(365 * 24 * time.Hour)}
}

func listFires(t *testing.T, s store.Store, group, id string, p store.Page) ([]store.LastFire, string) {
	t.Helper()
	fires, next, err := s.ListLastFires(context.Background(), group, id, p)
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
	ctx := context.Background()
	if fires, _ := listFires(t, s, "g", "h", store.Page{}); len(fires) != 0 {
		t.Fatalf("no fires yet, got %d", len(fires))
	}
	bad := fire("g", "h", "t2", epoch.Add(time.Minute), "error")
	bad.Error = `{"message":"uhoh"}`
	for _, f := range []store.LastFire{fire("g", "h", "t1", epoch, "success"), bad, fire("g", "h", "t3", epoch.Add(2*time.Minute), "success"), fire("g", "other", "t9", epoch, "success"), fire("g", "h/x", "t8", epoch, "success")} {
		if err := s.PutLastFire(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	fires, next := listFires(t, s, "g", "h", store.Page{})
	if next != "" || len(fires) != 3 {
		t.Fatalf("got %d fires, next %q", len(fires), next)
	}
	for i, want := range []string{"t3", "t2", "t1"} {
		if fires[i].TaskID != want {
			t.Fatalf("fire %d = %s, want %s (newest first)", i, fires[i].TaskID, want)
		}
	}
	got := fires[1]
	if got.Result != "error" || got.Error != `{"message":"uhoh"}` || got.FiredBy != "triggerHook" || got.HookGroupID != "g" || got.HookID != "h" ||
		!got.TaskCreateTime.Equal(epoch.Add(time.Minute)) || !got.ExpiresAt.Equal(bad.ExpiresAt) {
		t.Fatalf("record = %+v", got)
	}
}

func testLastFireUpsert(t *testing.T, s store.Store) {
	ctx := context.Background()
	first := fire("g", "h", "t1", epoch, "error")
	first.Error = "queue said 500"
	if err := s.PutLastFire(ctx, first); err != nil {
		t.Fatal(err)
	}
	if err := s.PutLastFire(ctx, fire("g", "h", "t1", epoch, "success")); err != nil {
		t.Fatal(err)
	}
	fires, _ := listFires(t, s, "g", "h", store.Page{})
	if len(fires) != 1 || fires[0].Result != "success" || fires[0].Error != "" {
		t.Fatalf("retried fire not replaced: %+v", fires)
	}
}

func testLastFiresPagination(t *testing.T, s store.Store) {
	ctx := context.Background()
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
	ctx := context.Background()
	for i := range 3 {
		s.PutLastFire(ctx, fire("g", "h", fmt.Sprintf("t%d", i), epoch.Add(time.Duration(i)*time.Second), "success"))
	}
	s.PutLastFire(ctx, fire("g", "h2", "keep", epoch, "success"))
	s.PutLastFire(ctx, fire("g", "h/sub", "keep-too", epoch, "success"))
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
	got, err := s.GetSettings(context.Background(), group, id)
	if err != nil {
		t.Fatalf("GetSettings(%s/%s): %v", group, id, err)
	}
	return got
}

func sameSettings(t *testing.T, want, got store.Settings) {
	t.Helper()
	if want.HookGroupID != got.HookGroupID || want.HookID != got.HookID || string(want.Body) != string(got.Body) || want.Version != got.Version {
		t.Fatalf("settings differ:\nwant %+v (%s)\n got %+v (%s)", want, want.Body, got, got.Body)
	}
}

func testSettingsGetMissing(t *testing.T, s store.Store) {
	_, err := s.GetSettings(context.Background(), "g", "missing")
	wantErr(t, "GetSettings", err, store.ErrNotFound)
	// A hook without settings has none either.
	mustCreate(t, s, sampleHook("g", "h"))
	_, err = s.GetSettings(context.Background(), "g", "h")
	wantErr(t, "GetSettings of a hook without settings", err, store.ErrNotFound)
}

func testSettingsPutGet(t *testing.T, s store.Store) {
	ctx := context.Background()
	first, err := s.PutSettings(ctx, store.Settings{HookGroupID: "g", HookID: "a/b", Body: []byte(`{"webhook":{"scheme":"github"}}`)})
	if err != nil {
		t.Fatal(err)
	}
	if first.Version != 1 {
		t.Fatalf("first put: version %d, want 1", first.Version)
	}
	sameSettings(t, first, getSettings(t, s, "g", "a/b"))
	first.Body = []byte(`{"webhook":{"scheme":"hookline"}}`)
	second, err := s.PutSettings(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	if second.Version != 2 {
		t.Fatalf("second put: version %d, want 2", second.Version)
	}
	sameSettings(t, second, getSettings(t, s, "g", "a/b"))
	// Records of other hooks, and of ids that share a prefix, are apart.
	for _, other := range [][2]string{{"g", "a"}, {"g", "a/b/c"}, {"g/a", "b"}, {"ga", "/b"}} {
		_, err := s.GetSettings(ctx, other[0], other[1])
		wantErr(t, "GetSettings("+other[0]+", "+other[1]+")", err, store.ErrNotFound)
	}
}

func testSettingsStalePut(t *testing.T, s store.Store) {
	ctx := context.Background()
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
	sameSettings(t, v2, getSettings(t, s, "g", "h"))
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
			_, err := s.PutSettings(context.Background(), store.Settings{HookGroupID: "g", HookID: "h", Body: []byte(fmt.Sprintf(`{"writer":%d}`, i))})
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
	ctx := context.Background()
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
	if again.Version != 1 {
		t.Fatalf("version after re-create: %d, want 1", again.Version)
	}
}
