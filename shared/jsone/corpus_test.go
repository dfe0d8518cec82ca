package jsone

import (
	"bytes"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"
)

// corpusFile holds our own JSON-e cases with the answers of the reference
// implementation; testdata/gen regenerates it (make testdata).
const corpusFile = "testdata/corpus.json"

type corpusCase struct {
	Name     string          `json:"name"`
	Context  map[string]any  `json:"context"`
	Template json.RawMessage `json:"template"`
	// Result or Error is what Render must produce. For a deviation they
	// hold our answer, Deviation says why it differs and Reference holds
	// what the reference implementation answered.
	Result    json.RawMessage `json:"result"`
	Error     *string         `json:"error"`
	Deviation string          `json:"deviation"`
	Reference json.RawMessage `json:"reference"`
}

type corpus struct {
	Reference string       `json:"reference"`
	Now       time.Time    `json:"now"`
	Cases     []corpusCase `json:"cases"`
}

func loadCorpus(tb testing.TB) corpus {
	tb.Helper()
	data, err := os.ReadFile(corpusFile)
	if err != nil {
		tb.Fatal(err)
	}
	var c corpus
	if err := json.Unmarshal(data, &c); err != nil {
		tb.Fatalf("parse %s: %v", corpusFile, err)
	}
	if len(c.Cases) == 0 || c.Now.IsZero() {
		tb.Fatalf("%s holds no cases or no time", corpusFile)
	}
	return c
}

// decodeJSON decodes a JSON value the way callers of this package do: into
// an any, numbers as float64.
func decodeJSON(tb testing.TB, raw []byte) any {
	tb.Helper()
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		tb.Fatalf("decode %s: %v", raw, err)
	}
	return v
}

// TestCorpus renders every case of the corpus, once through a compiled
// template and once through the one-shot Render, and requires the
// reference's result or exact error message, or our documented deviation.
func TestCorpus(t *testing.T) {
	c := loadCorpus(t)
	clock := func() time.Time { return c.Now }
	deviations := 0
	for _, tc := range c.Cases {
		if tc.Deviation != "" {
			deviations++
		}
		t.Run(tc.Name, func(t *testing.T) {
			if (tc.Error == nil) == (tc.Result == nil) {
				t.Fatalf("case needs exactly one of result and error")
			}
			tmpl := decodeJSON(t, tc.Template)
			tp, err := Compile(tmpl)
			if err != nil {
				t.Fatalf("Compile: %v", err)
			}
			for _, render := range []struct {
				how string
				run func() (any, error)
			}{
				{"compiled", func() (any, error) { return tp.Render(tc.Context, Options{Now: clock}) }},
				{"checked lookups", func() (any, error) { return tp.render(tc.Context, Options{Now: clock}, true) }},
				{"one-shot", func() (any, error) { return Render(tmpl, tc.Context, Options{Now: clock}) }},
			} {
				got, err := render.run()
				if tc.Error != nil {
					if err == nil {
						t.Fatalf("%s: got result %s, want error %s", render.how, canonicalJSON(t, got), *tc.Error)
					}
					if err.Error() != *tc.Error {
						t.Fatalf("%s: got error %q, want %q", render.how, err, *tc.Error)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: got error %v, want %s", render.how, err, tc.Result)
				}
				want := decodeJSON(t, tc.Result)
				if g, w := canonicalJSON(t, got), canonicalJSON(t, want); !bytes.Equal(g, w) {
					t.Fatalf("%s: got %s, want %s", render.how, g, w)
				}
			}
		})
	}
	t.Logf("%d cases against %s, %d of them documented deviations", len(c.Cases), c.Reference, deviations)
}

// TestCorpusDeviationsDocumented checks that every deviation in the corpus
// is described in doc.go, so the package documentation stays complete.
func TestCorpusDeviationsDocumented(t *testing.T) {
	doc, err := os.ReadFile("doc.go")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(strings.Fields(strings.ReplaceAll(string(doc), "//", " ")), " ")
	for _, tc := range loadCorpus(t).Cases {
		if tc.Deviation == "" {
			continue
		}
		if len(tc.Reference) == 0 {
			t.Errorf("%s: deviation without the reference's answer", tc.Name)
		}
		// doc.go names each deviating case by its corpus name.
		if !strings.Contains(text, tc.Name) {
			t.Errorf("doc.go does not list the deviation %q (%s)", tc.Name, tc.Deviation)
		}
	}
}
