// Package embedded is the single-file store.Store backend used by
// `hookline serve`, built on bbolt.
//
// Layout: bucket "hooks" holds one nested bucket per hook group, keyed by
// hookId, so listing groups reads only the nested bucket names and never a
// hook body; a group's bucket is removed with its last hook. Bucket "claims"
// holds claims by key. Bucket "due" indexes scheduled hooks by next fire
// time (key: time, group, hookId), updated in the same transaction as the
// hook, so finding due hooks reads only the due ones. Bucket "fires" holds
// fire records keyed by hook, then newest first. Bucket "settings" holds
// each hook's settings record, keyed by hook. Decision logs
// share bucket "fires" (decisions.go).
//
// One file per record kind: hooks.go (bucket "hooks"), due.go (the due
// index), claims.go, fires.go, decisions.go and settings.go; embedded.go
// opens the file and holds the transaction helpers, token.go the
// continuation tokens.
//
// Every write goes through a group committer (shared/boltcommit): writes
// that arrive while a commit runs share the next transaction and fsync, so
// each write is durable when its call returns, a lone write commits at once,
// and many clients share the cost of a sync.
package embedded
