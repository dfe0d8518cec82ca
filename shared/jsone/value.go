package jsone

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strconv"
	"unicode/utf8"
)

// Func is a function a caller may put in the context. Expressions can call it
// like a built-in; it must not appear in the rendered output. Its arguments
// and result are JSON-e values (nil, bool, float64, string, []any,
// map[string]any). A non-nil error aborts the render with an
// InterpreterError that wraps it.
type Func func(args ...any) (any, error)

// deleteMarker is what a template renders to when it produces nothing: $if
// without a matching branch, $switch and $find without a match. Parent
// objects and arrays drop it; at the top level it becomes nil.
type deleteMarker struct{}

func isDeleted(v any) bool {
	_, ok := v.(deleteMarker)
	return ok
}

func isFunction(v any) bool {
	switch v.(type) {
	case builtinFn, Func:
		return true
	}
	return false
}

// truthy implements JSON-e truthiness: null, false, 0, "", [] and {} are
// false; everything else, functions included, is true.
func truthy(v any) bool {
	switch t := v.(type) {
	case nil:
		return false
	case bool:
		return t
	case float64:
		return t != 0
	case string:
		return t != ""
	case []any:
		return len(t) > 0
	case map[string]any:
		return len(t) > 0
	}
	return true
}

// sameValue reports whether a and b are the same value: identical
// interfaces, or the same container.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		return ok && reflect.ValueOf(x).UnsafePointer() == reflect.ValueOf(y).UnsafePointer()
	case []any:
		y, ok := b.([]any)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	case Func:
		y, ok := b.(Func)
		return ok && reflect.ValueOf(x).Pointer() == reflect.ValueOf(y).Pointer()
	}
	return a == b
}

// typeValue is the result of typeof(), as a value: the constants need no
// allocation.
func typeValue(v any) any {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case float64:
		return "number"
	case string:
		return "string"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	case builtinFn, Func:
		return "function"
	}
	return "unknown"
}

// typeName is the name of v's type in messages.
func typeName(v any) string { return typeValue(v).(string) }

// deepEqual compares two values structurally. Functions are equal only to
// themselves. It fails only when the values nest deeper than maxDepth.
func deepEqual(a, b any, depth, maxDepth int) (bool, error) {
	if depth > maxDepth {
		return false, limitErr("value nesting exceeds the maximum depth")
	}
	switch x := a.(type) {
	case nil:
		return b == nil, nil
	case bool:
		y, ok := b.(bool)
		return ok && x == y, nil
	case float64:
		y, ok := b.(float64)
		return ok && x == y, nil
	case string:
		y, ok := b.(string)
		return ok && x == y, nil
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return false, nil
		}
		for i := range x {
			eq, err := deepEqual(x[i], y[i], depth+1, maxDepth)
			if err != nil || !eq {
				return false, err
			}
		}
		return true, nil
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok || len(x) != len(y) {
			return false, nil
		}
		for k, xv := range x {
			yv, ok := y[k]
			if !ok {
				return false, nil
			}
			eq, err := deepEqual(xv, yv, depth+1, maxDepth)
			if err != nil || !eq {
				return false, err
			}
		}
		return true, nil
	case builtinFn:
		y, ok := b.(builtinFn)
		return ok && x == y, nil
	case Func:
		y, ok := b.(Func)
		return ok && reflect.ValueOf(x).Pointer() == reflect.ValueOf(y).Pointer(), nil
	}
	return false, nil
}

// appendNumber writes f the way JavaScript's Number#toString does: integers
// without a fraction, the shortest round-trip digits otherwise, and an
// exponent only below 1e-6 or from 1e21 up.
func appendNumber(dst []byte, f float64) []byte {
	if f == 0 {
		return append(dst, '0')
	}
	abs := math.Abs(f)
	if abs < 1e21 && f == math.Trunc(f) && abs < 1<<53 {
		return strconv.AppendInt(dst, int64(f), 10)
	}
	if abs >= 1e21 || abs < 1e-6 {
		start := len(dst)
		dst = strconv.AppendFloat(dst, f, 'e', -1, 64)
		// Go writes e-07 and e+21; JavaScript writes e-7 and e+21.
		for i := start; i < len(dst); i++ {
			if dst[i] == 'e' && i+2 < len(dst) && dst[i+2] == '0' && i+3 < len(dst) {
				dst = append(dst[:i+2], dst[i+3:]...)
				break
			}
		}
		return dst
	}
	return strconv.AppendFloat(dst, f, 'f', -1, 64)
}

