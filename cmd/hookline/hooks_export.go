package main

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/hookline/hookline/schemas"
)

// runHooksExport is `hookline hooks export`: the live hooks in scope,
// written one file per hook. A file is rewritten only when its content
// changes, and hook files in scope whose hook no longer exists are
// removed, so DIR mirrors the deployment and an export followed by diff
// shows no change.
func runHooksExport(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("hookline hooks export", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var groups, prefixes multiFlag
	fs.Var(&groups, "group", "export this hook group (repeatable)")
	fs.Var(&prefixes, "prefix", "export the hooks whose <hookGroupId>/<hookId> starts with this (repeatable)")
	format := fs.String("format", "yaml", "yaml or json")
	withPauses := fs.Bool("with-pauses", false, "write each paused hook's pause into its file (paused: {reason: ...}), so that apply manages it")
	rest, err := parseInterspersed(fs, args)
	if err != nil {
		return hooksError
	}
	if len(rest) != 1 || (*format != "yaml" && *format != "json") {
		fmt.Fprint(stderr, hooksUsage)
		return hooksError
	}
	fail := func(err error) int {
		fmt.Fprintln(stderr, "hookline hooks export:", err)
		return hooksError
	}
	dir := rest[0]
	scope := hookScope(prefixes)
	for _, g := range groups {
		if !hookGroupIDPattern.MatchString(g) {
			return fail(fmt.Errorf("--group %q is not a hookGroupId", g))
		}
		scope = append(scope, g+"/")
	}
	env, err := newHooksEnv(getenv)
	if err != nil {
		return fail(err)
	}
	r, err := env.reader(ctx)
	if err != nil {
		return fail(err)
	}
	live, err := r.read(ctx, nil, scope, true, scope.has)
	if err != nil {
		return fail(err)
	}
	var keys []string
	for k, h := range live {
		if !scope.has(k) {
			continue
		}
		if !fileableHookID(h.hookID) {
			return fail(fmt.Errorf("hook %s has empty segments in its hookId, which no file path can hold", k))
		}
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ext := "." + *format

	existing, err := listHookFiles(dir)
	if err != nil {
		return fail(err)
	}
	written, same, removed := 0, 0, 0
	for _, k := range keys {
		h := live[k]
		path := hookFilePath(dir, h.hookGroupID, h.hookID, ext)
		doc := exportDoc(env.reg, h, existingFile(k, existing[k]), *withPauses)
		data, err := encodeHookFile(doc, *format)
		if err != nil {
			return fail(fmt.Errorf("%s: %w", k, err))
		}
		changed, err := writeIfChanged(path, data)
		if err != nil {
			return fail(err)
		}
		if changed {
			written++
		} else {
			same++
		}
		// Another file declaring the same hook (the other format) would
		// make the directory say it twice.
		for _, other := range existing[k] {
			if other != path {
				if err := os.Remove(other); err != nil {
					return fail(err)
				}
				removed++
			}
		}
	}
	for k, paths := range existing {
		if _, ok := live[k]; ok || !scope.has(k) {
			continue
		}
		for _, p := range paths {
			if err := os.Remove(p); err != nil {
				return fail(err)
			}
			fmt.Fprintf(stdout, "removed %s: %s no longer exists\n", p, k)
			removed++
		}
	}
	fmt.Fprintf(stdout, "exported %s from %s to %s: %d written, %d unchanged, %d removed\n",
		describeCount(len(keys), "hook"), env.client.RootURL(), dir, written, same, removed)
	return 0
}

// exportDoc is a live hook as its file holds it: the definition without
// ids or defaults, and the settings without read-only parts. Secrets are
// never returned by the API; when the file being replaced names them by
// environment variables and the hook still has that many, those names
// are kept. A pause is written only when withPauses asks for it or the
// file being replaced manages the pause (see exportPause).
func exportDoc(reg *schemas.Registry, h *liveHook, old *hookFile, withPauses bool) map[string]any {
	doc, _ := decodeJSON(h.definition).(map[string]any)
	stripDefaults(reg, doc)
	if h.settings == nil {
		return doc
	}
	reply, _ := decodeJSON(h.settings).(map[string]any)
	fps := liveFingerprints(reply)
	settings, _ := decodeJSON(h.settings).(map[string]any)
	reg.DropReadOnly(schemas.HookSettings, settings)
	if old != nil {
		for _, field := range secretFields() {
			for _, slot := range field.slots(settings) {
				key := slot.key()
				var refs []any
				for _, ref := range old.secrets {
					if ref.slot.key() == key {
						refs = append(refs, map[string]any{"fromEnv": ref.env})
					}
				}
				if len(refs) == 0 || len(refs) != len(fps[key]) || !sameItems(old.settings, settings, slot.at) {
					continue
				}
				if field.list {
					slot.parent[slot.name()] = refs
				} else {
					slot.parent[slot.name()] = refs[0]
				}
			}
		}
	}
	exportPause(settings, old, withPauses)
	if len(settings) > 0 {
		doc[settingsKey] = settings
	}
	return doc
}

// sameItems reports whether two settings documents have the same list
// items on the way to the secret at path: items that agree on every string
// property both have (a notify target's type and url), so that a variable
// the old file names for one target is not given to another one that now
// stands at its index.
func sameItems(old, live map[string]any, path []any) bool {
	var a, b any = old, live
	for _, step := range path[:len(path)-1] {
		switch k := step.(type) {
		case string:
			ma, _ := a.(map[string]any)
			mb, _ := b.(map[string]any)
			a, b = ma[k], mb[k]
		case int:
			la, _ := a.([]any)
			lb, _ := b.([]any)
			if k >= len(la) || k >= len(lb) {
				return false
			}
			a, b = la[k], lb[k]
			ma, _ := a.(map[string]any)
			mb, _ := b.(map[string]any)
			for key, va := range ma {
				sa, aIsString := va.(string)
				sb, bIsString := mb[key].(string)
				if aIsString && bIsString && sa != sb {
					return false
				}
			}
		}
	}
	return true
}

// exportPause decides what an exported file says about the pause, in
// settings (the live ones, read-only parts dropped). A file manages the
// pause only when it says so, so by default none is written: on-call's
// pauses stay out of the files, and applying them leaves those pauses be.
// withPauses writes each live pause; a file being replaced that managed
// the pause keeps managing it, with the live state (`paused: false` for a
// hook that is not paused).
func exportPause(settings map[string]any, old *hookFile, withPauses bool) {
	managed := old != nil && old.pause != pauseLeft
	_, paused := settings[pausedKey]
	switch {
	case paused && !managed && !withPauses:
		delete(settings, pausedKey)
	case !paused && managed:
		settings[pausedKey] = false
	}
}

// existingFile parses the first readable file that declares a hook, for
// what an export keeps from it; nil when there is none.
func existingFile(key string, paths []string) *hookFile {
	group, id, _ := strings.Cut(key, "/")
	for _, p := range paths {
		if f, probs := parseHookFile(p, group, id); len(probs) == 0 && f != nil {
			return f
		}
	}
	return nil
}

// listHookFiles finds the hook files under dir, by "<hookGroupId>/<hookId>".
// A missing dir has none.
func listHookFiles(dir string) (map[string][]string, error) {
	out := map[string][]string{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if os.IsNotExist(err) && path == dir {
			return filepath.SkipAll
		}
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
		key := parts[0] + "/" + strings.TrimSuffix(strings.Join(parts[1:], "/"), ext)
		out[key] = append(out[key], path)
		return nil
	})
	return out, err
}

// writeIfChanged writes data to path (through a temporary file and a
// rename, so a reader never sees half a file) unless it already holds
// exactly that. It reports whether it wrote.
func writeIfChanged(path string, data []byte) (bool, error) {
	if old, err := os.ReadFile(path); err == nil && bytes.Equal(old, data) {
		return false, nil
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".hookline-export-*")
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return false, err
	}
	if err := tmp.Close(); err != nil {
		return false, err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return false, err
	}
	return true, os.Rename(tmp.Name(), path)
}
