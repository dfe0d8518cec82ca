package jsone

import (
	"errors"
)

// Error kinds, as JSON-e names them. Every error returned by this package is
// an *Error whose Kind is one of these.
const (
	// KindTemplate reports a malformed template or a value of the wrong
	// shape given to an operator.
	KindTemplate = "TemplateError"
	// KindInterpreter reports a failure while evaluating an expression.
	KindInterpreter = "InterpreterError"
	// KindSyntax reports an expression that does not parse.
	KindSyntax = "SyntaxError"
	// KindBuiltin reports bad arguments given to a built-in function.
	KindBuiltin = "BuiltinError"
)

// ErrLimit is wrapped by every error caused by exceeding one of the safety
// limits in Options (depth, string size, range length, work budget).
var ErrLimit = errors.New("jsone: limit exceeded")

// Error is a JSON-e error. Its Error method prints it the way the JSON-e
// specification does: "<Kind>: <Message>", or
// "<Kind> at template<Path>: <Message>" when the error was raised inside a
// plain object or array of the template.
type Error struct {
	// Kind is one of KindTemplate, KindInterpreter, KindSyntax, KindBuiltin.
	Kind string
	// Message is the error text without the kind and location.
	Message string
	// Path locates the error in the template, in JSON-e's notation:
	// ".key" for simple keys, `["key"]` for others and "[i]" for array
	// items. It is empty when the error was raised at the top level.
	Path string
	// Err is the underlying cause, if any: ErrLimit for limit errors, or the
	// error returned by a Func in the context.
	Err error
}

// Error formats the error like JSON-e does.
func (e *Error) Error() string {
	if e.Path != "" {
		return e.Kind + " at template" + e.Path + ": " + e.Message
	}
	return e.Kind + ": " + e.Message
}

// Unwrap returns the underlying cause, so errors.Is(err, ErrLimit) works.
func (e *Error) Unwrap() error { return e.Err }

func templateErr(msg string) *Error    { return &Error{Kind: KindTemplate, Message: msg} }
func interpreterErr(msg string) *Error { return &Error{Kind: KindInterpreter, Message: msg} }
func syntaxErr(msg string) *Error      { return &Error{Kind: KindSyntax, Message: msg} }

func builtinErr(name string) *Error {
	return &Error{Kind: KindBuiltin, Message: "invalid arguments to builtin: " + name}
}

func limitErr(msg string) *Error {
	return &Error{Kind: KindTemplate, Message: msg, Err: ErrLimit}
}

// asError returns err as an *Error; the parser only produces *Error, so the
// fallback exists for safety alone.
func asError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: KindSyntax, Message: err.Error(), Err: err}
}

// clone returns a copy of a stored error, so that adding a path to the copy
// never changes a compiled template shared between goroutines.
func (e *Error) clone() *Error {
	c := *e
	return &c
}

// withSegment prepends one path segment to err when it is an *Error.
func withSegment(err error, seg string) error {
	if e, ok := err.(*Error); ok {
		e.Path = seg + e.Path
	}
	return err
}

// keySegment renders an object key as a path segment: ".key" when the key
// is a plain word, otherwise a JSON-quoted index.
func keySegment(k string) string {
	if isSimpleKey(k) {
		return "." + k
	}
	return "[" + string(appendJSONString(nil, k)) + "]"
}

// isSimpleKey reports whether k matches ^[a-zA-Z][a-zA-Z0-9]*$.
func isSimpleKey(k string) bool {
	if k == "" || !isLetter(k[0]) {
		return false
	}
	for i := 1; i < len(k); i++ {
		if !isLetter(k[i]) && !isDigit(k[i]) {
			return false
		}
	}
	return true
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
func isDigit(c byte) bool  { return c >= '0' && c <= '9' }

// isIdentifier reports whether s matches ^[a-zA-Z_][a-zA-Z0-9_]*$, the rule
// for context keys, $let keys and variable names.
func isIdentifier(s string) bool {
	if s == "" || !(isLetter(s[0]) || s[0] == '_') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isLetter(c) && !isDigit(c) && c != '_' {
			return false
		}
	}
	return true
}
