// Command webhook is the Lambda behind the public webhook routes (the
// trigger token route, and Hookline's signed webhook route). It is a
// function of its own so its concurrency can be limited apart from the API.
package main

import "github.com/hookline/hookline/shared/app"

func main() { app.StartLambda("webhook", app.LambdaWebhook) }
