package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"

	udiff "github.com/aymanbagabas/go-udiff"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/hooksclient"
)

// The actions of a plan.
const (
	actionCreate = "create"
	actionUpdate = "update"
	actionDelete = "delete"
)

// change is one step of a plan: a hook to create, update or delete.
type change struct {
	Action      string `json:"action"`
	HookGroupID string `json:"hookGroupId"`
	HookID      string `json:"hookId"`
	// File declares the hook (empty for deletions).
	File string `json:"file,omitempty"`
	// Definition and Settings say what changes.
	Definition bool `json:"definition"`
	Settings   bool `json:"settings"`
	// Diff shows the change, secrets as fingerprints.
	Diff string `json:"diff"`

	// seen is the live hook the plan was made from: apply writes only
	// while the hook is still so, unless forced.
	seen *liveHook
	// file and secretValues are what the change was planned from (nil
	// for deletions), to plan again when forced over a changed hook.
	file         *hookFile
	secretValues map[string]string
	// sendDefinition is the definition to write; sendSettings the
	// settings, with secrets, or nil to leave them.
	sendDefinition []byte
	sendSettings   []byte
}

func (c *change) key() string { return c.HookGroupID + "/" + c.HookID }

// plan is what diff shows and apply performs.
type plan struct {
	RootURL string `json:"rootUrl"`
	// HooklineAPI tells whether the deployment keeps Hookline settings.
	HooklineAPI bool      `json:"hooklineApi"`
	Changes     []*change `json:"changes"`
	Unchanged   int       `json:"unchanged"`
	// Warnings are pre-check findings and secrets that were not compared.
	Warnings []problem `json:"warnings"`
}

// liveHook is a hook as the deployment has it.
type liveHook struct {
	hookGroupID, hookID string
	// definition is the normalized create-hook-request form.
	definition []byte
	// settings is the settings GET reply as is (nil: no Hookline API).
	settings []byte
}

// hookScope selects hooks by "<hookGroupId>/<hookId>" prefixes; an empty
// scope selects every hook.
type hookScope []string

func (s hookScope) all() bool { return len(s) == 0 }

func (s hookScope) has(key string) bool {
	return s.all() || slices.ContainsFunc(s, func(p string) bool { return strings.HasPrefix(key, p) })
}

// mayHoldGroup reports whether some hook of the group can be in scope.
func (s hookScope) mayHoldGroup(group string) bool {
	return s.all() || slices.ContainsFunc(s, func(p string) bool {
		return strings.HasPrefix(group+"/", p) || strings.HasPrefix(p, group+"/")
	})
}

// liveReader reads hooks from the deployment.
type liveReader struct {
	client   *hooksclient.Client
	reg      *schemas.Registry
	hookline bool
	// parallel bounds the settings reads in flight.
	parallel int
}

// read returns the live hooks of the given groups and, with wantAll, of
// the groups that scope may hold, keyed by "<hookGroupId>/<hookId>". When
// the deployment has Hookline's API, the hooks that need reports get their
// settings too.
func (r *liveReader) read(ctx context.Context, groups []string, scope hookScope, wantAll bool, need func(key string) bool) (map[string]*liveHook, error) {
	want := map[string]bool{}
	for _, g := range groups {
		want[g] = true
	}
	if wantAll {
		all, err := r.client.ListHookGroups(ctx)
		if err != nil {
			return nil, err
		}
		for _, g := range all {
			if scope.mayHoldGroup(g) {
				want[g] = true
			}
		}
	}
	names := make([]string, 0, len(want))
	for g := range want {
		names = append(names, g)
	}
	sort.Strings(names)
	live := map[string]*liveHook{}
	for _, g := range names {
		defs, err := r.client.ListHooks(ctx, g)
		if err != nil {
			return nil, err
		}
		for _, raw := range defs {
			var ids struct {
				HookGroupID string `json:"hookGroupId"`
				HookID      string `json:"hookId"`
			}
			if err := json.Unmarshal(raw, &ids); err != nil || ids.HookID == "" {
				return nil, fmt.Errorf("listHooks %s: a hook without ids: %s", g, raw)
			}
			if ids.HookGroupID == "" {
				ids.HookGroupID = g
			}
			def, err := normalizeDefinition(r.reg, raw)
			if err != nil {
				return nil, fmt.Errorf("listHooks %s: %w", g, err)
			}
			live[ids.HookGroupID+"/"+ids.HookID] = &liveHook{hookGroupID: ids.HookGroupID, hookID: ids.HookID, definition: def}
		}
	}
	if !r.hookline {
		return live, nil
	}
	needed := make([]*liveHook, 0, len(live))
	for k, h := range live {
		if need(k) {
			needed = append(needed, h)
		}
	}
	return live, r.readSettings(ctx, needed)
}

