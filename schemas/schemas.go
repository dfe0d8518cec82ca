// Package schemas embeds the Taskcluster hooks v1 JSON schemas (and the queue
// schemas they lead to), plus those of Hookline's own API under hookline/v1,
// and compiles them once with gojsonschema.
//
// Upstream schemas carry root-relative ids such as
// "/schemas/hooks/v1/hook-definition.json#". They are loaded into one
// registry under a fixed base URL so that relative references resolve
// without any network access. Requests are validated against them and get
// the schema defaults applied, as upstream's validator does; responses are
// validated in tests.
package schemas

import (
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/xeipuuv/gojsonschema"
)

//go:embed hooks hookline common queue references
var files embed.FS

// base is where the registry pretends the schemas live. It is never
// fetched: every reference resolves inside the registry.
const base = "https://schemas.hookline.invalid"

// Ids of the schemas the service validates against.
const (
	CreateHookRequest       = "/schemas/hooks/v1/create-hook-request.json#"
	HookDefinition          = "/schemas/hooks/v1/hook-definition.json#"
	HookStatus              = "/schemas/hooks/v1/hook-status.json#"
	ListHookGroupsResponse  = "/schemas/hooks/v1/list-hook-groups-response.json#"
	ListHooksResponse       = "/schemas/hooks/v1/list-hooks-response.json#"
	ListLastFiresResponse   = "/schemas/hooks/v1/list-lastFires-response.json#"
	TriggerHook             = "/schemas/hooks/v1/trigger-hook.json#"
	TriggerHookResponse     = "/schemas/hooks/v1/trigger-hook-response.json#"
	TriggerTokenResponse    = "/schemas/hooks/v1/trigger-token-response.json#"
	HookChangedMessage      = "/schemas/hooks/v1/pulse-hook-changed-message.json#"
	Schedule                = "/schemas/hooks/v1/schedule.json#"
	Bindings                = "/schemas/hooks/v1/bindings.json#"
	QueueCreateTaskRequest  = "/schemas/queue/v1/create-task-request.json#"
	QueueTaskStatus         = "/schemas/queue/v1/task-status.json#"
	QueueTaskDefinitionResp = "/schemas/queue/v1/task.json#"

	// Hookline's own API (/api/hookline/v1/), beyond upstream.
	HookSettings          = "/schemas/hookline/v1/hook-settings.json#"
	HookSettingsResponse  = "/schemas/hookline/v1/hook-settings-response.json#"
	PauseRequest          = "/schemas/hookline/v1/pause-request.json#"
	PauseStatus           = "/schemas/hookline/v1/pause-status.json#"
	Decision              = "/schemas/hookline/v1/decision.json#"
	ListDecisionsResponse = "/schemas/hookline/v1/list-decisions-response.json#"
	CheckHookRequest      = "/schemas/hookline/v1/check-hook-request.json#"
	CheckHookResponse     = "/schemas/hookline/v1/check-hook-response.json#"
	WhoAmIResponse        = "/schemas/hookline/v1/whoami-response.json#"
	ScheduleListing       = "/schemas/hookline/v1/schedule-listing.json#"
	BackfillRequest       = "/schemas/hookline/v1/backfill-request.json#"
	BackfillResponse      = "/schemas/hookline/v1/backfill-response.json#"

	// Outcomes and notifications (issue 18).
	NotifySettings            = "/schemas/hookline/v1/notify-settings.json#"
	HookEvent                 = "/schemas/hookline/v1/hook-event.json#"
	Notification              = "/schemas/hookline/v1/notification.json#"
	ListNotificationsResponse = "/schemas/hookline/v1/list-notifications-response.json#"
	HooklineHookStatus        = "/schemas/hookline/v1/hook-status.json#"
	TaskOutcome               = "/schemas/hookline/v1/task-outcome.json#"
)

