// Package dynamotest runs the dynalite DynamoDB emulator for tests and
// hands out clients and fresh tables backed by it.
//
// The emulator is the exact npm version pinned in infra/local. The first
// Start in a test binary installs it with `npm ci` when infra/local has no
// node_modules yet (serialized across concurrently running test binaries by
// a file lock), starts one emulator process on a free loopback port, and
// every later call in the same binary shares it. Tests get isolation from
// NewTable, which creates a fresh table per call and deletes it on cleanup.
//
// One emulator per test binary needs state shared across tests, so this
// package keeps a mutex-guarded package-level handle to the process. That is
// acceptable in a test helper only; production packages hold no such state.
//
// The process never outlives its test binary: a test binary's TestMain
// calls Main, which stops the emulator after the tests, and even without
// it the emulator exits as soon as its stdin (a pipe from the test binary)
// closes, which the operating system does when the binary exits or dies.
//
// When node or the emulator cannot be started, Start skips the test with the
// reason, except under CI=true, where it fails the test instead: in CI a
// missing emulator is a broken build, not a reason to test less.
//
// Tests using this package carry the `integration` build tag.
package dynamotest
