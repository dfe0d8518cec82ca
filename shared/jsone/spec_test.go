package jsone

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// specEnv names the official JSON-e specification suite (specification.yml
// of json-e v4.8.4). The suite is not part of this repository; the corpus in
// testdata covers the same ground for every clone, and this test adds the
// upstream suite where it is at hand. A relative path is taken from the
// module root.
const specEnv = "HOOKLINE_JSONE_SPEC"

// specNow is the frozen time the specification suite expects.
var specNow = time.Date(2017, 1, 19, 16, 27, 20, 974_000_000, time.UTC)

type specCase struct {
	Section  string
	Title    string
	Context  map[string]any
	Template any
	Result   any
	Error    any // true (any error) or the exact message
	HasError bool
}

// loadSpec reads the multi-document YAML suite: section markers, then cases
// of {title, context, template, result | error}.
func loadSpec(t *testing.T) []specCase {
	t.Helper()
	path := os.Getenv(specEnv)
	if path == "" {
		t.Skipf("set %s to the JSON-e specification.yml (json-e v4.8.4) to run the official suite", specEnv)
	}
	if !filepath.IsAbs(path) {
		root, err := moduleRoot()
		if err != nil {
			t.Fatal(err)
		}
		path = filepath.Join(root, path)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%s: %v", specEnv, err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var cases []specCase
	section := ""
	for {
		var doc map[string]any
		if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("parse %s: %v", path, err)
		}
		if s, ok := doc["section"].(string); ok {
			section = s
			continue
		}
		title, _ := doc["title"].(string)
		c := specCase{Section: section, Title: title, Template: doc["template"], Result: doc["result"]}
		if ctx, ok := doc["context"].(map[string]any); ok {
			c.Context = ctx
		}
		c.Error, c.HasError = doc["error"]
		cases = append(cases, c)
	}
	return cases
}

// moduleRoot finds the directory holding go.mod above the package.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the package directory")
		}
		dir = parent
	}
}

// canonicalJSON re-encodes a JSON value so that two values compare equal
// exactly when they are the same JSON (object keys are sorted by Marshal).
func canonicalJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %#v: %v", v, err)
	}
	return b
}

// TestSpecification runs the official JSON-e conformance suite when
// HOOKLINE_JSONE_SPEC names it: every case, exact error messages included.
func TestSpecification(t *testing.T) {
	cases := loadSpec(t)
	if len(cases) != 1175 {
		t.Fatalf("loaded %d cases, want the 1175 of json-e v4.8.4", len(cases))
	}
	for _, tc := range cases {
		t.Run(tc.Section+"/"+tc.Title, func(t *testing.T) {
			tp, err := Compile(tc.Template)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			got, err := tp.render(tc.Context, Options{Now: func() time.Time { return specNow }}, true)
			if tc.HasError {
				if err == nil {
					t.Fatalf("got result %s, want error %v", canonicalJSON(t, got), tc.Error)
				}
				if msg, ok := tc.Error.(string); ok && err.Error() != msg {
					t.Fatalf("got error\n  %s\nwant\n  %s", err, msg)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			want, err := normalizeYAML(tc.Result)
			if err != nil {
				t.Fatal(err)
			}
			if g, w := canonicalJSON(t, got), canonicalJSON(t, want); !bytes.Equal(g, w) {
				t.Fatalf("got  %s\nwant %s", g, w)
			}
		})
	}
}

// normalizeYAML turns a decoded YAML value into the JSON shapes Render
// produces (integers become float64).
func normalizeYAML(v any) (any, error) {
	out, _, err := normalize(v, DefaultMaxDepth)
	return out, err
}
