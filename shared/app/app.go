// Package app wires Hookline's parts together from a config.Config: it is
// the one builder shared by the Lambda mains and `hookline serve`, so the
// mains stay a few lines long. It may import AWS packages; shared/hooks must
// not.
package app

import (
	"context"
	"fmt"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/dynamo"
	"github.com/hookline/hookline/shared/store/embedded"
)

// OpenStore opens the configured store backend.
func OpenStore(ctx context.Context, cfg config.StoreConfig) (store.Store, error) {
	switch cfg.Kind {
	case config.StoreEmbedded:
		return embedded.Open(cfg.Path, nil)
	case config.StoreDynamoDB:
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("app: load aws config: %w", err)
		}
		return dynamo.New(dynamodb.NewFromConfig(awsCfg), cfg.Table), nil
	}
	return nil, fmt.Errorf("app: unknown store kind %q", cfg.Kind)
}
