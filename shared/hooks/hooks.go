package hooks

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
)

// Binding ties a hook to a Pulse exchange and routing-key pattern.
type Binding struct {
	Exchange          string `json:"exchange"`
	RoutingKeyPattern string `json:"routingKeyPattern"`
}

// Metadata describes a hook to people.
type Metadata struct {
	Name         string `json:"name"`
	Description  string `json:"description"`
	Owner        string `json:"owner"`
	EmailOnError bool   `json:"emailOnError"`
}

// Definition is a hook as the API shows it (hook-definition.json). It never
// includes the trigger token or the next scheduled taskId.
type Definition struct {
	HookGroupID   string          `json:"hookGroupId"`
	HookID        string          `json:"hookId"`
	Bindings      []Binding       `json:"bindings"`
	Metadata      Metadata        `json:"metadata"`
	Task          json.RawMessage `json:"task"`
	Schedule      []string        `json:"schedule"`
	TriggerSchema json.RawMessage `json:"triggerSchema"`
}

// Input is a createHook/updateHook request body after schema validation and
// defaults (create-hook-request.json). A nil Bindings means the caller left
// the field out, which updateHook treats as "keep the current bindings".
type Input struct {
	HookGroupID   string          `json:"hookGroupId,omitempty"`
	HookID        string          `json:"hookId,omitempty"`
	Bindings      *[]Binding      `json:"bindings,omitempty"`
	Metadata      Metadata        `json:"metadata"`
	Task          json.RawMessage `json:"task"`
	Schedule      []string        `json:"schedule"`
	TriggerSchema json.RawMessage `json:"triggerSchema"`
}

// sameDefinition compares two definitions as JSON values, so key order and
// number spelling in the task template do not matter.
func sameDefinition(a, b Definition) bool {
	va, err1 := jsonValue(a)
	vb, err2 := jsonValue(b)
	return err1 == nil && err2 == nil && reflect.DeepEqual(va, vb)
}

func jsonValue(v any) (any, error) {
	data, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var out any
	if err := dec.Decode(&out); err != nil {
		return nil, err
	}
	return normalizeNumbers(out), nil
}

// normalizeNumbers makes 1 and 1.0 compare equal, as they do in JSON.
func normalizeNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if f, err := t.Float64(); err == nil {
			return f
		}
		return t.String()
	case map[string]any:
		for k, e := range t {
			t[k] = normalizeNumbers(e)
		}
	case []any:
		for i, e := range t {
			t[i] = normalizeNumbers(e)
		}
	}
	return v
}

func decodeDefinition(data []byte) (Definition, error) {
	var d Definition
	if err := json.Unmarshal(data, &d); err != nil {
		return Definition{}, fmt.Errorf("hooks: decode stored definition: %w", err)
	}
	if d.Bindings == nil {
		d.Bindings = []Binding{}
	}
	if d.Schedule == nil {
		d.Schedule = []string{}
	}
	return d, nil
}
