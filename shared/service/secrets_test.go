package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/config"
)

// fakeSecrets holds secrets in memory; Refresh always reads (the cache's
// pacing is secrets.Cache's to test).
type fakeSecrets struct {
	mu       sync.Mutex
	values   map[string]string
	served   map[string]string // what Get last returned
	gets     int
	refreshs int
}

func (f *fakeSecrets) set(id, v string) { f.mu.Lock(); f.values[id] = v; f.mu.Unlock() }

func (f *fakeSecrets) Get(_ context.Context, id string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets++
	if v, ok := f.served[id]; ok {
		return v, nil // cached: not yet re-read
	}
	v, ok := f.values[id]
	if !ok {
		return "", errors.New("no such secret")
	}
	f.served[id] = v
	return v, nil
}

func (f *fakeSecrets) Refresh(_ context.Context, id string) (string, bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refreshs++
	v := f.values[id]
	changed := f.served[id] != v
	f.served[id] = v
	return v, changed, nil
}

func signedRequest(t *testing.T, clientID, token string) *http.Request {
	t.Helper()
	r := httptest.NewRequest("GET", "http://hooks.example.com/api/hooks/v1/hooks", nil)
	r.RequestURI = "/api/hooks/v1/hooks"
	if err := auth.SignRequest(r, auth.Credentials{ClientID: clientID, AccessToken: token}, nil, time.Now()); err != nil {
		t.Fatal(err)
	}
	return r
}

// A clients document in Secrets Manager: a client added, or a token
// rotated, after the document was read is taken on its first request,
// which the refusal makes the authorizer read again; a refusal with the
// document unchanged stands. Both ways to authorize behave so.
func TestSecretAuthorizer(t *testing.T) {
	for _, beforeBody := range []bool{false, true} {
		t.Run(map[bool]string{false: "Authorize", true: "AuthorizeBeforeBody"}[beforeBody], func(t *testing.T) {
			testSecretAuthorizer(t, beforeBody)
		})
	}
}

func testSecretAuthorizer(t *testing.T, beforeBody bool) {
	ctx := context.Background()
	const id = "arn:aws:secretsmanager:us-east-1:000000000000:secret:clients"
	doc := func(clients ...string) string {
		var parts []string
		for _, c := range clients {
			name, token, _ := strings.Cut(c, "=")
			parts = append(parts, `{"clientId":"`+name+`","accessToken":"`+token+`","scopes":["hooks:list-hooks:*"]}`)
		}
		return `{"clients":[` + strings.Join(parts, ",") + `]}`
	}
	sec := &fakeSecrets{values: map[string]string{id: doc("alice=alice-token-0123456789")}, served: map[string]string{}}
	authz, err := NewAuthorizer(ctx, config.AuthConfig{Mode: config.AuthStatic, ClientsSecret: id}, nil, sec)
	if err != nil {
		t.Fatal(err)
	}
	required := auth.Scope("hooks:list-hooks:")
	try := func(client, token string) error {
		t.Helper()
		if beforeBody {
			_, _, err := authz.AuthorizeBeforeBody(ctx, signedRequest(t, client, token), required)
			return err
		}
		_, err := authz.Authorize(ctx, signedRequest(t, client, token), nil, required)
		return err
	}
	if err := try("alice", "alice-token-0123456789"); err != nil {
		t.Fatalf("alice: %v", err)
	}
	if sec.refreshs != 0 {
		t.Fatalf("an accepted request read the secret again")
	}
	sec.set(id, doc("alice=alice-token-0123456789", "bob=bob-token-0123456789"))
	if err := try("bob", "bob-token-0123456789"); err != nil {
		t.Fatalf("a client added since: %v", err)
	}
	if err := try("mallory", "mallory-token-0123456789"); !errors.Is(err, auth.ErrAuthenticationFailed) {
		t.Fatalf("an unknown client: %v", err)
	}
	sec.set(id, "not json")
	if err := try("mallory", "mallory-token-0123456789"); err == nil || errors.Is(err, auth.ErrAuthenticationFailed) || strings.Contains(err.Error(), "not json") {
		t.Fatalf("a broken document must be an error naming the secret, not its contents: %v", err)
	}
	if _, err := NewAuthorizer(ctx, config.AuthConfig{Mode: config.AuthStatic, ClientsSecret: id}, nil, nil); err == nil {
		t.Fatal("a clients secret without a way to read it")
	}
}

func TestSecretCredentials(t *testing.T) {
	ctx := context.Background()
	sec := &fakeSecrets{values: map[string]string{}, served: map[string]string{}}
	for _, tt := range []struct {
		doc     string
		want    auth.Credentials
		wantErr string
	}{
		{`{"clientId":"c","accessToken":"t"}`, auth.Credentials{ClientID: "c", AccessToken: "t"}, ""},
		{`{"clientId":"c","accessToken":"t","certificate":"{\"version\":1}"}`, auth.Credentials{ClientID: "c", AccessToken: "t", Certificate: `{"version":1}`}, ""},
		{`{"clientId":"c","accessToken":"t","certificate":{"version":1}}`, auth.Credentials{ClientID: "c", AccessToken: "t", Certificate: `{"version":1}`}, ""},
		{`{"clientId":"c"}`, auth.Credentials{}, "must hold"},
		{`secret-text`, auth.Credentials{}, "not a JSON object"},
	} {
		id := fmt.Sprintf("creds-%d", len(sec.values))
		sec.set(id, tt.doc)
		got, err := secretCredentials{secrets: sec, id: id}.Credentials(ctx)
		if tt.wantErr != "" {
			// Errors name the secret, never its contents.
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || strings.Contains(err.Error(), tt.doc) {
				t.Errorf("%s: %v, want an error with %q", tt.doc, err, tt.wantErr)
			}
			continue
		}
		if err != nil || got.ClientID != tt.want.ClientID || got.AccessToken != tt.want.AccessToken || got.Certificate != tt.want.Certificate {
			t.Errorf("%s: %+v %v, want %+v", tt.doc, got, err, tt.want)
		}
	}
}