// Registry holds every embedded schema, compiled on first use: a Lambda
// function validates against a few of them, and compiling all of them cost
// its cold start several milliseconds. It is safe for concurrent use.
type Registry struct {
	raw map[string]map[string]any // by id, for defaults

	mu       sync.Mutex
	loader   *gojsonschema.SchemaLoader
	compiled map[string]*gojsonschema.Schema
	checks   map[string]*checkNode // the pre-check's (precheck.go), by id
}

// ValidationError lists the ways a document breaks a schema: the first
// MaxProblems, and how many more there are.
type ValidationError struct {
	SchemaID string
	// Problems are the first MaxProblems problems, each as
	// `field: description`.
	Problems []string
	// More counts the problems beyond Problems.
	More int
	// AtLeast marks a document refused by the pre-check (precheck.go),
	// which stops looking after the problems that are certain: More is
	// then a lower bound.
	AtLeast bool
}

func (e *ValidationError) Error() string {
	msg := "schema " + e.SchemaID + ": " + strings.Join(e.Problems, "; ")
	if more := e.MoreLine(); more != "" {
		msg += "; " + more
	}
	return msg
}

// MoreLine is what follows the listed problems: "and 12 more", "and at
// least 12 more", or "" when every problem is listed.
func (e *ValidationError) MoreLine() string {
	return moreLine(e.More, e.AtLeast)
}

func moreLine(more int, atLeast bool) string {
	switch {
	case more <= 0:
		return ""
	case atLeast:
		return "and at least " + strconv.Itoa(more) + " more"
	default:
		return "and " + strconv.Itoa(more) + " more"
	}
}

// New loads every embedded schema. Call it once at start-up and share the
// registry.
func New() (*Registry, error) {
	return load()
}

func load() (*Registry, error) {
	r := &Registry{raw: map[string]map[string]any{}, compiled: map[string]*gojsonschema.Schema{}, checks: map[string]*checkNode{}}
	loader := gojsonschema.NewSchemaLoader()
	loader.Draft = gojsonschema.Draft6
	loader.AutoDetect = false
	var ids []string
	err := fs.WalkDir(files, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || strings.HasPrefix(path, "references/") || !strings.HasSuffix(path, ".json") {
			return err
		}
		data, err := files.ReadFile(path)
		if err != nil {
			return err
		}
		var doc map[string]any
		if err := json.Unmarshal(data, &doc); err != nil {
			return fmt.Errorf("schemas: parse %s: %w", path, err)
		}
		id, _ := doc["$id"].(string)
		if id == "" {
			return fmt.Errorf("schemas: %s has no $id", path)
		}
		if id == "/schemas/common/metaschema.json#" {
			// The Taskcluster metaschema only points at draft-06, which
			// gojsonschema knows; it is not needed for validation.
			return nil
		}
		r.raw[id] = doc
		ids = append(ids, id)
		abs := absolutize(doc)
		return loader.AddSchemas(gojsonschema.NewGoLoader(abs))
	})
	if err != nil {
		return nil, fmt.Errorf("schemas: load: %w", err)
	}
	r.loader = loader
	return r, nil
}

// schema returns the compiled schema id, compiling it on first use.
func (r *Registry) schema(id string) (*gojsonschema.Schema, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if s, ok := r.compiled[id]; ok {
		return s, nil
	}
	if _, ok := r.raw[id]; !ok {
		return nil, fmt.Errorf("schemas: unknown schema %s", id)
	}
	s, err := r.loader.Compile(gojsonschema.NewReferenceLoader(base + id))
	if err != nil {
		return nil, fmt.Errorf("schemas: compile %s: %w", id, err)
	}
	r.compiled[id] = s
	return s, nil
}

// check returns the pre-check of the schema id, compiling it on first
// use. It is called after schema(id) succeeded.
func (r *Registry) check(id string) *checkNode {
	r.mu.Lock()
	defer r.mu.Unlock()
	if n, ok := r.checks[id]; ok {
		return n
	}
	c := checkCompiler{resolve: r.resolveAny, refs: map[string]*checkNode{}}
	n := c.compile(id, r.raw[id], 0)
	r.checks[id] = n
	return n
}

