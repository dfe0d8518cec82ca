package main

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/service"
)

// pulseFirer fires the hook of one Pulse message (hooks.Intake).
type pulseFirer interface {
	FirePulseMessage(ctx context.Context, msg hooks.PulseMessage) (hooks.PulseResult, error)
}

// concurrency bounds the records of a batch fired at once (the event
// source sends at most 10).
const concurrency = 10

// outcomeRecorder records a task's outcome (hooks.Outcomes).
type outcomeRecorder interface {
	Record(ctx context.Context, ref hooks.FireRef, out hooks.TaskOutcome) (bool, error)
}

// handler is the trigger function: SQS batches of Pulse messages, each
// fired through the service's intake, and of task outcomes the bridge
// matched, each recorded.
type handler struct {
	svc      *service.Service
	intake   pulseFirer
	outcomes outcomeRecorder
	log      *slog.Logger
}

func newHandler(svc *service.Service, log *slog.Logger) *handler {
	return &handler{svc: svc, intake: svc.Hooks.Intake, outcomes: svc.Hooks.Outcomes, log: log}
}

// handle fires the hook of every record, a few at once. A record whose fire
// may succeed later (store failure, queue 5xx or unreachable), or whose body
// does not decode, is a batch item failure: SQS delivers it again, and
// after the queue's maxReceiveCount moves it to the dead-letter queue.
// Every other outcome is final and the record is done. The handler returns
// an error only when the invocation ran out of time, which fails the batch
// as a whole.
func (h *handler) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var (
		mu   sync.Mutex
		resp events.SQSEventResponse
		wg   sync.WaitGroup
		sem  = make(chan struct{}, concurrency)
	)
	for _, rec := range ev.Records {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			if err := h.one(ctx, rec); err != nil {
				mu.Lock()
				resp.BatchItemFailures = append(resp.BatchItemFailures, events.SQSBatchItemFailure{ItemIdentifier: rec.MessageId})
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return resp, fmt.Errorf("trigger: %w", err)
	}
	return resp, nil
}

func (h *handler) one(ctx context.Context, rec events.SQSMessage) error {
	if out, ok, err := hooks.ParseTaskOutcomeMessage([]byte(rec.Body)); ok {
		if err == nil {
			_, err = h.outcomes.Record(ctx, out.Fire, out.Outcome)
		}
		if err != nil {
			h.log.WarnContext(ctx, "task outcome not recorded; SQS will deliver it again", "messageId", rec.MessageId, "taskId", out.Fire.TaskID, "err", err)
		}
		return err
	}
	msg, err := hooks.ParsePulseMessage([]byte(rec.Body))
	if err != nil {
		h.log.ErrorContext(ctx, "trigger message does not decode; left for the dead-letter queue", "messageId", rec.MessageId, "err", err)
		return err
	}
	res, err := h.intake.FirePulseMessage(ctx, msg)
	if err != nil {
		h.log.WarnContext(ctx, "pulse fire failed; SQS will deliver it again", "messageId", rec.MessageId,
			"receiveCount", rec.Attributes["ApproximateReceiveCount"], "hookGroupId", msg.HookGroupID, "hookId", msg.HookID, "taskId", res.TaskID, "err", err)
		return err
	}
	h.log.DebugContext(ctx, "pulse message handled", "messageId", rec.MessageId, "hookGroupId", msg.HookGroupID, "hookId", msg.HookID, "outcome", string(res.Outcome), "taskId", res.TaskID, "duplicate", res.Duplicate)
	return nil
}

// shutdown runs when Lambda stops the execution environment (SIGTERM):
// the last log line says so, and the store is closed. The logger writes
// each record straight to the runtime's stdout, so nothing else is
// buffered.
func (h *handler) shutdown() {
	h.log.Info("trigger function shutting down")
	if err := h.svc.Close(); err != nil {
		h.log.Error("close store", "err", err)
	}
}
