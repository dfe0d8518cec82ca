package service

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/taskcluster"
)

// Secrets reads secrets at run time (secrets.Cache, over Secrets Manager):
// Get serves a secret from memory, reading it when it is missing or old;
// Refresh reads it again after a refusal and reports whether it changed.
// The entry points that run on AWS pass one in Deps; the builder links no
// AWS client of its own.
type Secrets interface {
	Get(ctx context.Context, id string) (string, error)
	Refresh(ctx context.Context, id string) (string, bool, error)
}

// errNoSecrets is returned when the config names a secret and the entry
// point brought no way to read it.
var errNoSecrets = errors.New("this entry point reads no Secrets Manager secrets")

// secretCredentials are Taskcluster credentials kept in a secret as
// {"clientId": ..., "accessToken": ...[, "certificate": ...]}: a
// taskcluster.CredentialSource.
type secretCredentials struct {
	secrets Secrets
	id      string
}

var _ taskcluster.CredentialSource = secretCredentials{}

func (s secretCredentials) Credentials(ctx context.Context) (auth.Credentials, error) {
	doc, err := s.secrets.Get(ctx, s.id)
	if err != nil {
		return auth.Credentials{}, err
	}
	return s.parse(doc)
}

func (s secretCredentials) Refresh(ctx context.Context) (auth.Credentials, bool, error) {
	doc, changed, err := s.secrets.Refresh(ctx, s.id)
	if err != nil {
		return auth.Credentials{}, false, err
	}
	creds, err := s.parse(doc)
	return creds, changed, err
}

// parse reads the secret's document. The certificate of temporary
// credentials may be given as its JSON text or as the object itself.
func (s secretCredentials) parse(doc string) (auth.Credentials, error) {
	var v struct {
		ClientID    string          `json:"clientId"`
		AccessToken string          `json:"accessToken"`
		Certificate json.RawMessage `json:"certificate"`
	}
	// Errors name the secret, never its contents.
	if err := json.Unmarshal([]byte(doc), &v); err != nil {
		return auth.Credentials{}, fmt.Errorf("service: TASKCLUSTER_CREDENTIALS_SECRET %s is not a JSON object", s.id)
	}
	if v.ClientID == "" || v.AccessToken == "" {
		return auth.Credentials{}, fmt.Errorf(`service: TASKCLUSTER_CREDENTIALS_SECRET %s must hold {"clientId": ..., "accessToken": ...}`, s.id)
	}
	creds := auth.Credentials{ClientID: v.ClientID, AccessToken: v.AccessToken}
	if len(v.Certificate) > 0 && string(v.Certificate) != "null" {
		var text string
		if json.Unmarshal(v.Certificate, &text) == nil {
			creds.Certificate = text
		} else {
			creds.Certificate = string(v.Certificate)
		}
	}
	return creds, nil
}

// secretAuthorizer is the static authorizer of a clients document kept in
// a secret (HOOKLINE_CLIENTS_SECRET). The document is read when the
// authorizer is built and served from memory; it is read again when it is
// old (so a removed client stops working within the cache's age), and when
// credentials are refused (a client added or a token rotated since), at
// most as often as the secrets' cache allows. Then the request is checked
// once more.
type secretAuthorizer struct {
	secrets Secrets
	id      string
	opts    *auth.Options
	extra   []auth.Client
	current atomic.Pointer[clientsDoc]
}

type clientsDoc struct {
	text   string
	static *auth.Static
}

func newSecretAuthorizer(ctx context.Context, cfg config.AuthConfig, opts *auth.Options, extra []auth.Client, secrets Secrets) (*secretAuthorizer, error) {
	if secrets == nil {
		return nil, fmt.Errorf("service: HOOKLINE_CLIENTS_SECRET: %w", errNoSecrets)
	}
	a := &secretAuthorizer{secrets: secrets, id: cfg.ClientsSecret, opts: opts, extra: extra}
	text, err := secrets.Get(ctx, a.id)
	if err != nil {
		return nil, fmt.Errorf("service: HOOKLINE_CLIENTS_SECRET: %w", err)
	}
	if err := a.use(text); err != nil {
		return nil, err
	}
	return a, nil
}

// use builds the authorizer of a document and makes it the current one.
func (a *secretAuthorizer) use(text string) error {
	st, err := staticAuthorizer([]byte(text), a.opts, a.extra)
	if err != nil {
		return fmt.Errorf("service: HOOKLINE_CLIENTS_SECRET %s: %w", a.id, err)
	}
	a.current.Store(&clientsDoc{text: text, static: st})
	return nil
}

func (a *secretAuthorizer) Authorize(ctx context.Context, r *http.Request, body []byte, required auth.Expr) (auth.Caller, error) {
	var caller auth.Caller
	err := a.retry(ctx, func(st *auth.Static) (err error) {
		caller, err = st.Authorize(ctx, r, body, required)
		return err
	})
	return caller, err
}

func (a *secretAuthorizer) AuthorizeBeforeBody(ctx context.Context, r *http.Request, required auth.Expr) (auth.Caller, auth.PayloadCheck, error) {
	var (
		caller  auth.Caller
		payload auth.PayloadCheck
	)
	err := a.retry(ctx, func(st *auth.Static) (err error) {
		caller, payload, err = st.AuthorizeBeforeBody(ctx, r, required)
		return err
	})
	return caller, payload, err
}

// retry runs check with the current document's authorizer, after reading
// the document again when it is old; when check refuses the credentials
// and the document has changed since, it runs check once more with the
// new one.
func (a *secretAuthorizer) retry(ctx context.Context, check func(*auth.Static) error) error {
	doc := a.current.Load()
	if text, err := a.secrets.Get(ctx, a.id); err == nil && text != doc.text {
		if err := a.use(text); err != nil {
			return err
		}
		doc = a.current.Load()
	}
	err := check(doc.static)
	if !errors.Is(err, auth.ErrAuthenticationFailed) {
		return err
	}
	text, changed, rerr := a.secrets.Refresh(ctx, a.id)
	if rerr != nil || !changed || text == doc.text {
		return err // the refusal stands
	}
	if uerr := a.use(text); uerr != nil {
		return uerr
	}
	return check(a.current.Load().static)
}

// Static returns the authorizer of the document in use.
func (a *secretAuthorizer) Static() *auth.Static { return a.current.Load().static }
