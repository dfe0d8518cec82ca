package jsone

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// compiler turns a canonical template value into a tree of nodes. Problems
// it finds become nodes (or expressions) that fail when rendered, and are
// also collected, with their full path, for Template.Validate.
//
// The path of the value being compiled is kept as a stack of segments and
// spelled out only when a problem is recorded: most templates have none.
type compiler struct {
	static []error
	frames []staticFrame // the scope frames a render will have here, outermost first
	nodes  exprSlabs
	slabs  nodeSlabs

	// The walk also checks that the template is canonical (see
	// canonicalCheck), so that Compile needs no walk of its own for that:
	// notCanonical is set when a value is not, or nests deeper than
	// maxDepth, and Compile then starts over from normalize. Parts the
	// walk does not compile are checked by check.
	maxDepth     int
	hasFunc      bool
	notCanonical bool

	*scratch
}

// scratch holds the compiler's stacks. Their contents do not outlive a
// compile, so they are pooled to spare each compile growing them anew.
type scratch struct {
	path []pathSeg
	// Stacks for compileOrConst, each shared by every level of the walk: a
	// level pushes above what its callers pushed and cuts the stack back
	// before it returns.
	kvs     []keyVal
	parts   []part
	entries []objEntry
}

var scratchPool = sync.Pool{New: func() any { return new(scratch) }}

// done returns the scratch stacks to the pool, cleared so that they keep
// no part of the template alive.
func (c *compiler) done() {
	s := c.scratch
	c.scratch = nil
	clear(s.kvs[:cap(s.kvs)])
	clear(s.parts[:cap(s.parts)])
	clear(s.entries[:cap(s.entries)])
	clear(s.path[:cap(s.path)])
	s.path, s.kvs, s.parts, s.entries = s.path[:0], s.kvs[:0], s.parts[:0], s.entries[:0]
	scratchPool.Put(s)
}

// nodeSlabs holds the template nodes and their slices in chunks, so that
// compiling a template costs a few allocations per kind of node rather than
// one or two per node. A compiled template keeps its chunks alive as a whole,
// which it would anyway: every node in them belongs to it.
type nodeSlabs struct {
	consts  slab[constNode]
	copies  slab[copyNode]
	interps slab[interpNode]
	objects slab[objectNode]
	arrays  slab[arrayNode]
	entries slab[objEntry]
	items   slab[node]
	lits    slab[string]
	exprs   slab[exprRoot]
}

// staticFrame is a scope frame as the compiler sees it: the names of a
// frame of slots, or a frame whose names only the render knows (the
// context, a $let with computed keys).
type staticFrame struct {
	names   []string
	dynamic bool
}

func (c *compiler) pushFrame(names []string) { c.frames = append(c.frames, staticFrame{names: names}) }
func (c *compiler) pushDynamic()             { c.frames = append(c.frames, staticFrame{dynamic: true}) }
func (c *compiler) popFrame()                { c.frames = c.frames[:len(c.frames)-1] }

// resolve points each variable of e at its frame (see varExpr).
func (c *compiler) resolve(e expr) { eachVar(e, c.resolveVar) }

// resolveVar points v at its frame. The frames a render builds mirror the
// compiler's one for one, so the hops counted here are the parent links the
// render follows. The parser calls it for each variable it makes for the
// compiler (exprSlabs.c), so that no expression is walked a second time.
func (c *compiler) resolveVar(v *varExpr) {
	hops := 0
	for i := len(c.frames) - 1; i >= 0; i-- {
		f := c.frames[i]
		if f.dynamic {
			v.kind, v.hops = varMapFrame, int32(hops)
			if i == 0 {
				v.kind = varRoot // the context, kept by the renderer itself
			}
			return
		}
		for j := len(f.names) - 1; j >= 0; j-- {
			if f.names[j] == v.name {
				v.kind, v.hops, v.idx = varSlot, int32(hops), int32(j)
				return
			}
		}
		hops++
	}
}

