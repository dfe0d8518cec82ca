package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/hookline/hookline/shared/store"
)

// The levels a pause can be set at, from the widest.
const (
	PauseGlobal = "global"
	PauseGroup  = "hookGroup"
	PauseHook   = "hook"
)

// maxPauseReason bounds a pause's reason.
const maxPauseReason = 1000

// PauseState is a pause: who set it, when and why. While a hook is paused
// nothing fires it: scheduled slots are skipped, API and token triggers
// answer 409, Pulse messages are acknowledged without a task; each is
// recorded as a paused decision. Resuming fires nothing that was missed.
type PauseState struct {
	// Level is PauseGlobal, PauseGroup or PauseHook.
	Level  string    `json:"level"`
	Reason string    `json:"reason"`
	Since  time.Time `json:"since"`
	// By is the clientId that set the pause.
	By string `json:"by,omitempty"`
}

// Group and global pauses live in the settings records of reserved ids: no
// hookId or hookGroupId can be "*" (both patterns exclude it), so they
// never meet a hook's own record.
const scopeRecordID = "*"

// scopeSettings is the settings record of a hook group or of the service.
type scopeSettings struct {
	Paused *PauseState `json:"paused,omitempty"`
}

// PauseTarget names what a pause applies to: the service (both ids
// empty), a hook group (HookID empty) or a hook.
type PauseTarget struct {
	HookGroupID string
	HookID      string
}

func (t PauseTarget) level() string {
	switch {
	case t.HookGroupID == "":
		return PauseGlobal
	case t.HookID == "":
		return PauseGroup
	}
	return PauseHook
}

func (t PauseTarget) String() string {
	switch t.level() {
	case PauseGlobal:
		return "every hook (the kill switch)"
	case PauseGroup:
		return "hook group " + t.HookGroupID
	}
	return "hook " + t.HookGroupID + "/" + t.HookID
}

// recordIDs are the settings-record ids of a group or global target.
func (t PauseTarget) recordIDs() (string, string) {
	if t.HookGroupID == "" {
		return scopeRecordID, scopeRecordID
	}
	return t.HookGroupID, scopeRecordID
}

// PauseStatus is the pause state of one target: nil when it is not paused.
type PauseStatus struct {
	Paused bool        `json:"paused"`
	Pause  *PauseState `json:"pause,omitempty"`
}

// GetPause returns the pause set on the target itself (not one inherited
// from a wider level). A hook target that does not exist is not found.
func (o *Operations) GetPause(ctx context.Context, t PauseTarget) (PauseStatus, error) {
	if t.level() == PauseHook {
		st, err := o.GetSettings(ctx, t.HookGroupID, t.HookID)
		if err != nil {
			return PauseStatus{}, err
		}
		return PauseStatus{Paused: st.Paused != nil, Pause: st.Paused}, nil
	}
	sc, _, err := o.loadScope(ctx, t)
	if err != nil {
		return PauseStatus{}, err
	}
	return PauseStatus{Paused: sc.Paused != nil, Pause: sc.Paused}, nil
}

// SetPause pauses the target (reason required) or, with pause false,
// resumes it. Pausing a paused target keeps its original time and updates
// the reason. Resuming fires nothing that was skipped meanwhile.
func (o *Operations) SetPause(ctx context.Context, t PauseTarget, pause bool, reason, clientID string) (PauseStatus, error) {
	var state *PauseState
	if pause {
		reason = strings.TrimSpace(reason)
		if reason == "" {
			return PauseStatus{}, invalid("a pause needs a reason: say why %s is paused, so others know when it may resume", t)
		}
		if len(reason) > maxPauseReason {
			return PauseStatus{}, invalid("the pause reason must be at most %d characters", maxPauseReason)
		}
		state = &PauseState{Level: t.level(), Reason: reason, Since: o.now().UTC(), By: clientID}
	}
	if t.level() == PauseHook {
		var was *PauseState
		st, err := o.updateSettings(ctx, t.HookGroupID, t.HookID, func(cur Settings) (Settings, error) {
			was = cur.Paused
			if state != nil && cur.Paused != nil {
				state.Since, state.By = cur.Paused.Since, cur.Paused.By
			}
			cur.Paused = state
			return cur, nil
		})
		if err != nil {
			return PauseStatus{}, err
		}
		o.logPause(ctx, t, st.Paused)
		o.publishPauseChange(ctx, t.HookGroupID, t.HookID, was, st.Paused)
		return PauseStatus{Paused: st.Paused != nil, Pause: st.Paused}, nil
	}
	for attempt := 0; ; attempt++ {
		cur, version, err := o.loadScope(ctx, t)
		if err != nil {
			return PauseStatus{}, err
		}
		if state != nil && cur.Paused != nil {
			state.Since, state.By = cur.Paused.Since, cur.Paused.By
		}
		body, err := json.Marshal(scopeSettings{Paused: state})
		if err != nil {
			return PauseStatus{}, fmt.Errorf("hooks: encode pause: %w", err)
		}
		g, h := t.recordIDs()
		_, err = o.store.PutSettings(ctx, store.Settings{HookGroupID: g, HookID: h, Body: body, Version: version})
		if errors.Is(err, store.ErrConflict) && attempt < 4 {
			continue
		}
		if err != nil {
			return PauseStatus{}, fmt.Errorf("hooks: set pause of %s: %w", t, err)
		}
		o.logPause(ctx, t, state)
		return PauseStatus{Paused: state != nil, Pause: state}, nil
	}
}