// readSettings fills in the settings of every hook, a few at a time.
func (r *liveReader) readSettings(ctx context.Context, live []*liveHook) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	sem := make(chan struct{}, max(r.parallel, 1))
	var wg sync.WaitGroup
	var mu sync.Mutex
	var first error
	for _, h := range live {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			raw, err := r.client.Settings(ctx, h.hookGroupID, h.hookID)
			if hooksclient.IsNotFound(err) {
				// Removed since it was listed: it has no settings.
				raw, err = json.RawMessage(`{}`), nil
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				if first == nil {
					first = err
					cancel()
				}
				return
			}
			h.settings = canonicalJSON(decodeJSON(raw))
		}()
	}
	wg.Wait()
	return first
}

// readOne re-reads one hook just before it is written; nil when it does
// not exist.
func (r *liveReader) readOne(ctx context.Context, hookGroupID, hookID string) (*liveHook, error) {
	raw, err := r.client.Hook(ctx, hookGroupID, hookID)
	if hooksclient.IsNotFound(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	def, err := normalizeDefinition(r.reg, raw)
	if err != nil {
		return nil, err
	}
	h := &liveHook{hookGroupID: hookGroupID, hookID: hookID, definition: def}
	if r.hookline {
		raw, err := r.client.Settings(ctx, hookGroupID, hookID)
		if hooksclient.IsNotFound(err) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
		h.settings = canonicalJSON(decodeJSON(raw))
	}
	return h, nil
}

// normalizeDefinition is a definition (a create-hook-request, or a stored
// hook) as createHook would store it: without its ids, with the schema's
// defaults and bindings filled in. Two definitions are the same hook
// exactly when their normalized forms are equal.
func normalizeDefinition(reg *schemas.Registry, raw []byte) ([]byte, error) {
	doc, ok := decodeJSON(raw).(map[string]any)
	if !ok {
		return nil, fmt.Errorf("a hook definition is not a JSON object: %.100s", raw)
	}
	delete(doc, "hookGroupId")
	delete(doc, "hookId")
	reg.ApplyDefaults(schemas.CreateHookRequest, doc)
	if _, ok := doc["bindings"]; !ok {
		doc["bindings"] = []any{}
	}
	// Numbers compare by value: 1 and 1.0 are one number to the service.
	return canonicalJSON(decodeFloat(canonicalJSON(doc))), nil
}

func decodeFloat(data []byte) any {
	var v any
	_ = json.Unmarshal(data, &v)
	return v
}

// stripDefaults drops from a definition what createHook would fill in by
// itself (an empty schedule and bindings, the default triggerSchema,
// emailOnError: true), so exported files say only what was chosen.
func stripDefaults(reg *schemas.Registry, doc map[string]any) {
	// metadata is seeded empty so that the defaults of its properties are
	// found; it is itself required, so only its properties are stripped.
	defaults := map[string]any{"metadata": map[string]any{}, "bindings": []any{}}
	reg.ApplyDefaults(schemas.CreateHookRequest, defaults)
	for k, d := range defaults {
		v, ok := doc[k]
		if !ok {
			continue
		}
		if k == "metadata" {
			vm, _ := v.(map[string]any)
			dm, _ := d.(map[string]any)
			for mk, md := range dm {
				if mv, ok := vm[mk]; ok && sameJSON(mv, md) {
					delete(vm, mk)
				}
			}
			continue
		}
		if sameJSON(v, d) {
			delete(doc, k)
		}
	}
}

// sameJSON reports whether two JSON values are equal, numbers by value.
func sameJSON(a, b any) bool {
	return bytes.Equal(canonicalJSON(decodeFloat(canonicalJSON(a))), canonicalJSON(decodeFloat(canonicalJSON(b))))
}

// settingsView is a settings document as diff compares and shows it:
// read-only properties dropped, webhook header names as the server stores
// them, and each secret list replaced by its fingerprints (given by
// fingerprints, per secret field; a field without an entry is left out,
// so it is not compared).
func settingsView(reg *schemas.Registry, doc map[string]any, fingerprints map[string][]any) map[string]any {
	view, _ := decodeJSON(canonicalJSON(doc)).(map[string]any)
	if view == nil {
		view = map[string]any{}
	}
	reg.DropReadOnly(schemas.HookSettings, view)
	if w, ok := view["webhook"].(map[string]any); ok {
		if hs, ok := w["headers"].([]any); ok {
			var norm []any
			for _, h := range hs {
				if s, ok := h.(string); ok && !slices.Contains(norm, any(strings.ToLower(s))) {
					norm = append(norm, strings.ToLower(s))
				}
			}
			w["headers"] = append([]any{}, norm...)
		} else if _, isWebhook := w["scheme"]; isWebhook {
			w["headers"] = []any{}
		}
	}
	for _, field := range secretFields() {
		for _, slot := range field.slots(view) {
			delete(slot.parent, slot.name())
			if fps, ok := fingerprints[slot.key()]; ok {
				slot.showFingerprints(fps)
			}
		}
	}
	return view
}

// liveFingerprints reads the fingerprints of each secret slot from a
// settings GET reply, by slot key.
func liveFingerprints(reply map[string]any) map[string][]any {
	out := map[string][]any{}
	for _, field := range secretFields() {
		for _, slot := range field.slots(reply) {
			out[slot.key()] = slot.fingerprints()
		}
	}
	return out
}

// planOptions say how a plan is made.
type planOptions struct {
	// prune are the managed prefixes: live hooks under them that no file
	// declares are deleted, and every file must be under one of them.
	prune hookScope
	// getenv reads the secrets the files name.
	getenv func(string) string
}

// makePlan compares the files with the deployment. Problems (settings
// against a deployment without them, files outside the managed prefixes)
// are returned, each with its file and line; then the plan is empty. A
// secret whose variable is not set is not compared (a warning): callers
// that need every secret check with unsetSecrets first.
func makePlan(ctx context.Context, r *liveReader, files []*hookFile, opts planOptions) (*plan, []problem, error) {
	p := &plan{RootURL: r.client.RootURL(), HooklineAPI: r.hookline, Changes: []*change{}, Warnings: []problem{}}
	var problems []problem
	secrets := map[*hookFile]map[string]string{} // per file, by variable
	for _, f := range files {
		secrets[f] = map[string]string{}
		if !opts.prune.all() && !opts.prune.has(f.key()) {
			problems = append(problems, problem{File: f.path, Line: 1, Message: fmt.Sprintf(
				"declares %s, outside the managed prefixes (--prune %s): add a --prune that covers it, or move the file", f.key(), strings.Join(opts.prune, " --prune "))})
		}
		if len(f.settings) > 0 && !r.hookline {
			problems = append(problems, problem{File: f.path, Line: f.lineOf(settingsKey), Message: fmt.Sprintf(
				"settings: %s has no Hookline API (%s/): it answers like upstream Taskcluster, which keeps no hook settings; remove the settings section to manage this hook there",
				r.client.RootURL(), hooksclient.HooklineBasePath)})
		}
		for _, ref := range f.secrets {
			if v := opts.getenv(ref.env); v != "" {
				secrets[f][ref.env] = v
				continue
			}
			p.Warnings = append(p.Warnings, problem{File: f.path, Line: ref.line, Warning: true, Message: fmt.Sprintf(
				"%s is not compared: the environment variable %s is not set", ref.name(), ref.env)})
		}
	}
	if len(problems) > 0 {
		return nil, problems, nil
	}

	groups := map[string]bool{}
	for _, f := range files {
		groups[f.hookGroupID] = true
	}
	groupList := make([]string, 0, len(groups))
	for g := range groups {
		groupList = append(groupList, g)
	}
	declared := map[string]bool{}
	for _, f := range files {
		declared[f.key()] = true
	}
	live, err := r.read(ctx, groupList, opts.prune, !opts.prune.all(), func(k string) bool {
		return declared[k] || (!opts.prune.all() && opts.prune.has(k))
	})
	if err != nil {
		return nil, nil, err
	}

	for _, f := range files {
		c, err := planFile(r.reg, f, live[f.key()], secrets[f])
		if err != nil {
			return nil, nil, err
		}
		if c == nil {
			p.Unchanged++
			continue
		}
		p.Changes = append(p.Changes, c)
	}
	if !opts.prune.all() {
		var keys []string
		for k := range live {
			if opts.prune.has(k) && !declared[k] {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		for _, k := range keys {
			h := live[k]
			var view map[string]any
			if h.settings != nil {
				reply, _ := decodeJSON(h.settings).(map[string]any)
				view = settingsView(r.reg, reply, nil)
			}
			p.Changes = append(p.Changes, &change{Action: actionDelete, HookGroupID: h.hookGroupID, HookID: h.hookID, Definition: true, Settings: len(view) > 0,
				Diff: unifiedDiff(k, displayDoc(h.definition, view), ""), seen: h})
		}
	}
	return p, nil, nil
}

// unsetSecrets reports each secret whose environment variable is not set.
func unsetSecrets(files []*hookFile, getenv func(string) string) []problem {
	var out []problem
	for _, f := range files {
		for _, ref := range f.secrets {
			if getenv(ref.env) == "" {
				out = append(out, problem{File: f.path, Line: ref.line, Message: fmt.Sprintf(
					"%s: the environment variable %s, which holds this secret, is not set (diff --no-secrets compares without it)", ref.name(), ref.env)})
			}
		}
	}
	return out
}

// planFile compares one file with its live hook (nil when there is none)
// and returns the change, or nil when there is nothing to do.
func planFile(reg *schemas.Registry, f *hookFile, h *liveHook, secretValues map[string]string) (*change, error) {
	want, err := normalizeDefinition(reg, f.definition)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.path, err)
	}
	// The settings the file asks for, as sent (with the secrets) and as
	// compared (secrets as fingerprints; one whose variable is not set is
	// not compared).
	desired, sendDoc := map[string]any{}, map[string]any{}
	if f.settings != nil {
		desired = fillSecrets(f, func(secretRef) string { return "" })
		sendDoc = fillSecrets(f, func(ref secretRef) string { return secretValues[ref.env] })
	}
	desiredFPs := map[string][]any{}
	unknown := map[string]bool{}
	for _, ref := range f.secrets {
		field := ref.slot.key()
		v, ok := secretValues[ref.env]
		if !ok {
			unknown[field] = true
			continue
		}
		desiredFPs[field] = append(desiredFPs[field], hooks.SecretFingerprint(v))
	}
	for field := range unknown {
		delete(desiredFPs, field)
	}
	wantView := settingsView(reg, desired, desiredFPs)

	c := &change{HookGroupID: f.hookGroupID, HookID: f.hookID, File: f.path, seen: h, file: f, secretValues: secretValues, sendDefinition: want}
	if h == nil {
		c.Action, c.Definition = actionCreate, true
		c.Settings = len(wantView) > 0
		if c.Settings {
			c.sendSettings = canonicalJSON(sendDoc)
		}
		c.Diff = unifiedDiff(f.key(), "", displayDoc(want, wantView))
		return c, nil
	}
	var liveView map[string]any
	if h.settings != nil {
		reply, _ := decodeJSON(h.settings).(map[string]any)
		fps := liveFingerprints(reply)
		for field := range fps {
			if _, compared := desiredFPs[field]; !compared {
				delete(fps, field)
			}
		}
		liveView = settingsView(reg, reply, fps)
	} else {
		liveView = map[string]any{}
	}
	if f.pause == pauseLeft {
		// The file leaves the pause to the pause API: it is not compared,
		// and a settings write sends the live pause back, which keeps it
		// (its since and by too) where a write without it would resume
		// the hook.
		if p, ok := liveView[pausedKey]; ok {
			sendDoc[pausedKey] = p
			delete(liveView, pausedKey)
		}
	}
	c.Definition = !bytes.Equal(want, h.definition)
	c.Settings = !bytes.Equal(canonicalJSON(wantView), canonicalJSON(liveView))
	if !c.Definition && !c.Settings {
		return nil, nil
	}
	c.Action = actionUpdate
	if c.Settings {
		c.sendSettings = canonicalJSON(sendDoc)
	}
	c.Diff = unifiedDiff(f.key(), displayDoc(h.definition, liveView), displayDoc(want, wantView))
	return c, nil
}

// displayDoc is a hook as a diff shows it: its normalized definition, with
// the settings view under `settings` when there are any, as YAML.
func displayDoc(definition []byte, settings map[string]any) string {
	doc, _ := decodeJSON(definition).(map[string]any)
	if len(settings) > 0 {
		doc[settingsKey] = settings
	}
	out, err := encodeYAML(doc, true)
	if err != nil {
		return string(canonicalJSON(doc)) + "\n"
	}
	return string(out)
}

// unifiedDiff is a unified diff of two renderings of the hook key.
func unifiedDiff(key, before, after string) string {
	from, to := "live/"+key, "files/"+key
	if before == "" {
		from = "/dev/null"
	}
	if after == "" {
		to = "/dev/null"
	}
	return udiff.Unified(from, to, before, after)
}

// printPlan writes the plan for people: each change with its diff, then a
// summary line.
func printPlan(w *strings.Builder, p *plan, showDiffs bool) {
	for _, c := range p.Changes {
		what := []string{}
		if c.Action == actionUpdate {
			if c.Definition {
				what = append(what, "definition")
			}
			if c.Settings {
				what = append(what, "settings")
			}
		}
		line := fmt.Sprintf("%s %s", c.Action, c.key())
		if len(what) > 0 {
			line += " (" + strings.Join(what, ", ") + ")"
		}
		if c.File != "" {
			line += "  " + c.File
		}
		w.WriteString(line + "\n")
		if showDiffs {
			w.WriteString(indent(c.Diff, "    "))
		}
	}
	counts := map[string]int{}
	for _, c := range p.Changes {
		counts[c.Action]++
	}
	fmt.Fprintf(w, "%s: %d to create, %d to update, %d to delete, %d unchanged\n",
		p.RootURL, counts[actionCreate], counts[actionUpdate], counts[actionDelete], p.Unchanged)
}

func indent(s, prefix string) string {
	if s == "" {
		return ""
	}
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	if !strings.HasSuffix(s, "\n") {
		b.WriteString("\n")
	}
	return b.String()
}
