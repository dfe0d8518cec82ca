package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"gopkg.in/yaml.v3"

	"github.com/hookline/hookline/schemas"
)

// A hooks directory holds one file per hook: <dir>/<hookGroupId>/<hookId>.yaml
// (or .yml, or .json), a hookId with slashes making nested folders. A file
// is the hook definition as createHook takes it, plus an optional
// `settings:` section: Hookline's per-hook settings as its settings API
// takes them. Secrets (the webhook's, a notify webhook target's) are never
// written in a file; each is named by an environment variable read at apply
// time:
//
//	settings:
//	  webhook:
//	    scheme: github
//	    secrets:
//	      - fromEnv: GITHUB_WEBHOOK_SECRET
//	  notify:
//	    targets:
//	      - type: webhook
//	        url: https://example.com/hooks
//	        events: [task-failed]
//	        secret: {fromEnv: NOTIFY_SECRET}

// Patterns of the ids, as upstream's API declares them.
var (
	hookGroupIDPattern = regexp.MustCompile(`^[a-zA-Z0-9-_]{1,1000}$`)
	hookIDPattern      = regexp.MustCompile(`^[a-zA-Z0-9-_/]{1,1000}$`)
	envNamePattern     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// hookFileExts are the extensions of hook files, in the order a reader
// meets them.
var hookFileExts = []string{".yaml", ".yml", ".json"}

// settingsKey is the file's section that holds Hookline's settings.
const settingsKey = "settings"

// pausedKey is the settings' pause. Unlike the rest of the settings, a
// file manages it only when it says so: on-call pauses a hook by hand
// during an incident, and an apply of files that never mention pauses
// must not resume it.
const pausedKey = "paused"

// pauseMode is what a file says about its hook's pause.
type pauseMode int

const (
	// pauseLeft: no `paused`; the live pause, or its absence, is left
	// as it is and not compared.
	pauseLeft pauseMode = iota
	// pauseOn: `paused: {reason: ...}`; the hook is paused with that
	// reason.
	pauseOn
	// pauseOff: `paused: false`; the hook is not paused.
	pauseOff
)

// secretField is a write-only property of the settings: a list of secrets
// or one secret. Files name each secret by an environment variable, and
// the API shows fingerprints of the stored ones under fingerprints (a
// sibling property: a list, or one fingerprint).
type secretField struct {
	// path leads to the property, schemas.EachItem standing for every
	// item of a list.
	path         []string
	fingerprints string
	list         bool
}

// secretFields lists the settings that hold secrets: the properties the
// settings schema marks "writeOnly" (the ones error replies redact), each
// with its "fingerprints" sibling. A settings section with secrets of its
// own marks them there; TestSecretFieldsFromSchema checks each has
// fingerprints, the form files and diffs handle.
var secretFields = sync.OnceValue(func() []secretField {
	reg, err := schemas.New()
	if err != nil {
		panic(fmt.Sprintf("hookline: the embedded schemas do not load: %v", err)) // their tests load them
	}
	var out []secretField
	for _, f := range reg.WriteOnlyFields(schemas.HookSettings) {
		out = append(out, secretField{path: f.Path, fingerprints: f.Fingerprints, list: f.List})
	}
	return out
})

// secretFieldNames lists the secret fields as settings.a.b, for messages.
func secretFieldNames() string {
	var names []string
	for _, f := range secretFields() {
		names = append(names, settingsKey+"."+strings.ReplaceAll(strings.Join(f.path, "."), "."+schemas.EachItem, schemas.EachItem))
	}
	return strings.Join(names, ", ")
}

// secretSlot is one place a settings document holds a secret field: the
// field, and the path to its property with an index for each
// schemas.EachItem.
type secretSlot struct {
	field secretField
	at    []any
}

// key names the slot, as "webhook.secrets" or "notify.targets[1].secret".
func (s secretSlot) key() string { return pathString(s.at) }

// pathString writes a path of keys and indexes as a.b[1].c.
func pathString(at []any) string {
	var b strings.Builder
	for _, step := range at {
		switch v := step.(type) {
		case int:
			fmt.Fprintf(&b, "[%d]", v)
		case string:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(v)
		}
	}
	return b.String()
}

// slots lists the places doc can hold the field: every object on the
// field's path that doc has, with the property's name last (whether doc
// sets it or not), and that object.
func (f secretField) slots(doc map[string]any) []slotIn {
	var out []slotIn
	var walk func(obj map[string]any, steps []string, at []any)
	walk = func(obj map[string]any, steps []string, at []any) {
		if len(steps) == 1 {
			out = append(out, slotIn{secretSlot{field: f, at: append(slices.Clone(at), steps[0])}, obj})
			return
		}
		next := obj[steps[0]]
		at = append(at, steps[0])
		if len(steps) > 2 && steps[1] == schemas.EachItem {
			items, _ := next.([]any)
			for i, item := range items {
				if o, ok := item.(map[string]any); ok {
					walk(o, steps[2:], append(slices.Clone(at), i))
				}
			}
			return
		}
		if o, ok := next.(map[string]any); ok {
			walk(o, steps[1:], at)
		}
	}
	if doc != nil {
		walk(doc, f.path, nil)
	}
	return out
}

// slotIn is a slot and the object in a document that holds its property.
type slotIn struct {
	secretSlot
	parent map[string]any
}

// name is the slot's property.
func (s slotIn) name() string { return s.at[len(s.at)-1].(string) }

// fingerprints reads the slot's fingerprints in a settings reply (none when
// the reply shows none).
func (s slotIn) fingerprints() []any {
	switch v := s.parent[s.field.fingerprints].(type) {
	case []any:
		return slices.Clone(v)
	case string:
		return []any{v}
	}
	return []any{}
}

// showFingerprints puts fps where a reply shows the slot's fingerprints, in
// place of the secrets.
func (s slotIn) showFingerprints(fps []any) {
	switch {
	case s.field.list:
		s.parent[s.field.fingerprints] = fps
	case len(fps) > 0:
		s.parent[s.field.fingerprints] = fps[0]
	}
}

// hookFile is one hook as a file declares it.
type hookFile struct {
	// path is the file as found (the directory joined with its name).
	path        string
	hookGroupID string
	hookID      string
	// root is the document's top mapping, for line numbers.
	root *yaml.Node
	// definition is the create-hook-request document: canonical JSON
	// without the settings section and without hookGroupId and hookId.
	definition []byte
	// settings is the settings section with JSON values (nil when the
	// file has none), secrets not yet filled in.
	settings map[string]any
	// secrets are the environment variables the settings take secrets
	// from, in file order.
	secrets []secretRef
	// pause is what the file says about the hook's pause; a `paused:
	// false` is not in settings (the settings API has no such value).
	pause pauseMode
}

// secretRef is one secret named by an environment variable: in slot, the
// index-th of a list, or the slot's one secret.
type secretRef struct {
	slot  secretSlot
	index int
	env   string
	line  int
}

// name is where the secret is, for messages: webhook.secrets[0],
// notify.targets[1].secret.
func (r secretRef) name() string {
	if r.slot.field.list {
		return fmt.Sprintf("%s[%d]", r.slot.key(), r.index)
	}
	return r.slot.key()
}

// problem is something wrong with a file (or, as a warning, something a
// fire of the hook would trip on).
type problem struct {
	File    string `json:"file"`
	Line    int    `json:"line,omitempty"`
	Message string `json:"message"`
	Warning bool   `json:"warning,omitempty"`
}

func (p problem) String() string {
	loc := p.File
	if p.Line > 0 {
		loc += ":" + strconv.Itoa(p.Line)
	}
	kind := "error"
	if p.Warning {
		kind = "warning"
	}
	return loc + ": " + kind + ": " + p.Message
}

// readHookDir reads every hook file under dir. Files at the top of dir
// (a README, say) and hidden files and folders are not hook files. Every
// problem found is returned, each naming its file and line.
func readHookDir(dir string) ([]*hookFile, []problem) {
	var files []*hookFile
	var problems []problem
	seen := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if path != dir && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(dir, path)
		if err != nil {
			return err
		}
		parts := strings.Split(filepath.ToSlash(rel), "/")
		ext := filepath.Ext(path)
		if len(parts) < 2 || !slices.Contains(hookFileExts, ext) {
			return nil
		}
		group := parts[0]
		id := strings.TrimSuffix(strings.Join(parts[1:], "/"), ext)
		if !hookGroupIDPattern.MatchString(group) || !hookIDPattern.MatchString(id) {
			problems = append(problems, problem{File: path, Message: fmt.Sprintf("%s/%s is not a hook: a hookGroupId is letters, digits, - and _; a hookId may also hold / (folders)", group, id)})
			return nil
		}
		key := group + "/" + id
		if other, dup := seen[key]; dup {
			problems = append(problems, problem{File: path, Message: fmt.Sprintf("declares %s again (also %s): keep one file per hook", key, other)})
			return nil
		}
		seen[key] = path
		f, probs := parseHookFile(path, group, id)
		problems = append(problems, probs...)
		if f != nil {
			files = append(files, f)
		}
		return nil
	})
	if err != nil {
		problems = append(problems, problem{File: dir, Message: err.Error()})
	}
	sort.Slice(files, func(i, j int) bool { return files[i].key() < files[j].key() })
	return files, problems
}

