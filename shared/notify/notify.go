// Package notify delivers the failure emails of scheduled hooks: through
// Amazon SES v2 in AWS, or into a local outbox file for `hookline serve`.
package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/aws-sdk-go-v2/service/sesv2/types"
)

// SESAPI is the part of the SES v2 client the mailer uses.
type SESAPI interface {
	SendEmail(ctx context.Context, in *sesv2.SendEmailInput, optFns ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error)
}

// SES sends email through Amazon SES v2.
type SES struct {
	client SESAPI
	from   string
}

// NewSES returns a mailer sending from the verified address from.
func NewSES(client SESAPI, from string) *SES { return &SES{client: client, from: from} }

// SendEmail sends a plain-text email.
func (s *SES) SendEmail(ctx context.Context, to, subject, body string) error {
	_, err := s.client.SendEmail(ctx, &sesv2.SendEmailInput{
		FromEmailAddress: aws.String(s.from),
		Destination:      &types.Destination{ToAddresses: []string{to}},
		Content: &types.EmailContent{Simple: &types.Message{
			Subject: &types.Content{Data: aws.String(subject), Charset: aws.String("UTF-8")},
			Body:    &types.Body{Text: &types.Content{Data: aws.String(body), Charset: aws.String("UTF-8")}},
		}},
	})
	if err != nil {
		return fmt.Errorf("notify: ses send to %s: %w", to, err)
	}
	return nil
}

// Outbox appends each email as one JSON line to a file, so a local user can
// read what would have been sent.
type Outbox struct {
	mu   sync.Mutex
	path string
	now  func() time.Time
}

// NewOutbox writes to path (created on first email).
func NewOutbox(path string, now func() time.Time) *Outbox {
	if now == nil {
		now = time.Now
	}
	return &Outbox{path: path, now: now}
}

// OutboxEmail is one line of the outbox.
type OutboxEmail struct {
	Time    time.Time `json:"time"`
	To      string    `json:"to"`
	Subject string    `json:"subject"`
	Body    string    `json:"body"`
}

// SendEmail appends the email to the outbox file.
func (o *Outbox) SendEmail(_ context.Context, to, subject, body string) error {
	if to == "" {
		return errors.New("notify: no recipient")
	}
	line, err := json.Marshal(OutboxEmail{Time: o.now().UTC(), To: to, Subject: subject, Body: body})
	if err != nil {
		return err
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(o.path), 0o750); err != nil {
		return fmt.Errorf("notify: outbox dir: %w", err)
	}
	f, err := os.OpenFile(o.path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("notify: open outbox: %w", err)
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return fmt.Errorf("notify: write outbox: %w", err)
	}
	return f.Close()
}
