// Package archtest holds the test that enforces the import rule of
// docs/architecture.md ("What may import what"): it reads the module's
// package graph from `go list -json ./...` and fails on every forbidden
// arrow, naming the rule it breaks. A new package must be given its layer
// here and in the document, or the test fails.
package archtest
