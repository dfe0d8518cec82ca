package jsone

import (
	"fmt"
	"strconv"
	"strings"
)

// maxExprDepth bounds the nesting of an expression (parentheses, literals,
// unary chains), so that parsing and evaluation recurse a bounded amount.
const maxExprDepth = 200

type tokKind uint8

const (
	tEOF tokKind = iota
	tNumber
	tString
	tIdent
	tTrue
	tFalse
	tNull
	tIn
	tPunct
)

type token struct {
	kind tokKind
	text string // the token as written (strings keep their quotes)
	end  int    // offset just after the token in the source
}

// lexer produces tokens one at a time. Tokenizing lazily matters: an
// interpolation stops at its closing brace, and JSON-e reports a parse error
// before it looks at an invalid character further on.
type lexer struct {
	src   string
	start int // where the expression begins, for error messages
	pos   int
}

// next reads the next token into *t, which it leaves alone on an error.
func (l *lexer) next(t *token) error {
	s := l.src
	i := l.pos
	for i < len(s) && byteClass[s[i]]&classSpace != 0 {
		i++
	}
	if i >= len(s) {
		l.pos = i
		*t = token{kind: tEOF, end: i}
		return nil
	}
	begin := i
	c := s[i]
	var kind tokKind
	switch {
	case isDigit(c):
		for i < len(s) && isDigit(s[i]) {
			i++
		}
		if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
			i++
			for i < len(s) && isDigit(s[i]) {
				i++
			}
		}
		kind = tNumber
	case isLetter(c) || c == '_':
		for i < len(s) && byteClass[s[i]]&classIdent != 0 {
			i++
		}
		switch s[begin:i] {
		case "true":
			kind = tTrue
		case "false":
			kind = tFalse
		case "null":
			kind = tNull
		case "in":
			kind = tIn
		default:
			kind = tIdent
		}
	case c == '"' || c == '\'':
		j := strings.IndexByte(s[i+1:], c)
		if j < 0 {
			return l.badInput(i)
		}
		i += j + 2
		kind = tString
	default:
		kind = tPunct
		if i+1 < len(s) {
			switch s[i : i+2] {
			case "**", "==", "!=", "<=", ">=", "&&", "||":
				i += 2
			}
		}
		if i == begin {
			switch c {
			case '+', '-', '*', '/', '<', '>', '!', '(', ')', '[', ']', '{', '}', ':', ',', '.':
				i++
			default:
				return l.badInput(i)
			}
		}
	}
	l.pos = i
	*t = token{kind: kind, text: s[begin:i], end: i}
	return nil
}

// byteClass sorts bytes for the lexer's loops, which a table lookup makes
// cheaper than a chain of comparisons.
var byteClass = func() (t [256]uint8) {
	for _, c := range []byte(" \t\n\r\f\v") {
		t[c] |= classSpace
	}
	for c := range 256 {
		if b := byte(c); isLetter(b) || isDigit(b) || b == '_' {
			t[c] |= classIdent
		}
	}
	return t
}()

const (
	classSpace = 1 << iota
	classIdent // a letter, digit or _, which continue an identifier
)

func (l *lexer) badInput(at int) error {
	return syntaxErr(fmt.Sprintf("Unexpected input for '%s' at '%s'", l.src[l.start:], l.src[at:]))
}

// Token classes that may start an operand, and tokens that may follow one,
// as JSON-e lists them (sorted) in its error messages.
const (
	unitStart = "!, (, +, -, [, false, identifier, null, number, string, true, {"
	afterUnit = "!=, &&, (, *, **, +, -, ., /, <, <=, ==, >, >=, [, in, ||"
)

// The parser follows the reference parser's error behaviour: where a token
// cannot start an operand it does not fail at once but leaves the operand
// missing, so that a later rule reports the error the reference reports
// (for example ")" alone fails as a token that cannot follow an operand).
// An expression that parses with an operand still missing fails at the end
// with the first missing place; the reference crashes there.
type parser struct {
	lx      lexer
	tok     token // lookahead
	depth   int
	interp  bool   // parsing inside ${...}: running out of input is "unterminated"
	missing *token // the first token where an operand was missing
	nodes   *exprSlabs
}

// exprSlabs holds the most common expression nodes of a template in chunks,
// so that compiling a template does not allocate each one.
type exprSlabs struct {
	vars slab[varExpr]
	dots slab[dotExpr]
	lits slab[litExpr]
	// c, when set, resolves each variable as it is made.
	c *compiler
}

func (p *parser) newVar(name string) *varExpr {
	if p.nodes == nil {
		return &varExpr{name: name}
	}
	v := p.nodes.vars.put(varExpr{name: name})
	if p.nodes.c != nil {
		p.nodes.c.resolveVar(v)
	}
	return v
}

func (p *parser) newDot(x expr, name string) *dotExpr {
	if p.nodes == nil {
		return &dotExpr{x: x, name: name}
	}
	return p.nodes.dots.put(dotExpr{x: x, name: name})
}

func (p *parser) newLit(v any) *litExpr {
	if p.nodes == nil {
		return &litExpr{v: v}
	}
	return p.nodes.lits.put(litExpr{v: v})
}

