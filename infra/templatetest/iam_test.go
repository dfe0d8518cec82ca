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

// derivedGrants are the statements a program's role needs that follow
// from its code.
func derivedGrants(t *testing.T, id string) []string {
	t.Helper()
	return dynamoGrants(t, reachability(t)[id].StoreMethods)
}