// CompileAll compiles every schema now, so a broken one is found at once
// (tests, and processes that prefer to fail at start).
func (r *Registry) CompileAll() error {
	ids := make([]string, 0, len(r.raw))
	for id := range r.raw {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if _, err := r.schema(id); err != nil {
			return err
		}
	}
	return nil
}

// absolutize returns a deep copy of doc with its $id made absolute under
// base and $schema dropped (it names Taskcluster's metaschema, which is only
// draft-06 by another name).
func absolutize(doc map[string]any) map[string]any {
	out := make(map[string]any, len(doc))
	for k, v := range doc {
		switch k {
		case "$schema":
			continue
		case "$id":
			out[k] = base + v.(string)
		default:
			out[k] = v
		}
	}
	return out
}

// Validate checks doc (a value from encoding/json) against the schema id.
// It returns a *ValidationError listing the first MaxProblems problems.
// Its time is linear in doc: a document with many problems that are
// certain is refused by the pre-check (precheck.go) before gojsonschema
// runs, and one that matches a schema the pre-check checks in full is
// accepted without it.
func (r *Registry) Validate(id string, doc any) error {
	s, err := r.schema(id)
	if err != nil {
		return err
	}
	problems, n, valid := precheck(r.check(id), doc, false)
	switch {
	case n > 0:
		return &ValidationError{SchemaID: id, Problems: problems, More: n - len(problems), AtLeast: true}
	case valid:
		return nil
	}
	res, err := s.Validate(gojsonschema.NewGoLoader(doc))
	if err != nil {
		return fmt.Errorf("schemas: validate against %s: %w", id, err)
	}
	if res.Valid() {
		return nil
	}
	errs := res.Errors()
	return &ValidationError{SchemaID: id, Problems: describe(errs), More: max(0, len(errs)-MaxProblems)}
}

// Precheck refuses doc, decoded, when the pre-check (precheck.go) finds
// more than MaxProblems problems that are certain, as Validate would; it
// returns nil otherwise. It lets a caller that validates the raw bytes
// (ValidateJSON) refuse in linear time the documents whose many problems
// gojsonschema would take long to list.
func (r *Registry) Precheck(id string, doc any) error {
	if _, err := r.schema(id); err != nil {
		return err
	}
	if problems, n, _ := precheck(r.check(id), doc, false); n > 0 {
		return &ValidationError{SchemaID: id, Problems: problems, More: n - len(problems), AtLeast: true}
	}
	return nil
}

// ValidateJSON is Validate for raw JSON. It hands the bytes to the
// validator as they are, which saves re-encoding a decoded document.
func (r *Registry) ValidateJSON(id string, data []byte) error {
	s, err := r.schema(id)
	if err != nil {
		return err
	}
	res, err := s.Validate(gojsonschema.NewBytesLoader(data))
	if err != nil {
		return fmt.Errorf("schemas: validate against %s: %w", id, err)
	}
	if res.Valid() {
		return nil
	}
	errs := res.Errors()
	return &ValidationError{SchemaID: id, Problems: describe(errs), More: max(0, len(errs)-MaxProblems)}
}

// describe turns the first MaxProblems of gojsonschema's errors into
// stable, readable lines such as `metadata.owner: Does not match format
// 'email'`.
func describe(errs []gojsonschema.ResultError) []string {
	errs = errs[:min(len(errs), MaxProblems)]
	out := make([]string, 0, len(errs))
	for _, e := range errs {
		field := e.Field()
		if field == "(root)" {
			field = "body"
		}
		out = append(out, field+": "+e.Description())
	}
	return out
}

