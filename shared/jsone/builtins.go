package jsone

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// builtinFn identifies a built-in function. As a value it is comparable and
// needs no allocation, so min == min holds and min != max.
type builtinFn uint8

const (
	fnMin builtinFn = iota + 1
	fnMax
	fnSqrt
	fnCeil
	fnFloor
	fnAbs
	fnLowercase
	fnUppercase
	fnLen
	fnStr
	fnNumber
	fnStrip
	fnLstrip
	fnRstrip
	fnSplit
	fnJoin
	fnFromNow
	fnTypeof
	fnDefined
	fnRange
)

func builtinByName(name string) builtinFn {
	switch name {
	case "min":
		return fnMin
	case "max":
		return fnMax
	case "sqrt":
		return fnSqrt
	case "ceil":
		return fnCeil
	case "floor":
		return fnFloor
	case "abs":
		return fnAbs
	case "lowercase":
		return fnLowercase
	case "uppercase":
		return fnUppercase
	case "len":
		return fnLen
	case "str":
		return fnStr
	case "number":
		return fnNumber
	case "strip":
		return fnStrip
	case "lstrip":
		return fnLstrip
	case "rstrip":
		return fnRstrip
	case "split":
		return fnSplit
	case "join":
		return fnJoin
	case "fromNow":
		return fnFromNow
	case "typeof":
		return fnTypeof
	case "defined":
		return fnDefined
	case "range":
		return fnRange
	}
	return 0
}

// String returns the built-in's name.
func (f builtinFn) String() string {
	switch f {
	case fnMin:
		return "min"
	case fnMax:
		return "max"
	case fnSqrt:
		return "sqrt"
	case fnCeil:
		return "ceil"
	case fnFloor:
		return "floor"
	case fnAbs:
		return "abs"
	case fnLowercase:
		return "lowercase"
	case fnUppercase:
		return "uppercase"
	case fnLen:
		return "len"
	case fnStr:
		return "str"
	case fnNumber:
		return "number"
	case fnStrip:
		return "strip"
	case fnLstrip:
		return "lstrip"
	case fnRstrip:
		return "rstrip"
	case fnSplit:
		return "split"
	case fnJoin:
		return "join"
	case fnFromNow:
		return "fromNow"
	case fnTypeof:
		return "typeof"
	case fnDefined:
		return "defined"
	case fnRange:
		return "range"
	}
	return "unknown"
}

func (r *renderer) callBuiltin(f builtinFn, args []any, sc *scope) (any, error) {
	if err := r.spend(1); err != nil {
		return nil, err
	}
	switch f {
	case fnMin, fnMax:
		if len(args) == 0 {
			return nil, atLeast(f, 1)
		}
		var best float64
		for i, a := range args {
			x, ok := a.(float64)
			if !ok {
				return nil, builtinErr(f.String())
			}
			if i == 0 || (f == fnMin && x < best) || (f == fnMax && x > best) {
				best = x
			}
		}
		return r.num(best), nil
	case fnSqrt, fnCeil, fnFloor, fnAbs:
		if len(args) != 1 {
			return nil, builtinErr(f.String())
		}
		x, ok := args[0].(float64)
		if !ok {
			return nil, builtinErr(f.String())
		}
		switch f {
		case fnSqrt:
			if x < 0 {
				return nil, builtinErr(f.String())
			}
			return r.number(math.Sqrt(x))
		case fnCeil:
			return r.number(math.Ceil(x))
		case fnFloor:
			return r.number(math.Floor(x))
		default:
			return r.number(math.Abs(x))
		}
	case fnLowercase, fnUppercase, fnStrip, fnLstrip, fnRstrip:
		if len(args) != 1 {
			return nil, builtinErr(f.String())
		}
		orig, ok := args[0].(string)
		if !ok {
			return nil, builtinErr(f.String())
		}
		s := orig
		switch f {
		case fnLowercase:
			s = strings.ToLower(s)
		case fnUppercase:
			s = strings.ToUpper(s)
		case fnStrip:
			s = strings.TrimFunc(s, isJSSpace)
		case fnLstrip:
			s = strings.TrimLeftFunc(s, isJSSpace)
		default:
			s = strings.TrimRightFunc(s, isJSSpace)
		}
		if s == orig {
			return args[0], nil // unchanged: reuse the boxed value
		}
		if err := r.spendString(len(s)); err != nil {
			return nil, err
		}
		return r.str(s), nil
	case fnLen:
		if len(args) != 1 {
			return nil, builtinErr(f.String())
		}
		switch t := args[0].(type) {
		case string:
			return boxIndex(utf8.RuneCountInString(t)), nil
		case []any:
			return boxIndex(len(t)), nil
		}
		return nil, builtinErr(f.String())
	case fnStr:
		if len(args) != 1 {
			return nil, builtinErr(f.String())
		}
		if args[0] == nil {
			return "null", nil
		}
		if x, ok := args[0].(float64); ok {
			return r.str(r.formatNumber(x)), nil
		}
		s, ok := toInterpString(args[0])
		if !ok {
			return nil, builtinErr(f.String())
		}
		return r.str(s), nil
	case fnNumber:
		if len(args) != 1 {
			return nil, builtinErr(f.String())
		}
		s, ok := args[0].(string)
		if !ok {
			return nil, builtinErr(f.String())
		}
		x, ok := parseNumber(s)
		if !ok {
			return nil, builtinErr(f.String())
		}
		return r.num(x), nil
	case fnSplit:
		return r.split(args)
	case fnJoin:
		return r.join(args)
	case fnFromNow:
		if len(args) < 1 {
			return nil, atLeast(f, 1)
		}
		if len(args) > 2 {
			return nil, builtinErr(f.String())
		}
		offset, ok := args[0].(string)
		if !ok {
			return nil, builtinErr(f.String())
		}
		// As in JSON-e, an empty reference means now.
		var ref any
		if len(args) == 2 && args[1] != "" {
			ref = args[1]
		} else {
			ref, _ = r.lookup(sc, "now")
		}
		refStr, ok := ref.(string)
		if !ok {
			return nil, builtinErr(f.String())
		}
		s, err := r.fromNowValue(offset, refStr)
		if err != nil {
			e := builtinErr(f.String())
			e.Message += ": " + err.Error()
			return nil, e
		}
		return s, nil
	case fnTypeof:
		if len(args) != 1 {
			return nil, builtinErr(f.String())
		}
		return typeValue(args[0]), nil
	case fnDefined:
		if len(args) != 1 {
			return nil, builtinErr(f.String())
		}
		name, ok := args[0].(string)
		if !ok {
			return nil, builtinErr(f.String())
		}
		_, found := r.lookup(sc, name)
		return found, nil
	case fnRange:
		return r.rangeOf(args)
	}
	return nil, builtinErr(f.String())
}

