package notify

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/sesv2"
)

func TestOutbox(t *testing.T) {
	path := filepath.Join(t.TempDir(), "out", "outbox.jsonl")
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	o := NewOutbox(path, func() time.Time { return at })
	ctx := context.Background()
	for _, to := range []string{"a@example.com", "b@example.com"} {
		if err := o.SendEmail(ctx, to, "subj", "line1\nline2"); err != nil {
			t.Fatal(err)
		}
	}
	if err := o.SendEmail(ctx, "", "s", "b"); err == nil {
		t.Fatal("an email without recipient must fail")
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var got []OutboxEmail
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e OutboxEmail
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatal(err)
		}
		got = append(got, e)
	}
	if len(got) != 2 || got[1].To != "b@example.com" || got[0].Body != "line1\nline2" || !got[0].Time.Equal(at) {
		t.Fatalf("outbox = %+v", got)
	}
}

type fakeSES struct {
	in  *sesv2.SendEmailInput
	err error
}

func (f *fakeSES) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.in = in
	return &sesv2.SendEmailOutput{}, f.err
}

func TestSES(t *testing.T) {
	f := &fakeSES{}
	s := NewSES(f, "hooks@example.com")
	if err := s.SendEmail(context.Background(), "owner@example.com", "subject", "body"); err != nil {
		t.Fatal(err)
	}
	if *f.in.FromEmailAddress != "hooks@example.com" || f.in.Destination.ToAddresses[0] != "owner@example.com" ||
		*f.in.Content.Simple.Subject.Data != "subject" || *f.in.Content.Simple.Body.Text.Data != "body" {
		t.Fatalf("request %+v", f.in)
	}
	f.err = errors.New("MessageRejected")
	if err := s.SendEmail(context.Background(), "x@example.com", "s", "b"); err == nil {
		t.Fatal("SES errors must be returned")
	}
}
