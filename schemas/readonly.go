package schemas

// DropReadOnly removes from doc, in place, every property that the schema
// id marks `"readOnly": true`, following $refs and nested objects as
// ApplyDefaults does. What is left is what a request may send back: a GET
// reply of Hookline's settings, stripped so, is a document that PUT takes
// and that says nothing the server decides itself. Properties the schema
// does not describe are kept.
func (r *Registry) DropReadOnly(id string, doc map[string]any) {
	r.dropReadOnly(id, r.raw[id], doc, 0)
}

func (r *Registry) dropReadOnly(currentID string, schema map[string]any, doc map[string]any, depth int) {
	if schema == nil || depth > 32 {
		return
	}
	if ref, ok := schema["$ref"].(string); ok {
		id := resolveRef(currentID, ref)
		r.dropReadOnly(id, r.raw[id], doc, depth+1)
		return
	}
	props, _ := schema["properties"].(map[string]any)
	for name, p := range props {
		prop, _ := p.(map[string]any)
		if prop == nil {
			continue
		}
		if ro, _ := prop["readOnly"].(bool); ro {
			delete(doc, name)
			continue
		}
		if child, ok := doc[name].(map[string]any); ok {
			r.dropReadOnly(currentID, prop, child, depth+1)
		}
	}
}
