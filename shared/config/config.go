// Package config turns environment variables into Hookline's typed
// configuration. It is the only place that knows variable names; mains pass
// os.Getenv, tests pass a map.
package config

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
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
	c.Taskcluster = TaskclusterConfig{
		RootURL:     c.Auth.TaskclusterRootURL,
		ClientID:    get("TASKCLUSTER_CLIENT_ID", ""),
		AccessToken: get("TASKCLUSTER_ACCESS_TOKEN", ""),
		Certificate: get("TASKCLUSTER_CERTIFICATE", ""),
	}
	if c.Taskcluster.RootURL != "" && (c.Taskcluster.ClientID == "" || c.Taskcluster.AccessToken == "") {
		return Config{}, fmt.Errorf("config: TASKCLUSTER_ROOT_URL is set, so TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN are needed too (the credentials Hookline creates tasks with)")
	}
	if inline, file := get("HOOKLINE_CLIENTS", ""), get("HOOKLINE_CLIENTS_FILE", ""); inline != "" && file != "" {
		return Config{}, fmt.Errorf("config: set HOOKLINE_CLIENTS or HOOKLINE_CLIENTS_FILE, not both")
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
