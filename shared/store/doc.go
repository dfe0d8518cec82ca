// Package store declares the persistence port shared by Hookline's storage
// backends: the Store interface, its record types and its sentinel errors.
//
// Two backends implement it: store/embedded (bbolt, one local file, used by
// `hookline serve`) and store/dynamo (DynamoDB, used by the Lambda
// functions). Both pass the same conformance suite in store/storetest, so
// the rest of the code can treat them as interchangeable.
//
// The contract is conditional writes everywhere: a create never overwrites,
// an update names the version it read, and a claim is written at most once
// while it is live (and replaced only by a caller naming the body it read). None of it needs multi-item transactions, which the
// DynamoDB emulator used in tests does not provide.
package store
