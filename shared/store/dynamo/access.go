package dynamo

import (
	"maps"
	"slices"
)

// What each store method does to the table, so that a deployment can grant
// a function exactly what its code can ask for: infra/templatetest derives
// every function's IAM statements from this table and the store methods
// the function's code can reach. Two tests keep the table true: one reads
// this package's source and follows each method's calls to the DynamoDB
// client (access_test.go), the other records every request each method
// sends to the emulator while the conformance suite runs (dynamo_test.go).

// The partitions of the table, by the prefix of their partition key (doc.go
// has the key design). GROUPS is a single partition.
const (
	PartitionHooks     = hookPrefix
	PartitionGroups    = groupsPK
	PartitionClaims    = "CLAIM#"
	PartitionFires     = "FIRE#"
	PartitionDecisions = "DECISION#"
	PartitionSettings  = settingsPrefix
	// The history counts of each hook (history.go).
	PartitionCounts = "COUNT#"
	// The notifications of each hook (notifications.go).
	PartitionNotifications = "NOTIFY#"
	// The chunks of the hooks and claims too large for one item
	// (chunks.go).
	PartitionChunks = "CHUNK#"
)

// Access is what one store method may do to the table.
type Access struct {
	// Actions are the DynamoDB API actions it sends on the table's
	// primary key, as IAM names them ("dynamodb:GetItem").
	Actions []string
	// Partitions are the partitions (Partition constants) whose items it
	// reads or writes through the table's primary key.
	Partitions []string
	// IndexQueries names the secondary indexes it queries
	// ("dynamodb:Query" on the index).
	IndexQueries []string
}

const (
	getItem        = "dynamodb:GetItem"
	putItem        = "dynamodb:PutItem"
	deleteItem     = "dynamodb:DeleteItem"
	query          = "dynamodb:Query"
	batchGetItem   = "dynamodb:BatchGetItem"
	batchWriteItem = "dynamodb:BatchWriteItem"
	updateItem     = "dynamodb:UpdateItem"
)

