package apifuzz

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hookline/hookline/shared/auth"
)

// Response is what the server answered.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Elapsed is from the first byte written to the last byte read.
	Elapsed time.Duration
}

// client sends requests to one server, each on a connection of its own.
type client struct {
	addr    string // host:port
	creds   auth.Credentials
	timeout time.Duration
}

// maxAnswer is the most of an answer read: more is an error of its own.
const maxAnswer = 32 << 20

// send writes req byte for byte (with {token} and {decision} filled in)
// and reads the answer. An error is a connection the server dropped or a
// timeout: either is a failure of the server, as a 5xx is.
func (c *client) send(ctx context.Context, req Request, token, decision string) (Response, error) {
	target := strings.NewReplacer("{token}", token, "{decision}", decision).Replace(req.Target)
	headers := append([]Header(nil), req.Header...)
	for i, h := range headers {
		headers[i].Value = strings.ReplaceAll(h.Value, "{token}", token)
	}
	if req.Auth != AuthNone {
		h, err := c.sign(req, target)
		if err != nil {
			return Response{}, fmt.Errorf("sign: %w", err)
		}
		headers = append(headers, Header{"Authorization", h})
	}
	var head bytes.Buffer
	fmt.Fprintf(&head, "%s %s HTTP/1.1\r\nHost: %s\r\n", req.Method, target, c.addr)
	for _, h := range headers {
		head.WriteString(h.Name + ": " + h.Value + "\r\n")
	}
	var body []byte
	switch {
	case req.Chunked:
		head.WriteString("Transfer-Encoding: chunked\r\n")
		body = chunk(req.Body)
	case req.ContentLength != 0:
		head.WriteString("Content-Length: " + strconv.FormatInt(req.ContentLength, 10) + "\r\n")
		body = req.Body
	case len(req.Body) > 0 || req.Method == "POST" || req.Method == "PUT":
		head.WriteString("Content-Length: " + strconv.Itoa(len(req.Body)) + "\r\n")
		body = req.Body
	}
	head.WriteString("Connection: close\r\n\r\n")

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	start := time.Now()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return Response{}, fmt.Errorf("connect: %w", err)
	}
	defer conn.Close()
	deadline, _ := ctx.Deadline()
	_ = conn.SetDeadline(deadline)
	// The server may answer (413, 401) before it read the body and close
	// the connection: the write's error then does not matter, the answer
	// does.
	wrote := make(chan error, 1)
	go func() {
		_, err := conn.Write(append(head.Bytes(), body...))
		wrote <- err
	}()
	br := bufio.NewReader(conn)
	// The method tells whether the answer has a body (not to HEAD).
	sent := &http.Request{Method: req.Method}
	res, err := http.ReadResponse(br, sent)
	// Interim answers (100 Continue) come before the answer.
	for err == nil && res.StatusCode < 200 {
		res, err = http.ReadResponse(br, sent)
	}
	if err != nil {
		werr := <-wrote
		return Response{}, fmt.Errorf("no answer after %v: %w (write: %v)", time.Since(start).Round(time.Millisecond), err, werr)
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, maxAnswer+1))
	res.Body.Close()
	_ = conn.Close()
	<-wrote
	if err != nil {
		return Response{}, fmt.Errorf("read the %d answer: %w", res.StatusCode, err)
	}
	if len(data) > maxAnswer {
		return Response{}, fmt.Errorf("answer %d is larger than %d bytes", res.StatusCode, maxAnswer)
	}
	return Response{Status: res.StatusCode, Header: res.Header, Body: data, Elapsed: time.Since(start)}, nil
}

// chunk encodes body in chunks of up to 64 KB.
func chunk(body []byte) []byte {
	var b bytes.Buffer
	for len(body) > 0 {
		n := min(len(body), 64<<10)
		fmt.Fprintf(&b, "%x\r\n", n)
		b.Write(body[:n])
		b.WriteString("\r\n")
		body = body[n:]
	}
	b.WriteString("0\r\n\r\n")
	return b.Bytes()
}

// sign returns the Authorization header of req's Auth for target.
func (c *client) sign(req Request, target string) (string, error) {
	path, query, _ := strings.Cut(target, "?")
	creds := c.creds
	now := time.Now()
	var payload []byte
	switch req.Auth {
	case AuthHawkPayload:
		payload = req.Body
	case AuthHawkWrongKey:
		creds.AccessToken = "not-the-access-token"
	case AuthHawkStale:
		now = now.Add(-time.Hour)
	case AuthHawkWrongHash:
		payload = append([]byte("x"), req.Body...)
	case AuthHawkUnknown:
		creds.ClientID = "nobody"
	case AuthHawkOtherPath:
		path = "/api/hooks/v1/ping"
	}
	r := &http.Request{Method: req.Method, URL: &url.URL{Scheme: "http", Host: c.addr, Opaque: path, RawQuery: query}, Header: http.Header{}}
	for _, h := range req.Header {
		if strings.EqualFold(h.Name, "Content-Type") {
			r.Header.Set("Content-Type", h.Value)
		}
	}
	if payload == nil && req.Auth == AuthHawkPayload {
		payload = []byte{}
	}
	if err := auth.SignRequest(r, creds, payload, now); err != nil {
		return "", err
	}
	return r.Header.Get("Authorization"), nil
}
