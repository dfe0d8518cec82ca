package auth

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Credentials sign requests as a Taskcluster client does.
type Credentials struct {
	// ClientID is the Hawk id.
	ClientID string
	// AccessToken is the Hawk key.
	AccessToken string
	// Certificate is the JSON certificate of temporary credentials, or "".
	Certificate string
	// AuthorizedScopes, when non-nil, restricts the request to these scopes
	// (an empty, non-nil slice leaves only the anonymous role's).
	AuthorizedScopes []string
}

var errNoCredentials = errors.New("credentials need a clientId and an accessToken")

// extAttr builds the Hawk ext attribute Taskcluster clients send:
// base64 of {"certificate": {...}, "authorizedScopes": [...]}, or "".
func (c Credentials) extAttr() (string, error) {
	if c.Certificate == "" && c.AuthorizedScopes == nil {
		return "", nil
	}
	var buf bytes.Buffer
	buf.WriteByte('{')
	if c.Certificate != "" {
		var compact bytes.Buffer
		if err := json.Compact(&compact, []byte(c.Certificate)); err != nil || !bytes.HasPrefix(compact.Bytes(), []byte("{")) {
			return "", fmt.Errorf("auth: certificate is not a JSON object")
		}
		buf.WriteString(`"certificate":`)
		buf.Write(compact.Bytes())
	}
	if c.AuthorizedScopes != nil {
		if c.Certificate != "" {
			buf.WriteByte(',')
		}
		buf.WriteString(`"authorizedScopes":`)
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(c.AuthorizedScopes); err != nil {
			return "", fmt.Errorf("auth: encode authorizedScopes: %w", err)
		}
		buf.Truncate(buf.Len() - 1) // Encode's newline
	}
	buf.WriteByte('}')
	return base64.StdEncoding.EncodeToString(buf.Bytes()), nil
}

func (c Credentials) check() error {
	if c.ClientID == "" || c.AccessToken == "" {
		return fmt.Errorf("auth: %w", errNoCredentials)
	}
	if !validValue(c.ClientID) {
		return fmt.Errorf("auth: clientId %q cannot be sent in a Hawk header", c.ClientID)
	}
	for _, s := range c.AuthorizedScopes {
		if !ValidScope(s) {
			return fmt.Errorf("auth: authorizedScopes: invalid scope %q", s)
		}
	}
	return nil
}

// signTarget is where a client request goes: resource, host and port as
// Hawk signs them.
func signTarget(u *url.URL, hostOverride string) (resource, host, port string, err error) {
	resource = u.RequestURI()
	hp := u.Host
	if hostOverride != "" {
		hp = hostOverride
	}
	h, p := hp, ""
	if i := strings.LastIndexByte(hp, ':'); i >= 0 && !strings.Contains(hp[i:], "]") {
		h, p = hp[:i], hp[i+1:]
	}
	h = strings.TrimSuffix(strings.TrimPrefix(h, "["), "]")
	if h == "" {
		return "", "", "", errors.New("auth: request URL has no host")
	}
	if p == "" {
		p = "443"
		if strings.EqualFold(u.Scheme, "http") {
			p = "80"
		}
	}
	return resource, strings.ToLower(h), p, nil
}

// SignRequest sets r's Authorization header for creds at time now. When
// payload is non-nil (even empty) the header also carries the payload hash
// of payload under r's Content-Type, so the body is authenticated too;
// payload must then be exactly the body r sends.
func SignRequest(r *http.Request, creds Credentials, payload []byte, now time.Time) error {
	var raw [6]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return fmt.Errorf("auth: nonce: %w", err)
	}
	header, err := signHeader(r, creds, payload, now.Unix(), base64.RawURLEncoding.EncodeToString(raw[:]))
	if err != nil {
		return err
	}
	r.Header.Set("Authorization", header)
	return nil
}

func signHeader(r *http.Request, creds Credentials, payload []byte, ts int64, nonce string) (string, error) {
	if err := creds.check(); err != nil {
		return "", err
	}
	extValue, err := creds.extAttr()
	if err != nil {
		return "", err
	}
	return signHeaderExt(r, creds.ClientID, creds.AccessToken, payload, ts, nonce, extValue)
}

// signHeaderExt builds a Hawk Authorization header with a raw ext value.
func signHeaderExt(r *http.Request, id, key string, payload []byte, ts int64, nonce, extValue string) (string, error) {
	if r.URL == nil {
		return "", errors.New("auth: request has no URL")
	}
	resource, host, port, err := signTarget(r.URL, r.Host)
	if err != nil {
		return "", err
	}
	method := r.Method
	if method == "" {
		method = http.MethodGet
	}
	m := macInput{
		kind: "header", ts: strconv.FormatInt(ts, 10), nonce: nonce, method: method,
		resource: resource, host: host, port: port, ext: extValue,
	}
	if payload != nil {
		m.hash = PayloadHash(r.Header.Get("Content-Type"), payload)
	}
	var b strings.Builder
	b.WriteString(`Hawk id="` + id + `", ts="` + m.ts + `", nonce="` + nonce + `"`)
	if m.hash != "" {
		b.WriteString(`, hash="` + m.hash + `"`)
	}
	if extValue != "" {
		b.WriteString(`, ext="` + extValue + `"`)
	}
	b.WriteString(`, mac="` + m.macString(key) + `"`)
	return b.String(), nil
}

