package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/hookline/hookline/shared/hooks"
)

// The upkeep beside each tick: the outcome poller reads the status of the
// tasks whose outcome is still awaited (bounded per run), and the
// notification loop delivers what is due (first attempts other functions
// could not send, retries, digests). It runs beside the tick, not inside
// it, with its own bounds inside the function's 60 seconds.

// outcomePoller reads awaited task outcomes (hooks.Outcomes).
type outcomePoller interface {
	Poll(ctx context.Context, opts hooks.PollOptions) (hooks.PollReport, error)
}

// notificationDeliverer delivers due notifications (hooks.Notifications).
type notificationDeliverer interface {
	Deliver(ctx context.Context, limit int) (hooks.DeliverReport, error)
}

// deliverLimit bounds the notifications one run delivers; the rest wait a
// minute.
const deliverLimit = 200

// upkeepBudget bounds the poll and the deliveries of one run.
const upkeepBudget = 50 * time.Second

// upkeep polls outcomes and delivers notifications; failures are logged,
// not returned: the next run tries again, and the tick's own result is
// what Lambda retries on.
func upkeep(ctx context.Context, poller outcomePoller, deliverer notificationDeliverer, pollMax int, log *slog.Logger) {
	// Within the function's 60 seconds: what is left waits a minute.
	ctx, cancel := context.WithTimeout(ctx, upkeepBudget)
	defer cancel()
	var wg sync.WaitGroup
	wg.Go(func() {
		if _, err := poller.Poll(ctx, hooks.PollOptions{Max: pollMax}); err != nil && ctx.Err() == nil {
			log.ErrorContext(ctx, "outcome poll", "err", err)
		}
	})
	if _, err := deliverer.Deliver(ctx, deliverLimit); err != nil && ctx.Err() == nil {
		log.ErrorContext(ctx, "deliver notifications", "err", err)
	}
	wg.Wait()
}
