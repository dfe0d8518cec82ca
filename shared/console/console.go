package console

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html"
	"io/fs"
	"maps"
	"mime"
	"net/http"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
)

//go:embed assets
var embedded embed.FS

// Path is where the console is served.
const Path = "/console/"

// ContentSecurityPolicy is sent with every console answer. Scripts, styles,
// images and API calls come from the console's own origin only; nothing
// inline, no plugins, no framing, no <base> tricks, no form posts (forms
// are handled by script), and Trusted Types are required so that no HTML
// string ever reaches the DOM. Task links are plain navigations, which
// connect-src does not govern.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'; " +
	"require-trusted-types-for 'script'; trusted-types 'none'"

// hashLen is how many hex digits of a file's SHA-256 go into its URL.
const hashLen = 12

// Options configure the console.
type Options struct {
	// TaskclusterRootURL is the deployment whose queue creates the tasks;
	// task links then open <root>/tasks/<taskId> in its web UI.
	TaskclusterRootURL string
	// LocalQueue says tasks are kept by the local queue of `hookline
	// serve` at /api/queue/v1/; task links then open the task's JSON
	// there. Ignored when TaskclusterRootURL is set.
	LocalQueue bool
	// Version is shown at the foot of every page.
	Version string
}

// Handler serves the console's files below Path. It is safe for
// concurrent use.
type Handler struct {
	// files by their URL below Path: hashed names, plus "" and
	// "index.html" for the index page.
	files map[string]*file
	// hashed maps a source name (js/api.js) to its URL below Path.
	hashed map[string]string
}

// file is one answer: a body, its content type and its caching.
type file struct {
	body         []byte
	contentType  string
	etag         string
	cacheControl string

	gzipOnce sync.Once
	gzipped  []byte // nil when gzip would not make it smaller
}

// New reads the embedded assets, hashes and links them, and renders the
// index page for opts.
func New(opts Options) (*Handler, error) {
	src := map[string][]byte{}
	err := fs.WalkDir(embedded, "assets", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := embedded.ReadFile(name)
		if err != nil {
			return err
		}
		src[strings.TrimPrefix(name, "assets/")] = data
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("console: read assets: %w", err)
	}
	h := &Handler{files: map[string]*file{}, hashed: map[string]string{}}
	l := &linker{src: src, out: h, busy: map[string]bool{}, static: map[string][]string{}}
	for _, name := range slices.Sorted(maps.Keys(src)) {
		if name == "index.html" {
			continue
		}
		if _, err := l.link(name); err != nil {
			return nil, err
		}
	}
	index, err := renderIndex(src["index.html"], h.hashed, l.preload(entryModule), opts)
	if err != nil {
		return nil, err
	}
	f := &file{body: index, contentType: "text/html; charset=utf-8", etag: etagOf(index), cacheControl: "no-cache"}
	h.files[""], h.files["index.html"] = f, f
	return h, nil
}

// entryModule is the module the index loads; the modules it imports
// statically are the first load, and the index preloads them.
const entryModule = "js/main.js"

// importSpec is where a module names another: the specifier's offsets,
// quotes excluded, and whether it is a dynamic import("..."), which loads
// the module only when the code runs.
type importSpec struct {
	start, end int
	dynamic    bool
}

// importSpecs finds the relative module specifiers of static imports,
// re-exports and dynamic imports (from "./x.js", import "./x.js",
// import("../x.js")). It is a plain scan: a regular expression took 20 ms
// of the api function's cold start on these files.
func importSpecs(js []byte) []importSpec {
	var out []importSpec
	for i := 0; i < len(js); i++ {
		q := js[i]
		if q != '"' && q != '\'' {
			continue
		}
		rest := js[i+1:]
		if !bytes.HasPrefix(rest, []byte("./")) && !bytes.HasPrefix(rest, []byte("../")) {
			continue
		}
		n := bytes.IndexByte(rest, q)
		if n < 0 {
			break
		}
		if bytes.ContainsAny(rest[:n], " \t\r\n") || !afterImportKeyword(js[:i]) {
			continue
		}
		dynamic := bytes.HasSuffix(bytes.TrimRight(js[:i], " \t\r\n"), []byte("("))
		out = append(out, importSpec{start: i + 1, end: i + 1 + n, dynamic: dynamic})
		i += n + 1
	}
	return out
}

