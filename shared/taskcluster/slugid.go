package taskcluster

import (
	"crypto/rand"
	"encoding/base64"
	"io"
	"regexp"
)

// slugPattern is the form of a "nice" slugid, which Taskcluster uses for
// taskIds: a v4 UUID with the first bit clear, encoded as 22 URL-safe
// base64 characters.
var slugPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]$`)

// IsSlugID reports whether s is a valid nice slugid.
func IsSlugID(s string) bool { return slugPattern.MatchString(s) }

// NewSlugID returns a random nice slugid read from crypto/rand.
func NewSlugID() string {
	id, err := SlugIDFrom(rand.Reader)
	if err != nil {
		// crypto/rand.Read never fails on supported platforms (Go 1.24+
		// aborts the program instead), so this is unreachable.
		panic(err)
	}
	return id
}

// SlugIDFrom builds a nice slugid from 16 bytes of r.
func SlugIDFrom(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	return SlugIDFromBytes(b), nil
}

// SlugIDFromBytes turns 16 bytes (for instance a hash, for deterministic
// ids) into a nice slugid by stamping the UUID v4 version and variant bits
// and clearing the first bit.
func SlugIDFromBytes(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	b[0] &= 0x7f            // "nice": never starts with '-'
	return base64.RawURLEncoding.EncodeToString(b[:])
}
