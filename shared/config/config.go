// Package config turns environment variables into Hookline's typed
// configuration. It is the only place that knows variable names; mains pass
// os.Getenv, tests pass a map.
package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// StoreKind names a storage backend.
type StoreKind string

// The storage backends.
const (
	StoreEmbedded StoreKind = "embedded"
	StoreDynamoDB StoreKind = "dynamodb"
)

// AuthMode says who verifies Hawk credentials.
type AuthMode string

// The authentication modes.
const (
	// AuthStatic verifies requests against clients and roles in config.
	AuthStatic AuthMode = "static"
	// AuthTaskcluster delegates verification to a Taskcluster deployment's
	// auth service (authenticateHawk).
	AuthTaskcluster AuthMode = "taskcluster"
)

// Config is the whole configuration.
type Config struct {
	// Addr is where `hookline serve` listens (HOOKLINE_ADDR).
	Addr string
	// DataDir holds local state for `hookline serve` (HOOKLINE_DATA_DIR).
	DataDir string
	// Store selects and locates the backend (HOOKLINE_STORE).
	Store StoreConfig
	// LogLevel is the minimum slog level (HOOKLINE_LOG_LEVEL).
	LogLevel slog.Level
	// Denylist overrides the default exchange denylist when non-nil
	// (HOOKLINE_EXCHANGE_DENYLIST, a JSON array of regular expressions).
	Denylist []string
	// Auth configures authentication.
	Auth AuthConfig
	// Version is reported by __version__ (HOOKLINE_VERSION).
	Version string
	// Taskcluster is the deployment whose queue receives fired tasks.
	Taskcluster TaskclusterConfig
	// EmailSender is the SES-verified From address of failure emails
	// (HOOKLINE_EMAIL_SENDER); empty sends none from Lambda. `hookline
	// serve` writes emails to $HOOKLINE_DATA_DIR/outbox.jsonl instead.
	EmailSender string
	// SchedulerInterval is how often `hookline serve` looks for due hooks
	// (HOOKLINE_SCHEDULER_INTERVAL, a Go duration; default 1m).
	SchedulerInterval time.Duration
	// DecisionRetention is how long each hook's decision log keeps a
	// decision (HOOKLINE_DECISION_RETENTION, a Go duration; default 720h,
	// 30 days; 0 turns the log off, and with it replay).
	DecisionRetention time.Duration
	// Webhook limits the signed webhook route.
	Webhook WebhookConfig
	// Pulse configures the Pulse bridge and the queues around it.
	Pulse PulseConfig
	// Outcomes configures task outcomes, notifications and the history
	// cap (outcomes.go).
	Outcomes OutcomesConfig
}

// PulseConfig configures the Pulse bridge (cmd/bridge, or `hookline serve`
// when URL is set) and the SQS queues between it, the API and the trigger
// function.
type PulseConfig struct {
	// URL is the AMQP URL of the Pulse broker, credentials included
	// (HOOKLINE_PULSE_URL, amqp:// or amqps://). Empty: `hookline serve`
	// runs no bridge, and cmd/bridge refuses to start.
	URL string
	// Namespace is the Pulse user the bridge acts as: its queues are
	// queue/<Namespace>/<hookGroupId>/<hookId> and it publishes on
	// exchange/<Namespace>/v1/hook-created etc.
	// (HOOKLINE_PULSE_NAMESPACE, default taskcluster-hooks, as upstream).
	Namespace string
	// QueueMaxLength bounds each hook's queue; beyond it the oldest
	// messages are dropped (HOOKLINE_PULSE_QUEUE_MAX_LENGTH, default
	// 10000).
	QueueMaxLength int
	// Prefetch is how many unacknowledged messages each hook's queue may
	// hand the bridge (HOOKLINE_PULSE_PREFETCH, default 100).
	Prefetch int
	// ReconcileInterval is how often the bridge re-checks every queue and
	// binding against the store, besides start-up and every hook change
	// (HOOKLINE_PULSE_RECONCILE_INTERVAL, a Go duration; default 5m).
	ReconcileInterval time.Duration
	// BridgeAddr is where the bridge serves /healthz and /metrics
	// (HOOKLINE_BRIDGE_ADDR, default 127.0.0.1:9090).
	BridgeAddr string
	// TriggerQueueURL is the SQS queue the bridge forwards messages to
	// and the trigger function consumes (HOOKLINE_TRIGGER_QUEUE_URL).
	TriggerQueueURL string
	// ChangesQueueURL is the SQS queue the API announces hook changes on
	// and the bridge consumes (HOOKLINE_CHANGES_QUEUE_URL); empty: the API
	// announces nothing.
	ChangesQueueURL string
	// TriggerDLQURL is the trigger queue's dead-letter queue, which
	// `hookline redrive` moves messages out of (HOOKLINE_TRIGGER_DLQ_URL).
	TriggerDLQURL string
}

