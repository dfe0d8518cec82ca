package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/store"
)

// historyCases are the cases of Run for task outcomes on fire records, the
// awaited index, the history cap and notifications.
var historyCases = []struct {
	name string
	fn   func(*testing.T, store.Store)
}{
	{"GetLastFire", testGetLastFire},
	{"UpdateFireNeverCreates", testUpdateFireNeverCreates},
	{"AwaitedIndex", testAwaitedIndex},
	{"AwaitedIndexPaged", testAwaitedPaged},
	{"AwaitedIndexForgetsDeletedFires", testAwaitedForgetsDeleted},
	{"CapFires", testCapFires},
	{"CapDecisions", testCapDecisions},
	{"CapCountsNoReplacement", testCapReplacement},
	{"CapAfterDelete", testCapAfterDelete},
	{"CapConcurrentWriters", testCapConcurrent},
	{"CapAfterExpiry", testCapAfterExpiry},
	{"NotificationCreateGet", testNotificationCreateGet},
	{"NotificationUpdateVersioned", testNotificationUpdate},
	{"NotificationsDue", testNotificationsDue},
	{"NotificationsNewestFirst", testNotificationsListed},
	{"ExpireNotifications", testExpireNotifications},
}

func awaited(group, id, taskID string, at time.Time) store.LastFire {
	f := fire(group, id, taskID, at, "success")
	f.CheckAt = at.Add(time.Minute)
	return f
}

func listAwaited(t *testing.T, s store.Store, q store.AwaitedQuery) []string {
	t.Helper()
	var ids []string
	for range 100 {
		keys, next, err := s.ListAwaitedFires(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			ids = append(ids, k.HookGroupID+"/"+k.HookID+":"+k.TaskID)
		}
		if next == "" {
			return ids
		}
		q.Token = next
	}
	t.Fatal("ListAwaitedFires never ended")
	return nil
}

func testGetLastFire(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := awaited("g", "h/x", "t1", epoch)
	f.DecisionID = decisionID(epoch, "d1")
	mustPutFire(t, s, f)
	got, err := s.GetLastFire(ctx, "g", "h/x", epoch, "t1")
	if err != nil {
		t.Fatal(err)
	}
	wantSame(t, "fire read back", f, got)
	_, err = s.GetLastFire(ctx, "g", "h/x", epoch.Add(time.Nanosecond), "t1")
	wantErr(t, "another time", err, store.ErrNotFound)
	_, err = s.GetLastFire(ctx, "g", "h", epoch, "t1")
	wantErr(t, "another hook", err, store.ErrNotFound)
}