// afterImportKeyword reports whether before ends with "from", "import" or
// "import(" as a word, with optional spaces.
func afterImportKeyword(before []byte) bool {
	b := bytes.TrimRight(before, " \t\r\n")
	if p, ok := bytes.CutSuffix(b, []byte("(")); ok {
		b = bytes.TrimRight(p, " \t\r\n")
		if !bytes.HasSuffix(b, []byte("import")) {
			return false
		}
	}
	for _, kw := range []string{"from", "import"} {
		if w, ok := bytes.CutSuffix(b, []byte(kw)); ok {
			if len(w) == 0 {
				return true
			}
			c := w[len(w)-1]
			return !(c == '_' || c == '$' || c == '.' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9')
		}
	}
	return false
}

// linker gives every asset its hashed URL, rewriting module imports first
// so that a module's hash covers the hashes of what it imports.
type linker struct {
	src  map[string][]byte
	out  *Handler
	busy map[string]bool // modules being linked, to refuse import cycles
	// static lists the modules each module imports statically, by source
	// name.
	static map[string][]string
}

// preload lists the hashed URLs of entry and every module it needs before
// it runs (its static imports, transitively), sorted: what the index
// preloads. Modules reached only through import() load when a page asks
// for them.
func (l *linker) preload(entry string) []string {
	seen := map[string]bool{}
	var walk func(string)
	walk = func(name string) {
		if seen[name] {
			return
		}
		seen[name] = true
		for _, dep := range l.static[name] {
			walk(dep)
		}
	}
	if _, ok := l.out.hashed[entry]; ok {
		walk(entry)
	}
	var out []string
	for name := range seen {
		out = append(out, l.out.hashed[name])
	}
	slices.Sort(out)
	return out
}

func (l *linker) link(name string) (string, error) {
	if u, ok := l.out.hashed[name]; ok {
		return u, nil
	}
	data, ok := l.src[name]
	if !ok {
		return "", fmt.Errorf("console: no asset %s", name)
	}
	if l.busy[name] {
		return "", fmt.Errorf("console: import cycle through %s", name)
	}
	l.busy[name] = true
	defer delete(l.busy, name)
	if path.Ext(name) == ".js" {
		var out []byte
		last := 0
		for _, sp := range importSpecs(data) {
			spec := string(data[sp.start:sp.end])
			dep := path.Join(path.Dir(name), spec)
			u, err := l.link(dep)
			if err != nil {
				return "", fmt.Errorf("console: %s imports %s: %w", name, spec, err)
			}
			if !sp.dynamic && l.static != nil {
				l.static[name] = append(l.static[name], dep)
			}
			out = append(out, data[last:sp.start]...)
			out = append(out, spec[:strings.LastIndex(spec, "/")+1]+path.Base(u)...)
			last = sp.end
		}
		data = append(out, data[last:]...)
	}
	sum := sha256.Sum256(data)
	hash := hex.EncodeToString(sum[:])[:hashLen]
	ext := path.Ext(name)
	u := strings.TrimSuffix(name, ext) + "." + hash + ext
	l.out.hashed[name] = u
	l.out.files[u] = &file{
		body:         data,
		contentType:  contentType(ext),
		etag:         `W/"` + hash + `"`,
		cacheControl: "public, max-age=31536000, immutable",
	}
	return u, nil
}

func contentType(ext string) string {
	switch ext {
	case ".js":
		return "text/javascript; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	case ".svg":
		return "image/svg+xml"
	case ".json":
		return "application/json; charset=utf-8"
	}
	if t := mime.TypeByExtension(ext); t != "" {
		return t
	}
	return "application/octet-stream"
}

func etagOf(data []byte) string {
	sum := sha256.Sum256(data)
	return `W/"` + hex.EncodeToString(sum[:])[:hashLen] + `"`
}

// placeholder is what index.html may ask for: {{asset "name"}} (the
// hashed URL of an asset), {{modulepreload}} (a preload link for every
// module of the first load, so that the browser fetches them in parallel
// instead of one import level at a time), {{taskURL}} (a task's link with {taskId} to
// replace; empty when tasks cannot be shown) and {{version}}. A few
// placeholders need no template engine, and html/template would add some
// 400 KB to the api function.
var placeholder = regexp.MustCompile(`\{\{(?:asset "([^"]+)"|(modulepreload|taskURL|version))\}\}`)

func renderIndex(src []byte, hashed map[string]string, modules []string, opts Options) ([]byte, error) {
	if src == nil {
		return nil, fmt.Errorf("console: no index.html")
	}
	taskURL := ""
	switch {
	case opts.TaskclusterRootURL != "":
		taskURL = strings.TrimRight(opts.TaskclusterRootURL, "/") + "/tasks/{taskId}"
	case opts.LocalQueue:
		taskURL = "../api/queue/v1/task/{taskId}"
	}
	var failed error
	out := placeholder.ReplaceAllFunc(src, func(m []byte) []byte {
		parts := placeholder.FindSubmatch(m)
		switch string(parts[2]) {
		case "modulepreload":
			var b strings.Builder
			for i, u := range modules {
				if i > 0 {
					b.WriteString("\n")
				}
				b.WriteString(`<link rel="modulepreload" href="` + html.EscapeString(u) + `">`)
			}
			return []byte(b.String())
		case "taskURL":
			return []byte(html.EscapeString(taskURL))
		case "version":
			return []byte(html.EscapeString(opts.Version))
		}
		u, ok := hashed[string(parts[1])]
		if !ok && failed == nil {
			failed = fmt.Errorf("console: index.html names a missing asset %s", parts[1])
		}
		return []byte(html.EscapeString(u))
	})
	if failed != nil {
		return nil, failed
	}
	if i := bytes.Index(out, []byte("{{")); i >= 0 {
		return nil, fmt.Errorf("console: index.html has an unknown placeholder at %q", out[i:min(len(out), i+40)])
	}
	return out, nil
}

// AssetPath returns the URL path of the asset with source name name
// (js/hawk.js), and whether there is one.
func (h *Handler) AssetPath(name string) (string, bool) {
	u, ok := h.hashed[name]
	return Path + u, ok
}

// ServeHTTP serves the index page at Path and Path+"index.html", and every
// asset at its hashed URL.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hd := w.Header()
	hd.Set("Content-Security-Policy", ContentSecurityPolicy)
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "no-referrer")
	hd.Set("X-Frame-Options", "DENY")
	hd.Set("Cross-Origin-Opener-Policy", "same-origin")
	hd.Set("Cross-Origin-Resource-Policy", "same-origin")
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		hd.Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	name, ok := strings.CutPrefix(r.URL.Path, Path)
	f := h.files[name]
	if !ok || f == nil {
		hd.Set("Cache-Control", "no-cache")
		http.Error(w, "not found: the console's files have hashed names; reload "+Path, http.StatusNotFound)
		return
	}
	hd.Set("Content-Type", f.contentType)
	hd.Set("Cache-Control", f.cacheControl)
	hd.Set("Vary", "Accept-Encoding")
	hd.Set("ETag", f.etag)
	if matchETag(r.Header.Get("If-None-Match"), f.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := f.body
	if acceptsGzip(r.Header.Get("Accept-Encoding")) {
		if gz := f.gzip(); gz != nil {
			body = gz
			hd.Set("Content-Encoding", "gzip")
		}
	}
	hd.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodGet {
		w.Write(body)
	}
}

