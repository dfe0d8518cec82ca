// Package templatetest checks template.yaml, the AWS SAM template, against
// the code it deploys. It holds tests only and runs offline, untagged:
//
//   - every AWS::Serverless::Function builds with BuildMethod makefile
//     through a Makefile target build-<LogicalId> that cross-compiles the
//     matching functions/<name> for the template's architecture;
//   - each function's events match what its code serves: the HTTP API
//     routes of shared/httpapi (BasePath, app.WebhookRoutes and upstream's
//     API reference), the scheduler's rate(1 minute) schedule, and the
//     trigger function's SQS event source with partial batch failures, its
//     dead-letter queue and a visibility timeout of six times its timeout;
//   - every environment variable the template sets is one that
//     shared/config reads, each function gets exactly the variables it
//     needs, and infra/events/env.json (for `sam local`) sets the same ones
//     with values config.Load accepts;
//   - the DynamoDB table equals dynamo.TableDefinition, with time to live
//     on dynamo.TTLAttribute;
//   - each function's IAM policies grant exactly the listed permissions on
//     the resources it needs, and nothing account-wide;
//   - every reference resolves, every parameter is used, and the outputs
//     the README and the bridge rely on exist.
//
// The template is read with gopkg.in/yaml.v3 as a node tree, so that
// CloudFormation's short tags (!Ref, !Sub, !GetAtt, !If, ...) become the
// same intrinsic-function objects as their long forms (Ref, Fn::Sub, ...).
package templatetest
