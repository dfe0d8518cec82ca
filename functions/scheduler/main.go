// Command scheduler is the Lambda an EventBridge rate(1 minute) rule
// invokes: it fires every scheduled hook that is due.
package main

import (
	"context"
	"log/slog"
	"os"
	_ "time/tzdata" // hooks are scheduled in IANA zones: the database is embedded, not read from the image

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/hookline/hookline/shared/awsenv"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/notify"
	"github.com/hookline/hookline/shared/secrets"
	"github.com/hookline/hookline/shared/service"
	"github.com/hookline/hookline/shared/taskcluster/tcnotify"
)

func main() {
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	h, err := build(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("start scheduler function", "err", err)
		os.Exit(1)
	}
	lambda.StartWithOptions(h.handle, lambda.WithEnableSIGTERM(h.shutdown))
}

// build wires the function from its environment: config, AWS, store,
// failure emails through SES when HOOKLINE_EMAIL_SENDER names a sender,
// service, handler.
func build(ctx context.Context, getenv func(string) string, log *slog.Logger) (*handler, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, err
	}
	awsCfg, err := awsenv.Config(getenv)
	if err != nil {
		return nil, err
	}
	st, err := service.OpenStore(ctx, cfg.Store, service.Stores{AWS: awsenv.Static(awsCfg)})
	if err != nil {
		return nil, err
	}
	// Credentials are read from Secrets Manager at run time, not kept in
	// the environment.
	sec := secrets.New(secretsmanager.NewFromConfig(awsCfg), nil)
	// The scheduler runs the notification loop: it has every sender.
	deps := service.Deps{Store: st, Logger: log, Secrets: sec, Senders: service.NewSenders(cfg, sec, tcnotify.New)}
	if cfg.EmailSender != "" {
		deps.Mailer = notify.NewSES(sesv2.NewFromConfig(awsCfg), cfg.EmailSender)
	}
	svc, err := service.New(cfg, deps)
	if err != nil {
		return nil, err
	}
	h := newHandler(svc, log)
	h.pollMax = cfg.Outcomes.PollMax
	return h, nil
}
