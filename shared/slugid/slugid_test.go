package slugid

import (
	"bytes"
	"crypto/sha256"
	"testing"
)

func TestNew(t *testing.T) {
	seen := map[string]bool{}
	for range 2000 {
		id := New()
		if !Valid(id) {
			t.Fatalf("%q is not a nice slugid", id)
		}
		if seen[id] {
			t.Fatalf("duplicate slugid %q", id)
		}
		seen[id] = true
	}
	for _, bad := range []string{"", "abc", "not-a-slug-id-at-all!!", "-AAAAAAAQAAAAAAAAAAAAA"} {
		if Valid(bad) {
			t.Errorf("Valid(%q) = true", bad)
		}
	}
}

func TestFromBytesIsDeterministic(t *testing.T) {
	sum := sha256.Sum256([]byte("hook/exchange/key/body"))
	var b [16]byte
	copy(b[:], sum[:])
	a, c := FromBytes(b), FromBytes(b)
	if a != c || !Valid(a) {
		t.Fatalf("got %q and %q", a, c)
	}
	if _, err := From(bytes.NewReader([]byte{1, 2})); err == nil {
		t.Fatal("short reader must fail")
	}
}
