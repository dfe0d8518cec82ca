package main

import (
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"gopkg.in/yaml.v3"

	"github.com/hookline/hookline/schemas"
)

func TestNodeValue(t *testing.T) {
	for _, tt := range []struct {
		name, yaml, want, err string
		errLine               int
	}{
		{name: "scalars", yaml: "a: 1\nb: 1.50\nc: true\nd: null\ne: 'yes'\nf: yes\ng: 0x1F\nh: 1_000\ni: 12345678901234567890\n",
			want: `{"a":1,"b":1.50,"c":true,"d":null,"e":"yes","f":"yes","g":31,"h":1000,"i":12345678901234567890}`},
		{name: "timestamps stay text", yaml: "at: 2026-01-02\n", want: `{"at":"2026-01-02"}`},
		{name: "anchors", yaml: "a: &x {k: [1, 2]}\nb: *x\n", want: `{"a":{"k":[1,2]},"b":{"k":[1,2]}}`},
		{name: "merge keys", yaml: "a: &x {k: 1}\nb:\n  <<: *x\n", err: "merge keys", errLine: 3},
		{name: "infinity", yaml: "a: 1\nb: .inf\n", err: "not a number JSON can hold", errLine: 2},
		{name: "non-string key", yaml: "? [a]\n: 1\n", err: "a mapping key must be a string", errLine: 1},
		{name: "repeated key", yaml: "a: 1\nb:\n  c: 1\n  c: 2\n", err: `"c" is given twice (first on line 3)`, errLine: 4},
		{name: "binary", yaml: "a: !!binary aGk=\n", err: "no JSON form", errLine: 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var n yaml.Node
			if err := yaml.Unmarshal([]byte(tt.yaml), &n); err != nil {
				t.Fatal(err)
			}
			v, err := nodeValue(&n)
			if tt.err != "" {
				var ne *nodeError
				if !errors.As(err, &ne) || !strings.Contains(ne.msg, tt.err) || ne.line != tt.errLine {
					t.Fatalf("got %v (%+v), want %q on line %d", err, ne, tt.err, tt.errLine)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := string(canonicalJSON(v)); got != tt.want {
				t.Errorf("got %s, want %s", got, tt.want)
			}
		})
	}
}

func TestJSONNodes(t *testing.T) {
	data := []byte("{\n  \"a\": \"\\u00e9\\/\\ud83d\\ude80\",\n  \"b\": [1e3,\n    -0.5, 12345678901234567890],\n  \"c\": {\"d\": null, \"e\": true}\n}\n")
	root, err := jsonNodes(data)
	if err != nil {
		t.Fatal(err)
	}
	v, err := nodeValue(root)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(canonicalJSON(v)), `{"a":"é/🚀","b":[1e3,-0.5,12345678901234567890],"c":{"d":null,"e":true}}`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
	f := &hookFile{root: root}
	for _, tt := range []struct {
		path []any
		line int
	}{{[]any{"a"}, 2}, {[]any{"b", 0}, 3}, {[]any{"b", 1}, 4}, {[]any{"c", "e"}, 5}, {[]any{"zz"}, 1}} {
		if got := f.lineOf(tt.path...); got != tt.line {
			t.Errorf("line of %v: %d, want %d", tt.path, got, tt.line)
		}
	}
	for _, bad := range []string{`{"a": 1,}`, `{"a": 1} {}`, `{"a" 1}`, `[1, 2`} {
		if _, err := jsonNodes([]byte(bad)); err == nil {
			t.Errorf("%s parsed", bad)
		}
	}
}

func TestYAMLErrorLine(t *testing.T) {
	for _, tt := range []struct {
		yaml string
		line int
	}{
		{"metadata:\n  owner: [unclosed\ntask: {}\n", 2},
		{"a: b\nc: d\n  e: f\n", 3},
		{"a: b\n\tc: d\n", 2},
		{"a:\n  b: 1\n - c\n", 3},
		{"a: {b: 1\nc: 2\n", 2},
	} {
		var n yaml.Node
		err := yaml.Unmarshal([]byte(tt.yaml), &n)
		if err == nil {
			t.Fatalf("%q parsed", tt.yaml)
		}
		if got := yamlErrorLine(err); got != tt.line {
			t.Errorf("%q: %v: line %d, want %d", tt.yaml, err, got, tt.line)
		}
	}
}

// TestEncodeHookFile checks that awkward values survive a file: what is
// written reads back as the same JSON, in both formats.
func TestEncodeHookFile(t *testing.T) {
	doc := map[string]any{
		"strings": []any{"yes", "no", "on", "null", "~", "123", "1e3", "0x10", "2026-01-02", "", " lead", "trail ", "a: b", "- x", "#c", "'q'", `"dq"`, "{x}", "[y]", "&a", "*a", "!t", "%p", "@at", "`bt`", "é ☃ 🚀"},
		"multi":   []any{"two\nlines\n", "no final newline\nhere", "trailing spaces  \nline", "\tindented\n", "\n\nleading blank lines\n", " space first\nline\n", "crlf\r\nline", "last\n\n\n"},
		"numbers": []any{json.Number("0"), json.Number("-1"), json.Number("1.5"), json.Number("1e-7"), json.Number("12345678901234567890")},
		"empty":   map[string]any{"m": map[string]any{}, "l": []any{}, "n": nil, "b": false},
	}
	want := canonicalJSON(doc)
	for _, format := range []string{"yaml", "json"} {
		data, err := encodeHookFile(doc, format)
		if err != nil {
			t.Fatal(err)
		}
		var got []byte
		if format == "json" {
			got = canonicalJSON(decodeJSON(data))
		} else if got, err = yamlToJSON(data); err != nil {
			t.Fatalf("%s: %v\n%s", format, err, data)
		}
		if string(got) != string(want) {
			t.Errorf("%s does not round-trip:\n%s\ngot  %s\nwant %s", format, data, got, want)
		}
		again, _ := encodeHookFile(doc, format)
		if string(again) != string(data) {
			t.Errorf("%s: two encodings differ", format)
		}
	}
	data, _ := encodeHookFile(map[string]any{"b": "two\nlines\n", "a": []any{}}, "yaml")
	if string(data) != "a: []\nb: |\n  two\n  lines\n" {
		t.Errorf("sorted keys and block literals:\n%s", data)
	}
}

func FuzzEncodeHookFile(f *testing.F) {
	for _, s := range []string{"plain", "two\nlines", " x\n", "a: b", "\t", "\r\n", "- ", "#", "\x00", "\ufeff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !json.Valid(canonicalJSON(s)) {
			return
		}
		doc := map[string]any{s: s, "list": []any{s, map[string]any{"k": s}}}
		data, err := encodeHookFile(doc, "yaml")
		if err != nil {
			t.Skip(err) // yaml.v3 refuses some control characters
		}
		got, err := yamlToJSON(data)
		if err != nil {
			t.Fatalf("%q: written file does not parse: %v\n%s", s, err, data)
		}
		if want := canonicalJSON(doc); string(got) != string(want) {
			t.Fatalf("%q does not round-trip:\n%s\ngot  %s\nwant %s", s, data, got, want)
		}
	})
}

