package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// The webhook route parses every delivery, and a GitHub push is tens of
// kilobytes: encoding/json decodes one of 25 KB into interface values in
// about 250 µs, most of it reflection and one allocation per string. This
// decoder produces exactly what json.Decoder with UseNumber produces (maps,
// slices, strings, json.Number, bools, nil; a repeated key keeps its last
// value) several times faster: it reads the body in place, so every plain
// string and number is a slice of it; only strings with escapes or invalid
// UTF-8 are built anew, following encoding/json's unquote. A differential
// fuzz test holds the two decoders equal.

// maxJSONDepth is encoding/json's nesting limit.
const maxJSONDepth = 10000

var errJSONDepth = errors.New("exceeded max depth")

// decodeJSONObject decodes a JSON document that must be an object.
func decodeJSONObject(data []byte) (map[string]any, error) {
	v, err := decodeJSON(data)
	if err != nil {
		return nil, err
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("must be a JSON object")
	}
	return obj, nil
}

// decodeJSON decodes one JSON value, with nothing but whitespace after it.
// The result's strings share data's memory instead of copying it (25 KB
// less to allocate and collect per GitHub push), so data must never be
// modified afterwards: callers pass a body read for this request alone.
func decodeJSON(data []byte) (any, error) {
	d := jsonDecoder{s: unsafe.String(unsafe.SliceData(data), len(data))}
	// Room for the members and elements open at once in a typical
	// document, so the scratch stacks rarely grow.
	d.members = make([]jsonMember, 0, 128)
	d.elements = make([]any, 0, 64)
	d.skipSpace()
	v, err := d.value(0)
	if err != nil {
		return nil, err
	}
	d.skipSpace()
	if d.i < len(d.s) {
		return nil, d.syntaxErr("after top-level value")
	}
	return v, nil
}

type jsonDecoder struct {
	s string
	i int
	// Members and elements of the objects and arrays being read, nested
	// ones after their parents'. Each container is made at its exact size
	// once it is complete, which saves growing maps and slices.
	members  []jsonMember
	elements []any
}

type jsonMember struct {
	key   string
	value any
}

func (d *jsonDecoder) syntaxErr(context string) error {
	if d.i >= len(d.s) {
		return errors.New("not valid JSON: unexpected end of input")
	}
	return fmt.Errorf("not valid JSON: invalid character %q %s at offset %d", d.s[d.i], context, d.i)
}

func (d *jsonDecoder) skipSpace() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *jsonDecoder) value(depth int) (any, error) {
	if d.i >= len(d.s) {
		return nil, d.syntaxErr("")
	}
	switch c := d.s[d.i]; {
	case c == '{':
		return d.object(depth + 1)
	case c == '[':
		return d.array(depth + 1)
	case c == '"':
		return d.str()
	case c == '-' || c >= '0' && c <= '9':
		return d.number()
	case c == 't':
		return true, d.literal("true")
	case c == 'f':
		return false, d.literal("false")
	case c == 'n':
		return nil, d.literal("null")
	default:
		return nil, d.syntaxErr("looking for beginning of value")
	}
}

func (d *jsonDecoder) literal(word string) error {
	if len(d.s)-d.i < len(word) || d.s[d.i:d.i+len(word)] != word {
		// Point at the first byte that differs.
		for k := 0; k < len(word) && d.i < len(d.s) && d.s[d.i] == word[k]; k++ {
			d.i++
		}
		return d.syntaxErr("in literal " + word)
	}
	d.i += len(word)
	return nil
}

func (d *jsonDecoder) object(depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, errJSONDepth
	}
	d.i++ // {
	d.skipSpace()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		return map[string]any{}, nil
	}
	// An error ends the whole decode, so only success pops the stack.
	first := len(d.members)
	for {
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return nil, d.syntaxErr("looking for beginning of object key string")
		}
		key, err := d.str()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return nil, d.syntaxErr("after object key")
		}
		d.i++
		d.skipSpace()
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		d.members = append(d.members, jsonMember{key, v})
		d.skipSpace()
		if d.i >= len(d.s) {
			return nil, d.syntaxErr("")
		}
		switch d.s[d.i] {
		case ',':
			d.i++
			d.skipSpace()
		case '}':
			d.i++
			members := d.members[first:]
			obj := make(map[string]any, len(members))
			for _, m := range members {
				obj[m.key] = m.value // a repeated key keeps its last value
			}
			d.members = d.members[:first]
			return obj, nil
		default:
			return nil, d.syntaxErr("after object key:value pair")
		}
	}
}

func (d *jsonDecoder) array(depth int) (any, error) {
	if depth > maxJSONDepth {
		return nil, errJSONDepth
	}
	d.i++ // [
	d.skipSpace()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
		return []any{}, nil
	}
	first := len(d.elements)
	for {
		v, err := d.value(depth)
		if err != nil {
			return nil, err
		}
		d.elements = append(d.elements, v)
		d.skipSpace()
		if d.i >= len(d.s) {
			return nil, d.syntaxErr("")
		}
		switch d.s[d.i] {
		case ',':
			d.i++
			d.skipSpace()
		case ']':
			d.i++
			arr := append([]any(nil), d.elements[first:]...)
			d.elements = d.elements[:first]
			return arr, nil
		default:
			return nil, d.syntaxErr("after array element")
		}
	}
}

