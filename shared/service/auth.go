package service

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
)

// Authorizer authenticates an API request and checks it against the
// route's scope expression: auth.Static and auth.Remote. Its method set
// holds httpapi.Authorizer's, which the router declares (the local queue
// uses Authorize).
type Authorizer interface {
	Authorize(ctx context.Context, r *http.Request, body []byte, required auth.Expr) (auth.Caller, error)
	AuthorizeBeforeBody(ctx context.Context, r *http.Request, required auth.Expr) (auth.Caller, auth.PayloadCheck, error)
}

// TaskRoles is where pre-checks (POST .../check, `hookline validate
// --hook`) learn the scopes of a hook's role. The queue that creates the
// tasks decides, so the roles must be its deployment's:
//   - with a Taskcluster queue (TASKCLUSTER_ROOT_URL), that deployment's
//     auth service, whose expandScopes needs no credentials. Hookline's
//     own static roles authenticate API callers and say nothing about it;
//   - with the local queue of `hookline serve`, the static roles, when the
//     config defines any: the local queue then enforces them (LocalRoles).
//
// nil means the roles are not known; the check says so.
func TaskRoles(cfg config.Config, authz Authorizer) hooks.ScopeExpander {
	if cfg.Taskcluster.RootURL != "" {
		return auth.NewRemote(cfg.Taskcluster.RootURL, &http.Client{Timeout: 10 * time.Second})
	}
	if roles := LocalRoles(authz); roles != nil {
		return roles // not a nil *auth.Static inside a non-nil interface
	}
	return nil
}

// LocalRoles are the roles the local queue enforces: the static
// authorizer's, when its config defines roles. Without roles (the README's
// trial grants scopes to anonymous callers only) nil: the local queue
// trusts the service and checks no scopes.
func LocalRoles(authz Authorizer) *auth.Static {
	if sa, ok := authz.(*secretAuthorizer); ok {
		authz = sa.Static()
	}
	if st, ok := authz.(*auth.Static); ok && st.HasRoles() {
		return st
	}
	return nil
}

// NewAuthorizer builds the configured authenticator. extra are clients
// added to the configured ones (`hookline serve` adds its root client and
// its local queue's issuer of run credentials this way). A clients document kept in Secrets Manager
// (HOOKLINE_CLIENTS_SECRET) is read through secrets, at once and again as
// secretAuthorizer says; other configurations need no secrets (nil).
func NewAuthorizer(ctx context.Context, cfg config.AuthConfig, extra []auth.Client, secrets Secrets) (Authorizer, error) {
	opts, err := authOptions(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Mode == config.AuthTaskcluster {
		return auth.NewRemote(cfg.TaskclusterRootURL, &http.Client{Timeout: 10 * time.Second}).WithOptions(opts)
	}
	if cfg.ClientsSecret != "" {
		return newSecretAuthorizer(ctx, cfg, opts, extra, secrets)
	}
	st, err := staticAuthorizer(cfg.Clients, opts, extra)
	if err != nil {
		return nil, fmt.Errorf("service: HOOKLINE_CLIENTS: %w", err)
	}
	return st, nil
}

// staticAuthorizer is the authorizer of a clients document (none: no
// clients), with extra added.
func staticAuthorizer(doc []byte, opts *auth.Options, extra []auth.Client) (*auth.Static, error) {
	var ac auth.Config
	if len(doc) > 0 {
		var err error
		if ac, err = auth.ParseConfig(doc); err != nil {
			return nil, err
		}
	}
	ac.Clients = append(ac.Clients, extra...)
	st, err := auth.NewStatic(ac, opts)
	if err != nil {
		return nil, fmt.Errorf("clients and roles: %w", err)
	}
	return st, nil
}

func authOptions(cfg config.AuthConfig) (*auth.Options, error) {
	opts := &auth.Options{IgnoreForwarded: cfg.IgnoreForwarded, TrustForwardedHost: cfg.TrustForwardedHost}
	if cfg.PublicURL == "" {
		return opts, nil
	}
	u, err := url.Parse(cfg.PublicURL)
	if err != nil {
		return nil, fmt.Errorf("service: HOOKLINE_PUBLIC_URL: %w", err)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	opts.PublicHost = host
	if opts.PublicPort, err = strconv.Atoi(port); err != nil {
		return nil, fmt.Errorf("service: HOOKLINE_PUBLIC_URL port %q: %w", net.JoinHostPort(host, port), err)
	}
	return opts, nil
}
