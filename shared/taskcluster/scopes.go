package taskcluster

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/hookline/hookline/shared/auth"
)

// Priorities lists task priorities from highest to lowest, as the queue
// orders them.
var Priorities = []string{"highest", "very-high", "high", "medium", "low", "very-low", "lowest"}

// TaskScopeFields are the parts of a (defaulted) task definition that
// decide which scopes createTask requires.
type TaskScopeFields struct {
	Scopes        []string
	Routes        []string
	ProjectID     string
	SchedulerID   string
	Priority      string
	ProvisionerID string
	WorkerType    string
}

// CreateTaskScopes is the scope expression the queue's createTask requires
// for a task: each of its scopes, queue:route:<route> for each route, its
// project and scheduler, and queue:create-task:<priority>:<queue> at its
// priority or any higher one.
func CreateTaskScopes(t TaskScopeFields) auth.Expr {
	all := make([]auth.Expr, 0, len(t.Scopes)+len(t.Routes)+3)
	for _, s := range t.Scopes {
		all = append(all, auth.Scope(s))
	}
	for _, r := range t.Routes {
		all = append(all, auth.Scope("queue:route:"+r))
	}
	all = append(all,
		auth.Scope("queue:create-task:project:"+t.ProjectID),
		auth.Scope("queue:scheduler-id:"+t.SchedulerID))
	i := slices.Index(Priorities, t.Priority)
	if i < 0 {
		i = len(Priorities) - 1 // the schema only lets known priorities through
	}
	anyOf := make([]auth.Expr, 0, i+1)
	for _, p := range Priorities[:i+1] {
		anyOf = append(anyOf, auth.Scope("queue:create-task:"+p+":"+t.ProvisionerID+"/"+t.WorkerType))
	}
	return auth.AllOf(append(all, auth.AnyOf(anyOf...))...)
}

// TaskScopeFieldsOf reads the fields of a task definition (with the
// queue's defaults applied) that decide which scopes createTask requires.
// A taskQueueId stands for provisionerId/workerType when they are absent,
// and a missing projectId is "none", as the queue has it.
func TaskScopeFieldsOf(task map[string]any) TaskScopeFields {
	str := func(k string) string { v, _ := task[k].(string); return v }
	strs := func(k string) []string {
		var out []string
		items, _ := task[k].([]any)
		for _, it := range items {
			if v, ok := it.(string); ok {
				out = append(out, v)
			}
		}
		return out
	}
	f := TaskScopeFields{
		Scopes: strs("scopes"), Routes: strs("routes"), ProjectID: str("projectId"), SchedulerID: str("schedulerId"),
		Priority: str("priority"), ProvisionerID: str("provisionerId"), WorkerType: str("workerType"),
	}
	if f.ProvisionerID == "" || f.WorkerType == "" {
		f.ProvisionerID, f.WorkerType, _ = strings.Cut(str("taskQueueId"), "/")
	}
	if f.ProjectID == "" {
		f.ProjectID = "none"
	}
	return f
}

// ScopeRules is createTask's scope rule in the form the hooks domain's
// pre-check asks for it (hooks.ScopeRules), with scope expressions as
// Taskcluster's JSON.
type ScopeRules struct{}

// CreateTaskScopes returns the scope expression createTask requires for
// task, and the part of it held does not satisfy (nil when held satisfies
// it).
func (ScopeRules) CreateTaskScopes(task map[string]any, held []string) (required, missing json.RawMessage) {
	expr := CreateTaskScopes(TaskScopeFieldsOf(task))
	required = exprJSON(expr)
	if !expr.SatisfiedBy(held) {
		missing = exprJSON(expr.Missing(held))
	}
	return required, missing
}

// exprJSON encodes an expression; a valid expression always encodes.
func exprJSON(e auth.Expr) json.RawMessage {
	b, err := e.MarshalJSON()
	if err != nil {
		return json.RawMessage("null")
	}
	return b
}
