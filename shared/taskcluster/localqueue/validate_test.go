package localqueue

import (
	"encoding/json"
	"errors"
	"slices"
	"testing"

	"github.com/hookline/hookline/schemas"
)

// Validation from bytes says what validating the decoded, defaulted
// document says, problem for problem.
func TestValidateFromBytes(t *testing.T) {
	reg, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	d, err := newTaskDefaults(reg)
	if err != nil {
		t.Fatal(err)
	}
	if len(d.names) == 0 || !slices.Contains(d.names, "payload") {
		t.Fatalf("defaults %v: want the schema's, payload among them", d.names)
	}
	const meta = `"metadata":{"name":"n","description":"d","owner":"o@example.com","source":"https://example.com"}`
	for _, body := range []string{
		``,
		`  {}  `,
		`{"created":"2026-01-01T00:00:00.000Z","deadline":"2026-01-02T00:00:00.000Z",` + meta + `}`,
		` {"created":"2026-01-01T00:00:00.000Z","deadline":"2026-01-02T00:00:00.000Z","payload":{},"provisionerId":"p","workerType":"w",` + meta + `}`,
		`{"created":"2026-01-01T00:00:00.000Z","deadline":"2026-01-02T00:00:00.000Z","payload":{},"priority":"lowest","retries":5,"routes":[],"scopes":[],` +
			`"dependencies":[],"requires":"all-completed","projectId":"none","schedulerId":"-","tags":{},"extra":{},` + meta + `}`,
		`{"created":"yesterday","retries":1.5,"priority":"urgent","routes":[1],` + meta + `}`,
		`{"created":"2026-01-01T00:00:00.000Z","deadline":"2026-01-02T00:00:00.000Z","payload":{},"extra":{"a":{"b":[1,2.50,"\u00e9"]}},"retries":3.0,` + meta + `}`,
		`{"payload":{},"unknown":true,"metadata":{}}`,
	} {
		doc, err := parseBody([]byte(body))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		got := d.validate(reg, []byte(body), doc)
		reg.ApplyDefaults(schemas.QueueCreateTaskRequest, doc)
		want := reg.Validate(schemas.QueueCreateTaskRequest, doc)
		if !sameProblems(got, want) {
			t.Errorf("%s:\nfrom bytes: %v\ndecoded:    %v", body, got, want)
		}
	}
}

// Defaults are spliced in at the top level only: the schema has none
// below it. ApplyDefaults adds nothing to a task whose every object
// property is present, down to the objects its schema describes.
func TestTaskSchemaDefaultsTopLevelOnly(t *testing.T) {
	reg, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	full := `{"created":"2026-01-01T00:00:00.000Z","deadline":"2026-01-02T00:00:00.000Z","expires":"2027-01-01T00:00:00.000Z",` +
		`"payload":{},"priority":"lowest","retries":5,"routes":[],"scopes":[],"dependencies":[],"requires":"all-completed",` +
		`"projectId":"none","schedulerId":"-","tags":{},"extra":{},"taskGroupId":"x","provisionerId":"p","workerType":"w","taskQueueId":"p/w",` +
		`"metadata":{"name":"n","description":"d","owner":"o@example.com","source":"https://example.com"}}`
	doc, err := parseBody([]byte(full))
	if err != nil {
		t.Fatal(err)
	}
	before, _ := json.Marshal(doc)
	reg.ApplyDefaults(schemas.QueueCreateTaskRequest, doc)
	after, _ := json.Marshal(doc)
	if string(before) != string(after) {
		t.Errorf("the create-task schema has defaults below the top level, which validation from bytes would miss:\n%s\n%s", before, after)
	}
}

func sameProblems(a, b error) bool {
	if (a == nil) != (b == nil) {
		return false
	}
	if a == nil {
		return true
	}
	var va, vb *schemas.ValidationError
	if !errors.As(a, &va) || !errors.As(b, &vb) {
		return a.Error() == b.Error()
	}
	pa, pb := slices.Clone(va.Problems), slices.Clone(vb.Problems)
	slices.Sort(pa)
	slices.Sort(pb)
	return slices.Equal(pa, pb)
}