// pathSeg is one step into the template: an object key or an array index.
type pathSeg struct {
	key   string
	index int // used when key is empty and isIndex is set
	isKey bool
}

func (c *compiler) pushKey(k string) { c.path = append(c.path, pathSeg{key: k, isKey: true}) }
func (c *compiler) pushIndex(i int)  { c.path = append(c.path, pathSeg{index: i}) }
func (c *compiler) pop()             { c.path = c.path[:len(c.path)-1] }

// pathString spells out the current path in JSON-e's notation.
func (c *compiler) pathString() string {
	var b strings.Builder
	for _, s := range c.path {
		if s.isKey {
			b.WriteString(keySegment(s.key))
		} else {
			b.WriteString(indexSegment(s.index))
		}
	}
	return b.String()
}

// fail records a static problem at the current path and returns a node
// raising it.
func (c *compiler) fail(e *Error) node {
	c.record(e)
	return &errNode{err: e}
}

func (c *compiler) record(e *Error) {
	r := e.clone()
	r.Path = c.pathString()
	c.static = append(c.static, r)
}

// child compiles the value under key k of the current object.
func (c *compiler) child(k string, v any) node {
	c.pushKey(k)
	n := c.compile(v)
	c.pop()
	return n
}

// compile compiles v, a canonical value whose interface value is kept as is
// wherever it is used unchanged (no new boxing).
func (c *compiler) compile(v any) node {
	n, cost, ok := c.compileOrConst(v)
	if ok {
		return c.constant(v, cost)
	}
	return n
}

// constant is the node for a part of the template that renders to itself,
// charging cost for the copy.
func (c *compiler) constant(v any, cost int) node {
	switch v.(type) {
	case []any, map[string]any:
		return c.slabs.copies.put(copyNode{v: v, cost: cost})
	}
	return c.slabs.consts.put(constNode{v: v})
}

// compileOrConst compiles v in one walk, bottom up. When v renders to itself
// (no operator, no interpolation, no special key anywhere in it) it builds
// nothing and reports the work a render charges for copying v, so that the
// caller makes one node for the largest such part; otherwise it returns v's
// node. Children are compiled in key order, so problems are recorded in the
// order Validate reports them.
func (c *compiler) compileOrConst(v any) (node, int, bool) {
	// As canonicalCheck counts depth: elements sit one level below their
	// container.
	if depth := len(c.path); depth >= c.maxDepth {
		if depth > c.maxDepth || !c.check(v, depth) {
			c.notCanonical = true
			return nil, 0, true
		}
	}
	switch t := v.(type) {
	case string:
		if !hasInterp(t) {
			return nil, 0, true
		}
		return c.compileString(t), 0, false
	case []any:
		base := len(c.parts)
		cost, constant := len(t)*costElem+1, true
		for i, e := range t {
			c.pushIndex(i)
			n, ec, ok := c.compileOrConst(e)
			c.pop()
			c.parts = append(c.parts, part{n: n, cost: ec})
			cost += ec
			constant = constant && ok
		}
		if constant {
			c.parts = c.parts[:base]
			return nil, cost, true
		}
		n := c.slabs.arrays.put(arrayNode{items: c.slabs.items.take(len(t))})
		for i, p := range c.parts[base:] {
			if p.n == nil {
				p.n = c.constant(t[i], p.cost)
			}
			n.items[i] = p.n
		}
		c.parts = c.parts[:base]
		return n, 0, false
	case map[string]any:
		return c.compileObject(t)
	case nil, bool:
		return nil, 0, true
	case float64:
		if math.IsNaN(t) || math.IsInf(t, 0) {
			c.notCanonical = true
		}
		return nil, 0, true
	case Func:
		c.hasFunc = true
		return nil, 0, true
	}
	c.notCanonical = true
	return nil, 0, true
}

