package jsone

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode/utf8"
	"unsafe"
)

// Work costs, in budget units. A unit is roughly one cheap operation or four
// bytes of memory produced.
const (
	costElem  = 4  // one array element produced
	costEntry = 16 // one object entry produced
)

// renderer holds the state of one render or evaluation: limits, the work
// budget and the clock. It is never shared between goroutines.
type renderer struct {
	maxDepth  int
	maxString int
	maxRange  int
	work      int // remaining budget

	funcs   bool // a function value may have entered some value; see checkResult
	reduced bool // a $reduce ran; see checkResult

	clock  func() time.Time
	nowSet bool

	// One-entry memos: templates tend to repeat the same reference time and
	// the same offset many times in one render.
	refStr  string
	refTime time.Time
	refOK   bool
	offStr  string
	offMs   int64
	offOK   bool
	lastOff string
	lastRef string
	lastVal any
	lastOK  bool

	arena arena

	// Slabs for boxing results; see box.go.
	strs   slab[string]
	arrays slab[[]any]
	nums   slab[float64]

	nowVal any // the variable now, boxed once

	root   scope
	scopes slab[scope]
	slots  []any // see carve

	// checkLookups makes every resolved variable check itself against the
	// search by name; tests set it.
	checkLookups bool
}

func newRenderer(opts Options) *renderer {
	r := &renderer{
		maxDepth:  opts.MaxDepth,
		maxString: opts.MaxStringBytes,
		maxRange:  opts.MaxRangeLength,
		work:      opts.MaxWork,
		clock:     opts.Now,
	}
	if r.maxDepth <= 0 {
		r.maxDepth = DefaultMaxDepth
	}
	if r.maxString <= 0 {
		r.maxString = DefaultMaxStringBytes
	}
	if r.maxRange <= 0 {
		r.maxRange = DefaultMaxRangeLength
	}
	if r.work <= 0 {
		r.work = DefaultMaxWork
	}
	if r.clock == nil {
		r.clock = time.Now
	}
	return r
}

// The per-render string arena carves strings from chunks that start at
// minArenaChunk bytes and double up to maxArenaChunk, so that a small render
// stays small and a large one allocates rarely.
const (
	minArenaChunk = 1024
	maxArenaChunk = 16 << 10
)

// arena hands out strings carved from byte chunks it owns, so that the
// many small strings of a render share a few allocations. The bytes below
// len(chunk) belong to strings already handed out and are never written
// again; a new string is appended after them. A chunk too full for the next
// string is left to the strings cut from it and a new one begun.
type arena struct{ chunk []byte }

// grab returns an empty slice with room for n bytes, to append one string
// to and pass to take. Appending more than n is allowed (the slice then
// moves to memory of its own).
func (a *arena) grab(n int) []byte {
	if cap(a.chunk)-len(a.chunk) < n {
		size := min(max(2*cap(a.chunk), minArenaChunk), maxArenaChunk)
		a.chunk = make([]byte, 0, max(n, size))
	}
	return a.chunk[len(a.chunk):len(a.chunk)]
}

// take returns the bytes appended to w, a slice from grab, as a string;
// w must not be written again.
func (a *arena) take(w []byte) string {
	if len(w) == 0 {
		return ""
	}
	if rest := a.chunk[len(a.chunk):cap(a.chunk)]; len(rest) >= len(w) && unsafe.SliceData(rest) == unsafe.SliceData(w) {
		a.chunk = a.chunk[:len(a.chunk)+len(w)]
	}
	return unsafe.String(unsafe.SliceData(w), len(w))
}

// spend takes n units from the work budget.
func (r *renderer) spend(n int) error {
	r.work -= n
	if r.work < 0 {
		return errBudget()
	}
	return nil
}

func errBudget() error { return limitErr("render exceeded its work budget") }

// spendString checks a string about to be produced against the size limit
// and charges for it.
func (r *renderer) spendString(n int) error {
	if n > r.maxString {
		return limitErr(fmt.Sprintf("string of %d bytes exceeds the limit of %d bytes", n, r.maxString))
	}
	return r.spend(n/4 + 1)
}

