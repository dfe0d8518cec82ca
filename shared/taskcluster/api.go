package taskcluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/hookline/hookline/shared/auth"
)

// API calls another service of a deployment (notify, for tcnotify), signed
// and retried as the queue client's calls are; refusals are *APIError
// values. Any 2xx answer is a success: a body that is not JSON (notify
// answers "OK") is not an error.
type API struct {
	c *Queue
}

// NewAPI returns a client of version 1 of the service named service
// ("notify") of the deployment at rootURL, signing with creds. hc and opts
// may be nil, as for NewQueue.
func NewAPI(rootURL, service string, creds auth.Credentials, hc *http.Client, opts *QueueOptions) *API {
	c := NewQueue(rootURL, creds, hc, opts)
	c.base = strings.TrimRight(rootURL, "/") + "/api/" + service + "/v1"
	c.anyAnswer = true
	return &API{c: c}
}

// Post sends body as JSON to the service's path; apiName names the call
// in errors.
func (a *API) Post(ctx context.Context, apiName, path string, body any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("taskcluster: %s: %w", apiName, err)
	}
	_, err = a.c.call(ctx, http.MethodPost, apiName, path, data, nil)
	return err
}
