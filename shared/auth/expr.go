package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// Expr is a Taskcluster scope expression: a single scope, or an AllOf / AnyOf
// of further expressions. The zero Expr requires nothing.
//
// Its JSON form is Taskcluster's: a string, or an object with exactly one key,
// "AllOf" or "AnyOf", holding an array of expressions. JSON null decodes to the
// zero Expr and the zero Expr encodes as null.
type Expr struct {
	scope string
	allOf []Expr
	anyOf []Expr
	kind  exprKind
}

type exprKind uint8

const (
	kindNone exprKind = iota
	kindScope
	kindAllOf
	kindAnyOf
)

// Scope is an expression satisfied by a single scope.
func Scope(s string) Expr { return Expr{kind: kindScope, scope: s} }

// AllOf is satisfied when every sub-expression is. AllOf() is always
// satisfied.
func AllOf(es ...Expr) Expr { return Expr{kind: kindAllOf, allOf: es} }

// AnyOf is satisfied when at least one sub-expression is. AnyOf() is never
// satisfied.
func AnyOf(es ...Expr) Expr { return Expr{kind: kindAnyOf, anyOf: es} }

// IsZero reports whether the expression requires nothing (a public route).
func (e Expr) IsZero() bool { return e.kind == kindNone }

// paramPattern matches Taskcluster's <param> placeholders. Names start with a
// letter, so "<..>" (a role parameter) and "<foo.bar>" stay literal text.
var paramPattern = regexp.MustCompile(`<([a-zA-Z][a-zA-Z0-9_]*)>`)

// nextParam finds the first placeholder paramPattern matches in s at or
// after from: its bounds, the name being s[start+1:end-1]. It is the
// pattern written out, since Substitute runs on every request and the
// regexp engine cost a few percent of a request's CPU.
func nextParam(s string, from int) (start, end int, ok bool) {
	for i := from; i < len(s); i++ {
		if s[i] != '<' || i+1 >= len(s) || !isASCIILetter(s[i+1]) {
			continue
		}
		j := i + 2
		for j < len(s) && (isASCIILetter(s[j]) || '0' <= s[j] && s[j] <= '9' || s[j] == '_') {
			j++
		}
		if j < len(s) && s[j] == '>' {
			return i, j + 1, true
		}
	}
	return 0, 0, false
}

func isASCIILetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// Substitute replaces each <name> in the expression's scopes with
// params[name]. A name without a value is an error, because a scope with a
// placeholder left in it would grant or demand the wrong thing.
func (e Expr) Substitute(params map[string]string) (Expr, error) {
	switch e.kind {
	case kindScope:
		start, end, ok := nextParam(e.scope, 0)
		if !ok {
			return e, nil
		}
		var b strings.Builder
		b.Grow(len(e.scope) + 32)
		last := 0
		for ok {
			name := e.scope[start+1 : end-1]
			v, found := params[name]
			if !found {
				return Expr{}, fmt.Errorf("auth: scope %q needs parameter %q", e.scope, name)
			}
			b.WriteString(e.scope[last:start])
			b.WriteString(v)
			last = end
			start, end, ok = nextParam(e.scope, end)
		}
		b.WriteString(e.scope[last:])
		return Scope(b.String()), nil
	case kindAllOf, kindAnyOf:
		src := e.subs()
		subs := make([]Expr, len(src))
		for i, s := range src {
			var err error
			if subs[i], err = s.Substitute(params); err != nil {
				return Expr{}, err
			}
		}
		if e.kind == kindAllOf {
			return AllOf(subs...), nil
		}
		return AnyOf(subs...), nil
	}
	return e, nil
}

func (e Expr) subs() []Expr {
	if e.kind == kindAnyOf {
		return e.anyOf
	}
	return e.allOf
}

// String renders the expression in Taskcluster's compact JSON form, e.g.
// {"AllOf":["a","b"]}; the zero Expr renders as null.
func (e Expr) String() string {
	b, err := e.MarshalJSON()
	if err != nil {
		return "null"
	}
	return string(b)
}

// Validate reports whether every scope in the expression is a valid scope
// (printable ASCII).
func (e Expr) Validate() error {
	switch e.kind {
	case kindScope:
		if !ValidScope(e.scope) {
			return fmt.Errorf("auth: invalid scope %q: scopes are printable ASCII (0x20-0x7e)", e.scope)
		}
	case kindAllOf, kindAnyOf:
		for _, s := range e.subs() {
			if err := s.Validate(); err != nil {
				return err
			}
		}
	}
	return nil
}

