//go:build integration

package dynamo_test

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/google/go-cmp/cmp"

	"github.com/hookline/hookline/shared/store"
	"github.com/hookline/hookline/shared/store/dynamo"
	"github.com/hookline/hookline/shared/store/dynamo/dynamotest"
	"github.com/hookline/hookline/shared/store/storetest"
)

// accessRecorder records, for each store method, what its requests to the
// emulator did: the API action, the partitions of the keys and items they
// name, and the indexes they query.
type accessRecorder struct {
	mu   sync.Mutex
	seen map[string]map[string]bool // method -> "action:..." / "partition:..." / "index:..." / "problem:..."
	// before, when set, runs before each request is sent: a test stages
	// a race with it.
	before func(ctx context.Context, params any)
}

func (r *accessRecorder) add(method string, entries ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen[method] == nil {
		r.seen[method] = map[string]bool{}
	}
	for _, e := range entries {
		r.seen[method][e] = true
	}
}

// see records an operation's input before it is sent (dynamotest.Observed).
func (r *accessRecorder) see(ctx context.Context, params any) {
	entries := keysOf(params)
	if q, ok := params.(*dynamodb.QueryInput); !ok || q.IndexName == nil {
		// An index query is recorded as index:<name> alone.
		entries = append(entries, "action:dynamodb:"+awsmiddleware.GetOperationName(ctx))
	}
	r.add(storeMethod(), entries...)
	r.mu.Lock()
	before := r.before
	r.mu.Unlock()
	if before != nil {
		before(ctx, params)
	}
}

// storeMethod names the outermost method of dynamo.Store on the stack: the
// store.Store method the test called (the SDK runs middleware on the
// caller's goroutine). A request sent from a goroutine the store started
// (history.go writes a record and its count side by side) is the method's
// that its parent goroutine is running.
func storeMethod() string {
	pcs := make([]uintptr, 128)
	frames := runtime.CallersFrames(pcs[:runtime.Callers(2, pcs)])
	const prefix = "github.com/hookline/hookline/shared/store/dynamo.(*Store)."
	method := "(no store method)"
	for {
		f, more := frames.Next()
		if name, ok := strings.CutPrefix(f.Function, prefix); ok && name != "" && name[0] >= 'A' && name[0] <= 'Z' {
			method, _, _ = strings.Cut(name, ".") // a closure's: Method.func1
		}
		if !more {
			break
		}
	}
	if method != "(no store method)" {
		return method
	}
	// "created by <function> in goroutine <parent>", then the parent's
	// stack among all goroutines'.
	own := stackOf(false)
	_, after, ok := strings.Cut(own, "\ncreated by ")
	if !ok {
		return method
	}
	_, parent, ok := strings.Cut(strings.SplitN(after, "\n", 2)[0], " in goroutine ")
	if !ok {
		return method
	}
	for _, g := range strings.Split(stackOf(true), "\n\n") {
		if !strings.HasPrefix(g, "goroutine "+parent+" [") {
			continue
		}
		for _, line := range strings.Split(g, "\n") {
			if name, ok := strings.CutPrefix(line, prefix); ok && name != "" && name[0] >= 'A' && name[0] <= 'Z' {
				method, _, _ = strings.Cut(name, "(")
			}
		}
	}
	return method
}

