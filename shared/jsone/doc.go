// Package jsone implements JSON-e, the JSON templating language that
// Taskcluster hooks use to build task definitions, as defined by the JSON-e
// README and its specification suite (version 4.8.4). The package passes
// every case of that suite, error messages included.
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
// interpolated strings. Every expression it can find statically ($eval, $if,
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
// outermost, then the context, then frames added by $let (a map) and by
// $map, $reduce, $find and $sort (a few named slots reused across
// iterations, so a loop does not allocate a frame per item).
//
// Strings a render builds (interpolations, concatenations, timestamps) are
// cut from a per-render strings.Builder used as an arena, so many small
// results share one allocation. The final walk that rejects uncalled
// functions in the result runs only when a function value could have
// entered a value or a $reduce ran.
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
// Deviations from the JavaScript implementation, none of them covered by the
// specification: arithmetic that overflows to infinity is an error rather
// than Infinity; an index below -len is "index out of bounds" rather than
// clamped; number() rejects strings that are not decimal numbers; the
// entries of a $map over an object are visited in key order.
package jsone