func (f *hookFile) key() string { return f.hookGroupID + "/" + f.hookID }

// parseHookFile reads one hook file. JSON files must be JSON; both kinds are
// read through yaml.v3's node tree, which knows every value's line.
func parseHookFile(path, group, id string) (*hookFile, []problem) {
	fail := func(line int, format string, args ...any) (*hookFile, []problem) {
		return nil, []problem{{File: path, Line: line, Message: fmt.Sprintf(format, args...)}}
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fail(0, "%v", err)
	}
	var doc yaml.Node
	if filepath.Ext(path) == ".json" {
		// JSON is read by encoding/json (YAML lacks some of its escapes),
		// into the node tree YAML files give, with lines.
		root, err := jsonNodes(data)
		if err != nil {
			var se *json.SyntaxError
			line := 0
			if errors.As(err, &se) {
				line = lineAt(data, se.Offset)
			}
			return fail(line, "not valid JSON: %v", err)
		}
		doc = yaml.Node{Kind: yaml.DocumentNode, Content: []*yaml.Node{root}}
	} else if err := yaml.Unmarshal(data, &doc); err != nil {
		return fail(yamlErrorLine(err), "not valid YAML: %s", strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return fail(1, "the file is empty: it should hold a hook definition (metadata, task, ...)")
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return fail(root.Line, "the file should hold a mapping (metadata, task, ...), not a %s", kindName(root))
	}
	f := &hookFile{path: path, hookGroupID: group, hookID: id, root: root}
	var problems []problem
	if _, err := nodeValue(&yaml.Node{Kind: yaml.MappingNode, Content: keysOnly(root)}); err != nil {
		return nil, []problem{nodeProblem(path, err)}
	}
	def := map[string]any{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		val, err := nodeValue(v)
		if err != nil {
			problems = append(problems, nodeProblem(path, err))
			continue
		}
		switch k.Value {
		case settingsKey:
			if val == nil {
				val = map[string]any{}
			}
			m, ok := val.(map[string]any)
			if !ok {
				problems = append(problems, problem{File: path, Line: v.Line, Message: "settings should be a mapping (webhook, filters, paused, ...)"})
				continue
			}
			f.settings = m
			refs, probs := findSecrets(path, v)
			f.secrets, problems = refs, append(problems, probs...)
			mode, probs := readPause(path, v, m)
			f.pause, problems = mode, append(problems, probs...)
		case "hookGroupId", "hookId":
			want := map[string]string{"hookGroupId": group, "hookId": id}[k.Value]
			if s, _ := val.(string); s != want {
				problems = append(problems, problem{File: path, Line: v.Line, Message: fmt.Sprintf("%s is %v but the file's place says %q: the path <hookGroupId>/<hookId>.yaml names the hook (leave %s out)", k.Value, val, want, k.Value)})
			}
		default:
			def[k.Value] = val
		}
	}
	if len(problems) > 0 {
		return nil, problems
	}
	f.definition = canonicalJSON(def)
	return f, nil
}

// keysOnly is a mapping's content with every value null, to check its
// keys without converting its values.
func keysOnly(m *yaml.Node) []*yaml.Node {
	out := make([]*yaml.Node, 0, len(m.Content))
	for i := 0; i+1 < len(m.Content); i += 2 {
		out = append(out, m.Content[i], &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null"})
	}
	return out
}

// jsonNodes reads a JSON document into a yaml.Node tree whose nodes carry
// the lines they are on.
func jsonNodes(data []byte) (*yaml.Node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var value func() (*yaml.Node, error)
	value = func() (*yaml.Node, error) {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		// The token starts after any space that preceded it.
		line := lineAt(data, start+int64(len(data[start:])-len(bytes.TrimLeft(data[start:], " \t\r\n,:"))))
		switch t := tok.(type) {
		case json.Delim:
			kind := yaml.SequenceNode
			if t == '{' {
				kind = yaml.MappingNode
			}
			n := &yaml.Node{Kind: kind, Line: line}
			for dec.More() {
				if kind == yaml.MappingNode {
					k, err := value()
					if err != nil {
						return nil, err
					}
					n.Content = append(n.Content, k)
				}
				v, err := value()
				if err != nil {
					return nil, err
				}
				n.Content = append(n.Content, v)
			}
			if _, err := dec.Token(); err != nil { // the closing delimiter
				return nil, err
			}
			return n, nil
		case string:
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: t, Line: line}, nil
		case json.Number:
			tag := "!!int"
			if strings.ContainsAny(string(t), ".eE") {
				tag = "!!float"
			}
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: string(t), Line: line}, nil
		case bool:
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!bool", Value: strconv.FormatBool(t), Line: line}, nil
		case nil:
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!null", Value: "null", Line: line}, nil
		}
		return nil, fmt.Errorf("unexpected JSON token %v", tok)
	}
	root, err := value()
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, &json.SyntaxError{Offset: dec.InputOffset()}
	}
	return root, nil
}

