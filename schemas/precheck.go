package schemas

import (
	"encoding/json"
	"math"
	"math/big"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/xeipuuv/gojsonschema"
)

// MaxProblems is how many problems a ValidationError lists; those beyond
// it are only counted.
const MaxProblems = 50

// The pre-check exists because gojsonschema spends about 2 to 5 µs on
// every error it finds (it renders each message with text/template), so a
// 1 MB array of 200,000 nulls where strings are wanted costs a second to
// refuse, and memory for 200,000 error records. The pre-check walks the
// document once, along the parts of the schema whose failures are certain
// whatever else the schema says (JSON Schema's keywords are conjunctive:
// a value that breaks `type` breaks the schema, anyOf or not), and counts
// the problems it finds there. When they are more than MaxProblems the
// document is refused on them, listed as gojsonschema would word them,
// without running gojsonschema; otherwise gojsonschema runs as before, so
// an ordinary refusal is worded exactly as it always was.
//
// It understands type, minLength, maxLength, pattern, format (of
// strings), required, properties, additionalProperties: false (without
// patternProperties), items (one schema), uniqueItems (of strings,
// booleans and nulls) and $ref (whose siblings it ignores, as gojsonschema
// does).
//
// A schema made only of the keywords it checks in full (all of the above
// but format and uniqueItems, and annotations such as title) is complete:
// the pre-check then decides alone that a document matching it is valid,
// and gojsonschema, which would first encode the document and decode it
// again, is not run. That is the common case of a trigger's body
// (trigger-hook.json) and of most triggerSchemas.

// checkNode is a schema compiled for the pre-check.
type checkNode struct {
	// types are the allowed JSON types; empty allows any. expected is
	// how gojsonschema writes them: "string", or "[string,null]".
	types    []string
	expected string
	// minLength and maxLength count runes; -1 when absent.
	minLength, maxLength int
	pattern              *regexp.Regexp
	format               string
	// unique is uniqueItems; the pre-check compares strings, booleans
	// and nulls only.
	unique   bool
	required []string
	// props are the properties the schema describes, by name.
	props      []checkProp
	propByName map[string]*checkNode
	// closed is additionalProperties: false without patternProperties.
	closed bool
	items  *checkNode
	// complete marks a schema whose every keyword, down to the values
	// it describes, the pre-check checks in full.
	complete bool
}

// completeKeywords are the keywords a complete schema may have: those the
// pre-check checks in full (additionalProperties when a boolean), and
// annotations.
var completeKeywords = map[string]bool{
	"type": true, "minLength": true, "maxLength": true, "pattern": true, "required": true,
	"properties": true, "additionalProperties": true, "items": true,
	"title": true, "description": true, "default": true, "examples": true, "$comment": true,
	"$id": true, "id": true, "$schema": true, "definitions": true, "readOnly": true, "writeOnly": true,
}

type checkProp struct {
	name string
	node *checkNode
}

// checkCompiler compiles schemas into checkNodes. resolve finds the
// schema a $ref names (with the id references inside it resolve
// against), or nil; refs memoizes those, which also ends cycles.
type checkCompiler struct {
	resolve func(currentID, ref string) (string, map[string]any)
	refs    map[string]*checkNode
}

