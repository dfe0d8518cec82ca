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

// Known is the list the run starts from (issue 16 "Hardening"). Fixed
// and removed: 16.1 (a refused deep payload's decision, or a hook whose
// template nested 9,998 levels, read back with a 500) and 16.2 (hooks
// over DynamoDB's 400 KB item size answered 500).
var Known = []KnownIssue{
	// 16.3: schema errors are formatted in quadratic time, so a body of
	// tens of thousands of failing items takes seconds to be refused.
	{Item: "16.3", Status: 0},
	// 16.4: serve's peak RSS goes past 200 MB under hostile bodies.
	{Item: "16.4", RSS: true},
}

// knownLimits are the generator's bounds while the known issues above are
// open: with 16.3, 40,000 failing items take 40 s to refuse, so a run
// sends at most 2,000 (about half a second), enough to show the cost
// without using the run's time up.
var knownLimits = Limits{MaxSchemaItems: 2000}

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
