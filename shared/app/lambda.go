package app

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
)

// StartLambda is a Lambda main: JSON logs with the request id, the handler
// built from the environment, then the runtime loop. A handler that cannot
// be built is logged and the process exits, so the failed init is visible.
func StartLambda[H any](name string, build func(ctx context.Context, getenv func(string) string, log *slog.Logger) (H, error)) {
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	handler, err := build(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("start "+name+" function", "err", err)
		os.Exit(1)
	}
	lambda.Start(handler)
}
