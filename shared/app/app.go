// Package app wires Hookline's parts together from a config.Config: it is
// the one builder shared by the Lambda mains and `hookline serve`, so the
// mains stay a few lines long. It may import AWS packages; shared/hooks must
// not.
package app

import (
	"errors"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/store/dynamo"
)

// LambdaAWSConfig is the AWS configuration of a Lambda function, read from
// the variables the Lambda runtime sets (AWS_REGION and the execution
// role's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN), plus
// AWS_ENDPOINT_URL for tests and `sam local`. It replaces the SDK's
// LoadDefaultConfig in the functions: that also links the SSO, STS and
// IMDS clients, which a function never uses, and cost 1.5 MB and start-up
// time in every bootstrap.
func LambdaAWSConfig(getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return aws.Config{}, errors.New("app: AWS_REGION is not set")
	}
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return aws.Config{}, errors.New("app: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (the Lambda runtime sets them from the execution role)")
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))),
	}
	if ep := getenv("AWS_ENDPOINT_URL"); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	return cfg, nil
}

// serviceEndpoint applies AWS_ENDPOINT_URL_<SERVICE>, as the SDK's own
// loader does, over the general endpoint.
func serviceEndpoint(getenv func(string) string, service string, base *string) *string {
	if ep := getenv("AWS_ENDPOINT_URL_" + service); ep != "" {
		return aws.String(ep)
	}
	return base
}

// LambdaStore opens the DynamoDB store a function uses; functions keep no
// state on their own disk, so any other store kind is a configuration error.
func LambdaStore(getenv func(string) string, cfg config.StoreConfig) (*dynamo.Store, error) {
	if cfg.Kind != config.StoreDynamoDB {
		return nil, fmt.Errorf("app: Lambda functions need HOOKLINE_STORE=dynamodb:TABLE, not %q", cfg.Kind)
	}
	awsCfg, err := LambdaAWSConfig(getenv)
	if err != nil {
		return nil, err
	}
	client := dynamodb.NewFromConfig(awsCfg, func(o *dynamodb.Options) {
		o.BaseEndpoint = serviceEndpoint(getenv, "DYNAMODB", awsCfg.BaseEndpoint)
	})
	return dynamo.New(client, cfg.Table), nil
}
