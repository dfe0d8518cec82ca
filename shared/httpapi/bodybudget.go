package httpapi

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/store"
)

// DefaultBodyBudget is how many bytes of request bodies the router holds
// at once by default: read and not yet answered.
const DefaultBodyBudget = 8 << 20

// decodeBudgetFactor sizes the decode budget from the body budget. A body
// decodes into Go values many times its size: a 2 MB array of 700,000
// empty objects allocates about 85 MB (decodeWeight estimates it), and
// the answer to a refused body echoes it. With the default body budget,
// 48 MB of estimated decoding at once keeps `hookline serve` within about
// 200 MB whatever the requests (docs/architecture.md, "Hostile input").
const decodeBudgetFactor = 6

// bodyPace is how fast a body must arrive once it holds body budget:
// within grace, plus its length at rate. A slower one is cut off (400).
// It is far stricter than `serve`'s pace for connections (16 KB/s), which
// would let four slow senders of 2 MB hold the whole budget for two
// minutes; behind API Gateway a body is in before the function runs.
type bodyPace struct {
	grace time.Duration
	rate  float64 // bytes per second
}

var defaultBodyPace = bodyPace{grace: 5 * time.Second, rate: 256 << 10}

// allow is the time a body of n bytes may take.
func (p bodyPace) allow(n int64) time.Duration {
	return p.grace + time.Duration(float64(n)/p.rate*float64(time.Second))
}

// cut arms a timer that ends the reads of w's request once a body of n
// bytes has taken longer than allowed. The returned stop disarms it,
// reporting whether it fired; once stop has run the timer changes
// nothing, so no read deadline is left to cut the connection's reads
// after the body (which would cancel the request).
func (p bodyPace) cut(w http.ResponseWriter, n int64) (stop func() bool) {
	rc := http.NewResponseController(w)
	var mu sync.Mutex
	done, fired := false, false
	t := time.AfterFunc(p.allow(n), func() {
		mu.Lock()
		defer mu.Unlock()
		if done {
			return
		}
		fired = true
		_ = rc.SetReadDeadline(time.Now()) // unsupported in process (Lambda): the body is in memory there
	})
	return func() bool {
		t.Stop()
		mu.Lock()
		defer mu.Unlock()
		done = true
		return fired
	}
}

// bodyBudgetWait is how long a request waits for either budget before it
// is refused with 503 and Retry-After.
const bodyBudgetWait = 2 * time.Second

// The limits of request bodies, by the route's input schema. A route
// without an input schema gets defaultBodyLimit (its body is ignored, but
// a Hawk signature may cover it); the signed webhook route has
// HOOKLINE_WEBHOOK_MAX_BODY. Every limit is at most MaxBodyBytes.
var bodyLimits = map[string]int64{
	// A hook is stored up to store.MaxHookSize (1 MiB); the body that
	// defines it may be indented, so it gets twice that, and the store
	// names its own limit.
	schemas.CreateHookRequest: 2 * store.MaxHookSize,
	// Settings likewise (256 KiB stored).
	schemas.HookSettings: 2 * store.MaxSettingsSize,
	// A trigger's payload goes into the task, and into the decision up
	// to 256 KB; 1 MB is the webhook route's default too.
	schemas.TriggerHook:      1 << 20,
	schemas.CheckHookRequest: 1 << 20,
	schemas.PauseRequest:     defaultBodyLimit,
	schemas.BackfillRequest:  defaultBodyLimit,
}

const defaultBodyLimit = 64 << 10

// bodyLimit is the body limit of a route whose input schema is input.
func bodyLimit(input string) int64 {
	if n, ok := bodyLimits[input]; ok {
		return n
	}
	return defaultBodyLimit
}

// decodeWeight estimates the bytes decoding raw into Go values
// allocates, the answer's echo of it included: the body, and per value
// its interface and slice slot, and per object its map. It counts bytes
// inside strings too, which only overestimates.
func decodeWeight(raw []byte) int64 {
	objects := int64(bytes.Count(raw, []byte{'{'}))
	values := int64(bytes.Count(raw, []byte{','}) + bytes.Count(raw, []byte{'['}))
	return 2*int64(len(raw)) + 48*objects + 32*values
}

// BodyLimits are the body limits of the router's routes, by route name
// (for tools that probe them, such as an API fuzz).
func (rt *Router) BodyLimits() map[string]int64 {
	out := make(map[string]int64, len(rt.routes))
	for _, ro := range rt.routes {
		out[ro.name] = ro.maxBody
	}
	return out
}

// bodyBudget is a byte-weighted semaphore over what the requests being
// served hold: the router has one for the bodies read (their length, or
// the route's limit while it is unknown) and one for their decoding
// (decodeWeight). A request takes its weight before reading, or
// decoding, and gives it back once answered; it never waits on the body
// budget while holding decode budget, so the two cannot deadlock.
// Requests wait in order of arrival, for at most wait (or until their
// context ends); a weight larger than the whole budget waits for all of
// it.
type bodyBudget struct {
	what string // what it holds, for the 503's message
	size int64
	sem  *semaphore.Weighted
	wait time.Duration
}

func newBodyBudget(what string, size int64, wait time.Duration) *bodyBudget {
	return &bodyBudget{what: what, size: size, sem: semaphore.NewWeighted(size), wait: wait}
}

// weigh is what n bytes take from the budget.
func (b *bodyBudget) weigh(n int64) int64 { return min(max(n, 0), b.size) }

// acquire takes the weight of n bytes and returns it, to be released once
// the request is answered; it is 0 with the error when the budget could
// not be had in time.
func (b *bodyBudget) acquire(ctx context.Context, n int64) (int64, error) {
	n = b.weigh(n)
	if n == 0 || b.sem.TryAcquire(n) {
		return n, nil
	}
	wctx, cancel := context.WithTimeout(ctx, b.wait)
	defer cancel()
	if err := b.sem.Acquire(wctx, n); err != nil {
		// Also when the caller has gone: nobody reads the answer, and it
		// is no failure of the server's to log.
		return 0, &serverBusy{message: fmt.Sprintf(
			"too many large request bodies at once: the server holds at most %s of %s; retry shortly", formatBytes(b.size), b.what),
			retryAfter: time.Second}
	}
	return n, nil
}

func (b *bodyBudget) release(n int64) {
	if n > 0 {
		b.sem.Release(n)
	}
}

// serverBusy is a request refused for lack of capacity (the body
// budget): 503 with Retry-After, in whole seconds.
type serverBusy struct {
	message    string
	retryAfter time.Duration
}

func (e *serverBusy) Error() string { return CodeServiceUnavailable + ": " + e.message }

// LimitBodies serves another API beside the router (`serve`'s local
// queue) under the router's body budgets: each request's body is read
// first, within limit, taking its weight as the router's routes do, and
// handed to h from memory; the weight is held until h returns. Refusals
// (413, 503) are Taskcluster error bodies naming api.
func (rt *Router) LimitBodies(h http.Handler, api string, limit int64) http.Handler {
	ro := &route{name: api, maxBody: limit}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		req := &request{}
		defer func() {
			rt.decoding.release(req.decodeHeld)
			rt.bodies.release(req.held)
		}()
		raw, err := rt.readBody(w, r, ro, req)
		if err != nil {
			writeError(r.Context(), w, rt.log, err, api, nil, nil, rt.now())
			return
		}
		if raw != nil {
			r.Body = io.NopCloser(bytes.NewReader(raw))
			r.ContentLength = int64(len(raw))
		}
		h.ServeHTTP(w, r)
	})
}