// nowValue is the value of the built-in variable now: the render time as
// an ISO 8601 string. The clock is read once, on first use.
func (r *renderer) nowValue() any {
	if !r.nowSet {
		r.nowSet = true
		s, err := formatTime(r.clock())
		if err != nil {
			s = ""
		}
		r.nowVal = s
	}
	return r.nowVal
}

// formatNumber formats f as JavaScript does, into the string arena.
func (r *renderer) formatNumber(f float64) string {
	return r.arena.take(appendNumber(r.arena.grab(24), f))
}

// scope is one frame of variables. The root frame holds the context and a
// $let whose keys are computed adds a map frame; a $let with keys written
// out, and $map, $reduce, $find and $sort, add frames of named slots (the
// loops reuse theirs across iterations). Built-ins sit below the root.
// Frames come from a slab of the renderer.
type scope struct {
	parent *scope
	vars   map[string]any // a map frame, when names is nil
	names  []string       // a slot frame: names[i] is bound to vals[i], unless that is deleteMarker{}
	vals   []any
	inline [3]any // vals of a loop's frame
}

// mapScope adds a frame holding the variables of m.
func (r *renderer) mapScope(parent *scope, m map[string]any) *scope {
	return r.scopes.put(scope{parent: parent, vars: m})
}

// frame adds a frame of slots for names; the caller fills its vals.
func (r *renderer) frame(parent *scope, names []string) *scope {
	f := r.scopes.put(scope{parent: parent, names: names})
	f.vals = f.inline[:len(names)]
	return f
}

// carve returns n slots for values, cut from a chunk shared by the render.
func (r *renderer) carve(n int) []any {
	if cap(r.slots)-len(r.slots) < n {
		r.slots = make([]any, 0, max(n, 32))
	}
	start := len(r.slots)
	r.slots = r.slots[:start+n]
	return r.slots[start : start+n : start+n]
}

func (r *renderer) lookup(sc *scope, name string) (any, bool) {
	for f := sc; f != nil; f = f.parent {
		if f.names == nil {
			if v, ok := f.vars[name]; ok {
				return v, true
			}
			continue
		}
		// From the end: in each(x,x) the later binding wins, as in JSON-e.
		for i := len(f.names) - 1; i >= 0; i-- {
			if f.names[i] == name {
				if v := f.vals[i]; !isDeleted(v) {
					return v, true
				}
				break
			}
		}
	}
	return r.global(name)
}

// global looks name up below the context: the variable now and the
// built-ins.
func (r *renderer) global(name string) (any, bool) {
	if name == "now" {
		return r.nowValue(), true
	}
	if fn := builtinByName(name); fn != 0 {
		return fn, true
	}
	return nil, false
}

// exprRoot is a parsed expression, or the syntax error found while parsing
// it. The error is raised only when the expression is evaluated, as JSON-e
// does. cost is the number of AST nodes, charged on every evaluation.
type exprRoot struct {
	e    expr
	err  *Error
	cost int
	src  string
}

func (x *exprRoot) eval(r *renderer, sc *scope) (any, error) {
	if x.err != nil {
		return nil, x.fail()
	}
	if r.work -= x.cost; r.work < 0 {
		return nil, errBudget()
	}
	return x.e.eval(r, sc)
}

// fail is the stored syntax error, as a copy of its own (split out so that
// eval stays small enough to inline).
func (x *exprRoot) fail() error { return x.err.clone() }

// eachVar calls fn for every variable in e.
func eachVar(e expr, fn func(*varExpr)) {
	switch t := e.(type) {
	case *varExpr:
		fn(t)
	case *dotExpr:
		eachVar(t.x, fn)
	case *indexExpr:
		eachVar(t.x, fn)
		eachVar(t.idx, fn)
	case *sliceExpr:
		eachVar(t.x, fn)
		if t.lo != nil {
			eachVar(t.lo, fn)
		}
		if t.hi != nil {
			eachVar(t.hi, fn)
		}
	case *callExpr:
		eachVar(t.fn, fn)
		for _, a := range t.args {
			eachVar(a, fn)
		}
	case *notExpr:
		eachVar(t.x, fn)
	case *signExpr:
		eachVar(t.x, fn)
	case *orExpr:
		eachVar(t.l, fn)
		eachVar(t.r, fn)
	case *andExpr:
		eachVar(t.l, fn)
		eachVar(t.r, fn)
	case *binExpr:
		eachVar(t.l, fn)
		eachVar(t.r, fn)
	case *arrayExpr:
		for _, x := range t.elems {
			eachVar(x, fn)
		}
	case *objectExpr:
		for _, x := range t.vals {
			eachVar(x, fn)
		}
	}
}

