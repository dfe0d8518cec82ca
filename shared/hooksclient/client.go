package hooksclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/hookline/hookline/shared/auth"
)

// The API bases, below a deployment's root URL.
const (
	HooksBasePath    = "/api/hooks/v1"
	HooklineBasePath = "/api/hookline/v1"
)

// maxResponseBytes bounds what one answer may hold: a list of hooks in a
// large group stays well inside it.
const maxResponseBytes = 64 << 20

// ErrNoHooklineAPI is returned by the settings calls when the deployment
// has no /api/hookline/v1/: upstream Taskcluster keeps no hook settings.
var ErrNoHooklineAPI = errors.New("the deployment has no Hookline API (/api/hookline/v1/): it answers like upstream Taskcluster, which keeps no hook settings")

// APIError is an HTTP error answer from the service.
type APIError struct {
	// Method is the API method, e.g. "createHook".
	Method string
	// Target names what was addressed, e.g. "group/hook"; may be empty.
	Target string
	// StatusCode is the HTTP status.
	StatusCode int
	// Code is Taskcluster's error code (e.g. "InputValidationError"),
	// empty when the body was not a Taskcluster error.
	Code string
	// Message is the service's message, or the status text.
	Message string
}

// Error returns "<method> <target>: <status> <code>: <message>".
func (e *APIError) Error() string {
	code := e.Code
	if code == "" {
		code = http.StatusText(e.StatusCode)
	}
	target := e.Method
	if e.Target != "" {
		target += " " + e.Target
	}
	return fmt.Sprintf("%s: %d %s: %s", target, e.StatusCode, code, e.Message)
}

// IsNotFound reports whether err is a 404 answer.
func IsNotFound(err error) bool {
	var ae *APIError
	return errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound
}

// Options tune a Client. A nil *Options means the defaults.
type Options struct {
	// HTTPClient sends the requests; nil means one with a 60 s timeout.
	HTTPClient *http.Client
	// Now is the clock Hawk signatures are dated by; nil means time.Now.
	Now func() time.Time
	// MaxAttempts is how often a retryable call is tried (default 4).
	MaxAttempts int
	// Backoff is the wait after the given number of failed attempts;
	// nil means 200 ms doubling.
	Backoff func(failures int) time.Duration
}

// Client calls one deployment's hooks API. It is safe for concurrent use.
type Client struct {
	root        string
	creds       auth.Credentials
	signed      bool
	hc          *http.Client
	now         func() time.Time
	maxAttempts int
	backoff     func(int) time.Duration

	probe    sync.Once
	hookline bool
	probeErr error
}

// New returns a client of the deployment at rootURL (TASKCLUSTER_ROOT_URL).
// Requests are signed with creds; a zero ClientID sends them unsigned.
func New(rootURL string, creds auth.Credentials, opts *Options) (*Client, error) {
	root := strings.TrimRight(rootURL, "/")
	u, err := url.Parse(root)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("hooksclient: root URL %q must be an http(s) URL such as https://tc.example.com", rootURL)
	}
	c := &Client{root: root, creds: creds, signed: creds.ClientID != "", now: time.Now, maxAttempts: 4,
		backoff: func(n int) time.Duration { return 200 * time.Millisecond << (n - 1) }}
	if c.signed && creds.AccessToken == "" {
		return nil, errors.New("hooksclient: a client id needs an access token")
	}
	if opts != nil {
		c.hc = opts.HTTPClient
		if opts.Now != nil {
			c.now = opts.Now
		}
		if opts.MaxAttempts > 0 {
			c.maxAttempts = opts.MaxAttempts
		}
		if opts.Backoff != nil {
			c.backoff = opts.Backoff
		}
	}
	if c.hc == nil {
		c.hc = &http.Client{Timeout: 60 * time.Second}
	}
	return c, nil
}

// RootURL is the deployment's root URL, without a trailing slash.
func (c *Client) RootURL() string { return c.root }

