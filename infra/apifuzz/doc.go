// Package apifuzz is a bounded fuzz of the HTTP API of `hookline serve`
// (`make fuzz-api`; `make test` runs it with a small request count).
//
// It starts the built binary as a child process, once per store (the
// embedded bbolt store and DynamoDB through the dynalite emulator), and
// sends it hostile requests from a deterministic generator: request i of
// seed s is always the same request (Generate), whatever came before, so a
// failure is reproduced from the seed and the indices alone. The
// categories: malformed JSON, nesting from 100 to 1,000,000 levels, bodies
// around every size limit, invalid UTF-8 in paths, headers and bodies, odd
// paths (%2F, .., 20,000-character ids, NUL), wrong methods and content
// types, bad Hawk headers, hostile settings and hook definitions, and valid
// requests (anonymous, with the trial's scopes, and Hawk-signed) that give
// the hostile ones something to break.
//
// Requests are written byte for byte on a TCP connection of their own
// (Go's HTTP client would refuse to send most of them). The run asserts:
//
//   - no answer is a 5xx (nor a dropped connection or a timeout);
//   - nothing is stored by a refused request: before a write, the hook it
//     aims at is read through the API (group and hook listings, the
//     definition, settings, trigger token, pauses, the first page of
//     decisions), and after a 4xx the same reads must answer the same
//     (a refused trigger may add its decision: that is its record);
//   - the server is alive at the end (ping).
//
// It reports the answers by status, the 5xx count and the child's peak RSS
// (VmHWM). Problems already filed and being fixed elsewhere are listed in
// Known, each naming its issue item and matching narrowly; they are counted
// and reported, not failed. On a failure, Minimize looks for a shorter
// sequence of requests (and a smaller size of the last one) that still
// fails, on fresh servers, within a time bound, and the report prints it
// with the command that replays it.
//
// The run is bounded by a request count and a duration.
package apifuzz
