package jsone

import (
	"errors"
	"time"
)

// Default limits, used when the matching Options field is zero or negative.
const (
	// DefaultMaxDepth bounds the nesting of templates, contexts and values.
	// Compile always uses this value for templates.
	DefaultMaxDepth = 512
	// DefaultMaxStringBytes bounds any single string a render produces.
	DefaultMaxStringBytes = 4 << 20
	// DefaultMaxRangeLength bounds the length of a range() result.
	DefaultMaxRangeLength = 100_000
	// DefaultMaxWork is the work budget of one render: roughly one unit per
	// operation or per four bytes produced.
	DefaultMaxWork = 10_000_000
)

// Options tune one render. The zero value is ready to use.
type Options struct {
	// Now gives the time used for $fromNow, fromNow() and the variable now
	// when the context does not define now itself (JSON-e's convention is a
	// context key "now" holding an ISO 8601 string, which takes precedence).
	// It is read at most once per render. Nil means time.Now.
	Now func() time.Time
	// MaxDepth bounds the nesting of the context and of values built while
	// rendering. Zero means DefaultMaxDepth.
	MaxDepth int
	// MaxStringBytes bounds each string produced. Zero means
	// DefaultMaxStringBytes.
	MaxStringBytes int
	// MaxRangeLength bounds the length of a range() result. Zero means
	// DefaultMaxRangeLength.
	MaxRangeLength int
	// MaxWork is the work budget of one render. Zero means DefaultMaxWork.
	MaxWork int
}

// Template is a compiled JSON-e template: every expression and string
// interpolation it contains is parsed once, by Compile. A Template is
// immutable and safe for concurrent use by multiple goroutines.
type Template struct {
	root   node
	static []error
	funcs  bool // the template itself holds a Func value
}

// Compile prepares tmpl, a JSON value as produced by encoding/json (ints,
// json.Number and other slices and string-keyed maps are converted), for
// repeated rendering.
//
// Compile fails only when tmpl is not a JSON value or nests deeper than
// DefaultMaxDepth. Problems in the template itself (syntax errors, unknown
// operator properties and the like) are kept and reported by Render exactly
// where and when JSON-e reports them, so that a branch that is never taken
// never fails; Validate lists them all up front.
func Compile(tmpl any) (*Template, error) {
	// Templates are nearly always canonical already, so the compile walk
	// checks that as it goes (see compiler.notCanonical) rather than
	// normalize walking the template first; only when the template is not
	// canonical does Compile normalize it and compile the copy.
	if t, canonical := compileWalk(tmpl); canonical {
		return t, nil
	}
	v, funcs, err := normalize(tmpl, DefaultMaxDepth)
	if err != nil {
		return nil, err
	}
	t, _ := compileWalk(v)
	t.funcs = funcs
	return t, nil
}

// compileWalk compiles tmpl and reports whether tmpl was canonical; when it
// was not, the template must not be used.
func compileWalk(tmpl any) (*Template, bool) {
	c := &compiler{
		frames:   []staticFrame{{dynamic: true}}, // the context
		maxDepth: DefaultMaxDepth,
		scratch:  scratchPool.Get().(*scratch),
	}
	c.nodes.c = c
	root := c.compile(tmpl)
	c.done()
	return &Template{root: root, static: c.static, funcs: c.hasFunc}, !c.notCanonical
}

// Validate reports every problem Compile found in the template, whether or
// not a render would reach it: it returns nil for a clean template, else the
// errors (each an *Error whose Path locates it, operator keys included)
// joined with errors.Join.
func (t *Template) Validate() error {
	return errors.Join(t.static...)
}

// Render renders the template with the given context. Context keys must
// be identifiers ([a-zA-Z_][a-zA-Z0-9_]*). The result is built from nil,
// bool, float64, string, []any and map[string]any; it is nil (with a nil
// error) when the whole template renders to nothing, such as an $if with no
// matching branch. Parts of the result may share memory with the context,
// as in JSON-e; neither is ever modified by the renderer. Errors are *Error.
func (t *Template) Render(context map[string]any, opts Options) (any, error) {
	return t.render(context, opts, false)
}

