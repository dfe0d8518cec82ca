package auth

import (
	"slices"
	"strings"
)

// ValidScope reports whether s is a valid Taskcluster scope: any string of
// printable ASCII characters (0x20 to 0x7e), including the empty string.
func ValidScope(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// ScopeSatisfies reports whether holding the scope given satisfies the scope
// required: they are equal, or given ends in "*" and required starts with
// the rest of given. A "*" anywhere else is an ordinary character.
func ScopeSatisfies(given, required string) bool {
	if given == required {
		return true
	}
	n := len(given) - 1
	return n >= 0 && given[n] == '*' && strings.HasPrefix(required, given[:n])
}

func setSatisfies(scopes []string, required string) bool {
	for _, g := range scopes {
		if ScopeSatisfies(g, required) {
			return true
		}
	}
	return false
}

// CompareScopes orders scopes as Taskcluster does: by bytes, except that a
// trailing "*" sorts before the end of the string, so for a prefix P the
// order is P*, P, P<anything>. It returns -1, 0 or +1.
func CompareScopes(a, b string) int {
	// Each string is read as its characters, where a final '*' becomes a
	// symbol lower than "end of string", which is lower than any character.
	const (
		star = -2
		end  = -1
	)
	at := func(s string, i int) int {
		switch {
		case i == len(s)-1 && s[i] == '*':
			return star
		case i >= len(s):
			return end
		}
		return int(s[i])
	}
	for i := 0; ; i++ {
		x, y := at(a, i), at(b, i)
		if x != y {
			if x < y {
				return -1
			}
			return 1
		}
		if x == end || x == star {
			return 0
		}
	}
}

// NormalizeScopes returns a new, sorted (CompareScopes) scope set without
// duplicates and without any scope satisfied by a star scope in the set:
// ["a", "a*", "ab", "b"] becomes ["a*", "b"]. It never returns nil.
func NormalizeScopes(scopes []string) []string {
	sorted := slices.Clone(scopes)
	slices.SortFunc(sorted, CompareScopes)
	out := sorted[:0]
	star, haveStar := "", false
	for _, s := range sorted {
		if haveStar && strings.HasPrefix(s, star) {
			continue
		}
		if len(out) > 0 && out[len(out)-1] == s {
			continue
		}
		out = append(out, s)
		if strings.HasSuffix(s, "*") {
			star, haveStar = s[:len(s)-1], true
		}
	}
	if out == nil {
		return []string{}
	}
	return out
}

// UnionScopes returns the normalized union of two scope sets.
func UnionScopes(a, b []string) []string {
	all := make([]string, 0, len(a)+len(b))
	all = append(all, a...)
	return NormalizeScopes(append(all, b...))
}

// IntersectScopes returns the scopes satisfied by both sets: the scopes of a
// that b satisfies, then those of b that a satisfies, without duplicates and
// in that order (as taskcluster-lib-scopes' scopeIntersection does).
func IntersectScopes(a, b []string) []string {
	out := []string{}
	add := func(s string) {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	for _, s := range a {
		if setSatisfies(b, s) {
			add(s)
		}
	}
	for _, s := range b {
		if setSatisfies(a, s) {
			add(s)
		}
	}
	return out
}
