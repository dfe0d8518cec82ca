package schemas

// DropReadOnly removes from doc, in place, every property that the schema
// id marks `"readOnly": true`, following $refs, nested objects and the
// objects in arrays. What is left is what a request may send back: a GET
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
		id, target := r.resolveSchema(currentID, ref)
		r.dropReadOnly(id, target, doc, depth+1)
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
		switch child := doc[name].(type) {
		case map[string]any:
			r.dropReadOnly(currentID, prop, child, depth+1)
		case []any:
			items, _ := prop["items"].(map[string]any)
			for _, item := range child {
				if obj, ok := item.(map[string]any); ok {
					r.dropReadOnly(currentID, items, obj, depth+1)
				}
			}
		}
	}
}
