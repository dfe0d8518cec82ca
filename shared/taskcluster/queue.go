package taskcluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hookline/hookline/shared/auth"
)

// Defaults of QueueOptions.
const (
	DefaultMaxAttempts = 5
	DefaultBaseBackoff = 100 * time.Millisecond
	DefaultMaxBackoff  = 5 * time.Second
	// defaultTimeout bounds one attempt when NewQueue builds the client.
	defaultTimeout = 30 * time.Second
	// maxResponseBytes caps what is read of an answer; queue answers are a
	// few kilobytes.
	maxResponseBytes = 8 << 20
	// jitterFactor spreads each backoff over ±25%, as Taskcluster's
	// clients do, so that callers failing together do not retry together.
	jitterFactor = 0.25
)

// QueueOptions tune a Queue. A nil *QueueOptions, and zero fields, mean
// the defaults.
type QueueOptions struct {
	// MaxAttempts is how many times a call is tried in all (default 5).
	MaxAttempts int
	// BaseBackoff is the wait after the first failure (default 100ms); it
	// doubles after each further failure, up to MaxBackoff.
	BaseBackoff time.Duration
	// MaxBackoff caps one wait (default 5s).
	MaxBackoff time.Duration
	// Now is the clock used for Hawk timestamps (default time.Now).
	Now func() time.Time
	// Sleep waits d between attempts and returns ctx's error if ctx ends
	// first (default: a timer that honours ctx). Tests use it to record the
	// waits instead of sleeping.
	Sleep func(ctx context.Context, d time.Duration) error
	// Rand returns a number in [0, 1) for the jitter (default
	// math/rand/v2.Float64).
	Rand func() float64
	// Credentials, when set, supplies the credentials of every call in
	// place of NewQueue's (read from a secret at run time). After the
	// queue refuses them with 401 it is asked to refresh them, and the call
	// is tried once more if they changed (the secret was rotated).
	Credentials CredentialSource
}

// CredentialSource supplies Taskcluster credentials that may change while
// the process runs.
type CredentialSource interface {
	// Credentials returns the current credentials.
	Credentials(ctx context.Context) (auth.Credentials, error)
	// Refresh reads the credentials again after a refusal and reports
	// whether they changed.
	Refresh(ctx context.Context) (auth.Credentials, bool, error)
}

// Queue calls a Taskcluster queue's createTask and status methods. It is
// safe for concurrent use.
type Queue struct {
	base        string // <rootUrl>/api/queue/v1
	creds       auth.Credentials
	hc          *http.Client
	maxAttempts int
	baseBackoff time.Duration
	maxBackoff  time.Duration
	now         func() time.Time
	sleep       func(ctx context.Context, d time.Duration) error
	rand        func() float64
	source      CredentialSource
	// anyAnswer accepts a 2xx answer that is not JSON (notify's).
	anyAnswer bool
}

// NewQueue returns a client for the queue of the deployment at rootURL
// (e.g. "https://tc.example.com"). Requests are signed with creds; with an
// empty ClientID and AccessToken they are sent unsigned, as an anonymous
// caller. hc may be nil (a client with a 30s timeout per attempt); opts
// may be nil.
func NewQueue(rootURL string, creds auth.Credentials, hc *http.Client, opts *QueueOptions) *Queue {
	q := &Queue{
		base:        strings.TrimRight(rootURL, "/") + "/api/queue/v1",
		creds:       creds,
		hc:          hc,
		maxAttempts: DefaultMaxAttempts,
		baseBackoff: DefaultBaseBackoff,
		maxBackoff:  DefaultMaxBackoff,
		now:         time.Now,
		sleep:       sleepContext,
		rand:        rand.Float64,
	}
	if q.hc == nil {
		q.hc = &http.Client{Timeout: defaultTimeout}
	}
	if opts != nil {
		if opts.MaxAttempts > 0 {
			q.maxAttempts = opts.MaxAttempts
		}
		if opts.BaseBackoff > 0 {
			q.baseBackoff = opts.BaseBackoff
		}
		if opts.MaxBackoff > 0 {
			q.maxBackoff = opts.MaxBackoff
		}
		if opts.Now != nil {
			q.now = opts.Now
		}
		if opts.Sleep != nil {
			q.sleep = opts.Sleep
		}
		if opts.Rand != nil {
			q.rand = opts.Rand
		}
		q.source = opts.Credentials
	}
	return q
}