// lineAt is the 1-based line of a byte offset.
func lineAt(data []byte, offset int64) int {
	offset = min(max(offset, 0), int64(len(data)))
	return bytes.Count(data[:offset], []byte("\n")) + 1
}

var (
	yamlLineRE = regexp.MustCompile(`line (\d+)`)
	// yamlContextErrorRE matches yaml.v3's parser errors, whose line it
	// prints 0-based (scanner errors are 1-based), one less than the line
	// in an editor.
	yamlContextErrorRE = regexp.MustCompile(`did not find expected (key|'-' indicator|',' or '\]'|',' or '\}'|node content|<document start>)|found (duplicate %|incompatible YAML|undefined tag handle)`)
)

// yamlErrorLine is the 1-based line a yaml.v3 error is about.
func yamlErrorLine(err error) int {
	m := yamlLineRE.FindStringSubmatch(err.Error())
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	if yamlContextErrorRE.MatchString(err.Error()) {
		n++
	}
	return n
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "single value"
	}
	return "document"
}

// nodeError is a value that JSON cannot hold, at a line.
type nodeError struct {
	line int
	msg  string
}

func (e *nodeError) Error() string { return e.msg }

func nodeProblem(path string, err error) problem {
	var ne *nodeError
	if errors.As(err, &ne) {
		return problem{File: path, Line: ne.line, Message: ne.msg}
	}
	return problem{File: path, Message: err.Error()}
}