func (p *parser) advance() error {
	return p.lx.next(&p.tok)
}

// endOfInput is the error for an expression that stops too early.
func (p *parser) endOfInput() error {
	if p.interp {
		return syntaxErr("unterminated ${..} expression")
	}
	return syntaxErr("Unexpected end of input")
}

// found builds JSON-e's error for the current token, given the list of
// tokens that were acceptable there.
func (p *parser) found(want string) error {
	if p.tok.kind == tEOF {
		return p.endOfInput()
	}
	return syntaxErr("Found: " + p.tok.text + " token, expected one of: " + want)
}

func (p *parser) isPunct(s string) bool { return p.tok.kind == tPunct && p.tok.text == s }

// take consumes the punctuation s, as the reference's takeToken(s) does.
func (p *parser) take(s string) error {
	if !p.isPunct(s) {
		return p.found(s)
	}
	return p.advance()
}

// done fails when an operand went missing in an expression that otherwise
// parsed.
func (p *parser) done() error {
	if p.missing != nil {
		return syntaxErr("Found: " + p.missing.text + " token, expected one of: " + unitStart)
	}
	return nil
}

// parseExpression parses a whole expression; the input must end after it.
func parseExpression(src string, nodes *exprSlabs) (expr, error) {
	p := &parser{lx: lexer{src: src}, nodes: nodes}
	if err := p.advance(); err != nil {
		return nil, err
	}
	e, err := p.parseExpr(0)
	if err != nil {
		return nil, err
	}
	if p.tok.kind != tEOF {
		return nil, p.found(afterUnit)
	}
	return e, p.done()
}

// parseInterpolation parses the expression that starts at src[start:],
// just after "${", and returns it with the offset just after the closing
// brace.
func parseInterpolation(src string, start int, nodes *exprSlabs) (expr, int, error) {
	p := &parser{lx: lexer{src: src, start: start, pos: start}, interp: true, nodes: nodes}
	if err := p.advance(); err != nil {
		return nil, 0, err
	}
	e, err := p.parseExpr(0)
	if err != nil {
		return nil, 0, err
	}
	if !p.isPunct("}") {
		return nil, 0, p.found(afterUnit)
	}
	return e, p.tok.end, p.done()
}

type binOp uint8

const (
	opOr binOp = iota + 1
	opAnd
	opIn
	opEq
	opNe
	opLt
	opLe
	opGt
	opGe
	opAdd
	opSub
	opMul
	opDiv
	opPow
)

// binary returns the operator and its precedence (higher binds tighter) for
// the lookahead token, or 0 when it is not a binary operator.
func (p *parser) binary() (binOp, int) {
	switch p.tok.kind {
	case tIn:
		return opIn, 3
	case tPunct:
		switch p.tok.text {
		case "||":
			return opOr, 1
		case "&&":
			return opAnd, 2
		case "==":
			return opEq, 4
		case "!=":
			return opNe, 4
		case "<":
			return opLt, 5
		case "<=":
			return opLe, 5
		case ">":
			return opGt, 5
		case ">=":
			return opGe, 5
		case "+":
			return opAdd, 6
		case "-":
			return opSub, 6
		case "*":
			return opMul, 7
		case "/":
			return opDiv, 7
		case "**":
			return opPow, 8
		}
	}
	return 0, 0
}

func (p *parser) enter() error {
	p.depth++
	if p.depth > maxExprDepth {
		return &Error{Kind: KindSyntax, Message: "expression nests too deeply", Err: ErrLimit}
	}
	return nil
}

// parseExpr parses binary operators by precedence climbing. ** is right
// associative; the others are left associative.
func (p *parser) parseExpr(minPrec int) (expr, error) {
	if err := p.enter(); err != nil {
		return nil, err
	}
	defer func() { p.depth-- }()
	left, err := p.parseOperand()
	if err != nil {
		return nil, err
	}
	for {
		op, prec := p.binary()
		if prec == 0 || prec < minPrec {
			return left, nil
		}
		text := p.tok.text
		if err := p.advance(); err != nil {
			return nil, err
		}
		next := prec + 1
		if op == opPow {
			next = prec
		}
		right, err := p.parseExpr(next)
		if err != nil {
			return nil, err
		}
		switch op {
		case opOr:
			left = &orExpr{l: left, r: right}
		case opAnd:
			left = &andExpr{l: left, r: right}
		default:
			left = &binExpr{op: op, sym: text, l: left, r: right}
		}
	}
}

// parseOperand parses a unit with its unary prefix operators, then any
// postfix accesses. Unary operators apply to the unit before the postfix
// ones, so -x[0] is (-x)[0], as in the JSON-e grammar.
func (p *parser) parseOperand() (expr, error) {
	x, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tPunct {
		switch p.tok.text {
		case ".":
			if err := p.advance(); err != nil {
				return nil, err
			}
			if p.tok.kind != tIdent {
				return nil, p.found("identifier")
			}
			x = p.newDot(x, p.tok.text)
			if err := p.advance(); err != nil {
				return nil, err
			}
		case "[":
			if x, err = p.parseAccess(x); err != nil {
				return nil, err
			}
		case "(":
			if x, err = p.parseCall(x); err != nil {
				return nil, err
			}
		default:
			return x, nil
		}
	}
	return x, nil
}

