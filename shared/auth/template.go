package auth

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// RenderTemplate renders a Taskcluster API scope template (JSON) with
// params, as Taskcluster's API library does. Besides scope strings with
// <param> placeholders (strings or numbers) and AllOf/AnyOf, a template may
// contain {"if": flag, "then": t, "else": t} (flag a boolean parameter; a
// false flag without else renders to nothing) and, inside an AllOf/AnyOf
// array, {"for": name, "in": list, "each": "scope with <name>"} (list an
// array parameter). A template that renders to nothing (or JSON null) gives
// the zero Expr: a public route.
func RenderTemplate(template []byte, params map[string]any) (Expr, error) {
	e, ok, err := renderTemplate(template, params)
	if err != nil || !ok {
		return Expr{}, err
	}
	if err := e.Validate(); err != nil {
		return Expr{}, err
	}
	return e, nil
}

func templateParamError(name, want string) error {
	return fmt.Errorf("auth: Scope expression template expected parameter '%s' to be a %s", name, want)
}

// renderScope fills the <param> placeholders of one scope.
func renderScope(s string, params map[string]any) (string, error) {
	var err error
	out := paramPattern.ReplaceAllStringFunc(s, func(m string) string {
		name := m[1 : len(m)-1]
		switch v := params[name].(type) {
		case string:
			return v
		case json.Number:
			return v.String()
		case float64:
			return jsNumberString(v)
		case float32:
			return jsNumberString(float64(v))
		case int:
			return strconv.Itoa(v)
		case int64:
			return strconv.FormatInt(v, 10)
		}
		if err == nil {
			err = templateParamError(name, "string or number")
		}
		return m
	})
	return out, err
}

// renderTemplate renders one template node; ok is false when it renders to
// nothing.
func renderTemplate(raw []byte, params map[string]any) (Expr, bool, error) {
	raw = bytes.TrimSpace(raw)
	switch jsonKind(raw) {
	case 'n':
		return Expr{}, false, nil
	case '"':
		s, ok := jsonString(raw)
		if !ok {
			return Expr{}, false, fmt.Errorf("auth: bad scope template %s", raw)
		}
		out, err := renderScope(s, params)
		return Scope(out), err == nil, err
	case '{':
	default:
		return Expr{}, false, fmt.Errorf("auth: %w", errBadExpr)
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil {
		return Expr{}, false, fmt.Errorf("auth: decode scope template: %w", err)
	}
	if cond, ok := obj["if"]; ok {
		name, ok := jsonString(cond)
		if !ok {
			return Expr{}, false, fmt.Errorf("auth: scope template: \"if\" must name a parameter")
		}
		flag, ok := params[name].(bool)
		if !ok {
			return Expr{}, false, templateParamError(name, "boolean")
		}
		if flag {
			return renderTemplate(obj["then"], params)
		}
		if alt, ok := obj["else"]; ok {
			return renderTemplate(alt, params)
		}
		return Expr{}, false, nil
	}
	if len(obj) != 1 {
		return Expr{}, false, fmt.Errorf("auth: %w", errBadExpr)
	}
	for key, val := range obj {
		if key != "AllOf" && key != "AnyOf" {
			return Expr{}, false, fmt.Errorf("auth: unknown key %q: %w", key, errBadExpr)
		}
		var items []json.RawMessage
		if jsonKind(val) != '[' || json.Unmarshal(val, &items) != nil {
			return Expr{}, false, fmt.Errorf("auth: %s must hold an array: %w", key, errBadExpr)
		}
		subs := []Expr{}
		for _, it := range items {
			more, err := renderItem(it, params)
			if err != nil {
				return Expr{}, false, err
			}
			subs = append(subs, more...)
		}
		if key == "AllOf" {
			return AllOf(subs...), true, nil
		}
		return AnyOf(subs...), true, nil
	}
	return Expr{}, false, nil
}

// renderItem renders one member of an AllOf/AnyOf array, expanding a
// for/in/each loop into several.
func renderItem(raw []byte, params map[string]any) ([]Expr, error) {
	var loop struct {
		For  *string `json:"for"`
		In   *string `json:"in"`
		Each *string `json:"each"`
	}
	if jsonKind(raw) == '{' && json.Unmarshal(raw, &loop) == nil && loop.For != nil && loop.In != nil && loop.Each != nil {
		var list []any
		switch v := params[*loop.In].(type) {
		case []any:
			list = v
		case []string:
			for _, s := range v {
				list = append(list, s)
			}
		default:
			return nil, templateParamError(*loop.In, "array")
		}
		out := make([]Expr, 0, len(list))
		inner := make(map[string]any, len(params)+1)
		for k, v := range params {
			inner[k] = v
		}
		for _, v := range list {
			inner[*loop.For] = v
			s, err := renderScope(*loop.Each, inner)
			if err != nil {
				return nil, err
			}
			out = append(out, Scope(s))
		}
		return out, nil
	}
	e, ok, err := renderTemplate(raw, params)
	if err != nil || !ok {
		return nil, err
	}
	return []Expr{e}, nil
}
