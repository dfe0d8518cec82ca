package storetest

import (
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
		ctx := b.Context()
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
		ctx := b.Context()
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
	// A hook at the size limit, against the small one above: on DynamoDB
	// it is split into chunk items.
	b.Run("CreateHook1MiB", func(b *testing.B) {
		s := newStore(b)
		ctx := b.Context()
		h := sampleHook("bench", "")
		h.Definition = sized(store.MaxHookSize, 1)
		b.SetBytes(int64(len(h.Definition)))
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			h.HookID = fmt.Sprintf("h%09d", i)
			if _, err := s.CreateHook(ctx, h); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("GetHook1MiB", func(b *testing.B) {
		s := newStore(b)
		ctx := b.Context()
		h := sampleHook("bench", "h")
		h.Definition = sized(store.MaxHookSize, 1)
		if _, err := s.CreateHook(ctx, h); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(h.Definition)))
		b.ReportAllocs()
		for b.Loop() {
			if got, err := s.GetHook(ctx, "bench", "h"); err != nil || len(got.Definition) != store.MaxHookSize {
				b.Fatalf("got %d bytes, err %v", len(got.Definition), err)
			}
		}
	})
	// What each scheduled fire of a hook at the size limit writes: the
	// scheduler's update advances the hook's slot and leaves its
	// definition as it was.
	b.Run("UpdateHook1MiBUnchanged", func(b *testing.B) {
		s := newStore(b)
		ctx := b.Context()
		h := sampleHook("bench", "h")
		h.Definition = sized(store.MaxHookSize, 1)
		h.NextScheduledDate = epoch
		cur, err := s.CreateHook(ctx, h)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			cur.NextScheduledDate = cur.NextScheduledDate.Add(time.Hour)
			if cur, err = s.UpdateHook(ctx, cur); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ListHooks100", func(b *testing.B) {
		s := newStore(b)
		ctx := b.Context()
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
		ctx := b.Context()
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
	// A fire writes its fire record alone (decision log off) or with its
	// decision in the same write: the difference is the log's cost.
	b.Run("PutLastFire", func(b *testing.B) {
		s := newStore(b)
		ctx := b.Context()
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			if err := s.PutLastFire(ctx, fire("bench", "h", fmt.Sprintf("t%09d", i), epoch.Add(time.Duration(i)), "success")); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	b.Run("PutDecisionWithFire", func(b *testing.B) {
		s := newStore(b)
		ctx := b.Context()
		body := []byte(`{"decisionId":"x","hookGroupId":"bench","hookId":"h","time":"2026-01-02T03:04:05Z","firedBy":"triggerHook","outcome":"created","taskId":"t","clientId":"c","payload":{"n":1}}`)
		b.ReportAllocs()
		i := 0
		for b.Loop() {
			at := epoch.Add(time.Duration(i))
			f := fire("bench", "h", fmt.Sprintf("t%09d", i), at, "success")
			d := store.Decision{HookGroupID: "bench", HookID: "h", ID: decisionID(at, fmt.Sprintf("%08x", i)), Body: body, ExpiresAt: at.Add(30 * 24 * time.Hour)}
			if err := s.PutDecision(ctx, d, &f); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
	// The history cap at work: every write of a hook at its cap deletes
	// its oldest fire record and decision. Compared with
	// PutDecisionWithFire (a hook below its cap, counted only), the
	// difference is the trimming's cost.
	b.Run("PutDecisionWithFireAtCap", func(b *testing.B) {
		const keep = 1000
		s := newStore(b)
		ctx := b.Context()
		body := []byte(`{"decisionId":"x","hookGroupId":"bench","hookId":"h","time":"2026-01-02T03:04:05Z","firedBy":"triggerHook","outcome":"created","taskId":"t","clientId":"c","payload":{"n":1}}`)
		put := func(i int) {
			at := epoch.Add(time.Duration(i))
			f := fire("bench", "h", fmt.Sprintf("t%09d", i), at, "success")
			f.KeepAtMost = keep
			d := store.Decision{HookGroupID: "bench", HookID: "h", ID: decisionID(at, fmt.Sprintf("%08x", i)), Body: body, ExpiresAt: at.Add(30 * 24 * time.Hour), KeepAtMost: keep}
			if err := s.PutDecision(ctx, d, &f); err != nil {
				b.Fatal(err)
			}
		}
		for i := range keep {
			put(i)
		}
		b.ReportAllocs()
		i := keep
		for b.Loop() {
			put(i)
			i++
		}
	})
}
