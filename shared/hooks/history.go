package hooks

import (
	"context"
	"time"

	"github.com/hookline/hookline/shared/store"
)

// The history bounds: besides their age limits (a year for fire records,
// the decision retention for decisions), a hook keeps at most
// Options.HistoryMax fire records and as many decisions, or fewer when its
// settings say so (history.maxRecords). The store enforces the cap on
// every write that adds a record, without reading the history.

// DefaultHistoryMax is the per-hook cap on fire records and on decisions
// unless the service is configured otherwise.
const DefaultHistoryMax = 10_000

// HistorySettings bound one hook's history below the service's cap.
type HistorySettings struct {
	// MaxRecords is how many fire records, and how many decisions, the
	// hook keeps at most: 1 up to the service's cap.
	MaxRecords int `json:"maxRecords"`
}

// keepFor is the cap of a hook with settings st.
func (p *pipeline) keepFor(st Settings) int {
	if h := st.History; h != nil && h.MaxRecords > 0 && h.MaxRecords < p.historyMax {
		return h.MaxRecords
	}
	return p.historyMax
}

// historyKeep is the cap for writing d: the one its writer set, else the
// hook's, read from its settings.
func (p *pipeline) historyKeep(ctx context.Context, d Decision) (int, error) {
	if d.keep > 0 {
		return d.keep, nil
	}
	st, _, err := p.loadSettings(ctx, d.HookGroupID, d.HookID)
	if err != nil {
		return 0, err
	}
	return p.keepFor(st), nil
}

// awaitOutcome marks a fire record whose task was created as awaiting the
// task's outcome: the poller first looks at it one poll interval after
// the fire, and the bridge's index lists it (outcomes.go).
func (p *pipeline) awaitOutcome(f *store.LastFire) {
	if p.pollInterval <= 0 || f.Result != "success" || f.TaskState != "" {
		return
	}
	f.CheckAt, f.Checks = f.TaskCreateTime.Add(p.pollInterval), 0
}

// DefaultOutcomePollInterval is how long after a fire, and then how
// often, the status of a task whose outcome is awaited is read.
const DefaultOutcomePollInterval = time.Minute
