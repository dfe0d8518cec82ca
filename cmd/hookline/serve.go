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
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/console"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/httpapi"
	"github.com/hookline/hookline/shared/notify"
	"github.com/hookline/hookline/shared/pulse"
	msgqueue "github.com/hookline/hookline/shared/queue"
	"github.com/hookline/hookline/shared/secrets"
	"github.com/hookline/hookline/shared/service"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/embedded"
	"github.com/hookline/hookline/shared/taskcluster/localqueue"
	"github.com/hookline/hookline/shared/taskcluster/tcnotify"
)

// serve runs the local service until ctx is cancelled, then shuts down
// gracefully: in-flight requests get up to 10 seconds to finish.
func serve(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer) error {
	return serveWith(ctx, getenv, stdout, stderr, defaultConnLimits)
}

// serveWith is serve with the given connection limits (tests shorten
// them).
func serveWith(ctx context.Context, getenv func(string) string, stdout, stderr io.Writer, limits connLimits) error {
	cfg, err := config.Load(getenv)
	if err != nil {
		return err
	}
	log := slog.New(httpapi.NewLogHandler(stderr, &slog.HandlerOptions{Level: cfg.LogLevel}))
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
	background.Go(func() { runScheduler(loopCtx, local.svc.Hooks.Scheduler, cfg.SchedulerInterval, log) })
	background.Go(func() { runUpkeep(loopCtx, local.svc.Hooks, upkeepEvery(cfg), cfg.Outcomes.PollMax, log) })
	if local.feed != nil {
		background.Go(func() { local.feed.run(loopCtx, local.svc.Hooks.Outcomes, log) })
	}
	background.Go(func() { runExpiry(loopCtx, local.svc.Store, log) })
	if local.bridge != nil {
		background.Go(func() { runBridge(loopCtx, local.bridge, cfg.Pulse.BridgeAddr, log) })
	}

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (HOOKLINE_ADDR): %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           limits.pace(local.handler),
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
	svc     *service.Service
	router  *httpapi.Router
	cleanup func()
	// bridge is the in-process Pulse bridge, when HOOKLINE_PULSE_URL is set.
	bridge *pulse.Bridge
	// feed carries the local queue's task resolutions to the outcomes
	// (outcomes.go); nil without a local queue.
	feed *outcomeFeed
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
	var (
		issuer *auth.Client
		feed   *outcomeFeed
	)
	if cfg.Taskcluster.RootURL == "" {
		// The local queue's workers get run credentials from a client
		// of its own.
		var err error
		if issuer, err = queueIssuer(cfg.DataDir); err != nil {
			return fail(err)
		}
		feed = newOutcomeFeed()
	}
	sec, err := localSecrets(ctx, cfg)
	if err != nil {
		return fail(err)
	}
	authz, err := localAuthorizer(ctx, cfg, log, stdout, sec, issuer)
	if err != nil {
		return fail(err)
	}
	st, err := service.OpenStore(ctx, cfg.Store, service.Stores{
		// A DynamoDB table is reached with the machine's usual AWS
		// configuration (profiles, SSO and all).
		AWS:      func(ctx context.Context) (aws.Config, error) { return awsconfig.LoadDefaultConfig(ctx) },
		Embedded: func(path string) (store.Store, error) { return embedded.Open(path, nil) },
	})
	if err != nil {
		return fail(err)
	}
	var (
		local     *localqueue.Queue
		queue     service.Queue
		queueFile string
	)
	if cfg.Taskcluster.RootURL == "" {
		qopts := localqueue.Options{Issuer: auth.Credentials{ClientID: issuer.ClientID, AccessToken: issuer.AccessToken}, OnResolved: feed.heard}
		if roles := service.LocalRoles(authz); roles != nil {
			// The configured roles stand in for the deployment's: hook
			// tasks need the scopes their hook-id role grants, as on a
			// Taskcluster queue, and pre-checks report the same.
			qopts.Expand = func(scopes []string) []string {
				out, _ := roles.ExpandScopes(ctx, scopes)
				return out
			}
		}
		if local, queue, queueFile, err = openLocalQueue(cfg, st, &qopts, log); err != nil {
			st.Close()
			return fail(err)
		}
		closers = append(closers, local.Close)
	}
	deps := service.Deps{Store: st, Queue: queue, Authorizer: authz, Logger: log, Secrets: sec, Senders: service.NewSenders(cfg, sec, tcnotify.New),
		Mailer: notify.NewOutbox(filepath.Join(cfg.DataDir, "outbox.jsonl"), nil)}
	var changes *msgqueue.Memory
	if cfg.Pulse.URL != "" {
		// Hook changes go to the in-process bridge through a queue in
		// memory, as they go through SQS in AWS.
		changes = msgqueue.NewMemory(nil)
		deps.Notifier = hooks.NewChangeNotifier(changes)
	}
	svc, err := service.New(cfg, deps)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, svc.Close)
	opts := httpapi.OptionsFromConfig(cfg)
	opts.Authorizer, opts.Logger = authz, log
	router, err := httpapi.NewRouter(svc.Hooks, opts)
	if err != nil {
		return fail(err)
	}
	// The web console, in front of the API (/console/).
	cons, err := console.New(console.Options{TaskclusterRootURL: cfg.Taskcluster.RootURL, LocalQueue: local != nil, Version: cfg.Version})
	if err != nil {
		return fail(err)
	}
	api := console.Mount(router, cons)
	out := &localServer{handler: api, svc: svc, router: router, cleanup: cleanup, feed: feed}
	if changes != nil {
		if out.bridge, err = localBridge(cfg, log, svc.Hooks, changes); err != nil {
			return fail(err)
		}
	}
	if local != nil {
		// The queue's bodies (up to lib-api's 10 MB) count against the
		// router's body budgets: memory stays bounded whichever API is
		// sent them.
		out.handler = newQueueMux(router.LimitBodies(local.Handler(authz), "queue", httpapi.MaxBodyBytes), api)
		log.Info("local queue serving", "api", queuePrefix, "file", queueFile)
	}
	if anonymousMayWrite(authz) {
		publicHost := ""
		if u, err := url.Parse(cfg.Auth.PublicURL); err == nil {
			publicHost = u.Hostname()
		}
		out.handler = hostGuard{next: out.handler, publicHost: publicHost, log: log}
		log.Warn("anonymous callers hold write scopes: requests are answered for localhost, IP addresses and HOOKLINE_PUBLIC_URL's host only (DNS rebinding)",
			"publicHost", publicHost)
	}
	return out, nil
}

