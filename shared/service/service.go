// Package service builds a running Hookline from a config.Config: the
// store, the hooks domain with its ports plugged in (the Taskcluster queue,
// the roles pre-checks use, a mailer, a change notifier), and the
// authorizer of the HTTP API. It is the one builder every entry point uses
// (the four Lambda functions, `hookline serve` and the bridge), so a
// setting cannot be honoured by one and not another.
//
// It builds and does nothing else: no handlers, decoders or loops live
// here, and it imports no HTTP router, AMQP client, bbolt or optional AWS
// client (SQS, SES), so each binary links only what its main adds. The
// domain, shared/hooks, stays free of all of them.
package service

import (
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/notify/webhook"
	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/taskcluster"
)

// Queue is what the service needs from a Taskcluster queue: creating tasks
// and reading their status back (taskcluster.Queue, localqueue.Queue).
type Queue interface {
	hooks.TaskCreator
	hooks.TaskStatusReader
}

// Deps are what an entry point brings to New. Only Store is required; a
// nil field means the default.
type Deps struct {
	// Store is the opened store (OpenStore); the Service owns it from New
	// on, and closes it if New fails.
	Store store.Store
	// Queue creates the tasks; nil means the Taskcluster queue that
	// cfg.Taskcluster names (TASKCLUSTER_ROOT_URL is then required).
	Queue Queue
	// NoQueue is set by an entry point that fires no hook (the bridge):
	// it gets no queue, and needs no TASKCLUSTER_ROOT_URL.
	NoQueue bool
	// Authorizer authenticates API callers (NewAuthorizer); only the
	// entry points that serve the HTTP API need one. The roles pre-checks
	// use are wired with it (TaskRoles), since only the API pre-checks.
	Authorizer Authorizer
	// Mailer sends the failure emails of scheduled hooks; nil sends none.
	Mailer hooks.Mailer
	// Notifier hears about hook changes; nil means nobody.
	Notifier hooks.ChangeNotifier
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Secrets reads the secrets the config names
	// (TASKCLUSTER_CREDENTIALS_SECRET); nil when it names none.
	Secrets Secrets
	// Senders send notifications. Only the entry points that run the
	// notification delivery loop (the scheduler function, `hookline
	// serve`) have them (NewSenders): there a notification this process
	// cannot send is undeliverable. Elsewhere (nil) notifications are
	// recorded for them, and neither the senders nor their Taskcluster
	// credentials are needed.
	Senders *Senders
}

// Senders are the notification senders of the entry points that deliver.
type Senders struct {
	// Taskcluster sends taskcluster-* targets; nil sends none.
	Taskcluster hooks.TaskclusterNotifier
	// Webhooks posts webhook targets; nil sends none.
	Webhooks hooks.WebhookPoster
}

// NewSenders returns the senders cfg configures: webhooks (honouring
// HOOKLINE_NOTIFY_ALLOW_PRIVATE) and, with a Taskcluster deployment, its
// notify service through notify (tcnotify.New, which the entry point
// passes, so that only the programs that deliver link it) over a client
// that signs as the queue client does (TaskclusterQueue, through secrets
// when the config names a credentials secret).
func NewSenders(cfg config.Config, secrets Secrets, notify func(*taskcluster.API) hooks.TaskclusterNotifier) *Senders {
	s := &Senders{Webhooks: webhook.New(webhook.Options{AllowPrivate: cfg.Outcomes.NotifyAllowPrivate})}
	if api := notifyAPI(cfg.Taskcluster, secrets); api != nil && notify != nil {
		s.Taskcluster = notify(api)
	}
	return s
}

// Service is a built Hookline: the domain over its store and queue, and
// the authorizer of its API (nil for entry points that serve none).
type Service struct {
	Hooks      *hooks.Service
	Store      store.Store
	Queue      Queue
	Authorizer Authorizer
}

// New builds the service for cfg around deps.
func New(cfg config.Config, deps Deps) (*Service, error) {
	s, err := build(cfg, deps)
	if err != nil {
		deps.Store.Close()
		return nil, err
	}
	return s, nil
}

func build(cfg config.Config, deps Deps) (*Service, error) {
	var err error
	if deps.Queue == nil && !deps.NoQueue {
		if deps.Queue, err = TaskclusterQueue(cfg.Taskcluster, deps.Secrets); err != nil {
			return nil, err
		}
	}
	reg, err := schemas.New()
	if err != nil {
		return nil, err
	}
	opts := HooksOptions(cfg)
	if deps.Queue != nil {
		opts.Queue = deps.Queue
	}
	opts.Mailer, opts.Notifier = deps.Mailer, deps.Notifier
	opts.Logger, opts.Now = deps.Logger, deps.Now
	opts.Notify = notifyOptions(cfg, deps.Senders)
	if deps.Authorizer != nil {
		opts.Roles = TaskRoles(cfg, deps.Authorizer)
	}
	h, err := hooks.NewService(deps.Store, reg, opts)
	if err != nil {
		return nil, err
	}
	return &Service{Hooks: h, Store: deps.Store, Queue: deps.Queue, Authorizer: deps.Authorizer}, nil
}

