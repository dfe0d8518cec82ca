//go:build integration

package dynamo_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/dynamo"
	"github.com/hookline/hookline/shared/store/dynamo/dynamotest"
	"github.com/hookline/hookline/shared/store/storetest"
)

func TestMain(m *testing.M) { dynamotest.Main(m) }

func newStore(tb testing.TB) store.Store {
	tb.Helper()
	client := dynamotest.Client(tb)
	return dynamo.New(client, dynamotest.NewTable(tb, client))
}

func TestConformance(t *testing.T) { storetest.Run(t, newStore) }

func BenchmarkConformance(b *testing.B) { storetest.Bench(b, newStore) }

// Backend-specific tests follow.

// Deleting a group's last hook while another hook of the group is being
// created must never leave hooks without a group marker.
func TestGroupMarkerRace(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for i := range 30 {
		group := fmt.Sprintf("race%d", i)
		if _, err := s.CreateHook(ctx, store.Hook{HookGroupID: group, HookID: "old", Definition: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		var wg sync.WaitGroup
		wg.Go(func() {
			if err := s.DeleteHook(ctx, group, "old", 0); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if _, err := s.CreateHook(ctx, store.Hook{HookGroupID: group, HookID: "new", Definition: []byte(`{}`)}); err != nil {
				t.Error(err)
			}
		})
		wg.Wait()
		groups, _, err := s.ListHookGroups(ctx, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, g := range groups {
			found = found || g == group
		}
		if !found {
			t.Fatalf("group %s has a hook but no marker", group)
		}
	}
}

// A token taken from one listing cannot read another partition.
func TestTokenCannotCrossPartitions(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	for _, id := range []string{"a", "b"} {
		s.CreateHook(ctx, store.Hook{HookGroupID: "mine", HookID: id, Definition: []byte(`{}`)})
	}
	_, tok, err := s.ListHooks(ctx, "mine", store.Page{Limit: 1})
	if err != nil || tok == "" {
		t.Fatalf("token %q err %v", tok, err)
	}
	if _, _, err := s.ListHooks(ctx, "other", store.Page{Token: tok}); !errors.Is(err, store.ErrBadToken) {
		t.Fatalf("cross-partition token: %v", err)
	}
	if _, _, err := s.ListHookGroups(ctx, store.Page{Token: tok}); !errors.Is(err, store.ErrBadToken) {
		t.Fatalf("hooks token on groups: %v", err)
	}
}
