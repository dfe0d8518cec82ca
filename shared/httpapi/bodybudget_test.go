package httpapi

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Each route refuses a body over its limit with 413 naming the limit and
// the route, whether the length is declared or not, and takes one at the
// limit.
func TestRouteBodyLimits(t *testing.T) {
	e := newTestEnv(t, nil)
	e.mustCreate(t, "/g/h", hookBody(nil))
	token := e.do(t, "GET", hooksURL+"/g/h/token", "").body["token"].(string)
	for _, tt := range []struct {
		route, method, path string
		limit               string
		bytes               int
	}{
		{"createHook", "PUT", hooksURL + "/g/new", "2 MB", 2 << 20},
		{"updateHook", "POST", hooksURL + "/g/h", "2 MB", 2 << 20},
		{"updateHookSettings", "PUT", settingsURL + "/g/h/settings", "512 KB", 512 << 10},
		{"triggerHook", "POST", hooksURL + "/g/h/trigger", "1 MB", 1 << 20},
		{"triggerHookWithToken", "POST", hooksURL + "/g/h/trigger/" + token, "1 MB", 1 << 20},
		{"checkHook", "POST", settingsURL + "/g/h/check", "1 MB", 1 << 20},
		{"pauseHook", "PUT", settingsURL + "/g/h/pause", "64 KB", 64 << 10},
		{"backfillHook", "POST", settingsURL + "/g/h/backfill", "64 KB", 64 << 10},
		{"resetTriggerToken", "POST", hooksURL + "/g/h/token", "64 KB", 64 << 10},
		{"triggerWebhook", "POST", settingsURL + "/g/h/webhook", "1 MB", 1 << 20},
	} {
		for _, declared := range []bool{true, false} {
			name := tt.route
			if !declared {
				name += " chunked"
			}
			t.Run(name, func(t *testing.T) {
				send := func(n int) *httptest.ResponseRecorder {
					// {} and spaces: JSON whatever the length.
					req := httptest.NewRequest(tt.method, tt.path, strings.NewReader("{}"+strings.Repeat(" ", n-2)))
					req.Header.Set("Content-Type", "application/json")
					if !declared {
						req.ContentLength = -1
					}
					rec := httptest.NewRecorder()
					e.router.ServeHTTP(rec, req)
					return rec
				}
				if rec := send(tt.bytes); rec.Code == 413 {
					t.Errorf("%d bytes: %d %.300s", tt.bytes, rec.Code, rec.Body.String())
				}
				rec := send(tt.bytes + 1)
				want := "request body is larger than the " + tt.limit + " limit of " + tt.route
				if rec.Code != 413 || !strings.Contains(rec.Body.String(), CodeInputTooLarge) || !strings.Contains(rec.Body.String(), want) {
					t.Errorf("%d bytes: %d %.300s, want 413 %q", tt.bytes+1, rec.Code, rec.Body.String(), want)
				}
			})
		}
	}
	for _, b := range []*bodyBudget{e.router.bodies, e.router.decoding} {
		if !b.sem.TryAcquire(b.size) {
			t.Errorf("the requests did not give the %s budget back", b.what)
		}
	}
}

// Every route has a body limit, at most MaxBodyBytes.
func TestEveryRouteHasABodyLimit(t *testing.T) {
	e := newTestEnv(t, nil)
	limits := e.router.BodyLimits()
	if len(limits) != len(e.router.routes) {
		t.Errorf("%d limits for %d routes", len(limits), len(e.router.routes))
	}
	for name, n := range limits {
		if n <= 0 || n > MaxBodyBytes {
			t.Errorf("%s: body limit %d", name, n)
		}
	}
	if limits["createHook"] != 2<<20 || limits["ping"] != defaultBodyLimit {
		t.Errorf("createHook %d, ping %d", limits["createHook"], limits["ping"])
	}
}

// While the budget is taken a request with a body waits, then gets 503
// with Retry-After; requests without one pass; once the budget is back,
// bodies are read again.
func TestBodyBudgetRefusesWhenFull(t *testing.T) {
	e := newTestEnv(t, nil)
	e.router.bodies = newBodyBudget("request bodies", 64<<10, 20*time.Millisecond)
	ctx := context.Background()
	held, err := e.router.bodies.acquire(ctx, 64<<10)
	if err != nil || held != 64<<10 {
		t.Fatalf("acquire: %d %v", held, err)
	}
	r := e.do(t, "PUT", hooksURL+"/g/h", hookBody(nil))
	if r.status != 503 || r.code() != CodeServiceUnavailable || r.header.Get("Retry-After") != "1" || !strings.Contains(r.message(), "64 KB") {
		t.Fatalf("full budget: %d %s Retry-After %q", r.status, r.raw, r.header.Get("Retry-After"))
	}
	if r := e.do(t, "GET", hooksURL, ""); r.status != 200 {
		t.Fatalf("a request without a body: %d %s", r.status, r.raw)
	}
	e.router.bodies.release(held)
	if r := e.do(t, "PUT", hooksURL+"/g/h", hookBody(nil)); r.status != 200 {
		t.Fatalf("budget back: %d %s", r.status, r.raw)
	}
}

