package auth

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"hash"
	"strconv"
	"strings"
	"sync"
)

// maxHawkLength is Hawk's limit on the Authorization header and on a bewit
// request's resource.
const maxHawkLength = 4096

// hawkAttrs are the attributes of a Hawk Authorization header. Values are
// substrings of the header; has records which were present.
type hawkAttrs struct {
	id, ts, nonce, hash, ext, mac, app, dlg string
	has                                     uint8
}

const (
	hasID = 1 << iota
	hasTS
	hasNonce
	hasHash
	hasExt
	hasMAC
	hasApp
	hasDlg
)

// field returns the storage and presence bit of a known attribute name.
func (a *hawkAttrs) field(name string) (*string, uint8) {
	switch name {
	case "id":
		return &a.id, hasID
	case "ts":
		return &a.ts, hasTS
	case "nonce":
		return &a.nonce, hasNonce
	case "hash":
		return &a.hash, hasHash
	case "ext":
		return &a.ext, hasExt
	case "mac":
		return &a.mac, hasMAC
	case "app":
		return &a.app, hasApp
	case "dlg":
		return &a.dlg, hasDlg
	}
	return nil, 0
}

func isWordChar(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}

// isValueChar reports whether c may appear in an attribute value: space,
// word characters and !#$%&'()*+,-./:;<=>?@[]^`{|}~ (no quote, no backslash).
func isValueChar(c byte) bool {
	if isWordChar(c) {
		return true
	}
	switch c {
	case ' ', '!', '#', '$', '%', '&', '\'', '(', ')', '*', '+', ',', '-', '.', '/',
		':', ';', '<', '=', '>', '?', '@', '[', ']', '^', '`', '{', '|', '}', '~':
		return true
	}
	return false
}

// parseHeader parses a Hawk Authorization header exactly as Hawk 9 does
// (utils.parseAuthorizationHeader) and returns Taskcluster's failure message
// when it is not acceptable. It does not check which attributes are present.
func parseHeader(h string) (hawkAttrs, string) {
	var a hawkAttrs
	if len(h) > maxHawkLength {
		return a, "Bad Request: Header length too long"
	}
	// ^(\w+)(?:\s+(.*))?$ where "." excludes line terminators.
	i := 0
	for i < len(h) && isWordChar(h[i]) {
		i++
	}
	if i == 0 {
		return a, "Bad Request: Invalid header syntax"
	}
	scheme, rest := h[:i], h[i:]
	if rest != "" {
		if !isSpace(rest[0]) {
			return a, "Bad Request: Invalid header syntax"
		}
		for rest != "" && isSpace(rest[0]) {
			rest = rest[1:]
		}
		if strings.ContainsAny(rest, "\r\n") {
			return a, "Bad Request: Invalid header syntax"
		}
	}
	if !strings.EqualFold(scheme, "hawk") {
		return a, "Unauthorized: Unauthorized"
	}
	if rest == "" {
		return a, "Bad Request: Invalid header syntax"
	}

	// Hawk removes every match of (\w+)="([^"\\]*)"\s*(?:,\s*|$) and fails
	// if anything is left; errors found on the way overwrite each other.
	msg := ""
	leftover := false
	for p := 0; p < len(rest); {
		name, value, end, ok := matchAttr(rest, p)
		if !ok {
			leftover = true
			// A match cannot start inside the same run of word characters.
			q := p
			for q < len(rest) && isWordChar(rest[q]) {
				q++
			}
			if q == p {
				q++
			}
			p = q
			continue
		}
		p = end
		dst, bit := a.field(name)
		switch {
		case dst == nil:
			msg = "Bad Request: Unknown attribute: " + name
		case !validValue(value):
			msg = "Bad Request: Bad attribute value: " + name
		case a.has&bit != 0:
			msg = "Bad Request: Duplicate attribute: " + name
		default:
			*dst = value
			a.has |= bit
		}
	}
	if msg != "" {
		return hawkAttrs{}, msg
	}
	if leftover {
		return hawkAttrs{}, "Bad Request: Bad header format"
	}
	return a, ""
}

