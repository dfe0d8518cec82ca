package jsone

import (
	"slices"
	"strings"
)

// compiler turns a canonical template value into a tree of nodes. Problems
// it finds become nodes (or expressions) that fail when rendered, and are
// also collected, with their full path, for Template.Validate.
type compiler struct {
	static []error
}

// fail records a static problem at path and returns a node raising it.
func (c *compiler) fail(path string, e *Error) node {
	c.record(path, e)
	return &errNode{err: e}
}

func (c *compiler) record(path string, e *Error) {
	r := e.clone()
	r.Path = path
	c.static = append(c.static, r)
}

func (c *compiler) compile(v any, path string) node {
	switch t := v.(type) {
	case string:
		return c.compileString(t, path)
	case []any:
		n := &arrayNode{items: make([]node, len(t))}
		for i, e := range t {
			n.items[i] = c.compile(e, path+indexSegment(i))
		}
		return n
	case map[string]any:
		return c.compileObject(t, path)
	}
	return &constNode{v: v}
}

// compileExpr parses an expression; a syntax error is kept in the result and
// raised when the expression is evaluated.
func (c *compiler) compileExpr(src, path string) *exprRoot {
	e, err := parseExpression(src)
	if err != nil {
		pe := asError(err)
		c.record(path, pe)
		return &exprRoot{err: pe, src: src}
	}
	return &exprRoot{e: e, cost: e.size(), src: src}
}

// compileString splits s into literal text and ${...} interpolations.
// A run of n >= 2 dollar signs before "{" is an escape and stands for n-1
// dollar signs, with no interpolation.
func (c *compiler) compileString(s, path string) node {
	if !strings.Contains(s, "${") {
		return &constNode{v: s}
	}
	n := &interpNode{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			n.parts = append(n.parts, interpPart{lit: lit.String()})
			n.litLen += lit.Len()
			lit.Reset()
		}
	}
	i := 0
	for i < len(s) {
		j := strings.IndexByte(s[i:], '$')
		if j < 0 {
			lit.WriteString(s[i:])
			break
		}
		j += i
		k := j
		for k < len(s) && s[k] == '$' {
			k++
		}
		if k == len(s) || s[k] != '{' {
			lit.WriteString(s[i:k])
			i = k
			continue
		}
		if k-j >= 2 {
			lit.WriteString(s[i : k-1])
			i = k
			continue
		}
		lit.WriteString(s[i:j])
		e, end, err := parseInterpolation(s, k+1)
		if err != nil {
			flush()
			pe := asError(err)
			c.record(path, pe)
			n.err = pe
			return n
		}
		flush()
		n.parts = append(n.parts, interpPart{
			e:   &exprRoot{e: e, cost: e.size(), src: s[k+1 : end-1]},
			src: s[k+1 : end-1],
		})
		i = end
	}
	flush()
	switch {
	case len(n.parts) == 0:
		return &constNode{v: ""}
	case len(n.parts) == 1 && n.parts[0].e == nil:
		return &constNode{v: n.parts[0].lit}
	}
	return n
}

func isOperator(k string) bool {
	switch k {
	case "$eval", "$json", "$if", "$flatten", "$flattenDeep", "$fromNow", "$let",
		"$map", "$reduce", "$find", "$match", "$switch", "$merge", "$mergeDeep",
		"$sort", "$reverse":
		return true
	}
	return false
}

var errReserved = templateErr("$<identifier> is reserved; use $$<identifier>")

// isReserved reports whether k looks like an operator ($ and a word) but is
// not one; such keys must be written $$word.
func isReserved(k string) bool {
	return len(k) > 1 && k[0] == '$' && isSimpleKey(k[1:])
}

func (c *compiler) compileObject(m map[string]any, path string) node {
	op := ""
	for k := range m {
		if isOperator(k) {
			if op != "" {
				return c.fail(path, templateErr("only one operator allowed"))
			}
			op = k
		}
	}
	if op != "" {
		return c.compileOperator(op, m, path)
	}
	keys := sortedKeys(m)
	n := &objectNode{entries: make([]objEntry, len(keys))}
	for i, k := range keys {
		seg := keySegment(k)
		e := objEntry{seg: seg, key: k, val: c.compile(m[k], path+seg)}
		switch {
		case strings.HasPrefix(k, "$$"):
			e.key = k[1:]
		case isReserved(k):
			// Raised only when the value is not deleted, as JSON-e does.
			e.reserved = errReserved
			c.record(path, errReserved)
		default:
			switch kn := c.compileString(k, path+seg).(type) {
			case *interpNode:
				e.keyNode = kn
			case *constNode:
				e.key = kn.v.(string)
			}
		}
		n.entries[i] = e
	}
	return n
}

// binding parses an operator property such as "each(x,i)" or "by(x)" and
// returns its variable names, or nil when key does not have that form or
// the count is outside [min, max].
func binding(key, prefix string, min, max int) []string {
	if !strings.HasPrefix(key, prefix+"(") || !strings.HasSuffix(key, ")") {
		return nil
	}
	inner := key[len(prefix)+1 : len(key)-1]
	parts := strings.Split(inner, ",")
	if len(parts) < min || len(parts) > max {
		return nil
	}
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if !isIdentifier(p) {
			return nil
		}
		parts[i] = p
	}
	return parts
}