func (c *checkCompiler) compile(currentID string, schema map[string]any, depth int) *checkNode {
	n := &checkNode{minLength: -1, maxLength: -1}
	if schema == nil || depth > maxCheckDepth {
		return n
	}
	if ref, ok := schema["$ref"].(string); ok {
		key := currentID + " " + ref
		if done, ok := c.refs[key]; ok {
			return done
		}
		c.refs[key] = n // filled in below; a cycle meets it
		id, target := c.resolve(currentID, ref)
		if target != nil {
			*n = *c.compile(id, target, depth+1)
		}
		return n
	}
	n.complete = true
	for k := range schema {
		n.complete = n.complete && completeKeywords[k]
	}
	switch t := schema["type"].(type) {
	case nil:
	case string:
		n.types = []string{t}
	case []any:
		for _, e := range t {
			if s, ok := e.(string); ok {
				n.types = append(n.types, s)
			} else {
				n.complete = false
			}
		}
	default:
		n.complete = false
	}
	switch len(n.types) {
	case 0:
	case 1:
		n.expected = n.types[0]
	default:
		n.expected = "[" + strings.Join(n.types, ",") + "]"
	}
	n.minLength = wholeNumber(schema["minLength"])
	n.maxLength = wholeNumber(schema["maxLength"])
	if p, ok := schema["pattern"].(string); ok {
		n.pattern, _ = regexp.Compile(p) // as gojsonschema compiles it
	}
	_, hasPattern := schema["pattern"]
	n.complete = n.complete && (n.pattern != nil || !hasPattern)
	n.format, _ = schema["format"].(string)
	n.unique, _ = schema["uniqueItems"].(bool)
	if req, ok := schema["required"].([]any); ok {
		for _, e := range req {
			if s, ok := e.(string); ok {
				n.required = append(n.required, s)
			}
		}
	}
	if props, ok := schema["properties"].(map[string]any); ok {
		n.propByName = make(map[string]*checkNode, len(props))
		for name, p := range props {
			ps, ok := p.(map[string]any)
			if !ok {
				n.complete = false // a boolean schema
				continue
			}
			child := c.compile(currentID, ps, depth+1)
			n.complete = n.complete && child.complete
			n.props = append(n.props, checkProp{name, child})
			n.propByName[name] = child
		}
		slices.SortFunc(n.props, func(a, b checkProp) int { return strings.Compare(a.name, b.name) })
	}
	_, patterns := schema["patternProperties"]
	ap, apBool := schema["additionalProperties"].(bool)
	if apBool && !ap && !patterns {
		n.closed = true
	}
	if _, has := schema["additionalProperties"]; has && !apBool {
		n.complete = false // a schema for the others
	}
	if items, ok := schema["items"].(map[string]any); ok {
		n.items = c.compile(currentID, items, depth+1)
		n.complete = n.complete && n.items.complete
	} else if _, has := schema["items"]; has {
		n.complete = false // a tuple, or a boolean
	}
	return n
}

// maxCheckDepth bounds the pre-check's recursion, in schema and document.
const maxCheckDepth = 64

func wholeNumber(v any) int {
	f, ok := v.(float64)
	if !ok || f < 0 || f != math.Trunc(f) || f > math.MaxInt32 {
		return -1
	}
	return int(f)
}

// pathStep is one step of a path in the document: a property or an index.
type pathStep struct {
	key   string
	index int // -1 for a property
}

// checker walks a document and collects its certain problems.
type checker struct {
	path     []pathStep
	problems []string
	count    int
	// ajv words problems as ValidateUser does ("data/items/0 Invalid
	// type..."), else as describe does ("items.0: Invalid type...").
	ajv bool
	// unsure is set when the walk met a schema that is not complete, a
	// Go value it does not know, or its depth limit: finding no problem
	// then proves nothing.
	unsure bool
}

// add counts a problem at the current path, and words it while fewer
// than MaxProblems are listed: a problem past those costs no string.
func (c *checker) add(description func() string) {
	c.count++
	if len(c.problems) >= MaxProblems {
		return
	}
	if c.ajv {
		c.problems = append(c.problems, ajvField(c.path)+" "+description())
		return
	}
	c.problems = append(c.problems, registryField(c.path)+": "+description())
}

func (c *checker) walk(n *checkNode, doc any) {
	if len(c.path) > maxCheckDepth {
		c.unsure = true
		return
	}
	if !n.complete {
		c.unsure = true
	}
	switch doc.(type) {
	case nil, bool, string, []any, map[string]any, json.Number, float64:
	default:
		c.unsure = true // typeMismatch makes no claim on it
	}
	if len(n.types) > 0 {
		if given, ok := typeMismatch(n.types, doc); !ok {
			c.add(func() string { return "Invalid type. Expected: " + n.expected + ", given: " + given })
			return
		}
	}
	switch v := doc.(type) {
	case string:
		if n.minLength >= 0 || n.maxLength >= 0 {
			runes := utf8.RuneCountInString(v)
			if n.minLength >= 0 && runes < n.minLength {
				c.add(func() string { return "String length must be greater than or equal to " + strconv.Itoa(n.minLength) })
			}
			if n.maxLength >= 0 && runes > n.maxLength {
				c.add(func() string { return "String length must be less than or equal to " + strconv.Itoa(n.maxLength) })
			}
		}
		if n.pattern != nil && !n.pattern.MatchString(v) {
			c.add(func() string { return "Does not match pattern '" + n.pattern.String() + "'" })
		}
		if n.format != "" && !gojsonschema.FormatCheckers.IsFormat(n.format, v) {
			c.add(func() string { return "Does not match format '" + n.format + "'" })
		}
	case map[string]any:
		for _, name := range n.required {
			if _, ok := v[name]; !ok {
				c.add(func() string { return name + " is required" })
			}
		}
		if n.closed {
			var extra []string
			for k := range v {
				if _, ok := n.propByName[k]; !ok {
					extra = append(extra, k)
				}
			}
			slices.Sort(extra) // a stable listing
			for _, k := range extra {
				c.add(func() string { return "Additional property " + k + " is not allowed" })
			}
		}
		for _, p := range n.props {
			if e, ok := v[p.name]; ok {
				c.path = append(c.path, pathStep{key: p.name, index: -1})
				c.walk(p.node, e)
				c.path = c.path[:len(c.path)-1]
			}
		}
	case []any:
		// The items first, then the array's own problems, as gojsonschema
		// lists them.
		if n.items != nil {
			for i, e := range v {
				c.path = append(c.path, pathStep{index: i})
				c.walk(n.items, e)
				c.path = c.path[:len(c.path)-1]
			}
		}
		if n.unique {
			c.duplicates(v)
		}
	}
}

