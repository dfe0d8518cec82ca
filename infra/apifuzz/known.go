package apifuzz

import (
	"slices"
	"strings"
)

// KnownIssue is a failure already filed and being fixed elsewhere: the
// run counts and reports it instead of failing. Each names its issue
// item and matches narrowly; remove it when the fix lands.
type KnownIssue struct {
	// Item names the issue item, e.g. "16.1".
	Item string
	// Store is the store it happens on ("embedded", "dynamodb"), or ""
	// for both.
	Store string
	// Routes are the routes it happens on; none means any.
	Routes []string
	// Status is the answer's status; 0 matches a slow answer, a timeout
	// or a dropped connection of a body of many items failing the input
	// schema (Request.SchemaItems).
	Status int
	// Log are parts of one error line the server logged during the
	// request (5xx only), all of them.
	Log []string
	// RSS matches a peak RSS of serve over the issue's bound (maxRSS)
	// instead of an answer.
	RSS bool
}

// Known is the list the run starts from: empty, as every issue it held
// is fixed (issue 16 "Hardening": 16.1, a refused deep payload's
// decision, or a hook whose template nested 9,998 levels, read back with
// a 500; 16.2, hooks over DynamoDB's 400 KB item size answered 500; 16.3,
// schema refusals took quadratic time; 16.4, serve's peak RSS passed
// 200 MB). Add an entry, with its issue item, for a failure filed and
// being fixed elsewhere.
var Known = []KnownIssue{}

// knownLimits are the generator's bounds while known issues are open
// (with 16.3 open, 2,000 failing items: 40,000 took 40 s to refuse). None
// now.
var knownLimits = Limits{}

// maxRSS is the issue's bound on the peak RSS of serve under the fuzz.
const maxRSS = 200 << 20

// match returns the known issue that explains an outcome, or nil.
// errLines are the error lines the server logged during the request.
func match(known []KnownIssue, store string, req Request, route string, status int, errLines []string) *KnownIssue {
	for i, k := range known {
		if k.RSS || k.Store != "" && k.Store != store {
			continue
		}
		if len(k.Routes) > 0 && !slices.Contains(k.Routes, route) {
			continue
		}
		if k.Status != status {
			continue
		}
		if k.Status == 0 && req.SchemaItems == 0 {
			continue
		}
		if len(k.Log) > 0 && !slices.ContainsFunc(errLines, func(l string) bool { return containsAll(l, k.Log) }) {
			continue
		}
		return &known[i]
	}
	return nil
}

// knownRSS returns the known issue that explains a peak RSS over maxRSS
// on store, or nil.
func knownRSS(known []KnownIssue, store string) *KnownIssue {
	for i, k := range known {
		if k.RSS && (k.Store == "" || k.Store == store) {
			return &known[i]
		}
	}
	return nil
}

func containsAll(s string, parts []string) bool {
	for _, p := range parts {
		if !strings.Contains(s, p) {
			return false
		}
	}
	return true
}
