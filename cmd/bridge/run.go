package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookline/hookline/shared/awsenv"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/pulse"
	"github.com/hookline/hookline/shared/queue"
	"github.com/hookline/hookline/shared/service"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/embedded"
)

// run is the bridge until ctx ends: config, then the bridge and its health
// and metrics server. It returns nil after a graceful stop.
func run(ctx context.Context, getenv func(string) string, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)
	amqp.SetLogger(slog.NewLogLogger(log.Handler(), slog.LevelWarn))
	bridge, svc, err := build(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer svc.Close()
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

// build wires the bridge: the service over its store (it fires no hook,
// so it has no Taskcluster queue), the trigger queue it forwards messages
// to and the changes queue it reads.
func build(ctx context.Context, cfg config.Config, log *slog.Logger) (*pulse.Bridge, *service.Service, error) {
	switch {
	case cfg.Pulse.URL == "":
		return nil, nil, errors.New("HOOKLINE_PULSE_URL is required (amqps://user:password@host/vhost)")
	case cfg.Pulse.TriggerQueueURL == "":
		return nil, nil, errors.New("HOOKLINE_TRIGGER_QUEUE_URL is required (the stack output TriggerQueueUrl)")
	}
	// The container's AWS configuration: the task role, profiles, and
	// AWS_ENDPOINT_URL_<SERVICE> for tests.
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("load aws config: %w", err)
	}
	st, err := service.OpenStore(ctx, cfg.Store, service.Stores{
		AWS: awsenv.Static(awsCfg),
		// For trying the bridge next to an embedded store; `hookline
		// serve` runs the bridge in-process, which is simpler.
		Embedded: func(path string) (store.Store, error) { return embedded.Open(path, nil) },
	})
	if err != nil {
		return nil, nil, err
	}
	svc, err := service.New(cfg, service.Deps{Store: st, NoQueue: true, Logger: log})
	if err != nil {
		return nil, nil, err
	}
	client := sqs.NewFromConfig(awsCfg)
	opts := pulse.OptionsFromConfig(cfg.Pulse)
	opts.Hooks, opts.Failures, opts.Schemas, opts.Logger = svc.Hooks.Definitions, svc.Hooks.Intake, svc.Hooks.Schemas, log
	opts.Sink = queue.NewSQS(client, cfg.Pulse.TriggerQueueURL)
	if cfg.Outcomes.TaskEvents != "" {
		// Task outcomes: the queue's task events, matched against the
		// fires awaiting theirs, go to the trigger function too.
		opts.TaskEvents = cfg.Outcomes.TaskEvents
		opts.Fires = svc.Hooks.Outcomes.NewFireIndex(hooks.FireIndexOptions{})
	}
	if cfg.Pulse.ChangesQueueURL != "" {
		opts.Changes = queue.NewSQS(client, cfg.Pulse.ChangesQueueURL)
	} else {
		log.Warn("HOOKLINE_CHANGES_QUEUE_URL is not set: hook changes are picked up by the periodic reconciliation only, and none is published on Pulse")
	}
	bridge, err := pulse.NewBridge(opts)
	if err != nil {
		svc.Close()
		return nil, nil, err
	}
	return bridge, svc, nil
}
