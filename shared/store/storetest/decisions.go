package storetest

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/store"
)

// decisionCases are the decision-log cases of Run.
var decisionCases = []struct {
	name string
	fn   func(*testing.T, store.Store)
}{
	{"DecisionPutGet", testDecisionPutGet},
	{"DecisionReplace", testDecisionReplace},
	{"DecisionsNewestFirstPaged", testDecisionsPaged},
	{"DecisionsOfHooksDoNotMix", testDecisionsDoNotMix},
	{"DecisionWithFire", testDecisionWithFire},
	{"DeleteDecisions", testDeleteDecisions},
	{"ExpireDecisions", testExpireDecisions},
	{"FiresAndDecisionsApart", testFiresAndDecisionsApart},
	{"ExpireFiresSparesDecisions", testExpireFiresSparesDecisions},
}

// decisionID sorts like the domain's ids: by time, then a suffix.
func decisionID(at time.Time, suffix string) string {
	return at.UTC().Format("20060102T150405.000000000Z") + "-" + suffix
}

func decision(group, id string, at time.Time, suffix string) store.Decision {
	return store.Decision{HookGroupID: group, HookID: id, ID: decisionID(at, suffix),
		Body: []byte(fmt.Sprintf(`{"outcome":"created","n":%q}`, suffix)), ExpiresAt: at.Add(30 * 24 * time.Hour)}
}

func putDecision(t *testing.T, s store.Store, d store.Decision, f *store.LastFire) {
	t.Helper()
	if err := s.PutDecision(t.Context(), d, f); err != nil {
		t.Fatal(err)
	}
}

