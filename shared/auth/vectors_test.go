package auth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// newSignedRequest builds the client-side request of a vector.
func newSignedRequest(t *testing.T, method, rawURL string, contentType *string, payload *string) *http.Request {
	t.Helper()
	var body []byte
	if payload != nil {
		body = []byte(*payload)
	}
	r, err := http.NewRequest(method, rawURL, strings.NewReader(string(body)))
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	if contentType != nil && *contentType != "" {
		r.Header.Set("Content-Type", *contentType)
	}
	return r
}

func strOr(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func payloadBytes(p *string) []byte {
	if p == nil {
		return nil
	}
	return []byte(*p)
}

// testSignedCases runs hawkHeader and tempCredentialRequests vectors: our
// normalized string and MAC, our signer's header, and the server verdict.
func testSignedCases(t *testing.T, v *vectors, cases []signedCase) {
	x := fixtureStatic(t, v, nil)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			m := macInput{
				kind: "header", ts: itoa(tc.Input.TS), nonce: tc.Input.Nonce, method: tc.Input.Method,
				resource: tc.Derived.Resource, host: tc.Derived.Host, port: tc.Derived.Port,
				hash: strOr(tc.Derived.PayloadHash), ext: strOr(tc.Input.Ext),
			}
			if got := m.normalized(); got != tc.Derived.NormalizedString {
				t.Errorf("normalized string\n got %q\nwant %q", got, tc.Derived.NormalizedString)
			}
			if got := m.macString(tc.Input.Credentials.Key); got != tc.Derived.Mac {
				t.Errorf("mac = %s, want %s", got, tc.Derived.Mac)
			}
			if tc.Input.Payload != nil {
				if got := PayloadHash(strOr(tc.Input.ContentType), []byte(*tc.Input.Payload)); got != strOr(tc.Derived.PayloadHash) {
					t.Errorf("payload hash = %s, want %s", got, strOr(tc.Derived.PayloadHash))
				}
			}

			// Our signer with the same ts, nonce and ext writes the same header.
			r := newSignedRequest(t, tc.Input.Method, tc.Input.URL, tc.Input.ContentType, tc.Input.Payload)
			got, err := signHeaderExt(r, tc.Input.Credentials.ID, tc.Input.Credentials.Key,
				payloadBytes(tc.Input.Payload), tc.Input.TS, tc.Input.Nonce, strOr(tc.Input.Ext))
			if err != nil {
				t.Fatalf("signHeaderExt: %v", err)
			}
			if got != tc.Authorization {
				t.Errorf("header\n got %s\nwant %s", got, tc.Authorization)
			}
			// And from Credentials, when the vector says what the client had.
			if co := tc.ClientOptions; co != nil {
				creds := Credentials{
					ClientID: co.Credentials.ClientID, AccessToken: co.Credentials.AccessToken,
					Certificate: co.Credentials.Certificate, AuthorizedScopes: co.AuthorizedScopes,
				}
				got, err := signHeader(r, creds, payloadBytes(tc.Input.Payload), tc.Input.TS, tc.Input.Nonce)
				if err != nil {
					t.Fatalf("signHeader: %v", err)
				}
				if got != tc.Authorization {
					t.Errorf("header from credentials\n got %s\nwant %s", got, tc.Authorization)
				}
			}

			checkResult(t, tc.Name, x.AuthenticateHawk(tc.Server.Request), tc.Server.Result)
		})
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestVectors_HawkHeader(t *testing.T) {
	v := loadVectors(t)
	testSignedCases(t, v, v.HawkHeader)
}

func TestVectors_TempCredentialRequests(t *testing.T) {
	v := loadVectors(t)
	testSignedCases(t, v, v.TempCredentialRequests)
}

func TestVectors_HawkUpstream(t *testing.T) {
	v := loadVectors(t)
	for _, tc := range v.HawkUpstream {
		t.Run(tc.Name, func(t *testing.T) {
			in := tc.Input
			if tc.Bewit != "" {
				u, err := url.Parse(in.URL)
				if err != nil {
					t.Fatal(err)
				}
				got, err := bewitExt(u, in.Credentials.ID, in.Credentials.Key, time.Duration(in.TTLSec)*time.Second,
					time.UnixMilli(in.NowMs), strOr(in.Ext))
				if err != nil {
					t.Fatalf("bewitExt: %v", err)
				}
				if b := got.Query().Get("bewit"); b != tc.Bewit {
					t.Errorf("bewit = %s, want %s", b, tc.Bewit)
				}
				return
			}
			r := newSignedRequest(t, in.Method, in.URL, in.ContentType, in.Payload)
			got, err := signHeaderExt(r, in.Credentials.ID, in.Credentials.Key, payloadBytes(in.Payload),
				in.Timestamp, in.Nonce, strOr(in.Ext))
			if err != nil {
				t.Fatalf("signHeaderExt: %v", err)
			}
			if got != tc.Authorization {
				t.Errorf("header\n got %s\nwant %s", got, tc.Authorization)
			}
		})
	}
}

