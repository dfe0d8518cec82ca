// Package runtimetest runs the real Lambda bootstrap binaries the way the
// Lambda service runs them, under AWS's Lambda Runtime Interface Emulator
// (github.com/aws/aws-lambda-runtime-interface-emulator, cmd/aws-lambda-rie,
// pinned in go.mod as a tool): the program `sam local invoke` runs inside
// its containers. Each function's bootstrap is built for this machine with
// the flags of the Makefile's build targets, and runs under its own
// emulator, which starts it on the first invocation and serves it the
// Runtime API; the tests post events to the emulator's invoke endpoint.
//
// The events are API Gateway HTTP API (payload 2.0) requests for the api
// and webhook functions, derived from infra/events (base64 bodies, cookies,
// repeated query parameters among them), the EventBridge scheduled event
// for the scheduler, and SQS batches for the trigger function, one with
// records that fail and come back as batchItemFailures.
//
// The functions use DynamoDB through the dynalite emulator
// (shared/store/dynamo/dynamotest, reached through AWS_ENDPOINT_URL_DYNAMODB,
// which aws-sdk-go-v2's LoadDefaultConfig honours), a local Taskcluster
// queue (shared/taskcluster/localqueue) as TASKCLUSTER_ROOT_URL, and an
// in-test SQS endpoint (shared/queue/sqstest, AWS_ENDPOINT_URL_SQS) holding
// the changes queue. Each function gets the variables infra/events/env.json
// sets for it (the ones template.yaml declares), with the endpoints
// replaced, and the ones Lambda sets (name, timeout, log format).
//
// One in-test Runtime API remains (runtimeapi_test.go), where the emulator
// cannot go: it answers a function's error exactly like a response (200,
// the error document, no X-Amz-Function-Error), so only a Runtime API of
// our own can tell that a function posted to .../error, which is what makes
// Lambda retry an asynchronous invocation.
//
// The tests also build the release binaries with `make build-<LogicalId>`
// (linux/arm64) and check that they are static, stripped and below the
// size budget. BenchmarkColdStart measures, per function, the time from
// starting the emulator to the first invocation answered, and
// BenchmarkWarmInvoke the latency of a warm invocation (p50 and p99).
//
// Everything here carries the `integration` build tag: `make test` and
// `make test-infra` run it. Under CI=true a missing dynalite or function is
// a failure, not a skip; the emulator is built from the module cache, so a
// build failure fails the test everywhere.
package runtimetest