// str reads a string at d.i (on its opening quote).
func (d *jsonDecoder) str() (string, error) {
	start := d.i
	d.i++
	plain := true
	for d.i < len(d.s) {
		// Most bytes are printable ASCII with no meaning in a string:
		// skip them eight at a time, then one at a time.
		for d.i+8 <= len(d.s) {
			w := d.s[d.i : d.i+8]
			v := uint64(w[0]) | uint64(w[1])<<8 | uint64(w[2])<<16 | uint64(w[3])<<24 |
				uint64(w[4])<<32 | uint64(w[5])<<40 | uint64(w[6])<<48 | uint64(w[7])<<56
			if !plainWord(v) {
				break
			}
			d.i += 8
		}
		for d.i < len(d.s) && plainStringByte[d.s[d.i]] {
			d.i++
		}
		if d.i >= len(d.s) {
			break
		}
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			if plain {
				return d.s[start+1 : d.i-1], nil
			}
			return d.slowString(start), nil
		case c == '\\':
			plain = false
			d.i++
			if d.i >= len(d.s) {
				return "", d.syntaxErr("")
			}
			switch d.s[d.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				d.i++
			case 'u':
				d.i++
				for k := 0; k < 4; k++ {
					if d.i >= len(d.s) {
						return "", d.syntaxErr("")
					}
					if !isHex(d.s[d.i]) {
						return "", d.syntaxErr("in \\u hexadecimal character escape")
					}
					d.i++
				}
			default:
				return "", d.syntaxErr("in string escape code")
			}
		case c < 0x20:
			return "", d.syntaxErr("in string literal")
		case c < utf8.RuneSelf:
			d.i++
		default:
			r, size := utf8.DecodeRuneInString(d.s[d.i:])
			if r == utf8.RuneError && size == 1 {
				plain = false // encoding/json replaces invalid bytes
			}
			d.i += size
		}
	}
	return "", d.syntaxErr("")
}

// slowString decodes the string literal s[start:d.i], already checked to
// be well-formed, that has escapes or invalid UTF-8. It follows
// encoding/json's unquote to the letter: a \u escape of a lone or
// mismatched surrogate, and every byte that is not valid UTF-8, becomes
// U+FFFD.
func (d *jsonDecoder) slowString(start int) string {
	lit := d.s[start+1 : d.i-1]
	// Unescaping shrinks a literal, but for each invalid byte, which
	// becomes a 3-byte U+FFFD: the builder grows then.
	var b strings.Builder
	b.Grow(len(lit))
	for r := 0; r < len(lit); {
		c := lit[r]
		switch {
		case plainStringByte[c]:
			// Copy the run of plain bytes up to the next special one.
			end := r + 1
			for end < len(lit) && plainStringByte[lit[end]] {
				end++
			}
			b.WriteString(lit[r:end])
			r = end
		case c == '\\':
			r++
			switch e := lit[r]; e {
			case '"', '\\', '/':
				b.WriteByte(e)
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				rr := hex4(lit[r+1:])
				r += 4
				if utf16.IsSurrogate(rr) {
					if r+2 < len(lit) && lit[r+1] == '\\' && lit[r+2] == 'u' {
						if dec := utf16.DecodeRune(rr, hex4(lit[r+3:])); dec != unicode.ReplacementChar {
							rr = dec
							r += 6
						} else {
							rr = unicode.ReplacementChar
						}
					} else {
						rr = unicode.ReplacementChar
					}
				}
				b.WriteRune(rr)
			}
			r++
		default:
			rr, size := utf8.DecodeRuneInString(lit[r:])
			b.WriteRune(rr)
			r += size
		}
	}
	return b.String()
}

// hex4 reads four hex digits, known to be there.
func hex4(s string) rune {
	var r rune
	for i := 0; i < 4; i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		default:
			c = c - 'A' + 10
		}
		r = r<<4 | rune(c)
	}
	return r
}

// Word-at-a-time byte tests: haszero(v) has a high bit set in some byte
// exactly when some byte of v is zero.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

func haszero(v uint64) uint64 { return (v - ones) & ^v & highs }

// plainWord reports whether all 8 bytes of w (little-endian) are
// plainStringByte ones: none is a control character (< 0x20), non-ASCII
// (>= 0x80), a quote or a backslash. A byte below 0x20 borrows in
// w-0x20..., which sets its high bit; bytes above it are not tested once a
// lower one has.
func plainWord(w uint64) bool {
	return (w|(w-0x20*ones))&highs|haszero(w^('"'*ones))|haszero(w^('\\'*ones)) == 0
}

// plainStringByte marks the bytes a string literal may hold as they are:
// ASCII, not a control character, quote or backslash.
var plainStringByte = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// number reads a number with JSON's grammar,
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?, keeping its text.
func (d *jsonDecoder) number() (any, error) {
	start := d.i
	if d.s[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.s) && d.s[d.i] == '0':
		d.i++
	case d.i < len(d.s) && d.s[d.i] >= '1' && d.s[d.i] <= '9':
		d.digits()
	default:
		return nil, d.syntaxErr("in numeric literal")
	}
	if d.i < len(d.s) && d.s[d.i] == '.' {
		d.i++
		if d.digits() == 0 {
			return nil, d.syntaxErr("after decimal point in numeric literal")
		}
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if d.digits() == 0 {
			return nil, d.syntaxErr("in exponent of numeric literal")
		}
	}
	return json.Number(d.s[start:d.i]), nil
}

func (d *jsonDecoder) digits() int {
	n := 0
	for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
		d.i++
		n++
	}
	return n
}
