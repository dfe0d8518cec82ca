package hooks

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hookline/hookline/shared/store"
)

// FireIndex holds, in memory, the taskIds of the fires whose task outcome
// is awaited, so that the bridge can tell with one map lookup whether a
// task event of the queue (far more of which concern other tasks) is about
// a task a hook created. It is refreshed from the store's awaited index:
// the fires never checked since the newest it saw (a cheap range of the
// last minute or so), and every FullEvery all awaited fires, which also
// drops those resolved meanwhile. It is safe for concurrent use.
type FireIndex struct {
	store store.Store
	opts  FireIndexOptions

	mu     sync.RWMutex
	byTask map[string]FireRef
	// newest is the newest TaskCreateTime the never-checked listing
	// returned; lastFull when the last full refresh began.
	newest   time.Time
	lastFull time.Time
}

// FireIndexOptions tune a FireIndex; zero fields take defaults.
type FireIndexOptions struct {
	// FullEvery is how often Refresh lists every awaited fire (5
	// minutes); in between it lists the newest only.
	FullEvery time.Duration
	// Overlap is how far before the newest fire seen an incremental
	// refresh starts (30 seconds): fires are written by many processes,
	// whose clocks and commits do not arrive in order.
	Overlap time.Duration
	// Now is the clock (time.Now).
	Now func() time.Time
}

// NewFireIndex returns an empty index over the service's store; Refresh
// fills it.
func (o *Outcomes) NewFireIndex(opts FireIndexOptions) *FireIndex {
	if opts.FullEvery <= 0 {
		opts.FullEvery = 5 * time.Minute
	}
	if opts.Overlap <= 0 {
		opts.Overlap = 30 * time.Second
	}
	if opts.Now == nil {
		opts.Now = o.now
	}
	return &FireIndex{store: o.store, opts: opts, byTask: map[string]FireRef{}}
}

// Match returns the awaited fire of taskID, if any. It takes a read lock
// and one map lookup: the cheap negative check every task event pays.
func (x *FireIndex) Match(taskID string) (FireRef, bool) {
	x.mu.RLock()
	ref, ok := x.byTask[taskID]
	x.mu.RUnlock()
	return ref, ok
}

// Forget drops a task whose outcome was recorded.
func (x *FireIndex) Forget(taskID string) {
	x.mu.Lock()
	delete(x.byTask, taskID)
	x.mu.Unlock()
}

// Len is how many fires the index holds.
func (x *FireIndex) Len() int {
	x.mu.RLock()
	defer x.mu.RUnlock()
	return len(x.byTask)
}

// Refresh brings the index up to date with the store, in full when the
// last full refresh is FullEvery old, else with the fires written since
// the newest it saw. It returns how many fires it added.
func (x *FireIndex) Refresh(ctx context.Context) (int, error) {
	now := x.opts.Now()
	x.mu.RLock()
	full := x.lastFull.IsZero() || now.Sub(x.lastFull) >= x.opts.FullEvery
	from := x.newest.Add(-x.opts.Overlap)
	x.mu.RUnlock()
	if full {
		return x.refreshFull(ctx, now)
	}
	keys, err := x.list(ctx, store.AwaitedQuery{From: from})
	if err != nil {
		return 0, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.add(keys), nil
}

func (x *FireIndex) refreshFull(ctx context.Context, now time.Time) (int, error) {
	fresh, err := x.list(ctx, store.AwaitedQuery{})
	if err != nil {
		return 0, err
	}
	checked, err := x.list(ctx, store.AwaitedQuery{Checked: true})
	if err != nil {
		return 0, err
	}
	x.mu.Lock()
	defer x.mu.Unlock()
	before := len(x.byTask)
	x.byTask = make(map[string]FireRef, len(fresh)+len(checked))
	x.add(fresh)
	x.add(checked)
	x.lastFull = now
	return max(len(x.byTask)-before, 0), nil
}

// add puts keys into the index (the lock held) and returns how many were
// new.
func (x *FireIndex) add(keys []store.FireKey) int {
	n := 0
	for _, k := range keys {
		if _, ok := x.byTask[k.TaskID]; !ok {
			n++
		}
		x.byTask[k.TaskID] = refOf(k)
		if k.Checks == 0 && k.TaskCreateTime.After(x.newest) {
			x.newest = k.TaskCreateTime
		}
	}
	return n
}

// list reads every page of an awaited listing.
func (x *FireIndex) list(ctx context.Context, q store.AwaitedQuery) ([]store.FireKey, error) {
	var out []store.FireKey
	q.Limit = store.DefaultPageLimit
	for {
		keys, next, err := x.store.ListAwaitedFires(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("hooks: list awaited fires: %w", err)
		}
		out = append(out, keys...)
		if next == "" {
			return out, nil
		}
		q.Token = next
	}
}