// atLeast is the error for a variadic built-in called with too few
// arguments.
func atLeast(f builtinFn, n int) *Error {
	e := builtinErr(f.String())
	e.Message += ": expected at least " + strconv.Itoa(n) + " arguments"
	return e
}

// isJSSpace matches the characters JavaScript's trim removes.
func isJSSpace(c rune) bool {
	return c == '\ufeff' || (unicode.IsSpace(c) && c != '\u0085')
}

// parseNumber accepts a decimal number with optional sign, fraction,
// exponent and surrounding whitespace; it rejects hex, "Infinity" and NaN.
func parseNumber(s string) (float64, bool) {
	s = strings.TrimFunc(s, isJSSpace)
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for i < len(s) && isDigit(s[i]) {
		i++
		digits++
	}
	if i < len(s) && s[i] == '.' {
		i++
		for i < len(s) && isDigit(s[i]) {
			i++
			digits++
		}
	}
	if digits == 0 {
		return 0, false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		exp := 0
		for i < len(s) && isDigit(s[i]) {
			i++
			exp++
		}
		if exp == 0 {
			return 0, false
		}
	}
	if i != len(s) {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsInf(f, 0) {
		return 0, false
	}
	if f == 0 {
		f = 0
	}
	return f, true
}

// separator accepts a string, or a number written in its string form.
func separator(v any) (string, bool) {
	switch t := v.(type) {
	case string:
		return t, true
	case float64:
		return formatNumber(t), true
	}
	return "", false
}

func (r *renderer) split(args []any) (any, error) {
	bad := func() error { return builtinErr("split") }
	if len(args) != 2 {
		return nil, bad()
	}
	s, ok := args[0].(string)
	if !ok {
		return nil, bad()
	}
	sep, ok := separator(args[1])
	if !ok {
		return nil, bad()
	}
	n := strings.Count(s, sep) + 1
	if sep == "" {
		n = utf8.RuneCountInString(s)
	}
	if err := r.spend(n*costElem + len(s)/4); err != nil {
		return nil, err
	}
	parts := strings.Split(s, sep)
	out := make([]any, len(parts))
	for i, p := range parts {
		out[i] = r.str(p)
	}
	return r.array(out), nil
}

func (r *renderer) join(args []any) (any, error) {
	bad := func() error { return builtinErr("join") }
	if len(args) != 2 {
		return nil, bad()
	}
	arr, ok := args[0].([]any)
	if !ok {
		return nil, bad()
	}
	sep, ok := separator(args[1])
	if !ok {
		return nil, bad()
	}
	// Measure first, then write the result into the arena in one piece.
	size := 0
	for i, e := range arr {
		switch t := e.(type) {
		case string:
			size += len(t)
		case float64:
			var buf [32]byte
			size += len(appendNumber(buf[:0], t))
		default:
			return nil, bad()
		}
		if i > 0 {
			size += len(sep)
		}
		if size > r.maxString {
			return nil, r.spendString(size)
		}
	}
	w := r.arena.grab(size)
	for i, e := range arr {
		if i > 0 {
			w = append(w, sep...)
		}
		switch t := e.(type) {
		case string:
			w = append(w, t...)
		case float64:
			w = appendNumber(w, t)
		}
	}
	s := r.arena.take(w)
	if err := r.spendString(len(s)); err != nil {
		return nil, err
	}
	return r.str(s), nil
}

func (r *renderer) rangeOf(args []any) (any, error) {
	bad := func() error { return builtinErr("range") }
	if len(args) < 2 {
		return nil, atLeast(fnRange, 2)
	}
	if len(args) > 3 {
		return nil, bad()
	}
	start, ok1 := asInt(args[0])
	end, ok2 := asInt(args[1])
	step, ok3 := 1, true
	if len(args) == 3 {
		step, ok3 = asInt(args[2])
	}
	if !ok1 || !ok2 || !ok3 || step == 0 {
		return nil, bad()
	}
	n := 0
	if step > 0 && end > start {
		n = (end - start + step - 1) / step
	} else if step < 0 && start > end {
		n = (start - end - step - 1) / -step
	}
	if n > r.maxRange {
		return nil, limitErr("range of " + strconv.Itoa(n) + " numbers exceeds the limit of " + strconv.Itoa(r.maxRange))
	}
	if err := r.spend(n*costElem + 1); err != nil {
		return nil, err
	}
	out := make([]any, n)
	for i := range out {
		out[i] = r.num(float64(start + i*step))
	}
	return r.array(out), nil
}
