package store

import (
	"errors"
	"fmt"
)

// The largest record of each kind a store keeps, the same on every
// backend, so that what one store accepts the other does too, and what is
// stored can be read back. Sizes are of the opaque bytes the caller hands
// over (a hook's Definition, a record's Body, a fire record's Error).
// DynamoDB's items stop at 400 KB: the dynamo backend splits a hook or a
// claim larger than that into chunk items (see its package doc); the
// other kinds fit one item.
const (
	// MaxHookSize bounds a hook's definition (createHook, updateHook).
	MaxHookSize = 1 << 20
	// MaxSettingsSize bounds a settings record (settings, pauses).
	MaxSettingsSize = 256 << 10
	// MaxClaimSize bounds a claim: what a fire remembers of the task it
	// sent, the rendered task (at most the 10 MiB a queue accepts) and a
	// little more.
	MaxClaimSize = 10<<20 + 64<<10
	// MaxDecisionSize bounds a decision: the domain keeps a payload of
	// at most 256 KiB and an error of at most 16 KiB in one.
	MaxDecisionSize = 320 << 10
	// MaxNotificationSize bounds a notification.
	MaxNotificationSize = 256 << 10
	// MaxFireErrorSize bounds the error text of a fire record, as
	// upstream does (128 KiB).
	MaxFireErrorSize = 128 << 10
)

// The record kinds TooLargeError names.
const (
	KindHook         = "hook"
	KindSettings     = "settings"
	KindClaim        = "claim"
	KindDecision     = "decision"
	KindNotification = "notification"
	KindFireError    = "fire error"
)

// ErrTooLarge is what a TooLargeError is (errors.Is): a record over its
// kind's size limit, refused without writing anything.
var ErrTooLarge = errors.New("store: record too large")

// TooLargeError is a write refused because its record is larger than its
// kind allows.
type TooLargeError struct {
	// Kind is one of the Kind constants.
	Kind string
	// Size is the record's size in bytes, Limit its kind's limit.
	Size, Limit int
}

func (e *TooLargeError) Error() string {
	return fmt.Sprintf("store: the %s is %d bytes, over the limit of %s", e.Kind, e.Size, FormatSize(e.Limit))
}

// Is makes a TooLargeError match ErrTooLarge.
func (e *TooLargeError) Is(target error) bool { return target == ErrTooLarge }

// CheckSize returns a TooLargeError when size is over limit.
func CheckSize(kind string, size, limit int) error {
	if size > limit {
		return &TooLargeError{Kind: kind, Size: size, Limit: limit}
	}
	return nil
}

// FormatSize writes a limit as people read it: "1 MiB", "320 KiB", or
// bytes.
func FormatSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MiB (%d bytes)", n>>20, n)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KiB (%d bytes)", n>>10, n)
	}
	return fmt.Sprintf("%d bytes", n)
}

// CheckHook, CheckSettings, CheckClaim, CheckDecision, CheckNotification
// and CheckFire check a record against its kind's limit; every backend
// calls them before it writes anything.
func CheckHook(h Hook) error { return CheckSize(KindHook, len(h.Definition), MaxHookSize) }

// CheckSettings: see CheckHook.
func CheckSettings(s Settings) error { return CheckSize(KindSettings, len(s.Body), MaxSettingsSize) }

// CheckClaim: see CheckHook.
func CheckClaim(c Claim) error { return CheckSize(KindClaim, len(c.Body), MaxClaimSize) }

// CheckDecision: see CheckHook.
func CheckDecision(d Decision) error { return CheckSize(KindDecision, len(d.Body), MaxDecisionSize) }

// CheckNotification: see CheckHook.
func CheckNotification(n Notification) error {
	return CheckSize(KindNotification, len(n.Body), MaxNotificationSize)
}

// CheckFire: see CheckHook.
func CheckFire(f LastFire) error { return CheckSize(KindFireError, len(f.Error), MaxFireErrorSize) }

// CheckDecisionWrite checks what PutDecision writes: the decision and the
// fire record with it.
func CheckDecisionWrite(d Decision, fire *LastFire) error {
	if err := CheckDecision(d); err != nil {
		return err
	}
	if fire != nil {
		return CheckFire(*fire)
	}
	return nil
}

// CheckFireUpdate checks what UpdateFire writes.
func CheckFireUpdate(f LastFire, d *Decision) error {
	if err := CheckFire(f); err != nil {
		return err
	}
	if d != nil {
		return CheckDecision(*d)
	}
	return nil
}

// CheckFireWrite checks the records of a FireWrite.
func CheckFireWrite(w FireWrite) error {
	if w.Claim != nil {
		if err := CheckClaim(*w.Claim); err != nil {
			return err
		}
	}
	if w.Decision != nil {
		return CheckDecisionWrite(*w.Decision, w.Fire)
	}
	if w.Fire != nil {
		return CheckFire(*w.Fire)
	}
	return nil
}
