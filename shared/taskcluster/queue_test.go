package taskcluster

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline/shared/auth"
)

const (
	testTaskID      = "fN1SbArXTPSVFNUvaOlinQ"
	testClientID    = "static/hookline"
	testAccessToken = "a-long-enough-access-token-for-tests"
)

var testCreds = auth.Credentials{ClientID: testClientID, AccessToken: testAccessToken}

const testTask = `{"provisionerId":"prov","workerType":"wt","created":"2030-01-01T00:00:00.000Z",` +
	`"deadline":"2030-01-02T00:00:00.000Z","payload":{"n":1.50,"s":"<&>"},"metadata":{}}`

const statusAnswer = `{"status":{"taskId":"fN1SbArXTPSVFNUvaOlinQ","state":"pending"}}`

// handlerTransport answers requests with a handler, in memory: no
// connections, so a client using it works inside a synctest bubble.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// recordedSleep is a QueueOptions.Sleep that records the waits.
type recordedSleep struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *recordedSleep) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	s.waits = append(s.waits, d)
	s.mu.Unlock()
	return ctx.Err()
}

func (s *recordedSleep) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.waits)
}

func newTestQueue(t *testing.T, srv *httptest.Server, sl *recordedSleep) *Queue {
	t.Helper()
	return NewQueue(srv.URL+"/", testCreds, srv.Client(), &QueueOptions{Sleep: sl.sleep, Rand: func() float64 { return 0.5 }})
}

// scripted answers the i-th request with statuses[i] (the last one
// repeats) and counts requests.
type scripted struct {
	statuses []int
	bodies   []string
	calls    atomic.Int32
}

func (s *scripted) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int(s.calls.Add(1)) - 1
	i = min(i, len(s.statuses)-1)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(s.statuses[i])
	io.WriteString(w, s.bodies[i])
}

func tcError(code, message string) string {
	b, _ := json.Marshal(map[string]any{
		"code": code, "message": message,
		"requestInfo": map[string]any{"method": "createTask", "params": map[string]string{"taskId": testTaskID}, "payload": map[string]any{}, "time": "2030-01-01T00:00:00.000Z"},
	})
	return string(b)
}

func TestQueue_CreateTaskSignsAndSendsBody(t *testing.T) {
	static, err := auth.NewStatic(auth.Config{
		Clients: []auth.Client{{ClientID: testClientID, AccessToken: testAccessToken, Scopes: []string{"assume:hook-id:*", "queue:create-task:*"}}},
		Roles:   []auth.Role{{RoleID: "hook-id:g/h", Scopes: []string{"queue:create-task:lowest:prov/wt"}}},
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	type seen struct {
		method, path, contentType, body string
		ext                             map[string]any
		caller                          auth.Caller
		authErr                         error
	}
	var got seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = seen{method: r.Method, path: r.URL.Path, contentType: r.Header.Get("Content-Type"), body: string(body)}
		h := r.Header.Get("Authorization")
		if m := regexp.MustCompile(`ext="([^"]*)"`).FindStringSubmatch(h); m != nil {
			raw, err := base64.StdEncoding.DecodeString(m[1])
			if err != nil {
				t.Errorf("ext is not base64: %v", err)
			}
			if err := json.Unmarshal(raw, &got.ext); err != nil {
				t.Errorf("ext is not JSON: %v", err)
			}
		}
		if !strings.HasPrefix(h, "Hawk ") {
			t.Errorf("Authorization = %q, want a Hawk header", h)
		}
		got.caller, got.authErr = static.Authorize(r.Context(), r, body, auth.AllOf())
		io.WriteString(w, statusAnswer)
	}))
	defer srv.Close()

	q := newTestQueue(t, srv, &recordedSleep{})
	out, err := q.CreateTask(context.Background(), testTaskID, json.RawMessage(testTask), []string{"assume:hook-id:g/h"})
	if err != nil {
		t.Fatal(err)
	}
	if string(out) != statusAnswer {
		t.Errorf("answer = %s, want %s", out, statusAnswer)
	}
	if got.method != http.MethodPut || got.path != "/api/queue/v1/task/"+testTaskID {
		t.Errorf("request = %s %s", got.method, got.path)
	}
	if got.body != testTask {
		t.Errorf("body changed:\n got %s\nwant %s", got.body, testTask)
	}
	if got.contentType != "application/json" {
		t.Errorf("Content-Type = %q", got.contentType)
	}
	if diff := cmp.Diff(map[string]any{"authorizedScopes": []any{"assume:hook-id:g/h"}}, got.ext); diff != "" {
		t.Errorf("ext (-want +got):\n%s", diff)
	}
	if got.authErr != nil {
		t.Fatalf("signature rejected: %v", got.authErr)
	}
	// The verifier applied the authorizedScopes: the caller holds the
	// hook role's scopes and not the client's own.
	if !slices.Contains(got.caller.Scopes, "queue:create-task:lowest:prov/wt") || slices.Contains(got.caller.Scopes, "queue:create-task:*") {
		t.Errorf("caller scopes = %v", got.caller.Scopes)
	}
}

