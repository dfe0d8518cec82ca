// Package webhook posts notifications to hook owners' webhook targets
// (hooks.WebhookPoster): HTTPS only in practice, no redirects followed,
// and no connection to loopback, private or link-local addresses unless
// allowed, since a hook owner chooses the URL and Hookline runs inside
// someone's network.
package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"syscall"
	"time"
)

// Options tune a Poster; zero fields take defaults.
type Options struct {
	// AllowPrivate lets posts reach loopback, private, link-local and
	// other non-public addresses (HOOKLINE_NOTIFY_ALLOW_PRIVATE).
	AllowPrivate bool
	// Timeout bounds one post, when the caller's context does not end
	// sooner (10 seconds).
	Timeout time.Duration
	// Transport replaces the HTTP transport (tests).
	Transport http.RoundTripper
}

// Poster posts JSON notifications.
type Poster struct {
	client *http.Client
}

// ErrPrivateAddress is returned for a URL that leads to an address the
// poster may not reach.
var ErrPrivateAddress = errors.New("webhook: the URL leads to a loopback, private or link-local address, which notifications may not reach (HOOKLINE_NOTIFY_ALLOW_PRIVATE)")

// New returns a Poster.
func New(opts Options) *Poster {
	if opts.Timeout <= 0 {
		opts.Timeout = 10 * time.Second
	}
	tr := opts.Transport
	if tr == nil {
		dialer := &net.Dialer{Timeout: opts.Timeout}
		if !opts.AllowPrivate {
			// Checked on the address actually dialled, after name
			// resolution, so a name that resolves to a private address
			// (or starts to, between two posts) is refused too.
			dialer.Control = func(_, address string, _ syscall.RawConn) error {
				host, _, err := net.SplitHostPort(address)
				if err != nil {
					return err
				}
				if ip := net.ParseIP(host); ip == nil || !public(ip) {
					return ErrPrivateAddress
				}
				return nil
			}
		}
		tr = &http.Transport{
			Proxy:                 nil,
			DialContext:           dialer.DialContext,
			TLSHandshakeTimeout:   opts.Timeout,
			ResponseHeaderTimeout: opts.Timeout,
			MaxIdleConnsPerHost:   2,
			IdleConnTimeout:       90 * time.Second,
			ForceAttemptHTTP2:     true,
		}
	}
	return &Poster{client: &http.Client{
		Transport: tr,
		Timeout:   opts.Timeout,
		// A redirect would lead the post somewhere the owner did not
		// name, and past the address check of the first hop's name.
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// public reports whether ip is an address notifications may reach.
func public(ip net.IP) bool {
	return !(ip.IsLoopback() || ip.IsPrivate() || ip.IsLinkLocalUnicast() || ip.IsLinkLocalMulticast() ||
		ip.IsInterfaceLocalMulticast() || ip.IsMulticast() || ip.IsUnspecified() ||
		// 100.64.0.0/10, carrier-grade NAT, is as internal as 10/8.
		(ip.To4() != nil && ip.To4()[0] == 100 && ip.To4()[1]&0xc0 == 64))
}

// Post sends body to url with header and returns the answer's status. An
// error means no answer came (a refused address is one too).
func (p *Poster) Post(ctx context.Context, url string, header map[string]string, body []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("webhook: %w", err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := p.client.Do(req)
	if err != nil {
		return 0, fmt.Errorf("webhook: post to %s: %w", req.URL.Redacted(), err)
	}
	defer resp.Body.Close()
	// Read a little, so the connection can be reused; the answer is not
	// kept.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	return resp.StatusCode, nil
}

// CloseIdleConnections closes the connections kept for later posts.
func (p *Poster) CloseIdleConnections() { p.client.CloseIdleConnections() }