type expr interface {
	eval(r *renderer, sc *scope) (any, error)
	size() int
}

type litExpr struct{ v any }

func (e *litExpr) eval(*renderer, *scope) (any, error) { return e.v, nil }
func (e *litExpr) size() int                           { return 1 }

// varExpr is a variable. Compile resolves it against the frames it can see
// (see compiler.resolve); how it is found depends on what that showed.
type varExpr struct {
	name string
	kind varKind
	hops int32 // frames up from the scope it is evaluated in (varSlot, varMapFrame)
	idx  int32 // the slot (varSlot)
}

type varKind uint8

const (
	varSearch   varKind = iota // not resolved: search the frames by name
	varSlot                    // in slot idx of the frame hops up
	varMapFrame                // search by name from the map frame hops up
	varRoot                    // in no frame inside the context: the context, now or a built-in
)

func (e *varExpr) eval(r *renderer, sc *scope) (any, error) {
	v, err := e.lookup(r, sc)
	switch v.(type) {
	case builtinFn, Func:
		r.funcs = true
	}
	return v, err
}

// lookup resolves the variable without noting a function value; callExpr
// uses it for the function it is about to call.
func (e *varExpr) lookup(r *renderer, sc *scope) (any, error) {
	v, ok := e.find(r, sc)
	if r.checkLookups {
		e.check(r, sc, v, ok)
	}
	if !ok {
		return nil, interpreterErr("unknown context value " + e.name)
	}
	return v, nil
}

func (e *varExpr) find(r *renderer, sc *scope) (any, bool) {
	switch e.kind {
	case varRoot:
		if v, ok := r.root.vars[e.name]; ok {
			return v, true
		}
		return r.global(e.name)
	case varSlot:
		f := sc
		for h := e.hops; h > 0; h-- {
			f = f.parent
		}
		if v := f.vals[e.idx]; !isDeleted(v) {
			return v, true
		}
		// A deleted $let value leaves the name to the frames outside.
		return r.lookup(f.parent, e.name)
	case varMapFrame:
		f := sc
		for h := e.hops; h > 0; h-- {
			f = f.parent
		}
		return r.lookup(f, e.name)
	}
	return r.lookup(sc, e.name)
}

// check panics when the resolved lookup disagrees with the search by name.
func (e *varExpr) check(r *renderer, sc *scope, v any, ok bool) {
	if gv, gok := r.lookup(sc, e.name); gok != ok || !sameValue(gv, v) {
		panic("jsone: static lookup of " + e.name + " disagrees with the scope chain")
	}
}

func (e *varExpr) size() int { return 1 }

type dotExpr struct {
	x    expr
	name string
}

func (e *dotExpr) eval(r *renderer, sc *scope) (any, error) {
	v, err := e.x.eval(r, sc)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, interpreterErr("infix: . expects objects")
	}
	p, ok := m[e.name]
	if !ok {
		return nil, interpreterErr(`object has no property "` + e.name + `"`)
	}
	return p, nil
}
func (e *dotExpr) size() int { return 1 + e.x.size() }

type indexExpr struct{ x, idx expr }

