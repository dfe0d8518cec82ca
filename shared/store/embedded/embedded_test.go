package embedded_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/embedded"
	"github.com/hookline/hookline/shared/store/storetest"
)

func newStore(tb testing.TB) store.Store {
	tb.Helper()
	s, err := embedded.Open(filepath.Join(tb.TempDir(), "hookline.db"), nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) { storetest.Run(t, newStore) }

func BenchmarkConformance(b *testing.B) { storetest.Bench(b, newStore) }

// Backend-specific tests follow.

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "data", "hookline.db")
	s, err := embedded.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.CreateHook(ctx, store.Hook{HookGroupID: "g", HookID: "h", Definition: []byte(`{"a":1}`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = embedded.Open(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h, err := s.GetHook(ctx, "g", "h")
	if err != nil {
		t.Fatal(err)
	}
	if string(h.Definition) != `{"a":1}` {
		t.Fatalf("definition after reopen = %s", h.Definition)
	}
}

func TestExpireLastFires(t *testing.T) {
	s, err := embedded.Open(filepath.Join(t.TempDir(), "hookline.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i, exp := range []time.Duration{-time.Hour, 0, time.Hour} {
		f := store.LastFire{HookGroupID: "g", HookID: "h", TaskID: string(rune('a' + i)), TaskCreateTime: base.Add(time.Duration(i) * time.Second), Result: "success", ExpiresAt: base.Add(exp)}
		if err := s.PutLastFire(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	n, err := s.ExpireLastFires(ctx, base)
	if err != nil || n != 2 {
		t.Fatalf("expired %d, err %v; want 2", n, err)
	}
	fires, _, _ := s.ListLastFires(ctx, "g", "h", store.Page{})
	if len(fires) != 1 || fires[0].TaskID != "c" {
		t.Fatalf("left: %+v", fires)
	}
	if n, _ := s.ExpireLastFires(ctx, base); n != 0 {
		t.Fatalf("second expiry deleted %d", n)
	}
}
