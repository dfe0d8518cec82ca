package jsone

import (
	"math/bits"
	"slices"
	"strings"
)

// node is one compiled piece of a template. render returns the rendered
// value, or deleteMarker{} when the piece renders to nothing.
type node interface {
	render(r *renderer, sc *scope) (any, error)
}

// constNode is a scalar without interpolation: rendered as is.
type constNode struct{ v any }

func (n *constNode) render(*renderer, *scope) (any, error) { return n.v, nil }

// errNode is a template problem found by Compile, raised when reached.
type errNode struct{ err *Error }

func (n *errNode) render(*renderer, *scope) (any, error) { return nil, n.err.clone() }

// interpNode is a string with ${...} interpolations: lits[0], the value of
// exprs[0], lits[1], ... lits[len(exprs)]. err, when set, is a syntax error
// met after the last expression; it is raised once the expressions before
// it have been evaluated.
type interpNode struct {
	lits   []string // len(exprs)+1 literal texts, "" where there is none
	exprs  []exprRoot
	litLen int
	err    *Error
}

func (n *interpNode) render(r *renderer, sc *scope) (any, error) {
	if len(n.exprs) == 1 && n.litLen == 0 && n.err == nil {
		// "${expr}" alone: a string result is returned without copying.
		x := &n.exprs[0]
		v, err := x.eval(r, sc)
		if err != nil {
			return nil, err
		}
		switch t := v.(type) {
		case string:
			return v, nil
		case float64:
			return r.str(r.formatNumber(t)), nil
		}
		s, ok := toInterpString(v)
		if !ok {
			return nil, interpolationErr(x.src, v)
		}
		return r.str(s), nil
	}
	s, err := n.renderString(r, sc)
	if err != nil {
		return nil, err
	}
	return r.str(s), nil
}

func (n *interpNode) renderString(r *renderer, sc *scope) (string, error) {
	// Evaluate first, then build the string in one exactly sized piece of
	// the arena.
	var stack [8]any
	vals := stack[:0]
	if len(n.exprs) > len(stack) {
		vals = make([]any, 0, len(n.exprs))
	}
	size := n.litLen
	for i := range n.exprs {
		x := &n.exprs[i]
		v, err := x.eval(r, sc)
		if err != nil {
			return "", err
		}
		switch t := v.(type) {
		case string:
			size += len(t)
		case float64:
			size += 24
		case bool:
			size += 5
		case nil:
		default:
			return "", interpolationErr(x.src, v)
		}
		vals = append(vals, v)
	}
	if n.err != nil {
		return "", n.err.clone()
	}
	if err := r.spendString(size); err != nil {
		return "", err
	}
	w := r.arena.grab(size)
	w = append(w, n.lits[0]...)
	for i, v := range vals {
		switch t := v.(type) {
		case string:
			w = append(w, t...)
		case float64:
			w = appendNumber(w, t)
		case bool:
			if t {
				w = append(w, "true"...)
			} else {
				w = append(w, "false"...)
			}
		}
		w = append(w, n.lits[i+1]...)
	}
	return r.arena.take(w), nil
}

func interpolationErr(src string, v any) error {
	if isFunction(v) {
		return templateErr("interpolation of '" + src + "' produced a function")
	}
	return templateErr("interpolation of '" + src + "' produced an array or object")
}

type arrayNode struct{ items []node }

func (n *arrayNode) render(r *renderer, sc *scope) (any, error) {
	if err := r.spend(len(n.items)*costElem + 1); err != nil {
		return nil, err
	}
	out := make([]any, 0, len(n.items))
	for i, it := range n.items {
		v, err := it.render(r, sc)
		if err != nil {
			return nil, withSegment(err, indexSegment(i))
		}
		if !isDeleted(v) {
			out = append(out, v)
		}
	}
	return r.array(out), nil
}

type objEntry struct {
	tmplKey  string      // the key as written, for error paths
	key      string      // the output key, when keyNode is nil
	keyNode  *interpNode // the key, when it is interpolated
	reserved *Error      // set when the key is a reserved $word
	val      node
}

