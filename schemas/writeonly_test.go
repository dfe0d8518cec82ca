package schemas

import (
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestWriteOnlyFields(t *testing.T) {
	reg, err := New()
	if err != nil {
		t.Fatal(err)
	}
	want := []WriteOnlyField{
		{Path: []string{"notify", "targets", EachItem, "secret"}, Fingerprints: "secretFingerprint"},
		{Path: []string{"webhook", "secrets"}, Fingerprints: "secretFingerprints", List: true},
	}
	if d := cmp.Diff(want, reg.WriteOnlyFields(HookSettings)); d != "" {
		t.Errorf("hook settings (-want +got)\n%s", d)
	}
	if got := reg.WriteOnlyFields(CreateHookRequest); len(got) != 0 {
		t.Errorf("a hook definition holds no secrets, got %v", got)
	}
}

func TestRedactWriteOnly(t *testing.T) {
	reg, err := New()
	if err != nil {
		t.Fatal(err)
	}
	decode := func(s string) map[string]any {
		var m map[string]any
		if err := json.Unmarshal([]byte(s), &m); err != nil {
			t.Fatal(err)
		}
		return m
	}
	for _, tt := range []struct{ name, in, want string }{
		{"secrets", `{"webhook":{"scheme":"github","secrets":["0123456789abcdef"]},"filters":["true"]}`,
			`{"webhook":{"scheme":"github","secrets":"<redacted>"},"filters":["true"]}`},
		{"secrets of the wrong type", `{"webhook":{"secrets":"0123456789abcdef"}}`, `{"webhook":{"secrets":"<redacted>"}}`},
		{"no secrets", `{"webhook":{"scheme":"bearer"}}`, `{"webhook":{"scheme":"bearer"}}`},
		{"webhook not an object", `{"webhook":"0123456789abcdef"}`, `{"webhook":"0123456789abcdef"}`},
		{"empty", `{}`, `{}`},
		{"notify target secrets", `{"notify":{"targets":[{"type":"email","address":"a@example.com"},{"type":"webhook","url":"https://example.com","secret":"0123456789abcdef"},"odd"]}}`,
			`{"notify":{"targets":[{"type":"email","address":"a@example.com"},{"type":"webhook","url":"https://example.com","secret":"<redacted>"},"odd"]}}`},
		{"notify targets without secrets", `{"notify":{"targets":[{"type":"email","address":"a@example.com"}]}}`, `{"notify":{"targets":[{"type":"email","address":"a@example.com"}]}}`},
		{"notify targets not a list", `{"notify":{"targets":{"secret":"0123456789abcdef"}}}`, `{"notify":{"targets":{"secret":"0123456789abcdef"}}}`},
		{"both", `{"webhook":{"secrets":["0123456789abcdef"]},"notify":{"targets":[{"secret":"0123456789abcdef"}]}}`,
			`{"webhook":{"secrets":"<redacted>"},"notify":{"targets":[{"secret":"<redacted>"}]}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			in := decode(tt.in)
			got := reg.RedactWriteOnly(HookSettings, in)
			if d := cmp.Diff(decode(tt.want), got); d != "" {
				t.Errorf("(-want +got)\n%s", d)
			}
			if d := cmp.Diff(decode(tt.in), in); d != "" {
				t.Errorf("the document given was changed (-before +after)\n%s", d)
			}
		})
	}
	if got := reg.RedactWriteOnly(HookSettings, nil); got != nil {
		t.Errorf("nil: got %v", got)
	}
}
