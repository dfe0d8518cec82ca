// Package queue is the message-queue port between the Pulse bridge and the
// code that fires hooks, and between the API and the bridge (hook-changed
// events), with three adapters:
//
//   - SQS, over aws-sdk-go-v2's SQS client: SendMessage, SendMessageBatch,
//     ReceiveMessage (long poll) and DeleteMessage, as the deployed system
//     uses them;
//   - Memory, an in-process queue with SQS's receive, visibility-timeout
//     and delete semantics (the changes queue of `hookline serve`, and the
//     storage of the sqstest server);
//   - Local, which hands every message sent to it to a handler in the same
//     process and reports success only once the handler succeeded, so a
//     bridge that acks after a send keeps its at-least-once guarantee
//     without a queue in between (`hookline serve`).
//
// The limits are SQS's: at most MaxBatchEntries messages and MaxBatchBytes
// bytes per batch, and per message.
package queue
