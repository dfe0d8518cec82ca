package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hookline/hookline/shared/store"
)

// Definitions is the part of the service that keeps hooks: createHook,
// updateHook, removeHook, the reads of the hooks API, trigger tokens, and
// the bindings the Pulse bridge listens with. Every change is announced to
// the ChangeNotifier once stored.
type Definitions struct {
	*core
	denylist *Denylist
	notifier ChangeNotifier
}

// CreateHook stores a new hook. Re-creating an identical hook succeeds and
// changes nothing; a different one is a conflict.
func (d *Definitions) CreateHook(ctx context.Context, hookGroupID, hookID string, in Input) (Definition, error) {
	if err := checkIDs(hookGroupID, hookID, in); err != nil {
		return Definition{}, err
	}
	if _, err := checkInput(in, d.denylist); err != nil {
		return Definition{}, err
	}
	bindings := []Binding{}
	if in.Bindings != nil {
		bindings = *in.Bindings
	}
	def := definitionFrom(hookGroupID, hookID, bindings, in)
	data, err := json.Marshal(def)
	if err != nil {
		return Definition{}, fmt.Errorf("hooks: encode definition: %w", err)
	}
	// A new hook has no settings yet: its schedule is the definition's.
	p, err := d.plan(def, nil)
	if err != nil {
		return Definition{}, err
	}
	rec := store.Hook{HookGroupID: hookGroupID, HookID: hookID, Definition: data, TriggerToken: d.newID()}
	d.scheduleAfter(&rec, p, d.now())
	if _, err := d.store.CreateHook(ctx, rec); err != nil {
		if !errors.Is(err, store.ErrConflict) {
			return Definition{}, fmt.Errorf("hooks: create %s/%s: %w", hookGroupID, hookID, err)
		}
		existing, gerr := d.GetHook(ctx, hookGroupID, hookID)
		if gerr != nil {
			return Definition{}, gerr
		}
		if !sameDefinition(existing, def) {
			return Definition{}, conflict(fmt.Sprintf("hook `%s/%s` already exists.", hookGroupID, hookID), err)
		}
		// Identical re-create: succeed without touching the stored hook.
	}
	d.log.InfoContext(ctx, "hook created", "hookGroupId", hookGroupID, "hookId", hookID)
	return def, d.notify(ctx, HookCreated, hookGroupID, hookID)
}

// UpdateHook replaces a hook's definition. Omitted bindings are kept; every
// other field takes the request's value (after schema defaults), as upstream
// does. The next scheduled fire is recomputed from now, with the hook's
// schedule settings.
func (d *Definitions) UpdateHook(ctx context.Context, hookGroupID, hookID string, in Input) (Definition, error) {
	if err := checkIDs(hookGroupID, hookID, in); err != nil {
		return Definition{}, err
	}
	if err := checkNesting(in); err != nil {
		return Definition{}, err
	}
	if err := checkTriggerSchema(in.TriggerSchema); err != nil {
		return Definition{}, err
	}
	if _, err := parseSchedule(in.Schedule); err != nil {
		return Definition{}, err
	}
	// Optimistic concurrency: a writer that lost a race re-reads and
	// re-applies, so concurrent updates serialize instead of losing one.
	for attempt := 0; ; attempt++ {
		rec, err := d.loadHook(ctx, hookGroupID, hookID)
		if err != nil {
			return Definition{}, err
		}
		current, err := decodeDefinition(rec.Definition)
		if err != nil {
			return Definition{}, err
		}
		bindings := current.Bindings
		if in.Bindings != nil {
			bindings = *in.Bindings
		}
		if err := d.denylist.check(bindings); err != nil {
			return Definition{}, err
		}
		def := definitionFrom(hookGroupID, hookID, bindings, in)
		if rec.Definition, err = json.Marshal(def); err != nil {
			return Definition{}, fmt.Errorf("hooks: encode definition: %w", err)
		}
		settings, _, err := d.loadSettings(ctx, hookGroupID, hookID)
		if err != nil {
			return Definition{}, err
		}
		p, err := d.plan(def, settings.Schedule)
		if err != nil {
			return Definition{}, err
		}
		d.scheduleAfter(&rec, p, d.now())
		_, err = d.store.UpdateHook(ctx, rec)
		if errors.Is(err, store.ErrConflict) && attempt < 4 {
			continue
		}
		if err != nil {
			return Definition{}, d.hookErr(hookGroupID, hookID, err)
		}
		d.log.InfoContext(ctx, "hook updated", "hookGroupId", hookGroupID, "hookId", hookID)
		return def, d.notify(ctx, HookUpdated, hookGroupID, hookID)
	}
}

// RemoveHook deletes a hook with its fire history, decisions, settings and
// notifications.
// Removing a hook that does not exist succeeds, as upstream does, so a
// retried delete is harmless.
func (d *Definitions) RemoveHook(ctx context.Context, hookGroupID, hookID string) error {
	err := d.store.DeleteHook(ctx, hookGroupID, hookID, 0)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return fmt.Errorf("hooks: remove %s/%s: %w", hookGroupID, hookID, err)
	}
	d.log.InfoContext(ctx, "hook removed", "hookGroupId", hookGroupID, "hookId", hookID, "existed", err == nil)
	// The fire history goes with the hook even if announcing the removal
	// fails below (upstream keeps it in that case).
	if err := d.store.DeleteLastFires(ctx, hookGroupID, hookID); err != nil {
		return fmt.Errorf("hooks: remove fire history of %s/%s: %w", hookGroupID, hookID, err)
	}
	// So do its decisions: they hold its payloads, and a later hook of the
	// same name must not replay them.
	if err := d.store.DeleteDecisions(ctx, hookGroupID, hookID); err != nil {
		return fmt.Errorf("hooks: remove decision log of %s/%s: %w", hookGroupID, hookID, err)
	}
	// Its settings go too: they hold its webhook secrets, which must not
	// pass to a later hook of the same name.
	if err := d.store.DeleteSettings(ctx, hookGroupID, hookID); err != nil {
		return fmt.Errorf("hooks: remove settings of %s/%s: %w", hookGroupID, hookID, err)
	}
	// And its notifications, pending ones included: their targets were
	// its settings'.
	if err := d.store.DeleteNotifications(ctx, hookGroupID, hookID); err != nil {
		return fmt.Errorf("hooks: remove notifications of %s/%s: %w", hookGroupID, hookID, err)
	}
	return d.notify(ctx, HookDeleted, hookGroupID, hookID)
}