func (f *file) gzip() []byte {
	f.gzipOnce.Do(func() {
		var buf bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		zw.Write(f.body)
		zw.Close()
		if buf.Len() < len(f.body) {
			f.gzipped = buf.Bytes()
		}
	})
	return f.gzipped
}

// acceptsGzip reports whether an Accept-Encoding header allows gzip: named
// (or *) without q=0.
func acceptsGzip(header string) bool {
	for part := range strings.SplitSeq(header, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		coding = strings.ToLower(strings.TrimSpace(coding))
		if coding != "gzip" && coding != "*" {
			continue
		}
		q := 1.0
		for p := range strings.SplitSeq(params, ";") {
			if v, ok := strings.CutPrefix(strings.TrimSpace(p), "q="); ok {
				if f, err := strconv.ParseFloat(v, 64); err == nil {
					q = f
				}
			}
		}
		return q > 0
	}
	return false
}

// matchETag reports whether an If-None-Match header names etag (weak
// comparison, as for GET).
func matchETag(header, etag string) bool {
	if header == "" {
		return false
	}
	want := strings.TrimPrefix(etag, "W/")
	for tag := range strings.SplitSeq(header, ",") {
		tag = strings.TrimSpace(tag)
		if tag == "*" || strings.TrimPrefix(tag, "W/") == want {
			return true
		}
	}
	return false
}

// Mount serves the console at Path in front of next, which gets every
// other request. /console itself redirects to the index page; the
// redirect names index.html because an API Gateway route
// /console/{proxy+} needs a non-empty segment after the slash.
func Mount(next http.Handler, c *Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case strings.HasPrefix(r.URL.Path, Path):
			c.ServeHTTP(w, r)
		case r.URL.Path == strings.TrimSuffix(Path, "/"):
			w.Header().Set("Location", "console/index.html")
			w.WriteHeader(http.StatusFound)
		default:
			next.ServeHTTP(w, r)
		}
	})
}