func TestReadHookDir(t *testing.T) {
	dir := t.TempDir()
	_, _, body := hookYAML(1)
	writeHookFile(t, dir, "README.md", "not a hook")
	writeHookFile(t, dir, "top.yaml", body) // at the top: not a hook file
	writeHookFile(t, dir, ".git/x/y.yaml", "ignored")
	writeHookFile(t, dir, "g/a/b/c.yaml", body)
	writeHookFile(t, dir, "g/notes.txt", "ignored")
	writeHookFile(t, dir, "g/d.json", `{"metadata":{"name":"n","description":"d","owner":"o@example.com"},"task":{}}`)
	writeHookFile(t, dir, "g/dup.yaml", body)
	writeHookFile(t, dir, "g/dup.yml", body)
	writeHookFile(t, dir, "bad group!/x.yaml", body)
	writeHookFile(t, dir, "g/empty.yaml", "# nothing\n")
	writeHookFile(t, dir, "g/list.yaml", "- a\n")
	files, probs := readHookDir(dir)
	var keys []string
	for _, f := range files {
		keys = append(keys, f.key())
	}
	if d := cmp.Diff([]string{"g/a/b/c", "g/d", "g/dup"}, keys); d != "" {
		t.Errorf("hooks (-want +got):\n%s", d)
	}
	var got []string
	for _, p := range probs {
		rel, _ := filepath.Rel(dir, p.File)
		got = append(got, strings.Replace(p.String(), p.File, rel, 1))
	}
	want := []string{
		"bad group!/x.yaml: error: bad group!/x is not a hook: a hookGroupId is letters, digits, - and _; a hookId may also hold / (folders)",
		"g/dup.yml: error: declares g/dup again (also " + filepath.Join(dir, "g/dup.yaml") + "): keep one file per hook",
		"g/empty.yaml:1: error: the file is empty: it should hold a hook definition (metadata, task, ...)",
		"g/list.yaml:1: error: the file should hold a mapping (metadata, task, ...), not a list",
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("problems (-want +got):\n%s", d)
	}
	if p := hookFilePath("d", "g", "a/b/c", ".yaml"); p != filepath.Join("d", "g", "a", "b", "c.yaml") {
		t.Errorf("path %s", p)
	}
	if fileableHookID("a//b") || fileableHookID("a/") || !fileableHookID("a/b") {
		t.Error("fileableHookID")
	}
}

