// Package slugid makes and checks slugids, the ids Taskcluster gives tasks:
// a v4 UUID encoded as 22 URL-safe base64 characters. Hookline uses "nice"
// slugids (first bit clear, so an id never starts with '-') for taskIds and
// trigger tokens, random or derived from a hash so that a retried fire
// names the same task.
package slugid

import (
	"crypto/rand"
	"encoding/base64"
	"io"
	"regexp"
)

// nicePattern is the form of a nice slugid: a v4 UUID with the first bit
// clear, encoded as 22 URL-safe base64 characters.
var nicePattern = regexp.MustCompile(`^[A-Za-z0-9_-]{8}[Q-T][A-Za-z0-9_-][CGKOSWaeimquy26-][A-Za-z0-9_-]{10}[AQgw]$`)

// Valid reports whether s is a valid nice slugid.
func Valid(s string) bool { return nicePattern.MatchString(s) }

// New returns a random nice slugid read from crypto/rand.
func New() string {
	id, err := From(rand.Reader)
	if err != nil {
		// crypto/rand.Read never fails on supported platforms (Go 1.24+
		// aborts the program instead), so this is unreachable.
		panic(err)
	}
	return id
}

// From builds a nice slugid from 16 bytes of r.
func From(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	return FromBytes(b), nil
}

// FromBytes turns 16 bytes (for instance a hash, for deterministic ids)
// into a nice slugid by stamping the UUID v4 version and variant bits and
// clearing the first bit.
func FromBytes(b [16]byte) string {
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	b[0] &= 0x7f            // "nice": never starts with '-'
	return base64.RawURLEncoding.EncodeToString(b[:])
}
