package queue

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// RedriveClient is the part of the SQS API a redrive uses.
type RedriveClient interface {
	ReceiveMessage(ctx context.Context, in *sqs.ReceiveMessageInput, opts ...func(*sqs.Options)) (*sqs.ReceiveMessageOutput, error)
	SendMessageBatch(ctx context.Context, in *sqs.SendMessageBatchInput, opts ...func(*sqs.Options)) (*sqs.SendMessageBatchOutput, error)
	DeleteMessage(ctx context.Context, in *sqs.DeleteMessageInput, opts ...func(*sqs.Options)) (*sqs.DeleteMessageOutput, error)
	ChangeMessageVisibility(ctx context.Context, in *sqs.ChangeMessageVisibilityInput, opts ...func(*sqs.Options)) (*sqs.ChangeMessageVisibilityOutput, error)
}

// RedriveOptions say what a redrive moves.
type RedriveOptions struct {
	// From is the queue messages are moved out of (a dead-letter queue);
	// To the queue they are moved to.
	From, To string
	// Max is the most messages moved in one run; 0 means DefaultRedriveMax.
	Max int
	// Select classifies a message body: the label it is counted under,
	// and whether to move it. Messages it declines stay where they are.
	// nil moves everything, under the label "".
	Select func(body []byte) (label string, move bool)
	// DryRun moves nothing: it counts what would move.
	DryRun bool
	// HideSeconds is how long a message received in this run stays hidden
	// from other consumers while it is handled; 0 means 300. Messages left
	// in From are made visible again when the run ends.
	HideSeconds int32
}

// DefaultRedriveMax bounds a redrive run unless told otherwise.
const DefaultRedriveMax = 1000

// RedriveReport says what a redrive did.
type RedriveReport struct {
	// Moved were sent to To and deleted from From (in a dry run: would
	// have been). Skipped were left because Select declined them; Failed
	// because To refused them. Both stay in From.
	Moved, Skipped, Failed int
	// ByLabel counts moved messages by Select's label.
	ByLabel map[string]int
	// Errors describe the failures.
	Errors []string
}

// Redrive moves messages from one SQS queue to another, as SQS's own
// "start DLQ redrive" does, but bounded, filtered and reported. Each
// message is sent to To first and deleted from From only once To accepted
// it, so a failure part way leaves it in From: nothing is lost, and at
// worst a message is delivered twice. For the trigger queue that is
// harmless: a Pulse message's taskId is derived from its content, so a
// second fire finds the first one's task.
//
// The run ends when From has no visible message left, when Max messages
// moved, when a message comes round a second time (the hiding period ran
// out), or when ctx ends. Messages it received but did not move are made
// visible again before it returns.
func Redrive(ctx context.Context, client RedriveClient, opts RedriveOptions) (RedriveReport, error) {
	if opts.From == "" || opts.To == "" {
		return RedriveReport{}, errors.New("queue: redrive needs a source and a destination queue")
	}
	if opts.From == opts.To {
		return RedriveReport{}, errors.New("queue: redrive source and destination are the same queue")
	}
	if opts.Max <= 0 {
		opts.Max = DefaultRedriveMax
	}
	if opts.HideSeconds <= 0 {
		opts.HideSeconds = 300
	}
	rep := RedriveReport{ByLabel: map[string]int{}}
	var keep []string // receipts of messages to make visible again
	defer func() {
		// Best effort with a fresh context: a message not released comes
		// back by itself when its hiding period ends.
		for _, r := range keep {
			_, _ = client.ChangeMessageVisibility(context.WithoutCancel(ctx), &sqs.ChangeMessageVisibilityInput{
				QueueUrl: aws.String(opts.From), ReceiptHandle: aws.String(r), VisibilityTimeout: 0,
			})
		}
	}()
	seen := map[string]bool{}
	for rep.Moved < opts.Max {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		out, err := client.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:            aws.String(opts.From),
			MaxNumberOfMessages: int32(min(MaxBatchEntries, opts.Max-rep.Moved)),
			VisibilityTimeout:   opts.HideSeconds,
			WaitTimeSeconds:     1,
		})
		if err != nil {
			return rep, fmt.Errorf("queue: receive from %s: %w", opts.From, err)
		}
		if len(out.Messages) == 0 {
			return rep, nil
		}
		var batch []pendingMove
		cycled := false
		for _, m := range out.Messages {
			id := aws.ToString(m.MessageId)
			if seen[id] {
				cycled = true
			}
			seen[id] = true
			label, move := "", true
			if opts.Select != nil {
				label, move = opts.Select([]byte(aws.ToString(m.Body)))
			}
			if !move {
				rep.Skipped++
				keep = append(keep, aws.ToString(m.ReceiptHandle))
				continue
			}
			if opts.DryRun {
				rep.Moved++
				rep.ByLabel[label]++
				keep = append(keep, aws.ToString(m.ReceiptHandle))
				continue
			}
			batch = append(batch, pendingMove{msg: m, label: label})
		}
		if err := moveBatch(ctx, client, opts, batch, &rep, &keep); err != nil {
			return rep, err
		}
		if cycled {
			return rep, nil
		}
	}
	return rep, nil
}

