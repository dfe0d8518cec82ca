// Package dynamo is the DynamoDB backend of store.Store, used by the Lambda
// functions. It talks to DynamoDB through aws-sdk-go-v2 and needs no
// multi-item transactions: every write is a single conditional write (or,
// for a decision and its fire record, one unconditional BatchWriteItem), so
// the same code runs against the dynalite emulator in tests.
//
// # Single-table design
//
// One table with a string partition key "pk" and a string sort key "sk"
// holds every record; TableDefinition is the single source of truth for its
// schema (PAY_PER_REQUEST billing, one sparse global secondary index) and
// TTLAttribute names the attribute DynamoDB's time to live must use.
//
//	record        pk                          sk                        attributes
//	hook          HOOK#<hookGroupId>          <hookId>                  def (B), token, nextTaskId, nextAt, ver (N),
//	                                                                    nextSlot (when jittered), scheduleKey,
//	                                                                    dueShard, dueAt (only while scheduled)
//	              (a definition over 350 KiB: chunks (N), chunkGen, digest (B, SHA-256) instead of def)
//	hook chunk    CHUNK#<len(group)>#<group>#<hookId>  <chunkGen>#<nnnn>  body (B), 350 KiB of the definition
//	group marker  GROUPS                      <hookGroupId>             -
//	claim         CLAIM#<key>                 -                         body (B), createdAt, expiry, expiresAt (N, TTL)
//	              (a body over 350 KiB: chunks (N), chunkGen, digest (B, SHA-256) instead of body)
//	claim chunk   CHUNK#CLAIM#<key>           <chunkGen>#<nnnn>         body (B), expiry, expiresAt (N, TTL)
//	last fire     FIRE#<len(group)>#<group>#<hookId>  <time>#<taskId>   firedBy, taskId, createdAt, result, error,
//	                                                                    expiry, expiresAt (N, TTL)
//	settings      SETTINGS#<hookGroupId>      <hookId>                  body (B), ver (N)
//	decision      DECISION#<len(group)>#<group>#<hookId>  <decisionId>  body (B), expiry, expiresAt (N, TTL)
//	history count COUNT#<len(group)>#<group>#<hookId>     history       fires (N), decisions (N), counted
//	notification  NOTIFY#<len(group)>#<group>#<hookId>    <id>          body (B), ver (N), expiry, expiresAt (N, TTL),
//	                                                                    dueShard, dueAt (only while due)
//
// A fire record also holds decisionId and, once known, its task's outcome
// (taskState, taskReason, taskRunId, taskResolved); while the outcome is
// awaited, checkAt and checks, and the due index's keys (history.go).
//
// Times are stored as fixed-width UTC strings (2006-01-02T15:04:05.000000000Z)
// so that string order is time order. A fire's partition key carries the
// length of the group id so that no pair of ids can collide with another.
//
// # Due index
//
// A hook whose NextScheduledDate is set also carries dueShard (the constant
// "due" for now) and dueAt; the sparse global secondary index "due" (HASH
// dueShard, RANGE dueAt, KEYS_ONLY) therefore lists only scheduled hooks, in
// time order. ListDue queries it for dueAt < now and then reads the hooks
// themselves with consistent reads, dropping any whose index entry was stale
// (a GSI is eventually consistent). One constant shard puts every scheduled
// hook into one index partition; when that becomes a bottleneck, dueShard can
// become a small hash of the hook id and ListDue a merge of the shards.
//
// The index has other shards, for other records that come due, which
// ListDue never reads: "awaited-new" (fire records whose task outcome is
// awaited and was never checked, by creation time) and "awaited" (by next
// check), and "notify" (notifications with a delivery step due).
//
// # History cap
//
// A hook's fire records and decisions are counted in its count item,
// updated side by side with every write; a count past the write's
// KeepAtMost trims the oldest records to 99 % of it (history.go).
//
// # Group markers
//
// ListHookGroups must not read hook bodies, so each group with hooks has a
// marker item under pk GROUPS. Without transactions the marker is kept by a
// protocol that tolerates concurrency:
//
//   - CreateHook writes the hook first (conditional on absence), then puts the
//     marker unconditionally. A create refused with ErrConflict puts the
//     marker too, so retrying a create that failed half-way repairs it.
//   - DeleteHook deletes the hook, then queries the group for one key. If the
//     group is empty it deletes the marker, then queries again and puts the
//     marker back if a hook appeared meanwhile.
//
// A concurrent create writes its hook before its marker, so either the
// deleter's second query sees the new hook, or the create's marker put comes
// after the deleter's marker delete: a group with hooks always ends with a
// marker. The opposite leftover, a marker without hooks, happens only when a
// process dies between deleting a group's last hook and deleting its marker.
// ListHookGroups then lists that empty group (checking every listed group
// would cost one query per group); ListHooks returns no hooks for it, and the
// next create or delete in the group removes or confirms the marker.
//
// Settings records live in partitions of their own, so a group's hook
// partition (which decides whether its group marker stays) holds hooks only.
// PutSettings is one put conditional on the version read (on absence for a
// first put); the hooks service deletes a hook's record after the hook.
//
// # Large hooks and claims
//
// A hook may be up to store.MaxHookSize (1 MiB), a claim up to
// store.MaxClaimSize (10 MiB and a bit), an item at most 400 KB. A claim
// over 350 KiB is split as a hook is, below; its chunks carry its expiry
// for the TTL, and ReplaceClaim's condition compares the digest of a
// chunked body instead of the body. A definition over 350 KiB is split into chunk items in a partition of
// the hook's own (chunks.go): the hook item, the head, names the
// generation and count of its chunks. Writers put the new chunks first,
// then the head (conditional as always), then delete the chunks the head
// named before (the put returns the old head); a refused head write
// deletes the new chunks. Readers read the head, then its chunks with one
// consistent BatchGetItem, and read again when a chunk is gone (a writer
// replaced the generation in between). So a crash leaves at worst chunks
// no head names, never a head without its chunks; the hook's next write
// that replaces its chunks, and its delete, delete such leftovers once
// they are an hour old (chunks.go says why that is safe). The head keeps the
// digest of its definition: an update with the same definition (each
// scheduled fire's) reads the head, and when its digest matches, puts the
// head naming the same chunks, conditional on the version and on the head
// still naming them; no chunk is written or deleted. A head that is gone
// or at another version refuses the update before any chunk is written.
//
// # Claims and expiry
//
// DynamoDB deletes expired items lazily (often days late), so expiry is
// enforced by the store itself: a claim is live while now < expiry, and
// CreateClaim's condition is `attribute_not_exists(pk) OR expiry <= :now`.
// ReplaceClaim's is `body = :old AND (attribute_not_exists(expiry) OR
// expiry > :now)` (`digest = :old` for a chunked body): the claim read,
// still live.
// expiresAt holds the same instant in epoch seconds, rounded up, for the
// table's TTL, which only saves storage.
//
// # Pagination
//
// Continuation tokens are base64url-encoded JSON of the last returned key.
// Decoding checks the token's shape and that its partition key is the one
// being listed, so a token can neither be garbage nor steer a listing into
// another partition; either is store.ErrBadToken.
//
// # Errors
//
// mapErr is the one place where native errors become store errors:
// ConditionalCheckFailedException becomes store.ErrConflict. A missing table
// (ResourceNotFoundException) stays a backend failure, never ErrNotFound.
package dynamo
