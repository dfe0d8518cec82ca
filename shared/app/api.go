package app

import (
	"context"
	"fmt"
	"github.com/aws/aws-lambda-go/events"
	"log/slog"
	"net/http"
	"time"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/console"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/httpapi"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/taskcluster"
)

// Queue is what the service needs from a Taskcluster queue: creating tasks
// and reading their status back.
type Queue interface {
	hooks.TaskCreator
	hooks.TaskStatusReader
}

// Parts are the pieces of a running Hookline, built from config.
type Parts struct {
	Store   store.Store
	Service *hooks.Service
	Queue   Queue
}

// Build builds the service over st, around queue (nil: the Taskcluster
// queue the config names) and mailer (nil: no failure emails; only the
// scheduler sends them, so only it links the SES client). The parts own st
// from then on: it is closed if Build fails.
func Build(ctx context.Context, cfg config.Config, log *slog.Logger, st store.Store, queue Queue, mailer hooks.Mailer, opts ...Option) (*Parts, error) {
	var err error
	if queue == nil {
		if queue, err = TaskclusterQueue(cfg.Taskcluster); err != nil {
			st.Close()
			return nil, err
		}
	}
	reg, err := schemas.New()
	if err != nil {
		st.Close()
		return nil, err
	}
	hopts := hooks.Options{Denylist: cfg.Denylist, Logger: log, Queue: queue, Mailer: mailer, DecisionRetention: cfg.DecisionRetention}
	if cfg.DecisionRetention == 0 {
		hopts.DecisionRetention = -1 // the log is off
	}
	for _, o := range opts {
		o(&hopts)
	}
	svc, err := hooks.NewService(st, reg, hopts)
	if err != nil {
		st.Close()
		return nil, err
	}
	return &Parts{Store: st, Service: svc, Queue: queue}, nil
}

// TaskclusterQueue is the queue client of the configured deployment.
func TaskclusterQueue(tc config.TaskclusterConfig) (*taskcluster.Queue, error) {
	if tc.RootURL == "" {
		return nil, fmt.Errorf("app: TASKCLUSTER_ROOT_URL is required to create tasks")
	}
	creds := auth.Credentials{ClientID: tc.ClientID, AccessToken: tc.AccessToken, Certificate: tc.Certificate}
	return taskcluster.NewQueue(tc.RootURL, creds, &http.Client{Timeout: 30 * time.Second}, nil), nil
}

// Router builds the HTTP API over the parts.
func (p *Parts) Router(cfg config.Config, log *slog.Logger, authz httpapi.Authorizer, only ...string) (*httpapi.Router, error) {
	return httpapi.NewRouter(p.Service, httpapi.Options{
		Authorizer:   authz,
		Logger:       log,
		Version:      cfg.Version,
		TaskStatuses: p.Queue,
		Only:         only,
		Webhook:      WebhookOptions(cfg.Webhook),
		Roles:        TaskRoles(cfg, authz),
	})
}

// WebhookOptions are the router's webhook limits from config (where a
// rate of 0 means no limit).
func WebhookOptions(c config.WebhookConfig) httpapi.WebhookOptions {
	o := httpapi.WebhookOptions{MaxBodyBytes: c.MaxBodyBytes, Rate: c.Rate, Burst: c.Burst}
	if c.Rate == 0 {
		o.Rate = httpapi.NoWebhookRateLimit
	}
	return o
}

// HTTPHandler is the Lambda handler type of the HTTP API functions.
type HTTPHandler = func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)

// WebhookRoutes are the public routes of the upstream hooks API that the
// webhook function serves.
func WebhookRoutes() []string { return []string{"triggerHookWithToken"} }

// HooklineWebhookRoutes are the public routes of Hookline's own API that
// the webhook function serves too (paths in httpapi.HooklineRoutes).
func HooklineWebhookRoutes() []string { return []string{httpapi.RouteTriggerWebhook} }

// LambdaAPI builds, from the environment, the api function's handler: every
// route of the HTTP API.
func LambdaAPI(ctx context.Context, getenv func(string) string, log *slog.Logger) (HTTPHandler, error) {
	return lambdaHTTP(ctx, getenv, log, lambdaChangeNotifier, withConsole)
}

// withConsole serves the web console in front of the API: the api
// function's. (Passed as a function so that only that binary links it.)
func withConsole(cfg config.Config, api http.Handler) (http.Handler, error) {
	cons, err := console.New(console.Options{TaskclusterRootURL: cfg.Taskcluster.RootURL, Version: cfg.Version})
	if err != nil {
		return nil, err
	}
	return console.Mount(api, cons), nil
}

// LambdaWebhook builds the webhook function's handler: only the public
// webhook routes.
func LambdaWebhook(ctx context.Context, getenv func(string) string, log *slog.Logger) (HTTPHandler, error) {
	return lambdaHTTP(ctx, getenv, log, nil, nil, append(WebhookRoutes(), HooklineWebhookRoutes()...)...)
}

// lambdaHTTP builds an HTTP API function; notifier, if not nil, builds the
// hook change notifier (only the api function changes hooks), and front,
// if not nil, wraps the router (the api function's console).
func lambdaHTTP(ctx context.Context, getenv func(string) string, log *slog.Logger, notifier func(func(string) string, config.Config) (hooks.ChangeNotifier, error),
	front func(config.Config, http.Handler) (http.Handler, error), only ...string) (HTTPHandler, error) {
	cfg, err := config.Load(getenv)
	if err != nil {
		return nil, err
	}
	var opts []Option
	if notifier != nil {
		n, err := notifier(getenv, cfg)
		if err != nil {
			return nil, err
		}
		if n != nil {
			opts = append(opts, WithNotifier(n))
		}
	}
	st, err := LambdaStore(getenv, cfg.Store)
	if err != nil {
		return nil, err
	}
	parts, err := Build(ctx, cfg, log, st, nil, nil, opts...)
	if err != nil {
		return nil, err
	}
	authz, err := NewAuthorizer(cfg.Auth, nil)
	if err != nil {
		return nil, err
	}
	router, err := parts.Router(cfg, log, authz, only...)
	if err != nil {
		return nil, err
	}
	var h http.Handler = router
	if front != nil {
		if h, err = front(cfg, router); err != nil {
			return nil, err
		}
	}
	return httpapi.Lambda(h), nil
}