type objectNode struct{ entries []objEntry }

func (n *objectNode) render(r *renderer, sc *scope) (any, error) {
	out := make(map[string]any, len(n.entries))
	if err := n.renderInto(r, sc, out); err != nil {
		return nil, err
	}
	return out, nil
}

// renderEntries renders the object's entries and appends them to entries.
func (n *objectNode) renderEntries(r *renderer, sc *scope, entries []kv) ([]kv, error) {
	if err := r.spend(len(n.entries)*costEntry + 1); err != nil {
		return entries, err
	}
	for i := range n.entries {
		e := &n.entries[i]
		v, err := e.val.render(r, sc)
		if err != nil {
			return entries, withSegment(err, keySegment(e.tmplKey))
		}
		if isDeleted(v) {
			continue
		}
		key := e.key
		switch {
		case e.reserved != nil:
			return entries, e.reserved.clone()
		case e.keyNode != nil:
			if key, err = e.keyNode.renderString(r, sc); err != nil {
				return entries, err
			}
		}
		entries = append(entries, kv{key, v})
	}
	return entries, nil
}

// renderInto renders the object's entries into out.
func (n *objectNode) renderInto(r *renderer, sc *scope, out map[string]any) error {
	if err := r.spend(len(n.entries)*costEntry + 1); err != nil {
		return err
	}
	for i := range n.entries {
		// As in JSON-e: the value first; the key only when the value is not
		// deleted, and a key's own error carries no segment for it.
		e := &n.entries[i]
		v, err := e.val.render(r, sc)
		if err != nil {
			return withSegment(err, keySegment(e.tmplKey))
		}
		if isDeleted(v) {
			continue
		}
		key := e.key
		switch {
		case e.reserved != nil:
			return e.reserved.clone()
		case e.keyNode != nil:
			if key, err = e.keyNode.renderString(r, sc); err != nil {
				return err
			}
		}
		out[key] = v
	}
	return nil
}

// copyNode is a part of the template without operators or interpolations:
// it renders to a fresh copy of itself, so no result shares memory with the
// template. cost is the work charged, as for the equivalent nodes.
type copyNode struct {
	v    any
	cost int
}

func (n *copyNode) render(r *renderer, _ *scope) (any, error) {
	if err := r.spend(n.cost); err != nil {
		return nil, err
	}
	return r.copyValue(n.v), nil
}

// copyValue copies the containers of a canonical value.
func (r *renderer) copyValue(v any) any {
	switch t := v.(type) {
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = r.copyValue(e)
		}
		return r.array(out)
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = r.copyValue(e)
		}
		return out
	}
	return v
}

type evalNode struct{ e exprRoot }

func (n *evalNode) render(r *renderer, sc *scope) (any, error) { return n.e.eval(r, sc) }

type jsonNode struct{ v node }

func (n *jsonNode) render(r *renderer, sc *scope) (any, error) {
	v, err := n.v.render(r, sc)
	if err != nil || isDeleted(v) {
		return v, err
	}
	// appendJSON fails on a function with JSON-e's uncalled-functions error.
	w, err := appendJSON(r.arena.grab(256), v, 0, r.maxDepth)
	if err != nil {
		return nil, err
	}
	if err := r.spendString(len(w)); err != nil {
		return nil, err
	}
	return r.str(r.arena.take(w)), nil
}

type ifNode struct {
	cond      exprRoot
	then, els node // nil when absent
}

func (n *ifNode) render(r *renderer, sc *scope) (any, error) {
	c, err := n.cond.eval(r, sc)
	if err != nil {
		return nil, err
	}
	branch := n.els
	if truthy(c) {
		branch = n.then
	}
	if branch == nil {
		return deleteMarker{}, nil
	}
	return branch.render(r, sc)
}

type flattenNode struct {
	v    node
	deep bool
	op   string
}

