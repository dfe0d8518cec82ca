package tcnotify

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/taskcluster"
)

func TestNotify(t *testing.T) {
	var calls []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var m map[string]any
		json.Unmarshal(body, &m)
		if !strings.HasPrefix(r.Header.Get("Authorization"), "Hawk ") {
			t.Errorf("unsigned %s", r.URL.Path)
		}
		calls = append(calls, r.Method+" "+r.URL.Path+" "+string(body))
		if m["channelId"] == "CFORBIDDEN" {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(403)
			w.Write([]byte(`{"code":"InsufficientScopes","message":"missing notify:slack-channel:CFORBIDDEN"}`))
			return
		}
		w.Write([]byte("OK")) // what express's sendStatus(200) writes
	}))
	defer srv.Close()
	n := New(taskcluster.NewAPI(srv.URL, "notify", auth.Credentials{ClientID: "hookline", AccessToken: "secret-token-0123456789"}, nil, &taskcluster.QueueOptions{MaxAttempts: 1}))
	ctx := context.Background()
	if err := n.Email(ctx, "a@example.com", "subject", "body"); err != nil {
		t.Fatal(err)
	}
	if err := n.Matrix(ctx, "!room:example.org", "hello"); err != nil {
		t.Fatal(err)
	}
	if err := n.Slack(ctx, "C0123ABCD", "hi"); err != nil {
		t.Fatal(err)
	}
	err := n.Slack(ctx, "CFORBIDDEN", "hi")
	var ae *taskcluster.APIError
	if !errors.As(err, &ae) || ae.StatusCode != 403 || ae.Code != "InsufficientScopes" || taskcluster.IsRetryable(err) {
		t.Fatalf("refusal: %v", err)
	}
	want := []string{
		`POST /api/notify/v1/email {"address":"a@example.com","content":"body","subject":"subject"}`,
		`POST /api/notify/v1/matrix {"body":"hello","msgtype":"m.notice","roomId":"!room:example.org"}`,
		`POST /api/notify/v1/slack {"channelId":"C0123ABCD","text":"hi"}`,
	}
	if strings.Join(calls[:3], "\n") != strings.Join(want, "\n") {
		t.Fatalf("calls:\n%s", strings.Join(calls, "\n"))
	}
}