// matchAttr matches (\w+)="([^"\\]*)"\s*(?:,\s*|$) at position p of s.
func matchAttr(s string, p int) (name, value string, end int, ok bool) {
	i := p
	for i < len(s) && isWordChar(s[i]) {
		i++
	}
	if i == p || i+1 >= len(s) || s[i] != '=' || s[i+1] != '"' {
		return "", "", 0, false
	}
	name = s[p:i]
	start := i + 2
	j := start
	for j < len(s) && s[j] != '"' && s[j] != '\\' {
		j++
	}
	if j >= len(s) || s[j] != '"' {
		return "", "", 0, false
	}
	value = s[start:j]
	k := j + 1
	for k < len(s) && isSpace(s[k]) {
		k++
	}
	switch {
	case k == len(s):
	case s[k] == ',':
		k++
		for k < len(s) && isSpace(s[k]) {
			k++
		}
	default:
		return "", "", 0, false
	}
	return name, value, k, true
}

func validValue(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if !isValueChar(v[i]) {
			return false
		}
	}
	return true
}

// macInput is what a Hawk MAC covers.
type macInput struct {
	kind     string // "header" or "bewit"
	ts       string
	nonce    string
	method   string // any case; upper-cased in the normalized string
	resource string
	host     string
	port     string
	hash     string
	ext      string
	app, dlg string
	hasApp   bool
}