func (p *parser) parseAccess(x expr) (expr, error) {
	if err := p.advance(); err != nil { // [
		return nil, err
	}
	if p.isPunct("]") {
		return nil, p.found(unitStart)
	}
	var lo, hi expr
	var err error
	interval := false
	if !p.isPunct(":") {
		if lo, err = p.parseExpr(0); err != nil {
			return nil, err
		}
	}
	if p.isPunct(":") {
		interval = true
		if err := p.advance(); err != nil {
			return nil, err
		}
	}
	if !interval {
		if err := p.take("]"); err != nil {
			return nil, err
		}
		return &indexExpr{x: x, idx: lo}, nil
	}
	if !p.isPunct("]") {
		if hi, err = p.parseExpr(0); err != nil {
			return nil, err
		}
		if hi == nil && p.tok.kind != tEOF {
			return nil, p.found(unitStart)
		}
	}
	if err := p.take("]"); err != nil {
		return nil, err
	}
	return &sliceExpr{x: x, lo: lo, hi: hi}, nil
}

// parseArgs parses the comma-separated operands of a call or an array
// literal up to the closing punctuation.
func (p *parser) parseArgs(closing string) ([]expr, error) {
	var args []expr
	if p.tok.kind == tEOF {
		return nil, p.endOfInput()
	}
	if !p.isPunct(closing) {
		for {
			a, err := p.parseExpr(0)
			if err != nil {
				return nil, err
			}
			args = append(args, a)
			if !p.isPunct(",") {
				break
			}
			if a == nil {
				return nil, p.found(unitStart)
			}
			if err := p.advance(); err != nil {
				return nil, err
			}
		}
	}
	return args, p.take(closing)
}

func (p *parser) parseCall(fn expr) (expr, error) {
	if err := p.advance(); err != nil { // (
		return nil, err
	}
	args, err := p.parseArgs(")")
	if err != nil {
		return nil, err
	}
	return &callExpr{fn: fn, args: args}, nil
}

func (p *parser) parseUnary() (expr, error) {
	if p.tok.kind == tPunct && (p.tok.text == "!" || p.tok.text == "-" || p.tok.text == "+") {
		if err := p.enter(); err != nil {
			return nil, err
		}
		defer func() { p.depth-- }()
		op := p.tok.text[0]
		if err := p.advance(); err != nil {
			return nil, err
		}
		x, err := p.parseUnary()
		if err != nil {
			return nil, err
		}
		if op == '!' {
			return &notExpr{x: x}, nil
		}
		return &signExpr{neg: op == '-', x: x}, nil
	}
	return p.parsePrimary()
}

// parsePrimary parses an operand. At a token that cannot start one it
// returns nil without an error and notes the place (see parser).
func (p *parser) parsePrimary() (expr, error) {
	t := p.tok
	switch t.kind {
	case tEOF:
		return nil, p.endOfInput()
	case tNumber:
		f, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, syntaxErr(fmt.Sprintf("number %s is out of range", t.text))
		}
		return &litExpr{v: f}, p.advance()
	case tString:
		return p.newLit(t.text[1 : len(t.text)-1]), p.advance()
	case tTrue:
		return &litExpr{v: true}, p.advance()
	case tFalse:
		return &litExpr{v: false}, p.advance()
	case tNull:
		return &litExpr{v: nil}, p.advance()
	case tIdent:
		return p.newVar(t.text), p.advance()
	case tPunct:
		switch t.text {
		case "(":
			if err := p.advance(); err != nil {
				return nil, err
			}
			e, err := p.parseExpr(0)
			if err != nil {
				return nil, err
			}
			if e == nil {
				return nil, p.found(unitStart)
			}
			return e, p.take(")")
		case "[":
			if err := p.advance(); err != nil {
				return nil, err
			}
			elems, err := p.parseArgs("]")
			if err != nil {
				return nil, err
			}
			return &arrayExpr{elems: elems}, nil
		case "{":
			return p.parseObject()
		}
	}
	if p.missing == nil {
		p.missing = &token{kind: t.kind, text: t.text, end: t.end}
	}
	return nil, nil
}

// parseObject parses an object literal. As in the reference, a comma may
// follow the last entry.
func (p *parser) parseObject() (expr, error) {
	if err := p.advance(); err != nil { // {
		return nil, err
	}
	o := &objectExpr{}
	for p.tok.kind == tIdent || p.tok.kind == tString {
		key := p.tok.text
		if p.tok.kind == tString {
			key = key[1 : len(key)-1]
		}
		if err := p.advance(); err != nil {
			return nil, err
		}
		if err := p.take(":"); err != nil {
			return nil, err
		}
		v, err := p.parseExpr(0)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, p.found(unitStart)
		}
		o.keys = append(o.keys, key)
		o.vals = append(o.vals, v)
		if p.isPunct("}") {
			break
		}
		if err := p.take(","); err != nil {
			return nil, err
		}
	}
	return o, p.take("}")
}