// findBinding returns the first property of m (other than op) of the form
// prefix(names...), with its names.
func findBinding(m map[string]any, prefix string, min, max int) (string, []string) {
	for k := range m {
		if names := binding(k, prefix, min, max); names != nil {
			return k, names
		}
	}
	return "", nil
}

func (c *compiler) compileOperator(op string, m map[string]any, path string) node {
	allowed := func(k string) bool {
		switch op {
		case "$if":
			return k == "then" || k == "else" || k == "$then"
		case "$fromNow":
			return k == "from"
		case "$let":
			return k == "in"
		case "$map", "$find":
			return binding(k, "each", 1, 2) != nil
		case "$reduce":
			return k == "initial" || binding(k, "each", 2, 3) != nil
		case "$sort":
			return binding(k, "by", 1, 1) != nil
		}
		return false
	}
	var undefined []string
	for k := range m {
		if k != op && !allowed(k) {
			undefined = append(undefined, k)
		}
	}
	if len(undefined) > 0 {
		slices.Sort(undefined)
		msg := op + " has undefined properties: " + strings.Join(undefined, " ")
		if op == "$if" && slices.Contains(undefined, "$else") {
			msg += " (then and else are written without $)"
		}
		return c.fail(path, templateErr(msg))
	}
	opPath := path + keySegment(op)
	val := m[op]
	sub := func(k string) node { return c.compile(m[k], path+keySegment(k)) }

	switch op {
	case "$eval":
		s, ok := val.(string)
		if !ok {
			return c.fail(path, templateErr("$eval must be given a string expression"))
		}
		return &evalNode{e: c.compileExpr(s, opPath)}
	case "$json":
		return &jsonNode{v: c.compile(val, opPath)}
	case "$if":
		s, ok := val.(string)
		if !ok {
			return c.fail(path, templateErr("$if can evaluate string expressions only"))
		}
		n := &ifNode{cond: c.compileExpr(s, opPath)}
		if _, ok := m["$then"]; ok {
			// JSON-e accepts the misspelling but fails when the condition
			// holds.
			n.then = c.fail(path, templateErr("$if Syntax error: $then: should be spelled then: (no $)"))
		} else if _, ok := m["then"]; ok {
			n.then = sub("then")
		}
		if _, ok := m["else"]; ok {
			n.els = sub("else")
		}
		return n
	case "$flatten", "$flattenDeep":
		return &flattenNode{v: c.compile(val, opPath), deep: op == "$flattenDeep", op: op}
	case "$fromNow":
		n := &fromNowNode{v: c.compile(val, opPath)}
		if _, ok := m["from"]; ok {
			n.from = sub("from")
		}
		return n
	case "$let":
		if _, ok := m["in"]; !ok {
			return c.fail(path, templateErr("$let operator requires an `in` clause"))
		}
		return &letNode{v: c.compile(val, opPath), in: sub("in")}
	case "$map":
		if len(m) != 2 {
			return c.fail(path, templateErr("$map must have exactly two properties"))
		}
		k, names := findBinding(m, "each", 1, 2)
		return &mapNode{v: c.compile(val, opPath), names: names, body: sub(k)}
	case "$reduce":
		if len(m) != 3 {
			return c.fail(path, templateErr("$reduce must have exactly three properties"))
		}
		k, names := findBinding(m, "each", 2, 3)
		return &reduceNode{v: c.compile(val, opPath), names: names, body: sub(k), initial: m["initial"]}
	case "$find":
		if len(m) != 2 {
			return c.fail(path, templateErr("$find must have exactly two properties"))
		}
		k, names := findBinding(m, "each", 1, 2)
		s, ok := m[k].(string)
		if !ok {
			return c.fail(path, templateErr("each can evaluate string expressions only"))
		}
		return &findNode{v: c.compile(val, opPath), names: names, cond: c.compileExpr(s, path+keySegment(k))}
	case "$sort":
		n := &sortNode{v: c.compile(val, opPath)}
		if k, names := findBinding(m, "by", 1, 1); names != nil {
			s, ok := m[k].(string)
			if !ok {
				return c.fail(path, templateErr("$sort by(..) can evaluate string expressions only"))
			}
			n.names = names
			n.by = c.compileExpr(s, path+keySegment(k))
		}
		return n
	case "$match", "$switch":
		obj, ok := val.(map[string]any)
		if !ok {
			return c.fail(path, templateErr(op+" can evaluate objects only"))
		}
		n := &matchNode{isSwitch: op == "$switch"}
		for _, k := range sortedKeys(obj) {
			body := c.compile(obj[k], opPath+keySegment(k))
			if n.isSwitch && k == "$default" {
				n.def = body
				continue
			}
			n.cases = append(n.cases, matchCase{cond: c.compileExpr(k, opPath+keySegment(k)), body: body})
		}
		return n
	case "$merge", "$mergeDeep":
		return &mergeNode{v: c.compile(val, opPath), deep: op == "$mergeDeep", op: op}
	case "$reverse":
		return &reverseNode{v: c.compile(val, opPath)}
	}
	return c.fail(path, templateErr("unknown operator "+op))
}
