package console

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hookline/hookline/shared/lambdahttp"
)

func newHandler(t *testing.T, opts Options) *Handler {
	t.Helper()
	h, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func get(t *testing.T, h http.Handler, path string, header map[string]string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("GET", path, nil)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

// The index names every asset by its hashed URL, and each of those is
// served with a year-long immutable cache; the index itself is
// revalidated.
func TestServe_IndexAndAssets(t *testing.T) {
	h := newHandler(t, Options{Version: "v1.2.3", LocalQueue: true})
	for _, path := range []string{"/console/", "/console/index.html"} {
		rec := get(t, h, path, nil)
		if rec.Code != 200 || rec.Header().Get("Cache-Control") != "no-cache" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
			t.Fatalf("%s: %d %v", path, rec.Code, rec.Header())
		}
	}
	index := get(t, h, "/console/", nil).Body.String()
	for _, want := range []string{"v1.2.3", `content="../api/queue/v1/task/{taskId}"`} {
		if !strings.Contains(index, want) {
			t.Errorf("index lacks %q", want)
		}
	}
	refs := regexp.MustCompile(`(?:href|src)="([^"#]+)"`).FindAllStringSubmatch(index, -1)
	if len(refs) < 5 {
		t.Fatalf("index refers to %d files: %s", len(refs), index)
	}
	hashed := regexp.MustCompile(`\.[0-9a-f]{12}\.(js|css|svg)$`)
	for _, m := range refs {
		if !hashed.MatchString(m[1]) {
			t.Errorf("index refers to %s, which has no content hash", m[1])
			continue
		}
		rec := get(t, h, "/console/"+m[1], nil)
		if rec.Code != 200 || rec.Header().Get("Cache-Control") != "public, max-age=31536000, immutable" {
			t.Errorf("%s: %d %v", m[1], rec.Code, rec.Header())
		}
	}
}

// Modules import each other by hashed name: no plain relative specifier
// survives, and every one the browser will ask for is served.
func TestServe_ImportsRewritten(t *testing.T) {
	h := newHandler(t, Options{})
	spec := regexp.MustCompile(`(?:from|import)\s*\(?\s*"(\.\.?/[^"]+)"`)
	n := 0
	for name, f := range h.files {
		if !strings.HasSuffix(name, ".js") {
			continue
		}
		for _, m := range spec.FindAllStringSubmatch(string(f.body), -1) {
			n++
			if !regexp.MustCompile(`\.[0-9a-f]{12}\.js$`).MatchString(m[1]) {
				t.Errorf("%s imports %s, not a hashed name", name, m[1])
				continue
			}
			target := resolve(name, m[1])
			if h.files[target] == nil {
				t.Errorf("%s imports %s (%s), which is not served", name, m[1], target)
			}
		}
	}
	if n < 10 {
		t.Fatalf("only %d imports found: is the pattern right?", n)
	}
}

func resolve(from, spec string) string {
	dir := from[:strings.LastIndex(from, "/")+1]
	for strings.HasPrefix(spec, "../") {
		dir = dir[:strings.LastIndex(strings.TrimSuffix(dir, "/"), "/")+1]
		spec = spec[3:]
	}
	return dir + strings.TrimPrefix(spec, "./")
}

// A module's hash covers what it imports: changing a dependency changes
// the URL of the modules that import it, so no browser mixes versions.
func TestLink_HashCoversImports(t *testing.T) {
	link := func(dep string) map[string]string {
		h := &Handler{files: map[string]*file{}, hashed: map[string]string{}}
		l := &linker{src: map[string][]byte{
			"js/main.js":      []byte(`import {a} from "./dep.js";`),
			"js/dep.js":       []byte(dep),
			"js/pages/x.js":   []byte(`import {a} from "../dep.js"; const m = import("./y.js");`),
			"js/pages/y.js":   []byte(`export const y = 1;`),
			"js/unrelated.js": []byte(`export const u = 1;`),
		}, out: h, busy: map[string]bool{}}
		for _, n := range []string{"js/main.js", "js/pages/x.js", "js/unrelated.js"} {
			if _, err := l.link(n); err != nil {
				t.Fatal(err)
			}
		}
		return h.hashed
	}
	a, b := link(`export const a = 1;`), link(`export const a = 2;`)
	for _, n := range []string{"js/main.js", "js/dep.js", "js/pages/x.js"} {
		if a[n] == b[n] {
			t.Errorf("%s kept its URL %s when its import changed", n, a[n])
		}
	}
	if a["js/unrelated.js"] != b["js/unrelated.js"] || a["js/pages/y.js"] != b["js/pages/y.js"] {
		t.Error("modules that do not import the change changed URL")
	}
}

func TestLink_Refuses(t *testing.T) {
	for name, src := range map[string]map[string][]byte{
		"cycle":   {"js/a.js": []byte(`import "./b.js";`), "js/b.js": []byte(`import "./a.js";`)},
		"missing": {"js/a.js": []byte(`import {x} from "./nope.js";`)},
	} {
		t.Run(name, func(t *testing.T) {
			l := &linker{src: src, out: &Handler{files: map[string]*file{}, hashed: map[string]string{}}, busy: map[string]bool{}}
			if _, err := l.link("js/a.js"); err == nil {
				t.Fatal("linked")
			}
		})
	}
}

func TestServe_Headers(t *testing.T) {
	h := newHandler(t, Options{})
	css, _ := h.AssetPath("console.css")
	for _, tt := range []struct {
		name, method, path string
		header             map[string]string
		wantStatus         int
		wantEncoding       string
	}{
		{name: "index gzip", method: "GET", path: "/console/", header: map[string]string{"Accept-Encoding": "br, gzip"}, wantStatus: 200, wantEncoding: "gzip"},
		{name: "asset gzip", method: "GET", path: css, header: map[string]string{"Accept-Encoding": "gzip"}, wantStatus: 200, wantEncoding: "gzip"},
		{name: "gzip refused", method: "GET", path: css, header: map[string]string{"Accept-Encoding": "gzip;q=0, identity"}, wantStatus: 200},
		{name: "no encoding", method: "GET", path: css, wantStatus: 200},
		{name: "head", method: "HEAD", path: css, wantStatus: 200},
		{name: "unhashed name", method: "GET", path: "/console/console.css", wantStatus: 404},
		{name: "unknown", method: "GET", path: "/console/js/nope.123456789012.js", wantStatus: 404},
		{name: "post", method: "POST", path: "/console/", wantStatus: 405},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.path, nil)
			for k, v := range tt.header {
				req.Header.Set(k, v)
			}
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != tt.wantStatus {
				t.Fatalf("status %d, want %d", rec.Code, tt.wantStatus)
			}
			if got := rec.Header().Get("Content-Security-Policy"); got != ContentSecurityPolicy {
				t.Errorf("CSP %q", got)
			}
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" || rec.Header().Get("X-Frame-Options") != "DENY" {
				t.Errorf("headers %v", rec.Header())
			}
			if got := rec.Header().Get("Content-Encoding"); got != tt.wantEncoding {
				t.Errorf("Content-Encoding %q, want %q", got, tt.wantEncoding)
			}
			if tt.wantStatus == 200 && tt.method == "GET" {
				body := rec.Body.Bytes()
				if tt.wantEncoding == "gzip" {
					zr, err := gzip.NewReader(bytes.NewReader(body))
					if err != nil {
						t.Fatal(err)
					}
					if body, err = io.ReadAll(zr); err != nil {
						t.Fatal(err)
					}
				}
				if len(body) == 0 {
					t.Error("empty body")
				}
			}
			if tt.method == "HEAD" && rec.Body.Len() != 0 {
				t.Error("HEAD has a body")
			}
		})
	}
}

