package taskcluster

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

func TestSlugIDs(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		id := NewSlugID()
		if !IsSlugID(id) {
			t.Fatalf("%q is not a nice slugid", id)
		}
		if seen[id] {
			t.Fatalf("duplicate slugid %q", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "abc", "not-a-slug-id-at-all!!", "-AAAAAAAQAAAAAAAAAAAAA"} {
		if IsSlugID(bad) {
			t.Errorf("IsSlugID(%q) = true", bad)
		}
	}
}

func TestSlugIDFromBytesIsDeterministic(t *testing.T) {
	sum := sha256.Sum256([]byte("hook/exchange/key/body"))
	var b [16]byte
	copy(b[:], sum[:])
	a, c := SlugIDFromBytes(b), SlugIDFromBytes(b)
	if a != c || !IsSlugID(a) {
		t.Fatalf("got %q and %q", a, c)
	}
	if _, err := SlugIDFrom(bytes.NewReader([]byte{1, 2})); err == nil {
		t.Fatal("short reader must fail")
	}
}