// Close closes the store.
func (s *Service) Close() error { return s.Store.Close() }

// HooksOptions are the domain's options that cfg decides: the exchange
// denylist, the decision log's retention (HOOKLINE_DECISION_RETENTION=0
// turns the log off) and the queue's scope rules.
func HooksOptions(cfg config.Config) hooks.Options {
	o := hooks.Options{Denylist: cfg.Denylist, DecisionRetention: cfg.DecisionRetention, ScopeRules: taskcluster.ScopeRules{},
		HistoryMax: cfg.Outcomes.HistoryMax, OutcomePollInterval: cfg.Outcomes.PollInterval}
	if cfg.DecisionRetention == 0 {
		o.DecisionRetention = -1 // the log is off
	}
	if cfg.Outcomes.PollInterval == 0 {
		o.OutcomePollInterval = -1 // no outcome is followed
	}
	o.Notify.Deployment = cfg.Taskcluster.RootURL != ""
	return o
}

// notifyOptions are how notifications are sent: by senders, in the
// entry points that deliver (the others only record them).
func notifyOptions(cfg config.Config, senders *Senders) hooks.NotifyOptions {
	o := hooks.NotifyOptions{Deliverer: senders != nil, Deployment: cfg.Taskcluster.RootURL != ""}
	if senders != nil {
		o.Taskcluster, o.Webhooks = senders.Taskcluster, senders.Webhooks
	}
	return o
}

// notifyAPI is a client of the notify service of the configured
// deployment, or nil.
func notifyAPI(tc config.TaskclusterConfig, secrets Secrets) *taskcluster.API {
	if tc.RootURL == "" {
		return nil
	}
	opts := &taskcluster.QueueOptions{MaxAttempts: 2}
	creds := auth.Credentials{ClientID: tc.ClientID, AccessToken: tc.AccessToken, Certificate: tc.Certificate}
	if tc.CredentialsSecret != "" {
		if secrets == nil {
			return nil // TaskclusterQueue refuses this configuration
		}
		creds, opts.Credentials = auth.Credentials{}, secretCredentials{secrets: secrets, id: tc.CredentialsSecret}
	}
	return taskcluster.NewAPI(tc.RootURL, "notify", creds, &http.Client{Timeout: 30 * time.Second}, opts)
}

// TaskclusterQueue is the queue client of the configured deployment. Its
// credentials are the config's, or those of the secret it names, read
// through secrets when a call needs them (and again when the queue
// refuses them).
func TaskclusterQueue(tc config.TaskclusterConfig, secrets Secrets) (*taskcluster.Queue, error) {
	if tc.RootURL == "" {
		return nil, fmt.Errorf("service: TASKCLUSTER_ROOT_URL is required to create tasks")
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	if tc.CredentialsSecret != "" {
		if secrets == nil {
			return nil, fmt.Errorf("service: TASKCLUSTER_CREDENTIALS_SECRET: %w", errNoSecrets)
		}
		return taskcluster.NewQueue(tc.RootURL, auth.Credentials{}, hc, &taskcluster.QueueOptions{Credentials: secretCredentials{secrets: secrets, id: tc.CredentialsSecret}}), nil
	}
	creds := auth.Credentials{ClientID: tc.ClientID, AccessToken: tc.AccessToken, Certificate: tc.Certificate}
	return taskcluster.NewQueue(tc.RootURL, creds, hc, nil), nil
}

// NewChecker builds the pre-check of `hookline validate --hook`, offline:
// the roles are those TaskRoles finds (a Taskcluster deployment's, or the
// static roles of HOOKLINE_CLIENTS), or unknown.
func NewChecker(cfg config.Config) (*hooks.Checker, error) {
	reg, err := schemas.New()
	if err != nil {
		return nil, err
	}
	var authz Authorizer
	if cfg.Auth.Mode == config.AuthStatic && len(cfg.Auth.Clients) > 0 {
		opts, err := authOptions(cfg.Auth)
		if err != nil {
			return nil, err
		}
		st, err := staticAuthorizer(cfg.Auth.Clients, opts, nil)
		if err != nil {
			return nil, fmt.Errorf("service: HOOKLINE_CLIENTS: %w", err)
		}
		authz = st
	}
	opts := HooksOptions(cfg)
	opts.Roles = TaskRoles(cfg, authz)
	return hooks.NewChecker(reg, opts), nil
}
