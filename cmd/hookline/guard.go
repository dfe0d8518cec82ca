package main

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hookline/hookline/shared/httpapi"
	"github.com/hookline/hookline/shared/taskcluster"
)

// What `hookline serve` puts in front of its handlers, and AWS does for
// the functions (API Gateway reads each body before a function sees it,
// and answers only its own host names): a pace for request bodies, and,
// while anonymous callers hold write scopes, a check of the Host header.

// connLimits bound how long a request may hold a connection.
type connLimits struct {
	// bodyGrace is how long a body may take to start arriving; after it,
	// the body must keep up minBodyRate on average.
	bodyGrace time.Duration
	// minBodyRate is the slowest average a body may arrive at, in bytes
	// per second: a 10 MB body at it takes ten minutes.
	minBodyRate float64
	// answerBudget is how long the answer may take once the body is in
	// (a fire retries the queue for up to a couple of minutes).
	answerBudget time.Duration
}

var defaultConnLimits = connLimits{bodyGrace: 10 * time.Second, minBodyRate: 16 << 10, answerBudget: 3 * time.Minute}

// pace bounds each request's time on its connection: a body that arrives
// slower than the limits allow is cut off (the handler reads an error
// and answers 400), and the answer must be written within answerBudget of
// the body's end. The server's ReadHeaderTimeout and IdleTimeout bound
// the rest.
func (l connLimits) pace(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if r.Body == nil || r.Body == http.NoBody {
			// net/http's writer sets its deadline itself; a
			// ResponseController (which unwraps others) costs an
			// allocation per request.
			if d, ok := w.(interface{ SetWriteDeadline(time.Time) error }); ok {
				_ = d.SetWriteDeadline(start.Add(l.answerBudget))
			} else {
				_ = http.NewResponseController(w).SetWriteDeadline(start.Add(l.answerBudget))
			}
			next.ServeHTTP(w, r)
			return
		}
		rc := http.NewResponseController(w)
		maxBody := time.Duration(float64(httpapi.MaxBodyBytes) / l.minBodyRate * float64(time.Second))
		_ = rc.SetWriteDeadline(start.Add(l.bodyGrace + maxBody + l.answerBudget))
		p := &pacedBody{body: r.Body, rc: rc, start: start, limits: l}
		p.watch = time.AfterFunc(l.bodyGrace, p.check)
		r.Body = p
		next.ServeHTTP(w, r)
		p.stop()
		if !p.eof.Load() {
			// The handler answered without the whole body (a wrong token
			// is refused first). The server would read the rest to keep
			// the connection, at whatever pace it comes: it closes the
			// connection instead.
			_ = rc.SetReadDeadline(time.Now())
		}
	})
}

// pacedBody counts what a body delivered; a timer cuts the connection's
// reads short when the body falls behind. No read deadline is left set
// otherwise: once a body is in, Go's server keeps reading the connection
// in the background while the handler runs, and a deadline passing then
// would cancel the request's context.
type pacedBody struct {
	body   interface{ Read([]byte) (int, error) }
	rc     *http.ResponseController
	start  time.Time
	limits connLimits

	read  atomic.Int64
	done  atomic.Bool
	eof   atomic.Bool
	watch *time.Timer
	once  sync.Once
}

func (p *pacedBody) Read(b []byte) (int, error) {
	n, err := p.body.Read(b)
	p.read.Add(int64(n))
	if err != nil {
		p.stop()
		if !errors.Is(err, io.EOF) {
			return n, err
		}
		p.eof.Store(true)
		_ = p.rc.SetWriteDeadline(time.Now().Add(p.limits.answerBudget))
	}
	return n, err
}

func (p *pacedBody) Close() error {
	p.stop()
	if c, ok := p.body.(interface{ Close() error }); ok {
		return c.Close()
	}
	return nil
}

func (p *pacedBody) stop() {
	p.once.Do(func() {
		p.done.Store(true)
		p.watch.Stop()
	})
}

// check runs when the body may be late: it waits again if the body has
// kept pace, else ends the pending read.
func (p *pacedBody) check() {
	if p.done.Load() {
		return
	}
	due := p.start.Add(p.limits.bodyGrace + time.Duration(float64(p.read.Load())/p.limits.minBodyRate*float64(time.Second)))
	if wait := time.Until(due); wait > 0 {
		p.watch.Reset(wait)
		return
	}
	_ = p.rc.SetReadDeadline(time.Now())
}

// hostGuard answers only requests whose Host the server knows, for as
// long as anonymous callers hold write scopes. A page on another site
// cannot send requests to a loopback server with its scopes (the router
// refuses foreign origins), but with DNS rebinding its own host name
// resolves to 127.0.0.1 and its requests become same-origin: their Host
// is still its name. Names it cannot forge are served: IP literals,
// localhost and the public URL's host.
type hostGuard struct {
	next       http.Handler
	publicHost string
	log        *slog.Logger
}

func (g hostGuard) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if knownHost(r.Host, g.publicHost) {
		g.next.ServeHTTP(w, r)
		return
	}
	g.log.WarnContext(r.Context(), "request refused: unknown Host while anonymous callers hold write scopes",
		"host", r.Host, "path", r.URL.EscapedPath(),
		"why", "a page using DNS rebinding would reach the server under its own host name; set HOOKLINE_PUBLIC_URL to serve another name")
	body := taskcluster.NewErrorBody("", http.StatusMisdirectedRequest, "MisdirectedRequest",
		"This server answers requests for localhost, IP addresses and the host of HOOKLINE_PUBLIC_URL only, not "+r.Host+
			", while anonymous callers hold write scopes (HOOKLINE_CLIENTS' anonymousScopes): set HOOKLINE_PUBLIC_URL to the URL clients use.",
		nil, nil, time.Now())
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusMisdirectedRequest)
	w.Write(body.Encode())
}

// knownHost reports whether a Host header names an IP address, localhost
// (or a name under .localhost, which resolvers keep on the loopback) or
// the public host.
func knownHost(hostHeader, publicHost string) bool {
	host := hostHeader
	if h, _, err := net.SplitHostPort(hostHeader); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(strings.Trim(host, "[]"), "."))
	switch {
	case host == "", net.ParseIP(host) != nil, host == "localhost", strings.HasSuffix(host, ".localhost"):
		return true
	}
	return publicHost != "" && host == strings.ToLower(publicHost)
}
