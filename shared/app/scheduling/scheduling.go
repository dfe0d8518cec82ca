// Package scheduling builds the scheduler function. It is apart from
// shared/app because it alone sends email: keeping the SES client out of
// shared/app keeps it out of the other functions' binaries.
package scheduling

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/hookline/hookline/shared/app"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/notify"
)

// Handler is the scheduler function's handler type.
type Handler = func(context.Context, events.EventBridgeEvent) error

// Lambda builds, from the environment, the scheduler function's handler:
// one tick per EventBridge event, at the event's time (not the clock's), so
// a retried event repeats the same tick.
func Lambda(ctx context.Context, getenv func(string) string, log *slog.Logger) (Handler, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, err
	}
	var mailer hooks.Mailer
	if cfg.EmailSender != "" {
		awsCfg, err := app.LambdaAWSConfig(getenv)
		if err != nil {
			return nil, err
		}
		mailer = notify.NewSES(sesv2.NewFromConfig(awsCfg), cfg.EmailSender)
	}
	st, err := app.LambdaStore(getenv, cfg.Store)
	if err != nil {
		return nil, err
	}
	parts, err := app.Build(ctx, cfg, log, st, nil, mailer)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, ev events.EventBridgeEvent) error {
		if ev.Time.IsZero() {
			return fmt.Errorf("scheduler: event %s has no time", ev.ID)
		}
		_, err := parts.Service.Tick(ctx, ev.Time, hooks.TickOptions{})
		return err
	}, nil
}