func TestQueue_Retries(t *testing.T) {
	for _, tt := range []struct {
		name         string
		statuses     []int
		bodies       []string
		status       bool // call Status instead of CreateTask
		wantCalls    int
		wantErr      bool
		wantStatus   int
		wantCode     string
		wantMessage  string
		wantMethod   string
		wantInfo     bool
		wantRetry    bool
		wantWaits    []time.Duration
		wantBodyJSON string
	}{
		{
			name: "success", statuses: []int{200}, bodies: []string{statusAnswer},
			wantCalls: 1,
		},
		{
			name: "500 then success", statuses: []int{500, 200}, bodies: []string{tcError("InternalServerError", "boom"), statusAnswer},
			wantCalls: 2, wantWaits: []time.Duration{100 * time.Millisecond},
		},
		{
			name: "5xx until attempts run out", statuses: []int{503}, bodies: []string{tcError("InternalServerError", "down")},
			wantCalls: 5, wantErr: true, wantStatus: 503, wantCode: "InternalServerError", wantMessage: "down",
			wantMethod: "createTask", wantInfo: true, wantRetry: true,
			wantWaits: []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond},
		},
		{
			name: "400 is not retried", statuses: []int{400}, bodies: []string{tcError("InputValidationError", "bad task")},
			wantCalls: 1, wantErr: true, wantStatus: 400, wantCode: "InputValidationError", wantMessage: "bad task",
			wantMethod: "createTask", wantInfo: true,
		},
		{
			name: "403 is not retried", statuses: []int{403}, bodies: []string{tcError("InsufficientScopes", "missing queue:create-task:lowest:prov/wt")},
			wantCalls: 1, wantErr: true, wantStatus: 403, wantCode: "InsufficientScopes", wantMessage: "missing queue:create-task:lowest:prov/wt",
			wantMethod: "createTask", wantInfo: true,
		},
		{
			name: "409 is not retried", statuses: []int{409}, bodies: []string{tcError("RequestConflict", "taskId already used")},
			wantCalls: 1, wantErr: true, wantStatus: 409, wantCode: "RequestConflict", wantMessage: "taskId already used",
			wantMethod: "createTask", wantInfo: true,
		},
		{
			name: "non-Taskcluster 502 body", statuses: []int{502, 502}, bodies: []string{"<html>bad gateway</html>", "<html>bad gateway</html>"},
			wantCalls: 5, wantErr: true, wantStatus: 502, wantMessage: "Bad Gateway", wantMethod: "createTask", wantRetry: true,
			wantWaits:    []time.Duration{100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond, 800 * time.Millisecond},
			wantBodyJSON: `"<html>bad gateway</html>"`,
		},
		{
			name: "status 404", status: true, statuses: []int{404}, bodies: []string{tcError("ResourceNotFound", "no such task")},
			wantCalls: 1, wantErr: true, wantStatus: 404, wantCode: "ResourceNotFound", wantMessage: "no such task",
			wantMethod: "status", wantInfo: true,
		},
		{
			name: "status 500 then success", status: true, statuses: []int{500, 200}, bodies: []string{"{}", statusAnswer},
			wantCalls: 2, wantWaits: []time.Duration{100 * time.Millisecond},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := &scripted{statuses: tt.statuses, bodies: tt.bodies}
			srv := httptest.NewServer(s)
			defer srv.Close()
			sl := &recordedSleep{}
			q := newTestQueue(t, srv, sl)
			var out json.RawMessage
			var err error
			if tt.status {
				out, err = q.Status(context.Background(), testTaskID)
			} else {
				out, err = q.CreateTask(context.Background(), testTaskID, json.RawMessage(testTask), nil)
			}
			if got := int(s.calls.Load()); got != tt.wantCalls {
				t.Errorf("calls = %d, want %d", got, tt.wantCalls)
			}
			if diff := cmp.Diff(tt.wantWaits, sl.waits); diff != "" {
				t.Errorf("waits (-want +got):\n%s", diff)
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if string(out) != statusAnswer {
					t.Errorf("answer = %s", out)
				}
				return
			}
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (%T), want an *APIError", err, err)
			}
			if ae.StatusCode != tt.wantStatus || ae.Code != tt.wantCode || ae.Message != tt.wantMessage || ae.Method != tt.wantMethod {
				t.Errorf("APIError = %d %q %q %q, want %d %q %q %q", ae.StatusCode, ae.Code, ae.Message, ae.Method,
					tt.wantStatus, tt.wantCode, tt.wantMessage, tt.wantMethod)
			}
			if tt.wantInfo {
				var info struct {
					Method string            `json:"method"`
					Params map[string]string `json:"params"`
				}
				if err := json.Unmarshal(ae.RequestInfo, &info); err != nil || info.Params["taskId"] != testTaskID {
					t.Errorf("requestInfo = %s (%v)", ae.RequestInfo, err)
				}
				if string(ae.Body) != tt.bodies[len(tt.bodies)-1] {
					t.Errorf("body = %s", ae.Body)
				}
			} else if ae.RequestInfo != nil {
				t.Errorf("requestInfo = %s, want none", ae.RequestInfo)
			}
			if tt.wantBodyJSON != "" && string(ae.Body) != tt.wantBodyJSON {
				t.Errorf("body = %s, want %s", ae.Body, tt.wantBodyJSON)
			}
			if got := StatusCode(err); got != tt.wantStatus {
				t.Errorf("StatusCode = %d", got)
			}
			if got := IsRetryable(err); got != tt.wantRetry {
				t.Errorf("IsRetryable = %v", got)
			}
			if errors.Is(err, ErrNetwork) {
				t.Error("an HTTP answer must not be a network error")
			}
		})
	}
}

