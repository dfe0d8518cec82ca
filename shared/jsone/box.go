package jsone

import "unsafe"

// Boxing: putting a string, a []any or a float64 into an any makes Go
// allocate a small cell for the value (a string or slice header, or the
// number), one allocation per value. A render of a typical task template
// produces a hundred or more such values, and those cells were half of all
// its allocations. The renderer instead appends the values to slabs it owns
// and builds each interface to point at the value's slot in a slab: one
// allocation per chunk of values instead of one per value.
//
// This relies on the layout of an empty interface (a type word and a data
// pointer; the data pointer addresses the value for every type that is not
// pointer-shaped), which has been the same in every Go release and which
// reflect and the runtime share. The slots are written once, before the
// interface is made, and never again: a slab only ever grows by starting a
// new chunk, so the values stay immutable like any other boxed value, and
// the garbage collector keeps a chunk alive while any value points into it.

// eface is the layout of an empty interface.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

func typeWord(v any) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

var (
	stringType = typeWord("")
	arrayType  = typeWord([]any(nil))
	numberType = typeWord(0.0)
)

// makeIface returns the interface of type typ whose value is at data.
func makeIface(typ, data unsafe.Pointer) any {
	var v any
	e := (*eface)(unsafe.Pointer(&v))
	e.typ = typ
	e.data = data
	return v
}

// Slab chunks start small, so that a render producing a handful of values
// stays cheap, and grow to a size that amortizes well.
const (
	firstChunk = 8
	maxChunk   = 128
)

func nextChunk(prev int) int {
	if prev == 0 {
		return firstChunk
	}
	return min(prev*2, maxChunk)
}

// slab is a chunked store of values of one type.
type slab[T any] struct{ chunk []T }

// put stores v and returns a pointer to its slot.
func (s *slab[T]) put(v T) *T {
	if len(s.chunk) == cap(s.chunk) {
		s.grow()
	}
	s.chunk = append(s.chunk, v)
	return &s.chunk[len(s.chunk)-1]
}

func (s *slab[T]) grow() { s.chunk = make([]T, 0, nextChunk(cap(s.chunk))) }

// take returns n contiguous zero slots, with room for exactly n, so that
// appending past them reallocates instead of overwriting a neighbour.
func (s *slab[T]) take(n int) []T {
	if n == 0 {
		return nil
	}
	if cap(s.chunk)-len(s.chunk) < n {
		s.chunk = make([]T, 0, max(n, nextChunk(cap(s.chunk))))
	}
	start := len(s.chunk)
	s.chunk = s.chunk[:start+n]
	return s.chunk[start : start+n : start+n]
}

// str returns s as an any without an allocation of its own.
func (r *renderer) str(s string) any {
	if s == "" {
		return ""
	}
	return makeIface(stringType, unsafe.Pointer(r.strs.put(s)))
}

// array returns a as an any without an allocation of its own.
func (r *renderer) array(a []any) any {
	return makeIface(arrayType, unsafe.Pointer(r.arrays.put(a)))
}

// num returns f as an any; small integers come from a shared table.
func (r *renderer) num(f float64) any {
	if f >= 0 && f < float64(len(smallIndexes)) && f == float64(int(f)) {
		return smallIndexes[int(f)]
	}
	return makeIface(numberType, unsafe.Pointer(r.nums.put(f)))
}
