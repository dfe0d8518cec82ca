package schemas

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// ErrRefCycle is returned for a user schema that applies itself to the
// same value without end: a chain of $ref (or allOf, anyOf, oneOf, not,
// if/then/else, schema dependencies) that comes back to where it started
// without descending into the value. gojsonschema follows such a chain
// until the goroutine's stack overflows, which kills the process (a
// stack overflow cannot be recovered), on the first value it validates.
var ErrRefCycle = errors.New("the schema refers to itself without descending into the value")

// CheckRefCycles refuses a user schema whose keywords that apply a
// subschema to the same value (not to a property or an item) form a
// cycle. It reads the schema once and resolves only local references
// (CompileUser refuses others).
func CheckRefCycles(schema map[string]any) error {
	g := refGraph{nodes: map[string]map[string]any{}, anchors: map[string]string{}}
	g.collect(schema, "")
	state := map[string]int{} // 0 unseen, 1 on the path, 2 done
	var visit func(p string) error
	visit = func(p string) error {
		switch state[p] {
		case 1:
			return fmt.Errorf("%s: %w", orRoot(p), ErrRefCycle)
		case 2:
			return nil
		}
		state[p] = 1
		for _, next := range g.edges(p) {
			if err := visit(next); err != nil {
				return err
			}
		}
		state[p] = 2
		return nil
	}
	for p := range g.nodes {
		if err := visit(p); err != nil {
			return err
		}
	}
	return nil
}

func orRoot(p string) string {
	if p == "" {
		return "#"
	}
	return "#" + p
}

// refGraph holds every object of a schema document by its JSON pointer,
// and the plain-name anchors ("$id": "#name") it defines.
type refGraph struct {
	nodes   map[string]map[string]any
	anchors map[string]string
}

func (g *refGraph) collect(v any, p string) {
	switch t := v.(type) {
	case map[string]any:
		g.nodes[p] = t
		if id, ok := t["$id"].(string); ok && strings.HasPrefix(id, "#") && len(id) > 1 {
			g.anchors[id[1:]] = p
		}
		for k, e := range t {
			g.collect(e, p+"/"+escapePointer(k))
		}
	case []any:
		for i, e := range t {
			g.collect(e, p+"/"+strconv.Itoa(i))
		}
	}
}

// sameValue are the keywords whose subschemas apply to the value itself.
var (
	sameValueOne  = []string{"not", "if", "then", "else"}
	sameValueMany = []string{"allOf", "anyOf", "oneOf"}
)

// edges are the subschemas node p applies to the value it is applied to.
func (g *refGraph) edges(p string) []string {
	node := g.nodes[p]
	var out []string
	if ref, ok := node["$ref"].(string); ok {
		if target, ok := g.resolve(ref); ok {
			out = append(out, target)
		}
	}
	for _, k := range sameValueOne {
		if _, ok := node[k].(map[string]any); ok {
			out = append(out, p+"/"+k)
		}
	}
	for _, k := range sameValueMany {
		if list, ok := node[k].([]any); ok {
			for i := range list {
				if _, ok := list[i].(map[string]any); ok {
					out = append(out, p+"/"+k+"/"+strconv.Itoa(i))
				}
			}
		}
	}
	if deps, ok := node["dependencies"].(map[string]any); ok {
		for k, d := range deps {
			if _, ok := d.(map[string]any); ok {
				out = append(out, p+"/dependencies/"+escapePointer(k))
			}
		}
	}
	return out
}

// resolve finds the node a local $ref names: "#", "#/json/pointer" or
// "#anchor".
func (g *refGraph) resolve(ref string) (string, bool) {
	frag, ok := strings.CutPrefix(ref, "#")
	if !ok {
		return "", false
	}
	if f, err := url.PathUnescape(frag); err == nil {
		frag = f
	}
	if frag != "" && !strings.HasPrefix(frag, "/") {
		p, ok := g.anchors[frag]
		return p, ok
	}
	_, ok = g.nodes[frag]
	return frag, ok
}

func escapePointer(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "~", "~0"), "/", "~1")
}