func TestQueue_NetworkErrors(t *testing.T) {
	t.Run("dropped connections are retried", func(t *testing.T) {
		t.Parallel()
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if calls.Add(1) <= 2 {
				conn, _, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				conn.Close() // no answer at all
				return
			}
			io.WriteString(w, statusAnswer)
		}))
		defer srv.Close()
		sl := &recordedSleep{}
		out, err := newTestQueue(t, srv, sl).CreateTask(context.Background(), testTaskID, json.RawMessage(testTask), nil)
		if err != nil {
			t.Fatal(err)
		}
		if string(out) != statusAnswer || calls.Load() != 3 || sl.count() != 2 {
			t.Errorf("answer %s after %d calls and %d waits, want 3 calls and 2 waits", out, calls.Load(), sl.count())
		}
	})
	t.Run("refused connections give a network error", func(t *testing.T) {
		t.Parallel()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr := ln.Addr().String()
		ln.Close() // nothing listens there now
		sl := &recordedSleep{}
		q := NewQueue("http://"+addr, testCreds, nil, &QueueOptions{MaxAttempts: 3, Sleep: sl.sleep})
		_, err = q.CreateTask(context.Background(), testTaskID, json.RawMessage(testTask), nil)
		if !errors.Is(err, ErrNetwork) || !IsRetryable(err) || StatusCode(err) != 0 {
			t.Fatalf("err = %v: network %v, retryable %v, status %d", err, errors.Is(err, ErrNetwork), IsRetryable(err), StatusCode(err))
		}
		var ae *APIError
		if errors.As(err, &ae) {
			t.Error("a network error must not be an *APIError")
		}
		if sl.count() != 2 {
			t.Errorf("waits = %d, want 2 (3 attempts)", sl.count())
		}
	})
}