// WebhookConfig limits the signed webhook route
// (/api/hookline/v1/hooks/<hookGroupId>/<hookId>/webhook).
type WebhookConfig struct {
	// MaxBodyBytes is the largest delivery body (HOOKLINE_WEBHOOK_MAX_BODY:
	// bytes, or with a KB or MB suffix in powers of 1024; default 1MB, at
	// most 10MB).
	MaxBodyBytes int64
	// Rate is how many deliveries per second one hook accepts in one
	// process; 0 means no limit (HOOKLINE_WEBHOOK_RATE: a number, per
	// second unless followed by /s, /m or /h; default 10/s).
	Rate float64
	// Burst is how many deliveries a hook may send at once
	// (HOOKLINE_WEBHOOK_BURST; default 20).
	Burst int
}

// TaskclusterConfig names a Taskcluster deployment and Hookline's own
// credentials there (which need assume:hook-id:*, queue:create-task:* and
// notify:email:*, as upstream's hooks service).
type TaskclusterConfig struct {
	// RootURL (TASKCLUSTER_ROOT_URL); empty means `hookline serve` runs
	// its own local queue.
	RootURL string
	// ClientID, AccessToken and Certificate (TASKCLUSTER_CLIENT_ID,
	// TASKCLUSTER_ACCESS_TOKEN, TASKCLUSTER_CERTIFICATE).
	ClientID    string
	AccessToken string
	Certificate string
	// CredentialsSecret, instead of the three above, names a Secrets
	// Manager secret (ARN or name) whose SecretString is
	// {"clientId": ..., "accessToken": ...[, "certificate": ...]}, read at
	// run time (TASKCLUSTER_CREDENTIALS_SECRET): the Lambda functions take
	// their credentials this way, so they never sit in an environment.
	CredentialsSecret string
}

// StoreConfig locates the store.
type StoreConfig struct {
	Kind StoreKind
	// Path is the bbolt file for StoreEmbedded.
	Path string
	// Table is the DynamoDB table for StoreDynamoDB.
	Table string
}

// AuthConfig configures authentication.
type AuthConfig struct {
	// Mode is static or taskcluster (HOOKLINE_AUTH_MODE).
	Mode AuthMode
	// Clients is the JSON clients/roles document (HOOKLINE_CLIENTS, or
	// the contents of the file named by HOOKLINE_CLIENTS_FILE).
	Clients []byte
	// RootAccessToken is the access token of the `root` client that
	// `hookline serve` creates when no clients are configured
	// (HOOKLINE_ROOT_ACCESS_TOKEN); empty means generate one.
	RootAccessToken string
	// TaskclusterRootURL is the deployment whose auth service verifies
	// requests in taskcluster mode (TASKCLUSTER_ROOT_URL).
	TaskclusterRootURL string
	// PublicURL, when set, is the scheme://host[:port] clients use to reach
	// the service; Hawk signatures are checked against its host and port
	// (HOOKLINE_PUBLIC_URL).
	PublicURL string
	// IgnoreForwarded stops X-Forwarded-Port/Proto from deciding the port
	// a signature is checked against; they are believed by default, as on
	// Taskcluster and as API Gateway sets them (HOOKLINE_IGNORE_FORWARDED).
	IgnoreForwarded bool
	// TrustForwardedHost takes the host from X-Forwarded-Host
	// (HOOKLINE_TRUST_FORWARDED_HOST).
	TrustForwardedHost bool
	// ClientsSecret, instead of Clients, names a Secrets Manager secret
	// (ARN or name) whose SecretString is the clients document, read at run
	// time and again when a caller's credentials are refused
	// (HOOKLINE_CLIENTS_SECRET; static mode only).
	ClientsSecret string
	// CORSOrigins are other sites (scheme://host[:port]) whose pages may
	// use the anonymous scopes for more than reads
	// (HOOKLINE_CORS_ORIGINS, comma-separated); pages of the server's own
	// origin and of PublicURL always may.
	CORSOrigins []string
}

