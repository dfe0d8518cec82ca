package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/store"
)

// Bench measures the operations the API's hot paths use, so every backend
// reports comparable figures.
func Bench(b *testing.B, newStore NewStore) {
	b.Run("CreateHook", func(b *testing.B) {
		s := newStore(b)
		ctx := context.Background()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if _, err := s.CreateHook(ctx, sampleHook("bench", fmt.Sprintf("h%09d", i))); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("GetHook", func(b *testing.B) {
		s := newStore(b)
		ctx := context.Background()
		if _, err := s.CreateHook(ctx, sampleHook("bench", "h")); err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.GetHook(ctx, "bench", "h"); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ListHooks100", func(b *testing.B) {
		s := newStore(b)
		ctx := context.Background()
		for i := range 100 {
			if _, err := s.CreateHook(ctx, sampleHook("bench", fmt.Sprintf("h%03d", i))); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportAllocs()
		for b.Loop() {
			hooks, _, err := s.ListHooks(ctx, "bench", store.Page{})
			if err != nil || len(hooks) != 100 {
				b.Fatalf("got %d hooks, err %v", len(hooks), err)
			}
		}
	})
	b.Run("CreateClaim", func(b *testing.B) {
		s := newStore(b)
		ctx := context.Background()
		now := time.Now()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			c := store.Claim{Key: fmt.Sprintf("claim/%09d", i), Body: []byte(`{"taskId":"x"}`), CreatedAt: now}
			if err := s.CreateClaim(ctx, c, now); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