func (n *flattenNode) render(r *renderer, sc *scope) (any, error) {
	v, err := n.v.render(r, sc)
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, templateErr(n.op + " value must evaluate to an array")
	}
	if n.deep {
		out, err := r.flattenDeep(make([]any, 0, len(arr)), arr, 0)
		if err != nil {
			return nil, err
		}
		return r.array(out), nil
	}
	size := 0
	for _, e := range arr {
		if sub, ok := e.([]any); ok {
			size += len(sub)
		} else {
			size++
		}
	}
	if err := r.spend((size+len(arr))*costElem + 1); err != nil {
		return nil, err
	}
	out := make([]any, 0, size)
	for _, e := range arr {
		if sub, ok := e.([]any); ok {
			out = append(out, sub...)
		} else {
			out = append(out, e)
		}
	}
	return r.array(out), nil
}

func (r *renderer) flattenDeep(out, arr []any, depth int) ([]any, error) {
	if depth > r.maxDepth {
		return nil, limitErr("value nesting exceeds the maximum depth")
	}
	if err := r.spend(len(arr)*costElem + 1); err != nil {
		return nil, err
	}
	for _, e := range arr {
		if sub, ok := e.([]any); ok {
			var err error
			if out, err = r.flattenDeep(out, sub, depth+1); err != nil {
				return nil, err
			}
		} else {
			out = append(out, e)
		}
	}
	return out, nil
}

type fromNowNode struct {
	v    node
	from node    // nil when absent: the variable now is the reference
	now  varExpr // the variable now, resolved where the node sits
}

func (n *fromNowNode) render(r *renderer, sc *scope) (any, error) {
	v, err := n.v.render(r, sc)
	if err != nil {
		return nil, err
	}
	// As in JSON-e, from renders before the offset is checked, and an empty
	// from means now.
	var ref string
	var ok bool
	if n.from != nil {
		fv, err := n.from.render(r, sc)
		if err != nil {
			return nil, err
		}
		if ref, ok = fv.(string); !ok {
			return nil, templateErr("$fromNow expects from to be a string")
		}
	}
	offset, ok := v.(string)
	if !ok {
		return nil, templateErr("$fromNow expects a string")
	}
	if ref == "" {
		nv, _ := n.now.lookup(r, sc)
		if ref, ok = nv.(string); !ok {
			return nil, templateErr("$fromNow expects now to be a string")
		}
	}
	s, err := r.fromNowValue(offset, ref)
	if err != nil {
		return nil, templateErr("$fromNow: " + err.Error())
	}
	return s, r.spend(8)
}

type letNode struct {
	v, in node
	noIn  *Error // set when in is missing or null
	// slots holds the variable names when v is an object template whose
	// keys are all written out as identifiers: its values then go straight
	// into a frame of slots, without a map.
	slots []string
}

func (n *letNode) render(r *renderer, sc *scope) (any, error) {
	if n.slots != nil {
		return n.renderSlots(r, sc)
	}
	v, err := n.v.render(r, sc)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, templateErr("$let value must be an object")
	}
	for k := range m {
		if !isIdentifier(k) {
			return nil, templateErr("top level keys of $let must follow /[a-zA-Z_][a-zA-Z0-9_]*/")
		}
	}
	if n.noIn != nil {
		return nil, n.noIn.clone()
	}
	return n.in.render(r, r.mapScope(sc, m))
}

func (n *letNode) renderSlots(r *renderer, sc *scope) (any, error) {
	obj := n.v.(*objectNode)
	if err := r.spend(len(obj.entries)*costEntry + 1); err != nil {
		return nil, err
	}
	vals := r.carve(len(obj.entries))
	for i := range obj.entries {
		v, err := obj.entries[i].val.render(r, sc)
		if err != nil {
			return nil, withSegment(err, keySegment(obj.entries[i].tmplKey))
		}
		vals[i] = v // a deleted value leaves the name unbound
	}
	if n.noIn != nil {
		return nil, n.noIn.clone()
	}
	f := r.scopes.put(scope{parent: sc, names: n.slots, vals: vals})
	return n.in.render(r, f)
}

// smallIndexes holds the boxed numbers 0..255, so that binding a loop index
// in $map, $reduce or $find does not allocate. It is read-only.
var smallIndexes = func() (t [256]any) {
	for i := range t {
		t[i] = float64(i)
	}
	return t
}()