// render is Render; checkLookups makes every variable the compiler
// resolved check itself against the search by name (tests set it).
func (t *Template) render(context map[string]any, opts Options, checkLookups bool) (any, error) {
	if t == nil || t.root == nil {
		return nil, templateErr("render of a nil template")
	}
	r := newRenderer(opts)
	r.checkLookups = checkLookups
	r.funcs = t.funcs
	sc, err := r.rootScope(context)
	if err != nil {
		return nil, err
	}
	v, err := t.root.render(r, sc)
	if err != nil {
		return nil, err
	}
	if isDeleted(v) {
		return nil, nil
	}
	if err := r.checkResult(v); err != nil {
		return nil, err
	}
	return v, nil
}

// Render compiles tmpl and renders it once; see Compile and
// (*Template).Render.
func Render(tmpl any, context map[string]any, opts Options) (any, error) {
	t, err := Compile(tmpl)
	if err != nil {
		return nil, err
	}
	return t.Render(context, opts)
}

// Evaluate evaluates a bare JSON-e expression, such as a hook's filter,
// against a context. The result must not be a function.
func Evaluate(expression string, context map[string]any, opts Options) (any, error) {
	x, err := CompileExpression(expression)
	if err != nil {
		return nil, err
	}
	return x.Evaluate(context, opts)
}

// Expression is a parsed JSON-e expression, such as a hook's filter: parse
// once, evaluate many times. It is safe for concurrent use.
type Expression struct {
	source string
	e      expr
}

// CompileExpression parses a JSON-e expression. It returns nil and a
// SyntaxError when the expression does not parse.
func CompileExpression(expression string) (*Expression, error) {
	e, err := parseExpression(expression, nil)
	if err != nil {
		return nil, err
	}
	return &Expression{source: expression, e: e}, nil
}

// String returns the expression's source text.
func (x *Expression) String() string { return x.source }

// Evaluate evaluates the expression against a context, as the package-level
// Evaluate does.
func (x *Expression) Evaluate(context map[string]any, opts Options) (any, error) {
	r := newRenderer(opts)
	sc, err := r.rootScope(context)
	if err != nil {
		return nil, err
	}
	v, err := x.e.eval(r, sc)
	if err != nil {
		return nil, err
	}
	if err := r.checkResult(v); err != nil {
		return nil, err
	}
	return v, nil
}

// Truthy reports whether v counts as true in JSON-e (as `$if` and `&&`
// decide): false, null, 0, "", [] and {} are false, all else true.
func Truthy(v any) bool { return truthy(v) }

// ParseExpression checks the syntax of a JSON-e expression without
// evaluating it. It returns nil or a SyntaxError.
func ParseExpression(expression string) error {
	_, err := parseExpression(expression, nil)
	return err
}

// rootScope validates the context and makes it the outermost scope, below
// which only the built-ins sit.
func (r *renderer) rootScope(context map[string]any) (*scope, error) {
	for k := range context {
		if !isIdentifier(k) {
			return nil, templateErr("top level keys of context must follow /[a-zA-Z_][a-zA-Z0-9_]*/")
		}
	}
	v, funcs, err := normalize(context, r.maxDepth)
	if err != nil {
		return nil, err
	}
	r.funcs = r.funcs || funcs
	m, _ := v.(map[string]any)
	r.root = scope{vars: m}
	return &r.root, nil
}

// checkResult fails when a result contains a function or nests deeper than
// the limit. Function values can only come from the template, the context,
// a Func's result or a built-in named outside a call, and the renderer notes
// each of those in r.funcs. Only $reduce feeds a value back into itself, so
// without it nesting is bounded by the template, context and expression
// depths. Most renders therefore skip the walk over the result.
func (r *renderer) checkResult(v any) error {
	if !r.funcs && !r.reduced {
		return nil
	}
	return checkNoFunctions(v, 0, r.maxDepth)
}
