package config

import (
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
)

// ClientConfig is what `hookline hooks` needs to call a deployment's hooks
// API as a client: the usual Taskcluster client variables, and the
// exchange denylist its offline checks apply, as `hookline validate` does.
type ClientConfig struct {
	// RootURL is the deployment (TASKCLUSTER_ROOT_URL), required.
	RootURL string
	// ClientID, AccessToken and Certificate are the caller's credentials
	// (TASKCLUSTER_CLIENT_ID, TASKCLUSTER_ACCESS_TOKEN, and
	// TASKCLUSTER_CERTIFICATE for temporary credentials); without a
	// client id, requests go unsigned.
	ClientID    string
	AccessToken string
	Certificate string
	// Denylist overrides the default exchange denylist when non-nil
	// (HOOKLINE_EXCHANGE_DENYLIST).
	Denylist []string
}

// LoadClient reads a ClientConfig through getenv. A missing root URL, or a
// client id without an access token, is an error naming the variable.
func LoadClient(getenv func(string) string) (ClientConfig, error) {
	get := func(name string) string { return strings.TrimSpace(getenv(name)) }
	c := ClientConfig{
		RootURL:     strings.TrimRight(get("TASKCLUSTER_ROOT_URL"), "/"),
		ClientID:    get("TASKCLUSTER_CLIENT_ID"),
		AccessToken: get("TASKCLUSTER_ACCESS_TOKEN"),
		Certificate: get("TASKCLUSTER_CERTIFICATE"),
	}
	if c.RootURL == "" {
		return ClientConfig{}, fmt.Errorf("config: TASKCLUSTER_ROOT_URL must name the deployment, such as https://tc.example.com or http://127.0.0.1:8080 for hookline serve")
	}
	if u, err := url.Parse(c.RootURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return ClientConfig{}, fmt.Errorf("config: TASKCLUSTER_ROOT_URL %q must be an http(s) URL", c.RootURL)
	}
	if c.ClientID != "" && c.AccessToken == "" {
		return ClientConfig{}, fmt.Errorf("config: TASKCLUSTER_CLIENT_ID is set, so TASKCLUSTER_ACCESS_TOKEN is needed too")
	}
	if c.ClientID == "" && (c.AccessToken != "" || c.Certificate != "") {
		return ClientConfig{}, fmt.Errorf("config: TASKCLUSTER_ACCESS_TOKEN or TASKCLUSTER_CERTIFICATE is set without TASKCLUSTER_CLIENT_ID")
	}
	if raw := get("HOOKLINE_EXCHANGE_DENYLIST"); raw != "" {
		if err := json.Unmarshal([]byte(raw), &c.Denylist); err != nil || c.Denylist == nil {
			return ClientConfig{}, fmt.Errorf("config: HOOKLINE_EXCHANGE_DENYLIST must be a JSON array of regular expressions")
		}
	}
	return c, nil
}
