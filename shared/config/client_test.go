package config

import (
	"strings"
	"testing"
)

func TestLoadClient(t *testing.T) {
	env := func(m map[string]string) func(string) string { return func(k string) string { return m[k] } }
	c, err := LoadClient(env(map[string]string{"TASKCLUSTER_ROOT_URL": "https://tc.example.com/", "TASKCLUSTER_CLIENT_ID": "me", "TASKCLUSTER_ACCESS_TOKEN": "t",
		"TASKCLUSTER_CERTIFICATE": `{"version":1}`, "HOOKLINE_EXCHANGE_DENYLIST": `["^x$"]`}))
	if err != nil || c.RootURL != "https://tc.example.com" || c.ClientID != "me" || c.AccessToken != "t" || c.Certificate != `{"version":1}` || len(c.Denylist) != 1 {
		t.Fatalf("%+v %v", c, err)
	}
	if c, err := LoadClient(env(map[string]string{"TASKCLUSTER_ROOT_URL": "http://127.0.0.1:8080"})); err != nil || c.ClientID != "" {
		t.Fatalf("anonymous: %+v %v", c, err)
	}
	for _, tt := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{}, "TASKCLUSTER_ROOT_URL"},
		{map[string]string{"TASKCLUSTER_ROOT_URL": "tc.example.com"}, "http(s) URL"},
		{map[string]string{"TASKCLUSTER_ROOT_URL": "https://x", "TASKCLUSTER_CLIENT_ID": "me"}, "TASKCLUSTER_ACCESS_TOKEN"},
		{map[string]string{"TASKCLUSTER_ROOT_URL": "https://x", "TASKCLUSTER_ACCESS_TOKEN": "t"}, "without TASKCLUSTER_CLIENT_ID"},
		{map[string]string{"TASKCLUSTER_ROOT_URL": "https://x", "HOOKLINE_EXCHANGE_DENYLIST": "x"}, "HOOKLINE_EXCHANGE_DENYLIST"},
	} {
		if _, err := LoadClient(env(tt.env)); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%v: %v, want an error naming %s", tt.env, err, tt.want)
		}
	}
}
