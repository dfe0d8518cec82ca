// Command scheduler is the Lambda an EventBridge rate(1 minute) rule
// invokes: it fires every scheduled hook that is due.
package main

import (
	"github.com/hookline/hookline/shared/app"
	"github.com/hookline/hookline/shared/app/scheduling"
)

func main() { app.StartLambda("scheduler", scheduling.Lambda) }
