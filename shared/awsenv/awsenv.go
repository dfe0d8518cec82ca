// Package awsenv builds the AWS configuration of a Lambda function from
// the variables the Lambda runtime sets, and reads the endpoint overrides
// tests and `sam local` use.
//
// It replaces the SDK's config.LoadDefaultConfig in the functions: that
// also links the SSO, STS and IMDS clients, which a function never uses,
// and costs 1.5 MB and start-up time in every bootstrap. `hookline serve`,
// the bridge and `hookline redrive` run where profiles and SSO matter, and
// use LoadDefaultConfig.
package awsenv

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
)

// Config is the AWS configuration of a Lambda function: AWS_REGION and the
// execution role's AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and
// AWS_SESSION_TOKEN, plus the endpoint overrides AWS_ENDPOINT_URL and
// AWS_ENDPOINT_URL_<SERVICE> (DYNAMODB, SQS, SESV2) for tests and `sam
// local`, which clients made with NewFromConfig honour as they do with
// LoadDefaultConfig's.
func Config(getenv func(string) string) (aws.Config, error) {
	region := getenv("AWS_REGION")
	if region == "" {
		region = getenv("AWS_DEFAULT_REGION")
	}
	if region == "" {
		return aws.Config{}, errors.New("awsenv: AWS_REGION is not set")
	}
	id, secret := getenv("AWS_ACCESS_KEY_ID"), getenv("AWS_SECRET_ACCESS_KEY")
	if id == "" || secret == "" {
		return aws.Config{}, errors.New("awsenv: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set (the Lambda runtime sets them from the execution role)")
	}
	cfg := aws.Config{
		Region:      region,
		Credentials: aws.NewCredentialsCache(credentials.NewStaticCredentialsProvider(id, secret, getenv("AWS_SESSION_TOKEN"))),
	}
	if ep := getenv("AWS_ENDPOINT_URL"); ep != "" {
		cfg.BaseEndpoint = aws.String(ep)
	}
	cfg.ConfigSources = append(cfg.ConfigSources, serviceEndpoints{getenv})
	return cfg, nil
}

// serviceEndpoints is a configuration source the SDK's clients ask for a
// service's own endpoint (the GetServiceBaseEndpoint method of
// aws-sdk-go-v2's internal/configsources), read as its env config reads
// it: AWS_ENDPOINT_URL_<SERVICE ID>, upper case, spaces as underscores.
type serviceEndpoints struct{ getenv func(string) string }

func (s serviceEndpoints) GetServiceBaseEndpoint(_ context.Context, sdkID string) (string, bool, error) {
	v := s.getenv("AWS_ENDPOINT_URL_" + strings.ToUpper(strings.ReplaceAll(sdkID, " ", "_")))
	return v, v != "", nil
}

// Static returns cfg to a caller that asks for a configuration, such as
// service.Stores.AWS.
func Static(cfg aws.Config) func(context.Context) (aws.Config, error) {
	return func(context.Context) (aws.Config, error) { return cfg, nil }
}
