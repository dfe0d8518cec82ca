// Package sqstest is an in-test SQS endpoint: an HTTP server speaking the
// subset of the AWS JSON 1.0 protocol Hookline uses (X-Amz-Target
// AmazonSQS.SendMessage, SendMessageBatch, ReceiveMessage, DeleteMessage,
// ChangeMessageVisibility),
// over queue.Memory queues. It applies SQS's rules where a client can get
// them wrong (batch size and ids, total bytes, the characters a body may
// hold) and answers with the MD5 digests the SDK verifies. Faults can be
// injected per request or per entry.
package sqstest

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sqs"

	"github.com/hookline/hookline/shared/queue"
)

// Account is the account id in the queue URLs the server hands out.
const Account = "000000000000"

// Fault is an injected failure. For a whole request, Status (default 500)
// and Code are answered; for a batch entry, the entry fails with Code and
// SenderFault.
type Fault struct {
	Status      int
	Code        string
	SenderFault bool
}

// FaultFunc decides, for an operation ("SendMessageBatch", ...) and, for a
// batch entry, its id and body, whether to fail. entryID is "" for the
// request as a whole. Return nil to let it through.
type FaultFunc func(op, entryID string, body []byte) *Fault

// Server is the endpoint. Its methods are safe for concurrent use.
type Server struct {
	// URL is the endpoint (AWS_ENDPOINT_URL_SQS, or BaseEndpoint).
	URL string
	srv *httptest.Server

	mu       sync.Mutex
	queues   map[string]*queue.Memory
	fault    FaultFunc
	requests map[string]int
}

// New starts a server, closed when tb ends.
func New(tb testing.TB) *Server {
	s := &Server{queues: map[string]*queue.Memory{}, requests: map[string]int{}}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serve))
	s.URL = s.srv.URL
	tb.Cleanup(s.srv.Close)
	return s
}

// CreateQueue makes a queue and returns its URL. Received messages stay
// hidden for visibility (0: 30 s).
func (s *Server) CreateQueue(name string, visibility time.Duration) string {
	url := s.URL + "/" + Account + "/" + name
	s.mu.Lock()
	s.queues[url] = queue.NewMemory(&queue.MemoryOptions{VisibilityTimeout: visibility})
	s.mu.Unlock()
	return url
}

// Queue returns the queue at url, or nil.
func (s *Server) Queue(url string) *queue.Memory {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.queues[url]
}

// SetFault installs f (nil: no faults).
func (s *Server) SetFault(f FaultFunc) {
	s.mu.Lock()
	s.fault = f
	s.mu.Unlock()
}

// Requests is how many requests of op the server answered.
func (s *Server) Requests(op string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[op]
}

// Client returns an SDK client for the server, with test credentials and
// no retries (so injected faults reach the caller as they are).
func (s *Server) Client() *sqs.Client {
	return sqs.New(sqs.Options{
		Region:           "us-east-1",
		BaseEndpoint:     aws.String(s.URL),
		Credentials:      credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		RetryMaxAttempts: 1,
	})
}

type entry struct {
	ID          string `json:"Id"`
	MessageBody string `json:"MessageBody"`
}

type request struct {
	QueueURL            string  `json:"QueueUrl"`
	MessageBody         string  `json:"MessageBody"`
	Entries             []entry `json:"Entries"`
	MaxNumberOfMessages int     `json:"MaxNumberOfMessages"`
	WaitTimeSeconds     int     `json:"WaitTimeSeconds"`
	ReceiptHandle       string  `json:"ReceiptHandle"`
	// VisibilityTimeout is ReceiveMessage's (nil: the queue's) and
	// ChangeMessageVisibility's.
	VisibilityTimeout *int `json:"VisibilityTimeout"`
}

// apiError is an error answer.
type apiError struct {
	status  int
	code    string
	message string
}

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSQS.")
	out, aerr := s.handle(r.Context(), op, r)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if aerr != nil {
		w.Header().Set("X-Amzn-Query-Error", aerr.code+";Sender")
		w.WriteHeader(aerr.status)
		json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#" + aerr.code, "message": aerr.message})
		return
	}
	json.NewEncoder(w).Encode(out)
}