func TestServe_ConditionalGet(t *testing.T) {
	h := newHandler(t, Options{})
	first := get(t, h, "/console/", nil)
	etag := first.Header().Get("ETag")
	if etag == "" {
		t.Fatal("no ETag")
	}
	if rec := get(t, h, "/console/", map[string]string{"If-None-Match": etag}); rec.Code != 304 || rec.Body.Len() != 0 {
		t.Fatalf("revalidation: %d", rec.Code)
	}
	if rec := get(t, h, "/console/", map[string]string{"If-None-Match": `W/"other"`}); rec.Code != 200 {
		t.Fatalf("other etag: %d", rec.Code)
	}
}

func TestOptions_TaskURL(t *testing.T) {
	for _, tt := range []struct {
		opts Options
		want string
	}{
		{Options{TaskclusterRootURL: "https://tc.example.com/", LocalQueue: true}, `content="https://tc.example.com/tasks/{taskId}"`},
		{Options{LocalQueue: true}, `content="../api/queue/v1/task/{taskId}"`},
		{Options{}, `name="hookline-task-url" content=""`},
	} {
		if index := get(t, newHandler(t, tt.opts), "/console/", nil).Body.String(); !strings.Contains(index, tt.want) {
			t.Errorf("%+v: index lacks %s", tt.opts, tt.want)
		}
	}
}

