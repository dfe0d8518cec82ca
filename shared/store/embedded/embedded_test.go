package embedded_test

import (
	"context"
	"path/filepath"
	"testing"

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