func (e *indexExpr) eval(r *renderer, sc *scope) (any, error) {
	v, err := e.x.eval(r, sc)
	if err != nil {
		return nil, err
	}
	iv, err := e.idx.eval(r, sc)
	if err != nil {
		return nil, err
	}
	switch t := v.(type) {
	case map[string]any:
		k, ok := iv.(string)
		if !ok {
			return nil, interpreterErr("object keys must be strings")
		}
		return t[k], nil
	case []any:
		i, ok := asInt(iv)
		if !ok {
			return nil, interpreterErr("should only use integers to access arrays or strings")
		}
		if i < 0 {
			i += len(t)
		}
		if i < 0 || i >= len(t) {
			return nil, interpreterErr("index out of bounds")
		}
		return t[i], nil
	case string:
		i, ok := asInt(iv)
		if !ok {
			return nil, interpreterErr("should only use integers to access arrays or strings")
		}
		if isASCII(t) {
			if i < 0 {
				i += len(t)
			}
			if i < 0 || i >= len(t) {
				return nil, interpreterErr("index out of bounds")
			}
			return r.str(t[i : i+1]), nil
		}
		rs := []rune(t)
		if i < 0 {
			i += len(rs)
		}
		if i < 0 || i >= len(rs) {
			return nil, interpreterErr("index out of bounds")
		}
		return r.str(string(rs[i])), nil
	}
	return nil, interpreterErr(`infix: "[..]" expects object, array, or string`)
}
func (e *indexExpr) size() int { return 1 + e.x.size() + e.idx.size() }

type sliceExpr struct{ x, lo, hi expr }

func (e *sliceExpr) eval(r *renderer, sc *scope) (any, error) {
	v, err := e.x.eval(r, sc)
	if err != nil {
		return nil, err
	}
	var lov, hiv any
	if e.lo != nil {
		if lov, err = e.lo.eval(r, sc); err != nil {
			return nil, err
		}
	}
	if e.hi != nil {
		if hiv, err = e.hi.eval(r, sc); err != nil {
			return nil, err
		}
	}
	var n int
	var runes []rune
	switch t := v.(type) {
	case []any:
		n = len(t)
	case string:
		if isASCII(t) {
			n = len(t)
		} else {
			runes = []rune(t)
			n = len(runes)
		}
	case map[string]any:
		// The reference looks the lower bound up as a key (a number fails
		// as below); we refuse to slice an object at all.
		if _, ok := lov.(string); ok {
			return nil, interpreterErr(`infix: "[..]" expects array or string for slicing`)
		}
		return nil, interpreterErr("object keys must be strings")
	default:
		return nil, interpreterErr(`infix: "[..]" expects object, array, or string`)
	}
	lo, hi := 0, n
	if e.lo != nil {
		i, ok := asInt(lov)
		if !ok {
			return nil, interpreterErr("cannot perform interval access with non-integers")
		}
		lo = i
	}
	if e.hi != nil {
		i, ok := asInt(hiv)
		if !ok {
			return nil, interpreterErr("cannot perform interval access with non-integers")
		}
		hi = i
	}
	lo, hi = clampSlice(lo, n), clampSlice(hi, n)
	if hi < lo {
		hi = lo
	}
	switch t := v.(type) {
	case []any:
		// A full slice expression keeps a later append by the caller from
		// writing into the original array.
		return r.array(t[lo:hi:hi]), nil
	case string:
		if runes == nil {
			return r.str(t[lo:hi]), nil
		}
		return r.str(string(runes[lo:hi])), nil
	}
	return nil, nil
}
func (e *sliceExpr) size() int { return 1 + e.x.size() + sizeOf(e.lo) + sizeOf(e.hi) }

func sizeOf(e expr) int {
	if e == nil {
		return 0
	}
	return e.size()
}

// clampSlice resolves a Python-style slice bound against length n.
func clampSlice(i, n int) int {
	if i < 0 {
		i += n
		if i < 0 {
			i = 0
		}
	}
	if i > n {
		i = n
	}
	return i
}

type callExpr struct {
	fn   expr
	args []expr
}

