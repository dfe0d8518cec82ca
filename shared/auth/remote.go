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

// maxRemoteAnswer bounds the authenticateHawk answer we read.
const maxRemoteAnswer = 1 << 20

// Remote delegates verification to a Taskcluster deployment's auth service
// (POST <rootURL>/api/auth/v1/authenticate-hawk), as Taskcluster's own
// services do, then checks the payload hash and the scopes itself. It is
// safe for concurrent use.
type Remote struct {
	endpoint string
	hc       *http.Client
	hosts    hostRule
}

// NewRemote returns an authenticator for the deployment at rootURL (for
// example https://tc.example.com). hc nil means http.DefaultClient; give it
// a timeout.
func NewRemote(rootURL string, hc *http.Client) *Remote {
	if hc == nil {
		hc = http.DefaultClient
	}
	return &Remote{endpoint: strings.TrimRight(rootURL, "/") + "/api/auth/v1/authenticate-hawk", hc: hc}
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

// AuthenticateHawk sends req to the auth service and returns its answer.
func (x *Remote) AuthenticateHawk(ctx context.Context, req HawkRequest) (HawkResult, error) {
	req.Method = strings.ToLower(req.Method)
	payload, err := json.Marshal(req)
	if err != nil {
		return HawkResult{}, fmt.Errorf("auth: encode authenticateHawk request: %w", err)
	}
	hr, err := http.NewRequestWithContext(ctx, http.MethodPost, x.endpoint, bytes.NewReader(payload))
	if err != nil {
		return HawkResult{}, fmt.Errorf("auth: build authenticateHawk request: %w", err)
	}
	hr.Header.Set("Content-Type", "application/json")
	hr.Header.Set("Accept", "application/json")
	resp, err := x.hc.Do(hr)
	if err != nil {
		return HawkResult{}, fmt.Errorf("auth: call authenticateHawk: %w", err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxRemoteAnswer+1))
	if err != nil {
		return HawkResult{}, fmt.Errorf("auth: read authenticateHawk answer: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return HawkResult{}, fmt.Errorf("auth: authenticateHawk answered HTTP %d: %w", resp.StatusCode, errBadAnswer)
	}
	if len(data) > maxRemoteAnswer {
		return HawkResult{}, fmt.Errorf("auth: authenticateHawk answer exceeds %d bytes: %w", maxRemoteAnswer, errBadAnswer)
	}
	var res HawkResult
	if err := json.Unmarshal(data, &res); err != nil {
		return HawkResult{}, fmt.Errorf("auth: decode authenticateHawk answer: %w", err)
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
