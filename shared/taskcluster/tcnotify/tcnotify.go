// Package tcnotify is a client of a Taskcluster deployment's notify
// service (services/notify, v1): email, Matrix and Slack. Each call needs
// a scope of the client's credentials: notify:email:<address>,
// notify:matrix-room:<roomId> or notify:slack-channel:<channelId>.
//
// It is its own package so that only the programs that deliver
// notifications (the scheduler function, `hookline serve`) link it: the
// permissions infra/templatetest derives from the code then give the
// Taskcluster credentials to no other for its sake.
package tcnotify

import (
	"context"

	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/taskcluster"
)

// Notify sends through the notify service; errors are the API client's
// (*taskcluster.APIError for a refusal, retryable or not as the queue
// client's).
type Notify struct {
	api *taskcluster.API
}

// New returns the notify client over api, a client of the deployment's
// notify service (taskcluster.NewAPI(rootURL, "notify", ...)).
func New(api *taskcluster.API) hooks.TaskclusterNotifier { return &Notify{api: api} }

// Email sends an email (content is markdown); the subject is cut to the
// 255 characters notify takes.
func (n *Notify) Email(ctx context.Context, address, subject, content string) error {
	if len(subject) > 255 {
		subject = subject[:255]
	}
	return n.api.Post(ctx, "email", "/email", map[string]any{"address": address, "subject": subject, "content": content})
}

// Matrix posts a notice to a Matrix room the deployment's client was
// invited to.
func (n *Notify) Matrix(ctx context.Context, roomID, body string) error {
	return n.api.Post(ctx, "matrix", "/matrix", map[string]any{"roomId": roomID, "body": body, "msgtype": "m.notice"})
}

// Slack posts a message to a Slack channel the deployment's app was
// invited to.
func (n *Notify) Slack(ctx context.Context, channelID, text string) error {
	return n.api.Post(ctx, "slack", "/slack", map[string]any{"channelId": channelID, "text": text})
}
