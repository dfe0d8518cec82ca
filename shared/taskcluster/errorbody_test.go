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