func decisionIDs(t *testing.T, s store.Store, group, id string, p store.Page) ([]string, string) {
	t.Helper()
	ds, next, err := s.ListDecisions(t.Context(), group, id, p)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, d := range ds {
		if d.HookGroupID != group || d.HookID != id {
			t.Fatalf("listing %s/%s returned a decision of %s/%s", group, id, d.HookGroupID, d.HookID)
		}
		stored, err := s.GetDecision(t.Context(), group, id, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		wantSame(t, "listed decision", stored, d)
		ids = append(ids, d.ID[len(d.ID)-2:])
	}
	return ids, next
}

func testDecisionPutGet(t *testing.T, s store.Store) {
	ctx := t.Context()
	_, err := s.GetDecision(ctx, "g", "h", decisionID(epoch, "aa"))
	wantErr(t, "missing decision", err, store.ErrNotFound)
	d := decision("g", "h", epoch, "aa")
	requireEveryField(t, d, "KeepAtMost")
	putDecision(t, s, d, nil)
	got, err := s.GetDecision(ctx, "g", "h", d.ID)
	if err != nil {
		t.Fatal(err)
	}
	wantSame(t, "decision read back", d, got)
	// Large bodies (payloads are kept up to 256 KiB) come back intact.
	large := decision("g", "h", epoch.Add(time.Second), "bb")
	large.Body = []byte(`{"payload":"` + strings.Repeat("x", 280<<10) + `"}`)
	putDecision(t, s, large, nil)
	got, err = s.GetDecision(ctx, "g", "h", large.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got.Body, large.Body) {
		t.Fatalf("a body of %d bytes came back as %d bytes", len(large.Body), len(got.Body))
	}
	got.Body = large.Body
	wantSame(t, "large decision read back", large, got)
}

func testDecisionReplace(t *testing.T, s store.Store) {
	d := decision("g", "h", epoch, "aa")
	putDecision(t, s, d, nil)
	d.Body = []byte(`{"outcome":"queue-error"}`)
	d.ExpiresAt = d.ExpiresAt.Add(time.Hour)
	putDecision(t, s, d, nil)
	ds, _, err := s.ListDecisions(t.Context(), "g", "h", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	wantSame(t, "decisions after the replacement", []store.Decision{d}, ds)
}

func testDecisionsPaged(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 7 {
		putDecision(t, s, decision("g", "h", epoch.Add(time.Duration(i)*time.Second), fmt.Sprintf("d%d", i)), nil)
	}
	var all []string
	page := store.Page{Limit: 3}
	for range 10 {
		ids, next := decisionIDs(t, s, "g", "h", page)
		all = append(all, ids...)
		if next == "" {
			break
		}
		page.Token = next
	}
	if fmt.Sprint(all) != "[d6 d5 d4 d3 d2 d1 d0]" {
		t.Fatalf("paged decisions = %v", all)
	}
	if ids, next := decisionIDs(t, s, "g", "h", store.Page{}); len(ids) != 7 || next != "" {
		t.Fatalf("one page: %v, next %q", ids, next)
	}
	_, _, err := s.ListDecisions(ctx, "g", "h", store.Page{Token: "garbage!!"})
	wantErr(t, "bad token", err, store.ErrBadToken)
	_, tok := decisionIDs(t, s, "g", "h", store.Page{Limit: 1})
	_, _, err = s.ListDecisions(ctx, "g", "other", store.Page{Token: tok})
	wantErr(t, "token of another hook", err, store.ErrBadToken)
	// A fire-record token does not page decisions either.
	mustPutFire(t, s, fire("g", "h", "t1", epoch, "success"))
	mustPutFire(t, s, fire("g", "h", "t2", epoch.Add(time.Second), "success"))
	_, fireTok := listFires(t, s, "g", "h", store.Page{Limit: 1})
	_, _, err = s.ListDecisions(ctx, "g", "h", store.Page{Token: fireTok})
	wantErr(t, "token of the fire listing", err, store.ErrBadToken)
}

func testDecisionsDoNotMix(t *testing.T, s store.Store) {
	// Groups and hooks whose ids are prefixes of each other, and a hookId
	// with a slash, must each see their own decisions only.
	for _, h := range [][2]string{{"g", "h"}, {"g", "h/x"}, {"g", "hx"}, {"gx", "h"}, {"g", "h/"}} {
		putDecision(t, s, decision(h[0], h[1], epoch, "d1"), nil)
		putDecision(t, s, decision(h[0], h[1], epoch.Add(time.Second), "d2"), nil)
	}
	for _, h := range [][2]string{{"g", "h"}, {"g", "h/x"}, {"gx", "h"}, {"g", "h/"}} {
		if ids, _ := decisionIDs(t, s, h[0], h[1], store.Page{}); fmt.Sprint(ids) != "[d2 d1]" {
			t.Fatalf("%s/%s: %v", h[0], h[1], ids)
		}
	}
	if ids, _ := decisionIDs(t, s, "g", "nobody", store.Page{}); len(ids) != 0 {
		t.Fatalf("a hook without decisions lists %v", ids)
	}
}

func testDecisionWithFire(t *testing.T, s store.Store) {
	f := fire("g", "h", "t1", epoch, "success")
	d := decision("g", "h", epoch, "d1")
	putDecision(t, s, d, &f)
	fires, _ := listFires(t, s, "g", "h", store.Page{})
	wantSame(t, "the fire written with a decision", []store.LastFire{f}, fires)
	// A retry writes the same pair again: both are replaced, not doubled.
	f.Result, f.Error = "error", "queue said 500"
	d.Body = []byte(`{"outcome":"queue-error"}`)
	putDecision(t, s, d, &f)
	fires, _ = listFires(t, s, "g", "h", store.Page{})
	wantSame(t, "fires after the retry", []store.LastFire{f}, fires)
	ds, _, err := s.ListDecisions(t.Context(), "g", "h", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	wantSame(t, "decisions after the retry", []store.Decision{d}, ds)
}

func testDeleteDecisions(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 3 {
		putDecision(t, s, decision("g", "h", epoch.Add(time.Duration(i)*time.Second), fmt.Sprintf("d%d", i)), nil)
	}
	putDecision(t, s, decision("g", "h/sub", epoch, "k1"), nil)
	putDecision(t, s, decision("g", "h2", epoch, "k2"), nil)
	if err := s.DeleteDecisions(ctx, "g", "h"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteDecisions(ctx, "g", "never"); err != nil {
		t.Fatalf("deleting an empty log: %v", err)
	}
	if ids, _ := decisionIDs(t, s, "g", "h", store.Page{}); len(ids) != 0 {
		t.Fatalf("decisions left: %v", ids)
	}
	for _, h := range []string{"h/sub", "h2"} {
		if ids, _ := decisionIDs(t, s, "g", h, store.Page{}); len(ids) != 1 {
			t.Fatalf("deleting g/h's decisions touched g/%s's", h)
		}
	}
}

func testExpireDecisions(t *testing.T, s store.Store) {
	exp, ok := s.(store.Expirer)
	if !ok {
		t.Skip("the backend expires records itself (DynamoDB TTL)")
	}
	ctx := t.Context()
	old := decision("g", "h", epoch, "d1")
	old.ExpiresAt = epoch.Add(time.Hour)
	fresh := decision("g", "h", epoch.Add(time.Second), "d2")
	fresh.ExpiresAt = epoch.Add(48 * time.Hour)
	// Replaced with a later expiry: the first expiry must not drop it.
	renewed := decision("g", "h", epoch.Add(2*time.Second), "d3")
	renewed.ExpiresAt = epoch.Add(time.Hour)
	for _, d := range []store.Decision{old, fresh, renewed} {
		putDecision(t, s, d, nil)
	}
	renewed.ExpiresAt = epoch.Add(72 * time.Hour)
	putDecision(t, s, renewed, nil)
	putDecision(t, s, decision("g", "gone", epoch, "d9"), nil)
	if err := s.DeleteDecisions(ctx, "g", "gone"); err != nil {
		t.Fatal(err)
	}

	n, err := exp.ExpireDecisions(ctx, epoch.Add(24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if ids, _ := decisionIDs(t, s, "g", "h", store.Page{}); n != 1 || fmt.Sprint(ids) != "[d3 d2]" {
		t.Fatalf("expired %d, left %v; want 1 and [d3 d2]", n, ids)
	}
	if n, err := exp.ExpireDecisions(ctx, epoch.Add(24*time.Hour)); err != nil || n != 0 {
		t.Fatalf("a second expiry: %d, %v", n, err)
	}
}

// putPairs writes n fires of g/h, each with its decision, expiring an hour
// after epoch.
func putPairs(t *testing.T, s store.Store, n int) {
	t.Helper()
	for i := range n {
		at := epoch.Add(time.Duration(i) * time.Second)
		f := fire("g", "h", fmt.Sprintf("t%d", i), at, "success")
		f.ExpiresAt = epoch.Add(time.Hour)
		d := decision("g", "h", at, fmt.Sprintf("d%d", i))
		d.ExpiresAt = epoch.Add(time.Hour)
		putDecision(t, s, d, &f)
	}
}

// A hook's fire records and decisions may share storage (the embedded
// store keeps them side by side): each operation touches only its own.
func testFiresAndDecisionsApart(t *testing.T, s store.Store) {
	ctx := t.Context()
	putPairs(t, s, 3)
	if firesSeen := allFireIDs(t, s, "g", "h", 2); fmt.Sprint(firesSeen) != "[t2 t1 t0]" {
		t.Fatalf("fires listed among decisions: %v", firesSeen)
	}
	if err := s.DeleteLastFires(ctx, "g", "h"); err != nil {
		t.Fatal(err)
	}
	if ids, _ := decisionIDs(t, s, "g", "h", store.Page{}); len(ids) != 3 {
		t.Fatalf("deleting fires deleted decisions: %v", ids)
	}
	putPairs(t, s, 1)
	if err := s.DeleteDecisions(ctx, "g", "h"); err != nil {
		t.Fatal(err)
	}
	if fires, _ := listFires(t, s, "g", "h", store.Page{}); len(fires) != 1 {
		t.Fatalf("deleting decisions deleted fires: %v", fires)
	}
}

func testExpireFiresSparesDecisions(t *testing.T, s store.Store) {
	exp, ok := s.(store.Expirer)
	if !ok {
		t.Skip("the backend expires records itself (DynamoDB TTL)")
	}
	ctx := t.Context()
	putPairs(t, s, 3)
	fresh := decision("g", "h", epoch.Add(time.Minute), "d9")
	fresh.ExpiresAt = epoch.Add(48 * time.Hour)
	putDecision(t, s, fresh, nil)
	if n, err := exp.ExpireLastFires(ctx, epoch.Add(2*time.Hour)); err != nil || n != 3 {
		t.Fatalf("expire fires: %d, %v", n, err)
	}
	if ids, _ := decisionIDs(t, s, "g", "h", store.Page{}); len(ids) != 4 {
		t.Fatalf("expiring fires touched decisions: %v", ids)
	}
	if n, err := exp.ExpireDecisions(ctx, epoch.Add(2*time.Hour)); err != nil || n != 3 {
		t.Fatalf("expire decisions: %d, %v", n, err)
	}
	if ids, _ := decisionIDs(t, s, "g", "h", store.Page{}); fmt.Sprint(ids) != "[d9]" {
		t.Fatalf("left %v", ids)
	}
}
