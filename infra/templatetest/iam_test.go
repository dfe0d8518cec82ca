package templatetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hookline/hookline/shared/store/dynamo"
)

// The DynamoDB statements each program's role must hold, derived from the
// code: the store methods the program can reach (reach_test.go) and what
// each of them sends (dynamo.MethodAccess, itself checked against the
// store's source and the emulator). The template must grant exactly these:
// a new store call in a function's path fails here until the template
// grants it, and a grant the code no longer needs fails until it is
// removed.
//
// One statement holds the table's actions, limited with
// dynamodb:LeadingKeys to the partitions the methods touch (hooks of any
// group are HOOK#*, the group markers the single GROUPS partition, ...);
// queries of a secondary index get a statement of their own on the index,
// since the condition would name the table's partition key.
func dynamoGrants(t *testing.T, methods []string) []string {
	t.Helper()
	var actions, keys, indexes []string
	for _, m := range methods {
		a, ok := dynamo.MethodAccess(m)
		if !ok {
			t.Fatalf("dynamo.MethodAccess knows no method %s", m)
		}
		actions = append(actions, a.Actions...)
		for _, p := range a.Partitions {
			if strings.HasSuffix(p, "#") {
				p += "*"
			}
			keys = append(keys, p)
		}
		indexes = append(indexes, a.IndexQueries...)
	}
	if len(actions) == 0 {
		return nil
	}
	slices.Sort(actions)
	slices.Sort(keys)
	slices.Sort(indexes)
	quoted, err := json.Marshal(slices.Compact(keys))
	if err != nil {
		t.Fatal(err)
	}
	out := []string{fmt.Sprintf("Allow %s on HooksTable.Arn when ForAllValues:StringLike dynamodb:LeadingKeys=%s", strings.Join(slices.Compact(actions), ","), quoted)}
	for _, index := range slices.Compact(indexes) {
		out = append(out, "Allow dynamodb:Query on Sub(${HooksTable.Arn}/index/"+index+")")
	}
	return out
}

// queueMethods are the Taskcluster clients' calls (the queue's, and the
// notify service's for notification targets): a program that can make one
// needs Hookline's Taskcluster credentials.
var queueMethods = []string{
	"(*github.com/hookline/hookline/shared/taskcluster.Queue).CreateTask",
	"(*github.com/hookline/hookline/shared/taskcluster.Queue).Status",
	"(*github.com/hookline/hookline/shared/taskcluster/tcnotify.Notify).Email",
	"(*github.com/hookline/hookline/shared/taskcluster/tcnotify.Notify).Matrix",
	"(*github.com/hookline/hookline/shared/taskcluster/tcnotify.Notify).Slack",
}

// callsQueue reports whether a program's code can call the Taskcluster
// queue.
func callsQueue(t *testing.T, id string) bool {
	t.Helper()
	calls := reachability(t)[id].Calls
	return slices.ContainsFunc(queueMethods, func(m string) bool { return calls[m] })
}

// derivedEnv are the variables a program needs that follow from its code:
// the secret holding the Taskcluster credentials, for the functions that
// create tasks or read their status, and no other.
func derivedEnv(t *testing.T, id string) []string {
	t.Helper()
	if callsQueue(t, id) {
		return []string{"TASKCLUSTER_CREDENTIALS_SECRET"}
	}
	return nil
}

// derivedGrants are the statements a program's role needs that follow
// from its code: its DynamoDB statements, and reading the Taskcluster
// credentials' secret where it calls the queue.
func derivedGrants(t *testing.T, id string) []string {
	t.Helper()
	out := dynamoGrants(t, reachability(t)[id].StoreMethods)
	if callsQueue(t, id) {
		out = append(out, "Allow secretsmanager:GetSecretValue on TaskclusterCredentialsSecretArn")
	}
	return out
}
