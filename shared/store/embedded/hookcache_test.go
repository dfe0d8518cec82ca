package embedded

import (
	"bytes"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline/shared/store"
)

// The decoded-hook cache changes nothing a reader sees: each read returns
// what is stored now, in a Definition of the reader's own.
func TestHookCacheReadsWhatIsStored(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "hookline.db"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := t.Context()
	created, err := s.CreateHook(ctx, store.Hook{HookGroupID: "g", HookID: "h", Definition: []byte(`{"a":1}`),
		TriggerToken: "tok", NextTaskID: "task", NextScheduledDate: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	first, err := s.GetHook(ctx, "g", "h")
	if err != nil {
		t.Fatal(err)
	}
	// The reader's copy is its own: changing it changes no later read.
	first.Definition[2] = 'b'
	second, err := s.GetHook(ctx, "g", "h")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(created, second); d != "" {
		t.Fatalf("second read differs from the created hook (-created +read):\n%s", d)
	}
	if _, ok := s.hooks.entries[hookKey{"g", "h"}]; !ok {
		t.Fatal("a read hook is not cached")
	}
	// An update, even to the same definition, is read back.
	second.TriggerToken = "tok2"
	updated, err := s.UpdateHook(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	third, err := s.GetHook(ctx, "g", "h")
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff(updated, third); d != "" || third.TriggerToken != "tok2" || third.Version != 2 {
		t.Fatalf("read after update (-updated +read):\n%s", d)
	}
	if err := s.DeleteHook(ctx, "g", "h", third.Version); err != nil {
		t.Fatal(err)
	}
	if _, err := s.GetHook(ctx, "g", "h"); err == nil {
		t.Fatal("a deleted hook is still read")
	}
}

// The cache holds at most hookCacheMaxBytes of records, none larger than
// hookCacheMaxRecord, and shares each definition with its record.
func TestHookCacheBounds(t *testing.T) {
	var c hookCache
	def := bytes.Repeat([]byte("x"), 1000)
	for i := range 10000 {
		id := fmt.Sprint(i)
		raw := fmt.Appendf(nil, `{"def":"%s","token":"t","nextTaskId":"n","ver":1}`, def)
		c.put("g", id, raw, store.Hook{HookGroupID: "g", HookID: id, Definition: raw[7 : 7+len(def)+2], Version: 1})
		total := 0
		for _, e := range c.entries {
			total += len(e.raw)
		}
		if total != c.bytes || c.bytes > hookCacheMaxBytes {
			t.Fatalf("after %d puts the cache holds %d bytes, counts %d (limit %d)", i+1, total, c.bytes, hookCacheMaxBytes)
		}
	}
	for _, e := range c.entries {
		if &e.hook.Definition[0] != &e.raw[len(defPrefix)] {
			t.Fatal("a cached definition is a copy of its record's bytes, not a part of them")
		}
	}
	big := make([]byte, hookCacheMaxRecord+1)
	c.put("g", "big", big, store.Hook{})
	if _, ok := c.entries[hookKey{"g", "big"}]; ok {
		t.Fatal("a record over hookCacheMaxRecord is cached")
	}
	raw := []byte(`{"def":{},"ver":1}`)
	c.put("g", "0", raw, store.Hook{Definition: []byte(`{}`), Version: 1})
	if h, ok := c.get("g", "0", []byte(`{"def":{},"ver":2}`)); ok {
		t.Fatalf("get with other stored bytes answered %+v", h)
	}
	if h, ok := c.get("g", "0", raw); !ok || string(h.Definition) != `{}` {
		t.Fatalf("get with the same bytes: %+v, %v", h, ok)
	}
}
