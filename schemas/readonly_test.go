package schemas

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestDropReadOnly(t *testing.T) {
	reg, err := New()
	if err != nil {
		t.Fatal(err)
	}
	// A GET reply of a hook's settings, with a section this build does
	// not know, which must be kept.
	var doc map[string]any
	reply := `{"webhook":{"scheme":"github","secretCount":1,"secretFingerprints":["sha256:0123abcd"],"headers":["x-a"]},
		"paused":{"level":"hook","reason":"maintenance","since":"2026-01-02T03:04:05Z","by":"ops"},
		"filters":["payload.ok"],"later":{"kept":true},
		"notify":{"targets":[{"type":"webhook","url":"https://example.com/n","events":["task-failed"],"secretFingerprint":"sha256:0123abcd"}]}}`
	if err := json.Unmarshal([]byte(reply), &doc); err != nil {
		t.Fatal(err)
	}
	reg.DropReadOnly(HookSettings, doc)
	want := map[string]any{
		"webhook": map[string]any{"scheme": "github", "headers": []any{"x-a"}},
		"paused":  map[string]any{"reason": "maintenance"},
		"filters": []any{"payload.ok"},
		"later":   map[string]any{"kept": true},
		"notify":  map[string]any{"targets": []any{map[string]any{"type": "webhook", "url": "https://example.com/n", "events": []any{"task-failed"}}}},
	}
	if d := cmp.Diff(want, doc); d != "" {
		t.Errorf("(-want +got)\n%s", d)
	}
	delete(doc, "later")
	if err := reg.Validate(HookSettings, doc); err != nil {
		t.Errorf("the stripped reply should be a valid request: %v", err)
	}
}
