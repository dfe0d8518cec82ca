package schemas

import (
	"encoding/json"
	"errors"
	"testing"
)

func TestCheckRefCycles(t *testing.T) {
	tests := []struct {
		name, schema string
		cycle        bool
	}{
		{"no refs", `{"type":"object","properties":{"a":{"type":"string"}}}`, false},
		{"recursion through properties", `{"type":"object","properties":{"child":{"$ref":"#"}}}`, false},
		{"recursion through items", `{"definitions":{"list":{"type":"array","items":{"$ref":"#/definitions/list"}}},"$ref":"#/definitions/list"}`, false},
		{"a chain without a cycle", `{"$ref":"#/definitions/a","definitions":{"a":{"$ref":"#/definitions/b"},"b":{"type":"object"}}}`, false},
		{"root refers to itself", `{"$ref":"#"}`, true},
		{"a definition refers to itself", `{"$ref":"#/definitions/a","definitions":{"a":{"$ref":"#/definitions/a"}}}`, true},
		{"two definitions in a ring", `{"definitions":{"a":{"$ref":"#/definitions/b"},"b":{"$ref":"#/definitions/a"}},"properties":{"x":{"$ref":"#/definitions/a"}}}`, true},
		{"through allOf", `{"definitions":{"a":{"allOf":[{"type":"object"},{"$ref":"#/definitions/a"}]}},"$ref":"#/definitions/a"}`, true},
		{"through not", `{"not":{"$ref":"#"}}`, true},
		{"through if/then", `{"if":{"type":"object"},"then":{"$ref":"#"}}`, true},
		{"through a schema dependency", `{"dependencies":{"a":{"$ref":"#"}}}`, true},
		{"through an anchor", `{"definitions":{"a":{"$id":"#self","anyOf":[{"$ref":"#self"}]}}}`, true},
		{"escaped pointer", `{"definitions":{"a/b":{"$ref":"#/definitions/a~1b"}}}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var schema map[string]any
			if err := json.Unmarshal([]byte(tt.schema), &schema); err != nil {
				t.Fatal(err)
			}
			err := CheckRefCycles(schema)
			if got := errors.Is(err, ErrRefCycle); got != tt.cycle {
				t.Fatalf("CheckRefCycles = %v, want a cycle: %v", err, tt.cycle)
			}
			if !tt.cycle {
				// The schema compiles and validates a value without end.
				s, err := CompileUser(schema)
				if err != nil {
					t.Fatalf("compile: %v", err)
				}
				if _, err := ValidateUser(s, map[string]any{"child": map[string]any{}}); err != nil {
					t.Fatalf("validate: %v", err)
				}
			}
		})
	}
}