// Load reads the configuration through getenv. A bad value is an error that
// names the variable.
func Load(getenv func(string) string) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		Addr:    get("HOOKLINE_ADDR", "127.0.0.1:8080"),
		DataDir: get("HOOKLINE_DATA_DIR", ".hookline"),
		Version: get("HOOKLINE_VERSION", "dev"),
	}
	c.EmailSender = get("HOOKLINE_EMAIL_SENDER", "")
	interval, err := time.ParseDuration(get("HOOKLINE_SCHEDULER_INTERVAL", "1m"))
	if err != nil || interval < time.Second {
		return Config{}, fmt.Errorf("config: HOOKLINE_SCHEDULER_INTERVAL must be a duration of at least 1s, such as 30s or 1m")
	}
	c.SchedulerInterval = interval
	if c.DecisionRetention, err = time.ParseDuration(get("HOOKLINE_DECISION_RETENTION", "720h")); err != nil || (c.DecisionRetention != 0 && c.DecisionRetention < time.Hour) {
		return Config{}, fmt.Errorf("config: HOOKLINE_DECISION_RETENTION must be a duration of at least 1h, such as 720h (30 days), or 0 to keep no decision log")
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		return Config{}, fmt.Errorf("config: HOOKLINE_ADDR %q must be host:port: %w", c.Addr, err)
	}

	storeSpec := get("HOOKLINE_STORE", "embedded")
	kind, arg, _ := strings.Cut(storeSpec, ":")
	switch StoreKind(kind) {
	case StoreEmbedded:
		c.Store = StoreConfig{Kind: StoreEmbedded, Path: arg}
		if c.Store.Path == "" {
			c.Store.Path = filepath.Join(c.DataDir, "hookline.db")
		}
	case StoreDynamoDB:
		if arg == "" {
			return Config{}, fmt.Errorf("config: HOOKLINE_STORE %q needs a table name, as dynamodb:TABLE", storeSpec)
		}
		c.Store = StoreConfig{Kind: StoreDynamoDB, Table: arg}
	default:
		return Config{}, fmt.Errorf("config: HOOKLINE_STORE %q must be embedded[:PATH] or dynamodb:TABLE", storeSpec)
	}

	if err := c.LogLevel.UnmarshalText([]byte(get("HOOKLINE_LOG_LEVEL", "info"))); err != nil {
		return Config{}, fmt.Errorf("config: HOOKLINE_LOG_LEVEL: %w (use debug, info, warn or error)", err)
	}

	if raw := get("HOOKLINE_EXCHANGE_DENYLIST", ""); raw != "" {
		if err := json.Unmarshal([]byte(raw), &c.Denylist); err != nil || c.Denylist == nil {
			return Config{}, fmt.Errorf("config: HOOKLINE_EXCHANGE_DENYLIST must be a JSON array of regular expressions")
		}
	}

	c.Auth = AuthConfig{
		Mode:               AuthMode(get("HOOKLINE_AUTH_MODE", string(AuthStatic))),
		RootAccessToken:    get("HOOKLINE_ROOT_ACCESS_TOKEN", ""),
		TaskclusterRootURL: strings.TrimRight(get("TASKCLUSTER_ROOT_URL", ""), "/"),
		PublicURL:          strings.TrimRight(get("HOOKLINE_PUBLIC_URL", ""), "/"),
	}
	switch c.Auth.Mode {
	case AuthStatic:
	case AuthTaskcluster:
		if c.Auth.TaskclusterRootURL == "" {
			return Config{}, fmt.Errorf("config: HOOKLINE_AUTH_MODE=taskcluster needs TASKCLUSTER_ROOT_URL")
		}
	default:
		return Config{}, fmt.Errorf("config: HOOKLINE_AUTH_MODE %q must be static or taskcluster", c.Auth.Mode)
	}
	for _, u := range []struct{ name, value string }{{"TASKCLUSTER_ROOT_URL", c.Auth.TaskclusterRootURL}, {"HOOKLINE_PUBLIC_URL", c.Auth.PublicURL}} {
		if u.value == "" {
			continue
		}
		parsed, err := url.Parse(u.value)
		if err != nil || (parsed.Scheme != "http" && parsed.Scheme != "https") || parsed.Host == "" {
			return Config{}, fmt.Errorf("config: %s %q must be an http(s) URL", u.name, u.value)
		}
	}
	if c.Auth.IgnoreForwarded, err = boolVar(get, "HOOKLINE_IGNORE_FORWARDED"); err != nil {
		return Config{}, err
	}
	if c.Auth.TrustForwardedHost, err = boolVar(get, "HOOKLINE_TRUST_FORWARDED_HOST"); err != nil {
		return Config{}, err
	}
	if c.Auth.CORSOrigins, err = originsVar(get, "HOOKLINE_CORS_ORIGINS"); err != nil {
		return Config{}, err
	}
	c.Taskcluster = TaskclusterConfig{
		RootURL:           c.Auth.TaskclusterRootURL,
		ClientID:          get("TASKCLUSTER_CLIENT_ID", ""),
		AccessToken:       get("TASKCLUSTER_ACCESS_TOKEN", ""),
		Certificate:       get("TASKCLUSTER_CERTIFICATE", ""),
		CredentialsSecret: get("TASKCLUSTER_CREDENTIALS_SECRET", ""),
	}
	if c.Webhook, err = webhookConfig(get); err != nil {
		return Config{}, err
	}
	tc := c.Taskcluster
	switch {
	case tc.CredentialsSecret != "" && (tc.ClientID != "" || tc.AccessToken != "" || tc.Certificate != ""):
		return Config{}, fmt.Errorf("config: set TASKCLUSTER_CREDENTIALS_SECRET or TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN, not both")
	case tc.RootURL != "" && tc.CredentialsSecret == "" && (tc.ClientID == "" || tc.AccessToken == ""):
		return Config{}, fmt.Errorf("config: TASKCLUSTER_ROOT_URL is set, so TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN (or TASKCLUSTER_CREDENTIALS_SECRET, a Secrets Manager secret holding them) are needed too: the credentials Hookline creates tasks with")
	}
	if c.Pulse, err = loadPulse(get); err != nil {
		return Config{}, err
	}
	if c.Outcomes, err = loadOutcomes(get); err != nil {
		return Config{}, err
	}
	c.Auth.ClientsSecret = get("HOOKLINE_CLIENTS_SECRET", "")
	if inline, file := get("HOOKLINE_CLIENTS", ""), get("HOOKLINE_CLIENTS_FILE", ""); btoi(inline != "")+btoi(file != "")+btoi(c.Auth.ClientsSecret != "") > 1 {
		return Config{}, fmt.Errorf("config: set one of HOOKLINE_CLIENTS, HOOKLINE_CLIENTS_FILE and HOOKLINE_CLIENTS_SECRET")
	} else if inline != "" {
		c.Auth.Clients = []byte(inline)
	} else if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return Config{}, fmt.Errorf("config: HOOKLINE_CLIENTS_FILE: %w", err)
		}
		c.Auth.Clients = data
	}
	return c, nil
}

