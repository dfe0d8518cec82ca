// Command webhook is the Lambda behind the public token route,
// POST /api/hooks/v1/hooks/{hookGroupId}/{hookId}/trigger/{token}. It is a
// function of its own so its concurrency can be limited apart from the API.
package main

import (
	"context"
	"log/slog"
	"os"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"

	"github.com/hookline/hookline/shared/app"
)

func main() {
	log := lambdacontext.NewLogger()
	slog.SetDefault(log)
	handler, err := app.LambdaAPI(context.Background(), os.Getenv, log, "triggerHookWithToken")
	if err != nil {
		log.Error("start webhook function", "err", err)
		os.Exit(1)
	}
	lambda.Start(handler)
}
