// Command api is the Lambda behind the HTTP API's hooks routes.
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
	handler, err := app.LambdaAPI(context.Background(), os.Getenv, log)
	if err != nil {
		log.Error("start api function", "err", err)
		os.Exit(1)
	}
	lambda.Start(handler)
}
