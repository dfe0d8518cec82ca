package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/service"
)

// ticker fires the scheduled hooks due at a time (hooks.Scheduler).
type ticker interface {
	Tick(ctx context.Context, now time.Time, opts hooks.TickOptions) (hooks.TickReport, error)
}

// handler is the scheduler function: one tick per EventBridge event, and
// beside it the upkeep of outcomes and notifications (upkeep.go).
type handler struct {
	svc       *service.Service
	scheduler ticker
	poller    outcomePoller
	deliverer notificationDeliverer
	pollMax   int
	log       *slog.Logger
}

func newHandler(svc *service.Service, log *slog.Logger) *handler {
	return &handler{svc: svc, scheduler: svc.Hooks.Scheduler, poller: svc.Hooks.Outcomes, deliverer: svc.Hooks.Notifications, log: log}
}

// handle ticks at the event's time, not the clock's, so a retried event
// repeats the same tick. An error makes Lambda retry the event.
func (h *handler) handle(ctx context.Context, ev events.EventBridgeEvent) error {
	if ev.Time.IsZero() {
		return fmt.Errorf("scheduler: event %s has no time", ev.ID)
	}
	var wg sync.WaitGroup
	wg.Go(func() { upkeep(ctx, h.poller, h.deliverer, h.pollMax, h.log) })
	_, err := h.scheduler.Tick(ctx, ev.Time, hooks.TickOptions{})
	wg.Wait()
	return err
}

// shutdown runs when Lambda stops the execution environment (SIGTERM):
// the last log line says so, and the store is closed. The logger writes
// each record straight to the runtime's stdout, so nothing else is
// buffered.
func (h *handler) shutdown() {
	h.log.Info("scheduler function shutting down")
	if err := h.svc.Close(); err != nil {
		h.log.Error("close store", "err", err)
	}
}
