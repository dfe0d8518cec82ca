// Command scheduler is the Lambda an EventBridge rate(1 minute) rule
// invokes: it fires every scheduled hook that is due.
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
	handler, err := app.LambdaScheduler(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("start scheduler function", "err", err)
		os.Exit(1)
	}
	lambda.Start(handler)
}