func TestQueue_ContextStopsRetries(t *testing.T) {
	t.Run("cancelled while waiting", func(t *testing.T) {
		t.Parallel()
		// The real timer-based wait, with an hour's backoff, on the bubble's
		// fake clock: the queue is answered in memory (no network), so once
		// every goroutine is blocked the call can only be waiting on its
		// timer, and the cancellation, not the timer, must end it.
		synctest.Test(t, func(t *testing.T) {
			s := &scripted{statuses: []int{500}, bodies: []string{"{}"}}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			client := &http.Client{Transport: handlerTransport{s}}
			q := NewQueue("http://queue.test", testCreds, client, &QueueOptions{BaseBackoff: time.Hour, MaxBackoff: time.Hour})
			var err error
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, err = q.CreateTask(ctx, testTaskID, json.RawMessage(testTask), nil)
			}()
			synctest.Wait()
			if s.calls.Load() != 1 {
				t.Fatalf("%d calls before the wait, want 1", s.calls.Load())
			}
			start := time.Now()
			cancel()
			<-done
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			if IsRetryable(err) || StatusCode(err) != 0 {
				t.Errorf("cancelled call: retryable %v, status %d", IsRetryable(err), StatusCode(err))
			}
			if waited := time.Since(start); waited != 0 || s.calls.Load() != 1 {
				t.Errorf("%d calls, %v waited after the cancellation", s.calls.Load(), waited)
			}
		})
	})
	t.Run("real waits follow the backoff", func(t *testing.T) {
		t.Parallel()
		// Without QueueOptions.Sleep the queue sleeps on a timer: on the
		// bubble's clock, three 500s then a 200 take exactly the three
		// backoffs (base, double, capped at the maximum; jitter fixed).
		synctest.Test(t, func(t *testing.T) {
			s := &scripted{statuses: []int{500, 500, 500, 200}, bodies: []string{"{}", "{}", "{}", statusAnswer}}
			client := &http.Client{Transport: handlerTransport{s}}
			q := NewQueue("http://queue.test", testCreds, client, &QueueOptions{
				BaseBackoff: time.Second, MaxBackoff: 3 * time.Second, MaxAttempts: 4, Rand: func() float64 { return 0.5 },
			})
			start := time.Now()
			if _, err := q.CreateTask(t.Context(), testTaskID, json.RawMessage(testTask), nil); err != nil {
				t.Fatal(err)
			}
			if s.calls.Load() != 4 {
				t.Fatalf("%d calls, want 4", s.calls.Load())
			}
			if got, want := time.Since(start), (1+2+3)*time.Second; got != want {
				t.Errorf("waited %v, want %v (1s, 2s, then 4s capped at 3s)", got, want)
			}
		})
	})
	t.Run("cancelled during a request", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		release := make(chan struct{})
		var calls atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			cancel()
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}))
		defer srv.Close()
		defer close(release)
		sl := &recordedSleep{}
		_, err := newTestQueue(t, srv, sl).CreateTask(ctx, testTaskID, json.RawMessage(testTask), nil)
		if !errors.Is(err, context.Canceled) || errors.Is(err, ErrNetwork) || IsRetryable(err) {
			t.Fatalf("err = %v, want a non-retryable context.Canceled", err)
		}
		if calls.Load() != 1 || sl.count() != 0 {
			t.Errorf("%d calls, %d waits", calls.Load(), sl.count())
		}
	})
}

func TestQueue_Backoff(t *testing.T) {
	for _, tt := range []struct {
		name     string
		r        float64
		failures int
		want     time.Duration
	}{
		{name: "first, middle", r: 0.5, failures: 1, want: 100 * time.Millisecond},
		{name: "third, middle", r: 0.5, failures: 3, want: 400 * time.Millisecond},
		{name: "first, low jitter", r: 0, failures: 1, want: 75 * time.Millisecond},
		{name: "second, high jitter", r: 0.75, failures: 2, want: 225 * time.Millisecond},
		{name: "capped", r: 0.5, failures: 7, want: 5 * time.Second},
		{name: "jitter below the cap", r: 0, failures: 7, want: 4800 * time.Millisecond},
		{name: "many failures", r: 0.5, failures: 100, want: 5 * time.Second},
	} {
		t.Run(tt.name, func(t *testing.T) {
			q := NewQueue("https://tc.example.com", testCreds, nil, &QueueOptions{Rand: func() float64 { return tt.r }})
			if got := q.backoff(tt.failures); got != tt.want {
				t.Errorf("backoff(%d) = %v, want %v", tt.failures, got, tt.want)
			}
		})
	}
}

