package jsone

import (
	"strings"
	"testing"
)

// TestArena checks that strings handed out by the arena never change,
// whether a string fits its chunk, overflows what it grabbed, or starts a
// new chunk.
func TestArena(t *testing.T) {
	var a arena
	var got, want []string
	for i := range 400 {
		text := strings.Repeat(string(rune('a'+i%26)), i%37)
		grab := len(text)
		if i%5 == 0 {
			grab = len(text) / 2 // append past what was grabbed
		}
		w := a.grab(grab)
		w = append(w, text...)
		got = append(got, a.take(w))
		want = append(want, text)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("string %d changed to %q, want %q", i, got[i], want[i])
		}
	}
}

// TestBoxing checks that values boxed from the slabs read back as what was
// put in, across several chunks.
func TestBoxing(t *testing.T) {
	r := newRenderer(Options{})
	var strs, arrays, nums []any
	for i := range 300 {
		strs = append(strs, r.str(strings.Repeat("x", i)))
		arrays = append(arrays, r.array(make([]any, i)))
		nums = append(nums, r.num(float64(i)-0.5))
	}
	for i := range 300 {
		if s, ok := strs[i].(string); !ok || len(s) != i {
			t.Fatalf("string %d reads back as %#v", i, strs[i])
		}
		if a, ok := arrays[i].([]any); !ok || len(a) != i {
			t.Fatalf("array %d reads back as %#v", i, arrays[i])
		}
		if f, ok := nums[i].(float64); !ok || f != float64(i)-0.5 {
			t.Fatalf("number %d reads back as %#v", i, nums[i])
		}
	}
}
