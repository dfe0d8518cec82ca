package schemas

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func registry(t *testing.T) *Registry {
	t.Helper()
	r, err := New()
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestAllSchemasCompile(t *testing.T) {
	r := registry(t)
	if err := r.CompileAll(); err != nil {
		t.Fatal(err)
	}
	if len(r.compiled) < 15 {
		t.Fatalf("only %d schemas compiled", len(r.compiled))
	}
	if err := r.Validate("/schemas/hooks/v1/nope.json#", map[string]any{}); err == nil {
		t.Fatal("an unknown schema id must be an error")
	}
}

// The upstream validate_test fixtures (testdata/README.md): each must pass
// its schema.
func TestUpstreamFixtures(t *testing.T) {
	r := registry(t)
	dir := filepath.Join("testdata", "validate_test")
	for _, tt := range []struct{ file, schema string }{
		{"create-hook-request.json", CreateHookRequest},
		{"schedule-none.json", Schedule},
		{"schedule-daily.json", Schedule},
		{"schedule-weekly.json", Schedule},
		{"schedule-weekday.json", Schedule},
		{"schedule-monthly.json", Schedule},
		{"schedule-biweekly.json", Schedule},
	} {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, tt.file))
			if err != nil {
				t.Fatalf("read upstream fixture: %v", err)
			}
			if err := r.ValidateJSON(tt.schema, data); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	r := registry(t)
	err := r.ValidateJSON(CreateHookRequest, []byte(`{"metadata":{"name":"n","description":"d","owner":"not-an-email"},"task":{},"bindings":{},"extra":1}`))
	ve, ok := err.(*ValidationError)
	if !ok {
		t.Fatalf("got %v, want *ValidationError", err)
	}
	joined := strings.Join(ve.Problems, "\n")
	for _, want := range []string{"owner", "bindings", "extra"} {
		if !strings.Contains(joined, want) {
			t.Errorf("problems do not mention %q:\n%s", want, joined)
		}
	}
}

func TestApplyDefaults(t *testing.T) {
	r := registry(t)
	var doc map[string]any
	if err := json.Unmarshal([]byte(`{"metadata":{"name":"n","description":"d","owner":"a@b.c"},"task":{}}`), &doc); err != nil {
		t.Fatal(err)
	}
	r.ApplyDefaults(CreateHookRequest, doc)
	got, _ := json.Marshal(doc)
	want := `{"metadata":{"description":"d","emailOnError":true,"name":"n","owner":"a@b.c"},"schedule":[],"task":{},"triggerSchema":{"additionalProperties":false,"type":"object"}}`
	if string(got) != want {
		t.Fatalf("after defaults:\n got %s\nwant %s", got, want)
	}
	if _, ok := doc["bindings"]; ok {
		t.Fatal("bindings has no default upstream and must stay absent")
	}
	// A second document must not share the default's storage.
	doc["schedule"] = append(doc["schedule"].([]any), "x")
	var other map[string]any
	json.Unmarshal([]byte(`{"metadata":{},"task":{}}`), &other)
	r.ApplyDefaults(CreateHookRequest, other)
	if len(other["schedule"].([]any)) != 0 {
		t.Fatal("defaults are shared between documents")
	}
}

func TestCompileUser(t *testing.T) {
	for _, tt := range []struct {
		name    string
		schema  string
		wantErr string
	}{
		{name: "default trigger schema", schema: `{"type":"object","additionalProperties":false}`},
		{name: "enum", schema: `{"type":"object","properties":{"action":{"enum":["opened"]}},"required":["action"]}`},
		{name: "local ref", schema: `{"definitions":{"a":{"type":"string"}},"properties":{"x":{"$ref":"#/definitions/a"}}}`},
		{name: "unknown type", schema: `{"type":"nosuchtype"}`, wantErr: "must be"},
		{name: "remote ref", schema: `{"$ref":"http://169.254.169.254/latest"}`, wantErr: "only local references"},
		{name: "relative ref", schema: `{"properties":{"a":{"$ref":"other.json#"}}}`, wantErr: "only local references"},
		{name: "draft-04 $schema is ignored, not fetched", schema: `{"$schema":"http://json-schema.org/draft-04/schema#","type":"object"}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var doc map[string]any
			if err := json.Unmarshal([]byte(tt.schema), &doc); err != nil {
				t.Fatal(err)
			}
			_, err := CompileUser(doc)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("got %v, want error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestValidateUser(t *testing.T) {
	var schema map[string]any
	json.Unmarshal([]byte(`{"type":"object","properties":{"action":{"enum":["opened"]}},"required":["action"]}`), &schema)
	s, err := CompileUser(schema)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := ValidateUser(s, map[string]any{"action": "opened"})
	if err != nil || msg != "" {
		t.Fatalf("valid payload: %q %v", msg, err)
	}
	msg, err = ValidateUser(s, map[string]any{"action": "closed"})
	if err != nil || !strings.Contains(msg, "data/action") {
		t.Fatalf("invalid payload message %q (err %v) must mention data/action", msg, err)
	}
}
