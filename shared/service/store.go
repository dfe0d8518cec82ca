package service

import (
	"context"
	"fmt"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/dynamo"
)

// Stores says how a program reaches each kind of store.
type Stores struct {
	// AWS returns the AWS configuration a dynamodb:TABLE store is reached
	// with; it is called for that kind only.
	AWS func(context.Context) (aws.Config, error)
	// Embedded opens the file of an embedded:PATH store (embedded.Open).
	// It is nil in the Lambda functions: they keep no state on their own
	// disk, so they refuse that kind, and do not link bbolt.
	Embedded func(path string) (store.Store, error)
}

// OpenStore opens the store cfg names (HOOKLINE_STORE).
func OpenStore(ctx context.Context, cfg config.StoreConfig, s Stores) (store.Store, error) {
	switch cfg.Kind {
	case config.StoreDynamoDB:
		if s.AWS == nil {
			return nil, fmt.Errorf("service: HOOKLINE_STORE=dynamodb:%s, but this program has no AWS configuration", cfg.Table)
		}
		awsCfg, err := s.AWS(ctx)
		if err != nil {
			return nil, fmt.Errorf("service: load aws config: %w", err)
		}
		return dynamo.New(dynamodb.NewFromConfig(awsCfg), cfg.Table), nil
	case config.StoreEmbedded:
		if s.Embedded == nil {
			return nil, fmt.Errorf("service: Lambda functions need HOOKLINE_STORE=dynamodb:TABLE, not %q", cfg.Kind)
		}
		return s.Embedded(cfg.Path)
	}
	return nil, fmt.Errorf("service: unknown store kind %q", cfg.Kind)
}