// errScopesNeedCredentials is returned when authorizedScopes are asked for
// without credentials to carry them.
var errScopesNeedCredentials = errors.New("authorizedScopes need credentials")

// CreateTask calls createTask: PUT <rootUrl>/api/queue/v1/task/<taskID>
// with task as the body, sent unchanged. When authorizedScopes is non-nil
// the request is restricted to those scopes (they replace any
// AuthorizedScopes of the credentials). It returns the queue's answer,
// {"status": <task status>}.
//
// createTask is idempotent: re-sending the same definition under the same
// taskID succeeds and creates nothing new, while a different definition
// gets a 409 RequestConflict *APIError. 5xx answers and network errors are
// retried with backoff; other answers are returned at once.
func (q *Queue) CreateTask(ctx context.Context, taskID string, task json.RawMessage, authorizedScopes []string) (json.RawMessage, error) {
	return q.call(ctx, http.MethodPut, "createTask", "/task/"+url.PathEscape(taskID), task, authorizedScopes)
}

// Status calls status: GET <rootUrl>/api/queue/v1/task/<taskID>/status.
// It returns the queue's answer, {"status": <task status>}. An unknown
// task is a 404 ResourceNotFound *APIError.
func (q *Queue) Status(ctx context.Context, taskID string) (json.RawMessage, error) {
	return q.call(ctx, http.MethodGet, "status", "/task/"+url.PathEscape(taskID)+"/status", nil, nil)
}

// call runs one API call with retries, with the current credentials
// restricted to authorizedScopes when not nil. When the credentials come
// from a CredentialSource and the queue refuses them (401), they are read
// again and, if they changed, the call is made once more.
func (q *Queue) call(ctx context.Context, method, apiName, path string, body []byte, authorizedScopes []string) (json.RawMessage, error) {
	creds := q.creds
	if q.source != nil {
		var err error
		if creds, err = q.source.Credentials(ctx); err != nil {
			return nil, fmt.Errorf("taskcluster: %s: credentials: %w", apiName, err)
		}
	}
	out, err := q.callWith(ctx, method, apiName, path, body, withScopes(creds, authorizedScopes))
	if q.source == nil || StatusCode(err) != http.StatusUnauthorized {
		return out, err
	}
	fresh, changed, rerr := q.source.Refresh(ctx)
	if rerr != nil {
		return nil, fmt.Errorf("%w (and reading the credentials again: %w)", err, rerr)
	}
	if !changed {
		return nil, err
	}
	return q.callWith(ctx, method, apiName, path, body, withScopes(fresh, authorizedScopes))
}

// withScopes restricts creds to authorizedScopes when not nil (they
// replace any AuthorizedScopes of the credentials).
func withScopes(creds auth.Credentials, authorizedScopes []string) auth.Credentials {
	if authorizedScopes != nil {
		creds.AuthorizedScopes = authorizedScopes
	}
	return creds
}

// callWith runs one API call with retries.
func (q *Queue) callWith(ctx context.Context, method, apiName, path string, body []byte, creds auth.Credentials) (json.RawMessage, error) {
	signed := creds.ClientID != "" || creds.AccessToken != ""
	if !signed && creds.AuthorizedScopes != nil {
		return nil, fmt.Errorf("taskcluster: %s: %w", apiName, errScopesNeedCredentials)
	}
	target := q.base + path
	for attempt := 1; ; attempt++ {
		out, err := q.attempt(ctx, method, apiName, target, body, creds, signed)
		if err == nil {
			return out, nil
		}
		if !IsRetryable(err) {
			return nil, err
		}
		if attempt >= q.maxAttempts {
			if attempt == 1 {
				return nil, err
			}
			return nil, fmt.Errorf("taskcluster: %s: giving up after %d attempts: %w", apiName, attempt, err)
		}
		// A caller that gave up while the failed attempt was answered
		// gets the same error as one that gives up during the wait.
		serr := ctx.Err()
		if serr == nil {
			serr = q.sleep(ctx, q.backoff(attempt))
		}
		if serr != nil {
			// The last failure is kept as text only, so the result is
			// neither retryable nor an HTTP status: the caller gave up.
			return nil, fmt.Errorf("taskcluster: %s: %w (after %d attempts; last error: %v)", apiName, serr, attempt, err)
		}
	}
}