// appendNormalized appends Hawk's normalized string for m to dst.
func (m *macInput) appendNormalized(dst []byte) []byte {
	dst = append(dst, "hawk.1."...)
	dst = append(dst, m.kind...)
	dst = append(dst, '\n')
	dst = append(dst, m.ts...)
	dst = append(dst, '\n')
	dst = append(dst, m.nonce...)
	dst = append(dst, '\n')
	for i := 0; i < len(m.method); i++ {
		c := m.method[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	dst = append(dst, '\n')
	dst = append(dst, m.resource...)
	dst = append(dst, '\n')
	dst = append(dst, m.host...)
	dst = append(dst, '\n')
	dst = append(dst, m.port...)
	dst = append(dst, '\n')
	dst = append(dst, m.hash...)
	dst = append(dst, '\n')
	for i := 0; i < len(m.ext); i++ {
		switch c := m.ext[i]; c {
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\n':
			dst = append(dst, '\\', 'n')
		default:
			dst = append(dst, c)
		}
	}
	dst = append(dst, '\n')
	if m.hasApp {
		dst = append(dst, m.app...)
		dst = append(dst, '\n')
		dst = append(dst, m.dlg...)
		dst = append(dst, '\n')
	}
	return dst
}

// normalized returns Hawk's normalized string for m.
func (m *macInput) normalized() string {
	return string(m.appendNormalized(nil))
}

// mac computes the base64 MAC of m with the key into dst (44 bytes).
func (m *macInput) mac(key string, dst *[44]byte) {
	var buf [512]byte
	msg := m.appendNormalized(buf[:0])
	h := hmac.New(sha256.New, []byte(key))
	h.Write(msg)
	var sum [sha256.Size]byte
	base64.StdEncoding.Encode(dst[:], h.Sum(sum[:0]))
}

// keyedMACs keeps HMAC-SHA256 states keyed with one client's access
// token: hmac.New hashes the key into both pads for every MAC, where a
// Reset restores them. It is a request's second-largest cost in Hawk
// verification after the MAC itself.
type keyedMACs struct{ pool sync.Pool }

// macState is a pooled HMAC state with the buffers it writes and sums
// into: buffers on the stack would escape through the hash.Hash
// interface, two allocations per request.
type macState struct {
	h   hash.Hash
	buf [512]byte
	sum [sha256.Size]byte
}

func newKeyedMACs(key string) *keyedMACs {
	k := []byte(key)
	return &keyedMACs{pool: sync.Pool{New: func() any { return &macState{h: hmac.New(sha256.New, k)} }}}
}

// mac is macInput.mac with a pooled HMAC state.
func (k *keyedMACs) mac(m *macInput, dst *[44]byte) {
	st := k.pool.Get().(*macState)
	msg := m.appendNormalized(st.buf[:0])
	st.h.Reset()
	st.h.Write(msg)
	base64.StdEncoding.Encode(dst[:], st.h.Sum(st.sum[:0]))
	k.pool.Put(st)
}

// macString computes the base64 MAC of m with the key.
func (m *macInput) macString(key string) string {
	var out [44]byte
	m.mac(key, &out)
	return string(out[:])
}

// equalConstantTime compares a computed value with a received one without
// an early exit, so timing reveals nothing about where they differ.
func equalConstantTime(computed []byte, received string) bool {
	if len(computed) != len(received) {
		return false
	}
	var v byte
	for i := range computed {
		v |= computed[i] ^ received[i]
	}
	return v == 0
}

// PayloadHash returns Hawk's payload hash of a body sent with the given
// Content-Type header: base64(SHA-256("hawk.1.payload\n" + media type +
// "\n" + body + "\n")), where the media type is the header up to the first
// ";", trimmed and lower-cased.
func PayloadHash(contentType string, body []byte) string {
	if i := strings.IndexByte(contentType, ';'); i >= 0 {
		contentType = contentType[:i]
	}
	contentType = strings.ToLower(strings.TrimSpace(contentType))
	h := sha256.New()
	h.Write([]byte("hawk.1.payload\n"))
	h.Write([]byte(contentType))
	h.Write([]byte("\n"))
	h.Write(body)
	h.Write([]byte("\n"))
	var sum [sha256.Size]byte
	return base64.StdEncoding.EncodeToString(h.Sum(sum[:0]))
}

// parseTS accepts the decimal timestamps real clients send. Hawk itself
// coerces with JavaScript arithmetic and so accepts "abc" (NaN never looks
// stale); we refuse anything that is not plain digits.
func parseTS(ts string) (int64, bool) {
	if ts == "" || len(ts) > 15 {
		return 0, false
	}
	for i := 0; i < len(ts); i++ {
		if ts[i] < '0' || ts[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	return n, err == nil
}

// bewitParts is a bewit found in a request resource.
type bewitParts struct {
	value    string // the encoded bewit
	resource string // the resource with the bewit parameter removed
}

// findBewit applies Hawk's ^(\/.*)([?&])bewit=([^&$]*)(?:&(.+))?$ to the
// resource: the last bewit parameter that the pattern accepts wins.
func findBewit(resource string) (bewitParts, bool) {
	if !strings.HasPrefix(resource, "/") || strings.ContainsAny(resource, "\r\n") {
		return bewitParts{}, false
	}
	for end := len(resource); ; {
		i := strings.LastIndex(resource[:end], "bewit=")
		if i < 0 {
			return bewitParts{}, false
		}
		end = i
		if i < 2 || resource[i-1] != '?' && resource[i-1] != '&' {
			continue
		}
		sep := resource[i-1]
		start := i + len("bewit=")
		j := start
		for j < len(resource) && resource[j] != '&' && resource[j] != '$' {
			j++
		}
		rest := ""
		switch {
		case j == len(resource):
		case resource[j] == '&' && j+1 < len(resource):
			rest = resource[j+1:]
		default:
			continue
		}
		out := bewitParts{value: resource[start:j], resource: resource[:i-1]}
		if rest != "" {
			out.resource += string(sep) + rest
		}
		return out, true
	}
}

// hasBewitPrefix reports whether Taskcluster would treat the resource as a
// bewit request (^/.*[?&]bewit=).
func hasBewitPrefix(resource string) bool {
	return strings.HasPrefix(resource, "/") &&
		(strings.Contains(resource, "?bewit=") || strings.Contains(resource, "&bewit="))
}
