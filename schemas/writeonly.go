package schemas

import (
	"sort"
	"strings"
)

// Redacted stands in for a write-only value wherever a request is echoed
// (the requestInfo.payload of an error reply).
const Redacted = "<redacted>"

// WriteOnlyField is a property a schema marks `"writeOnly": true`: a
// secret a request may carry and no reply may show. It is the one list of
// secrets that error replies redact and `hookline hooks` keeps out of hook
// files.
type WriteOnlyField struct {
	// Path leads to the property: the names of the objects on the way,
	// with EachItem for the items of an array, then its own name.
	Path []string
	// Fingerprints names the sibling property in which replies show a
	// fingerprint of the secret instead (the schema's "fingerprints"
	// keyword), or "".
	Fingerprints string
	// List is true for a list of secrets (a JSON array, whose
	// fingerprints are a list too), false for one secret.
	List bool
}

// EachItem is the step of a WriteOnlyField's Path that stands for every
// item of an array.
const EachItem = "[]"

// WriteOnlyFields lists the write-only properties of the schema id,
// following $refs, nested objects and the items of arrays as DropReadOnly
// does, sorted by path.
func (r *Registry) WriteOnlyFields(id string) []WriteOnlyField {
	var out []WriteOnlyField
	r.walkWriteOnly(id, r.raw[id], nil, 0, func(path []string, prop map[string]any) {
		fps, _ := prop["fingerprints"].(string)
		out = append(out, WriteOnlyField{Path: path, Fingerprints: fps, List: prop["type"] == "array"})
	})
	sort.Slice(out, func(i, j int) bool { return joinPath(out[i].Path) < joinPath(out[j].Path) })
	return out
}

// RedactWriteOnly returns doc with the value of every property that the
// schema id marks write-only replaced by Redacted. doc itself is left as
// it is: the objects on the way to a redacted value are copied, the rest
// is shared. A doc without write-only values is returned as it is.
func (r *Registry) RedactWriteOnly(id string, doc map[string]any) map[string]any {
	for _, f := range r.WriteOnlyFields(id) {
		doc, _ = redactAt(doc, f.Path)
	}
	return doc
}

// redactAt returns doc with the value at path replaced by Redacted,
// copying the objects and arrays on the way, and whether there was such a
// value.
func redactAt(doc map[string]any, path []string) (map[string]any, bool) {
	v, ok := doc[path[0]]
	if !ok {
		return doc, false
	}
	var next any = Redacted
	switch {
	case len(path) > 2 && path[1] == EachItem:
		items, isArray := v.([]any)
		if !isArray {
			return doc, false
		}
		var copied []any
		for i, item := range items {
			obj, isObject := item.(map[string]any)
			if !isObject {
				continue
			}
			if redacted, found := redactAt(obj, path[2:]); found {
				if copied == nil {
					copied = append([]any(nil), items...)
				}
				copied[i] = redacted
			}
		}
		if copied == nil {
			return doc, false
		}
		next = copied
	case len(path) > 1:
		child, isObject := v.(map[string]any)
		if !isObject {
			return doc, false
		}
		if next, ok = redactAt(child, path[1:]); !ok {
			return doc, false
		}
	}
	out := make(map[string]any, len(doc))
	for k, e := range doc {
		out[k] = e
	}
	out[path[0]] = next
	return out, true
}

func (r *Registry) walkWriteOnly(currentID string, schema map[string]any, path []string, depth int, found func([]string, map[string]any)) {
	if schema == nil || depth > 32 {
		return
	}
	if ref, ok := schema["$ref"].(string); ok {
		id, target := r.resolveSchema(currentID, ref)
		r.walkWriteOnly(id, target, path, depth+1, found)
		return
	}
	props, _ := schema["properties"].(map[string]any)
	for name, p := range props {
		prop, _ := p.(map[string]any)
		if prop == nil {
			continue
		}
		here := append(append([]string(nil), path...), name)
		if wo, _ := prop["writeOnly"].(bool); wo {
			found(here, prop)
			continue
		}
		r.walkWriteOnly(currentID, prop, here, depth+1, found)
		if items, ok := prop["items"].(map[string]any); ok {
			r.walkWriteOnly(currentID, items, append(here, EachItem), depth+1, found)
		}
	}
}

func joinPath(p []string) string { return strings.Join(p, ".") }
