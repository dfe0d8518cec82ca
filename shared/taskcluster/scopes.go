package taskcluster

import (
	"slices"

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