// check checks v, at depth depth, as canonicalCheck does, for a part of the
// template that the walk does not compile. It reports whether v passed.
func (c *compiler) check(v any, depth int) bool {
	cc := canonicalCheck{maxDepth: c.maxDepth}
	ok := cc.value(v, depth) && !cc.tooDeep
	c.hasFunc = c.hasFunc || cc.hasFunc
	if !ok {
		c.notCanonical = true
	}
	return ok
}

// checkRest checks the properties of an operator object (its entries kvs)
// other than those named in compiled.
func (c *compiler) checkRest(kvs []keyVal, compiled ...string) {
	for _, kv := range kvs {
		if !slices.Contains(compiled, kv.k) {
			c.check(kv.v, len(c.path)+1)
		}
	}
}

// part is a compiled child on the compiler's scratch stack: its node, or
// nil and its copying cost when it renders to itself.
type part struct {
	n    node
	cost int
}

// keyVal is an object entry on the compiler's scratch stack.
type keyVal struct {
	k string
	v any
}

// compileExpr parses an expression; a syntax error is kept in the result and
// raised when the expression is evaluated.
func (c *compiler) compileExpr(src string) exprRoot {
	e, err := parseExpression(src, &c.nodes)
	if err != nil {
		pe := asError(err)
		c.record(pe)
		return exprRoot{err: pe, src: src}
	}
	return exprRoot{e: e, cost: e.size(), src: src}
}

// hasInterp is strings.Contains(s, "${") and countInterp strings.Count(s,
// "${"): for the short strings of a template, looking for each "$" costs
// less than the general search.
func hasInterp(s string) bool {
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i+1 >= len(s) {
			return false
		}
		if s[i+1] == '{' {
			return true
		}
		s = s[i+1:]
	}
}

func countInterp(s string) int {
	n := 0
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 || i+1 >= len(s) {
			return n
		}
		if s[i+1] == '{' {
			n++
		}
		s = s[i+1:]
	}
}

