// Command api is the Lambda behind the HTTP API's routes: the hooks API
// under /api/hooks/v1 and Hookline's own under /api/hookline/v1.
package main

import (
	"context"
	"log/slog"
	"os"
	_ "time/tzdata" // hooks are scheduled in IANA zones: the database is embedded, not read from the image

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/hookline/hookline/shared/awsenv"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/queue"
	"github.com/hookline/hookline/shared/secrets"
	"github.com/hookline/hookline/shared/service"
)

func main() {
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	h, err := build(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("start api function", "err", err)
		os.Exit(1)
	}
	lambda.StartWithOptions(h.handle, lambda.WithEnableSIGTERM(h.shutdown))
}

// build wires the function from its environment: config, AWS, store, the
// authorizer, the changes queue when HOOKLINE_CHANGES_QUEUE_URL names one
// (only this function changes hooks), service, handler.
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
	authz, err := service.NewAuthorizer(ctx, cfg.Auth, nil, sec)
	if err != nil {
		return nil, err
	}
	deps := service.Deps{Store: st, Authorizer: authz, Logger: log, Secrets: sec}
	if url := cfg.Pulse.ChangesQueueURL; url != "" {
		deps.Notifier = hooks.NewChangeNotifier(queue.NewSQS(sqs.NewFromConfig(awsCfg), url))
	}
	svc, err := service.New(cfg, deps)
	if err != nil {
		return nil, err
	}
	return newHandler(cfg, svc, log)
}
