package jsone

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// refDir holds the shared JSON-e reference data (specification suite and
// benchmark files), relative to this package directory.
const refDir = "../../../shared/reference/json-e"

// specNow is the frozen time the specification suite expects.
var specNow = time.Date(2017, 1, 19, 16, 27, 20, 974_000_000, time.UTC)

type specCase struct {
	Section  string          `json:"section"`
	Title    string          `json:"title"`
	Context  map[string]any  `json:"context"`
	Template any             `json:"template"`
	Result   json.RawMessage `json:"result"`
	Error    json.RawMessage `json:"error"`
}

// specSkips lists cases that cannot apply to this implementation, keyed by
// "section/title", with the reason. It is empty: every case runs.
var specSkips = map[string]string{}

func loadSpec(t *testing.T) []specCase {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(refDir, "specification.json"))
	if err != nil {
		t.Fatalf("specification suite missing (expected at %s): %v", refDir, err)
	}
	var cases []specCase
	if err := json.Unmarshal(data, &cases); err != nil {
		t.Fatalf("parse specification.json: %v", err)
	}
	return cases
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

func TestSpecification(t *testing.T) {
	cases := loadSpec(t)
	if len(cases) != 1175 {
		t.Fatalf("loaded %d cases, want 1175", len(cases))
	}
	passed := 0
	for _, tc := range cases {
		t.Run(tc.Section+"/"+tc.Title, func(t *testing.T) {
			if reason, ok := specSkips[tc.Section+"/"+tc.Title]; ok {
				t.Skip(reason)
			}
			got, err := Render(tc.Template, tc.Context, Options{Now: func() time.Time { return specNow }})
			if tc.Error != nil {
				var want any
				if err := json.Unmarshal(tc.Error, &want); err != nil {
					t.Fatalf("bad error field: %v", err)
				}
				if err == nil {
					t.Fatalf("got result %s, want error %v", canonicalJSON(t, got), want)
				}
				if msg, ok := want.(string); ok && err.Error() != msg {
					t.Fatalf("got error\n  %s\nwant\n  %s", err, msg)
				}
				passed++
				return
			}
			if err != nil {
				t.Fatalf("unexpected error: %v", err)
			}
			var want any
			if err := json.Unmarshal(tc.Result, &want); err != nil {
				t.Fatalf("bad result field: %v", err)
			}
			if g, w := canonicalJSON(t, got), canonicalJSON(t, want); !bytes.Equal(g, w) {
				t.Fatalf("got  %s\nwant %s", g, w)
			}
			passed++
		})
	}
	t.Logf("specification: %d of %d cases pass", passed, len(cases))
}
