package auth

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
)

// maxRemoteAnswer bounds an auth service answer we read.
const maxRemoteAnswer = 1 << 20

// Remote delegates verification to a Taskcluster deployment's auth service
// (POST <rootURL>/api/auth/v1/authenticate-hawk), as Taskcluster's own
// services do, then checks the payload hash and the scopes itself. It is
// safe for concurrent use.
type Remote struct {
	api   string // <rootURL>/api/auth/v1
	hc    *http.Client
	hosts hostRule
}

// NewRemote returns an authenticator for the deployment at rootURL (for
// example https://tc.example.com). hc nil means http.DefaultClient; give it
// a timeout.
func NewRemote(rootURL string, hc *http.Client) *Remote {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Remote{api: strings.TrimRight(rootURL, "/") + "/api/auth/v1", hc: hc}
}

// WithOptions returns a copy using the host and port settings of opts
// (Options.Now is not used: the auth service has its own clock).
func (x *Remote) WithOptions(opts *Options) (*Remote, error) {
	hosts, err := newHostRule(opts)
	if err != nil {
		return nil, err
	}
	c := *x
	c.hosts = hosts
	return &c, nil
}

// Authorize authenticates r through the auth service (body is the complete
// request body, used to check a Hawk payload hash) and checks that the
// caller satisfies required. It behaves like Static.Authorize; failing to
// reach the auth service, or an answer that is not a valid result, is an
// ordinary error (a 500 for the caller), never an *Error.
func (x *Remote) Authorize(ctx context.Context, r *http.Request, body []byte, required Expr) (Caller, error) {
	return authorize(r, body, required, &x.hosts, func(req HawkRequest) (HawkResult, error) {
		return x.AuthenticateHawk(ctx, req)
	})
}

// AuthorizeBeforeBody is Static.AuthorizeBeforeBody through the auth
// service. The service never sees the body (Taskcluster's services send it
// only the request line, host, port and Authorization header; the header's
// payload hash comes back in the answer), so the call is the same as
// Authorize's.
func (x *Remote) AuthorizeBeforeBody(ctx context.Context, r *http.Request, required Expr) (Caller, PayloadCheck, error) {
	return authorizeBeforeBody(r, required, &x.hosts, func(req HawkRequest) (HawkResult, error) {
		return x.AuthenticateHawk(ctx, req)
	})
}

// AuthenticateHawk sends req to the auth service and returns its answer.
func (x *Remote) AuthenticateHawk(ctx context.Context, req HawkRequest) (HawkResult, error) {
	req.Method = strings.ToLower(req.Method)
	var res HawkResult
	if err := x.call(ctx, "/authenticate-hawk", "authenticateHawk", req, &res); err != nil {
		return HawkResult{}, err
	}
	switch res.Status {
	case StatusSuccess, StatusNoAuth:
		for _, s := range res.Scopes {
			if !ValidScope(s) {
				return HawkResult{}, fmt.Errorf("auth: authenticateHawk answered an invalid scope: %w", errBadAnswer)
			}
		}
	case StatusFailed:
		if res.Message == "" {
			res.Message = "Unauthorized: authentication failed"
		}
	default:
		return HawkResult{}, fmt.Errorf("auth: authenticateHawk answered status %q: %w", res.Status, errBadAnswer)
	}
	return res, nil
}

// ExpandScopes asks the auth service to expand the roles in scopes
// (expandScopes, POST <rootURL>/api/auth/v1/scopes/expand). The call needs
// no credentials: the deployment's roles are public to read.
func (x *Remote) ExpandScopes(ctx context.Context, scopes []string) ([]string, error) {
	in := struct {
		Scopes []string `json:"scopes"`
	}{Scopes: scopes}
	if in.Scopes == nil {
		in.Scopes = []string{}
	}
	var out struct {
		Scopes []string `json:"scopes"`
	}
	if err := x.call(ctx, "/scopes/expand", "expandScopes", in, &out); err != nil {
		return nil, err
	}
	for _, s := range out.Scopes {
		if !ValidScope(s) {
			return nil, fmt.Errorf("auth: expandScopes answered an invalid scope: %w", errBadAnswer)
		}
	}
	return out.Scopes, nil
}

// call posts in as JSON to the auth service's path and decodes a 200 answer
// into out; any other status, or an answer over maxRemoteAnswer bytes, is
// errBadAnswer. name is the API method, for errors.
func (x *Remote) call(ctx context.Context, path, name string, in, out any) error {
	payload, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("auth: encode %s request: %w", name, err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, x.api+path, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("auth: build %s request: %w", name, err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	resp, err := x.hc.Do(hr)
	if err != nil {
		return fmt.Errorf("auth: call %s: %w", name, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxRemoteAnswer+1))
	if err != nil {
		return fmt.Errorf("auth: read %s answer: %w", name, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("auth: %s answered HTTP %d: %w", name, resp.StatusCode, errBadAnswer)
	}
	if len(data) > maxRemoteAnswer {
		return fmt.Errorf("auth: %s answer exceeds %d bytes: %w", name, maxRemoteAnswer, errBadAnswer)
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("auth: decode %s answer: %w", name, err)
	}
	return nil
}