func (s *Server) handle(ctx context.Context, op string, r *http.Request) (any, *apiError) {
	if ct := r.Header.Get("Content-Type"); ct != "application/x-amz-json-1.0" {
		return nil, &apiError{400, "InvalidParameterValue", "content type " + ct}
	}
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, &apiError{400, "InvalidParameterValue", err.Error()}
	}
	var in request
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, &apiError{400, "InvalidParameterValue", "malformed request: " + err.Error()}
	}
	s.mu.Lock()
	s.requests[op]++
	q := s.queues[in.QueueURL]
	fault := s.fault
	s.mu.Unlock()
	if q == nil {
		return nil, &apiError{400, "QueueDoesNotExist", "The specified queue does not exist: " + in.QueueURL}
	}
	if fault != nil {
		if f := fault(op, "", nil); f != nil {
			status := f.Status
			if status == 0 {
				status = 500
			}
			code := f.Code
			if code == "" {
				code = "InternalError"
			}
			return nil, &apiError{status, code, "injected fault"}
		}
	}
	switch op {
	case "SendMessage":
		if msg := badBody(in.MessageBody); msg != "" {
			return nil, &apiError{400, "InvalidMessageContents", msg}
		}
		if len(in.MessageBody) > queue.MaxBatchBytes {
			return nil, &apiError{400, "InvalidParameterValue", "message too long"}
		}
		if err := q.Send(ctx, []byte(in.MessageBody)); err != nil {
			return nil, &apiError{400, "InvalidParameterValue", err.Error()}
		}
		return map[string]string{"MessageId": newID(in.MessageBody), "MD5OfMessageBody": digest(in.MessageBody)}, nil
	case "SendMessageBatch":
		return s.sendBatch(ctx, q, in.Entries, fault)
	case "ReceiveMessage":
		hide := time.Duration(-1)
		if in.VisibilityTimeout != nil {
			hide = time.Duration(*in.VisibilityTimeout) * time.Second
		}
		msgs, err := q.ReceiveHidden(ctx, max(in.MaxNumberOfMessages, 1), time.Duration(in.WaitTimeSeconds)*time.Second, hide)
		if err != nil {
			return nil, &apiError{500, "InternalError", err.Error()}
		}
		out := []map[string]any{}
		for _, m := range msgs {
			out = append(out, map[string]any{
				"MessageId": m.ID, "ReceiptHandle": m.Receipt, "Body": string(m.Body), "MD5OfBody": digest(string(m.Body)),
				"Attributes": map[string]string{"ApproximateReceiveCount": fmt.Sprint(m.ReceiveCount)},
			})
		}
		return map[string]any{"Messages": out}, nil
	case "DeleteMessage":
		if in.ReceiptHandle == "" {
			return nil, &apiError{400, "MissingParameter", "ReceiptHandle"}
		}
		q.Delete(ctx, in.ReceiptHandle)
		return map[string]any{}, nil
	case "ChangeMessageVisibility":
		if in.ReceiptHandle == "" || in.VisibilityTimeout == nil {
			return nil, &apiError{400, "MissingParameter", "ReceiptHandle and VisibilityTimeout"}
		}
		if !q.ChangeVisibility(in.ReceiptHandle, time.Duration(*in.VisibilityTimeout)*time.Second) {
			return nil, &apiError{400, "ReceiptHandleIsInvalid", "not a current receipt: " + in.ReceiptHandle}
		}
		return map[string]any{}, nil
	}
	return nil, &apiError{400, "InvalidAction", "not supported here: " + op}
}

var entryID = regexp.MustCompile(`^[A-Za-z0-9_-]{1,80}$`)

func (s *Server) sendBatch(ctx context.Context, q *queue.Memory, entries []entry, fault FaultFunc) (any, *apiError) {
	if len(entries) == 0 {
		return nil, &apiError{400, "EmptyBatchRequest", "no entries"}
	}
	if len(entries) > queue.MaxBatchEntries {
		return nil, &apiError{400, "TooManyEntriesInBatchRequest", fmt.Sprintf("%d entries", len(entries))}
	}
	seen := map[string]bool{}
	total := 0
	for _, e := range entries {
		if !entryID.MatchString(e.ID) {
			return nil, &apiError{400, "InvalidBatchEntryId", e.ID}
		}
		if seen[e.ID] {
			return nil, &apiError{400, "BatchEntryIdsNotDistinct", e.ID}
		}
		seen[e.ID] = true
		total += len(e.MessageBody)
	}
	if total > queue.MaxBatchBytes {
		return nil, &apiError{400, "BatchRequestTooLong", fmt.Sprintf("%d bytes", total)}
	}
	ok := []map[string]string{}
	failed := []map[string]any{}
	for _, e := range entries {
		if msg := badBody(e.MessageBody); msg != "" {
			failed = append(failed, map[string]any{"Id": e.ID, "SenderFault": true, "Code": "InvalidMessageContents", "Message": msg})
			continue
		}
		if fault != nil {
			if f := fault("SendMessageBatch", e.ID, []byte(e.MessageBody)); f != nil {
				failed = append(failed, map[string]any{"Id": e.ID, "SenderFault": f.SenderFault, "Code": f.Code, "Message": "injected fault"})
				continue
			}
		}
		if err := q.Send(ctx, []byte(e.MessageBody)); err != nil {
			failed = append(failed, map[string]any{"Id": e.ID, "SenderFault": true, "Code": "InvalidParameterValue", "Message": err.Error()})
			continue
		}
		ok = append(ok, map[string]string{"Id": e.ID, "MessageId": newID(e.MessageBody), "MD5OfMessageBody": digest(e.MessageBody)})
	}
	return map[string]any{"Successful": ok, "Failed": failed}, nil
}

// badBody says why SQS would refuse a body, or "": it must be valid UTF-8
// of #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to
// #x10FFFF, and not empty.
func badBody(b string) string {
	if b == "" {
		return "the message body is empty"
	}
	if !utf8.ValidString(b) {
		return "the message body is not valid UTF-8"
	}
	for _, r := range b {
		switch {
		case r == 0x9 || r == 0xA || r == 0xD:
		case r >= 0x20 && r <= 0xD7FF:
		case r >= 0xE000 && r <= 0xFFFD:
		case r >= 0x10000 && r <= 0x10FFFF:
		default:
			return fmt.Sprintf("the message body contains the character %U, which SQS does not allow", r)
		}
	}
	return ""
}

func digest(body string) string {
	sum := md5.Sum([]byte(body))
	return hex.EncodeToString(sum[:])
}

func newID(body string) string {
	sum := md5.Sum([]byte(body + time.Now().String()))
	h := hex.EncodeToString(sum[:])
	return h[:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
}
