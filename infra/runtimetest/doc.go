// Package runtimetest runs the real Lambda bootstrap binaries the way the
// Lambda service (and `sam local invoke`, inside its container) runs them:
// each is built for linux with the flags of the Makefile's build targets,
// started with AWS_LAMBDA_RUNTIME_API pointing at an in-test implementation
// of the Lambda Runtime API, and fed the sample events of infra/events.
//
// The functions use DynamoDB through the dynalite emulator
// (shared/store/dynamo/dynamotest, reached through AWS_ENDPOINT_URL_DYNAMODB,
// which aws-sdk-go-v2's LoadDefaultConfig honours), a local Taskcluster
// queue (shared/taskcluster/localqueue) as TASKCLUSTER_ROOT_URL, and an
// in-test SQS endpoint (AWS_ENDPOINT_URL_SQS) that records what the API
// function sends to the changes queue. Each function gets the variables
// infra/events/env.json sets for it (the ones template.yaml declares),
// with the endpoints replaced.
//
// The tests also build the release binaries with `make build-<LogicalId>`
// (linux/arm64) and check that they are static, stripped and below the
// size budget, and BenchmarkColdStart measures the time from starting a
// bootstrap to its first Runtime API call.
//
// Everything here carries the `integration` build tag: `make test` and
// `make test-infra` run it. Under CI=true a missing emulator or function is
// a failure, not a skip.
package runtimetest
