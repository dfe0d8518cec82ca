package main

import (
	"bufio"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/auth"
)

// The security review's findings (issue 22), each against `hookline serve`
// over HTTP.

// adminCreds sign requests in the configurations below.
var adminCreds = auth.Credentials{ClientID: "admin", AccessToken: "admin-token-0123456789"}

// trialClients is the README's local trial (anonymous callers manage
// hooks), plus a client that signs.
const trialClients = `{"clients": [{"clientId": "admin", "accessToken": "admin-token-0123456789", "scopes": ["*"]}],
  "anonymousScopes": ["hooks:*", "assume:hook-id:*", "queue:*", "hookline:*"]}`

// signedOnlyClients grant anonymous callers nothing.
const signedOnlyClients = `{"clients": [{"clientId": "admin", "accessToken": "admin-token-0123456789", "scopes": ["*"]}]}`

const objectHook = `{"metadata":{"name":"n","description":"d","owner":"o@example.com"},"triggerSchema":{"type":"object"},
  "task":{"provisionerId":"p","workerType":"w","payload":{},
  "metadata":{"name":"t","description":"t","owner":"o@example.com","source":"https://example.com"}}}`

type reply struct {
	status int
	header http.Header
	body   string
}

func (r reply) String() string { return fmt.Sprintf("%d %s", r.status, r.body) }

