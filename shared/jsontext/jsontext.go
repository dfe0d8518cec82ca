// Package jsontext reads the structure of JSON text without decoding it:
// how deep it nests, where a value ends, an object without some members.
// Each function is one pass over brackets and strings, whatever the text
// holds, so it is safe to run on a payload before (or instead of)
// encoding/json, which refuses nesting beyond 10,000 levels, and whose
// cost grows with the values it builds. None of them validates the text:
// they answer for valid JSON and answer something, never panic, for
// anything else.
package jsontext

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// scanner follows strings and nesting through JSON text one byte at a
// time.
type scanner struct {
	depth             int
	inString, escaped bool
}

// What a byte did to the scanner.
const (
	plain  = iota
	opened // '[' or '{' outside a string: depth went up
	closed // ']' or '}' outside a string: depth went down
	quoted // the '"' that ended a string
	comma  // ',' outside a string
)

func (s *scanner) step(c byte) int {
	if s.inString {
		switch {
		case s.escaped:
			s.escaped = false
		case c == '\\':
			s.escaped = true
		case c == '"':
			s.inString = false
			return quoted
		}
		return plain
	}
	switch c {
	case '"':
		s.inString = true
	case '[', '{':
		s.depth++
		return opened
	case ']', '}':
		s.depth--
		return closed
	case ',':
		return comma
	}
	return plain
}

// NestingExceeds reports whether the JSON text b nests arrays and objects
// deeper than limit: whether, reading brackets outside strings, more than
// limit are open at once.
func NestingExceeds(b []byte, limit int) bool {
	var s scanner
	for _, c := range b {
		if s.step(c) == opened && s.depth > limit {
			return true
		}
	}
	return false
}

// SkipValue returns the end of the JSON value that starts at b[i]: after
// a string or a closing bracket, or, for a number or literal, at the ','
// or closing bracket that follows it. The nesting inside the value is
// counted, not bounded. Text that ends before the value does returns
// len(b).
func SkipValue(b []byte, i int) int {
	var s scanner
	for ; i < len(b); i++ {
		switch s.step(b[i]) {
		case quoted, closed:
			if s.depth == 0 {
				return i + 1
			}
			if s.depth < 0 { // the bracket closing the enclosing value
				return i
			}
		case comma:
			if s.depth == 0 {
				return i
			}
		}
	}
	return i
}

// SkipSpace returns the index of the first byte of b at or after i that
// is not JSON white space.
func SkipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// WithoutMembers returns the JSON object text b without its members
// named in drop, reading only the object's top level: the members kept
// are copied as they are, without white space between them. It fails
// when b is not an object.
func WithoutMembers(b []byte, drop ...string) ([]byte, error) {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '{' || b[len(b)-1] != '}' {
		return nil, fmt.Errorf("not a JSON object")
	}
	out := []byte{'{'}
	i := 1
	for {
		i = SkipSpace(b, i)
		if i >= len(b)-1 {
			break
		}
		if b[i] != '"' {
			return nil, fmt.Errorf("want a member name at byte %d", i)
		}
		nameEnd := SkipValue(b, i)
		var name string
		if err := json.Unmarshal(b[i:nameEnd], &name); err != nil {
			return nil, fmt.Errorf("member name at byte %d: %w", i, err)
		}
		j := SkipSpace(b, nameEnd)
		if j >= len(b) || b[j] != ':' {
			return nil, fmt.Errorf("want ':' at byte %d", j)
		}
		valStart := SkipSpace(b, j+1)
		valEnd := SkipValue(b, valStart)
		keep := true
		for _, d := range drop {
			keep = keep && name != d
		}
		if keep {
			if len(out) > 1 {
				out = append(out, ',')
			}
			out = append(out, b[i:nameEnd]...)
			out = append(out, ':')
			out = append(out, b[valStart:valEnd]...)
		}
		i = SkipSpace(b, valEnd)
		if i < len(b) && b[i] == ',' {
			i++
		}
	}
	return append(out, '}'), nil
}
