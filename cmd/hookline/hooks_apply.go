package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
)

// applyOptions say how a plan is applied.
type applyOptions struct {
	// force writes even where the hook changed since the plan was made.
	force bool
}

// applyResult says what apply did.
type applyResult struct {
	// Done are the changes made, as "<action> <hookGroupId>/<hookId>".
	Done []string `json:"done"`
	// NotDone are the changes not made, the failed one first.
	NotDone []string `json:"notDone"`
	// Notes are things worth knowing that did not stop apply.
	Notes []string `json:"notes,omitempty"`
	// Error is why apply stopped, or "".
	Error string `json:"error,omitempty"`
}

// applyPlan performs the plan's changes in order: the plan lists creates
// and updates (definition first, then settings) before deletions. Before
// each write the hook is read again and compared with what the plan saw:
// the hooks API has no ETag or conditional write, so this is how a change
// made by someone else since the plan is found and reported rather than
// overwritten (unless forced). The first error stops apply; rerunning it
// plans again from what was done, so it converges.
func applyPlan(ctx context.Context, r *liveReader, p *plan, opts applyOptions) *applyResult {
	res := &applyResult{Done: []string{}, NotDone: []string{}}
	for i, c := range p.Changes {
		note, err := applyChange(ctx, r, c, opts)
		if note != "" {
			res.Notes = append(res.Notes, note)
		}
		if err != nil {
			res.Error = fmt.Sprintf("%s %s: %v", c.Action, c.key(), err)
			for _, rest := range p.Changes[i:] {
				res.NotDone = append(res.NotDone, rest.Action+" "+rest.key())
			}
			return res
		}
		res.Done = append(res.Done, c.Action+" "+c.key())
	}
	return res
}

// applyChange makes one change, after checking the hook is as the plan saw
// it. Forced over a hook that changed, it writes what now differs from the
// file.
func applyChange(ctx context.Context, r *liveReader, c *change, opts applyOptions) (string, error) {
	cur, err := r.readOne(ctx, c.HookGroupID, c.HookID)
	if err != nil {
		return "", fmt.Errorf("read it again before writing: %w", err)
	}
	if c.Action == actionDelete && cur == nil {
		return c.key() + " was already removed", nil
	}
	if what := drift(c.seen, cur); what != "" {
		if !opts.force {
			return "", fmt.Errorf("%w (%s): not overwritten; run diff to see it, or apply --force to overwrite it", errConflict, what)
		}
		if c.Action != actionDelete {
			again, err := planFile(r.reg, c.file, cur, c.secretValues)
			if err != nil {
				return "", err
			}
			if again == nil {
				return c.key() + " already matches its file", nil
			}
			c = again
		}
	}
	switch c.Action {
	case actionDelete:
		return "", r.client.RemoveHook(ctx, c.HookGroupID, c.HookID)
	case actionCreate:
		if _, err := r.client.CreateHook(ctx, c.HookGroupID, c.HookID, c.sendDefinition); err != nil {
			return "", err
		}
	case actionUpdate:
		if c.Definition {
			if _, err := r.client.UpdateHook(ctx, c.HookGroupID, c.HookID, c.sendDefinition); err != nil {
				return "", err
			}
		}
	}
	if c.sendSettings != nil {
		if _, err := r.client.PutSettings(ctx, c.HookGroupID, c.HookID, c.sendSettings); err != nil {
			if c.Definition {
				return "", fmt.Errorf("the definition is written, the settings are not: %w", err)
			}
			return "", err
		}
	}
	return "", nil
}

// drift says how the live hook now differs from what the plan saw ("" when
// it does not).
func drift(seen, cur *liveHook) string {
	switch {
	case seen == nil && cur == nil:
		return ""
	case seen == nil:
		return "created since"
	case cur == nil:
		return "removed since"
	}
	var what []string
	if !bytes.Equal(seen.definition, cur.definition) {
		what = append(what, "definition")
	}
	if !bytes.Equal(seen.settings, cur.settings) {
		what = append(what, "settings")
	}
	return strings.Join(what, " and ")
}

// print reports the outcome for people.
func (res *applyResult) print(w io.Writer, p *plan) {
	for _, d := range res.Done {
		fmt.Fprintln(w, "done:", d)
	}
	for _, n := range res.Notes {
		fmt.Fprintln(w, "note:", n)
	}
	if res.Error == "" {
		fmt.Fprintf(w, "%s: applied %s (%d unchanged)\n", p.RootURL, describeCount(len(res.Done), "change"), p.Unchanged)
		return
	}
	fmt.Fprintf(w, "apply stopped at %s\n", res.Error)
	for _, n := range res.NotDone {
		fmt.Fprintln(w, "not done:", n)
	}
	fmt.Fprintf(w, "%s: %d of %s done, %d not done; fix the cause and run apply again (it plans from what is there now)\n",
		p.RootURL, len(res.Done), describeCount(len(p.Changes), "change"), len(res.NotDone))
}