// nodeValue converts a YAML node to the JSON value it stands for. Numbers
// keep their text as json.Number; values JSON has no room for (non-string
// keys, infinities, binary) are errors.
func nodeValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return nodeValue(n.Content[0])
	case yaml.AliasNode:
		return nodeValue(n.Alias)
	case yaml.MappingNode:
		out := make(map[string]any, len(n.Content)/2)
		lines := make(map[string]int, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if k.Tag == "!!merge" {
				return nil, &nodeError{k.Line, "merge keys (<<) are not supported: write the keys out"}
			}
			if k.Kind != yaml.ScalarNode {
				return nil, &nodeError{k.Line, "a mapping key must be a string"}
			}
			// yaml.v3 finds repeated keys only when it decodes into Go
			// values; a node tree keeps both.
			if first, dup := lines[k.Value]; dup {
				return nil, &nodeError{k.Line, fmt.Sprintf("%q is given twice (first on line %d)", k.Value, first)}
			}
			lines[k.Value] = k.Line
			val, err := nodeValue(v)
			if err != nil {
				return nil, err
			}
			out[k.Value] = val
		}
		return out, nil
	case yaml.SequenceNode:
		out := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			val, err := nodeValue(c)
			if err != nil {
				return nil, err
			}
			out = append(out, val)
		}
		return out, nil
	case yaml.ScalarNode:
		return scalarValue(n)
	}
	return nil, &nodeError{n.Line, "unsupported YAML node"}
}