func formatNumber(f float64) string {
	var buf [32]byte
	return string(appendNumber(buf[:0], f))
}

// appendJSONString writes s as a JSON string the way JSON.stringify does:
// quotes, backslashes and control characters are escaped, everything else is
// written as is. Invalid UTF-8 becomes U+FFFD.
func appendJSONString(dst []byte, s string) []byte {
	const hex = "0123456789abcdef"
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				dst = append(dst, s[start:i]...)
				dst = append(dst, `\ufffd`...)
				i++
				start = i
				continue
			}
			i += size
			continue
		}
		dst = append(dst, s[start:i]...)
		switch c {
		case '"':
			dst = append(dst, '\\', '"')
		case '\\':
			dst = append(dst, '\\', '\\')
		case '\b':
			dst = append(dst, '\\', 'b')
		case '\f':
			dst = append(dst, '\\', 'f')
		case '\n':
			dst = append(dst, '\\', 'n')
		case '\r':
			dst = append(dst, '\\', 'r')
		case '\t':
			dst = append(dst, '\\', 't')
		default:
			dst = append(dst, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		}
		i++
		start = i
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}

// appendJSON writes v as compact JSON with object keys sorted by code point,
// as $json requires. The caller has already rejected functions.
func appendJSON(dst []byte, v any, depth, maxDepth int) ([]byte, error) {
	if depth > maxDepth {
		return dst, limitErr("value nesting exceeds the maximum depth")
	}
	switch t := v.(type) {
	case nil:
		return append(dst, "null"...), nil
	case bool:
		if t {
			return append(dst, "true"...), nil
		}
		return append(dst, "false"...), nil
	case float64:
		return appendNumber(dst, t), nil
	case string:
		return appendJSONString(dst, t), nil
	case []any:
		dst = append(dst, '[')
		for i, e := range t {
			if i > 0 {
				dst = append(dst, ',')
			}
			var err error
			if dst, err = appendJSON(dst, e, depth+1, maxDepth); err != nil {
				return dst, err
			}
		}
		return append(dst, ']'), nil
	case map[string]any:
		var buf [16]string
		keys := appendSortedKeys(buf[:0], t)
		dst = append(dst, '{')
		for i, k := range keys {
			if i > 0 {
				dst = append(dst, ',')
			}
			dst = appendJSONString(dst, k)
			dst = append(dst, ':')
			var err error
			if dst, err = appendJSON(dst, t[k], depth+1, maxDepth); err != nil {
				return dst, err
			}
		}
		return append(dst, '}'), nil
	}
	return dst, templateErr("evaluated template contained uncalled functions")
}

func sortedKeys(m map[string]any) []string {
	return appendSortedKeys(make([]string, 0, len(m)), m)
}