// ListHookGroups returns the ids of every hook group.
func (c *Client) ListHookGroups(ctx context.Context) ([]string, error) {
	var out struct {
		Groups []string `json:"groups"`
	}
	if err := c.callJSON(ctx, "listHookGroups", "", http.MethodGet, hooksPath("hooks"), nil, true, &out); err != nil {
		return nil, err
	}
	return out.Groups, nil
}

// ListHooks returns the definitions of every hook in a group (an empty
// list for an unknown group, as upstream answers).
func (c *Client) ListHooks(ctx context.Context, hookGroupID string) ([]json.RawMessage, error) {
	var out struct {
		Hooks []json.RawMessage `json:"hooks"`
	}
	err := c.callJSON(ctx, "listHooks", hookGroupID, http.MethodGet, hooksPath("hooks", hookGroupID), nil, true, &out)
	if IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return out.Hooks, nil
}

// Hook returns a hook's definition.
func (c *Client) Hook(ctx context.Context, hookGroupID, hookID string) (json.RawMessage, error) {
	return c.call(ctx, "hook", hookGroupID+"/"+hookID, http.MethodGet, hooksPath("hooks", hookGroupID, hookID), nil, true)
}

// CreateHook creates a hook from def (a create-hook-request document) and
// returns the stored definition. An existing hook is a 409 *APIError.
func (c *Client) CreateHook(ctx context.Context, hookGroupID, hookID string, def json.RawMessage) (json.RawMessage, error) {
	return c.call(ctx, "createHook", hookGroupID+"/"+hookID, http.MethodPut, hooksPath("hooks", hookGroupID, hookID), def, false)
}

// UpdateHook replaces a hook's definition and returns the stored one.
func (c *Client) UpdateHook(ctx context.Context, hookGroupID, hookID string, def json.RawMessage) (json.RawMessage, error) {
	return c.call(ctx, "updateHook", hookGroupID+"/"+hookID, http.MethodPost, hooksPath("hooks", hookGroupID, hookID), def, true)
}

// RemoveHook deletes a hook (and, on Hookline, its settings).
func (c *Client) RemoveHook(ctx context.Context, hookGroupID, hookID string) error {
	_, err := c.call(ctx, "removeHook", hookGroupID+"/"+hookID, http.MethodDelete, hooksPath("hooks", hookGroupID, hookID), nil, false)
	return err
}

// HasHooklineAPI reports whether the deployment serves Hookline's API. It
// asks GET /api/hookline/v1/whoami once and remembers the answer: a JSON
// reply with the caller's scopes means Hookline; a 404, or a page that is
// not such a reply (a deployment's web UI answering every path), means
// not. A 401 (bad credentials) or a 5xx is an error.
func (c *Client) HasHooklineAPI(ctx context.Context) (bool, error) {
	c.probe.Do(func() {
		data, err := c.call(ctx, "whoami", "", http.MethodGet, HooklineBasePath+"/whoami", nil, true)
		var ae *APIError
		switch {
		case errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound:
			c.hookline = false
		case errors.Is(err, errNotJSON):
			c.hookline = false
		case err != nil:
			c.probeErr = fmt.Errorf("hooksclient: find out whether %s serves %s/: %w", c.root, HooklineBasePath, err)
		default:
			var who struct {
				Scopes []string `json:"scopes"`
			}
			c.hookline = json.Unmarshal(data, &who) == nil && who.Scopes != nil
		}
	})
	return c.hookline, c.probeErr
}

// Settings returns a hook's Hookline settings as the API shows them ({}
// for a hook without any). ErrNoHooklineAPI on an upstream deployment.
func (c *Client) Settings(ctx context.Context, hookGroupID, hookID string) (json.RawMessage, error) {
	if err := c.needHookline(ctx); err != nil {
		return nil, err
	}
	return c.call(ctx, "hookSettings", hookGroupID+"/"+hookID, http.MethodGet, hooklinePath("hooks", hookGroupID, hookID, "settings"), nil, true)
}