func TestMount(t *testing.T) {
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "api "+r.URL.Path) })
	h := Mount(api, newHandler(t, Options{}))
	if rec := get(t, h, "/console", nil); rec.Code != 302 || rec.Header().Get("Location") != "console/index.html" {
		t.Fatalf("/console: %d %v", rec.Code, rec.Header())
	}
	if rec := get(t, h, "/console/", nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), "<title>") {
		t.Fatalf("/console/: %d", rec.Code)
	}
	for _, p := range []string{"/api/hooks/v1/ping", "/consoles", "/"} {
		if rec := get(t, h, p, nil); rec.Body.String() != "api "+p {
			t.Errorf("%s went to %q", p, rec.Body.String())
		}
	}
}

// The first load (the index and what it names: the stylesheet, the icon
// and the modules it preloads) stays under 100 KB gzipped. The modules
// that pages import lazily are counted apart.
func TestFirstLoadBudget(t *testing.T) {
	h := newHandler(t, Options{})
	index := get(t, h, "/console/", nil).Body.String()
	first := map[string]bool{"": true}
	for _, m := range regexp.MustCompile(`(?:href|src)="([^"#]+)"`).FindAllStringSubmatch(index, -1) {
		first[m[1]] = true
	}
	size := func(f *file) int {
		if gz := f.gzip(); gz != nil {
			return len(gz)
		}
		return len(f.body)
	}
	total, raw, lazy, lazyFiles := 0, 0, 0, 0
	for name, f := range h.files {
		switch {
		case name == "index.html":
			// the same file as ""
		case first[name]:
			total += size(f)
			raw += len(f.body)
		default:
			lazy += size(f)
			lazyFiles++
		}
	}
	t.Logf("first load: %d bytes gzipped (%d raw) in %d files; %d bytes gzipped in %d files load when a page needs them", total, raw, len(first), lazy, lazyFiles)
	if total > 100_000 {
		t.Fatalf("first load is %d bytes gzipped, over the 100 KB budget", total)
	}
}

// The index preloads main.js and everything it imports statically, so the
// first load has no waterfall, and nothing that only import() reaches.
func TestPreload_StaticGraphOnly(t *testing.T) {
	h := newHandler(t, Options{})
	index := get(t, h, "/console/", nil).Body.String()
	preloaded := map[string]bool{}
	for _, m := range regexp.MustCompile(`<link rel="modulepreload" href="([^"]+)">`).FindAllStringSubmatch(index, -1) {
		preloaded[m[1]] = true
	}
	main, _ := h.AssetPath("js/main.js")
	if !preloaded[strings.TrimPrefix(main, Path)] {
		t.Fatalf("main.js is not preloaded: %v", preloaded)
	}
	static := regexp.MustCompile(`(?:from|import)\s+"(\.\.?/[^"]+)"`)
	dynamic := regexp.MustCompile(`import\(\s*"(\.\.?/[^"]+)"\s*\)`)
	lazy := 0
	for name := range preloaded {
		body := string(h.files[name].body)
		for _, m := range static.FindAllStringSubmatch(body, -1) {
			if dep := resolve(name, m[1]); !preloaded[dep] {
				t.Errorf("%s imports %s statically, which is not preloaded", name, dep)
			}
		}
		for _, m := range dynamic.FindAllStringSubmatch(body, -1) {
			dep := resolve(name, m[1])
			if h.files[dep] == nil {
				t.Errorf("%s imports %s lazily, which is not served", name, dep)
			}
			if !preloaded[dep] {
				lazy++
			}
		}
	}
	if lazy == 0 {
		t.Error("no module is loaded lazily: the pages that import() theirs should not be preloaded")
	}
}