// While the decode budget is taken, a body is read but not decoded: 503,
// and the body's budget is given back.
func TestDecodeBudgetRefusesWhenFull(t *testing.T) {
	e := newTestEnv(t, nil)
	e.router.decoding = newBodyBudget("decoded request bodies", 1<<20, 20*time.Millisecond)
	held, _ := e.router.decoding.acquire(context.Background(), 1<<20)
	r := e.do(t, "PUT", hooksURL+"/g/h", hookBody(nil))
	if r.status != 503 || r.code() != CodeServiceUnavailable || !strings.Contains(r.message(), "1 MB of decoded request bodies") {
		t.Fatalf("full decode budget: %d %s", r.status, r.raw)
	}
	if !e.router.bodies.sem.TryAcquire(e.router.bodies.size) {
		t.Fatal("the body budget was not given back")
	}
	e.router.bodies.release(e.router.bodies.size)
	e.router.decoding.release(held)
	if r := e.do(t, "PUT", hooksURL+"/g/h", hookBody(nil)); r.status != 200 {
		t.Fatalf("budget back: %d %s", r.status, r.raw)
	}
}

// The estimate of a body's decoding grows with its values, not only its
// bytes: an array of empty objects weighs about 40 times its length.
func TestDecodeWeight(t *testing.T) {
	for _, tt := range []struct {
		name     string
		body     string
		min, max int64 // per byte of body
	}{
		{"a string", `{"a":"` + strings.Repeat("x", 1000) + `"}`, 2, 3},
		{"empty objects", "[" + strings.Repeat("{},", 1000) + "{}]", 20, 40},
		{"nulls", "[" + strings.Repeat("null,", 1000) + "null]", 6, 10},
	} {
		t.Run(tt.name, func(t *testing.T) {
			n := int64(len(tt.body))
			if w := decodeWeight([]byte(tt.body)); w < tt.min*n || w > tt.max*n {
				t.Errorf("weight %d for %d bytes, want %d to %d times", w, n, tt.min, tt.max)
			}
		})
	}
}

func TestBodyBudget(t *testing.T) {
	ctx := context.Background()
	b := newBodyBudget("bytes", 100, 50*time.Millisecond)
	for _, tt := range []struct {
		name string
		n    int64
		want int64
	}{
		{"nothing", 0, 0},
		{"some", 40, 40},
		{"more than the whole budget takes all of it", 1000, 100},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got, err := b.acquire(ctx, tt.n)
			if err != nil || got != tt.want {
				t.Fatalf("acquire(%d) = %d %v, want %d", tt.n, got, err, tt.want)
			}
			b.release(got)
		})
	}

	// A waiter gets the budget when it is given back in time.
	held, _ := b.acquire(ctx, 100)
	go func() {
		time.Sleep(5 * time.Millisecond)
		b.release(held)
	}()
	got, err := b.acquire(ctx, 60)
	if err != nil || got != 60 {
		t.Fatalf("waiter: %d %v", got, err)
	}
	// One that waits too long is refused as busy, and takes nothing.
	got2, err := b.acquire(ctx, 60)
	var busy *serverBusy
	if !errors.As(err, &busy) || got2 != 0 {
		t.Fatalf("over budget: %d %v, want a serverBusy", got2, err)
	}
	// So is one whose caller gives up.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := b.acquire(cctx, 60); !errors.As(err, &busy) {
		t.Fatalf("cancelled: %v", err)
	}
	b.release(got)
	if !b.sem.TryAcquire(100) {
		t.Fatal("budget not all back")
	}
}

// A route refuses a declared length over its limit before taking any
// budget or reading a byte.
func TestDeclaredLengthRefusedUnread(t *testing.T) {
	e := newTestEnv(t, nil)
	e.router.bodies = newBodyBudget("request bodies", 1<<10, time.Millisecond)
	req := httptest.NewRequest("PUT", settingsURL+"/g/h/settings", failingReader{})
	req.ContentLength = 600 << 10
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	if rec.Code != http.StatusRequestEntityTooLarge {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) {
	return 0, errors.New("read a body that was to be refused unread")
}

// A body that holds budget must keep its pace: one that stalls is cut off
// with 400, its budget given back; one that keeps it is read.
func TestSlowBodyCutOff(t *testing.T) {
	e := newTestEnv(t, nil)
	e.router.pace = bodyPace{grace: 100 * time.Millisecond, rate: 1 << 30}
	srv := httptest.NewServer(e.router)
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "PUT %s/g/h HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"a\":", hooksURL, srv.Listener.Addr())
	start := time.Now()
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 400 || !strings.Contains(string(body), "the request body arrived too slowly") {
		t.Fatalf("%d %s", res.StatusCode, body)
	}
	if waited := time.Since(start); waited > 5*time.Second {
		t.Errorf("cut after %v", waited)
	}
	if !e.router.bodies.sem.TryAcquire(e.router.bodies.size) {
		t.Fatal("the body budget was not given back")
	}
	e.router.bodies.release(e.router.bodies.size)

}

// A body that arrives in time over a real connection is served, and the
// connection with it: no read deadline was left behind.
func TestBodyInTimeKeepsConnection(t *testing.T) {
	e := newTestEnv(t, nil)
	srv := httptest.NewServer(e.router)
	defer srv.Close()
	client := srv.Client()
	for i := range 2 {
		req, _ := http.NewRequest("PUT", srv.URL+hooksURL+"/g/h"+strconv.Itoa(i), strings.NewReader(hookBody(nil)))
		req.Header.Set("Content-Type", "application/json")
		res, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != 200 {
			t.Fatalf("in time: %d", res.StatusCode)
		}
	}
	client.CloseIdleConnections()
}