// pendingMove is a received message to move, with Select's label.
type pendingMove struct {
	msg   types.Message
	label string
}

// moveBatch sends messages to To in as few batches as SQS's size limits
// allow, then deletes from From those To accepted.
func moveBatch(ctx context.Context, client RedriveClient, opts RedriveOptions, msgs []pendingMove, rep *RedriveReport, keep *[]string) error {
	for len(msgs) > 0 {
		n, size := 0, 0
		for n < len(msgs) && n < MaxBatchEntries && (n == 0 || size+len(aws.ToString(msgs[n].msg.Body)) <= MaxBatchBytes) {
			size += len(aws.ToString(msgs[n].msg.Body))
			n++
		}
		part := msgs[:n]
		msgs = msgs[n:]
		entries := make([]types.SendMessageBatchRequestEntry, len(part))
		for i, p := range part {
			entries[i] = types.SendMessageBatchRequestEntry{Id: aws.String(strconv.Itoa(i)), MessageBody: p.msg.Body}
		}
		out, err := client.SendMessageBatch(ctx, &sqs.SendMessageBatchInput{QueueUrl: aws.String(opts.To), Entries: entries})
		if err != nil {
			// Nothing was moved: the messages stay in From.
			for _, p := range part {
				*keep = append(*keep, aws.ToString(p.msg.ReceiptHandle))
			}
			return fmt.Errorf("queue: send to %s: %w", opts.To, err)
		}
		for _, f := range out.Failed {
			i, _ := strconv.Atoi(aws.ToString(f.Id))
			if i < 0 || i >= len(part) {
				continue
			}
			rep.Failed++
			rep.Errors = append(rep.Errors, fmt.Sprintf("message %s: %s: %s", aws.ToString(part[i].msg.MessageId), aws.ToString(f.Code), aws.ToString(f.Message)))
			*keep = append(*keep, aws.ToString(part[i].msg.ReceiptHandle))
		}
		for _, s := range out.Successful {
			i, _ := strconv.Atoi(aws.ToString(s.Id))
			if i < 0 || i >= len(part) {
				continue
			}
			m := part[i].msg
			if _, err := client.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(opts.From), ReceiptHandle: m.ReceiptHandle}); err != nil {
				// It is in both queues now; the copy in From comes back
				// when its hiding period ends and can be moved again.
				rep.Errors = append(rep.Errors, fmt.Sprintf("message %s was copied but not deleted from %s: %v", aws.ToString(m.MessageId), opts.From, err))
			}
			rep.Moved++
			rep.ByLabel[part[i].label]++
		}
	}
	return nil
}