// PutSettings replaces a hook's Hookline settings and returns them as
// stored. ErrNoHooklineAPI on an upstream deployment.
func (c *Client) PutSettings(ctx context.Context, hookGroupID, hookID string, settings json.RawMessage) (json.RawMessage, error) {
	if err := c.needHookline(ctx); err != nil {
		return nil, err
	}
	return c.call(ctx, "updateHookSettings", hookGroupID+"/"+hookID, http.MethodPut, hooklinePath("hooks", hookGroupID, hookID, "settings"), settings, true)
}

func (c *Client) needHookline(ctx context.Context) error {
	ok, err := c.HasHooklineAPI(ctx)
	if err != nil {
		return err
	}
	if !ok {
		return ErrNoHooklineAPI
	}
	return nil
}

// hooksPath and hooklinePath build an escaped path, each segment escaped on
// its own so that a "/" inside a hookId stays one segment.
func hooksPath(segs ...string) string    { return joinPath(HooksBasePath, segs) }
func hooklinePath(segs ...string) string { return joinPath(HooklineBasePath, segs) }

func joinPath(base string, segs []string) string {
	var b strings.Builder
	b.WriteString(base)
	for _, s := range segs {
		b.WriteByte('/')
		b.WriteString(url.PathEscape(s))
	}
	return b.String()
}

func (c *Client) callJSON(ctx context.Context, method, target, verb, path string, body []byte, retry bool, out any) error {
	data, err := c.call(ctx, method, target, verb, path, body, retry)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("hooksclient: %s: decode answer: %w", method, err)
	}
	return nil
}

// errNotJSON marks a 2xx answer whose body is not JSON.
var errNotJSON = errors.New("answer is not JSON")

// call sends one API call, retrying 5xx answers and transport errors when
// retry is set, and returns the 2xx body.
func (c *Client) call(ctx context.Context, method, target, verb, path string, body []byte, retry bool) (json.RawMessage, error) {
	for attempt := 1; ; attempt++ {
		data, err := c.attempt(ctx, method, target, verb, path, body)
		if err == nil || !retry || attempt >= c.maxAttempts || !retryable(err) || ctx.Err() != nil {
			return data, err
		}
		t := time.NewTimer(c.backoff(attempt))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("hooksclient: %s: %w (last error: %v)", method, ctx.Err(), err)
		case <-t.C:
		}
	}
}

// transportError marks failures to get an answer at all.
type transportError struct{ err error }

func (e *transportError) Error() string { return e.err.Error() }
func (e *transportError) Unwrap() error { return e.err }

func retryable(err error) bool {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.StatusCode >= 500
	}
	var te *transportError
	return errors.As(err, &te)
}

func (c *Client) attempt(ctx context.Context, method, target, verb, path string, body []byte) (json.RawMessage, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, verb, c.root+path, rd)
	if err != nil {
		return nil, fmt.Errorf("hooksclient: %s: build request: %w", method, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.signed {
		if err := auth.SignRequest(req, c.creds, nil, c.now()); err != nil {
			return nil, fmt.Errorf("hooksclient: %s: sign request: %w", method, err)
		}
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, &transportError{fmt.Errorf("hooksclient: %s: %w", method, err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, &transportError{fmt.Errorf("hooksclient: %s: read answer: %w", method, err)}
	}
	if len(data) > maxResponseBytes {
		return nil, fmt.Errorf("hooksclient: %s: answer larger than %d bytes", method, maxResponseBytes)
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return nil, apiError(method, target, resp.StatusCode, data)
	}
	if !json.Valid(data) {
		return nil, fmt.Errorf("hooksclient: %s: %d %w", method, resp.StatusCode, errNotJSON)
	}
	return data, nil
}

// apiError reads a Taskcluster error body {code, message, requestInfo}.
// Upstream's messages end with the request's details after a "---" line;
// those repeat what the caller sent and are cut.
func apiError(method, target string, status int, data []byte) *APIError {
	e := &APIError{Method: method, Target: target, StatusCode: status}
	var body struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	if json.Unmarshal(data, &body) == nil {
		e.Code = body.Code
		e.Message = strings.TrimSpace(body.Message)
		if i := strings.Index(e.Message, "\n---"); i >= 0 {
			e.Message = strings.TrimSpace(e.Message[:i])
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}
