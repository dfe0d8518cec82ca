package httpapi

import (
	"fmt"
	"time"
)

// Wrong credentials on the public routes (a trigger token, a webhook
// signature) are rate limited by source address and by hook, so neither
// one client nor many can try credentials at speed. Only failures take from
// the buckets: a sender with the right credentials is never slowed by its
// own traffic, and a hook under attack refuses attempts only while the
// failures keep coming.
const (
	// wrongCredentialsPerSource is how many wrong credentials one address
	// may send at once, and wrongCredentialsSourceRate how many more per
	// second after that.
	wrongCredentialsPerSource  = 10
	wrongCredentialsSourceRate = 1.0 / 6
	// wrongCredentialsPerHook and wrongCredentialsHookRate are the same
	// for one hook, from every address together.
	wrongCredentialsPerHook  = 30
	wrongCredentialsHookRate = 1.0
)

// credentialLimiter counts wrong credentials per source and per hook. It is
// per process: on AWS each webhook function instance has its own, and the
// function's reserved concurrency bounds the sum.
type credentialLimiter struct {
	bySource *rateLimiter
	byHook   *rateLimiter
}

func newCredentialLimiter() *credentialLimiter {
	return &credentialLimiter{
		bySource: newRateLimiter(wrongCredentialsSourceRate, wrongCredentialsPerSource),
		byHook:   newRateLimiter(wrongCredentialsHookRate, wrongCredentialsPerHook),
	}
}

// check refuses, before any credential is compared, an attempt from a
// source or for a hook whose wrong credentials have used up their
// allowance.
func (l *credentialLimiter) check(source, group, id string, now time.Time) error {
	if ok, wait := l.bySource.peek(source, now); !ok {
		return &tooManyRequests{
			message:    fmt.Sprintf("too many wrong credentials from this address (%d at once, then one every %s); retry later", wrongCredentialsPerSource, time.Duration(float64(time.Second)/wrongCredentialsSourceRate)),
			retryAfter: wait,
		}
	}
	if ok, wait := l.byHook.peek(hookKey(group, id), now); !ok {
		return &tooManyRequests{
			message:    fmt.Sprintf("too many wrong credentials for hook %s/%s (%d at once, then one per second); retry later", group, id, wrongCredentialsPerHook),
			retryAfter: wait,
		}
	}
	return nil
}

// failed counts wrong credentials from source for a hook.
func (l *credentialLimiter) failed(source, group, id string, now time.Time) {
	l.bySource.take(source, now)
	l.byHook.take(hookKey(group, id), now)
}

func hookKey(group, id string) string { return group + "\x00" + id }
