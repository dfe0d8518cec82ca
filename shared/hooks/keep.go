package hooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hookline/hookline/shared/jsone"
)

// What a decision keeps of a payload it cannot keep whole. A decision is
// read back by encoding/json, which refuses nesting deeper than 10,000
// levels, and by the console and API clients, which may refuse less: so a
// payload is kept only when it is within the size limit, valid UTF-8,
// valid JSON and within the depth JSON-e renders (jsone.DefaultMaxDepth).
// Otherwise the decision says why, how large it was, and shows its start.
const (
	// maxDecisionDepth is the deepest nesting a kept payload may have.
	maxDecisionDepth = jsone.DefaultMaxDepth
	// maxTemplateDepth is the deepest nesting of a hook's task template.
	maxTemplateDepth = jsone.DefaultMaxDepth
	// payloadPrefixLen bounds the start of a refused payload a decision
	// keeps to look at (payloadPrefix).
	payloadPrefixLen = 1 << 10
)

// payloadProblem says why raw cannot be kept in a decision, or "" when it
// can.
func payloadProblem(raw []byte) string {
	switch {
	case len(raw) > maxDecisionPayload:
		return fmt.Sprintf("the payload is larger than %d KiB", maxDecisionPayload>>10)
	case !utf8.Valid(raw):
		return "the payload is not valid UTF-8"
	case nestingExceeds(raw, maxDecisionDepth):
		return fmt.Sprintf("the payload nests deeper than %d levels", maxDecisionDepth)
	case !json.Valid(raw):
		return "the payload is not JSON"
	}
	return ""
}

// payloadPrefix is the start of raw as valid UTF-8: at most
// payloadPrefixLen bytes, invalid bytes replaced by U+FFFD.
func payloadPrefix(raw []byte) string {
	if len(raw) > payloadPrefixLen {
		// Cut before a character, not inside one: back up over at most
		// three continuation bytes.
		cut := payloadPrefixLen
		for k := 1; k < utf8.UTFMax && !utf8.RuneStart(raw[cut]); k++ {
			cut--
		}
		raw = raw[:cut]
	}
	return strings.ToValidUTF8(string(raw), "\uFFFD")
}

// nestingExceeds reports whether the JSON text b nests arrays and objects
// deeper than limit. It reads brackets outside strings only and does not
// validate b, so it costs one pass whatever b holds.
func nestingExceeds(b []byte, limit int) bool {
	depth := 0
	inString, escaped := false, false
	for _, c := range b {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
			if depth > limit {
				return true
			}
		case c == ']' || c == '}':
			depth--
		}
	}
	return false
}

// withoutMembers returns the JSON object text b without its members
// named in drop, reading only its top level: a stored decision whose
// payload cannot be decoded is read without it. It fails when b is not
// an object.
func withoutMembers(b []byte, drop ...string) ([]byte, error) {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("not a JSON object")
	}
	out := []byte{'{'}
	i := 1
	for {
		i = skipSpace(b, i)
		if i >= len(b)-1 {
			break
		}
		if b[i] != '"' {
			return nil, fmt.Errorf("want a member name at byte %d", i)
		}
		nameEnd := skipValue(b, i)
		var name string
		if err := json.Unmarshal(b[i:nameEnd], &name); err != nil {
			return nil, fmt.Errorf("member name at byte %d: %w", i, err)
		}
		j := skipSpace(b, nameEnd)
		if j >= len(b) || b[j] != ':' {
			return nil, fmt.Errorf("want ':' at byte %d", j)
		}
		valStart := skipSpace(b, j+1)
		valEnd := skipValue(b, valStart)
		keep := true
		for _, d := range drop {
			keep = keep && name != d
		}
		if keep {
			if len(out) > 1 {
				out = append(out, ',')
			}
			out = append(out, b[i:nameEnd]...)
			out = append(out, ':')
			out = append(out, b[valStart:valEnd]...)
		}
		i = skipSpace(b, valEnd)
		if i < len(b) && b[i] == ',' {
			i++
		}
	}
	return append(out, '}'), nil
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// skipValue returns the end of the JSON value starting at b[i]: a
// string, or anything up to the ',' or closing bracket that ends it at
// its own level. Nesting is counted, not bounded.
func skipValue(b []byte, i int) int {
	depth := 0
	inString, escaped := false, false
	for ; i < len(b); i++ {
		c := b[i]
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
				if depth == 0 {
					return i + 1
				}
			}
		case c == '"':
			inString = true
		case c == '[' || c == '{':
			depth++
		case c == ']' || c == '}':
			if depth == 0 {
				return i
			}
			depth--
			if depth == 0 {
				return i + 1
			}
		case c == ',' && depth == 0:
			return i
		}
	}
	return i
}