// methodAccess is the table, by store.Store method name.
var methodAccess = map[string]Access{
	// The chunks of a large hook (batch writes), the hook, then its
	// group's marker; a refused create repairs the marker and deletes
	// its chunks. A large hook's create deletes the leftover chunks of
	// writers that crashed (a query of the old ones).
	"CreateHook": {Actions: []string{putItem, batchWriteItem, query}, Partitions: []string{PartitionHooks, PartitionGroups, PartitionChunks}},
	// The hook, then a large hook's chunks.
	"GetHook": {Actions: []string{getItem, batchGetItem}, Partitions: []string{PartitionHooks, PartitionChunks}},
	// A large hook's head (is the definition the one its chunks hold?),
	// the new chunks unless it is, the hook, then the chunks it replaced;
	// a refused write reads the hook back to tell a conflict from a
	// missing hook and deletes the new chunks; one that replaced chunks
	// deletes leftovers as CreateHook does.
	"UpdateHook": {Actions: []string{putItem, getItem, batchWriteItem, query}, Partitions: []string{PartitionHooks, PartitionChunks}},
	// The hook, its chunks and their leftovers, then the marker if the
	// group became empty (put back if a create raced it).
	"DeleteHook":     {Actions: []string{deleteItem, getItem, query, putItem, batchWriteItem}, Partitions: []string{PartitionHooks, PartitionGroups, PartitionChunks}},
	"ListHookGroups": {Actions: []string{query}, Partitions: []string{PartitionGroups}},
	// The hooks, then the chunks of large ones (or a large hook again,
	// when a writer replaced its chunks meanwhile).
	"ListHooks": {Actions: []string{query, batchGetItem}, Partitions: []string{PartitionHooks, PartitionChunks}},

	// A large claim's chunks (batch writes) come first, the claim after;
	// the chunks of the claim replaced or deleted go after it, and a
	// refused write deletes its own.
	"CreateClaim": {Actions: []string{putItem, batchWriteItem}, Partitions: []string{PartitionClaims, PartitionChunks}},
	"GetClaim":    {Actions: []string{getItem, batchGetItem}, Partitions: []string{PartitionClaims, PartitionChunks}},
	"DeleteClaim": {Actions: []string{deleteItem, batchWriteItem}, Partitions: []string{PartitionClaims, PartitionChunks}},
	// A put conditional on the body read (its digest, when chunked).
	"ReplaceClaim": {Actions: []string{putItem, batchWriteItem}, Partitions: []string{PartitionClaims, PartitionChunks}},

	// The due index, then the hooks it names, re-read consistently.
	"ListDue": {Actions: []string{batchGetItem}, Partitions: []string{PartitionHooks, PartitionChunks}, IndexQueries: []string{DueIndex}},

	// A counted write (history.go): the record and its count side by
	// side, the count's correction when the put replaced a record, and
	// past the cap the oldest records' keys (one query; a recount's COUNT
	// queries first when the count is a day old) and their deletions.
	"PutLastFire":   {Actions: []string{putItem, updateItem, query, deleteItem}, Partitions: []string{PartitionFires, PartitionCounts}},
	"GetLastFire":   {Actions: []string{getItem}, Partitions: []string{PartitionFires}},
	"ListLastFires": {Actions: []string{query}, Partitions: []string{PartitionFires}},
	// Conditional puts of the record and its decision, never creating.
	"UpdateFire": {Actions: []string{putItem}, Partitions: []string{PartitionFires, PartitionDecisions}},
	// The due index's awaited shards, keys only.
	"ListAwaitedFires": {IndexQueries: []string{DueIndex}},
	// The partition, then the count of what it held.
	"DeleteLastFires": {Actions: []string{query, batchWriteItem, updateItem}, Partitions: []string{PartitionFires, PartitionCounts}},

	"GetSettings":    {Actions: []string{getItem}, Partitions: []string{PartitionSettings}},
	"PutSettings":    {Actions: []string{putItem}, Partitions: []string{PartitionSettings}},
	"DeleteSettings": {Actions: []string{deleteItem}, Partitions: []string{PartitionSettings}},

	// A decision, and its fire record when it has one, counted as
	// PutLastFire.
	"PutDecision":     {Actions: []string{putItem, updateItem, query, deleteItem}, Partitions: []string{PartitionDecisions, PartitionFires, PartitionCounts}},
	"GetDecision":     {Actions: []string{getItem}, Partitions: []string{PartitionDecisions}},
	"ListDecisions":   {Actions: []string{query}, Partitions: []string{PartitionDecisions}},
	"DeleteDecisions": {Actions: []string{query, batchWriteItem, updateItem}, Partitions: []string{PartitionDecisions, PartitionCounts}},

	"CreateNotification": {Actions: []string{putItem}, Partitions: []string{PartitionNotifications}},
	"GetNotification":    {Actions: []string{getItem}, Partitions: []string{PartitionNotifications}},
	// A conditional put; a refused one reads the item back.
	"UpdateNotification": {Actions: []string{putItem, getItem}, Partitions: []string{PartitionNotifications}},
	// The due index's notify shard, then consistent reads of what it
	// names.
	"ListDueNotifications": {Actions: []string{getItem}, Partitions: []string{PartitionNotifications}, IndexQueries: []string{DueIndex}},
	"ListNotifications":    {Actions: []string{query}, Partitions: []string{PartitionNotifications}},
	"DeleteNotifications":  {Actions: []string{query, batchWriteItem}, Partitions: []string{PartitionNotifications}},

	"Close": {},
}

// MethodAccess returns what the store method named method (a method of
// store.Store) may do to the table; ok is false for a name it does not
// know. The slices are the caller's.
func MethodAccess(method string) (a Access, ok bool) {
	a, ok = methodAccess[method]
	return Access{Actions: slices.Clone(a.Actions), Partitions: slices.Clone(a.Partitions), IndexQueries: slices.Clone(a.IndexQueries)}, ok
}

// AccessMethods lists the store methods MethodAccess knows, sorted.
func AccessMethods() []string { return slices.Sorted(maps.Keys(methodAccess)) }