func (o *Operations) logPause(ctx context.Context, t PauseTarget, state *PauseState) {
	if state == nil {
		o.log.InfoContext(ctx, "resumed", "level", t.level(), "hookGroupId", t.HookGroupID, "hookId", t.HookID)
		return
	}
	o.log.WarnContext(ctx, "paused", "level", t.level(), "hookGroupId", t.HookGroupID, "hookId", t.HookID, "reason", state.Reason, "by", state.By)
}

// loadScope reads the settings record of a group or global target and its
// version (0 when there is none).
func (c *core) loadScope(ctx context.Context, t PauseTarget) (scopeSettings, int64, error) {
	g, h := t.recordIDs()
	rec, err := c.store.GetSettings(ctx, g, h)
	if errors.Is(err, store.ErrNotFound) {
		return scopeSettings{}, 0, nil
	}
	if err != nil {
		return scopeSettings{}, 0, fmt.Errorf("hooks: read pause of %s: %w", t, err)
	}
	var sc scopeSettings
	if err := json.Unmarshal(rec.Body, &sc); err != nil {
		return scopeSettings{}, 0, fmt.Errorf("hooks: decode pause of %s: %w", t, err)
	}
	return sc, rec.Version, nil
}

// gates is what decides, before anything renders, whether a hook may fire:
// the pause in force (the widest level wins) and the hook's filters.
type gates struct {
	pause    *PauseState
	settings Settings
}

// loadGates reads the three records that can stop a fire. They are read
// fresh on every fire, so a pause takes effect at once everywhere: on the
// embedded store they cost microseconds; on DynamoDB they are three
// concurrent reads.
func (c *core) loadGates(ctx context.Context, hookGroupID, hookID string) (gates, error) {
	var (
		global, group scopeSettings
		hook          Settings
		errs          [3]error
		done          = make(chan struct{}, 2)
	)
	go func() {
		global, _, errs[0] = c.loadScope(ctx, PauseTarget{})
		done <- struct{}{}
	}()
	go func() {
		group, _, errs[1] = c.loadScope(ctx, PauseTarget{HookGroupID: hookGroupID})
		done <- struct{}{}
	}()
	hook, _, errs[2] = c.loadSettings(ctx, hookGroupID, hookID)
	<-done
	<-done
	if err := errors.Join(errs[:]...); err != nil {
		return gates{}, err
	}
	g := gates{settings: hook}
	switch {
	case global.Paused != nil:
		g.pause = global.Paused
	case group.Paused != nil:
		g.pause = group.Paused
	case hook.Paused != nil:
		g.pause = hook.Paused
	}
	return g, nil
}

// pausedError is the error a paused trigger answers: it names the pause,
// so the caller knows who to ask and what to undo.
func pausedError(def Definition, p *PauseState) error {
	what := map[string]string{
		PauseGlobal: "every hook is paused by the kill switch",
		PauseGroup:  "hook group " + def.HookGroupID + " is paused",
		PauseHook:   "hook " + def.HookGroupID + "/" + def.HookID + " is paused",
	}[p.Level]
	by := ""
	if p.By != "" {
		by = " by " + p.By
	}
	return &Error{Kind: ErrPaused, Message: fmt.Sprintf("no task was created: %s (since %s%s: %s). The fire is recorded in the hook's decision log and can be replayed after the pause is lifted.",
		what, p.Since.UTC().Format(time.RFC3339), by, p.Reason)}
}
