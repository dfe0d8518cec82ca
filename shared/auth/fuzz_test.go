package auth

import (
	"regexp"
	"strings"
	"testing"
)

// Hawk's own regular expressions (hawk 9 lib/utils.js), in Go syntax: the
// reference the hand-written parser is compared with. JavaScript's "." stops
// at line terminators and \s includes \v.
var (
	refHeader = regexp.MustCompile(`^(\w+)(?:[\t\n\v\f\r ]+([^\r\n]*))?$`)
	refAttr   = regexp.MustCompile(`(\w+)="([^"\\]*)"[\t\n\v\f\r ]*(?:,[\t\n\v\f\r ]*|$)`)
	refValue  = regexp.MustCompile("^[ \\w!#$%&'()*+,\\-./:;<=>?@\\[\\]^`{|}~]+$")
)

// refParse is utils.parseAuthorizationHeader transcribed with the regular
// expressions above.
func refParse(h string) (map[string]string, string) {
	if len(h) > maxHawkLength {
		return nil, "Bad Request: Header length too long"
	}
	m := refHeader.FindStringSubmatch(h)
	if m == nil {
		return nil, "Bad Request: Invalid header syntax"
	}
	if strings.ToLower(m[1]) != "hawk" {
		return nil, "Unauthorized: Unauthorized"
	}
	if m[2] == "" {
		return nil, "Bad Request: Invalid header syntax"
	}
	known := map[string]bool{"id": true, "ts": true, "nonce": true, "hash": true, "ext": true, "mac": true, "app": true, "dlg": true}
	attrs := map[string]string{}
	msg := ""
	rest := refAttr.ReplaceAllStringFunc(m[2], func(match string) string {
		sub := refAttr.FindStringSubmatch(match)
		name, value := sub[1], sub[2]
		switch {
		case !known[name]:
			msg = "Bad Request: Unknown attribute: " + name
		case !refValue.MatchString(value):
			msg = "Bad Request: Bad attribute value: " + name
		default:
			if _, dup := attrs[name]; dup {
				msg = "Bad Request: Duplicate attribute: " + name
			} else {
				attrs[name] = value
				return ""
			}
		}
		return "undefined"
	})
	if rest != "" {
		if msg == "" {
			msg = "Bad Request: Bad header format"
		}
		return nil, msg
	}
	return attrs, ""
}

func attrMap(a hawkAttrs) map[string]string {
	out := map[string]string{}
	for _, name := range []string{"id", "ts", "nonce", "hash", "ext", "mac", "app", "dlg"} {
		if p, bit := a.field(name); a.has&bit != 0 {
			out[name] = *p
		}
	}
	return out
}

func FuzzParseHeader(f *testing.F) {
	for _, s := range []string{
		`Hawk id="project/test/ci", ts="1700000000", nonce="Xk3d9Q", mac="xAXKvN/De4wg2mTMzXs6BSzdRJ5sRBNO/Ru2eT1+5GM="`,
		`HAWK  id="a" ,ts="1",nonce="n",   mac="m",`,
		`hawk mac="m", nonce="n", ts="1", id="a", hash="h", ext="e30=", app="x", dlg="y"`,
		`Hawk id="", ts="1"`,
		`Hawk id="a"; ts="1"`,
		`Hawk id="a", id="b"`,
		`Hawk foo="1", id="", bar="2"`,
		`Hawk id="a\"b"`,
		"Hawk id=\"n\tn\"",
		`Hawk`,
		`Hawk `,
		`Basic dXNlcjpwYXNz`,
		`Hawk id="a" junk`,
		`Hawk xid="a"`,
		`Hawk id="a",,ts="b"`,
		"Hawk id=\"a\"\n",
		"Hawk\vid=\"a\"",
		`Hawk id="café"`,
		`Hawk a="b"c="d"`,
		"Hawk id=\"" + strings.Repeat("x", 5000) + "\"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		got, msg := parseHeader(h)
		want, wantMsg := refParse(h)
		if msg != wantMsg {
			t.Fatalf("parseHeader(%q) message %q, Hawk's regular expressions give %q", h, msg, wantMsg)
		}
		if msg != "" {
			return
		}
		gotMap := attrMap(got)
		if len(gotMap) != len(want) {
			t.Fatalf("parseHeader(%q) = %v, want %v", h, gotMap, want)
		}
		for k, v := range want {
			if gotMap[k] != v {
				t.Fatalf("parseHeader(%q)[%s] = %q, want %q", h, k, gotMap[k], v)
			}
		}
		// What parsed can be written back and parses the same.
		var b strings.Builder
		b.WriteString("Hawk ")
		first := true
		for _, name := range []string{"id", "ts", "nonce", "hash", "ext", "mac", "app", "dlg"} {
			if v, ok := gotMap[name]; ok {
				if !first {
					b.WriteString(", ")
				}
				first = false
				b.WriteString(name + `="` + v + `"`)
			}
		}
		again, msg := parseHeader(b.String())
		if msg != "" || attrMap(again) == nil || len(attrMap(again)) != len(gotMap) {
			t.Fatalf("rewritten header %q: %q", b.String(), msg)
		}
	})
}
