package httpapi

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/hookline/hookline/schemas"
)

// TestRoutesMatchUpstreamReference keeps the route table in step with
// upstream's API reference: every route we serve has the reference's
// method, path, scopes, schemas and query parameters.
func TestRoutesMatchUpstreamReference(t *testing.T) {
	data, err := schemas.File("references/api.json")
	if err != nil {
		t.Fatal(err)
	}
	var ref struct {
		Entries []struct {
			Name   string          `json:"name"`
			Method string          `json:"method"`
			Route  string          `json:"route"`
			Scopes json.RawMessage `json:"scopes"`
			Input  string          `json:"input"`
			Output string          `json:"output"`
			Query  []string        `json:"query"`
		} `json:"entries"`
	}
	if err := json.Unmarshal(data, &ref); err != nil {
		t.Fatal(err)
	}
	e := newTestEnv(t, nil)
	ours := map[string]*route{}
	for _, ro := range e.router.routes {
		ours[ro.name] = ro
	}
	for _, want := range ref.Entries {
		ro, ok := ours[want.Name]
		if !ok {
			// Routes of later features are added as they land.
			t.Logf("not served yet: %s", want.Name)
			continue
		}
		t.Run(want.Name, func(t *testing.T) {
			if !strings.EqualFold(ro.method, want.Method) {
				t.Errorf("method %s, reference %s", ro.method, want.Method)
			}
			if path := "/" + strings.Join(ro.segments, "/"); path != want.Route {
				t.Errorf("path %s, reference %s", path, want.Route)
			}
			wantScopes := "null"
			if len(want.Scopes) > 0 {
				var v any
				json.Unmarshal(want.Scopes, &v)
				var buf strings.Builder
				enc := json.NewEncoder(&buf)
				enc.SetEscapeHTML(false)
				enc.Encode(v)
				wantScopes = strings.TrimSpace(buf.String())
			}
			if got := ro.scopes.String(); got != wantScopes {
				t.Errorf("scopes %s, reference %s", got, wantScopes)
			}
			if got := refName(ro.input); got != want.Input {
				t.Errorf("input %q, reference %q", got, want.Input)
			}
			if got := refName(ro.output); got != want.Output {
				t.Errorf("output %q, reference %q", got, want.Output)
			}
			if strings.Join(ro.query, ",") != strings.Join(want.Query, ",") {
				t.Errorf("query %v, reference %v", ro.query, want.Query)
			}
		})
	}
}

// refName turns "/schemas/hooks/v1/x.json#" into the reference's "v1/x.json#".
func refName(id string) string {
	return strings.TrimPrefix(id, "/schemas/hooks/")
}