func scalarValue(n *yaml.Node) (any, error) {
	switch n.ShortTag() {
	case "!!null":
		return nil, nil
	case "!!bool":
		var b bool
		if err := n.Decode(&b); err != nil {
			return nil, &nodeError{n.Line, err.Error()}
		}
		return b, nil
	case "!!int":
		if json.Valid([]byte(n.Value)) {
			return json.Number(n.Value), nil
		}
		if i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64); err == nil {
			return json.Number(strconv.FormatInt(i, 10)), nil
		}
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, &nodeError{n.Line, fmt.Sprintf("%q is not a number JSON can hold", n.Value)}
		}
		return floatNumber(n, f)
	case "!!float":
		if json.Valid([]byte(n.Value)) {
			return json.Number(n.Value), nil
		}
		var f float64
		if err := n.Decode(&f); err != nil {
			return nil, &nodeError{n.Line, err.Error()}
		}
		return floatNumber(n, f)
	case "!!str", "!!timestamp":
		// A timestamp stays the text it was written as: JSON has no dates.
		return n.Value, nil
	}
	return nil, &nodeError{n.Line, fmt.Sprintf("values tagged %s have no JSON form", n.ShortTag())}
}

func floatNumber(n *yaml.Node, f float64) (any, error) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return nil, &nodeError{n.Line, fmt.Sprintf("%s is not a number JSON can hold", n.Value)}
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
}

