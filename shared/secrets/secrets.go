// Package secrets reads secrets from AWS Secrets Manager at run time and
// keeps them in memory: a Lambda function holds its credentials only in
// its own memory, not in its environment (where anyone allowed
// lambda:GetFunctionConfiguration reads them), and picks up a rotated
// secret without a deployment.
//
// A Cache reads each secret once, serves it from memory for up to MaxAge,
// and reads it again sooner when its user asks (Refresh, after the
// credentials it holds were refused), at most once per MinRefresh so that
// a stream of refused requests cannot turn into a stream of reads.
package secrets

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
)

// Defaults of Options.
const (
	DefaultMaxAge     = time.Hour
	DefaultMinRefresh = 30 * time.Second
)

// API is what the cache needs of a Secrets Manager client
// (*secretsmanager.Client).
type API interface {
	GetSecretValue(ctx context.Context, in *secretsmanager.GetSecretValueInput, opts ...func(*secretsmanager.Options)) (*secretsmanager.GetSecretValueOutput, error)
}

// Options tune a Cache; nil or zero fields mean the defaults.
type Options struct {
	// MaxAge is how long a secret is served from memory.
	MaxAge time.Duration
	// MinRefresh is the least time between two reads of one secret.
	MinRefresh time.Duration
	// Now is the clock.
	Now func() time.Time
}

// Cache reads secrets by id (an ARN or a name) and keeps them. It is safe
// for concurrent use.
type Cache struct {
	api        API
	maxAge     time.Duration
	minRefresh time.Duration
	now        func() time.Time

	mu      sync.Mutex
	entries map[string]*entry
}

type entry struct {
	mu      sync.Mutex // serialises reads of this secret
	value   string
	version string
	fetched time.Time
}

// New returns a cache reading through api.
func New(api API, opts *Options) *Cache {
	c := &Cache{api: api, maxAge: DefaultMaxAge, minRefresh: DefaultMinRefresh, now: time.Now, entries: map[string]*entry{}}
	if opts != nil {
		if opts.MaxAge > 0 {
			c.maxAge = opts.MaxAge
		}
		if opts.MinRefresh > 0 {
			c.minRefresh = opts.MinRefresh
		}
		if opts.Now != nil {
			c.now = opts.Now
		}
	}
	return c
}

func (c *Cache) entry(id string) *entry {
	c.mu.Lock()
	defer c.mu.Unlock()
	e := c.entries[id]
	if e == nil {
		e = &entry{}
		c.entries[id] = e
	}
	return e
}

// Get returns the secret's string, read from Secrets Manager the first
// time and once it is older than MaxAge.
func (c *Cache) Get(ctx context.Context, id string) (string, error) {
	e := c.entry(id)
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.fetched.IsZero() && c.now().Sub(e.fetched) < c.maxAge {
		return e.value, nil
	}
	if err := c.fetch(ctx, id, e); err != nil {
		return "", err
	}
	return e.value, nil
}

// Refresh reads the secret again, unless it was read less than MinRefresh
// ago, and reports whether its value changed: the caller whose credentials
// were refused retries only then.
func (c *Cache) Refresh(ctx context.Context, id string) (string, bool, error) {
	e := c.entry(id)
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.fetched.IsZero() && c.now().Sub(e.fetched) < c.minRefresh {
		return e.value, false, nil
	}
	before, had := e.value, !e.fetched.IsZero()
	if err := c.fetch(ctx, id, e); err != nil {
		return "", false, err
	}
	return e.value, !had || e.value != before, nil
}

// ErrNoString is returned for a secret stored as binary.
var ErrNoString = errors.New("secrets: the secret has no SecretString")

// fetch reads the secret into e; e.mu is held.
func (c *Cache) fetch(ctx context.Context, id string, e *entry) error {
	out, err := c.api.GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(id)})
	if err != nil {
		return fmt.Errorf("secrets: read %s: %w", id, err)
	}
	if out.SecretString == nil {
		return fmt.Errorf("secrets: read %s: %w", id, ErrNoString)
	}
	e.value, e.version, e.fetched = *out.SecretString, aws.ToString(out.VersionId), c.now()
	return nil
}
