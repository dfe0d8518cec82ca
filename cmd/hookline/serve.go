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
	"time"

	"github.com/hookline/hookline/shared/app"
	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/httpapi"
	"github.com/hookline/hookline/shared/notify"
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

	handler, cleanup, err := buildServer(ctx, cfg, log, stdout)
	if err != nil {
		return err
	}
	defer cleanup()

	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s (HOOKLINE_ADDR): %w", cfg.Addr, err)
	}
	srv := &http.Server{
		Handler:           handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	log.InfoContext(ctx, "hookline serving", "addr", ln.Addr().String(), "api", "http://"+ln.Addr().String()+httpapi.BasePath, "store", cfg.Store.Path)

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

// buildServer wires the store, the service and the HTTP API for `serve`.
// Without a Taskcluster root URL it also runs a local queue at
// /api/queue/v1/, so fired tasks can be read back with any client. The
// returned cleanup closes what was opened.
func buildServer(ctx context.Context, cfg config.Config, log *slog.Logger, stdout io.Writer) (http.Handler, func(), error) {
	var closers []func() error
	cleanup := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	fail := func(err error) (http.Handler, func(), error) {
		cleanup()
		return nil, nil, err
	}
	authz, err := localAuthorizer(cfg, log, stdout)
	if err != nil {
		return fail(err)
	}
	var local *localqueue.Queue
	var queue app.Queue
	if cfg.Taskcluster.RootURL == "" {
		if local, err = localqueue.Open(filepath.Join(cfg.DataDir, "queue.db")); err != nil {
			return fail(err)
		}
		closers = append(closers, local.Close)
		queue = local
	}
	outbox := notify.NewOutbox(filepath.Join(cfg.DataDir, "outbox.jsonl"), nil)
	parts, err := app.Build(ctx, cfg, log, queue, outbox)
	if err != nil {
		return fail(err)
	}
	closers = append(closers, parts.Store.Close)
	router, err := parts.Router(cfg, log, authz)
	if err != nil {
		return fail(err)
	}
	if local == nil {
		return router, cleanup, nil
	}
	mux := http.NewServeMux()
	mux.Handle("/api/queue/v1/", local.Handler(authz))
	mux.Handle("/", router)
	log.Info("local queue serving", "api", "/api/queue/v1/", "file", filepath.Join(cfg.DataDir, "queue.db"))
	return mux, cleanup, nil
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