func appendSortedKeys(keys []string, m map[string]any) []string {
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// checkNoFunctions fails when v contains a function anywhere: functions may
// be called inside expressions but never appear in a result.
func checkNoFunctions(v any, depth, maxDepth int) error {
	if depth > maxDepth {
		return limitErr("value nesting exceeds the maximum depth")
	}
	switch t := v.(type) {
	case []any:
		for _, e := range t {
			if err := checkNoFunctions(e, depth+1, maxDepth); err != nil {
				return err
			}
		}
	case map[string]any:
		for _, e := range t {
			if err := checkNoFunctions(e, depth+1, maxDepth); err != nil {
				return err
			}
		}
	case builtinFn, Func:
		return templateErr("evaluated template contained uncalled functions")
	}
	return nil
}

// isCanonical reports whether v already uses only the value types the
// renderer works with, so that it can be used without a copy. It sets
// *hasFunc when v contains a Func.
func isCanonical(v any, depth, maxDepth int, hasFunc *bool) (bool, error) {
	c := canonicalCheck{maxDepth: maxDepth}
	ok := c.value(v, depth)
	*hasFunc = *hasFunc || c.hasFunc
	if c.tooDeep {
		return false, limitErr("value nesting exceeds the maximum depth")
	}
	return ok, nil
}

// canonicalCheck walks a value for isCanonical. It runs on every context
// of every render, so leaves are checked in the loops over containers
// rather than by a call each.
type canonicalCheck struct {
	maxDepth int
	hasFunc  bool
	tooDeep  bool
}

func (c *canonicalCheck) value(v any, depth int) bool {
	switch t := v.(type) {
	case []any:
		// Elements sit one level deeper, leaves included.
		if depth > c.maxDepth || depth == c.maxDepth && len(t) > 0 {
			c.tooDeep = true
			return false
		}
		for _, e := range t {
			if !c.leaf(e) && !c.value(e, depth+1) {
				return false
			}
		}
		return true
	case map[string]any:
		// Elements sit one level deeper, leaves included.
		if depth > c.maxDepth || depth == c.maxDepth && len(t) > 0 {
			c.tooDeep = true
			return false
		}
		for _, e := range t {
			if !c.leaf(e) && !c.value(e, depth+1) {
				return false
			}
		}
		return true
	}
	if depth > c.maxDepth {
		c.tooDeep = true
		return false
	}
	return c.leaf(v)
}

// leaf reports whether v is a canonical scalar (or a Func).
func (c *canonicalCheck) leaf(v any) bool {
	switch t := v.(type) {
	case string, nil, bool:
		return true
	case float64:
		return !math.IsNaN(t) && !math.IsInf(t, 0)
	case Func:
		c.hasFunc = true
		return true
	}
	return false
}

// normalize returns v converted to the canonical value types: integers,
// float32 and json.Number become float64, json.RawMessage is decoded, []byte
// becomes a base64 string (as encoding/json writes it), other slices become
// []any and maps with string keys become map[string]any. It rejects non-finite numbers and
// types that have no JSON form. Canonical input is returned unchanged.
// hasFunc reports whether the result contains a Func.
func normalize(v any, maxDepth int) (out any, hasFunc bool, err error) {
	ok, err := isCanonical(v, 0, maxDepth, &hasFunc)
	if err != nil {
		return nil, false, err
	}
	if ok {
		return v, hasFunc, nil
	}
	out, err = convert(v, 0, maxDepth)
	if err != nil {
		return nil, false, err
	}
	hasFunc = false
	_, err = isCanonical(out, 0, maxDepth, &hasFunc)
	return out, hasFunc, err
}

func convert(v any, depth, maxDepth int) (any, error) {
	if depth > maxDepth {
		return nil, limitErr("value nesting exceeds the maximum depth")
	}
	switch t := v.(type) {
	case nil, bool, string, Func:
		return v, nil
	case float64:
		return finite(t)
	case float32:
		return finite(float64(t))
	case int:
		return float64(t), nil
	case int8:
		return float64(t), nil
	case int16:
		return float64(t), nil
	case int32:
		return float64(t), nil
	case int64:
		return float64(t), nil
	case uint:
		return float64(t), nil
	case uint8:
		return float64(t), nil
	case uint16:
		return float64(t), nil
	case uint32:
		return float64(t), nil
	case uint64:
		return float64(t), nil
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		if err != nil {
			return nil, templateErr(fmt.Sprintf("invalid number %q", string(t)))
		}
		return finite(f)
	case json.RawMessage:
		var decoded any
		if err := json.Unmarshal(t, &decoded); err != nil {
			return nil, templateErr("invalid embedded JSON: " + err.Error())
		}
		return convert(decoded, depth, maxDepth)
	case []byte:
		// As encoding/json encodes it.
		return base64.StdEncoding.EncodeToString(t), nil
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			c, err := convert(e, depth+1, maxDepth)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			c, err := convert(e, depth+1, maxDepth)
			if err != nil {
				return nil, err
			}
			out[k] = c
		}
		return out, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Slice, reflect.Array:
		if rv.Kind() == reflect.Slice && rv.IsNil() {
			return nil, nil
		}
		out := make([]any, rv.Len())
		for i := range out {
			c, err := convert(rv.Index(i).Interface(), depth+1, maxDepth)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			break
		}
		if rv.IsNil() {
			return nil, nil
		}
		out := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			c, err := convert(it.Value().Interface(), depth+1, maxDepth)
			if err != nil {
				return nil, err
			}
			out[it.Key().String()] = c
		}
		return out, nil
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, nil
		}
		return convert(rv.Elem().Interface(), depth+1, maxDepth)
	case reflect.String:
		return rv.String(), nil
	case reflect.Bool:
		return rv.Bool(), nil
	}
	return nil, templateErr(fmt.Sprintf("unsupported value of type %T", v))
}

func finite(f float64) (any, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, templateErr("numbers must be finite")
	}
	return f, nil
}