func TestVectors_PayloadHash(t *testing.T) {
	v := loadVectors(t)
	for _, tc := range v.PayloadHash {
		t.Run(tc.ContentType+"/"+tc.Payload, func(t *testing.T) {
			if got := PayloadHash(tc.ContentType, []byte(tc.Payload)); got != tc.Hash {
				t.Errorf("PayloadHash(%q, %q) = %s, want %s", tc.ContentType, tc.Payload, got, tc.Hash)
			}
		})
	}
}

func TestVectors_TemporaryCredentials(t *testing.T) {
	v := loadVectors(t)
	for _, tc := range v.TemporaryCredentials {
		t.Run(tc.Name, func(t *testing.T) {
			issuer := Credentials{ClientID: tc.Issuer.ClientID, AccessToken: tc.Issuer.AccessToken}
			name := strOr(tc.Options.ClientID)
			got, err := createTemporary(issuer, name, tc.Options.Scopes,
				time.UnixMilli(tc.Options.Start), time.UnixMilli(tc.Options.Expiry), strings.Join(tc.SeedParts, ""))
			if err != nil {
				t.Fatalf("createTemporary: %v", err)
			}
			if got.ClientID != tc.Result.ClientID || got.AccessToken != tc.Result.AccessToken {
				t.Errorf("got %s/%s, want %s/%s", got.ClientID, got.AccessToken, tc.Result.ClientID, tc.Result.AccessToken)
			}
			var cert certificate
			if err := json.Unmarshal([]byte(got.Certificate), &cert); err != nil {
				t.Fatalf("certificate: %v", err)
			}
			// We sign what the server verifies, which is what the JS client
			// signs too except for an empty scope list (a client bug).
			if cert.Signature != tc.SignatureOverServerString {
				t.Errorf("signature = %s, want %s", cert.Signature, tc.SignatureOverServerString)
			}
			if tc.ServerAcceptsSignature && got.Certificate != tc.Result.Certificate {
				t.Errorf("certificate\n got %s\nwant %s", got.Certificate, tc.Result.Certificate)
			}
			signed := ""
			if name != "" {
				signed = issuer.ClientID
			}
			text := certificateString(got.ClientID, signed, cert.Seed, itoa(cert.Start), itoa(cert.Expiry), cert.Scopes)
			if text != tc.StringToSignServer {
				t.Errorf("string to sign\n got %q\nwant %q", text, tc.StringToSignServer)
			}
		})
	}
}