// openLocalQueue opens the local queue of `serve`. With the embedded
// store its tasks live in the store's file and a fire's task commits with
// the fire's records (localqueue.Joint: one fsync per fire); the tasks of
// a queue.db from before are moved there once, and the old file renamed
// queue.db.moved. With another store the queue keeps its own queue.db.
func openLocalQueue(cfg config.Config, st store.Store, opts *localqueue.Options, log *slog.Logger) (*localqueue.Queue, service.Queue, string, error) {
	own := filepath.Join(cfg.DataDir, "queue.db")
	emb, ok := st.(*embedded.Store)
	if !ok {
		q, err := localqueue.OpenWithOptions(own, opts)
		return q, q, own, err
	}
	db, commit := emb.File()
	q, err := localqueue.OpenShared(db, commit, opts)
	if err != nil {
		return nil, nil, "", err
	}
	if _, err := os.Stat(own); err == nil {
		old, err := localqueue.OpenWithOptions(own, opts)
		if err != nil {
			return nil, nil, "", err
		}
		n, err := q.Adopt(old)
		old.Close()
		if err != nil {
			return nil, nil, "", err
		}
		if err := os.Rename(own, own+".moved"); err != nil {
			return nil, nil, "", fmt.Errorf("local queue: its tasks are now in %s; rename %s: %w", cfg.Store.Path, own, err)
		}
		log.Info("local queue tasks moved into the store's file", "tasks", n, "from", own, "to", cfg.Store.Path, "old", own+".moved")
	}
	joint, err := localqueue.NewJoint(q, emb)
	if err != nil {
		return nil, nil, "", err
	}
	return q, joint, cfg.Store.Path, nil
}

// anonymousMayWrite reports whether callers without credentials may change
// something or read a trigger token: the static anonymous scopes grant a
// write route of the API or creates tasks on the local queue. The scopes
// of a Taskcluster deployment's anonymous role are not known here, so in
// taskcluster mode the answer is yes.
func anonymousMayWrite(authz service.Authorizer) bool {
	st, ok := authz.(*auth.Static)
	if !ok {
		return true
	}
	anon := st.AnonymousScopes()
	return httpapi.GrantsWrites(anon) || auth.Scope("queue:create-task:<task>").SatisfiableBy(anon)
}