// findSecrets reads the secret references of a settings section: each
// secret is `fromEnv: VARIABLE`; a secret written out, or fromEnv anywhere
// else, is a problem.
func findSecrets(path string, settings *yaml.Node) ([]secretRef, []problem) {
	var refs []secretRef
	var problems []problem
	allowed := map[*yaml.Node]bool{}
	take := func(slot secretSlot, index int, item *yaml.Node) {
		ref := secretRef{slot: slot, index: index, line: item.Line}
		env, ok := fromEnvName(item)
		if !ok {
			how := "`secret: {fromEnv: VARIABLE}`"
			if slot.field.list {
				how = "`- fromEnv: VARIABLE`"
			}
			problems = append(problems, problem{File: path, Line: item.Line, Message: fmt.Sprintf(
				"%s: secrets never live in hook files: name an environment variable that holds it, as %s", ref.name(), how)})
			return
		}
		allowed[item] = true
		if !envNamePattern.MatchString(env) {
			problems = append(problems, problem{File: path, Line: item.Line, Message: fmt.Sprintf("fromEnv %q is not an environment variable name", env)})
			return
		}
		ref.env = env
		refs = append(refs, ref)
	}
	for _, field := range secretFields() {
		for _, slot := range field.nodeSlots(settings) {
			node := childNode(slot.parent, slot.at[len(slot.at)-1].(string))
			switch {
			case node == nil:
			case !field.list:
				take(slot.secretSlot, 0, node)
			case node.Kind == yaml.SequenceNode:
				for i, item := range node.Content {
					take(slot.secretSlot, i, item)
				}
			}
			// A list field that is not a list: the schema check reports it.
		}
	}
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if _, ok := fromEnvName(n); ok && !allowed[n] {
			problems = append(problems, problem{File: path, Line: n.Line, Message: "fromEnv is only for secrets (" + secretFieldNames() + ")"})
			return
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(settings)
	return refs, problems
}

// readPause reads what a settings section says about the pause, and drops
// a `paused: false` from settings.
func readPause(path string, node *yaml.Node, settings map[string]any) (pauseMode, []problem) {
	v, ok := settings[pausedKey]
	if !ok {
		return pauseLeft, nil
	}
	switch x := v.(type) {
	case map[string]any:
		return pauseOn, nil // the settings schema checks the rest
	case bool:
		if !x {
			delete(settings, pausedKey)
			return pauseOff, nil
		}
	}
	line := node.Line
	if n := childNode(node, pausedKey); n != nil {
		line = n.Line
	}
	return pauseLeft, []problem{{File: path, Line: line, Message: "paused: write `paused: {reason: ...}` to pause the hook, or `paused: false` to keep it running; " +
		"without `paused`, apply leaves the hook's pause as it is"}}
}

// nodeSlots is slots over a file's settings node: the mapping nodes that
// may hold the field.
func (f secretField) nodeSlots(settings *yaml.Node) []nodeSlot {
	var out []nodeSlot
	var walk func(n *yaml.Node, steps []string, at []any)
	walk = func(n *yaml.Node, steps []string, at []any) {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		if n.Kind != yaml.MappingNode {
			return
		}
		if len(steps) == 1 {
			out = append(out, nodeSlot{secretSlot{field: f, at: append(slices.Clone(at), steps[0])}, n})
			return
		}
		next := childNode(n, steps[0])
		if next == nil {
			return
		}
		at = append(at, steps[0])
		if len(steps) > 2 && steps[1] == schemas.EachItem {
			if next.Kind == yaml.AliasNode {
				next = next.Alias
			}
			if next.Kind == yaml.SequenceNode {
				for i, item := range next.Content {
					walk(item, steps[2:], append(slices.Clone(at), i))
				}
			}
			return
		}
		walk(next, steps[1:], at)
	}
	walk(settings, f.path, nil)
	return out
}

// nodeSlot is a slot and the mapping node that holds its property.
type nodeSlot struct {
	secretSlot
	parent *yaml.Node
}

// fromEnvName reads a `{fromEnv: NAME}` mapping.
func fromEnvName(n *yaml.Node) (string, bool) {
	if n.Kind != yaml.MappingNode || len(n.Content) != 2 || n.Content[0].Value != "fromEnv" || n.Content[1].Kind != yaml.ScalarNode {
		return "", false
	}
	return n.Content[1].Value, true
}

// childNode follows mapping keys from n; nil when one is missing.
func childNode(n *yaml.Node, keys ...string) *yaml.Node {
	for _, k := range keys {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		if n.Kind != yaml.MappingNode {
			return nil
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == k {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

// lineOf is the line of the deepest node along path (mapping keys as
// strings, sequence indexes as ints) that the file has; the line of the
// key itself for a mapping entry, so a message points at the name.
func (f *hookFile) lineOf(path ...any) int {
	line, _ := f.find(path...)
	return line
}

// find follows path as far as the file goes: the line reached and how many
// steps were found.
func (f *hookFile) find(path ...any) (line, depth int) {
	n, line := f.root, f.root.Line
	for depth = 0; depth < len(path); depth++ {
		if n.Kind == yaml.AliasNode {
			n = n.Alias
		}
		switch s := path[depth].(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return line, depth
			}
			var next *yaml.Node
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == s {
					line, next = n.Content[i].Line, n.Content[i+1]
				}
			}
			if next == nil {
				return line, depth
			}
			n = next
		case int:
			if n.Kind != yaml.SequenceNode || s < 0 || s >= len(n.Content) {
				return line, depth
			}
			n = n.Content[s]
			line = n.Line
		default:
			return line, depth
		}
	}
	return line, depth
}

// canonicalJSON encodes v with sorted keys and no HTML escaping.
func canonicalJSON(v any) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic(fmt.Sprintf("hookline: encode JSON value: %v", err)) // values come from JSON or YAML
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n"))
}

// decodeJSON decodes JSON whose validity is known, keeping numbers' text.
func decodeJSON(data []byte) any {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		panic(fmt.Sprintf("hookline: decode JSON known to be valid: %v", err))
	}
	return v
}

// hookFilePath is where a hook's file goes under dir.
func hookFilePath(dir, hookGroupID, hookID, ext string) string {
	return filepath.Join(dir, hookGroupID, filepath.FromSlash(hookID)+ext)
}

// fileableHookID reports whether a hookId maps to a file path and back:
// no empty segments, none that is "." or "..".
func fileableHookID(hookID string) bool {
	for _, seg := range strings.Split(hookID, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return false
		}
	}
	return true
}