// TestSettingsCarriedGenerically: settings sections this build does not
// know (a newer server's) pass through export and diff unchanged, and
// read-only parts are left out wherever the schema marks them.
func TestSettingsCarriedGenerically(t *testing.T) {
	reg, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	def := []byte(`{"hookGroupId":"g","hookId":"h","metadata":{"name":"n","description":"d","owner":"o@example.com","emailOnError":true},
		"task":{"provisionerId":"p"},"schedule":[],"bindings":[],"triggerSchema":{"type":"object","additionalProperties":false}}`)
	norm, err := normalizeDefinition(reg, def)
	if err != nil {
		t.Fatal(err)
	}
	reply := `{"filters":["true"],"paused":{"level":"hook","reason":"r","since":"2026-01-01T00:00:00Z","by":"me"},
		"schedule":{"timeZone":"Europe/Paris","exclusions":["2026-12-25"]},"notify":{"onError":[{"email":"o@example.com"}]}}`
	live := &liveHook{hookGroupID: "g", hookID: "h", definition: norm, settings: canonicalJSON(decodeJSON([]byte(reply)))}
	doc := exportDoc(reg, live, nil, true)
	data, err := encodeHookFile(doc, "yaml")
	if err != nil {
		t.Fatal(err)
	}
	wantFile := `metadata:
  description: d
  name: n
  owner: o@example.com
settings:
  filters:
    - "true"
  notify:
    onError:
      - email: o@example.com
  paused:
    reason: r
  schedule:
    exclusions:
      - "2026-12-25"
    timeZone: Europe/Paris
task:
  provisionerId: p
`
	if d := cmp.Diff(wantFile, string(data)); d != "" {
		t.Errorf("exported file (-want +got):\n%s", d)
	}
	path := writeHookFile(t, t.TempDir(), "g/h.yaml", string(data))
	f, probs := parseHookFile(path, "g", "h")
	if len(probs) > 0 {
		t.Fatal(probs)
	}
	c, err := planFile(reg, f, live, nil)
	if err != nil || c != nil {
		t.Fatalf("export then plan: %+v %v", c, err)
	}
	edited := strings.Replace(string(data), "Europe/Paris", "UTC", 1)
	f, _ = parseHookFile(writeHookFile(t, t.TempDir(), "g/h.yaml", edited), "g", "h")
	c, err = planFile(reg, f, live, nil)
	if err != nil || c == nil || c.Definition || !c.Settings || !strings.Contains(c.Diff, "-    timeZone: Europe/Paris\n+    timeZone: UTC") {
		t.Fatalf("edited section: %+v %v", c, err)
	}
	var sent map[string]any
	json.Unmarshal(c.sendSettings, &sent)
	if sent["schedule"].(map[string]any)["timeZone"] != "UTC" || sent["notify"] == nil {
		t.Errorf("sent %s", c.sendSettings)
	}
}

// The secrets hook files name by variable are the settings schema's
// write-only properties, each with a sibling where the API shows its
// fingerprints: a list of secrets with a list of fingerprints, or one
// secret with one fingerprint, the forms files, diffs and exports handle.
func TestSecretFieldsFromSchema(t *testing.T) {
	want := []secretField{
		{path: []string{"notify", "targets", schemas.EachItem, "secret"}, fingerprints: "secretFingerprint"},
		{path: []string{"webhook", "secrets"}, fingerprints: "secretFingerprints", list: true},
	}
	if d := cmp.Diff(want, secretFields(), cmp.AllowUnexported(secretField{})); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	reg, err := schemas.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range secretFields() {
		if f.fingerprints == "" {
			t.Errorf("settings.%s is writeOnly without a \"fingerprints\" sibling: diff could not compare it", strings.Join(f.path, "."))
		}
		// A list of secrets refuses one string; one secret refuses a
		// list.
		var value any = "0123456789abcdef0123"
		wantErr := "Invalid type. Expected: array"
		if !f.list {
			value, wantErr = []any{"0123456789abcdef0123"}, "Invalid type. Expected: string"
		}
		doc := map[string]any{}
		parent := doc
		for i := 0; i < len(f.path)-1; i++ {
			child := map[string]any{}
			if i+1 < len(f.path) && f.path[i+1] == schemas.EachItem {
				parent[f.path[i]] = []any{child}
				i++
			} else {
				parent[f.path[i]] = child
			}
			parent = child
		}
		parent[f.path[len(f.path)-1]] = value
		var ve *schemas.ValidationError
		if err := reg.Validate(schemas.HookSettings, doc); !errors.As(err, &ve) || !strings.Contains(err.Error(), wantErr) {
			t.Errorf("settings.%s: %v gave %v, want %q", strings.Join(f.path, "."), value, err, wantErr)
		}
	}
}