// localBridge is the Pulse bridge of `serve`: the trigger queue is
// in-process (queue.Local), handing each message straight to the hooks
// service, and a message is acknowledged on Pulse only once its hook fired
// (or will not: see hooks.Intake.FirePulseMessage), so nothing is lost in
// between.
func localBridge(cfg config.Config, log *slog.Logger, h *hooks.Service, changes *msgqueue.Memory) (*pulse.Bridge, error) {
	opts := pulse.OptionsFromConfig(cfg.Pulse)
	opts.Hooks, opts.Failures, opts.Schemas, opts.Logger = h.Definitions, h.Intake, h.Schemas, log
	opts.Sink = msgqueue.NewLocal(localTrigger(h.Intake, h.Outcomes), nil)
	opts.Changes = changes
	if cfg.Outcomes.TaskEvents != "" && cfg.Taskcluster.RootURL != "" {
		// Tasks on a deployment's queue: its task events tell their
		// outcomes (the local queue tells its own in process).
		opts.TaskEvents = cfg.Outcomes.TaskEvents
		opts.Fires = h.Outcomes.NewFireIndex(hooks.FireIndexOptions{})
	}
	return pulse.NewBridge(opts)
}

// pulseFirer fires the hook of one Pulse message (hooks.Intake).
type pulseFirer interface {
	FirePulseMessage(ctx context.Context, msg hooks.PulseMessage) (hooks.PulseResult, error)
}

// localTrigger is the in-process trigger queue's handler, what the trigger
// function is in AWS: an error is worth a retry, except a body that does
// not decode, which is permanent. It fires Pulse messages and records the
// task outcomes the bridge matched.
func localTrigger(intake pulseFirer, outcomes outcomeRecorder) msgqueue.Handler {
	return func(ctx context.Context, body []byte) error {
		if out, ok, err := hooks.ParseTaskOutcomeMessage(body); ok {
			if err != nil {
				return fmt.Errorf("%w: %v", msgqueue.ErrPermanent, err)
			}
			_, err = outcomes.Record(ctx, out.Fire, out.Outcome)
			return err
		}
		msg, err := hooks.ParsePulseMessage(body)
		if err != nil {
			return fmt.Errorf("%w: %v", msgqueue.ErrPermanent, err)
		}
		_, err = intake.FirePulseMessage(ctx, msg)
		return err
	}
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

// runScheduler ticks at every interval until ctx ends, as the EventBridge
// rule does in AWS.
func runScheduler(ctx context.Context, scheduler *hooks.Scheduler, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := scheduler.Tick(ctx, time.Now(), hooks.TickOptions{Budget: interval * 3 / 4, Interval: interval}); err != nil && ctx.Err() == nil {
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
func runExpiry(ctx context.Context, st store.Store, log *slog.Logger) {
	exp, ok := st.(store.Expirer)
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
		if n, err := exp.ExpireNotifications(ctx, time.Now()); err != nil && ctx.Err() == nil {
			log.Error("expire notifications", "err", err)
		} else if n > 0 {
			log.Info("expired notifications", "deleted", n)
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
func localAuthorizer(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer, sec service.Secrets, issuer *auth.Client) (service.Authorizer, error) {
	var extra []auth.Client
	if issuer != nil {
		extra = append(extra, *issuer)
	}
	if cfg.Auth.Mode != config.AuthStatic || len(cfg.Auth.Clients) > 0 || cfg.Auth.ClientsSecret != "" {
		return service.NewAuthorizer(ctx, cfg.Auth, extra, sec)
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
	return service.NewAuthorizer(ctx, cfg.Auth, append(extra, auth.Client{ClientID: "root", AccessToken: token, Scopes: []string{"*"}}), nil)
}

// localSecrets reads the secrets the config names (as the functions do),
// with the machine's usual AWS configuration; nil when it names none.
func localSecrets(ctx context.Context, cfg config.Config) (service.Secrets, error) {
	if cfg.Taskcluster.CredentialsSecret == "" && cfg.Auth.ClientsSecret == "" {
		return nil, nil
	}
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx)
	if err != nil {
		return nil, fmt.Errorf("AWS configuration for the secrets: %w", err)
	}
	return secrets.New(secretsmanager.NewFromConfig(awsCfg), nil), nil
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
