package secrets_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"

	"github.com/hookline/hookline/shared/secrets"
	"github.com/hookline/hookline/shared/secrets/secretstest"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// The cache reads a secret once, serves it from memory until MaxAge, and
// reads it again on Refresh no more than once per MinRefresh, through the
// SDK's client against the stand-in.
func TestCache(t *testing.T) {
	ctx := context.Background()
	sm, url := secretstest.New(t)
	const id = "arn:aws:secretsmanager:us-east-1:000000000000:secret:hookline/clients-AbCdEf"
	sm.Put(id, "v1")
	client := secretsmanager.New(secretsmanager.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(url),
		Credentials: credentials.NewStaticCredentialsProvider("test", "test", ""),
	})
	c := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	cache := secrets.New(client, &secrets.Options{MaxAge: time.Hour, MinRefresh: 30 * time.Second, Now: c.now})

	get := func(want string, reads int) {
		t.Helper()
		got, err := cache.Get(ctx, id)
		if err != nil || got != want || sm.Reads(id) != reads {
			t.Fatalf("Get = %q, %v after %d reads; want %q after %d", got, err, sm.Reads(id), want, reads)
		}
	}
	refresh := func(want string, changed bool, reads int) {
		t.Helper()
		got, ch, err := cache.Refresh(ctx, id)
		if err != nil || got != want || ch != changed || sm.Reads(id) != reads {
			t.Fatalf("Refresh = %q, %v, %v after %d reads; want %q, %v after %d", got, ch, err, sm.Reads(id), want, changed, reads)
		}
	}
	get("v1", 1)
	get("v1", 1) // from memory
	sm.Put(id, "v2")
	refresh("v1", false, 1) // read 0 s ago: not again
	c.t = c.t.Add(31 * time.Second)
	refresh("v2", true, 2)
	get("v2", 2)
	c.t = c.t.Add(31 * time.Second)
	refresh("v2", false, 3) // read again, unchanged
	c.t = c.t.Add(time.Hour)
	sm.Put(id, "v3")
	get("v3", 4) // too old: read again

	if _, err := cache.Get(ctx, "no-such-secret"); err == nil || !strings.Contains(err.Error(), "ResourceNotFoundException") {
		t.Fatalf("missing secret: %v", err)
	}
}

type fakeAPI struct {
	out *secretsmanager.GetSecretValueOutput
}

func (f fakeAPI) GetSecretValue(context.Context, *secretsmanager.GetSecretValueInput, ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error) {
	return f.out, nil
}

func TestCache_BinarySecret(t *testing.T) {
	cache := secrets.New(fakeAPI{out: &secretsmanager.GetSecretValueOutput{SecretBinary: []byte{1}}}, nil)
	if _, err := cache.Get(context.Background(), "x"); !errors.Is(err, secrets.ErrNoString) {
		t.Fatalf("binary secret: %v", err)
	}
}
