// Package secretstest is a stand-in for AWS Secrets Manager: an HTTP
// handler answering GetSecretValue (the AWS JSON 1.1 protocol,
// X-Amz-Target: secretsmanager.GetSecretValue) for the secrets put into
// it, by ARN or name, as the SDK's client expects. Tests and
// `make local-invoke` point AWS_ENDPOINT_URL_SECRETS_MANAGER (or a
// client's BaseEndpoint) at it.
package secretstest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

// Handler serves the secrets. Its methods are safe for concurrent use.
type Handler struct {
	mu      sync.Mutex
	secrets map[string]*secret
	reads   map[string]int
}

type secret struct {
	value   string
	version int
}

// NewHandler returns a handler holding no secret.
func NewHandler() *Handler {
	return &Handler{secrets: map[string]*secret{}, reads: map[string]int{}}
}

// New starts a server for a new handler, closed when tb ends, and returns
// the handler and the server's URL.
func New(tb testing.TB) (*Handler, string) {
	h := NewHandler()
	srv := httptest.NewServer(h)
	tb.Cleanup(srv.Close)
	return h, srv.URL
}

// Put stores value under id (an ARN or a name), as a new version.
func (h *Handler) Put(id, value string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := h.secrets[id]
	if s == nil {
		s = &secret{}
		h.secrets[id] = s
	}
	s.value, s.version = value, s.version+1
}

// Reads counts the GetSecretValue calls for id.
func (h *Handler) Reads(id string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.reads[id]
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	fail := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-ErrorType", code)
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"__type": code, "Message": msg})
	}
	if target := r.Header.Get("X-Amz-Target"); target != "secretsmanager.GetSecretValue" {
		fail(http.StatusBadRequest, "InvalidRequestException", "this stand-in serves GetSecretValue only, not "+target)
		return
	}
	if !strings.HasPrefix(r.Header.Get("Authorization"), "AWS4-HMAC-SHA256 ") {
		fail(http.StatusBadRequest, "MissingAuthenticationTokenException", "the request is not signed")
		return
	}
	var in struct {
		SecretID string `json:"SecretId"`
	}
	if err := json.NewDecoder(r.Body).Decode(&in); err != nil || in.SecretID == "" {
		fail(http.StatusBadRequest, "InvalidParameterException", "SecretId is required")
		return
	}
	h.mu.Lock()
	h.reads[in.SecretID]++
	s := h.secrets[in.SecretID]
	var value string
	var version int
	if s != nil {
		value, version = s.value, s.version
	}
	h.mu.Unlock()
	if s == nil {
		fail(http.StatusBadRequest, "ResourceNotFoundException", "Secrets Manager can't find the specified secret.")
		return
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	json.NewEncoder(w).Encode(map[string]any{
		"ARN":          in.SecretID,
		"Name":         in.SecretID,
		"SecretString": value,
		"VersionId":    fmt.Sprintf("version-%d", version),
		"CreatedDate":  1.7e9,
	})
}
