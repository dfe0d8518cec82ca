package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// encodeHookFile renders a hook file's document (a JSON object) as YAML or
// JSON, keys sorted, so that the same hook always gives the same bytes.
func encodeHookFile(doc map[string]any, format string) ([]byte, error) {
	if format == "json" {
		var b bytes.Buffer
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		if err := enc.Encode(doc); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}
	out, err := encodeYAML(doc, true)
	if err != nil {
		return nil, err
	}
	// Each block literal was checked on its own; check the whole too.
	if back, err := yamlToJSON(out); err != nil || !bytes.Equal(back, canonicalJSON(doc)) {
		return encodeYAML(doc, false)
	}
	return out, nil
}

// literalSafe reports whether s reads back unchanged from a block literal
// (`|`), the readable form of a multi-line string. Some strings do not
// (a tab opening a line, trailing spaces, a carriage return); they are
// written double-quoted.
func literalSafe(s string) bool {
	if strings.ContainsAny(s, "\r\t") {
		return false
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Content: []*yaml.Node{
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: "k"},
		{Kind: yaml.ScalarNode, Tag: "!!str", Value: s, Style: yaml.LiteralStyle},
	}}
	data, err := yaml.Marshal(n)
	if err != nil {
		return false
	}
	var back map[string]string
	return yaml.Unmarshal(data, &back) == nil && back["k"] == s
}

func encodeYAML(doc map[string]any, literals bool) ([]byte, error) {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(yamlNode(doc, literals)); err != nil {
		return nil, fmt.Errorf("encode YAML: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// yamlToJSON reads a YAML document back as canonical JSON.
func yamlToJSON(data []byte) ([]byte, error) {
	var n yaml.Node
	if err := yaml.Unmarshal(data, &n); err != nil {
		return nil, err
	}
	v, err := nodeValue(&n)
	if err != nil {
		return nil, err
	}
	return canonicalJSON(v), nil
}

// yamlNode builds the YAML node of a JSON value (numbers as json.Number or
// float64), mappings with sorted keys.
func yamlNode(v any, literals bool) *yaml.Node {
	switch t := v.(type) {
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode, Tag: "!!map"}
		if len(t) == 0 {
			n.Style = yaml.FlowStyle
		}
		keys := make([]string, 0, len(t))
		for k := range t {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			key := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}
			if strings.ContainsAny(k, "\n\r") {
				key.Style = yaml.DoubleQuotedStyle // a block key reads back wrong
			}
			n.Content = append(n.Content, key, yamlNode(t[k], literals))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode, Tag: "!!seq"}
		if len(t) == 0 {
			n.Style = yaml.FlowStyle
		}
		for _, e := range t {
			n.Content = append(n.Content, yamlNode(e, literals))
		}
		return n
	case string:
		n := &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t}
		if strings.Contains(t, "\n") {
			// yaml.v3 would pick a block literal by itself.
			n.Style = yaml.DoubleQuotedStyle
			if literals && literalSafe(t) {
				n.Style = yaml.LiteralStyle
			}
		}
		return n
	case json.Number:
		tag := "!!int"
		if strings.ContainsAny(string(t), ".eE") {
			tag = "!!float"
		}
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(t)}
	case float64:
		return yamlNode(json.Number(fmt.Sprint(t)), literals)
	case bool:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: fmt.Sprint(t)}
	case nil:
		return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null"}
	}
	panic(fmt.Sprintf("hookline: no YAML form for %T", v))
}