// stackOf is runtime.Stack's text, whole.
func stackOf(all bool) string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, all)
		if n < len(buf) {
			return string(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// keysOf describes the partitions and indexes an operation's input names.
func keysOf(params any) []string {
	var out []string
	pk := func(item map[string]types.AttributeValue) {
		v, ok := item["pk"].(*types.AttributeValueMemberS)
		if !ok {
			out = append(out, "problem:an item or key without a string pk")
			return
		}
		p := v.Value
		if i := strings.IndexByte(p, '#'); i >= 0 {
			p = p[:i+1]
		}
		out = append(out, "partition:"+p)
	}
	switch in := params.(type) {
	case *dynamodb.GetItemInput:
		pk(in.Key)
	case *dynamodb.PutItemInput:
		pk(in.Item)
	case *dynamodb.DeleteItemInput:
		pk(in.Key)
	case *dynamodb.UpdateItemInput:
		pk(in.Key)
	case *dynamodb.QueryInput:
		if in.IndexName != nil {
			out = append(out, "index:"+aws.ToString(in.IndexName))
			break
		}
		// A query of a hook's leftover chunks bounds the sort key too.
		if c := aws.ToString(in.KeyConditionExpression); c != "#pk = :pk" && c != "#pk = :pk AND #sk < :cutoff" {
			out = append(out, "problem:a query whose key condition is "+aws.ToString(in.KeyConditionExpression))
			break
		}
		pk(map[string]types.AttributeValue{"pk": in.ExpressionAttributeValues[":pk"]})
	case *dynamodb.BatchGetItemInput:
		for _, ka := range in.RequestItems {
			for _, k := range ka.Keys {
				pk(k)
			}
		}
	case *dynamodb.BatchWriteItemInput:
		for _, reqs := range in.RequestItems {
			for _, w := range reqs {
				switch {
				case w.PutRequest != nil:
					pk(w.PutRequest.Item)
				case w.DeleteRequest != nil:
					pk(w.DeleteRequest.Key)
				}
			}
		}
	default:
		out = append(out, fmt.Sprintf("problem:an input of type %T", params))
	}
	return out
}

// Every request each store method sends while the conformance suite runs
// is one the access table declares for it (action, partition, index), and
// the suite exercises everything the table declares: the IAM statements
// infra/templatetest derives from the table are then exactly what the code
// sends.
func TestMethodAccess_Recorded(t *testing.T) {
	rec := &accessRecorder{seen: map[string]map[string]bool{}}
	client := dynamotest.Observed(t, rec.see)
	// Tables are made with the plain client, so only the store's requests
	// are recorded.
	plain := dynamotest.Start(t)
	t.Run("conformance", func(t *testing.T) {
		storetest.Run(t, func(tb testing.TB) store.Store { return dynamo.New(client, dynamotest.NewTable(tb, plain)) })
	})
	// A path no conformance case can time: a hook created in the group
	// while DeleteHook drops the group's marker. The marker must come back.
	t.Run("DeleteHookRacingCreate", func(t *testing.T) {
		ctx := t.Context()
		table := dynamotest.NewTable(t, plain)
		st := dynamo.New(client, table)
		if _, err := st.CreateHook(ctx, store.Hook{HookGroupID: "g", HookID: "a", Definition: []byte(`{}`), TriggerToken: "t"}); err != nil {
			t.Fatal(err)
		}
		racer := dynamo.New(plain, table)
		var once sync.Once
		rec.mu.Lock()
		rec.before = func(ctx context.Context, params any) {
			if in, ok := params.(*dynamodb.DeleteItemInput); ok && slices.Contains(keysOf(in), "partition:"+dynamo.PartitionGroups) {
				once.Do(func() {
					if _, err := racer.CreateHook(ctx, store.Hook{HookGroupID: "g", HookID: "b", Definition: []byte(`{}`), TriggerToken: "t"}); err != nil {
						t.Error(err)
					}
				})
			}
		}
		rec.mu.Unlock()
		defer func() { rec.mu.Lock(); rec.before = nil; rec.mu.Unlock() }()
		if err := st.DeleteHook(ctx, "g", "a", 0); err != nil {
			t.Fatal(err)
		}
		if groups := listGroups(t, st); !slices.Equal(groups, []string{"g"}) {
			t.Fatalf("groups after the race: %q, want [g]", groups)
		}
	})
	if t.Failed() {
		return
	}
	if rest, ok := rec.seen["(no store method)"]; ok {
		t.Errorf("requests outside a store method: %v", slices.Sorted(maps.Keys(rest)))
	}
	for _, m := range dynamo.AccessMethods() {
		a, _ := dynamo.MethodAccess(m)
		var want []string
		for _, x := range a.Actions {
			want = append(want, "action:"+x)
		}
		for _, p := range a.Partitions {
			want = append(want, "partition:"+p)
		}
		for _, i := range a.IndexQueries {
			want = append(want, "index:"+i)
		}
		slices.Sort(want)
		got := slices.Sorted(maps.Keys(rec.seen[m]))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: declared access (-) differs from what it sent to the emulator (+); a declared entry never sent needs a conformance case:\n%s", m, diff)
		}
	}
}
