// Command trigger is the Lambda the trigger queue's event source invokes
// with batches of Pulse messages forwarded by the bridge: it fires each
// message's hook and reports the records to retry as batch item failures.
package main

import (
	"context"
	"log/slog"
	"os"
	_ "time/tzdata" // hooks are scheduled in IANA zones: the database is embedded, not read from the image

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/hookline/hookline/shared/awsenv"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/secrets"
	"github.com/hookline/hookline/shared/service"
)

func main() {
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	h, err := build(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("start trigger function", "err", err)
		os.Exit(1)
	}
	lambda.StartWithOptions(h.handle, lambda.WithEnableSIGTERM(h.shutdown))
}

// build wires the function from its environment: config, AWS, store,
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
	svc, err := service.New(cfg, service.Deps{Store: st, Logger: log, Secrets: sec})
	if err != nil {
		return nil, err
	}
	return newHandler(svc, log), nil
}