func boxIndex(i int) any {
	if i < len(smallIndexes) {
		return smallIndexes[i]
	}
	return float64(i)
}

type mapNode struct {
	v     node
	names []string // each(x) or each(x,i) / each(v,k)
	body  node
	shape *Error // a problem with the properties, raised after v renders
}

func (n *mapNode) render(r *renderer, sc *scope) (any, error) {
	v, err := n.v.render(r, sc)
	if err != nil {
		return nil, err
	}
	switch v.(type) {
	case []any, map[string]any:
	default:
		return nil, templateErr("$map value must evaluate to an array or object")
	}
	if n.shape != nil {
		return nil, n.shape.clone()
	}
	fr := r.frame(sc, n.names)
	switch t := v.(type) {
	case []any:
		if err := r.spend(len(t)*costElem + 1); err != nil {
			return nil, err
		}
		out := make([]any, 0, len(t))
		for i, x := range t {
			fr.vals[0] = x
			if len(fr.vals) == 2 {
				fr.vals[1] = boxIndex(i)
			}
			res, err := n.body.render(r, fr)
			if err != nil {
				return nil, err
			}
			if !isDeleted(res) {
				out = append(out, res)
			}
		}
		return r.array(out), nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for _, k := range sortedKeys(t) {
			if len(fr.vals) == 1 {
				fr.vals[0] = map[string]any{"key": k, "val": t[k]}
			} else {
				fr.vals[0], fr.vals[1] = t[k], k
			}
			res, err := n.body.render(r, fr)
			if err != nil {
				return nil, err
			}
			if isDeleted(res) {
				continue
			}
			rm, ok := res.(map[string]any)
			if !ok {
				return nil, templateErr("$map on objects expects each(x) to evaluate to an object")
			}
			if err := r.spend(len(rm)*costEntry + costEntry); err != nil {
				return nil, err
			}
			for kk, vv := range rm {
				out[kk] = vv
			}
		}
		return out, nil
	}
	return nil, templateErr("$map value must evaluate to an array or object")
}

type reduceNode struct {
	v       node
	names   []string // each(acc,x) or each(acc,x,i)
	body    node
	initial any    // used as written, not rendered
	shape   *Error // a problem with the properties, raised after v renders
}

func (n *reduceNode) render(r *renderer, sc *scope) (any, error) {
	v, err := n.v.render(r, sc)
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, templateErr("$reduce value must evaluate to an array")
	}
	if n.shape != nil {
		return nil, n.shape.clone()
	}
	if err := r.spend(len(arr) + 1); err != nil {
		return nil, err
	}
	r.reduced = true
	acc := r.copyValue(n.initial)
	fr := r.frame(sc, n.names)
	for i, x := range arr {
		fr.vals[0], fr.vals[1] = acc, x
		if len(fr.vals) == 3 {
			fr.vals[2] = boxIndex(i)
		}
		res, err := n.body.render(r, fr)
		if err != nil {
			return nil, err
		}
		if !isDeleted(res) {
			acc = res
		}
	}
	return acc, nil
}

type findNode struct {
	v     node
	names []string
	cond  exprRoot
	shape *Error // a problem with the properties, raised after v renders
}

func (n *findNode) render(r *renderer, sc *scope) (any, error) {
	v, err := n.v.render(r, sc)
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, templateErr("$find value must evaluate to an array")
	}
	if n.shape != nil {
		return nil, n.shape.clone()
	}
	fr := r.frame(sc, n.names)
	for i, x := range arr {
		fr.vals[0] = x
		if len(fr.vals) == 2 {
			fr.vals[1] = boxIndex(i)
		}
		c, err := n.cond.eval(r, fr)
		if err != nil {
			return nil, err
		}
		if truthy(c) {
			return x, nil
		}
	}
	return deleteMarker{}, nil
}

type sortNode struct {
	v     node
	names []string  // the variable of by(x)
	by    *exprRoot // nil: sort the values themselves
	byErr *Error    // by(x) is not a string: raised when it would be used
}

