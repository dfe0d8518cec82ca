package main

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// queueMux routes, redirects and refuses every request as the ServeMux
// it stands for does.
func TestQueueMuxAsServeMux(t *testing.T) {
	named := func(name string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Handler", name)
			w.Write([]byte(r.URL.Path))
		})
	}
	queue, api := named("queue"), named("api")
	ref := http.NewServeMux()
	ref.Handle(queuePrefix, queue)
	ref.Handle("/", api)
	fast := newQueueMux(queue, api)
	cases := []struct{ method, target string }{
		{"GET", "/api/hooks/v1/ping"},
		{"GET", "/api/hooks/v1/hooks/bench/nightly?x=1"},
		{"GET", "/api/hooks/v1/hooks/a%2Fb/c"},
		{"PUT", "/api/queue/v1/task/abc"},
		{"GET", "/api/queue/v1/"},
		{"GET", "/api/queue/v1"},
		{"GET", "/api/queue/v1?x=1"},
		{"GET", "/api/queue/v1x"},
		{"GET", "/api/queu%65/v1/task/abc"},
		{"GET", "/api/queue/v1/../../hooks/v1/ping"},
		{"GET", "/api/hooks/v1/./ping"},
		{"GET", "//api/queue/v1/task"},
		{"GET", "/api/hooks/v1/hooks/"},
		{"GET", "/console"},
		{"GET", "/"},
		{"OPTIONS", "*"},
		{"CONNECT", "/api/queue/v1"},
		{"CONNECT", "/api/hooks/v1/ping"},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.target, func(t *testing.T) {
			want, got := httptest.NewRecorder(), httptest.NewRecorder()
			ref.ServeHTTP(want, httptest.NewRequest(c.method, c.target, nil))
			fast.ServeHTTP(got, httptest.NewRequest(c.method, c.target, nil))
			if got.Code != want.Code || got.Header().Get("X-Handler") != want.Header().Get("X-Handler") ||
				got.Header().Get("Location") != want.Header().Get("Location") || got.Body.String() != want.Body.String() {
				t.Errorf("got %d %q %q %q, want %d %q %q %q", got.Code, got.Header().Get("X-Handler"), got.Header().Get("Location"), got.Body,
					want.Code, want.Header().Get("X-Handler"), want.Header().Get("Location"), want.Body)
			}
		})
	}
}