// Bewit returns u with a bewit query parameter that lets anyone holding
// the URL GET it as creds until now+ttl (whole seconds). The signature
// covers u's path and query as they are, so send the URL unchanged.
func Bewit(u *url.URL, creds Credentials, ttl time.Duration, now time.Time) (*url.URL, error) {
	if err := creds.check(); err != nil {
		return nil, err
	}
	extValue, err := creds.extAttr()
	if err != nil {
		return nil, err
	}
	return bewitExt(u, creds.ClientID, creds.AccessToken, ttl, now, extValue)
}

// bewitExt adds a bewit with a raw ext value to u.
func bewitExt(u *url.URL, id, key string, ttl time.Duration, now time.Time, extValue string) (*url.URL, error) {
	resource, host, port, err := signTarget(u, "")
	if err != nil {
		return nil, err
	}
	exp := strconv.FormatInt(now.UnixMilli()/1000+int64(ttl/time.Second), 10)
	m := macInput{kind: "bewit", ts: exp, method: http.MethodGet, resource: resource, host: host, port: port, ext: extValue}
	bewit := base64.RawURLEncoding.EncodeToString([]byte(id + `\` + exp + `\` + m.macString(key) + `\` + extValue))
	out := *u
	if strings.Contains(resource, "?") {
		// Also for a bare trailing "?": the server then strips "&bewit=..."
		// and verifies "/path?", which is what was signed.
		out.RawQuery += "&bewit=" + bewit
	} else {
		out.RawQuery = "bewit=" + bewit
	}
	out.ForceQuery = false
	return &out, nil
}

// certificate is the JSON form of temporary credentials' certificate, with
// Taskcluster clients' member order.
type certificate struct {
	Version   int      `json:"version"`
	Scopes    []string `json:"scopes"`
	Start     int64    `json:"start"`
	Expiry    int64    `json:"expiry"`
	Seed      string   `json:"seed"`
	Signature string   `json:"signature"`
	Issuer    string   `json:"issuer,omitempty"`
}

// CreateTemporaryCredentials issues unnamed temporary credentials from
// permanent creds: the same clientId, the given scopes (which creds must
// hold), valid from start (allow for clock skew: a minute or so in the
// past) to expiry, at most MaxTemporaryLifetime.
func CreateTemporaryCredentials(creds Credentials, scopes []string, start, expiry time.Time) (Credentials, error) {
	return CreateNamedTemporaryCredentials(creds, "", scopes, start, expiry)
}

// CreateNamedTemporaryCredentials is CreateTemporaryCredentials with a new
// clientId, name; the issuer must hold auth:create-client:<name>. An empty
// name issues unnamed credentials.
func CreateNamedTemporaryCredentials(creds Credentials, name string, scopes []string, start, expiry time.Time) (Credentials, error) {
	var raw [33]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Credentials{}, fmt.Errorf("auth: seed: %w", err)
	}
	return createTemporary(creds, name, scopes, start, expiry, base64.RawURLEncoding.EncodeToString(raw[:]))
}

func createTemporary(creds Credentials, name string, scopes []string, start, expiry time.Time, seed string) (Credentials, error) {
	if err := creds.check(); err != nil {
		return Credentials{}, err
	}
	switch {
	case creds.Certificate != "":
		return Credentials{}, errors.New("auth: temporary credentials cannot issue temporary credentials")
	case name == creds.ClientID:
		return Credentials{}, errors.New("auth: a named temporary client needs a clientId different from its issuer's")
	case name != "" && !validClientID(name):
		return Credentials{}, fmt.Errorf("auth: clientId %q may only contain letters, digits and !@/:.+|_-", name)
	case !expiry.After(start):
		return Credentials{}, errors.New("auth: temporary credentials must expire after they start")
	case expiry.Sub(start) > MaxTemporaryLifetime:
		return Credentials{}, errors.New("auth: temporary credentials cannot last longer than 31 days")
	case len(seed) != seedLength:
		return Credentials{}, fmt.Errorf("auth: seed must be %d characters", seedLength)
	}
	for _, s := range scopes {
		if !ValidScope(s) {
			return Credentials{}, fmt.Errorf("auth: invalid scope %q", s)
		}
	}
	cert := certificate{
		Version: 1,
		Scopes:  append([]string{}, scopes...),
		Start:   start.UnixMilli(),
		Expiry:  expiry.UnixMilli(),
		Seed:    seed,
	}
	clientID := creds.ClientID
	if name != "" {
		cert.Issuer, clientID = creds.ClientID, name
	}
	text := certificateString(clientID, cert.Issuer, seed,
		strconv.FormatInt(cert.Start, 10), strconv.FormatInt(cert.Expiry, 10), cert.Scopes)
	cert.Signature = hmacBase64(base64.StdEncoding, creds.AccessToken, text)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cert); err != nil {
		return Credentials{}, fmt.Errorf("auth: encode certificate: %w", err)
	}
	return Credentials{
		ClientID:    clientID,
		AccessToken: temporaryAccessToken(creds.AccessToken, seed),
		Certificate: strings.TrimSuffix(buf.String(), "\n"),
	}, nil
}

// GenerateAccessToken returns a new 44-character URL-safe access token made
// from 32 bytes of r (use crypto/rand.Reader), shaped like Taskcluster's
// two concatenated slugids.
func GenerateAccessToken(r io.Reader) (string, error) {
	var raw [32]byte
	if _, err := io.ReadFull(r, raw[:]); err != nil {
		return "", fmt.Errorf("auth: generate access token: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(raw[:16]) + base64.RawURLEncoding.EncodeToString(raw[16:]), nil
}