func TestVectors_Bewit(t *testing.T) {
	v := loadVectors(t)
	x := fixtureStatic(t, v, nil)
	for _, tc := range v.Bewit {
		t.Run(tc.Name, func(t *testing.T) {
			u, err := url.Parse(tc.Input.URL)
			if err != nil {
				t.Fatal(err)
			}
			got, err := bewitExt(u, tc.Input.Credentials.ID, tc.Input.Credentials.Key,
				time.Duration(tc.Input.TTLSec)*time.Second, time.UnixMilli(tc.Input.NowMs), strOr(tc.Input.Ext))
			if err != nil {
				t.Fatalf("bewitExt: %v", err)
			}
			if got.String() != tc.SignedURL {
				t.Errorf("signed URL\n got %s\nwant %s", got, tc.SignedURL)
			}
			m := macInput{kind: "bewit", ts: itoa(tc.Derived.Exp), method: "GET", resource: tc.Derived.ResourceSigned,
				host: tc.Derived.Host, port: tc.Derived.Port, ext: strOr(tc.Input.Ext)}
			if m.normalized() != tc.Derived.NormalizedString || m.macString(tc.Input.Credentials.Key) != tc.Derived.Mac {
				t.Errorf("normalized/mac mismatch: %q", m.normalized())
			}
			checkResult(t, tc.Name, x.AuthenticateHawk(tc.Server.Request), tc.Server.Result)
		})
	}
	for _, tc := range v.BewitFromClient {
		t.Run(tc.Name, func(t *testing.T) {
			checkResult(t, tc.Name, x.AuthenticateHawk(tc.Server.Request), tc.Server.Result)
			// Our Bewit makes the same URL from the same credentials.
			unsigned, _, _ := strings.Cut(tc.SignedURL, "bewit=")
			u, err := url.Parse(strings.TrimRight(unsigned, "?&"))
			if err != nil {
				t.Fatal(err)
			}
			parts := strings.Split(mustBewitDecode(t, tc.SignedURL), `\`)
			exp, err := strconv.ParseInt(parts[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			ttl := time.Duration(exp-v.Meta.NowMs/1000) * time.Second
			var ext map[string]json.RawMessage
			_ = json.Unmarshal(decodeBase64Lenient(parts[3]), &ext)
			var authorized []string
			if raw, ok := ext["authorizedScopes"]; ok {
				_ = json.Unmarshal(raw, &authorized)
			}
			creds := Credentials{ClientID: tc.ClientCredentials.ClientID, AccessToken: tc.ClientCredentials.AccessToken,
				Certificate: tc.ClientCredentials.Certificate, AuthorizedScopes: authorized}
			got, err := Bewit(u, creds, ttl, time.UnixMilli(v.Meta.NowMs))
			if err != nil {
				t.Fatalf("Bewit: %v", err)
			}
			if got.String() != tc.SignedURL {
				t.Errorf("signed URL\n got %s\nwant %s", got, tc.SignedURL)
			}
		})
	}
}

func mustBewitDecode(t *testing.T, signed string) string {
	t.Helper()
	_, b, _ := strings.Cut(signed, "bewit=")
	raw, err := base64.RawURLEncoding.DecodeString(b)
	if err != nil {
		t.Fatalf("decode bewit: %v", err)
	}
	return string(raw)
}

func TestVectors_CapturedClientRequests(t *testing.T) {
	v := loadVectors(t)
	x := fixtureStatic(t, v, nil)
	for _, tc := range v.CapturedClientRequests {
		t.Run(tc.Name, func(t *testing.T) {
			in := tc.Request
			r := httptest.NewRequest(in.Method, in.RequestTarget, strings.NewReader(in.Body))
			r.Host = in.Host
			if in.Authorization != nil {
				r.Header.Set("Authorization", *in.Authorization)
			}
			if in.ContentType != nil {
				r.Header.Set("Content-Type", *in.ContentType)
			}
			var hr hostRule
			req, msg := hr.hawkRequest(r)
			if msg != "" {
				t.Fatalf("hawkRequest: %s", msg)
			}
			req.SourceIP = ""
			if req != tc.Server.Request {
				t.Errorf("request\n got %+v\nwant %+v", req, tc.Server.Request)
			}
			checkResult(t, tc.Name, x.AuthenticateHawk(req), tc.Server.Result)

			if in.Authorization == nil {
				return
			}
			// Our signer reproduces what the JS client sent.
			cr := newSignedRequest(t, in.Method, tc.RootURL+in.RequestTarget, in.ContentType, &in.Body)
			creds := Credentials{
				ClientID: tc.ClientOptions.Credentials.ClientID, AccessToken: tc.ClientOptions.Credentials.AccessToken,
				Certificate: tc.ClientOptions.Credentials.Certificate, AuthorizedScopes: tc.ClientOptions.AuthorizedScopes,
			}
			got, err := signHeader(cr, creds, nil, 1700000000, in.AuthorizationParsed["nonce"])
			if err != nil {
				t.Fatalf("signHeader: %v", err)
			}
			if got != *in.Authorization {
				t.Errorf("header\n got %s\nwant %s", got, *in.Authorization)
			}
		})
	}
}

func TestVectors_ServerCases(t *testing.T) {
	v := loadVectors(t)
	x := fixtureStatic(t, v, nil)
	for _, tc := range v.ServerCases {
		t.Run(tc.Name, func(t *testing.T) {
			checkResult(t, tc.Name, x.AuthenticateHawk(tc.Request), tc.Result)
		})
	}
}

// hooksRoute returns the scope expression of a hooks API route (from the
// hooks API reference, SCOPES.md section 7), URL parameters substituted.
func hooksRoute(t *testing.T, method, target string) Expr {
	t.Helper()
	path, _, _ := strings.Cut(target, "?")
	path = strings.TrimPrefix(path, "/api/hooks/v1")
	routes := []struct {
		method, pattern string
		scopes          Expr
	}{
		{"GET", "/hooks", Scope("hooks:list-hooks:")},
		{"GET", "/hooks/<hookGroupId>", Scope("hooks:list-hooks:<hookGroupId>")},
		{"GET", "/hooks/<hookGroupId>/<hookId>", Scope("hooks:get:<hookGroupId>:<hookId>")},
		{"GET", "/hooks/<hookGroupId>/<hookId>/status", Scope("hooks:status:<hookGroupId>/<hookId>")},
		{"PUT", "/hooks/<hookGroupId>/<hookId>", AllOf(Scope("hooks:modify-hook:<hookGroupId>/<hookId>"), Scope("assume:hook-id:<hookGroupId>/<hookId>"))},
		{"POST", "/hooks/<hookGroupId>/<hookId>/trigger", Scope("hooks:trigger-hook:<hookGroupId>/<hookId>")},
	}
	for _, rt := range routes {
		if rt.method != method {
			continue
		}
		want := strings.Split(rt.pattern, "/")
		got := strings.Split(path, "/")
		if len(want) != len(got) {
			continue
		}
		params := map[string]string{}
		ok := true
		for i := range want {
			if strings.HasPrefix(want[i], "<") {
				params[strings.Trim(want[i], "<>")] = got[i]
			} else if want[i] != got[i] {
				ok = false
			}
		}
		if ok {
			e, err := rt.scopes.Substitute(params)
			if err != nil {
				t.Fatal(err)
			}
			return e
		}
	}
	t.Fatalf("no hooks route for %s %s", method, target)
	return Expr{}
}

func TestVectors_HTTPResponses(t *testing.T) {
	v := loadVectors(t)
	x := fixtureStatic(t, v, nil)
	for _, step := range authorizeSteps(x) {
		for _, tc := range v.HTTPResponses {
			t.Run(step.name+"/"+tc.Name, func(t *testing.T) {
				var body []byte
				if tc.Request.Body != nil {
					body = []byte(*tc.Request.Body)
				}
				r := httptest.NewRequest(tc.Request.Method, tc.Request.Target, strings.NewReader(string(body)))
				for k, val := range tc.Request.Headers {
					if k == "host" {
						r.Host = val
						continue
					}
					r.Header.Set(k, val)
				}
				required := hooksRoute(t, tc.Request.Method, tc.Request.Target)
				caller, err := step.authorize(context.Background(), r, body, required)
				want := tc.Response
				if want.Status == http.StatusOK {
					if err != nil {
						t.Fatalf("Authorize: %v", err)
					}
					wantID := want.Body.ClientID
					if wantID == "auth-failed:no-auth" { // Taskcluster's name for anonymous callers
						wantID = ""
					}
					if caller.ClientID != wantID || caller.Authenticated != (wantID != "") {
						t.Errorf("caller = %+v, want client %q", caller, wantID)
					}
					sat, ok := required.SatisfyingScopes(caller.Scopes)
					if !ok || strings.Join(sat, " ") != strings.Join(want.Body.SatisfyingScopes, " ") {
						t.Errorf("satisfying scopes = %v, want %v", sat, want.Body.SatisfyingScopes)
					}
					return
				}
				var ae *Error
				if !errors.As(err, &ae) {
					t.Fatalf("Authorize error = %v, want *Error", err)
				}
				wantMsg, _, _ := strings.Cut(want.Body.Message, "\n\n---\n\n")
				if tc.Name == "payload-hash-mismatch-401" {
					// Taskcluster forgets to fill in {{hash}}; we fill it in.
					wantMsg = strings.Replace(wantMsg, "{{hash}}", "jEmXmbZISYej+g+RQaHbzSIkCGDvOvm+4ng7FlGeB84=", 1)
				}
				if ae.Code != want.Body.Code || ae.StatusCode() != want.Status || ae.Message != wantMsg {
					t.Errorf("got %d %s %q\nwant %d %s %q", ae.StatusCode(), ae.Code, ae.Message, want.Status, want.Body.Code, wantMsg)
				}
				if wantWWW := want.WWWAuthenticate != nil; wantWWW != (ae.Code == CodeAuthenticationFailed) {
					t.Errorf("WWW-Authenticate expected %v for code %s", wantWWW, ae.Code)
				}
			})
		}
	}
}
