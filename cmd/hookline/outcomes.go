package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
)

// Outcomes and notifications under `hookline serve`: the local queue tells
// of every resolution a worker reports (the feed), which is matched
// against the fires awaiting their outcome and recorded; beside the
// scheduler, the outcome poller and the notification loop run as the
// scheduler function runs them in AWS.

// issuerClientID is the local queue's own client, whose credentials sign
// the temporary credentials of claimed runs.
const issuerClientID = "hookline-local-queue"

// queueIssuer is the local queue's issuer client: scope *, as a
// Taskcluster queue's own credentials, with a token generated once and
// kept in the data directory so that runs claimed before a restart can
// still be reported after it.
func queueIssuer(dataDir string) (*auth.Client, error) {
	token, _, err := rootToken(filepath.Join(dataDir, "queue-issuer-token"))
	if err != nil {
		return nil, err
	}
	return &auth.Client{ClientID: issuerClientID, AccessToken: token, Scopes: []string{"*"}}, nil
}

// resolution is one task resolution the local queue reported.
type resolution struct {
	taskID string
	status json.RawMessage
}

// outcomeFeed hands the local queue's resolutions to a loop, so a worker's
// report is not held up by recording and notifying. A full feed drops the
// resolution; the poller finds it within an interval.
type outcomeFeed struct {
	ch chan resolution
}

func newOutcomeFeed() *outcomeFeed { return &outcomeFeed{ch: make(chan resolution, 1024)} }

// heard is the local queue's OnResolved.
func (f *outcomeFeed) heard(_ context.Context, taskID string, status json.RawMessage) {
	select {
	case f.ch <- resolution{taskID, status}:
	default:
	}
}

// outcomeRecorder records outcomes and makes the index of awaited fires
// (hooks.Outcomes).
type outcomeRecorder interface {
	Record(ctx context.Context, ref hooks.FireRef, out hooks.TaskOutcome) (bool, error)
	NewFireIndex(opts hooks.FireIndexOptions) *hooks.FireIndex
}

// run records each resolution of a task a hook created, until ctx ends.
func (f *outcomeFeed) run(ctx context.Context, outcomes outcomeRecorder, log *slog.Logger) {
	index := outcomes.NewFireIndex(hooks.FireIndexOptions{})
	for {
		select {
		case <-ctx.Done():
			return
		case r := <-f.ch:
			recordResolution(ctx, index, outcomes, r, log)
		}
	}
}

func recordResolution(ctx context.Context, index *hooks.FireIndex, outcomes outcomeRecorder, r resolution, log *slog.Logger) {
	ref, ok := index.Match(r.taskID)
	if !ok {
		// A fire newer than the index: look again.
		if _, err := index.Refresh(ctx); err != nil {
			log.ErrorContext(ctx, "refresh the index of awaited fires", "err", err)
			return
		}
		if ref, ok = index.Match(r.taskID); !ok {
			return // not a hook's task, or its outcome is already known
		}
	}
	out, resolved, err := hooks.ParseTaskStatus(r.status)
	if err != nil || !resolved {
		log.ErrorContext(ctx, "local queue resolution unreadable", "taskId", r.taskID, "err", err)
		return
	}
	out.Source = hooks.OutcomeFromEvent
	if _, err := outcomes.Record(ctx, ref, out); err != nil {
		log.ErrorContext(ctx, "record task outcome", "taskId", r.taskID, "err", err)
		return
	}
	index.Forget(r.taskID)
}

// upkeepEvery is how often `serve` polls outcomes and delivers
// notifications: with the scheduler, and at least every 10 seconds, so
// retries keep to their backoff.
func upkeepEvery(cfg config.Config) time.Duration {
	return min(cfg.SchedulerInterval, 10*time.Second)
}

// runUpkeep polls outcomes and delivers notifications at every interval
// until ctx ends.
func runUpkeep(ctx context.Context, h *hooks.Service, interval time.Duration, pollMax int, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := h.Outcomes.Poll(ctx, hooks.PollOptions{Max: pollMax, Budget: interval * 3 / 4}); err != nil && ctx.Err() == nil {
			log.Error("outcome poll", "err", err)
		}
		if _, err := h.Notifications.Deliver(ctx, 200); err != nil && ctx.Err() == nil {
			log.Error("deliver notifications", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