// backoff is the wait after the given number of failed attempts:
// base·2^(failures-1), spread by ±25% and capped at the maximum.
func (q *Queue) backoff(failures int) time.Duration {
	d := q.baseBackoff
	for i := 1; i < failures && d < q.maxBackoff; i++ {
		d *= 2
	}
	d = time.Duration(float64(d) * (1 - jitterFactor + 2*jitterFactor*q.rand()))
	return min(d, q.maxBackoff)
}

// attempt sends the request once and classifies the outcome.
func (q *Queue) attempt(ctx context.Context, method, apiName, target string, body []byte, creds auth.Credentials, signed bool) (json.RawMessage, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, fmt.Errorf("taskcluster: %s: build request: %w", apiName, err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if signed {
		// Taskcluster's clients sign without a payload hash; so do we.
		if err := auth.SignRequest(req, creds, nil, q.now()); err != nil {
			return nil, fmt.Errorf("taskcluster: %s: sign request: %w", apiName, err)
		}
	}
	resp, err := q.hc.Do(req)
	if err != nil {
		return nil, q.transportError(ctx, apiName, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes+1))
	if err != nil {
		return nil, q.transportError(ctx, apiName, fmt.Errorf("read response: %w", err))
	}
	if len(data) > maxResponseBytes {
		return nil, fmt.Errorf("taskcluster: %s: response larger than %d bytes", apiName, maxResponseBytes)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		if q.anyAnswer {
			return json.RawMessage(`{}`), nil
		}
		if !json.Valid(data) {
			return nil, fmt.Errorf("taskcluster: %s: %d answer is not JSON", apiName, resp.StatusCode)
		}
		return json.RawMessage(data), nil
	}
	return nil, newAPIError(apiName, resp.StatusCode, data)
}

// transportError wraps a failure to get an answer: the caller's context
// ending is reported as such, anything else is a retryable ErrNetwork.
func (q *Queue) transportError(ctx context.Context, apiName string, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("taskcluster: %s: %w", apiName, err)
	}
	return fmt.Errorf("taskcluster: %s: %w: %w", apiName, ErrNetwork, err)
}

// newAPIError reads a Taskcluster error body {code, message, requestInfo}.
func newAPIError(apiName string, status int, data []byte) *APIError {
	e := &APIError{StatusCode: status, Method: apiName}
	if len(data) > 0 {
		if json.Valid(data) {
			e.Body = json.RawMessage(data)
			var body struct {
				Code        string          `json:"code"`
				Message     string          `json:"message"`
				RequestInfo json.RawMessage `json:"requestInfo"`
			}
			if json.Unmarshal(data, &body) == nil {
				e.Code, e.Message = body.Code, body.Message
				if len(body.RequestInfo) > 0 && string(body.RequestInfo) != "null" {
					e.RequestInfo = body.RequestInfo
				}
			}
		} else {
			var b bytes.Buffer
			enc := json.NewEncoder(&b)
			enc.SetEscapeHTML(false)
			_ = enc.Encode(string(data)) // a string always encodes
			e.Body = json.RawMessage(bytes.TrimSuffix(b.Bytes(), []byte("\n")))
		}
	}
	if e.Message == "" {
		e.Message = http.StatusText(status)
	}
	return e
}

// sleepContext waits d or until ctx ends.
func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
