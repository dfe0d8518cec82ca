package hooks

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"
)

// signatureCounter counts the deliveries the signed webhook route refused
// for each hook, in this process, in fixed windows aligned on the epoch:
// every process counts the same window, so the event they publish when a
// window passes its threshold has the same ID, and each target hears of
// it once per window however many processes saw it.
type signatureCounter struct {
	mu    sync.Mutex
	hooks map[string]*signatureWindow
}

type signatureWindow struct {
	start time.Time
	count int
	told  bool
}

// maxCountedHooks bounds the hooks counted at once; past it, windows that
// are over are forgotten.
const maxCountedHooks = 10_000

func newSignatureCounter() *signatureCounter {
	return &signatureCounter{hooks: map[string]*signatureWindow{}}
}

// note counts one refusal at now and reports whether the window just
// passed max, with the window's start.
func (c *signatureCounter) note(key string, now time.Time, rule SignatureFailureRule) (time.Time, int, bool) {
	size := time.Duration(rule.WindowSeconds) * time.Second
	start := now.Truncate(size)
	c.mu.Lock()
	defer c.mu.Unlock()
	w := c.hooks[key]
	if w == nil || !w.start.Equal(start) {
		if len(c.hooks) >= maxCountedHooks {
			for k, old := range c.hooks {
				if now.Sub(old.start) > 24*time.Hour || !old.start.Equal(start) {
					delete(c.hooks, k)
				}
			}
		}
		w = &signatureWindow{start: start}
		c.hooks[key] = w
	}
	w.count++
	if w.count > rule.Max && !w.told {
		w.told = true
		return start, w.count, true
	}
	return start, w.count, false
}

// noteSignatureFailure counts a refused delivery of a hook whose settings
// ask to hear of them, and publishes webhook-signature-failures when the
// window passes the threshold. A hook that asks nobody costs nothing.
func (in *Intake) noteSignatureFailure(ctx context.Context, hookGroupID, hookID string, st Settings, err error) {
	var se *SignatureError
	if !errors.As(err, &se) || st.Notify == nil || !notifyWants(st.Notify, EventSignatureFailures) {
		return
	}
	rule := st.Notify.signatureRule()
	start, count, tell := in.signatures.note(hookGroupID+"\x00"+hookID, in.now(), rule)
	if !tell {
		return
	}
	in.publish(ctx, Event{
		Kind: EventSignatureFailures, HookGroupID: hookGroupID, HookID: hookID,
		ID:       "webhook-signature-failures/" + strconv.FormatInt(start.Unix(), 10),
		Failures: count, WindowSeconds: rule.WindowSeconds,
		Summary: fmt.Sprintf("the signed webhook route of hook %s/%s refused more than %d deliveries within %d seconds (the latest: %s)",
			hookGroupID, hookID, rule.Max, rule.WindowSeconds, se.Message),
	})
}

func notifyWants(n *NotifySettings, kind EventKind) bool {
	for _, t := range n.Targets {
		if t.wants(kind) {
			return true
		}
	}
	return false
}