func TestQueue_Anonymous(t *testing.T) {
	var header string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		header = r.Header.Get("Authorization")
		io.WriteString(w, statusAnswer)
	}))
	defer srv.Close()
	q := NewQueue(srv.URL, auth.Credentials{}, srv.Client(), nil)
	if _, err := q.Status(context.Background(), testTaskID); err != nil {
		t.Fatal(err)
	}
	if header != "" {
		t.Errorf("anonymous request sent Authorization %q", header)
	}
	_, err := q.CreateTask(context.Background(), testTaskID, json.RawMessage(testTask), []string{"assume:hook-id:g/h"})
	if !errors.Is(err, errScopesNeedCredentials) || IsRetryable(err) {
		t.Errorf("authorizedScopes without credentials: err = %v", err)
	}
}

func TestAPIError_Error(t *testing.T) {
	err := error(&APIError{StatusCode: 409, Code: "RequestConflict", Message: "taskId already used", Method: "createTask"})
	if got, want := err.Error(), "taskcluster: createTask: 409 RequestConflict: taskId already used"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	if IsRetryable(nil) || StatusCode(nil) != 0 || IsRetryable(errors.New("local")) {
		t.Error("nil and local errors are neither retryable nor HTTP answers")
	}
}

// rotatingSource is a CredentialSource whose secret was rotated: it serves
// the old credentials until it is refreshed.
type rotatingSource struct {
	mu        sync.Mutex
	current   auth.Credentials
	next      auth.Credentials
	refreshes int
}

func (s *rotatingSource) Credentials(context.Context) (auth.Credentials, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.current, nil
}

func (s *rotatingSource) Refresh(context.Context) (auth.Credentials, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.refreshes++
	changed := s.current.AccessToken != s.next.AccessToken
	s.current = s.next
	return s.current, changed, nil
}

// Credentials from a source are read again when the queue refuses them,
// and the call made once more with the new ones; a refusal of unchanged
// credentials stands.
func TestQueue_CredentialSourceRefreshedOn401(t *testing.T) {
	const rotated = "the-rotated-access-token-for-tests"
	static, err := auth.NewStatic(auth.Config{Clients: []auth.Client{{ClientID: testClientID, AccessToken: rotated, Scopes: []string{"*"}}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		body, _ := io.ReadAll(r.Body)
		if _, err := static.Authorize(r.Context(), r, body, auth.AllOf()); err != nil {
			w.WriteHeader(http.StatusUnauthorized)
			io.WriteString(w, tcError("AuthenticationFailed", err.Error()))
			return
		}
		io.WriteString(w, statusAnswer)
	}))
	defer srv.Close()
	src := &rotatingSource{current: testCreds, next: auth.Credentials{ClientID: testClientID, AccessToken: rotated}}
	q := NewQueue(srv.URL, auth.Credentials{}, srv.Client(), &QueueOptions{Credentials: src})
	if _, err := q.CreateTask(context.Background(), testTaskID, json.RawMessage(testTask), []string{"assume:hook-id:g/h"}); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if calls.Load() != 2 || src.refreshes != 1 {
		t.Fatalf("%d calls, %d refreshes; want 2 and 1", calls.Load(), src.refreshes)
	}
	// Now the source holds what the queue refuses, and refreshing
	// changes nothing: one more call, not a loop.
	src.next = auth.Credentials{ClientID: testClientID, AccessToken: "some-other-wrong-access-token"}
	src.current = src.next
	calls.Store(0)
	if _, err := q.Status(context.Background(), testTaskID); StatusCode(err) != http.StatusUnauthorized {
		t.Fatalf("refused credentials: %v", err)
	}
	if calls.Load() != 1 {
		t.Fatalf("%d calls for unchanged credentials, want 1", calls.Load())
	}
}
