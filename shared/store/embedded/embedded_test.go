package embedded_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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
	ctx := t.Context()
	created, err := s.CreateHook(ctx, store.Hook{HookGroupID: "g", HookID: "h", Definition: []byte(`{"a":1}`),
		TriggerToken: "tok", NextTaskID: "task", NextScheduledDate: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
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
	if d := cmp.Diff(created, h); d != "" {
		t.Fatalf("hook after reopen differs (-before +after):\n%s", d)
	}
}

func TestExpireLastFires(t *testing.T) {
	s, err := embedded.Open(filepath.Join(t.TempDir(), "hookline.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var put []store.LastFire
	for i, exp := range []time.Duration{-time.Hour, 0, time.Hour} {
		f := store.LastFire{HookGroupID: "g", HookID: "h", TaskID: string(rune('a' + i)), TaskCreateTime: base.Add(time.Duration(i) * time.Second), Result: "success", ExpiresAt: base.Add(exp)}
		if err := s.PutLastFire(ctx, f); err != nil {
			t.Fatal(err)
		}
		put = append(put, f)
	}
	n, err := s.ExpireLastFires(ctx, base)
	if err != nil || n != 2 {
		t.Fatalf("expired %d, err %v; want 2", n, err)
	}
	fires, _, err := s.ListLastFires(ctx, "g", "h", store.Page{})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(put[2:], fires); d != "" {
		t.Fatalf("fires left after the expiry (-want +got):\n%s", d)
	}
	if n, _ := s.ExpireLastFires(ctx, base); n != 0 {
		t.Fatalf("second expiry deleted %d", n)
	}
}
