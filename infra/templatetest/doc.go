// Package templatetest checks template.yaml, the AWS SAM template, by AWS's
// own definitions and against the code it deploys. It holds tests only and
// runs offline, untagged.
//
// AWS's definitions:
//
//   - the template validates against AWS SAM's JSON schema
//     (testdata/sam.schema.json, pinned from aws/serverless-application-model;
//     see testdata/README.md), which checks the AWS::Serverless::* resources
//     and Globals;
//   - every plain resource, and the properties each serverless function
//     passes to its AWS::Lambda::Function, decode into goformation's typed
//     structs and validate against CloudFormation's schema as goformation
//     ships it, in every combination of the template's conditions, with
//     intrinsic functions stood in for as linters do (standin_test.go);
//   - deliberately broken copies (a misspelt property, a wrong type, a
//     missing required property, in SAM and in plain resources) fail.
//
// The wiring, read through goformation's typed resources (typed_test.go):
//
//   - every AWS::Serverless::Function builds with BuildMethod makefile
//     through a Makefile target build-<LogicalId> that cross-compiles the
//     matching functions/<name> for the template's architecture;
//   - each function's events match what its code serves: the HTTP API
//     routes of shared/httpapi (BasePath, WebhookFunctionRoutes and upstream's
//     API reference), the scheduler's rate(1 minute) schedule, and the
//     trigger function's SQS event source with partial batch failures, its
//     dead-letter queue and a visibility timeout of six times its timeout;
//   - every environment variable the template sets is one that
//     shared/config reads, each function gets exactly the variables it
//     needs, and infra/events/env.json (for `sam local` and
//     `make local-invoke`) sets the same ones with values config.Load
//     accepts;
//   - the DynamoDB table equals dynamo.TableDefinition, with time to live
//     on dynamo.TTLAttribute;
//   - each function's IAM policies grant exactly the listed permissions on
//     the resources it needs, and nothing account-wide, in every scenario;
//     its DynamoDB statements (and the bridge's) are derived from its code:
//     the store methods its main package can reach (reach_test.go, an
//     analysis of the module's SSA) and what each sends
//     (dynamo.MethodAccess), limited with dynamodb:LeadingKeys to the
//     partitions they touch (iam_test.go);
//   - every reference resolves, every parameter is used, and the outputs
//     the README and the bridge rely on exist.
//
// The template is read with goformation: its YAML reader turns
// CloudFormation's short tags (!Ref, !Sub, !GetAtt, !If, ...) into the
// long forms (Ref, Fn::Sub, ...), which the reference check walks; its
// typed parser keeps intrinsic functions encoded in strings, which the
// checks read back (intrinsicOf).
package templatetest
