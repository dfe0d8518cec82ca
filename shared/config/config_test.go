package config

import (
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestLoadDefaults(t *testing.T) {
	c, err := Load(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "127.0.0.1:8080" || c.DataDir != ".hookline" || c.LogLevel != slog.LevelInfo {
		t.Fatalf("defaults: %+v", c)
	}
	if c.Store.Kind != StoreEmbedded || c.Store.Path != filepath.Join(".hookline", "hookline.db") {
		t.Fatalf("store default: %+v", c.Store)
	}
	if c.DecisionRetention != 30*24*time.Hour {
		t.Fatalf("decision retention default: %v", c.DecisionRetention)
	}
	if c.SchedulerInterval != time.Minute || c.EmailSender != "" {
		t.Fatalf("scheduler/email defaults: %v %q", c.SchedulerInterval, c.EmailSender)
	}
	if c.Auth.Mode != AuthStatic || c.Denylist != nil {
		t.Fatalf("auth/denylist defaults: %+v %v", c.Auth, c.Denylist)
	}
}

func TestLoadValues(t *testing.T) {
	file := filepath.Join(t.TempDir(), "clients.json")
	os.WriteFile(file, []byte(`{"clients":[]}`), 0o600)
	c, err := Load(env(map[string]string{
		"HOOKLINE_ADDR":                 "0.0.0.0:9000",
		"HOOKLINE_STORE":                "dynamodb:hooks-table",
		"HOOKLINE_LOG_LEVEL":            "debug",
		"HOOKLINE_EXCHANGE_DENYLIST":    `["exchange/x/.*"]`,
		"HOOKLINE_AUTH_MODE":            "taskcluster",
		"TASKCLUSTER_ROOT_URL":          "https://tc.example.com/",
		"TASKCLUSTER_CLIENT_ID":         "hookline",
		"TASKCLUSTER_ACCESS_TOKEN":      "secret-secret-secret",
		"HOOKLINE_CLIENTS_FILE":         file,
		"HOOKLINE_TRUST_FORWARDED_HOST": "true",
		"HOOKLINE_CORS_ORIGINS":         "https://console.example, http://127.0.0.1:3000/",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Store.Table != "hooks-table" || c.LogLevel != slog.LevelDebug || c.Denylist[0] != "exchange/x/.*" ||
		c.Auth.TaskclusterRootURL != "https://tc.example.com" || string(c.Auth.Clients) != `{"clients":[]}` || !c.Auth.TrustForwardedHost ||
		strings.Join(c.Auth.CORSOrigins, " ") != "https://console.example http://127.0.0.1:3000" {
		t.Fatalf("values not applied: %+v", c)
	}
}

// The Lambda functions read their credentials from Secrets Manager.
func TestLoadSecrets(t *testing.T) {
	c, err := Load(env(map[string]string{
		"TASKCLUSTER_ROOT_URL":           "https://tc.example.com",
		"TASKCLUSTER_CREDENTIALS_SECRET": "arn:aws:secretsmanager:us-east-1:123456789012:secret:hookline/taskcluster-AbCdEf",
		"HOOKLINE_CLIENTS_SECRET":        "hookline/clients",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if c.Taskcluster.CredentialsSecret != "arn:aws:secretsmanager:us-east-1:123456789012:secret:hookline/taskcluster-AbCdEf" || c.Auth.ClientsSecret != "hookline/clients" || c.Auth.Clients != nil {
		t.Fatalf("secrets not applied: %+v", c)
	}
}

func TestLoadErrorsNameTheVariable(t *testing.T) {
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"HOOKLINE_ADDR": "nope"}, "HOOKLINE_ADDR"},
		{map[string]string{"HOOKLINE_SCHEDULER_INTERVAL": "soon"}, "HOOKLINE_SCHEDULER_INTERVAL"},
		{map[string]string{"HOOKLINE_SCHEDULER_INTERVAL": "1ms"}, "HOOKLINE_SCHEDULER_INTERVAL"},
		{map[string]string{"HOOKLINE_DECISION_RETENTION": "a month"}, "HOOKLINE_DECISION_RETENTION"},
		{map[string]string{"HOOKLINE_DECISION_RETENTION": "5m"}, "HOOKLINE_DECISION_RETENTION"},
		{map[string]string{"HOOKLINE_STORE": "postgres"}, "HOOKLINE_STORE"},
		{map[string]string{"HOOKLINE_STORE": "dynamodb"}, "HOOKLINE_STORE"},
		{map[string]string{"HOOKLINE_LOG_LEVEL": "loud"}, "HOOKLINE_LOG_LEVEL"},
		{map[string]string{"HOOKLINE_EXCHANGE_DENYLIST": "x"}, "HOOKLINE_EXCHANGE_DENYLIST"},
		{map[string]string{"HOOKLINE_AUTH_MODE": "none"}, "HOOKLINE_AUTH_MODE"},
		{map[string]string{"HOOKLINE_AUTH_MODE": "taskcluster"}, "TASKCLUSTER_ROOT_URL"},
		{map[string]string{"TASKCLUSTER_ROOT_URL": "ftp://x"}, "TASKCLUSTER_ROOT_URL"},
		{map[string]string{"TASKCLUSTER_ROOT_URL": "https://tc.example.com"}, "TASKCLUSTER_CLIENT_ID"},
		{map[string]string{"HOOKLINE_IGNORE_FORWARDED": "maybe"}, "HOOKLINE_IGNORE_FORWARDED"},
		{map[string]string{"HOOKLINE_CORS_ORIGINS": "console.example"}, "HOOKLINE_CORS_ORIGINS"},
		{map[string]string{"TASKCLUSTER_CREDENTIALS_SECRET": "arn:x", "TASKCLUSTER_ACCESS_TOKEN": "t"}, "TASKCLUSTER_CREDENTIALS_SECRET"},
		{map[string]string{"HOOKLINE_CLIENTS_SECRET": "arn:x", "HOOKLINE_CLIENTS": "{}"}, "HOOKLINE_CLIENTS_SECRET"},
		{map[string]string{"HOOKLINE_CORS_ORIGINS": "https://console.example/app"}, "HOOKLINE_CORS_ORIGINS"},
		{map[string]string{"HOOKLINE_CLIENTS": "{}", "HOOKLINE_CLIENTS_FILE": "/x"}, "HOOKLINE_CLIENTS"},
		{map[string]string{"HOOKLINE_CLIENTS_FILE": "/does/not/exist"}, "HOOKLINE_CLIENTS_FILE"},
	} {
		_, err := Load(env(tt.env))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Load(%v) = %v, want an error naming %s", tt.env, err, tt.want)
		}
	}
}
