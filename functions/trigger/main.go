// Command trigger is the Lambda the trigger queue's event source invokes
// with batches of Pulse messages forwarded by the bridge: it fires each
// message's hook and reports the records to retry as batch item failures.
package main

import "github.com/hookline/hookline/shared/app"

func main() { app.StartLambda("trigger", app.LambdaTrigger) }