// Through the api function's API Gateway adapter, gzipped files come back
// base64-encoded with their headers, and /console redirects to the index.
func TestServe_ThroughLambda(t *testing.T) {
	h := newHandler(t, Options{TaskclusterRootURL: "https://tc.example.com"})
	api := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	fn := lambdahttp.Handler(Mount(api, h))
	css, _ := h.AssetPath("console.css")
	for _, tt := range []struct {
		path       string
		wantStatus int
		wantBase64 bool
	}{
		{path: "/console/index.html", wantStatus: 200, wantBase64: true},
		{path: css, wantStatus: 200, wantBase64: true},
		{path: "/console", wantStatus: 302},
	} {
		ev := events.APIGatewayV2HTTPRequest{RawPath: tt.path, Headers: map[string]string{"accept-encoding": "gzip, deflate, br", "host": "api.example.com"}}
		ev.RequestContext.HTTP.Method = "GET"
		res, err := fn(t.Context(), ev)
		if err != nil {
			t.Fatal(err)
		}
		if res.StatusCode != tt.wantStatus || res.IsBase64Encoded != tt.wantBase64 {
			t.Fatalf("%s: %d base64=%v %v", tt.path, res.StatusCode, res.IsBase64Encoded, res.Headers)
		}
		if tt.wantStatus != 200 {
			continue
		}
		if res.Headers["Content-Encoding"] != "gzip" || res.Headers["Content-Security-Policy"] != ContentSecurityPolicy {
			t.Errorf("%s: headers %v", tt.path, res.Headers)
		}
		raw, err := base64.StdEncoding.DecodeString(res.Body)
		if err != nil {
			t.Fatal(err)
		}
		zr, err := gzip.NewReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(zr)
		if tt.path == "/console/index.html" && !strings.Contains(string(body), "https://tc.example.com/tasks/{taskId}") {
			t.Errorf("index through Lambda: %s", body)
		}
	}
}

func TestRenderIndex(t *testing.T) {
	hashed := map[string]string{"a.css": "a.0123456789ab.css", "js/m.js": "js/m.0123456789ab.js"}
	out, err := renderIndex([]byte(`<link href="{{asset "a.css"}}">{{modulepreload}}<p>{{version}}</p><meta content="{{taskURL}}">`),
		hashed, []string{"js/m.0123456789ab.js"}, Options{Version: `<b>"v"</b>`, TaskclusterRootURL: "https://tc.example.com/?a=1&b=2"})
	if err != nil {
		t.Fatal(err)
	}
	want := `<link href="a.0123456789ab.css"><link rel="modulepreload" href="js/m.0123456789ab.js"><p>&lt;b&gt;&#34;v&#34;&lt;/b&gt;</p>` +
		`<meta content="https://tc.example.com/?a=1&amp;b=2/tasks/{taskId}">`
	if string(out) != want {
		t.Fatalf("got  %s\nwant %s", out, want)
	}
	for _, bad := range []string{`{{asset "nope.css"}}`, `{{.Version}}`, `{{ version }}`} {
		if _, err := renderIndex([]byte(bad), hashed, nil, Options{}); err == nil {
			t.Errorf("%s: rendered", bad)
		}
	}
}

// BenchmarkNew is the console's share of the api function's cold start:
// reading, linking and hashing the embedded files.
func BenchmarkNew(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := New(Options{Version: "bench"}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkServeModule serves one gzipped module, as a warm function does.
func BenchmarkServeModule(b *testing.B) {
	h, err := New(Options{})
	if err != nil {
		b.Fatal(err)
	}
	path, _ := h.AssetPath("js/main.js")
	req := httptest.NewRequest("GET", path, nil)
	req.Header.Set("Accept-Encoding", "gzip")
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatal(rec.Code)
		}
	}
}

func TestImportSpecs(t *testing.T) {
	for _, tt := range []struct {
		js   string
		want []string // dynamic imports with a "lazy:" prefix
	}{
		{`import {a} from "./a.js";`, []string{"./a.js"}},
		{`import './side.js'; export * from "../b.js";`, []string{"./side.js", "../b.js"}},
		{`const m = await import( "./lazy.js" );`, []string{"lazy:./lazy.js"}},
		{"import {x}\n  from\n  \"./multi.js\";", []string{"./multi.js"}},
		{`import {x} from "./x.js"; const y = import("../y.js");`, []string{"./x.js", "lazy:../y.js"}},
		{`const s = "./not-an-import.js"; reimport("./nor-this.js"); x.from("./nor.js");`, nil},
		{`import {a} from "lib"; import b from "/abs.js";`, nil},
	} {
		var got []string
		for _, sp := range importSpecs([]byte(tt.js)) {
			spec := tt.js[sp.start:sp.end]
			if sp.dynamic {
				spec = "lazy:" + spec
			}
			got = append(got, spec)
		}
		if strings.Join(got, " ") != strings.Join(tt.want, " ") {
			t.Errorf("%s: got %q, want %q", tt.js, got, tt.want)
		}
	}
}
