package main

import (
	"net/http"
	"path"
	"strings"
)

// queuePrefix is where `serve` mounts the local queue's API.
const queuePrefix = "/api/queue/v1/"

// queueMux sends the local queue's paths to queue and every other path
// to api, as an http.ServeMux with the patterns queuePrefix and "/"
// does, without the ServeMux's cost (five allocations and a tree walk
// per request) for the paths it routes without a redirect: clean paths
// without escapes. Others go through the ServeMux itself, which cleans
// them, unescapes segments and redirects as it always has.
type queueMux struct {
	queue, api http.Handler
	mux        *http.ServeMux
}

func newQueueMux(queue, api http.Handler) queueMux {
	mux := http.NewServeMux()
	mux.Handle(queuePrefix, queue)
	mux.Handle("/", api)
	return queueMux{queue: queue, api: api, mux: mux}
}

func (m queueMux) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p := r.URL.EscapedPath()
	if r.Method != http.MethodConnect && r.RequestURI != "*" && !strings.Contains(p, "%") && cleanPath(p) == p {
		switch {
		case strings.HasPrefix(p, queuePrefix):
			m.queue.ServeHTTP(w, r)
			return
		case p != strings.TrimSuffix(queuePrefix, "/"): // that one is redirected to queuePrefix
			m.api.ServeHTTP(w, r)
			return
		}
	}
	m.mux.ServeHTTP(w, r)
}

// cleanPath is net/http's (server.go): the canonical path for p, which
// the ServeMux redirects to when it differs.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	// path.Clean removes trailing slash except for root;
	// put the trailing slash back if necessary.
	if p[len(p)-1] == '/' && np != "/" {
		// Fast path for common case of p being the string we want:
		if len(p) == len(np)+1 && strings.HasPrefix(p, np) {
			np = p
		} else {
			np += "/"
		}
	}
	return np
}