func (n *sortNode) render(r *renderer, sc *scope) (any, error) {
	v, err := n.v.render(r, sc)
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, errSortType()
	}
	if err := r.spend((len(arr) + 1) * (bits.Len(uint(len(arr))) + costElem)); err != nil {
		return nil, err
	}
	if n.byErr != nil && len(arr) > 0 {
		return nil, n.byErr.clone()
	}
	keys := arr
	if n.by != nil {
		keys = make([]any, len(arr))
		fr := r.frame(sc, n.names)
		for i, x := range arr {
			fr.vals[0] = x
			if keys[i], err = n.by.eval(r, fr); err != nil {
				return nil, err
			}
		}
	}
	if len(arr) == 0 {
		return r.array([]any{}), nil
	}
	var sorted []any
	switch keys[0].(type) {
	case float64:
		sorted, err = sortBy(arr, keys, compareFloat)
	case string:
		sorted, err = sortBy(arr, keys, strings.Compare)
	default:
		err = errSortType()
	}
	if err != nil {
		return nil, err
	}
	return r.array(sorted), nil
}

func errSortType() error {
	return templateErr("$sorted values to be sorted must have the same type")
}

// sortBy stably sorts values by their keys, which must all be of type K.
func sortBy[K float64 | string](values, keys []any, cmp func(a, b K) int) ([]any, error) {
	type pair struct {
		key K
		v   any
	}
	pairs := make([]pair, len(values))
	for i, k := range keys {
		kk, ok := k.(K)
		if !ok {
			return nil, errSortType()
		}
		pairs[i] = pair{key: kk, v: values[i]}
	}
	slices.SortStableFunc(pairs, func(a, b pair) int { return cmp(a.key, b.key) })
	out := make([]any, len(pairs))
	for i, p := range pairs {
		out[i] = p.v
	}
	return out, nil
}

type matchCase struct {
	cond exprRoot
	body node
}

// matchNode implements $match (every truthy case, in key order) and $switch
// (the single truthy case, else $default, else nothing).
type matchNode struct {
	cases    []matchCase
	def      node
	isSwitch bool
}

func (n *matchNode) render(r *renderer, sc *scope) (any, error) {
	if !n.isSwitch {
		out := make([]any, 0, len(n.cases))
		for i := range n.cases {
			c, err := n.cases[i].cond.eval(r, sc)
			if err != nil {
				return nil, err
			}
			if !truthy(c) {
				continue
			}
			v, err := n.cases[i].body.render(r, sc)
			if err != nil {
				return nil, err
			}
			if !isDeleted(v) {
				out = append(out, v)
			}
		}
		return r.array(out), nil
	}
	var chosen node
	for i := range n.cases {
		c, err := n.cases[i].cond.eval(r, sc)
		if err != nil {
			return nil, err
		}
		if truthy(c) {
			if chosen != nil {
				return nil, templateErr("$switch can only have one truthy condition")
			}
			chosen = n.cases[i].body
		}
	}
	if chosen == nil {
		chosen = n.def
	}
	if chosen == nil {
		return deleteMarker{}, nil
	}
	return chosen.render(r, sc)
}

type mergeNode struct {
	v    node
	deep bool
	op   string
}

func (n *mergeNode) render(r *renderer, sc *scope) (any, error) {
	if items, ok := n.v.(*arrayNode); ok && !n.deep {
		return n.renderItems(r, sc, items)
	}
	v, err := n.v.render(r, sc)
	if err != nil {
		return nil, err
	}
	notObjects := func() error { return templateErr(n.op + " value must evaluate to an array of objects") }
	arr, ok := v.([]any)
	if !ok {
		return nil, notObjects()
	}
	size := 0
	for _, e := range arr {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, notObjects()
		}
		size += len(m)
	}
	if err := r.spend(size*costEntry + 1); err != nil {
		return nil, err
	}
	if !n.deep {
		out := make(map[string]any, size)
		for _, e := range arr {
			for k, x := range e.(map[string]any) {
				out[k] = x
			}
		}
		return out, nil
	}
	var acc any = map[string]any{}
	for _, e := range arr {
		if acc, err = r.mergeDeep(acc, e, 0); err != nil {
			return nil, err
		}
	}
	return acc, nil
}

