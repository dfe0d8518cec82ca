package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"time"
)

// Limits on temporary credentials (Taskcluster's).
const (
	// MaxTemporaryLifetime is the longest a certificate may be valid.
	MaxTemporaryLifetime = 31 * 24 * time.Hour
	certificateSkew      = 5 * time.Minute
	seedLength           = 44
)

// ext is the decoded Taskcluster ext attribute. Members stay as decoded
// JSON values (nil, bool, float64, string, []any, map[string]any) so that
// JavaScript's presence and type rules can be applied to them.
type ext struct {
	certificate      any
	authorizedScopes any
}

// decodeBase64Lenient decodes base64 the way Node's Buffer.from(s, "base64")
// does: both alphabets, padding optional, decoding stops at the first "=",
// and characters outside the alphabet are skipped.
func decodeBase64Lenient(s string) []byte {
	out := make([]byte, 0, len(s)*3/4)
	var acc uint32
	var bits uint
	for i := 0; i < len(s); i++ {
		c := s[i]
		var v byte
		switch {
		case 'A' <= c && c <= 'Z':
			v = c - 'A'
		case 'a' <= c && c <= 'z':
			v = c - 'a' + 26
		case '0' <= c && c <= '9':
			v = c - '0' + 52
		case c == '+' || c == '-':
			v = 62
		case c == '/' || c == '_':
			v = 63
		case c == '=':
			return out
		default:
			continue
		}
		acc = acc<<6 | uint32(v)
		bits += 6
		if bits >= 8 {
			bits -= 8
			out = append(out, byte(acc>>bits))
			acc &= 1<<bits - 1
		}
	}
	return out
}

// parseExt decodes the ext attribute: base64 of a JSON object. Unknown
// members are ignored.
func parseExt(s string) (ext, bool) {
	var members map[string]any
	if err := json.Unmarshal(decodeBase64Lenient(s), &members); err != nil || members == nil {
		return ext{}, false
	}
	return ext{certificate: members["certificate"], authorizedScopes: members["authorizedScopes"]}, true
}

// truthy applies JavaScript truthiness to a decoded JSON value.
func truthy(v any) bool {
	switch v := v.(type) {
	case nil:
		return false
	case bool:
		return v
	case float64:
		return v != 0 && !math.IsNaN(v)
	case string:
		return v != ""
	}
	return true
}

// validScopes returns v as scopes when it is an array of valid scopes;
// isArray reports whether it was an array at all.
func validScopes(v any) (scopes []string, isArray, valid bool) {
	items, ok := v.([]any)
	if !ok {
		return nil, false, false
	}
	scopes = make([]string, len(items))
	for i, it := range items {
		s, ok := it.(string)
		if !ok || !ValidScope(s) {
			return nil, true, false
		}
		scopes[i] = s
	}
	return scopes, true, true
}

// jsonKind returns the first byte of a JSON value, which names its type.
func jsonKind(raw json.RawMessage) byte {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return 0
	}
	return raw[0]
}

func jsonString(raw json.RawMessage) (string, bool) {
	if jsonKind(raw) != '"' {
		return "", false
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", false
	}
	return s, true
}

// jsNumberString formats a number as JavaScript's String(n) does for the
// values certificates carry.
func jsNumberString(f float64) string {
	if f == 0 {
		return "0"
	}
	if a := math.Abs(f); a >= 1e21 || a < 1e-6 {
		// Go writes 1e+21 and 1e-07; JavaScript writes 1e+21 and 1e-7.
		s := strconv.FormatFloat(f, 'e', -1, 64)
		i := strings.IndexByte(s, 'e')
		mant, sign, exp := s[:i], s[i+1:i+2], strings.TrimLeft(s[i+2:], "0")
		return mant + "e" + sign + exp
	}
	return strconv.FormatFloat(f, 'f', -1, 64)
}

// utf16Len is JavaScript's string length.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n++
		if r > 0xFFFF {
			n++
		}
	}
	return n
}

// certificateString is the text a certificate's signature covers (as the
// auth service builds it: no trailing newline, even without scopes).
func certificateString(clientID, issuer, seed, start, expiry string, scopes []string) string {
	var b strings.Builder
	b.WriteString("version:1\n")
	if issuer != "" {
		b.WriteString("clientId:" + clientID + "\n")
		b.WriteString("issuer:" + issuer + "\n")
	}
	b.WriteString("seed:" + seed + "\n")
	b.WriteString("start:" + start + "\n")
	b.WriteString("expiry:" + expiry + "\n")
	b.WriteString("scopes:")
	for _, s := range scopes {
		b.WriteString("\n" + s)
	}
	return b.String()
}

func hmacBase64(enc *base64.Encoding, key, msg string) string {
	h := hmac.New(sha256.New, []byte(key))
	h.Write([]byte(msg))
	return enc.EncodeToString(h.Sum(nil))
}

// temporaryAccessToken derives the access token of temporary credentials
// from the issuer's access token and the certificate seed.
func temporaryAccessToken(issuerToken, seed string) string {
	return hmacBase64(base64.RawURLEncoding, issuerToken, seed)
}
