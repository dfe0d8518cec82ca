package queue

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// SQSClient is the part of *sqs.Client the adapter uses.
type SQSClient interface {
	SendMessage(ctx context.Context, in *sqs.SendMessageInput, opts ...func(*sqs.Options)) (*sqs.SendMessageOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
}

var _ SQSClient = (*sqs.Client)(nil)

// SQS is one SQS queue.
type SQS struct {
	client SQSClient
	url    string
}

// NewSQS returns the queue at queueURL.
func NewSQS(client SQSClient, queueURL string) *SQS {
	return &SQS{client: client, url: queueURL}
}

// URL is the queue's URL.
func (q *SQS) URL() string { return q.url }

// Send sends one message.
func (q *SQS) Send(ctx context.Context, body []byte) error {
	if _, err := q.client.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(q.url), MessageBody: aws.String(string(body))}); err != nil {
		return fmt.Errorf("queue: sqs send: %w", err)
	}
	return nil
}

// SendBatch sends up to MaxBatchEntries messages in one request. A request
// that fails as a whole is an error; otherwise the entries SQS did not take
// are returned, each with SQS's code and sender-fault flag. An entry SQS
// mentions in neither list counts as failed, retryable.
func (q *SQS) SendBatch(ctx context.Context, entries []Entry) ([]EntryError, error) {
	if err := checkBatch(entries, MaxBatchBytes); err != nil {
		return nil, err
	}
	in := &sqs.SendMessageBatchInput{QueueUrl: aws.String(q.url), Entries: make([]types.SendMessageBatchRequestEntry, len(entries))}
	for i, e := range entries {
		in.Entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(e.ID), MessageBody: aws.String(string(e.Body))}
	}
	out, err := q.client.SendMessageBatch(ctx, in)
	if err != nil {
		return nil, fmt.Errorf("queue: sqs send batch: %w", err)
	}
	done := make(map[string]bool, len(entries))
	for _, s := range out.Successful {
		done[aws.ToString(s.Id)] = true
	}
	var failed []EntryError
	for _, f := range out.Failed {
		id := aws.ToString(f.Id)
		done[id] = true
		failed = append(failed, EntryError{ID: id, Code: aws.ToString(f.Code), Message: aws.ToString(f.Message), SenderFault: f.SenderFault})
	}
	for _, e := range entries {
		if !done[e.ID] {
			failed = append(failed, EntryError{ID: e.ID, Code: "Missing", Message: "SQS reported neither success nor failure"})
		}
	}
	return failed, nil
}

// Receive waits up to wait (long polling, at most 20 s) for up to n
// messages (at most 10).
func (q *SQS) Receive(ctx context.Context, n int, wait time.Duration) ([]Message, error) {
	n = min(max(n, 1), 10)
	secs := int32(min(max(wait, 0), 20*time.Second) / time.Second)
	out, err := q.client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
		QueueUrl:                    aws.String(q.url),
		MaxNumberOfMessages:         int32(n),
		WaitTimeSeconds:             secs,
		MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameApproximateReceiveCount},
	})
	if err != nil {
		return nil, fmt.Errorf("queue: sqs receive: %w", err)
	}
	msgs := make([]Message, len(out.Messages))
	for i, m := range out.Messages {
		n, _ := strconv.Atoi(m.Attributes[string(types.MessageSystemAttributeNameApproximateReceiveCount)])
		msgs[i] = Message{ID: aws.ToString(m.MessageId), Receipt: aws.ToString(m.ReceiptHandle), Body: []byte(aws.ToString(m.Body)), ReceiveCount: n}
	}
	return msgs, nil
}

// Delete removes a received message.
func (q *SQS) Delete(ctx context.Context, receipt string) error {
	if _, err := q.client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(q.url), ReceiptHandle: aws.String(receipt)}); err != nil {
		return fmt.Errorf("queue: sqs delete: %w", err)
	}
	return nil
}