// kv is one entry of an object being built.
type kv struct {
	k string
	v any
}

// renderItems is $merge over an array written in the template, the usual
// case. It renders the items in order, as rendering the array would, but
// collects the entries of object items (directly for object templates,
// also behind an $if) instead of building a map for each, then builds the
// result in one map of the right size.
func (n *mergeNode) renderItems(r *renderer, sc *scope, items *arrayNode) (any, error) {
	if err := r.spend(len(items.items)*costElem + 1); err != nil {
		return nil, err
	}
	var stack [32]kv
	entries := stack[:0]
	objects := true
	for i, it := range items.items {
		var err error
		var isObject bool
		if entries, isObject, err = r.mergeItem(it, sc, entries); err != nil {
			return nil, withSegment(err, indexSegment(i))
		}
		objects = objects && isObject
	}
	if !objects {
		return nil, templateErr(n.op + " value must evaluate to an array of objects")
	}
	if err := r.spend(len(entries)*costEntry + 1); err != nil {
		return nil, err
	}
	out := make(map[string]any, len(entries))
	for _, e := range entries {
		out[e.k] = e.v
	}
	return out, nil
}

// mergeItem renders one item of a $merge and appends its entries. isObject
// is false when the item renders to something other than an object or
// nothing.
func (r *renderer) mergeItem(it node, sc *scope, entries []kv) ([]kv, bool, error) {
	switch t := it.(type) {
	case *objectNode:
		entries, err := t.renderEntries(r, sc, entries)
		return entries, true, err
	case *ifNode:
		c, err := t.cond.eval(r, sc)
		if err != nil {
			return entries, false, err
		}
		branch := t.els
		if truthy(c) {
			branch = t.then
		}
		if branch == nil {
			return entries, true, nil
		}
		return r.mergeItem(branch, sc, entries)
	}
	v, err := it.render(r, sc)
	if err != nil || isDeleted(v) {
		return entries, true, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return entries, false, nil
	}
	for k, x := range m {
		entries = append(entries, kv{k, x})
	}
	return entries, true, nil
}

// mergeDeep merges b into a without modifying either: objects merge key by
// key, arrays concatenate, and otherwise b wins.
func (r *renderer) mergeDeep(a, b any, depth int) (any, error) {
	if depth > r.maxDepth {
		return nil, limitErr("value nesting exceeds the maximum depth")
	}
	switch bt := b.(type) {
	case map[string]any:
		at, ok := a.(map[string]any)
		if !ok {
			return b, nil
		}
		if err := r.spend((len(at) + len(bt)) * costEntry); err != nil {
			return nil, err
		}
		out := make(map[string]any, len(at)+len(bt))
		for k, x := range at {
			out[k] = x
		}
		for k, y := range bt {
			if x, ok := out[k]; ok {
				merged, err := r.mergeDeep(x, y, depth+1)
				if err != nil {
					return nil, err
				}
				out[k] = merged
			} else {
				out[k] = y
			}
		}
		return out, nil
	case []any:
		at, ok := a.([]any)
		if !ok {
			return b, nil
		}
		if err := r.spend((len(at) + len(bt)) * costElem); err != nil {
			return nil, err
		}
		out := make([]any, 0, len(at)+len(bt))
		return r.array(append(append(out, at...), bt...)), nil
	}
	return b, nil
}

type reverseNode struct{ v node }

func (n *reverseNode) render(r *renderer, sc *scope) (any, error) {
	v, err := n.v.render(r, sc)
	if err != nil {
		return nil, err
	}
	arr, ok := v.([]any)
	if !ok {
		return nil, templateErr("$reverse value must evaluate to an array of objects")
	}
	if err := r.spend(len(arr)*costElem + 1); err != nil {
		return nil, err
	}
	out := make([]any, len(arr))
	for i, x := range arr {
		out[len(arr)-1-i] = x
	}
	return r.array(out), nil
}