// compileString splits s into literal text and ${...} interpolations.
// A run of n >= 2 dollar signs before "{" is an escape and stands for n-1
// dollar signs, with no interpolation.
func (c *compiler) compileString(s string) node {
	count := countInterp(s)
	// count bounds the expressions (an escape is counted too), so the
	// appends below stay within the slots taken.
	n := c.slabs.interps.put(interpNode{
		lits:  c.slabs.lits.take(count + 1)[:0],
		exprs: c.slabs.exprs.take(count)[:0],
	})
	// The literal text since the last expression is a slice of s unless an
	// escape had to be dropped from it.
	var lit []byte
	litStart, litEnd := -1, -1
	addLit := func(from, to int) {
		switch {
		case from == to:
		case lit == nil && litStart < 0:
			litStart, litEnd = from, to
		case lit == nil && litEnd == from:
			litEnd = to
		default:
			if lit == nil {
				lit = append(lit, s[litStart:litEnd]...)
			}
			lit = append(lit, s[from:to]...)
		}
	}
	endLit := func() {
		text := ""
		switch {
		case lit != nil:
			text = string(lit)
		case litStart >= 0:
			text = s[litStart:litEnd]
		}
		n.lits = append(n.lits, text)
		n.litLen += len(text)
		lit, litStart, litEnd = nil, -1, -1
	}
	i := 0
	for i < len(s) {
		j := strings.IndexByte(s[i:], '$')
		if j < 0 {
			addLit(i, len(s))
			break
		}
		j += i
		k := j
		for k < len(s) && s[k] == '$' {
			k++
		}
		if k == len(s) || s[k] != '{' {
			addLit(i, k)
			i = k
			continue
		}
		if k-j >= 2 {
			addLit(i, k-1)
			i = k
			continue
		}
		addLit(i, j)
		e, end, err := parseInterpolation(s, k+1, &c.nodes)
		if err != nil {
			endLit()
			pe := asError(err)
			c.record(pe)
			n.err = pe
			return n
		}
		endLit()
		n.exprs = append(n.exprs, exprRoot{e: e, cost: e.size(), src: s[k+1 : end-1]})
		i = end
	}
	endLit()
	if len(n.exprs) == 0 {
		return c.slabs.consts.put(constNode{v: n.lits[0]})
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

// compileObject compiles an object; see compileOrConst. Its entries are
// read once, into the scratch stack, and sorted there.
func (c *compiler) compileObject(m map[string]any) (node, int, bool) {
	op := ""
	base := len(c.kvs)
	for k, v := range m {
		c.kvs = append(c.kvs, keyVal{k, v})
		if len(k) > 1 && k[0] == '$' && isOperator(k) {
			if op != "" {
				c.kvs = c.kvs[:base]
				c.check(m, len(c.path))
				return c.fail(templateErr("only one operator allowed")), 0, false
			}
			op = k
		}
	}
	if op != "" {
		// The recursion pushes above this object's entries and leaves
		// them be.
		n := c.compileOperator(op, m, c.kvs[base:])
		c.kvs = c.kvs[:base]
		return n, 0, false
	}
	kvs := c.kvs[base:]
	slices.SortFunc(kvs, func(a, b keyVal) int { return strings.Compare(a.k, b.k) })
	pbase, ebase := len(c.parts), len(c.entries)
	cost, constant := len(kvs)*costEntry+1, true
	for i := range kvs {
		k, v := c.kvs[base+i].k, c.kvs[base+i].v // c.kvs may have moved
		c.pushKey(k)
		n, vc, ok := c.compileOrConst(v)
		c.pop()
		c.parts = append(c.parts, part{n: n, cost: vc})
		cost += vc
		constant = constant && ok
		e := objEntry{key: k, tmplKey: k}
		if strings.HasPrefix(k, "$") {
			constant = false
		}
		switch {
		case strings.HasPrefix(k, "$$"):
			e.key = k[1:]
		case isReserved(k):
			// Raised only when the value is not deleted, as JSON-e does.
			e.reserved = errReserved
			c.record(errReserved)
		case hasInterp(k):
			constant = false
			c.pushKey(k)
			switch kn := c.compileString(k).(type) {
			case *interpNode:
				e.keyNode = kn
			case *constNode:
				e.key = kn.v.(string)
			}
			c.pop()
		}
		c.entries = append(c.entries, e)
	}
	defer func() {
		c.kvs, c.parts, c.entries = c.kvs[:base], c.parts[:pbase], c.entries[:ebase]
	}()
	if constant {
		return nil, cost, true
	}
	n := c.slabs.objects.put(objectNode{entries: c.slabs.entries.take(len(m))})
	copy(n.entries, c.entries[ebase:])
	for i, p := range c.parts[pbase:] {
		if p.n == nil {
			p.n = c.constant(c.kvs[base+i].v, p.cost)
		}
		n.entries[i].val = p.n
	}
	return n, 0, false
}

// letSlots returns the variable names of a $let value written as an object
// template with plain identifier keys, or nil.
func letSlots(obj *objectNode) []string {
	names := make([]string, len(obj.entries))
	for i, e := range obj.entries {
		if e.keyNode != nil || e.reserved != nil || e.key != e.tmplKey || !isIdentifier(e.key) {
			return nil
		}
		names[i] = e.key
	}
	return names
}

// binding parses an operator property such as "each(x,i)" or "by(x)" and
// returns its variable names, or nil when key does not have that form or
// the count is outside [min, max].
func binding(key, prefix string, min, max int) []string {
	if !isBinding(key, prefix, min, max) {
		return nil
	}
	parts := strings.Split(key[len(prefix)+1:len(key)-1], ",")
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
	}
	return parts
}

// isBinding is binding without building the names.
func isBinding(key, prefix string, min, max int) bool {
	if len(key) < len(prefix)+2 || key[:len(prefix)] != prefix || key[len(prefix)] != '(' || key[len(key)-1] != ')' {
		return false
	}
	inner := key[len(prefix)+1 : len(key)-1]
	count := 0
	for {
		count++
		part, rest, more := strings.Cut(inner, ",")
		if !isIdentifier(strings.TrimSpace(part)) {
			return false
		}
		if !more {
			break
		}
		inner = rest
	}
	return count >= min && count <= max
}

// findBinding returns the first property of an object (its entries kvs)
// of the form prefix(names...), with its names.
func findBinding(kvs []keyVal, prefix string, min, max int) (string, []string) {
	for _, kv := range kvs {
		k := kv.k
		if isBinding(k, prefix, min, max) {
			return k, binding(k, prefix, min, max)
		}
	}
	return "", nil
}

// compileOperator compiles an object holding the operator op. Each check
// happens where JSON-e makes it: unknown properties and the shape of the
// operator's own value first, then (at render time) the rendered value,
// and only then the other properties.
//
// kvs holds m's entries, as compileObject read them.
func (c *compiler) compileOperator(op string, m map[string]any, kvs []keyVal) node {
	allowed := func(k string) bool {
		switch op {
		case "$if":
			return k == "then" || k == "else" || k == "$then"
		case "$fromNow":
			return k == "from"
		case "$let":
			return k == "in"
		case "$map", "$find":
			return isBinding(k, "each", 1, 2)
		case "$reduce":
			return k == "initial" || isBinding(k, "each", 2, 3)
		case "$sort":
			return isBinding(k, "by", 1, 1)
		}
		return false
	}
	var undefined []string
	for _, kv := range kvs {
		if k := kv.k; k != op && !allowed(k) {
			undefined = append(undefined, k)
		}
	}
	if len(undefined) > 0 {
		slices.Sort(undefined)
		msg := op + " has undefined properties: " + strings.Join(undefined, " ")
		if op == "$if" && slices.Contains(undefined, "$else") {
			msg += " (then and else are written without $)"
		}
		c.check(m, len(c.path))
		return c.fail(templateErr(msg))
	}
	val, _ := get(kvs, op)
	value := func() node { return c.child(op, val) }
	sub := func(k string) node { v, _ := get(kvs, k); return c.child(k, v) }
	// shape is a problem with the operator's other properties, raised after
	// its value has rendered.
	shape := func(want int, msg string) *Error {
		if len(m) == want {
			return nil
		}
		e := templateErr(msg)
		c.record(e)
		return e
	}

	switch op {
	case "$eval":
		s, ok := val.(string)
		if !ok {
			c.check(val, len(c.path)+1)
			return c.fail(templateErr("$eval must be given a string expression"))
		}
		c.pushKey(op)
		defer c.pop()
		return &evalNode{e: c.compileExpr(s)}
	case "$json":
		return &jsonNode{v: value()}
	case "$if":
		s, ok := val.(string)
		if !ok {
			c.check(m, len(c.path))
			return c.fail(templateErr("$if can evaluate string expressions only"))
		}
		c.pushKey(op)
		n := &ifNode{cond: c.compileExpr(s)}
		c.pop()
		if then, ok := get(kvs, "$then"); ok {
			// JSON-e accepts the misspelling but fails when the condition
			// holds.
			c.check(then, len(c.path)+1)
			n.then = c.fail(templateErr("$if Syntax error: $then: should be spelled then: (no $)"))
		} else if _, ok := get(kvs, "then"); ok {
			n.then = sub("then")
		}
		if _, ok := get(kvs, "else"); ok {
			n.els = sub("else")
		}
		return n
	case "$flatten", "$flattenDeep":
		return &flattenNode{v: value(), deep: op == "$flattenDeep", op: op}
	case "$fromNow":
		n := &fromNowNode{v: value(), now: varExpr{name: "now"}}
		c.resolve(&n.now)
		// As in JSON-e, a from that is false, 0, "" or null is no from.
		if from, _ := get(kvs, "from"); truthy(from) {
			n.from = c.child("from", from)
		} else {
			c.check(from, len(c.path)+1)
		}
		return n
	case "$let":
		if _, ok := val.(map[string]any); !ok {
			c.check(m, len(c.path))
			return c.fail(templateErr("$let value must be an object"))
		}
		n := &letNode{v: value()}
		if obj, ok := n.v.(*objectNode); ok {
			n.slots = letSlots(obj)
		}
		if in, _ := get(kvs, "in"); in != nil {
			if n.slots != nil {
				c.pushFrame(n.slots)
			} else {
				c.pushDynamic()
			}
			n.in = sub("in")
			c.popFrame()
		} else {
			n.noIn = templateErr("$let operator requires an `in` clause")
			c.record(n.noIn)
		}
		return n
	case "$map":
		n := &mapNode{v: value(), shape: shape(2, "$map must have exactly two properties")}
		k, names := findBinding(kvs, "each", 1, 2)
		if names != nil {
			c.pushFrame(names)
			n.names, n.body = names, sub(k)
			c.popFrame()
		}
		c.checkRest(kvs, op, k)
		return n
	case "$reduce":
		initial, _ := get(kvs, "initial")
		n := &reduceNode{v: value(), initial: initial, shape: shape(3, "$reduce must have exactly three properties")}
		k, names := findBinding(kvs, "each", 2, 3)
		if names != nil {
			c.pushFrame(names)
			n.names, n.body = names, sub(k)
			c.popFrame()
		}
		c.checkRest(kvs, op, k) // initial included: it is used as it is
		return n
	case "$find":
		n := &findNode{v: value(), shape: shape(2, "$find must have exactly two properties")}
		k, names := findBinding(kvs, "each", 1, 2)
		c.checkRest(kvs, op) // each or by is a string when compiled: a leaf
		if names != nil && n.shape == nil {
			n.names = names
			v, _ := get(kvs, k)
			if s, ok := v.(string); ok {
				c.pushKey(k)
				c.pushFrame(names)
				n.cond = c.compileExpr(s)
				c.popFrame()
				c.pop()
			} else {
				n.shape = templateErr("each can evaluate string expressions only")
				c.record(n.shape)
			}
		}
		return n
	case "$sort":
		n := &sortNode{v: value()}
		k, names := findBinding(kvs, "by", 1, 1)
		c.checkRest(kvs, op) // each or by is a string when compiled: a leaf
		if names != nil {
			n.names = names
			v, _ := get(kvs, k)
			if s, ok := v.(string); ok {
				c.pushKey(k)
				c.pushFrame(names)
				by := c.compileExpr(s)
				c.popFrame()
				c.pop()
				n.by = &by
			} else {
				n.byErr = templateErr("$sort by(..) can evaluate string expressions only")
				c.record(n.byErr)
			}
		}
		return n
	case "$match", "$switch":
		obj, ok := val.(map[string]any)
		if !ok {
			c.check(m, len(c.path))
			return c.fail(templateErr(op + " can evaluate objects only"))
		}
		n := &matchNode{isSwitch: op == "$switch"}
		c.pushKey(op)
		defer c.pop()
		for _, k := range sortedKeys(obj) {
			c.pushKey(k)
			body := c.compile(obj[k])
			if n.isSwitch && k == "$default" {
				n.def = body
			} else {
				n.cases = append(n.cases, matchCase{cond: c.compileExpr(k), body: body})
			}
			c.pop()
		}
		return n
	case "$merge", "$mergeDeep":
		return &mergeNode{v: value(), deep: op == "$mergeDeep", op: op}
	case "$reverse":
		return &reverseNode{v: value()}
	}
	c.check(m, len(c.path))
	return c.fail(templateErr("unknown operator " + op))
}

// get looks k up in an operator object's entries kvs, which for the few
// entries an operator has costs less than a lookup in the map.
func get(kvs []keyVal, k string) (any, bool) {
	for _, kv := range kvs {
		if kv.k == k {
			return kv.v, true
		}
	}
	return nil, false
}

// indexSegment renders an array index as a path segment.
func indexSegment(i int) string { return "[" + strconv.Itoa(i) + "]" }
