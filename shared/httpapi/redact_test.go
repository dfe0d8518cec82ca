package httpapi

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/hookline/hookline/schemas"
)

// TestErrorRepliesHideSecrets sends, over HTTP, requests that carry
// secrets and fail at each stage (schema, handler, missing hook, bad JSON,
// wrong route): the error reply echoes the request (requestInfo) without
// the secrets, and so does the log.
func TestErrorRepliesHideSecrets(t *testing.T) {
	e := newWebhookEnv(t, nil, WebhookOptions{})
	e.mustCreate(t, "/foo/bar", webhookHook())
	token, _ := e.do(t, "GET", hooksURL+"/foo/bar/token", "").body["token"].(string)
	if token == "" {
		t.Fatal("no trigger token")
	}
	srv := httptest.NewServer(e.router)
	defer srv.Close()
	send := func(t *testing.T, method, path, body string) (int, []byte, map[string]any) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, err := io.ReadAll(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string]any
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatalf("not JSON: %s", raw)
		}
		return res.StatusCode, raw, doc
	}
	secrets := []string{secretA, secretB, secretC, token}
	noSecrets := func(t *testing.T, where string, raw []byte) {
		t.Helper()
		for _, s := range secrets {
			if strings.Contains(string(raw), s) {
				t.Errorf("%s shows the secret %q:\n%s", where, s, raw)
			}
		}
	}

	for _, tt := range []struct {
		name, path, body string
		status           int
		code             string
	}{
		{"refused by the schema", "/foo/bar", `{"webhook":{"scheme":"github","secrets":["` + secretA + `","` + secretB + `","` + secretC + `"]}}`, 400, CodeInputValidationError},
		{"refused by the handler", "/foo/bar", `{"webhook":{"scheme":"bearer","secrets":["` + secretA + `"]}}`, 400, CodeInputError},
		{"missing hook", "/foo/nope", `{"webhook":{"scheme":"github","secrets":["` + secretB + `"]}}`, 404, CodeResourceNotFound},
		{"unknown field beside secrets", "/foo/bar", `{"webhook":{"scheme":"github","secrets":["` + secretC + `"],"secret":"x"}}`, 400, CodeInputValidationError},
	} {
		t.Run("settings "+tt.name, func(t *testing.T) {
			status, raw, doc := send(t, "PUT", settingsURL+tt.path+"/settings", tt.body)
			if status != tt.status || doc["code"] != tt.code {
				t.Fatalf("got %d %s, want %d %s", status, raw, tt.status, tt.code)
			}
			noSecrets(t, "the reply", raw)
			info, _ := doc["requestInfo"].(map[string]any)
			webhook, _ := info["payload"].(map[string]any)["webhook"].(map[string]any)
			if webhook["secrets"] != schemas.Redacted || webhook["scheme"] == nil {
				t.Errorf("requestInfo.payload.webhook = %v, want the secrets as %q and the rest as sent", webhook, schemas.Redacted)
			}
		})
	}

	tokenPath := hooksURL + "/foo/bar/trigger/"
	for _, tt := range []struct {
		name, method, path, body string
		status                   int
	}{
		{"wrong token", "POST", tokenPath + secretA, `{}`, 401},
		{"bad JSON with the right token", "POST", tokenPath + token, `{"a":`, 400},
	} {
		t.Run("token route "+tt.name, func(t *testing.T) {
			status, raw, doc := send(t, tt.method, tt.path, tt.body)
			if status != tt.status {
				t.Fatalf("got %d %s, want %d", status, raw, tt.status)
			}
			noSecrets(t, "the reply", raw)
			params, _ := doc["requestInfo"].(map[string]any)["params"].(map[string]any)
			if params["token"] != schemas.Redacted || params["hookId"] != "bar" {
				t.Errorf("requestInfo.params = %v, want the token as %q and the rest as sent", params, schemas.Redacted)
			}
		})
	}
	t.Run("GET of a token URL", func(t *testing.T) {
		status, raw, _ := send(t, "GET", tokenPath+token, "")
		if status != 404 {
			t.Fatalf("got %d %s, want 404", status, raw)
		}
		noSecrets(t, "the reply", raw)
	})
	noSecrets(t, "the log", []byte(e.log.String()))
}
