package app

import (
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/httpapi"
)

// Both authenticators know the roles, so POST .../check and
// `hookline validate --hook` can report the scopes a hook's role lacks.
var (
	_ hooks.ScopeExpander = (*auth.Static)(nil)
	_ hooks.ScopeExpander = (*auth.Remote)(nil)
)

// NewAuthorizer builds the configured authenticator. extra, when not nil,
// is a client added to the configured ones (`hookline serve` adds its root
// client this way).
func NewAuthorizer(cfg config.AuthConfig, extra *auth.Client) (httpapi.Authorizer, error) {
	opts, err := authOptions(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Mode == config.AuthTaskcluster {
		return auth.NewRemote(cfg.TaskclusterRootURL, &http.Client{Timeout: 10 * time.Second}).WithOptions(opts)
	}
	var ac auth.Config
	if len(cfg.Clients) > 0 {
		if ac, err = auth.ParseConfig(cfg.Clients); err != nil {
			return nil, fmt.Errorf("app: HOOKLINE_CLIENTS: %w", err)
		}
	}
	if extra != nil {
		ac.Clients = append(ac.Clients, *extra)
	}
	st, err := auth.NewStatic(ac, opts)
	if err != nil {
		return nil, fmt.Errorf("app: clients and roles: %w", err)
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
		return nil, fmt.Errorf("app: HOOKLINE_PUBLIC_URL: %w", err)
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
		return nil, fmt.Errorf("app: HOOKLINE_PUBLIC_URL port %q: %w", net.JoinHostPort(host, port), err)
	}
	return opts, nil
}
