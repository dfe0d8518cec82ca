package hooks

import (
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hookline/hookline/shared/jsone"
	"github.com/hookline/hookline/shared/jsontext"
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
	case jsontext.NestingExceeds(raw, maxDecisionDepth):
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