func testUpdateFireNeverCreates(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := awaited("g", "h", "t1", epoch)
	d := decision("g", "h", epoch, "d1")
	f.DecisionID = d.ID
	putDecision(t, s, d, &f)

	// The outcome replaces both.
	f.TaskState, f.TaskReason, f.TaskRunID, f.TaskResolved, f.CheckAt, f.Checks = "failed", "failed", 1, epoch.Add(time.Hour), time.Time{}, 0
	d.Body = []byte(`{"outcome":"created","task":{"state":"failed"}}`)
	if err := s.UpdateFire(ctx, f, &d); err != nil {
		t.Fatal(err)
	}
	fires, _ := listFires(t, s, "g", "h", store.Page{})
	wantSame(t, "fires after the update", []store.LastFire{f}, fires)
	got, err := s.GetDecision(ctx, "g", "h", d.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantSame(t, "decision after the update", d, got)
	if ids := listAwaited(t, s, store.AwaitedQuery{}); len(ids) != 0 {
		t.Fatalf("a resolved fire is still awaited: %v", ids)
	}

	// A fire record that is gone stays gone, and so does its decision.
	gone := awaited("g", "h", "t2", epoch.Add(time.Second))
	goneDecision := decision("g", "h", epoch.Add(time.Second), "d2")
	err = s.UpdateFire(ctx, gone, &goneDecision)
	wantErr(t, "update of a missing fire", err, store.ErrNotFound)
	if fires, _ := listFires(t, s, "g", "h", store.Page{}); len(fires) != 1 {
		t.Fatalf("the update created a fire record: %+v", fires)
	}
	if _, err := s.GetDecision(ctx, "g", "h", goneDecision.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the update created a decision: %v", err)
	}
	if ids := listAwaited(t, s, store.AwaitedQuery{}); len(ids) != 0 {
		t.Fatalf("the update indexed a missing fire: %v", ids)
	}
	// A decision that is gone is skipped; the fire is still updated.
	if err := s.DeleteDecisions(ctx, "g", "h"); err != nil {
		t.Fatal(err)
	}
	f.TaskState = "completed"
	if err := s.UpdateFire(ctx, f, &d); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetDecision(ctx, "g", "h", d.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the update brought back a deleted decision: %v", err)
	}
	if got, _ := s.GetLastFire(ctx, "g", "h", epoch, "t1"); got.TaskState != "completed" {
		t.Fatalf("fire after the update: %+v", got)
	}
}

func testAwaitedIndex(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := awaited("g", "h", "a", epoch)
	b := awaited("g", "h/x", "b", epoch.Add(time.Minute))
	c := awaited("g2", "h", "c", epoch.Add(2*time.Minute))
	plain := fire("g", "h", "plain", epoch.Add(3*time.Minute), "success")
	for _, f := range []store.LastFire{c, plain, a, b} {
		mustPutFire(t, s, f)
	}
	if ids := listAwaited(t, s, store.AwaitedQuery{}); fmt.Sprint(ids) != "[g/h:a g/h/x:b g2/h:c]" {
		t.Fatalf("never checked, oldest first: %v", ids)
	}
	if ids := listAwaited(t, s, store.AwaitedQuery{From: epoch.Add(time.Minute), To: epoch.Add(2 * time.Minute)}); fmt.Sprint(ids) != "[g/h/x:b]" {
		t.Fatalf("created in [+1m, +2m): %v", ids)
	}
	if ids := listAwaited(t, s, store.AwaitedQuery{Checked: true}); len(ids) != 0 {
		t.Fatalf("checked before any check: %v", ids)
	}
	keys, _, err := s.ListAwaitedFires(ctx, store.AwaitedQuery{To: epoch.Add(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	wantSame(t, "key of a never-checked fire", []store.FireKey{{HookGroupID: "g", HookID: "h", TaskCreateTime: epoch, TaskID: "a"}}, keys)

	// Checked: it moves to the other order, by CheckAt.
	b.Checks, b.CheckAt = 1, epoch.Add(time.Hour)
	a.Checks, a.CheckAt = 2, epoch.Add(2*time.Hour)
	mustPutFire(t, s, a)
	mustPutFire(t, s, b)
	if ids := listAwaited(t, s, store.AwaitedQuery{}); fmt.Sprint(ids) != "[g2/h:c]" {
		t.Fatalf("never checked after two checks: %v", ids)
	}
	if ids := listAwaited(t, s, store.AwaitedQuery{Checked: true}); fmt.Sprint(ids) != "[g/h/x:b g/h:a]" {
		t.Fatalf("checked, by next check: %v", ids)
	}
	keys, _, err = s.ListAwaitedFires(ctx, store.AwaitedQuery{Checked: true, To: epoch.Add(90 * time.Minute)})
	if err != nil {
		t.Fatal(err)
	}
	wantSame(t, "key of a checked fire", []store.FireKey{{HookGroupID: "g", HookID: "h/x", TaskCreateTime: b.TaskCreateTime, TaskID: "b", Checks: 1, CheckAt: b.CheckAt}}, keys)

	// Resolved: no longer awaited.
	a.CheckAt, a.TaskState = time.Time{}, "completed"
	if err := s.UpdateFire(ctx, a, nil); err != nil {
		t.Fatal(err)
	}
	if ids := listAwaited(t, s, store.AwaitedQuery{Checked: true}); fmt.Sprint(ids) != "[g/h/x:b]" {
		t.Fatalf("checked after a resolution: %v", ids)
	}
}

func testAwaitedPaged(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 7 {
		mustPutFire(t, s, awaited("g", "h", fmt.Sprintf("t%d", i), epoch.Add(time.Duration(i)*time.Second)))
	}
	if ids := listAwaited(t, s, store.AwaitedQuery{Page: store.Page{Limit: 3}}); len(ids) != 7 || ids[0] != "g/h:t0" || ids[6] != "g/h:t6" {
		t.Fatalf("paged: %v", ids)
	}
	_, _, err := s.ListAwaitedFires(ctx, store.AwaitedQuery{Page: store.Page{Token: "garbage!!"}})
	wantErr(t, "bad token", err, store.ErrBadToken)
	_, tok, err := s.ListAwaitedFires(ctx, store.AwaitedQuery{Page: store.Page{Limit: 1}})
	if err != nil || tok == "" {
		t.Fatalf("first page: %q, %v", tok, err)
	}
	_, _, err = s.ListAwaitedFires(ctx, store.AwaitedQuery{Checked: true, Page: store.Page{Token: tok}})
	wantErr(t, "token of the other order", err, store.ErrBadToken)
}

func testAwaitedForgetsDeleted(t *testing.T, s store.Store) {
	mustPutFire(t, s, awaited("g", "h", "t1", epoch))
	mustPutFire(t, s, awaited("g", "other", "t2", epoch))
	if err := s.DeleteLastFires(t.Context(), "g", "h"); err != nil {
		t.Fatal(err)
	}
	if ids := listAwaited(t, s, store.AwaitedQuery{}); fmt.Sprint(ids) != "[g/other:t2]" {
		t.Fatalf("awaited after deleting g/h's fires: %v", ids)
	}
}

// putCapped writes n fires of g/h with the cap keep, one second apart from
// start, numbered from first; the odd ones awaited.
func putCapped(t *testing.T, s store.Store, first, n, keep int) {
	t.Helper()
	for i := first; i < first+n; i++ {
		at := epoch.Add(time.Duration(i) * time.Second)
		f := fire("g", "h", fmt.Sprintf("t%02d", i), at, "success")
		if i%2 == 1 {
			f.CheckAt = at.Add(time.Minute)
		}
		f.KeepAtMost = keep
		mustPutFire(t, s, f)
	}
}

func testCapFires(t *testing.T, s store.Store) {
	putCapped(t, s, 0, 12, 5)
	mustPutFire(t, s, fire("g", "other", "x", epoch, "success"))
	if ids := allFireIDs(t, s, "g", "h", 100); fmt.Sprint(ids) != "[t11 t10 t09 t08 t07]" {
		t.Fatalf("capped at 5: %v", ids)
	}
	// What the cap removed is not awaited any more.
	if ids := listAwaited(t, s, store.AwaitedQuery{}); fmt.Sprint(ids) != "[g/h:t07 g/h:t09 g/h:t11]" {
		t.Fatalf("awaited after the cap: %v", ids)
	}
	// Other hooks are not touched; a write without a cap trims nothing.
	mustPutFire(t, s, fire("g", "h", "t99", epoch.Add(time.Hour), "success"))
	if ids := allFireIDs(t, s, "g", "h", 100); len(ids) != 6 {
		t.Fatalf("an uncapped write trimmed: %v", ids)
	}
	if ids := allFireIDs(t, s, "g", "other", 100); len(ids) != 1 {
		t.Fatalf("another hook's fires: %v", ids)
	}
	// A lower cap takes effect on the next write.
	putCapped(t, s, 20, 1, 2)
	if ids := allFireIDs(t, s, "g", "h", 100); fmt.Sprint(ids) != "[t99 t20]" {
		t.Fatalf("after lowering the cap to 2: %v", ids)
	}
}

func testCapDecisions(t *testing.T, s store.Store) {
	for i := range 9 {
		at := epoch.Add(time.Duration(i) * time.Second)
		d := decision("g", "h", at, fmt.Sprintf("d%d", i))
		d.KeepAtMost = 4
		var f *store.LastFire
		if i%3 == 0 { // a fire record with every third decision
			ff := fire("g", "h", fmt.Sprintf("t%d", i), at, "success")
			ff.KeepAtMost = 2
			f = &ff
		}
		putDecision(t, s, d, f)
	}
	if ids, _ := decisionIDs(t, s, "g", "h", store.Page{}); fmt.Sprint(ids) != "[d8 d7 d6 d5]" {
		t.Fatalf("decisions capped at 4: %v", ids)
	}
	if ids := allFireIDs(t, s, "g", "h", 100); fmt.Sprint(ids) != "[t6 t3]" {
		t.Fatalf("fires capped at 2: %v", ids)
	}
}

func testCapReplacement(t *testing.T, s store.Store) {
	putCapped(t, s, 0, 3, 3)
	// Retries replace records: the hook still has 3, and none is trimmed.
	for range 4 {
		putCapped(t, s, 2, 1, 3)
		d := decision("g", "h", epoch, "dd")
		d.KeepAtMost = 1
		putDecision(t, s, d, nil)
	}
	if ids := allFireIDs(t, s, "g", "h", 100); fmt.Sprint(ids) != "[t02 t01 t00]" {
		t.Fatalf("after replacements: %v", ids)
	}
	if ids, _ := decisionIDs(t, s, "g", "h", store.Page{}); fmt.Sprint(ids) != "[dd]" {
		t.Fatalf("decisions after replacements: %v", ids)
	}
	// An update is no new record either.
	f := fire("g", "h", "t00", epoch, "success")
	f.TaskState = "completed"
	if err := s.UpdateFire(t.Context(), f, nil); err != nil {
		t.Fatal(err)
	}
	putCapped(t, s, 3, 1, 4)
	if ids := allFireIDs(t, s, "g", "h", 100); fmt.Sprint(ids) != "[t03 t02 t01 t00]" {
		t.Fatalf("after an update and one more: %v", ids)
	}
}

func testCapAfterDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	putCapped(t, s, 0, 5, 5)
	if err := s.DeleteLastFires(ctx, "g", "h"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDecisions(ctx, "g", "h"); err != nil {
		t.Fatal(err)
	}
	// Counted afresh: five new ones are all kept.
	putCapped(t, s, 10, 5, 5)
	if ids := allFireIDs(t, s, "g", "h", 100); len(ids) != 5 {
		t.Fatalf("after delete and five more: %v", ids)
	}
}

func testCapConcurrent(t *testing.T, s store.Store) {
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 6 {
				n := w*6 + i
				f := fire("g", "h", fmt.Sprintf("t%02d", n), epoch.Add(time.Duration(n)*time.Second), "success")
				f.KeepAtMost = 10
				if err := s.PutLastFire(t.Context(), f); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	// However the writers interleave, no more than the cap remain, and
	// the last write of each writer, the newest at the end, is kept.
	ids := allFireIDs(t, s, "g", "h", 100)
	if len(ids) > 10 || len(ids) < 6 || ids[0] != "t23" {
		t.Fatalf("after 24 concurrent writes capped at 10: %v", ids)
	}
}

func testCapAfterExpiry(t *testing.T, s store.Store) {
	exp, ok := s.(store.Expirer)
	if !ok {
		t.Skip("the backend expires records itself (DynamoDB TTL); its counts are checked by its own tests")
	}
	ctx := t.Context()
	for i := range 5 {
		f := fire("g", "h", fmt.Sprintf("t%02d", i), epoch.Add(time.Duration(i)*time.Second), "success")
		f.KeepAtMost = 5
		if i < 3 {
			f.ExpiresAt = epoch.Add(time.Hour)
		}
		mustPutFire(t, s, f)
	}
	if n, err := exp.ExpireLastFires(ctx, epoch.Add(2*time.Hour)); err != nil || n != 3 {
		t.Fatalf("expired %d, %v", n, err)
	}
	// Two left; three more fit under the cap of 5.
	putCapped(t, s, 10, 3, 5)
	if ids := allFireIDs(t, s, "g", "h", 100); fmt.Sprint(ids) != "[t12 t11 t10 t04 t03]" {
		t.Fatalf("after expiry and three more: %v", ids)
	}
}

func notification(group, id string, at time.Time, suffix string) store.Notification {
	return store.Notification{HookGroupID: group, HookID: id, ID: decisionID(at, suffix),
		Body: []byte(fmt.Sprintf(`{"status":"pending","n":%q}`, suffix)), DueAt: at, ExpiresAt: at.Add(30 * 24 * time.Hour)}
}

func mustCreateNotification(t *testing.T, s store.Store, n store.Notification) store.Notification {
	t.Helper()
	got, err := s.CreateNotification(t.Context(), n)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func testNotificationCreateGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	n := notification("g", "h/x", epoch, "n1")
	n.Version = 7 // set by the store
	requireEveryField(t, n)
	created := mustCreateNotification(t, s, n)
	n.Version = 1
	wantSame(t, "CreateNotification's answer", n, created)
	got, err := s.GetNotification(ctx, "g", "h/x", n.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantSame(t, "notification read back", n, got)
	_, err = s.CreateNotification(ctx, n)
	wantErr(t, "a second create", err, store.ErrConflict)
	_, err = s.GetNotification(ctx, "g", "h", n.ID)
	wantErr(t, "another hook's", err, store.ErrNotFound)
}

func testNotificationUpdate(t *testing.T, s store.Store) {
	ctx := t.Context()
	n := mustCreateNotification(t, s, notification("g", "h", epoch, "n1"))
	n.Body, n.DueAt = []byte(`{"status":"delivered"}`), time.Time{}
	up, err := s.UpdateNotification(ctx, n)
	if err != nil {
		t.Fatal(err)
	}
	if up.Version != 2 {
		t.Fatalf("version after an update: %d", up.Version)
	}
	got, _ := s.GetNotification(ctx, "g", "h", n.ID)
	wantSame(t, "updated notification", up, got)
	_, err = s.UpdateNotification(ctx, n) // still version 1
	wantErr(t, "stale update", err, store.ErrConflict)
	missing := notification("g", "h", epoch, "zz")
	missing.Version = 1
	_, err = s.UpdateNotification(ctx, missing)
	wantErr(t, "update of a missing one", err, store.ErrNotFound)
}

func testNotificationsDue(t *testing.T, s store.Store) {
	ctx := t.Context()
	a := mustCreateNotification(t, s, notification("g", "h", epoch.Add(2*time.Minute), "a"))
	b := mustCreateNotification(t, s, notification("g2", "h", epoch, "b"))
	c := mustCreateNotification(t, s, notification("g", "h/x", epoch.Add(time.Hour), "c"))
	done := notification("g", "h", epoch, "done")
	done.DueAt = time.Time{}
	mustCreateNotification(t, s, done)
	due := func(now time.Time, limit int) string {
		ns, err := s.ListDueNotifications(ctx, now, limit)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, n := range ns {
			ids = append(ids, n.ID[len(n.ID)-1:])
		}
		return fmt.Sprint(ids)
	}
	if got := due(epoch.Add(2*time.Minute), 10); got != "[b a]" {
		t.Fatalf("due at +2m (inclusive), oldest first: %s", got)
	}
	if got := due(epoch.Add(2*time.Hour), 2); got != "[b a]" {
		t.Fatalf("limit 2: %s", got)
	}
	// Moving and clearing the due time moves the entry.
	b.DueAt = epoch.Add(3 * time.Hour)
	if _, err := s.UpdateNotification(ctx, b); err != nil {
		t.Fatal(err)
	}
	a.DueAt = time.Time{}
	if _, err := s.UpdateNotification(ctx, a); err != nil {
		t.Fatal(err)
	}
	if got := due(epoch.Add(2*time.Hour), 10); got != "[c]" {
		t.Fatalf("after moving b and finishing a: %s", got)
	}
	if err := s.DeleteNotifications(ctx, "g", "h/x"); err != nil {
		t.Fatal(err)
	}
	if got := due(epoch.Add(5*time.Hour), 10); got != "[b]" {
		t.Fatalf("after deleting c's hook: %s", got)
	}
	_ = c
}

func testNotificationsListed(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 5 {
		mustCreateNotification(t, s, notification("g", "h", epoch.Add(time.Duration(i)*time.Second), fmt.Sprintf("n%d", i)))
	}
	mustCreateNotification(t, s, notification("g", "h/x", epoch, "other"))
	var ids []string
	page := store.Page{Limit: 2}
	for range 10 {
		ns, next, err := s.ListNotifications(ctx, "g", "h", page)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range ns {
			ids = append(ids, n.ID[len(n.ID)-2:])
		}
		if next == "" {
			break
		}
		page.Token = next
	}
	if fmt.Sprint(ids) != "[n4 n3 n2 n1 n0]" {
		t.Fatalf("newest first: %v", ids)
	}
	_, _, err := s.ListNotifications(ctx, "g", "h", store.Page{Token: "garbage!!"})
	wantErr(t, "bad token", err, store.ErrBadToken)
	if err := s.DeleteNotifications(ctx, "g", "h"); err != nil {
		t.Fatal(err)
	}
	if ns, _, _ := s.ListNotifications(ctx, "g", "h", store.Page{}); len(ns) != 0 {
		t.Fatalf("after delete: %v", ns)
	}
	if ns, _, _ := s.ListNotifications(ctx, "g", "h/x", store.Page{}); len(ns) != 1 {
		t.Fatalf("another hook's after delete: %v", ns)
	}
}

func testExpireNotifications(t *testing.T, s store.Store) {
	exp, ok := s.(store.Expirer)
	if !ok {
		t.Skip("the backend expires records itself (DynamoDB TTL)")
	}
	ctx := t.Context()
	old := notification("g", "h", epoch, "old")
	old.ExpiresAt = epoch.Add(time.Hour)
	mustCreateNotification(t, s, old)
	mustCreateNotification(t, s, notification("g", "h", epoch.Add(time.Second), "new"))
	if n, err := exp.ExpireNotifications(ctx, epoch.Add(2*time.Hour)); err != nil || n != 1 {
		t.Fatalf("expired %d, %v", n, err)
	}
	ns, _, _ := s.ListNotifications(ctx, "g", "h", store.Page{})
	if len(ns) != 1 {
		t.Fatalf("left %v", ns)
	}
	if due, _ := s.ListDueNotifications(ctx, epoch.Add(3*time.Hour), 10); len(due) != 1 {
		t.Fatalf("due after expiry: %v", due)
	}
}
