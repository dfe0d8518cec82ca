package httpapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// Benchmarks of the hooks API through the real handler and the embedded
// store (writes durable: bbolt syncs each commit).

func benchDo(b *testing.B, e *testEnv, method, path, body string, want int) {
	var req *http.Request
	if body != "" {
		req = httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
	} else {
		req = httptest.NewRequest(method, path, nil)
	}
	rec := httptest.NewRecorder()
	e.router.ServeHTTP(rec, req)
	if rec.Code != want {
		b.Fatalf("%s %s: %d %s", method, path, rec.Code, rec.Body.String())
	}
}

func benchEnv(b *testing.B) *testEnv {
	e := newTestEnv(b, nil)
	e.router.checkOut = false // production does not validate replies
	return e
}

func BenchmarkCreateHook(b *testing.B) {
	e := benchEnv(b)
	body := hookBody(nil)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		benchDo(b, e, "PUT", fmt.Sprintf("%s/bench/h%09d", hooksURL, i), body, 200)
		i++
	}
}

func BenchmarkGetHook(b *testing.B) {
	e := benchEnv(b)
	benchDo(b, e, "PUT", hooksURL+"/bench/h", hookBody(nil), 200)
	b.ReportAllocs()
	for b.Loop() {
		benchDo(b, e, "GET", hooksURL+"/bench/h", "", 200)
	}
}

func BenchmarkListHooks(b *testing.B) {
	e := benchEnv(b)
	for i := range 50 {
		benchDo(b, e, "PUT", fmt.Sprintf("%s/bench/h%03d", hooksURL, i), hookBody(nil), 200)
	}
	b.ReportAllocs()
	for b.Loop() {
		benchDo(b, e, "GET", hooksURL+"/bench", "", 200)
	}
}
