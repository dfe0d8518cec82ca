package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/pulse"
	"github.com/hookline/hookline/shared/queue"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/dynamo"
	"github.com/hookline/hookline/shared/store/embedded"
)

// run is the bridge until ctx ends: config, store, queues, then the bridge
// and its health and metrics server. It returns nil after a graceful stop.
func run(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)
	amqp.SetLogger(slog.NewLogLogger(log.Handler(), slog.LevelWarn))
	switch {
	case cfg.Pulse.URL == "":
		return errors.New("HOOKLINE_PULSE_URL is required (amqps://user:password@host/vhost)")
	case cfg.Pulse.TriggerQueueURL == "":
		return errors.New("HOOKLINE_TRIGGER_QUEUE_URL is required (the stack output TriggerQueueUrl)")
	}
	// The container's AWS configuration: the task role, profiles, and
	// AWS_ENDPOINT_URL_<SERVICE> for tests.
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return fmt.Errorf("load aws config: %w", err)
	}
	st, err := openStore(cfg.Store, awsCfg)
	if err != nil {
		return err
	}
	defer st.Close()
	reg, err := schemas.New()
	if err != nil {
		return err
	}
	svc, err := hooks.NewService(st, reg, hooks.Options{Denylist: cfg.Denylist, Logger: log})
	if err != nil {
		return err
	}
	client := sqs.NewFromConfig(awsCfg)
	opts := pulse.OptionsFromConfig(cfg.Pulse)
	opts.Hooks, opts.Failures, opts.Schemas, opts.Logger = svc, svc, reg, log
	opts.Sink = queue.NewSQS(client, cfg.Pulse.TriggerQueueURL)
	if cfg.Pulse.ChangesQueueURL != "" {
		opts.Changes = queue.NewSQS(client, cfg.Pulse.ChangesQueueURL)
	} else {
		log.Warn("HOOKLINE_CHANGES_QUEUE_URL is not set: hook changes are picked up by the periodic reconciliation only, and none is published on Pulse")
	}
	bridge, err := pulse.NewBridge(opts)
	if err != nil {
		return err
	}
	log.Info("bridge starting", "version", version, "namespace", cfg.Pulse.Namespace, "addr", cfg.Pulse.BridgeAddr)

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	var serveErr error
	wg.Go(func() {
		if serveErr = bridge.ListenAndServe(ctx, cfg.Pulse.BridgeAddr); serveErr != nil {
			cancel()
		}
	})
	runErr := bridge.Run(ctx)
	cancel()
	wg.Wait()
	return errors.Join(runErr, serveErr)
}

func openStore(cfg config.StoreConfig, awsCfg aws.Config) (store.Store, error) {
	switch cfg.Kind {
	case config.StoreDynamoDB:
		return dynamo.New(dynamodb.NewFromConfig(awsCfg), cfg.Table), nil
	case config.StoreEmbedded:
		// For trying the bridge next to an embedded store; `hookline
		// serve` runs the bridge in-process, which is simpler.
		return embedded.Open(cfg.Path, nil)
	}
	return nil, fmt.Errorf("unknown store kind %q", cfg.Kind)
}
