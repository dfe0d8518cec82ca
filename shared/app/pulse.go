package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/queue"
)

// Option adjusts the service Build makes.
type Option func(*hooks.Options)

// WithNotifier makes the service announce every stored hook change to n.
func WithNotifier(n hooks.ChangeNotifier) Option {
	return func(o *hooks.Options) { o.Notifier = n }
}

// MessageSender sends one message to a queue (queue.SQS, queue.Memory).
type MessageSender interface {
	Send(ctx context.Context, body []byte) error
}

// changeNotifier announces hook changes as JSON messages on a queue, which
// the Pulse bridge consumes.
type changeNotifier struct{ q MessageSender }

// NewChangeNotifier returns a hooks.ChangeNotifier sending each change, as
// hooks.Change JSON ({kind, hookGroupId, hookId}), to q.
func NewChangeNotifier(q MessageSender) hooks.ChangeNotifier { return changeNotifier{q} }

func (n changeNotifier) HookChanged(ctx context.Context, c hooks.Change) error {
	body, err := json.Marshal(c)
	if err != nil {
		return err
	}
	if err := n.q.Send(ctx, body); err != nil {
		return fmt.Errorf("app: announce hook change: %w", err)
	}
	return nil
}

// LambdaSQS is an SQS client for a Lambda function (AWS_ENDPOINT_URL_SQS
// overrides the endpoint, for tests and `sam local`).
func LambdaSQS(getenv func(string) string) (*sqs.Client, error) {
	awsCfg, err := LambdaAWSConfig(getenv)
	if err != nil {
		return nil, err
	}
	return sqs.NewFromConfig(awsCfg, func(o *sqs.Options) {
		o.BaseEndpoint = serviceEndpoint(getenv, "SQS", awsCfg.BaseEndpoint)
	}), nil
}

// lambdaChangeNotifier is the api function's notifier: the changes queue,
// when HOOKLINE_CHANGES_QUEUE_URL names one.
func lambdaChangeNotifier(getenv func(string) string, cfg config.Config) (hooks.ChangeNotifier, error) {
	if cfg.Pulse.ChangesQueueURL == "" {
		return nil, nil
	}
	client, err := LambdaSQS(getenv)
	if err != nil {
		return nil, err
	}
	return NewChangeNotifier(queue.NewSQS(client, cfg.Pulse.ChangesQueueURL)), nil
}

// DecodePulseMessage reads a trigger-queue message body (hooks.PulseMessage
// JSON, as the bridge writes it).
func DecodePulseMessage(body []byte) (hooks.PulseMessage, error) {
	var msg hooks.PulseMessage
	if err := json.Unmarshal(body, &msg); err != nil {
		return msg, fmt.Errorf("app: pulse message: %w", err)
	}
	if msg.HookGroupID == "" || msg.HookID == "" || len(msg.Payload) == 0 {
		return msg, errors.New("app: pulse message: hookGroupId, hookId and payload are required")
	}
	return msg, nil
}

// PulseMessageHandler hands trigger-queue messages to l in this process
// (queue.Local, for `hookline serve`): an error is worth a retry, except a
// body that does not decode, which is permanent.
func PulseMessageHandler(l *hooks.PulseListener) queue.Handler {
	return func(ctx context.Context, body []byte) error {
		msg, err := DecodePulseMessage(body)
		if err != nil {
			return fmt.Errorf("%w: %v", queue.ErrPermanent, err)
		}
		_, err = l.FirePulseMessage(ctx, msg)
		return err
	}
}

// TriggerHandler is the trigger function's handler type.
type TriggerHandler = func(context.Context, events.SQSEvent) (events.SQSEventResponse, error)

// LambdaTrigger builds, from the environment, the trigger function's
// handler: each SQS record is a Pulse message the bridge forwarded.
func LambdaTrigger(ctx context.Context, getenv func(string) string, log *slog.Logger) (TriggerHandler, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, err
	}
	st, err := LambdaStore(getenv, cfg.Store)
	if err != nil {
		return nil, err
	}
	parts, err := Build(ctx, cfg, log, st, nil, nil)
	if err != nil {
		return nil, err
	}
	return newTriggerHandler(hooks.NewPulseListener(parts.Service), log).handle, nil
}

// triggerConcurrency bounds the records of a batch fired at once (the event
// source sends at most 10).
const triggerConcurrency = 10

type triggerHandler struct {
	listener *hooks.PulseListener
	log      *slog.Logger
}

func newTriggerHandler(l *hooks.PulseListener, log *slog.Logger) *triggerHandler {
	return &triggerHandler{listener: l, log: log}
}

// handle fires the hook of every record, a few at once. A record whose fire
// may succeed later (store failure, queue 5xx or unreachable), or whose body
// does not decode, is a batch item failure: SQS delivers it again, and
// after the queue's maxReceiveCount moves it to the dead-letter queue.
// Every other outcome is final and the record is done. The handler returns
// an error only when the invocation ran out of time, which fails the batch
// as a whole.
func (h *triggerHandler) handle(ctx context.Context, ev events.SQSEvent) (events.SQSEventResponse, error) {
	var (
		mu   sync.Mutex
		resp events.SQSEventResponse
		wg   sync.WaitGroup
		sem  = make(chan struct{}, triggerConcurrency)
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

func (h *triggerHandler) one(ctx context.Context, rec events.SQSMessage) error {
	msg, err := DecodePulseMessage([]byte(rec.Body))
	if err != nil {
		h.log.ErrorContext(ctx, "trigger message does not decode; left for the dead-letter queue", "messageId", rec.MessageId, "err", err)
		return err
	}
	res, err := h.listener.FirePulseMessage(ctx, msg)
	if err != nil {
		h.log.WarnContext(ctx, "pulse fire failed; SQS will deliver it again", "messageId", rec.MessageId,
			"receiveCount", rec.Attributes["ApproximateReceiveCount"], "hookGroupId", msg.HookGroupID, "hookId", msg.HookID, "taskId", res.TaskID, "err", err)
		return err
	}
	h.log.DebugContext(ctx, "pulse message handled", "messageId", rec.MessageId, "hookGroupId", msg.HookGroupID, "hookId", msg.HookID, "outcome", string(res.Outcome), "taskId", res.TaskID)
	return nil
}
