package apifuzz

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
)

// fakeEnv, set in the environment of the test binary run as a child,
// makes it a fake `hookline serve` (runFake) with the flaw it names.
const fakeEnv = "APIFUZZ_FAKE_SERVE"

// runFake serves a small imitation of the hooks API on HOOKLINE_ADDR:
// hooks stored by path, settings, a token, an empty decision log. Its
// flaw, by name, is what the fuzz must catch:
//
//   - "stores-refused": a createHook whose body is not JSON answers 400
//     but stores the hook anyway;
//   - "fails-deep": a body with "[[[[" answers 500 and logs an error
//     line saying "exceeded max depth";
//   - "none": no flaw.
func runFake(flaw string) {
	var mu sync.Mutex
	hooks := map[string][]byte{}
	logErr := func(msg string) {
		line, _ := json.Marshal(map[string]string{"level": "ERROR", "msg": "request failed", "err": msg})
		fmt.Fprintln(os.Stderr, string(line))
	}
	answer := func(w http.ResponseWriter, status int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(io.LimitReader(r.Body, 20<<20))
		mu.Lock()
		defer mu.Unlock()
		path := r.URL.EscapedPath()
		if flaw == "fails-deep" && strings.Contains(string(body), "[[[[") {
			logErr("decode: exceeded max depth")
			answer(w, 500, `{"code":"InternalServerError"}`)
			return
		}
		switch {
		case path == "/api/hooks/v1/ping":
			answer(w, 200, `{"alive":true}`)
		case path == "/api/hooks/v1/hooks":
			groups := slices.Sorted(maps.Keys(hooks))
			data, _ := json.Marshal(map[string]any{"groups": groups})
			answer(w, 200, string(data))
		case strings.HasPrefix(path, "/api/hooks/v1/hooks/") && strings.Count(path, "/") == 6:
			switch r.Method {
			case "GET":
				if def, ok := hooks[path]; ok {
					answer(w, 200, string(def))
				} else {
					answer(w, 404, `{"code":"ResourceNotFound"}`)
				}
			case "PUT", "POST":
				if !json.Valid(body) {
					if flaw == "stores-refused" && r.Method == "PUT" {
						hooks[path] = body
					}
					answer(w, 400, `{"code":"MalformedPayload"}`)
					return
				}
				hooks[path] = body
				answer(w, 200, string(body))
			case "DELETE":
				delete(hooks, path)
				answer(w, 200, `{}`)
			default:
				answer(w, 404, `{"code":"ResourceNotFound"}`)
			}
		case strings.HasSuffix(path, "/token"):
			answer(w, 200, `{"token":"tok"}`)
		case strings.HasSuffix(path, "/decisions") || strings.HasSuffix(path, "/decisions?limit=1"):
			answer(w, 200, `{"decisions":[]}`)
		case strings.HasSuffix(path, "/settings"), strings.HasSuffix(path, "/trigger"):
			answer(w, 200, `{}`)
		default:
			answer(w, 404, `{"code":"ResourceNotFound"}`)
		}
	})
	if err := http.ListenAndServe(os.Getenv("HOOKLINE_ADDR"), h); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
