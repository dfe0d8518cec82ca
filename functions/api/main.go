// Command api is the Lambda behind the HTTP API's hooks routes.
package main

import "github.com/hookline/hookline/shared/app"

func main() { app.StartLambda("api", app.LambdaAPI) }
