package taskcluster

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/hookline/hookline/shared/auth"
)

// Notify calls a Taskcluster deployment's notify service: email, matrix
// and slack (services/notify, v1). Each needs a scope of the credentials:
// notify:email:<address>, notify:matrix-room:<roomId> and
// notify:slack-channel:<channelId>. Calls are retried as the queue
// client's are; refusals are *APIError values.
type Notify struct {
	c *Queue
}

// NewNotify returns a client of the notify service of the deployment at
// rootURL, signing with creds. hc and opts may be nil, as for NewQueue.
func NewNotify(rootURL string, creds auth.Credentials, hc *http.Client, opts *QueueOptions) *Notify {
	c := NewQueue(rootURL, creds, hc, opts)
	c.base = strings.TrimRight(rootURL, "/") + "/api/notify/v1"
	c.anyAnswer = true // notify answers 200 with an empty body
	return &Notify{c: c}
}

// NotifyScopes are the scopes Hookline's client needs for a target of
// the notify service: email, matrix or slack and its address.
func NotifyScopes(kind, address string) string {
	switch kind {
	case "matrix":
		return "notify:matrix-room:" + address
	case "slack":
		return "notify:slack-channel:" + address
	}
	return "notify:email:" + address
}

func (n *Notify) post(ctx context.Context, apiName, path string, body any) error {
	data, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("taskcluster: %s: %w", apiName, err)
	}
	_, err = n.c.call(ctx, http.MethodPost, apiName, path, data, nil)
	return err
}

// Email sends an email (content is markdown) through notify's email.
func (n *Notify) Email(ctx context.Context, address, subject, content string) error {
	if len(subject) > 255 {
		subject = subject[:255]
	}
	return n.post(ctx, "email", "/email", map[string]any{"address": address, "subject": subject, "content": content})
}

// Matrix posts a notice to a Matrix room the deployment's client was
// invited to.
func (n *Notify) Matrix(ctx context.Context, roomID, body string) error {
	return n.post(ctx, "matrix", "/matrix", map[string]any{"roomId": roomID, "body": body, "msgtype": "m.notice"})
}

// Slack posts a message to a Slack channel the deployment's app was
// invited to.
func (n *Notify) Slack(ctx context.Context, channelID, text string) error {
	return n.post(ctx, "slack", "/slack", map[string]any{"channelId": channelID, "text": text})
}
