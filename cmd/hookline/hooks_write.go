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
	// Block literals are the readable form of multi-line strings, but a
	// few strings (trailing spaces, say) do not survive them: check, and
	// fall back to quoted strings.
	if back, err := yamlToJSON(out); err != nil || !bytes.Equal(back, canonicalJSON(doc)) {
		return encodeYAML(doc, false)
	}
	return out, nil
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
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: k}, yamlNode(t[k], literals))
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
		if literals && strings.Contains(t, "\n") {
			n.Style = yaml.LiteralStyle
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
