package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"

	"github.com/hookline/hookline/shared/app"
	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/console"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/httpapi"
	"github.com/hookline/hookline/shared/notify"
	"github.com/hookline/hookline/shared/pulse"
	msgqueue "github.com/hookline/hookline/shared/queue"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/dynamo"
	"github.com/hookline/hookline/shared/store/embedded"
	"github.com/hookline/hookline/shared/taskcluster/localqueue"
)

// serve runs the local service until ctx is cancelled, then shuts down
// gracefully: in-flight requests get up to 10 seconds to finish.
func serve(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewJSONHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
	slog.SetDefault(log)

	local, err := buildServer(ctx, cfg, log, stdout)
	if err != nil {
		return err
	}
	defer local.cleanup()
	var background sync.WaitGroup
	defer background.Wait()
	loopCtx, stopLoops := context.WithCancel(ctx)
	defer stopLoops()
	background.Go(func() { runScheduler(loopCtx, local.parts, cfg.SchedulerInterval, log) })
	background.Go(func() { runExpiry(loopCtx, local.parts, log) })
	if local.bridge != nil {
		background.Go(func() { runBridge(loopCtx, local.bridge, cfg.Pulse.BridgeAddr, log) })
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (HOOKLINE_ADDR): %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           local.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.InfoContext(ctx, "hookline serving", "addr", ln.Addr().String(), "api", "http://"+ln.Addr().String()+httpapi.BasePath,
		"console", "http://"+ln.Addr().String()+console.Path, "store", cfg.Store.Path)

	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("shutdown: %w", err)
	}
	return nil
}

// localServer is everything `serve` runs.
type localServer struct {
	handler http.Handler
	parts   *app.Parts
	cleanup func()
	// bridge is the in-process Pulse bridge, when HOOKLINE_PULSE_URL is set.
	bridge *pulse.Bridge
}

// buildServer wires the store, the service and the HTTP API for `serve`.
// Without a Taskcluster root URL it also runs a local queue at
// /api/queue/v1/, so fired tasks can be read back with any client. The
// cleanup closes what was opened.
func buildServer(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) (*localServer, error) {
	var closers []func() error
	cleanup := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	fail := func(err error) (*localServer, error) {
		cleanup()
		return nil, err
	}
	authz, err := localAuthorizer(cfg, log, stdout)
	if err != nil {
		return fail(err)
	}
	var local *localqueue.Queue
	var queue app.Queue
	if cfg.Taskcluster.RootURL == "" {
		var qopts localqueue.Options
		if roles := app.LocalRoles(authz); roles != nil {
			// The configured roles stand in for the deployment's: hook
			// tasks need the scopes their hook-id role grants, as on a
			// Taskcluster queue, and pre-checks report the same.
			qopts.Expand = func(scopes []string) []string {
				out, _ := roles.ExpandScopes(ctx, scopes)
				return out
			}
		}
		if local, err = localqueue.OpenWithOptions(filepath.Join(cfg.DataDir, "queue.db"), &qopts); err != nil {
			return fail(err)
		}
		closers = append(closers, local.Close)
		queue = local
	}
	st, err := openStore(ctx, cfg.Store)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, st.Close)
	outbox := notify.NewOutbox(filepath.Join(cfg.DataDir, "outbox.jsonl"), nil)
	var opts []app.Option
	var changes *msgqueue.Memory
	if cfg.Pulse.URL != "" {
		// Hook changes go to the in-process bridge through a queue in
		// memory, as they go through SQS in AWS.
		changes = msgqueue.NewMemory(nil)
		opts = append(opts, app.WithNotifier(app.NewChangeNotifier(changes)))
	}
	parts, err := app.Build(ctx, cfg, log, st, queue, outbox, opts...)
	if err != nil {
		return fail(err)
	}
	router, err := parts.Router(cfg, log, authz)
	if err != nil {
		return fail(err)
	}
	// The web console, in front of the API (/console/).
	cons, err := console.New(console.Options{TaskclusterRootURL: cfg.Taskcluster.RootURL, LocalQueue: local != nil, Version: cfg.Version})
	if err != nil {
		return fail(err)
	}
	api := console.Mount(router, cons)
	out := &localServer{handler: api, parts: parts, cleanup: cleanup}
	if changes != nil {
		if out.bridge, err = localBridge(cfg, log, parts, changes); err != nil {
			return fail(err)
		}
	}
	if local != nil {
		mux := http.NewServeMux()
		mux.Handle("/api/queue/v1/", local.Handler(authz))
		mux.Handle("/", api)
		out.handler = mux
		log.Info("local queue serving", "api", "/api/queue/v1/", "file", filepath.Join(cfg.DataDir, "queue.db"))
	}
	return out, nil
}