func loadPulse(get func(name, def string) string) (PulseConfig, error) {
	p := PulseConfig{
		URL:             get("HOOKLINE_PULSE_URL", ""),
		Namespace:       get("HOOKLINE_PULSE_NAMESPACE", "taskcluster-hooks"),
		BridgeAddr:      get("HOOKLINE_BRIDGE_ADDR", "127.0.0.1:9090"),
		TriggerQueueURL: get("HOOKLINE_TRIGGER_QUEUE_URL", ""),
		ChangesQueueURL: get("HOOKLINE_CHANGES_QUEUE_URL", ""),
		TriggerDLQURL:   get("HOOKLINE_TRIGGER_DLQ_URL", ""),
	}
	if p.URL != "" {
		// The URL holds credentials: errors name the variable, never the value.
		u, err := url.Parse(p.URL)
		if err != nil || (u.Scheme != "amqp" && u.Scheme != "amqps") || u.Host == "" {
			return PulseConfig{}, fmt.Errorf("config: HOOKLINE_PULSE_URL must be an amqp:// or amqps:// URL")
		}
	}
	if !validNamespace(p.Namespace) {
		return PulseConfig{}, fmt.Errorf("config: HOOKLINE_PULSE_NAMESPACE %q must be 1 to 64 characters, each a letter, digit, dot, dash or underscore", p.Namespace)
	}
	var err error
	if p.QueueMaxLength, err = intVar(get, "HOOKLINE_PULSE_QUEUE_MAX_LENGTH", 10000, 1, 100_000_000); err != nil {
		return PulseConfig{}, err
	}
	if p.Prefetch, err = intVar(get, "HOOKLINE_PULSE_PREFETCH", 100, 1, 65535); err != nil {
		return PulseConfig{}, err
	}
	if p.ReconcileInterval, err = time.ParseDuration(get("HOOKLINE_PULSE_RECONCILE_INTERVAL", "5m")); err != nil || p.ReconcileInterval < time.Second {
		return PulseConfig{}, fmt.Errorf("config: HOOKLINE_PULSE_RECONCILE_INTERVAL must be a duration of at least 1s, such as 5m")
	}
	if _, _, err := net.SplitHostPort(p.BridgeAddr); err != nil {
		return PulseConfig{}, fmt.Errorf("config: HOOKLINE_BRIDGE_ADDR %q must be host:port: %w", p.BridgeAddr, err)
	}
	for _, q := range []struct{ name, value string }{{"HOOKLINE_TRIGGER_QUEUE_URL", p.TriggerQueueURL}, {"HOOKLINE_CHANGES_QUEUE_URL", p.ChangesQueueURL}, {"HOOKLINE_TRIGGER_DLQ_URL", p.TriggerDLQURL}} {
		if q.value == "" {
			continue
		}
		if u, err := url.Parse(q.value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return PulseConfig{}, fmt.Errorf("config: %s %q must be an SQS queue URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)", q.name, q.value)
		}
	}
	return p, nil
}