// GetHook returns a hook's definition.
func (d *Definitions) GetHook(ctx context.Context, hookGroupID, hookID string) (Definition, error) {
	return d.loadDefinition(ctx, hookGroupID, hookID)
}

// GetHookJSON returns a hook's definition as stored: the JSON the API
// answers, without a decode and re-encode on the hot read path.
func (d *Definitions) GetHookJSON(ctx context.Context, hookGroupID, hookID string) (json.RawMessage, error) {
	rec, err := d.loadHook(ctx, hookGroupID, hookID)
	if err != nil {
		return nil, err
	}
	return rec.Definition, nil
}

// ListHookGroups returns every group holding at least one hook, sorted.
func (d *Definitions) ListHookGroups(ctx context.Context) ([]string, error) {
	groups := []string{}
	page := store.Page{}
	for {
		batch, next, err := d.store.ListHookGroups(ctx, page)
		if err != nil {
			return nil, fmt.Errorf("hooks: list groups: %w", err)
		}
		groups = append(groups, batch...)
		if next == "" {
			return groups, nil
		}
		page.Token = next
	}
}

// ListHooks returns every hook of a group, ordered by hookId, as stored
// JSON definitions. A group with no hooks does not exist: that is a
// not-found error, as upstream answers.
func (d *Definitions) ListHooks(ctx context.Context, hookGroupID string) ([]json.RawMessage, error) {
	var defs []json.RawMessage
	err := d.eachHook(ctx, hookGroupID, func(rec store.Hook) error {
		defs = append(defs, rec.Definition)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(defs) == 0 {
		return nil, notFound("No such group", nil)
	}
	return defs, nil
}

// eachHook calls f with every hook of a group, page by page.
func (d *Definitions) eachHook(ctx context.Context, hookGroupID string, f func(store.Hook) error) error {
	page := store.Page{}
	for {
		batch, next, err := d.store.ListHooks(ctx, hookGroupID, page)
		if err != nil {
			return fmt.Errorf("hooks: list hooks of %s: %w", hookGroupID, err)
		}
		for _, rec := range batch {
			if err := f(rec); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		page.Token = next
	}
}

// HookBindings is a hook that listens to Pulse, with its bindings.
type HookBindings struct {
	HookGroupID string
	HookID      string
	Bindings    []Binding
}

// PulseBindings returns every hook with at least one binding, in group and
// hookId order: the bindings the Pulse bridge must have in place.
func (d *Definitions) PulseBindings(ctx context.Context) ([]HookBindings, error) {
	groups, err := d.ListHookGroups(ctx)
	if err != nil {
		return nil, err
	}
	var out []HookBindings
	for _, g := range groups {
		err := d.eachHook(ctx, g, func(rec store.Hook) error {
			def, err := decodeDefinition(rec.Definition)
			if err != nil {
				return fmt.Errorf("hooks: %s/%s: %w", rec.HookGroupID, rec.HookID, err)
			}
			if len(def.Bindings) > 0 {
				out = append(out, HookBindings{HookGroupID: rec.HookGroupID, HookID: rec.HookID, Bindings: def.Bindings})
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// TriggerToken returns the hook's current trigger token.
func (d *Definitions) TriggerToken(ctx context.Context, hookGroupID, hookID string) (string, error) {
	rec, err := d.loadHook(ctx, hookGroupID, hookID)
	if err != nil {
		return "", err
	}
	return rec.TriggerToken, nil
}

// ResetTriggerToken gives the hook a new token; the old one stops working
// at once.
func (d *Definitions) ResetTriggerToken(ctx context.Context, hookGroupID, hookID string) (string, error) {
	return d.resetTriggerToken(ctx, hookGroupID, hookID, "reset")
}

// resetTriggerToken gives a hook a new trigger token, re-reading and
// trying again when another write won; why is logged.
func (c *core) resetTriggerToken(ctx context.Context, hookGroupID, hookID, why string) (string, error) {
	for attempt := 0; ; attempt++ {
		rec, err := c.loadHook(ctx, hookGroupID, hookID)
		if err != nil {
			return "", err
		}
		rec.TriggerToken = c.newID()
		_, err = c.store.UpdateHook(ctx, rec)
		if errors.Is(err, store.ErrConflict) && attempt < 4 {
			continue
		}
		if err != nil {
			return "", c.hookErr(hookGroupID, hookID, err)
		}
		c.log.InfoContext(ctx, "trigger token reset", "hookGroupId", hookGroupID, "hookId", hookID, "why", why)
		return rec.TriggerToken, nil
	}
}

func (d *Definitions) notify(ctx context.Context, kind ChangeKind, hookGroupID, hookID string) error {
	if d.notifier == nil {
		return nil
	}
	if err := d.notifier.HookChanged(ctx, Change{Kind: kind, HookGroupID: hookGroupID, HookID: hookID}); err != nil {
		return fmt.Errorf("hooks: announce %s for %s/%s (the change is stored): %w", kind, hookGroupID, hookID, err)
	}
	return nil
}