// send makes one request; creds, when not nil, sign it with Hawk.
func send(t *testing.T, method, url, body string, header map[string]string, creds *auth.Credentials) reply {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		if k == "Host" {
			req.Host = v
			continue
		}
		req.Header.Set(k, v)
	}
	if creds != nil {
		if err := auth.SignRequest(req, *creds, []byte(body), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	return reply{status: res.StatusCode, header: res.Header, body: string(data)}
}

func triggerToken(t *testing.T, base, hook string) string {
	t.Helper()
	r := send(t, "GET", base+"/api/hooks/v1/hooks/"+hook+"/token", "", nil, &adminCreds)
	var tok struct{ Token string }
	if err := json.Unmarshal([]byte(r.body), &tok); r.status != 200 || err != nil || tok.Token == "" {
		t.Fatalf("token: %v", r)
	}
	return tok.Token
}

// Finding 1: a hook that takes GitHub signatures no longer fires from its
// token route, its token is reset when the scheme changes, and the
// decision log tells signed deliveries apart.
func TestServe_SignedHookRefusesTokenRoute(t *testing.T) {
	s := startServeWith(t, map[string]string{"HOOKLINE_CLIENTS": signedOnlyClients}, defaultConnLimits)
	hooks, hookline := s.base+"/api/hooks/v1", s.base+"/api/hookline/v1"
	if r := send(t, "PUT", hooks+"/hooks/g/y", objectHook, nil, &adminCreds); r.status != 200 {
		t.Fatalf("create: %v", r)
	}
	old := triggerToken(t, s.base, "g/y")
	const secret = "the-github-secret-0123456789"
	if r := send(t, "PUT", hookline+"/hooks/g/y/settings", `{"webhook":{"scheme":"github","secrets":["`+secret+`"]}}`, nil, &adminCreds); r.status != 200 {
		t.Fatalf("settings: %v", r)
	}
	current := triggerToken(t, s.base, "g/y")
	if current == old {
		t.Fatal("changing the webhook scheme kept the trigger token")
	}
	forged := `{"ref":"refs/heads/main"}`
	for _, tok := range []string{old, current} {
		r := send(t, "POST", hooks+"/hooks/g/y/trigger/"+tok, forged, nil, nil)
		if r.status != 401 || !strings.Contains(r.body, "signed deliveries only") || !strings.Contains(r.body, "AuthenticationFailed") {
			t.Fatalf("token route of a github hook: %v", r)
		}
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(forged))
	r := send(t, "POST", hookline+"/hooks/g/y/webhook", forged, map[string]string{"X-Hub-Signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil)), "X-GitHub-Delivery": "d1"}, nil)
	if r.status != 200 || !strings.Contains(r.body, "taskId") {
		t.Fatalf("signed delivery: %v", r)
	}
	if r := send(t, "POST", hooks+"/hooks/g/y/trigger", `{}`, nil, &adminCreds); r.status != 200 {
		t.Fatalf("triggerHook with Hawk: %v", r)
	}
	r = send(t, "GET", hookline+"/hooks/g/y/decisions", "", nil, &adminCreds)
	var page struct {
		Decisions []struct{ FiredBy, WebhookScheme string }
	}
	if err := json.Unmarshal([]byte(r.body), &page); r.status != 200 || err != nil {
		t.Fatalf("decisions: %v", r)
	}
	got := map[string]string{}
	for _, d := range page.Decisions {
		got[d.FiredBy] = d.WebhookScheme
	}
	if len(page.Decisions) != 2 || got["triggerHookWithToken"] != "github" || got["triggerHook"] != "" {
		t.Fatalf("decisions: %+v", page.Decisions)
	}
}

// Finding 2: CORS lets any page call the API with credentials, but not
// borrow the anonymous scopes for more than reads; preflights advertise
// real methods only; under DNS rebinding unknown hosts are refused.
func TestServe_CrossSiteAnonymousScopes(t *testing.T) {
	s := startServeWith(t, map[string]string{"HOOKLINE_CLIENTS": trialClients, "HOOKLINE_CORS_ORIGINS": "https://console.example"}, defaultConnLimits)
	hooks := s.base + "/api/hooks/v1"
	evil := map[string]string{"Origin": "https://evil.example"}

	pre := send(t, "OPTIONS", hooks+"/hooks/g/h", "", map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "PUT"}, nil)
	if pre.status != 204 || pre.header.Get("Access-Control-Allow-Methods") != "GET, HEAD, PUT, POST, DELETE, OPTIONS" ||
		pre.header.Get("Access-Control-Allow-Origin") != "*" || pre.header.Get("Access-Control-Request-Method") != "" {
		t.Fatalf("preflight: %d %v", pre.status, pre.header)
	}
	if pre := send(t, "OPTIONS", hooks+"/hooks/g/h/trigger", "", nil, nil); pre.header.Get("Access-Control-Allow-Methods") != "POST, OPTIONS" {
		t.Fatalf("preflight of a POST route: %v", pre.header)
	}

	for _, tt := range []struct {
		name, method, path, body string
		header                   map[string]string
		creds                    *auth.Credentials
		want                     int
	}{
		{"foreign page, anonymous write", "PUT", "/hooks/g/h", objectHook, evil, nil, 403},
		{"foreign page, signed write", "PUT", "/hooks/g/h", objectHook, evil, &adminCreds, 200},
		{"no Origin (curl), anonymous write", "PUT", "/hooks/g/h2", objectHook, nil, nil, 200},
		{"own origin, anonymous write", "PUT", "/hooks/g/h3", objectHook, map[string]string{"Origin": s.base}, nil, 200},
		{"listed origin, anonymous write", "PUT", "/hooks/g/h4", objectHook, map[string]string{"Origin": "https://console.example"}, nil, 200},
		{"foreign page, anonymous read", "GET", "/hooks/g/h", "", evil, nil, 200},
		{"foreign page, anonymous token read", "GET", "/hooks/g/h/token", "", evil, nil, 403},
		{"foreign page, anonymous trigger", "POST", "/hooks/g/h/trigger", `{}`, evil, nil, 403},
		{"null origin, anonymous delete", "DELETE", "/hooks/g/h2", "", map[string]string{"Origin": "null"}, nil, 403},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := send(t, tt.method, hooks+tt.path, tt.body, tt.header, tt.creds)
			if r.status != tt.want {
				t.Fatalf("got %v, want %d", r, tt.want)
			}
			if r.status == 403 && !strings.Contains(r.body, "another site") {
				t.Fatalf("the refusal does not say why: %v", r)
			}
			if r.header.Get("Cache-Control") != "no-store" || r.header.Get("X-Content-Type-Options") != "nosniff" ||
				r.header.Get("Access-Control-Allow-Origin") != "*" || r.header.Get("Access-Control-Request-Method") != "" {
				t.Fatalf("headers: %v", r.header)
			}
		})
	}

	// DNS rebinding: a page whose own name resolves to this server is
	// same-origin, but its Host names it.
	port := s.addr[strings.LastIndex(s.addr, ":"):]
	for host, want := range map[string]int{"rebind.example" + port: 421, "127.0.0.1" + port: 200, "localhost" + port: 200, "[::1]" + port: 200} {
		r := send(t, "GET", hooks+"/hooks", "", map[string]string{"Host": host}, nil)
		if r.status != want {
			t.Errorf("Host %s: %v, want %d", host, r, want)
		}
	}
	if !strings.Contains(s.stderr.String(), "unknown Host while anonymous callers hold write scopes") {
		t.Errorf("no log line says why the request was refused: %s", s.stderr.String())
	}
	// Without anonymous write scopes any Host is served (signatures cover
	// the host).
	plain := startServeWith(t, map[string]string{"HOOKLINE_CLIENTS": signedOnlyClients}, defaultConnLimits)
	if r := send(t, "GET", plain.base+"/api/hooks/v1/ping", "", map[string]string{"Host": "rebind.example"}, nil); r.status != 200 {
		t.Errorf("unknown Host without anonymous write scopes: %v", r)
	}
}

