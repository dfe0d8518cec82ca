package taskcluster

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestErrorBody(t *testing.T) {
	at := time.Date(2026, 3, 4, 10, 0, 30, 123456789, time.FixedZone("CET", 3600))
	b := NewErrorBody("createTask", 409, CodeRequestConflict, "taskId <x> exists & differs", map[string]string{"taskId": "x"}, nil, at)
	var got map[string]any
	raw := b.Encode()
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"code": "RequestConflict",
		"message": "taskId <x> exists & differs\n\n---\n\n* method:     createTask\n* errorCode:  RequestConflict\n" +
			"* statusCode: 409\n* time:       2026-03-04T09:00:30.123Z",
		"requestInfo": map[string]any{"method": "createTask", "params": map[string]any{"taskId": "x"}, "payload": map[string]any{}, "time": "2026-03-04T09:00:30.123Z"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("body (-want +got):\n%s", diff)
	}
	// As JSON.stringify writes it: <, > and & as they are.
	if !strings.Contains(string(raw), "<x> exists & differs") {
		t.Errorf("encoded %s", raw)
	}
	// A payload that cannot be encoded is written as {}.
	b = NewErrorBody("", 400, CodeInputError, "m", nil, map[string]any{"f": func() {}}, at)
	if err := json.Unmarshal(b.Encode(), &got); err != nil || got["requestInfo"].(map[string]any)["payload"] == nil {
		t.Errorf("unencodable payload: %v %v", got, err)
	}
}

// TestErrorBodyOfADeepPayload: the answer to a payload nested deeper than
// JSON-e renders echoes {} in its place, so that a JSON decoder reads it;
// one within the bound is echoed.
func TestErrorBodyOfADeepPayload(t *testing.T) {
	nest := func(n int) any {
		var v any = []any{}
		for range n - 1 {
			v = []any{v}
		}
		return v
	}
	for _, tt := range []struct {
		depth int
		echo  bool
	}{{512, true}, {513, false}, {9_999, false}} {
		out := NewErrorBody("triggerHook", 400, "InputError", "too deep", nil, nest(tt.depth), time.Unix(0, 0)).Encode()
		var body struct {
			RequestInfo struct {
				Payload any `json:"payload"`
			} `json:"requestInfo"`
		}
		if err := json.Unmarshal(out, &body); err != nil {
			t.Fatalf("depth %d: the error body does not decode: %v", tt.depth, err)
		}
		_, isArray := body.RequestInfo.Payload.([]any)
		if isArray != tt.echo {
			t.Fatalf("depth %d: payload echoed %v, want %v", tt.depth, isArray, tt.echo)
		}
	}
}