// validNamespace accepts a Pulse user name: it becomes part of queue and
// exchange names, so no slash and no topic wildcard.
func validNamespace(ns string) bool {
	if ns == "" || len(ns) > 64 {
		return false
	}
	for _, r := range ns {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

func intVar(get func(name, def string) string, name string, def, lo, hi int) (int, error) {
	v := get(name, "")
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return 0, fmt.Errorf("config: %s %q must be a whole number from %d to %d", name, v, lo, hi)
	}
	return n, nil
}

// originsVar reads a comma-separated list of web origins,
// scheme://host[:port] each.
func originsVar(get func(name, def string) string, name string) ([]string, error) {
	var out []string
	for _, o := range strings.Split(get(name, ""), ",") {
		if o = strings.TrimSpace(o); o == "" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil ||
			(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" {
			return nil, fmt.Errorf("config: %s: %q is not an origin: write scheme://host[:port], such as https://console.example.com, separated by commas", name, o)
		}
		out = append(out, strings.TrimRight(o, "/"))
	}
	return out, nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func boolVar(get func(name, def string) string, name string) (bool, error) {
	switch v := get(name, "false"); v {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	default:
		return false, fmt.Errorf("config: %s %q must be true or false", name, v)
	}
}

// maxWebhookBody is the most HOOKLINE_WEBHOOK_MAX_BODY may be: the API's
// own body limit (and API Gateway's).
const maxWebhookBody = 10 << 20

func webhookConfig(get func(name, def string) string) (WebhookConfig, error) {
	var w WebhookConfig
	size := get("HOOKLINE_WEBHOOK_MAX_BODY", "1MB")
	n, err := parseSize(size)
	if err != nil || n < 1 || n > maxWebhookBody {
		return w, fmt.Errorf("config: HOOKLINE_WEBHOOK_MAX_BODY %q must be a size from 1 byte to 10MB, such as 1048576, 512KB or 1MB", size)
	}
	w.MaxBodyBytes = n
	rate := get("HOOKLINE_WEBHOOK_RATE", "10/s")
	if w.Rate, err = parseRate(rate); err != nil {
		return w, fmt.Errorf("config: HOOKLINE_WEBHOOK_RATE %q must be deliveries per second, minute or hour, such as 10, 10/s, 300/m or 0 for no limit", rate)
	}
	burst := get("HOOKLINE_WEBHOOK_BURST", "20")
	if w.Burst, err = strconv.Atoi(burst); err != nil || w.Burst < 1 || w.Burst > 1_000_000 {
		return w, fmt.Errorf("config: HOOKLINE_WEBHOOK_BURST %q must be a whole number of deliveries from 1 to 1000000", burst)
	}
	return w, nil
}

// parseSize reads bytes, optionally followed by KB or MB (powers of 1024).
func parseSize(v string) (int64, error) {
	mult := int64(1)
	upper := strings.ToUpper(strings.TrimSpace(v))
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"MB", 1 << 20}, {"KB", 1 << 10}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(upper, u.suffix); ok {
			upper, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(upper, 10, 64)
	if err != nil || n < 0 || n > (1<<40)/mult {
		return 0, fmt.Errorf("bad size %q", v)
	}
	return n * mult, nil
}

// parseRate reads a rate such as 10, 10/s, 300/m or 3600/h as a number per
// second.
func parseRate(v string) (float64, error) {
	num, unit, _ := strings.Cut(strings.TrimSpace(v), "/")
	per := 1.0
	switch strings.TrimSpace(unit) {
	case "", "s":
	case "m":
		per = 60
	case "h":
		per = 3600
	default:
		return 0, fmt.Errorf("bad rate unit %q", unit)
	}
	n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
	if err != nil || n < 0 || math.IsInf(n, 0) || math.IsNaN(n) {
		return 0, fmt.Errorf("bad rate %q", v)
	}
	return n / per, nil
}