// tree converts the expression into values encoding/json renders the way
// Taskcluster does.
func (e Expr) tree() any {
	switch e.kind {
	case kindScope:
		return e.scope
	case kindAllOf, kindAnyOf:
		src := e.subs()
		items := make([]any, len(src))
		for i, s := range src {
			items[i] = s.tree()
		}
		if e.kind == kindAllOf {
			return map[string]any{"AllOf": items}
		}
		return map[string]any{"AnyOf": items}
	}
	return nil
}

func (e Expr) encode(indent string) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	// Scopes often hold <, > and &; JSON.stringify leaves them alone.
	enc.SetEscapeHTML(false)
	enc.SetIndent("", indent)
	if err := enc.Encode(e.tree()); err != nil {
		return nil, fmt.Errorf("auth: encode expression: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// MarshalJSON encodes the expression in Taskcluster's form.
func (e Expr) MarshalJSON() ([]byte, error) { return e.encode("") }

// UnmarshalJSON decodes Taskcluster's form, rejecting anything
// taskcluster-lib-scopes' validExpression rejects: objects other than a single
// AllOf or AnyOf holding an array, arrays, numbers and invalid scopes.
func (e *Expr) UnmarshalJSON(data []byte) error {
	data = bytes.TrimSpace(data)
	if bytes.Equal(data, []byte("null")) {
		*e = Expr{}
		return nil
	}
	x, err := decodeExpr(data)
	if err != nil {
		return err
	}
	*e = x
	return nil
}

var errBadExpr = errors.New(`a scope expression is a scope string or an object with exactly one key, "AllOf" or "AnyOf", holding an array of expressions`)

func decodeExpr(data []byte) (Expr, error) {
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return Expr{}, fmt.Errorf("auth: %w", errBadExpr)
	}
	switch data[0] {
	case '"':
		var s string
		if err := json.Unmarshal(data, &s); err != nil {
			return Expr{}, fmt.Errorf("auth: decode scope: %w", err)
		}
		if !ValidScope(s) {
			return Expr{}, fmt.Errorf("auth: invalid scope %q: scopes are printable ASCII (0x20-0x7e)", s)
		}
		return Scope(s), nil
	case '{':
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(data, &obj); err != nil {
			return Expr{}, fmt.Errorf("auth: decode expression: %w", err)
		}
		if len(obj) != 1 {
			return Expr{}, fmt.Errorf("auth: %w", errBadExpr)
		}
		for key, raw := range obj {
			if key != "AllOf" && key != "AnyOf" {
				return Expr{}, fmt.Errorf("auth: unknown key %q: %w", key, errBadExpr)
			}
			raw = bytes.TrimSpace(raw)
			if len(raw) == 0 || raw[0] != '[' {
				return Expr{}, fmt.Errorf("auth: %s must hold an array: %w", key, errBadExpr)
			}
			var items []json.RawMessage
			if err := json.Unmarshal(raw, &items); err != nil {
				return Expr{}, fmt.Errorf("auth: decode %s: %w", key, err)
			}
			subs := make([]Expr, len(items))
			for i, it := range items {
				var err error
				if subs[i], err = decodeExpr(it); err != nil {
					return Expr{}, err
				}
			}
			if key == "AllOf" {
				return AllOf(subs...), nil
			}
			return AnyOf(subs...), nil
		}
	}
	return Expr{}, fmt.Errorf("auth: %w", errBadExpr)
}

// SatisfiedBy reports whether the scope set satisfies the expression (no role
// expansion happens here: pass expanded scopes). The zero Expr is always
// satisfied.
func (e Expr) SatisfiedBy(scopes []string) bool {
	switch e.kind {
	case kindScope:
		return setSatisfies(scopes, e.scope)
	case kindAllOf:
		for _, s := range e.allOf {
			if !s.SatisfiedBy(scopes) {
				return false
			}
		}
		return true
	case kindAnyOf:
		for _, s := range e.anyOf {
			if s.SatisfiedBy(scopes) {
				return true
			}
		}
		return false
	}
	return true
}

// Missing returns the part of the expression the scope set does not satisfy,
// simplified the way Taskcluster's removeGivenScopes does it for its
// InsufficientScopes messages. It is the zero Expr when the expression is
// satisfied.
func (e Expr) Missing(scopes []string) Expr {
	switch e.kind {
	case kindScope:
		if setSatisfies(scopes, e.scope) {
			return Expr{}
		}
		return e
	case kindAllOf:
		var left []Expr
		for _, s := range e.allOf {
			if m := s.Missing(scopes); !m.IsZero() {
				left = append(left, m)
			}
		}
		switch len(left) {
		case 0:
			return Expr{}
		case 1:
			return left[0]
		}
		return AllOf(left...)
	case kindAnyOf:
		left := make([]Expr, 0, len(e.anyOf))
		for _, s := range e.anyOf {
			m := s.Missing(scopes)
			if m.IsZero() {
				return Expr{}
			}
			left = append(left, m)
		}
		if len(left) == 1 {
			return left[0]
		}
		return AnyOf(left...)
	}
	return Expr{}
}

// SatisfyingScopes returns the required scopes of the expression that the
// scope set satisfied, normalized and sorted (every satisfied AnyOf branch
// counts), and false when the expression is not satisfied. It mirrors
// taskcluster-lib-scopes' scopesSatisfying.
func (e Expr) SatisfyingScopes(scopes []string) ([]string, bool) {
	var out []string
	if !e.collectSatisfying(scopes, &out) {
		return nil, false
	}
	return NormalizeScopes(out), true
}

func (e Expr) collectSatisfying(scopes []string, out *[]string) bool {
	switch e.kind {
	case kindScope:
		if setSatisfies(scopes, e.scope) {
			*out = append(*out, e.scope)
			return true
		}
		return false
	case kindAllOf:
		mark := len(*out)
		for _, s := range e.allOf {
			if !s.collectSatisfying(scopes, out) {
				*out = (*out)[:mark]
				return false
			}
		}
		return true
	case kindAnyOf:
		ok := false
		for _, s := range e.anyOf {
			mark := len(*out)
			if s.collectSatisfying(scopes, out) {
				ok = true
			} else {
				*out = (*out)[:mark]
			}
		}
		return ok
	}
	return true
}

// describe renders the expression the way Taskcluster's error messages do: a
// single scope as is, anything else as JSON indented by two spaces.
func (e Expr) describe() string {
	if e.kind == kindScope {
		return e.scope
	}
	b, err := e.encode("  ")
	if err != nil {
		return e.String()
	}
	return string(b)
}

// SatisfiableBy reports whether the scope set satisfies the expression for
// some values of its <param> placeholders (before Substitute): whether a
// caller with these scopes can do what the expression guards for some
// resource. Each placeholder stands for any string; a placeholder used
// twice is not required to take the same value twice, so the answer errs
// towards yes.
func (e Expr) SatisfiableBy(scopes []string) bool {
	switch e.kind {
	case kindScope:
		for _, s := range scopes {
			if grantsSomeInstance(s, e.scope) {
				return true
			}
		}
		return false
	case kindAllOf:
		for _, s := range e.allOf {
			if !s.SatisfiableBy(scopes) {
				return false
			}
		}
		return true
	case kindAnyOf:
		for _, s := range e.anyOf {
			if s.SatisfiableBy(scopes) {
				return true
			}
		}
		return false
	}
	return true
}

// grantsSomeInstance reports whether the scope given satisfies some
// instance of template, whose <param> placeholders stand for any string.
func grantsSomeInstance(given, template string) bool {
	var parts []string // literal, placeholder, literal, ...: even indices are literals
	rest := template
	for {
		open := strings.IndexByte(rest, '<')
		end := strings.IndexByte(rest[max(open, 0):], '>')
		if open < 0 || end < 0 {
			parts = append(parts, rest)
			break
		}
		parts = append(parts, rest[:open], rest[open:open+end+1])
		rest = rest[open+end+1:]
	}
	if prefix, ok := strings.CutSuffix(given, "*"); ok {
		// Some instance must start with prefix: the literals must agree
		// with it up to the first placeholder, which can then take the
		// rest of it.
		for i, p := range parts {
			if i%2 == 1 || prefix == "" {
				return true
			}
			if len(prefix) <= len(p) {
				return strings.HasPrefix(p, prefix)
			}
			if !strings.HasPrefix(prefix, p) {
				return false
			}
			prefix = prefix[len(p):]
		}
		return prefix == ""
	}
	var re strings.Builder
	re.WriteString("^")
	for i, p := range parts {
		if i%2 == 1 {
			re.WriteString("(?s:.*)")
		} else {
			re.WriteString(regexp.QuoteMeta(p))
		}
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String()).MatchString(given)
}