func (e *callExpr) eval(r *renderer, sc *scope) (any, error) {
	var fv any
	var err error
	if v, ok := e.fn.(*varExpr); ok {
		fv, err = v.lookup(r, sc)
	} else {
		fv, err = e.fn.eval(r, sc)
	}
	if err != nil {
		return nil, err
	}
	var buf [4]any
	args := buf[:0]
	if len(e.args) > len(buf) {
		args = make([]any, 0, len(e.args))
	}
	for _, a := range e.args {
		v, err := a.eval(r, sc)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	switch f := fv.(type) {
	case builtinFn:
		return r.callBuiltin(f, args, sc)
	case Func:
		return r.callFunc(f, args)
	}
	return nil, interpreterErr(displayValue(fv) + " is not callable")
}
func (e *callExpr) size() int {
	n := 1 + e.fn.size()
	for _, a := range e.args {
		n += a.size()
	}
	return n
}

func (r *renderer) callFunc(f Func, args []any) (any, error) {
	cp := make([]any, len(args))
	copy(cp, args)
	v, err := f(cp...)
	if err != nil {
		return nil, &Error{Kind: KindInterpreter, Message: err.Error(), Err: err}
	}
	out, funcs, err := normalize(v, r.maxDepth)
	r.funcs = r.funcs || funcs
	return out, err
}

// displayValue is how a value reads inside an error message.
func displayValue(v any) string {
	switch t := v.(type) {
	case nil:
		return "null"
	case string:
		return t
	case bool, float64:
		s, _ := toInterpString(v)
		return s
	case builtinFn:
		return t.String()
	case Func:
		return "function"
	}
	b, err := appendJSON(nil, v, 0, DefaultMaxDepth)
	if err != nil {
		return typeName(v)
	}
	return string(b)
}

type notExpr struct{ x expr }

func (e *notExpr) eval(r *renderer, sc *scope) (any, error) {
	v, err := e.x.eval(r, sc)
	if err != nil {
		return nil, err
	}
	return !truthy(v), nil
}
func (e *notExpr) size() int { return 1 + e.x.size() }

type signExpr struct {
	neg bool
	x   expr
}

func (e *signExpr) eval(r *renderer, sc *scope) (any, error) {
	v, err := e.x.eval(r, sc)
	if err != nil {
		return nil, err
	}
	f, ok := v.(float64)
	if !ok {
		if e.neg {
			return nil, interpreterErr("unary - expects number")
		}
		return nil, interpreterErr("unary + expects number")
	}
	if e.neg {
		return r.number(-f)
	}
	return v, nil
}
func (e *signExpr) size() int { return 1 + e.x.size() }

type orExpr struct{ l, r expr }

func (e *orExpr) eval(r *renderer, sc *scope) (any, error) {
	v, err := e.l.eval(r, sc)
	if err != nil || truthy(v) {
		return err == nil, err
	}
	v, err = e.r.eval(r, sc)
	if err != nil {
		return nil, err
	}
	return truthy(v), nil
}
func (e *orExpr) size() int { return 1 + e.l.size() + e.r.size() }

type andExpr struct{ l, r expr }

func (e *andExpr) eval(r *renderer, sc *scope) (any, error) {
	v, err := e.l.eval(r, sc)
	if err != nil {
		return nil, err
	}
	if !truthy(v) {
		return false, nil
	}
	v, err = e.r.eval(r, sc)
	if err != nil {
		return nil, err
	}
	return truthy(v), nil
}
func (e *andExpr) size() int { return 1 + e.l.size() + e.r.size() }

type binExpr struct {
	op   binOp
	sym  string
	l, r expr
}

func (e *binExpr) size() int { return 1 + e.l.size() + e.r.size() }

func (e *binExpr) eval(r *renderer, sc *scope) (any, error) {
	lv, err := e.l.eval(r, sc)
	if err != nil {
		return nil, err
	}
	rv, err := e.r.eval(r, sc)
	if err != nil {
		return nil, err
	}
	switch e.op {
	case opEq, opNe:
		eq, err := deepEqual(lv, rv, 0, r.maxDepth)
		if err != nil {
			return nil, err
		}
		return eq == (e.op == opEq), nil
	case opIn:
		return r.evalIn(lv, rv)
	case opAdd:
		switch a := lv.(type) {
		case float64:
			if b, ok := rv.(float64); ok {
				return r.number(a + b)
			}
		case string:
			if b, ok := rv.(string); ok {
				if err := r.spendString(len(a) + len(b)); err != nil {
					return nil, err
				}
				w := r.arena.grab(len(a) + len(b))
				w = append(append(w, a...), b...)
				return r.str(r.arena.take(w)), nil
			}
		}
		return nil, interpreterErr("infix: + expects numbers/strings + numbers/strings")
	case opSub, opMul, opDiv, opPow:
		a, ok1 := lv.(float64)
		b, ok2 := rv.(float64)
		if !ok1 || !ok2 {
			return nil, interpreterErr("infix: " + e.sym + " expects number " + e.sym + " number")
		}
		switch e.op {
		case opSub:
			return r.number(a - b)
		case opMul:
			return r.number(a * b)
		case opDiv:
			if b == 0 {
				return nil, interpreterErr("division by zero")
			}
			return r.number(a / b)
		default:
			return r.number(math.Pow(a, b))
		}
	default: // comparisons
		var c int
		switch a := lv.(type) {
		case float64:
			b, ok := rv.(float64)
			if !ok {
				return nil, e.compareErr()
			}
			c = compareFloat(a, b)
		case string:
			b, ok := rv.(string)
			if !ok {
				return nil, e.compareErr()
			}
			c = strings.Compare(a, b)
		default:
			return nil, e.compareErr()
		}
		switch e.op {
		case opLt:
			return c < 0, nil
		case opLe:
			return c <= 0, nil
		case opGt:
			return c > 0, nil
		default:
			return c >= 0, nil
		}
	}
}

func (e *binExpr) compareErr() error {
	return interpreterErr("infix: " + e.sym + " expects numbers/strings " + e.sym + " numbers/strings")
}

func compareFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (r *renderer) evalIn(needle, haystack any) (any, error) {
	switch h := haystack.(type) {
	case string:
		s, ok := needle.(string)
		if !ok {
			return nil, interpreterErr("Infix: in-string expects string on left side")
		}
		if err := r.spend(len(h)/4 + 1); err != nil {
			return nil, err
		}
		return strings.Contains(h, s), nil
	case []any:
		if err := r.spend(len(h) + 1); err != nil {
			return nil, err
		}
		for _, x := range h {
			eq, err := deepEqual(needle, x, 0, r.maxDepth)
			if err != nil {
				return nil, err
			}
			if eq {
				return true, nil
			}
		}
		return false, nil
	case map[string]any:
		s, ok := needle.(string)
		if !ok {
			return nil, interpreterErr("Infix: in-object expects string on left side")
		}
		_, found := h[s]
		return found, nil
	}
	return nil, interpreterErr("Infix: in expects Array, string, or object on right side")
}

type arrayExpr struct{ elems []expr }

func (e *arrayExpr) eval(r *renderer, sc *scope) (any, error) {
	if err := r.spend(len(e.elems)*costElem + 1); err != nil {
		return nil, err
	}
	out := make([]any, len(e.elems))
	for i, x := range e.elems {
		v, err := x.eval(r, sc)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return r.array(out), nil
}
func (e *arrayExpr) size() int {
	n := 1
	for _, x := range e.elems {
		n += x.size()
	}
	return n
}

type objectExpr struct {
	keys []string
	vals []expr
}

func (e *objectExpr) eval(r *renderer, sc *scope) (any, error) {
	if err := r.spend(len(e.keys)*costEntry + 1); err != nil {
		return nil, err
	}
	out := make(map[string]any, len(e.keys))
	for i, x := range e.vals {
		v, err := x.eval(r, sc)
		if err != nil {
			return nil, err
		}
		out[e.keys[i]] = v
	}
	return out, nil
}
func (e *objectExpr) size() int {
	n := 1
	for _, x := range e.vals {
		n += x.size()
	}
	return n
}

// number returns an arithmetic result, refusing infinities and NaN (which
// have no JSON form) and turning -0 into 0.
func (r *renderer) number(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, interpreterErr("arithmetic result is not a finite number")
	}
	return r.num(f), nil
}

// asInt converts an integral number to int.
func asInt(v any) (int, bool) {
	f, ok := v.(float64)
	if !ok || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
		return 0, false
	}
	return int(f), true
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// toInterpString converts an interpolated value to its string form; ok is
// false for arrays, objects and functions, which cannot be interpolated.
func toInterpString(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case float64:
		return formatNumber(t), true
	case bool:
		if t {
			return "true", true
		}
		return "false", true
	case nil:
		return "", true
	}
	return "", false
}
