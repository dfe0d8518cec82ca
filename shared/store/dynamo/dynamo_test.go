//go:build integration

package dynamo_test

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/dynamo"
	"github.com/hookline/hookline/shared/store/dynamo/dynamotest"
	"github.com/hookline/hookline/shared/store/storetest"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

func newStore(tb testing.TB) store.Store { return dynamotest.NewStore(tb) }

func TestConformance(t *testing.T) { storetest.Run(t, newStore) }

func BenchmarkConformance(b *testing.B) { storetest.Bench(b, newStore) }

// Backend-specific tests follow.

// rawStore returns a store together with its client and table, for tests
// that look at or tamper with the stored items.
func rawStore(t *testing.T) (*dynamo.Store, *dynamodb.Client, string) {
	t.Helper()
	client := dynamotest.Start(t)
	table := dynamotest.NewTable(t, client)
	return dynamo.New(client, table), client, table
}

func rawItem(t *testing.T, client *dynamodb.Client, table, pk, sk string) map[string]types.AttributeValue {
	t.Helper()
	out, err := client.GetItem(t.Context(), &dynamodb.GetItemInput{
		TableName:      aws.String(table),
		Key:            map[string]types.AttributeValue{"pk": &types.AttributeValueMemberS{Value: pk}, "sk": &types.AttributeValueMemberS{Value: sk}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	return out.Item
}

func listGroups(t *testing.T, s store.Store) []string {
	t.Helper()
	groups, next, err := s.ListHookGroups(t.Context(), store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if next != "" {
		t.Fatalf("unexpected second page of groups")
	}
	return groups
}

func TestTableDefinition_Creates(t *testing.T) {
	client := dynamotest.Start(t)
	table := dynamotest.NewTable(t, client)
	out, err := client.DescribeTable(t.Context(), &dynamodb.DescribeTableInput{TableName: aws.String(table)})
	if err != nil {
		t.Fatal(err)
	}
	d := out.Table
	if d.TableStatus != types.TableStatusActive {
		t.Fatalf("table status %s", d.TableStatus)
	}
	if d.BillingModeSummary == nil || d.BillingModeSummary.BillingMode != types.BillingModePayPerRequest {
		t.Fatalf("billing mode summary %+v", d.BillingModeSummary)
	}
	if len(d.GlobalSecondaryIndexes) != 1 || aws.ToString(d.GlobalSecondaryIndexes[0].IndexName) != dynamo.DueIndex ||
		d.GlobalSecondaryIndexes[0].IndexStatus != types.IndexStatusActive {
		t.Fatalf("indexes %+v", d.GlobalSecondaryIndexes)
	}
}

func TestMissingTableIsNotNotFound(t *testing.T) {
	s := dynamo.New(dynamotest.Start(t), "hookline_no_such_table")
	_, err := s.GetHook(t.Context(), "g", "h")
	if err == nil || errors.Is(err, store.ErrNotFound) {
		t.Fatalf("GetHook on a missing table = %v, want a backend failure", err)
	}
	var rnf *types.ResourceNotFoundException
	if !errors.As(err, &rnf) {
		t.Fatalf("native error not wrapped: %v", err)
	}
}

// TestGroupMarkerRace deletes the last hook of a group while another hook of
// the same group is being created, many times: a group holding a hook must
// always end up listed, and an emptied group never. The create starts after
// a delay that sweeps the delete's few round trips, so that some iterations
// land the create's writes between the delete's steps.
func TestGroupMarkerRace(t *testing.T) {
	s, _, _ := rawStore(t)
	ctx := t.Context()
	const lanes, iterations = 2, 150
	deadline := time.Now().Add(time.Minute)
	var wg sync.WaitGroup
	for lane := range lanes {
		wg.Go(func() {
			group := "race" + strconv.Itoa(lane)
			for i := range iterations {
				if time.Now().After(deadline) {
					t.Logf("%s: stopped after %d iterations (time bound)", group, i)
					return
				}
				delay := time.Duration(i%25) * 100 * time.Microsecond
				if err := raceOnce(ctx, s, group, "new"+strconv.Itoa(i), delay); err != nil {
					t.Errorf("%s iteration %d: %v", group, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

// raceOnce creates hook "old" in group, then deletes it while creating
// newID after delay, and checks the group's listing after each step.
func raceOnce(ctx context.Context, s store.Store, group, newID string, delay time.Duration) error {
	if _, err := s.CreateHook(ctx, store.Hook{HookGroupID: group, HookID: "old"}); err != nil {
		return err
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	var delErr, createErr error
	wg.Go(func() {
		<-start
		delErr = s.DeleteHook(ctx, group, "old", 0)
	})
	wg.Go(func() {
		<-start
		time.Sleep(delay)
		_, createErr = s.CreateHook(ctx, store.Hook{HookGroupID: group, HookID: newID})
	})
	close(start)
	wg.Wait()
	if err := errors.Join(delErr, createErr); err != nil {
		return err
	}
	if listed, err := groupListed(ctx, s, group); err != nil || !listed {
		return fmt.Errorf("group holds hook %s but is not listed (err %v)", newID, err)
	}
	if err := s.DeleteHook(ctx, group, newID, 0); err != nil {
		return err
	}
	if listed, err := groupListed(ctx, s, group); err != nil || listed {
		return fmt.Errorf("emptied group still listed (err %v)", err)
	}
	return nil
}

func groupListed(ctx context.Context, s store.Store, group string) (bool, error) {
	groups, _, err := s.ListHookGroups(ctx, store.Page{})
	return slices.Contains(groups, group), err
}

// TestGroupMarkerConcurrentChurn runs creators and deleters on one group at
// once and then checks that the marker matches the group's contents.
func TestGroupMarkerConcurrentChurn(t *testing.T) {
	s, _, _ := rawStore(t)
	ctx := t.Context()
	const workers, rounds = 4, 25
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for r := range rounds {
				id := fmt.Sprintf("w%d-%d", w, r)
				if _, err := s.CreateHook(ctx, store.Hook{HookGroupID: "churn", HookID: id, Version: 1}); err != nil {
					t.Error(err)
					return
				}
				if err := s.DeleteHook(ctx, "churn", id, 0); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if slices.Contains(listGroups(t, s), "churn") {
		t.Fatal("group listed after every hook was deleted")
	}
	if _, err := s.CreateHook(ctx, store.Hook{HookGroupID: "churn", HookID: "last", Version: 1}); err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(listGroups(t, s), "churn") {
		t.Fatal("group with a hook not listed")
	}
}

// TestOrphanMarker pins the documented choice: a marker left without hooks
// (a crash between deleting a group's last hook and its marker) is listed,
// and the next delete in the group removes it.
func TestOrphanMarker(t *testing.T) {
	s, client, table := rawStore(t)
	ctx := t.Context()
	_, err := client.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(table), Item: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "GROUPS"}, "sk": &types.AttributeValueMemberS{Value: "orphan"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := listGroups(t, s); !slices.Equal(got, []string{"orphan"}) {
		t.Fatalf("groups = %v, want the orphan listed", got)
	}
	hooks, _, err := s.ListHooks(ctx, "orphan", store.Page{})
	if err != nil || len(hooks) != 0 {
		t.Fatalf("ListHooks(orphan) = %d hooks, %v", len(hooks), err)
	}
	if _, err := s.CreateHook(ctx, store.Hook{HookGroupID: "orphan", HookID: "h", Version: 1}); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteHook(ctx, "orphan", "h", 0); err != nil {
		t.Fatal(err)
	}
	if got := listGroups(t, s); len(got) != 0 {
		t.Fatalf("groups = %v after the group's delete, want none", got)
	}
}

// TestCreateRetryRepairsMarker simulates a create that died between its hook
// write and its marker write: the retry is refused, yet lists the group.
func TestCreateRetryRepairsMarker(t *testing.T) {
	s, client, table := rawStore(t)
	ctx := t.Context()
	h := store.Hook{HookGroupID: "g", HookID: "h", Definition: []byte(`{}`)}
	if _, err := s.CreateHook(ctx, h); err != nil {
		t.Fatal(err)
	}
	_, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
		"pk": &types.AttributeValueMemberS{Value: "GROUPS"}, "sk": &types.AttributeValueMemberS{Value: "g"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if got := listGroups(t, s); len(got) != 0 {
		t.Fatalf("groups = %v, want none after removing the marker", got)
	}
	if _, err := s.CreateHook(ctx, h); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("retried create = %v, want ErrConflict", err)
	}
	if got := listGroups(t, s); !slices.Equal(got, []string{"g"}) {
		t.Fatalf("groups = %v after the retry, want [g]", got)
	}
}

func TestContinuationTokens(t *testing.T) {
	s, _, _ := rawStore(t)
	ctx := t.Context()
	for _, g := range []string{"a", "b"} {
		for _, id := range []string{"1", "2", "3"} {
			if _, err := s.CreateHook(ctx, store.Hook{HookGroupID: g, HookID: id}); err != nil {
				t.Fatal(err)
			}
		}
	}
	_, tokA, err := s.ListHooks(ctx, "a", store.Page{Limit: 1})
	if err != nil || tokA == "" {
		t.Fatalf("first page of a: token %q, %v", tokA, err)
	}
	_, tokGroups, err := s.ListHookGroups(ctx, store.Page{Limit: 1})
	if err != nil || tokGroups == "" {
		t.Fatalf("first page of groups: token %q, %v", tokGroups, err)
	}
	b64 := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
	for _, tt := range []struct {
		name, token string
		list        func(ctx context.Context, token string) error
	}{
		{name: "garbage", token: "garbage!!", list: listHooksOf(s, "a")},
		{name: "json of something else", token: b64(`{"not":"this"}`), list: listHooksOf(s, "a")},
		{name: "token of another group", token: tokA, list: listHooksOf(s, "b")},
		{name: "forged key of another group", token: b64(`{"pk":"HOOK#b","sk":"1"}`), list: listHooksOf(s, "a")},
		{name: "forged claim key", token: b64(`{"pk":"CLAIM#secret","sk":"-"}`), list: listHooksOf(s, "a")},
		{name: "hooks token for groups", token: tokA, list: listGroupsWith(s)},
		{name: "groups token for hooks", token: tokGroups, list: listHooksOf(s, "a")},
		{name: "hooks token for fires", token: tokA, list: func(ctx context.Context, tok string) error {
			_, _, err := s.ListLastFires(ctx, "a", "1", store.Page{Token: tok})
			return err
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := tt.list(t.Context(), tt.token); !errors.Is(err, store.ErrBadToken) {
				t.Fatalf("got %v, want ErrBadToken", err)
			}
		})
	}
	// The token of a listing resumes it after the last returned item.
	hooks, next, err := s.ListHooks(ctx, "a", store.Page{Token: tokA})
	if err != nil {
		t.Fatal(err)
	}
	if len(hooks) != 2 || hooks[0].HookID != "2" || next != "" {
		t.Fatalf("second page = %d hooks starting %v, next %q", len(hooks), hooks, next)
	}
}

func listHooksOf(s store.Store, group string) func(context.Context, string) error {
	return func(ctx context.Context, tok string) error {
		_, _, err := s.ListHooks(ctx, group, store.Page{Token: tok})
		return err
	}
}

func listGroupsWith(s store.Store) func(context.Context, string) error {
	return func(ctx context.Context, tok string) error {
		_, _, err := s.ListHookGroups(ctx, store.Page{Token: tok})
		return err
	}
}

// TestExpiredClaimReplaceable checks the expiry boundary against stored
// items that DynamoDB's TTL has not removed yet, and the TTL attribute.
func TestExpiredClaimReplaceable(t *testing.T) {
	s, client, table := rawStore(t)
	ctx := t.Context()
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	expires := created.Add(time.Hour + 500*time.Millisecond)
	if err := s.CreateClaim(ctx, store.Claim{Key: "k", Body: []byte("first"), CreatedAt: created, ExpiresAt: expires}, created); err != nil {
		t.Fatal(err)
	}
	item := rawItem(t, client, table, "CLAIM#k", "-")
	ttl, ok := item[dynamo.TTLAttribute()].(*types.AttributeValueMemberN)
	if want := strconv.FormatInt(expires.Unix()+1, 10); !ok || ttl.Value != want {
		t.Fatalf("TTL attribute = %#v, want N %s (epoch seconds rounded up)", item[dynamo.TTLAttribute()], want)
	}
	for _, tt := range []struct {
		name     string
		now      time.Time
		wantLive bool
	}{
		{name: "just before expiry", now: expires.Add(-time.Nanosecond), wantLive: true},
		{name: "at expiry", now: expires},
		{name: "after expiry", now: expires.Add(time.Hour)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := s.GetClaim(ctx, "k", tt.now)
			if tt.wantLive != (err == nil) || (!tt.wantLive && !errors.Is(err, store.ErrNotFound)) {
				t.Fatalf("GetClaim = %v, want live %v", err, tt.wantLive)
			}
		})
	}
	if err := s.CreateClaim(ctx, store.Claim{Key: "k", Body: []byte("early")}, expires.Add(-time.Nanosecond)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("claim before expiry = %v, want ErrConflict", err)
	}
	// The expired item is still stored; a new claim replaces it.
	if err := s.CreateClaim(ctx, store.Claim{Key: "k", Body: []byte("second"), CreatedAt: expires}, expires); err != nil {
		t.Fatalf("claim at expiry: %v", err)
	}
	got, err := s.GetClaim(ctx, "k", expires.Add(100*365*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Body) != "second" || !got.ExpiresAt.IsZero() || !got.CreatedAt.Equal(expires) {
		t.Fatalf("replacing claim = %+v", got)
	}
	if _, ok := rawItem(t, client, table, "CLAIM#k", "-")[dynamo.TTLAttribute()]; ok {
		t.Fatal("a claim without expiry carries a TTL attribute")
	}
	// A claim without expiry is never replaced.
	if err := s.CreateClaim(ctx, store.Claim{Key: "k", Body: []byte("third")}, expires.Add(200*365*24*time.Hour)); !errors.Is(err, store.ErrConflict) {
		t.Fatalf("replacing a claim without expiry = %v, want ErrConflict", err)
	}
}

// TestDueAttributes checks that only scheduled hooks carry the due index
// attributes, and that the index itself lists them.
func TestDueAttributes(t *testing.T) {
	s, client, table := rawStore(t)
	ctx := t.Context()
	at := time.Date(2026, 5, 6, 7, 8, 9, 10, time.UTC)
	h, err := s.CreateHook(ctx, store.Hook{HookGroupID: "g", HookID: "h", NextTaskID: "t", NextScheduledDate: at})
	if err != nil {
		t.Fatal(err)
	}
	item := rawItem(t, client, table, "HOOK#g", "h")
	if v, _ := item["dueAt"].(*types.AttributeValueMemberS); v == nil || v.Value != "2026-05-06T07:08:09.000000010Z" {
		t.Fatalf("dueAt = %#v", item["dueAt"])
	}
	if v, _ := item["dueShard"].(*types.AttributeValueMemberS); v == nil || v.Value != "due" {
		t.Fatalf("dueShard = %#v", item["dueShard"])
	}
	out, err := client.Query(ctx, &dynamodb.QueryInput{
		TableName: aws.String(table), IndexName: aws.String(dynamo.DueIndex),
		KeyConditionExpression:    aws.String("dueShard = :s"),
		ExpressionAttributeValues: map[string]types.AttributeValue{":s": &types.AttributeValueMemberS{Value: "due"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Items) != 1 {
		t.Fatalf("due index holds %d items, want 1", len(out.Items))
	}
	h.NextScheduledDate = time.Time{}
	if _, err := s.UpdateHook(ctx, h); err != nil {
		t.Fatal(err)
	}
	item = rawItem(t, client, table, "HOOK#g", "h")
	for _, a := range []string{"dueAt", "dueShard", "nextAt"} {
		if _, ok := item[a]; ok {
			t.Fatalf("unscheduled hook still carries %s", a)
		}
	}
	due, err := s.ListDue(ctx, at.Add(time.Hour), 0)
	if err != nil || len(due) != 0 {
		t.Fatalf("ListDue after unscheduling = %v, %v", due, err)
	}
}

// TestListDueManyPages lists more due hooks than one BatchGetItem call takes.
func TestListDueManyPages(t *testing.T) {
	s, _, _ := rawStore(t)
	ctx := t.Context()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const n = 130
	for i := range n {
		h := store.Hook{HookGroupID: "g" + strconv.Itoa(i%4), HookID: fmt.Sprintf("h%03d", i), TriggerToken: "x", NextScheduledDate: base.Add(time.Duration(n-i) * time.Second)}
		if _, err := s.CreateHook(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct{ limit, want int }{{0, n}, {n + 5, n}, {101, 101}, {7, 7}} {
		due, err := s.ListDue(ctx, base.Add(time.Hour), tt.limit)
		if err != nil {
			t.Fatal(err)
		}
		if len(due) != tt.want {
			t.Fatalf("limit %d: %d due hooks, want %d", tt.limit, len(due), tt.want)
		}
		for i := 1; i < len(due); i++ {
			if !due[i-1].NextScheduledDate.Before(due[i].NextScheduledDate) {
				t.Fatalf("limit %d: not oldest first at %d", tt.limit, i)
			}
		}
		if due[0].HookID != fmt.Sprintf("h%03d", n-1) {
			t.Fatalf("limit %d: first due = %s", tt.limit, due[0].HookID)
		}
	}
}

// TestDeleteManyLastFires deletes more records than one BatchWriteItem and
// one query page hold.
func TestDeleteManyLastFires(t *testing.T) {
	s, _, _ := rawStore(t)
	ctx := t.Context()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 60 {
		f := store.LastFire{HookGroupID: "g", HookID: "h", TaskID: fmt.Sprintf("t%02d", i), TaskCreateTime: base.Add(time.Duration(i) * time.Second), Result: "success"}
		if err := s.PutLastFire(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.DeleteLastFires(ctx, "g", "h"); err != nil {
		t.Fatal(err)
	}
	fires, _, err := s.ListLastFires(ctx, "g", "h", store.Page{})
	if err != nil || len(fires) != 0 {
		t.Fatalf("%d fires left, %v", len(fires), err)
	}
}

// DynamoDB's time to live deletes expired records behind the counts'
// back: a count found over its cap, a day after it was last counted, is
// recounted before anything is trimmed, so the records TTL removed do not
// cost live ones.
func TestHistoryCountSurvivesTTL(t *testing.T) {
	s, client, table := rawStore(t)
	ctx := t.Context()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	put := func(i int) {
		f := store.LastFire{HookGroupID: "g", HookID: "h", FiredBy: "triggerHook", TaskID: fmt.Sprintf("t%02d", i),
			TaskCreateTime: at.Add(time.Duration(i) * time.Second), Result: "success", KeepAtMost: 5}
		if err := s.PutLastFire(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 5 {
		put(i)
	}
	// "TTL" removes the three oldest.
	fires, _, err := s.ListLastFires(ctx, "g", "h", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fires[2:] {
		_, err := client.DeleteItem(ctx, &dynamodb.DeleteItemInput{TableName: aws.String(table), Key: map[string]types.AttributeValue{
			"pk": &types.AttributeValueMemberS{Value: "FIRE#1#g#h"},
			"sk": &types.AttributeValueMemberS{Value: f.TaskCreateTime.UTC().Format("2006-01-02T15:04:05.000000000Z") + "#" + f.TaskID},
		}})
		if err != nil {
			t.Fatal(err)
		}
	}
	// Three more a day later: the count says 8, the recount 5, so nothing
	// is trimmed.
	dynamo.SetNow(s, func() time.Time { return time.Now().Add(25 * time.Hour) })
	for i := 10; i < 13; i++ {
		put(i)
	}
	fires, _, err = s.ListLastFires(ctx, "g", "h", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, f := range fires {
		ids = append(ids, f.TaskID)
	}
	if fmt.Sprint(ids) != "[t12 t11 t10 t04 t03]" {
		t.Fatalf("after TTL and three more: %v", ids)
	}
	count := rawItem(t, client, table, "COUNT#1#g#h", "history")
	if n := count["fires"].(*types.AttributeValueMemberN).Value; n != "5" {
		t.Fatalf("count after the recount: %s", n)
	}
}