// localBridge is the Pulse bridge of `serve`: the trigger queue is
// in-process (queue.Local), handing each message straight to the hooks
// service, and a message is acknowledged on Pulse only once its hook fired
// (or will not: see hooks.PulseListener), so nothing is lost in between.
func localBridge(cfg config.Config, log *slog.Logger, parts *app.Parts, changes *msgqueue.Memory) (*pulse.Bridge, error) {
	listener := hooks.NewPulseListener(parts.Service)
	opts := pulse.OptionsFromConfig(cfg.Pulse)
	opts.Hooks, opts.Failures, opts.Schemas, opts.Logger = parts.Service, parts.Service, parts.Service.Schemas(), log
	opts.Sink = msgqueue.NewLocal(app.PulseMessageHandler(listener), nil)
	opts.Changes = changes
	return pulse.NewBridge(opts)
}

// runBridge runs the in-process bridge and its health and metrics server
// until ctx ends.
func runBridge(ctx context.Context, b *pulse.Bridge, addr string, log *slog.Logger) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() {
		if err := b.ListenAndServe(ctx, addr); err != nil {
			log.Error("bridge health and metrics (HOOKLINE_BRIDGE_ADDR)", "err", err)
		}
	})
	if err := b.Run(ctx); err != nil {
		log.Error("pulse bridge", "err", err)
	}
}

// openStore opens the store `serve` uses: the embedded file by default, or
// a DynamoDB table with the machine's usual AWS configuration (profiles,
// SSO and all).
func openStore(ctx context.Context, cfg config.StoreConfig) (store.Store, error) {
	switch cfg.Kind {
	case config.StoreEmbedded:
		return embedded.Open(cfg.Path, nil)
	case config.StoreDynamoDB:
		awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
		if err != nil {
			return nil, fmt.Errorf("load aws config: %w", err)
		}
		return dynamo.New(dynamodb.NewFromConfig(awsCfg), cfg.Table), nil
	}
	return nil, fmt.Errorf("unknown store kind %q", cfg.Kind)
}

// runScheduler ticks at every interval until ctx ends, as the EventBridge
// rule does in AWS.
func runScheduler(ctx context.Context, parts *app.Parts, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := parts.Service.Tick(ctx, time.Now(), hooks.TickOptions{Budget: interval * 3 / 4}); err != nil && ctx.Err() == nil {
			log.Error("scheduler tick", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// runExpiry deletes fire records and decisions older than their retention
// once a day, for stores without a TTL of their own.
func runExpiry(ctx context.Context, parts *app.Parts, log *slog.Logger) {
	exp, ok := parts.Store.(store.Expirer)
	if !ok {
		return
	}
	t := time.NewTicker(24 * time.Hour)
	defer t.Stop()
	for {
		if n, err := exp.ExpireLastFires(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Error("expire last fires", "err", err)
		} else if n > 0 {
			log.Info("expired last fires", "deleted", n)
		}
		if n, err := exp.ExpireDecisions(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Error("expire decisions", "err", err)
		} else if n > 0 {
			log.Info("expired decisions", "deleted", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// localAuthorizer builds the authenticator for `serve`. With no clients
// configured in static mode it creates a `root` client with scope `*`,
// whose access token comes from HOOKLINE_ROOT_ACCESS_TOKEN or, failing
// that, from a token generated once and kept in the data directory.
func localAuthorizer(cfg config.Config, log *slog.Logger, stdout io.Writer) (httpapi.Authorizer, error) {
	if cfg.Auth.Mode != config.AuthStatic || len(cfg.Auth.Clients) > 0 {
		return app.NewAuthorizer(cfg.Auth, nil)
	}
	token := cfg.Auth.RootAccessToken
	if token == "" {
		var generated bool
		var err error
		token, generated, err = rootToken(filepath.Join(cfg.DataDir, "root-access-token"))
		if err != nil {
			return nil, err
		}
		if generated {
			fmt.Fprintf(stdout, "Created client \"root\" with scope \"*\".\n  TASKCLUSTER_CLIENT_ID=root\n  TASKCLUSTER_ACCESS_TOKEN=%s\n(kept in %s; set HOOKLINE_ROOT_ACCESS_TOKEN to choose your own)\n",
				token, filepath.Join(cfg.DataDir, "root-access-token"))
		} else {
			log.Info("root client access token read from the data directory", "file", filepath.Join(cfg.DataDir, "root-access-token"))
		}
	}
	return app.NewAuthorizer(cfg.Auth, &auth.Client{ClientID: "root", AccessToken: token, Scopes: []string{"*"}})
}

// rootToken reads the root token file, or generates and writes it.
func rootToken(path string) (token string, generated bool, err error) {
	data, err := os.ReadFile(path)
	if err == nil && len(strings.TrimSpace(string(data))) > 0 {
		return strings.TrimSpace(string(data)), false, nil
	}
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", false, fmt.Errorf("read %s: %w", path, err)
	}
	token, err = auth.GenerateAccessToken(rand.Reader)
	if err != nil {
		return "", false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, err
	}
	if err := os.WriteFile(path, []byte(token+"\n"), 0o600); err != nil {
		return "", false, fmt.Errorf("write %s: %w", path, err)
	}
	return token, true, nil
}
