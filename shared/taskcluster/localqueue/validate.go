package localqueue

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/hookline/hookline/schemas"
)

// taskDefaults are the create-task-request schema's top-level defaults,
// each as a `"name":value,` member ready to splice into a body.
type taskDefaults struct {
	names   []string
	members [][]byte
}

// newTaskDefaults reads the top-level defaults off the schema: applied to
// an empty object, ApplyDefaults adds exactly those (it only descends
// into objects the document already has).
func newTaskDefaults(reg *schemas.Registry) (taskDefaults, error) {
	probe := map[string]any{}
	reg.ApplyDefaults(schemas.QueueCreateTaskRequest, probe)
	var d taskDefaults
	for name := range probe {
		d.names = append(d.names, name)
	}
	slices.Sort(d.names)
	for _, name := range d.names {
		k, err := json.Marshal(name)
		if err != nil {
			return d, err
		}
		v, err := encodeJSON(probe[name])
		if err != nil {
			return d, fmt.Errorf("localqueue: encode the default of %s: %w", name, err)
		}
		d.members = append(d.members, slices.Concat(k, []byte(":"), v, []byte(",")))
	}
	return d, nil
}

// validate checks a createTask body against the schema, with the defaults
// filled in, from its bytes: the validator decodes them once, where a
// decoded document would be encoded again and decoded anew (gojsonschema's
// Go loader). doc is the body decoded, before ApplyDefaults; the defaults
// doc lacks are spliced into the body's bytes as members of its own.
// Defaults below the top level would be missed, so a test checks that the
// schema has none.
func (d taskDefaults) validate(reg *schemas.Registry, body []byte, doc map[string]any) error {
	// A task of many failing items (routes of nulls) is refused in time
	// linear in it before gojsonschema lists them; with the defaults in
	// (top-level only: a shallow copy takes them), so that none is called
	// missing.
	withDefaults := maps.Clone(doc)
	if withDefaults == nil {
		withDefaults = map[string]any{}
	}
	reg.ApplyDefaults(schemas.QueueCreateTaskRequest, withDefaults)
	if err := reg.Precheck(schemas.QueueCreateTaskRequest, withDefaults); err != nil {
		return err
	}
	data := body
	var missing [][]byte
	for i, name := range d.names {
		if _, ok := doc[name]; !ok {
			missing = append(missing, d.members[i])
		}
	}
	if len(missing) > 0 {
		// parseBody accepted the body as one object (after leading
		// space, it starts with '{'), or as none (an empty body is {}).
		rest := []byte("}")
		if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 {
			rest = bytes.TrimLeft(trimmed[1:], " \t\r\n")
		}
		n := 1 + len(rest)
		for _, m := range missing {
			n += len(m)
		}
		out := make([]byte, 0, n)
		out = append(out, '{')
		for _, m := range missing {
			out = append(out, m...)
		}
		if rest[0] == '}' {
			out = out[:len(out)-1] // no member follows the last default
		}
		data = append(out, rest...)
	}
	return reg.ValidateJSON(schemas.QueueCreateTaskRequest, data)
}
