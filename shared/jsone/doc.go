// Package jsone implements JSON-e, the JSON templating language that
// Taskcluster hooks use to build task definitions, as defined by the JSON-e
// README and its specification suite (version 4.8.4). The package passes
// every case of that suite, error messages included, and a corpus of our own
// checked against the reference implementation (see Conformance).
//
// # Use
//
// Compile a template once and render it many times:
//
//	t, err := jsone.Compile(tmpl) // tmpl from json.Unmarshal into an any
//	...
//	task, err := t.Render(map[string]any{"payload": p, "now": "..."}, jsone.Options{Now: clock})
//
// Render is the one-shot form, Evaluate evaluates a bare expression (a hook
// filter, say) and ParseExpression only checks an expression's syntax.
//
// # Design
//
// Compile walks the template once and turns it into a tree of nodes: one
// node type per operator, plus plain objects, arrays, constants and
// interpolated strings; a part of the template with no operator and no
// interpolation becomes one node that copies it. Every expression it can
// find statically ($eval, $if,
// $find's each, $sort's by, $match and $switch conditions, and every ${...}
// in string values and object keys) is parsed into an expression tree at
// that point, so rendering a compiled template never parses anything. A
// Template is immutable and may be rendered from many goroutines at once;
// each render keeps its state (clock, limits, budget) in its own renderer.
//
// JSON-e reports template problems lazily: a syntax error in a branch that
// is never taken is not an error. Compile therefore keeps each problem it
// finds inside the node or expression where JSON-e would raise it, so
// Render fails at the same point and with the same message as the reference
// implementation. Template.Validate reports all such problems eagerly, for
// callers that want to reject a template when it is saved.
//
// Scopes are a chain of frames: built-in functions and the variable now are
// outermost, then the context, then frames added by $let and by $map,
// $reduce, $find and $sort. A frame is a map (the context, a $let whose keys
// are computed) or a few named slots (a $let with its keys written out, the
// loops, which reuse theirs across iterations). Compile knows the frames a
// render will build around each expression, so it resolves each variable to
// a slot a fixed number of frames up, or to the first map frame, where the
// search by name starts.
//
// Renders allocate little (the bench pair: 90 allocations, most of them the
// result's own maps): strings a render builds are cut from a per-render
// arena of byte chunks; strings, arrays and numbers are put into interfaces
// from per-render slabs rather than one allocation each (box.go); frames
// come from a slab; a $merge of objects written in the template builds one
// map. A result may therefore keep a chunk of its render alive. The final
// walk that rejects uncalled functions in the result runs only when a
// function value could have entered a value or a $reduce ran.
//
// Compile walks the template once, bottom up: each object's entries are
// read once onto a scratch stack and sorted there, a part that renders to
// itself gets one node for the whole part, the parser resolves each
// variable as it makes it, and template nodes and expression nodes come
// from per-kind slabs (the bench pair: 92 allocations, down from 194). The
// same walk checks that the template already has the canonical value types
// (see Values), checking on the side any part it does not compile; only a
// template that does not is converted and compiled again. With a lexer
// driven by a byte class table and operator properties looked up in the
// entries already read, the bench pair's compile runs 207k instructions,
// down from 252k (callgrind; see the commits for the command).
//
// # Values
//
// Templates, contexts and results use the shapes encoding/json produces
// when decoding into an any: nil, bool, float64, string, []any and
// map[string]any. Other integer and float types, json.Number,
// json.RawMessage (decoded), []byte (base64, as encoding/json writes it),
// other slices and string-keyed maps are accepted in templates and contexts
// and converted (a canonical context is used as is, without a copy). Numbers print the
// way JavaScript prints them, so 3 interpolates as "3" and 0.5 as "0.5".
// Results may share memory with the context, as in JSON-e; the renderer
// never modifies either. A Func in the context can be called from
// expressions like a built-in.
//
// # Time
//
// $fromNow, fromNow() and the variable now need the current time. As in
// JSON-e, a context key "now" (an ISO 8601 string) is used when present.
// Otherwise Options.Now is called once per render (nil means time.Now, the
// only place the package reads the system clock).
//
// # Errors
//
// Every error is an *Error with one of JSON-e's kinds: TemplateError (a
// malformed template or an operator given the wrong kind of value),
// InterpreterError (an expression failed while evaluating), SyntaxError (an
// expression does not parse) and BuiltinError (bad arguments to a built-in
// function). Error() prints them as JSON-e does, for example
// "InterpreterError at template.a: unknown context value a", where the
// path locates the failing plain object or array item.
//
// # Limits
//
// Rendering is bounded so that no template or context can exhaust memory,
// recurse without bound or run forever: templates, contexts and values are
// limited in nesting depth, each string produced is limited in size,
// range() is limited in length, and every render has a work budget charged
// for each operation and for the data it produces (so that, for example, a
// $reduce that doubles a string on every step stops early). Options sets
// the limits; errors caused by them wrap ErrLimit. Expressions are limited
// to a fixed nesting depth when parsed.
//
// # Conformance and deviations
//
// Two suites check the package against the reference implementation, npm
// json-e 4.8.4. testdata/corpus.json holds our own cases (every operator,
// every built-in, delete markers, the error kinds and their locations,
// operator and built-in matrices) with the reference's answers, generated
// by testdata/gen (make testdata) and committed, so the tests need no Node.
// The official specification suite runs as well when HOOKLINE_JSONE_SPEC
// names its specification.yml; every one of its 1175 cases passes.
//
// Where the reference's answer is a JavaScript accident (a crash, NaN,
// Infinity, a stringified function) or a behaviour we chose against, we
// answer differently on purpose. The corpus keeps both answers for each such
// case, named here:
//
//   - Where the reference crashes with a JavaScript TypeError (an expression
//     that ends early or lacks an operand, a by() that is not a string, extra
//     arguments to split), we report the JSON-e error it stands for:
//     interpolation/empty; $eval/syntax error; $eval/empty expression;
//     $if/syntax error; $find/syntax error in each; $match/syntax error in condition;
//     $sort/by not a string; $sort/by syntax error; syntax/1 +; syntax/[1, 2;
//     syntax/a[; syntax/a[1; syntax/max(1,); syntax/[1,]; syntax/!; syntax/-;
//     syntax/in; syntax/1 in; syntax/in interpolation; syntax/in $if;
//     syntax/in nested path; path/syntax error; call/split("a", "b", "c").
//   - A built-in given too many arguments is a BuiltinError, not a TypeError:
//     call/sqrt with two arguments; call/lowercase with two arguments.
//   - Time offsets and references that do not parse are JSON-e errors, not
//     plain JavaScript errors: $fromNow/invalid offset; $fromNow/units out of order;
//     builtin/fromNow(s); builtin/fromNow(up); builtin/fromNow(ws);
//     builtin/fromNow(uni); call/fromNow bad reference.
//   - Results JSON cannot hold are errors: arithmetic that overflows
//     (expr/large power), sqrt of a negative number (builtin/sqrt(neg)),
//     number() of a string that is not a decimal number, where JavaScript
//     gives NaN or, for "", 0 (builtin/number(s); builtin/number(up);
//     builtin/number(ws); builtin/number(uni); builtin/number(es)), and
//     range() with step 0 (call/range step zero).
//   - Interpolating a function is an error rather than the function's
//     JavaScript source (interpolation/function fails).
//   - join() takes strings and numbers only (call/join with nulls;
//     call/join with nested arrays).
//   - Nothing stays nothing: $json of a template that renders to nothing is
//     nothing, not "{}" ($json/of nothing), and a $match case whose body
//     renders to nothing adds nothing, not {} ($match/deleted body).
//   - $else beside $if is an error; the reference's unanchored property
//     check lets it pass and ignores it ($if/$else).
//   - An index below -length is out of bounds rather than clamped
//     (expr/index array negative out of bounds), and an object cannot be
//     sliced (expr/slice object by string).
//   - Powers with a fractional exponent come from Go's math.Pow and may
//     differ in the last digit (matrix/flt ** flt).
//
// The entries of a $map over an object are visited in key order, and the
// keys of a template object are rendered in key order (JavaScript uses
// insertion order, which a Go map does not keep); the corpus is generated
// with sorted keys, so it agrees.
package jsone