// duplicates reports the strings, booleans and nulls of an array that
// repeat an earlier item, as gojsonschema words them: "array items[i,j]
// must be unique", i the last earlier index of the same value. Other
// items are not compared (numbers are equal across forms, 1 and 1.0).
func (c *checker) duplicates(v []any) {
	if len(v) < 2 {
		return
	}
	type key struct {
		kind byte
		s    string
	}
	last := make(map[key]int)
	for j, e := range v {
		var k key
		switch t := e.(type) {
		case nil:
			k.kind = 'n'
		case bool:
			k.kind, k.s = 'b', strconv.FormatBool(t)
		case string:
			k.kind, k.s = 's', t
		default:
			continue
		}
		if i, ok := last[k]; ok {
			c.add(func() string { return "array items[" + strconv.Itoa(i) + "," + strconv.Itoa(j) + "] must be unique" })
		}
		last[k] = j
	}
}

// typeMismatch reports whether doc is of one of types and, when it is
// not, its type as gojsonschema names it.
func typeMismatch(types []string, doc any) (given string, ok bool) {
	switch v := doc.(type) {
	case nil:
		given = "null"
	case bool:
		given = "boolean"
	case string:
		given = "string"
	case []any:
		given = "array"
		if v == nil {
			given = "null" // as encoding/json writes it
		}
	case map[string]any:
		given = "object"
		if v == nil {
			given = "null"
		}
	case json.Number:
		given = "number"
		if isInteger(string(v)) {
			given = "integer"
		}
	case float64:
		given = "number"
		if v == math.Trunc(v) && !math.IsInf(v, 0) {
			given = "integer"
		}
	case int, int64, int32:
		given = "integer"
	default:
		return "", true // a Go value the pre-check does not know: no claim
	}
	for _, t := range types {
		if t == given || t == "number" && given == "integer" {
			return given, true
		}
	}
	return given, false
}

// isInteger reports whether a JSON number is whole, as gojsonschema
// decides it (1.0 and 1e3 are).
func isInteger(s string) bool {
	if !strings.ContainsAny(s, ".eE") {
		return true
	}
	r, ok := new(big.Rat).SetString(s)
	return ok && r.IsInt()
}

// registryField writes a path as describe does: "schedule.0", "body".
func registryField(path []pathStep) string {
	if len(path) == 0 {
		return "body"
	}
	var b strings.Builder
	for i, s := range path {
		if i > 0 {
			b.WriteByte('.')
		}
		writeStep(&b, s)
	}
	return b.String()
}

// ajvField writes a path as ValidateUser does: "data", "data/items/0".
func ajvField(path []pathStep) string {
	var b strings.Builder
	b.WriteString("data")
	for _, s := range path {
		b.WriteByte('/')
		writeStep(&b, s)
	}
	return b.String()
}

func writeStep(b *strings.Builder, s pathStep) {
	if s.index >= 0 {
		b.WriteString(strconv.Itoa(s.index))
		return
	}
	b.WriteString(s.key)
}

// precheck runs the pre-check of n over doc. When it finds more than
// MaxProblems problems it returns the first MaxProblems and how many it
// found. Else it returns no problems, and valid when it proved doc valid
// (a complete schema, and no problem); otherwise gojsonschema is to
// decide, and to word the few problems found as it always has.
func precheck(n *checkNode, doc any, ajv bool) (problems []string, count int, valid bool) {
	if n == nil {
		return nil, 0, false
	}
	c := &checker{ajv: ajv}
	c.walk(n, doc)
	if c.count <= MaxProblems {
		return nil, 0, c.count == 0 && !c.unsure
	}
	return c.problems, c.count, false
}