// ApplyDefaults inserts the schema's `default` values into doc wherever a
// property is missing, following $refs, as upstream's validator does before
// a handler sees the request. doc is modified in place.
func (r *Registry) ApplyDefaults(id string, doc map[string]any) {
	r.applyDefaults(id, r.raw[id], doc, 0)
}

func (r *Registry) applyDefaults(currentID string, schema map[string]any, doc map[string]any, depth int) {
	if schema == nil || depth > 32 {
		return
	}
	if ref, ok := schema["$ref"].(string); ok {
		id := resolveRef(currentID, ref)
		r.applyDefaults(id, r.raw[id], doc, depth+1)
		return
	}
	props, _ := schema["properties"].(map[string]any)
	for name, p := range props {
		prop, _ := p.(map[string]any)
		if prop == nil {
			continue
		}
		if _, present := doc[name]; !present {
			if def, ok := prop["default"]; ok {
				doc[name] = deepCopy(def)
				continue
			}
		}
		if child, ok := doc[name].(map[string]any); ok {
			r.applyDefaults(currentID, prop, child, depth+1)
		}
	}
}

// resolveSchema resolves a $ref found in the schema currentID: a
// whole-document reference such as "bindings.json#", or a pointer into the
// same document such as "#/definitions/target". It returns the id of the
// document the schema is in, for the references inside it, and the schema.
func (r *Registry) resolveSchema(currentID, ref string) (string, map[string]any) {
	if !strings.HasPrefix(ref, "#/") {
		id := resolveRef(currentID, ref)
		return id, r.raw[id]
	}
	base, _, _ := strings.Cut(currentID, "#")
	base += "#"
	var node any = r.raw[base]
	for _, step := range strings.Split(ref[2:], "/") {
		step = strings.ReplaceAll(strings.ReplaceAll(step, "~1", "/"), "~0", "~")
		m, _ := node.(map[string]any)
		node = m[step]
	}
	schema, _ := node.(map[string]any)
	return base, schema
}

// resolveAny is resolveSchema for any reference within the registry:
// also a pointer into another document, "task.json#/properties/routes".
// It returns a nil schema for what it cannot find.
func (r *Registry) resolveAny(currentID, ref string) (string, map[string]any) {
	doc, pointer, _ := strings.Cut(ref, "#")
	if doc == "" {
		return r.resolveSchema(currentID, ref)
	}
	id := resolveRef(currentID, doc+"#")
	if pointer == "" {
		return id, r.raw[id]
	}
	return r.resolveSchema(id, "#"+pointer)
}

// resolveRef resolves a whole-document reference such as "bindings.json#"
// against the id of the schema it appears in.
func resolveRef(currentID, ref string) string {
	if strings.HasPrefix(ref, "/") {
		return ref
	}
	dir := currentID[:strings.LastIndex(currentID, "/")+1]
	return dir + ref
}

func deepCopy(v any) any {
	switch t := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, e := range t {
			out[k] = deepCopy(e)
		}
		return out
	case []any:
		out := make([]any, len(t))
		for i, e := range t {
			out[i] = deepCopy(e)
		}
		return out
	}
	return v
}

// ErrRemoteRef is returned for user schemas that reference anything outside
// themselves.
var ErrRemoteRef = errors.New("only local references (starting with #) are allowed")

// UserSchema is a compiled user schema (a hook's triggerSchema), with its
// pre-check (precheck.go).
type UserSchema struct {
	compiled *gojsonschema.Schema
	check    *checkNode
}

// CompileUser compiles a schema supplied by a user (a hook's triggerSchema).
// It is checked against the draft-07 metaschema, as upstream does, and any
// $ref that is not local to the document is refused: gojsonschema would
// otherwise fetch it over the network.
func CompileUser(schema map[string]any) (*UserSchema, error) {
	if err := checkLocalRefs(schema, "", 0); err != nil {
		return nil, err
	}
	loader := gojsonschema.NewSchemaLoader()
	loader.Validate = true
	loader.Draft = gojsonschema.Draft7
	loader.AutoDetect = false
	s, err := loader.Compile(gojsonschema.NewGoLoader(withoutSchemaKeyword(schema)))
	if err != nil {
		return nil, fmt.Errorf("%s", strings.TrimSpace(err.Error()))
	}
	c := checkCompiler{resolve: localResolver(schema), refs: map[string]*checkNode{}}
	return &UserSchema{compiled: s, check: c.compile("#", schema, 0)}, nil
}