// rawRequest writes head (and then body, one byte each interval) on a
// fresh connection and returns the status line the server answers within
// wait, or "" when it does not.
func rawRequest(t *testing.T, addr, head string, body []byte, interval, wait time.Duration) (status string, elapsed time.Duration) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	start := time.Now()
	if _, err := io.WriteString(conn, head); err != nil {
		t.Fatal(err)
	}
	answered := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(conn).ReadString('\n')
		answered <- strings.TrimSpace(line)
	}()
	timeout := time.After(wait)
	for _, b := range body {
		select {
		case line := <-answered:
			return line, time.Since(start)
		case <-timeout:
			return "", time.Since(start)
		case <-time.After(interval):
		}
		if _, err := conn.Write([]byte{b}); err != nil {
			break // the server closed the connection
		}
	}
	select {
	case line := <-answered:
		return line, time.Since(start)
	case <-timeout:
		return "", time.Since(start)
	}
}

// Findings 3 and 6: the token route checks the token before it reads the
// body, a Hawk route parses the body only after checking credentials, and
// a body that trickles in is cut off.
func TestServe_CredentialsBeforeBody(t *testing.T) {
	s := startServeWith(t, map[string]string{"HOOKLINE_CLIENTS": signedOnlyClients},
		connLimits{bodyGrace: 500 * time.Millisecond, minBodyRate: 200, answerBudget: 10 * time.Second})
	if r := send(t, "PUT", s.base+"/api/hooks/v1/hooks/g/h", objectHook, nil, &adminCreds); r.status != 200 {
		t.Fatalf("create: %v", r)
	}
	token := triggerToken(t, s.base, "g/h")

	// A wrong token is refused at once, though the 5 MB body never comes.
	head := "POST /api/hooks/v1/hooks/g/h/trigger/wrong-token HTTP/1.1\r\nHost: " + s.addr +
		"\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n"
	if status, _ := rawRequest(t, s.addr, head, nil, 0, 3*time.Second); !strings.Contains(status, " 401 ") {
		t.Fatalf("wrong token with a body still to come: %q", status)
	}

	// Nor does the server wait for a smaller body it did not read, to keep
	// the connection: it closes it.
	conn, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	io.WriteString(conn, strings.Replace(head, "5000000", "100000", 1))
	br := bufio.NewReader(conn)
	res, err := http.ReadResponse(br, nil)
	if err != nil || res.StatusCode != 401 {
		t.Fatalf("wrong token, small body still to come: %v %v", res, err)
	}
	io.Copy(io.Discard, res.Body)
	conn.SetReadDeadline(time.Now().Add(3 * time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Fatalf("the connection stayed open for the unread body: %v", err)
	}

	// With the right token the body is read, and must keep a pace: one
	// byte every 50 ms (20 B/s) falls behind 200 B/s after the 500 ms grace.
	head = "POST /api/hooks/v1/hooks/g/h/trigger/" + token + " HTTP/1.1\r\nHost: " + s.addr +
		"\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
	status, elapsed := rawRequest(t, s.addr, head, []byte(strings.Repeat(" ", 1000)), 50*time.Millisecond, 8*time.Second)
	if !strings.Contains(status, " 400 ") {
		t.Fatalf("a trickling body held the connection for %s (status %q)", elapsed, status)
	}

	// An unsigned request to a route it has no scopes for is refused
	// before its body is read ...
	head = "PUT /api/hooks/v1/hooks/g/h HTTP/1.1\r\nHost: " + s.addr + "\r\nContent-Type: application/json\r\nContent-Length: 5000000\r\n\r\n"
	if status, _ := rawRequest(t, s.addr, head, nil, 0, 3*time.Second); !strings.Contains(status, " 403 ") {
		t.Fatalf("unsigned, body still to come: %q", status)
	}
	// ... let alone parsed.
	if r := send(t, "PUT", s.base+"/api/hooks/v1/hooks/g/h", "{this is not json", nil, nil); r.status != 403 || !strings.Contains(r.body, "InsufficientScopes") {
		t.Fatalf("unsigned, malformed body: %v", r)
	}
}

// Finding 6: wrong tokens are rate limited per source, with Retry-After;
// the limit holds for the right token too, from that source.
func TestServe_WrongTokenRateLimit(t *testing.T) {
	s := startServeWith(t, map[string]string{"HOOKLINE_CLIENTS": signedOnlyClients}, defaultConnLimits)
	if r := send(t, "PUT", s.base+"/api/hooks/v1/hooks/g/h", objectHook, nil, &adminCreds); r.status != 200 {
		t.Fatalf("create: %v", r)
	}
	token := triggerToken(t, s.base, "g/h")
	for i := range 10 {
		if r := send(t, "POST", s.base+"/api/hooks/v1/hooks/g/h/trigger/wrong", `{}`, nil, nil); r.status != 401 {
			t.Fatalf("wrong token %d: %v", i+1, r)
		}
	}
	for _, tok := range []string{"wrong", token} {
		r := send(t, "POST", s.base+"/api/hooks/v1/hooks/g/h/trigger/"+tok, `{}`, nil, nil)
		if r.status != 429 || r.header.Get("Retry-After") == "" || !strings.Contains(r.body, "too many wrong credentials") {
			t.Fatalf("after 10 wrong tokens: %v %v", r, r.header)
		}
	}
}

// Finding 6: a pre-check renders the hook, so it is rate limited per hook
// as webhook deliveries are.
func TestServe_CheckRateLimited(t *testing.T) {
	s := startServeWith(t, map[string]string{"HOOKLINE_CLIENTS": signedOnlyClients, "HOOKLINE_WEBHOOK_RATE": "1/h", "HOOKLINE_WEBHOOK_BURST": "2"}, defaultConnLimits)
	if r := send(t, "PUT", s.base+"/api/hooks/v1/hooks/g/h", objectHook, nil, &adminCreds); r.status != 200 {
		t.Fatalf("create: %v", r)
	}
	check := s.base + "/api/hookline/v1/hooks/g/h/check"
	for i := range 2 {
		if r := send(t, "POST", check, `{}`, nil, &adminCreds); r.status != 200 {
			t.Fatalf("check %d: %v", i+1, r)
		}
	}
	if r := send(t, "POST", check, `{}`, nil, &adminCreds); r.status != 429 || r.header.Get("Retry-After") == "" {
		t.Fatalf("third check: %v", r)
	}
}