// localResolver resolves the local references of a user schema ("#",
// "#/definitions/x") for its pre-check; checkLocalRefs has refused others.
func localResolver(root map[string]any) func(string, string) (string, map[string]any) {
	return func(_, ref string) (string, map[string]any) {
		if ref == "#" {
			return "#", root
		}
		rest, ok := strings.CutPrefix(ref, "#/")
		if !ok {
			return "#", nil
		}
		var node any = root
		for _, step := range strings.Split(rest, "/") {
			step = strings.ReplaceAll(strings.ReplaceAll(step, "~1", "/"), "~0", "~")
			m, _ := node.(map[string]any)
			node = m[step]
		}
		schema, _ := node.(map[string]any)
		return "#", schema
	}
}

// withoutSchemaKeyword drops a top-level $schema: user schemas are always
// treated as draft-07, and a $schema pointing elsewhere must not be fetched.
func withoutSchemaKeyword(schema map[string]any) map[string]any {
	if _, ok := schema["$schema"]; !ok {
		return schema
	}
	out := make(map[string]any, len(schema))
	for k, v := range schema {
		if k != "$schema" {
			out[k] = v
		}
	}
	return out
}

func checkLocalRefs(v any, path string, depth int) error {
	if depth > 64 {
		return fmt.Errorf("schema is nested more than 64 levels deep")
	}
	switch t := v.(type) {
	case map[string]any:
		for k, e := range t {
			if k == "$ref" {
				if s, ok := e.(string); ok && !strings.HasPrefix(s, "#") {
					return fmt.Errorf("%s/$ref %q: %w", path, s, ErrRemoteRef)
				}
			}
			if k == "$id" || k == "id" {
				if s, ok := e.(string); ok && !strings.HasPrefix(s, "#") && depth > 0 {
					return fmt.Errorf("%s/%s %q: nested schema ids are not supported", path, k, s)
				}
			}
			if err := checkLocalRefs(e, path+"/"+k, depth+1); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range t {
			if err := checkLocalRefs(e, fmt.Sprintf("%s/%d", path, i), depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}

// ValidateUser validates doc against a compiled user schema, returning the
// first MaxProblems problems in Ajv's `data/path message` style joined by
// "; ", then "and N more" (or "and at least N more" when the pre-check
// refused doc: see Validate).
func ValidateUser(s *UserSchema, doc any) (string, error) {
	problems, n, valid := precheck(s.check, doc, true)
	switch {
	case n > 0:
		return joinProblems(problems, moreLine(n-len(problems), true)), nil
	case valid:
		return "", nil
	}
	res, err := s.compiled.Validate(gojsonschema.NewGoLoader(doc))
	if err != nil {
		return "", err
	}
	if res.Valid() {
		return "", nil
	}
	errs := res.Errors()
	parts := make([]string, 0, min(len(errs), MaxProblems))
	for _, e := range errs[:min(len(errs), MaxProblems)] {
		field := "data"
		if f := e.Field(); f != "(root)" {
			field = "data/" + strings.ReplaceAll(f, ".", "/")
		}
		parts = append(parts, field+" "+e.Description())
	}
	return joinProblems(parts, moreLine(len(errs)-len(parts), false)), nil
}

func joinProblems(parts []string, more string) string {
	if more != "" {
		parts = append(parts, more)
	}
	return strings.Join(parts, "; ")
}

// File returns an embedded file, such as "references/api.json".
func File(name string) ([]byte, error) { return files.ReadFile(name) }
