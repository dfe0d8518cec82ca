package hooks

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/auth"
)

// roleMap expands assume:<role> to the role's scopes, one level deep.
type roleMap map[string][]string

func (m roleMap) ExpandScopes(_ context.Context, scopes []string) ([]string, error) {
	out := slices.Clone(scopes)
	for _, s := range scopes {
		out = append(out, m[strings.TrimPrefix(s, "assume:")]...)
	}
	return out, nil
}

const checkedTask = `{
  "$if": "firedBy == 'schedule' || payload.go",
  "then": {
    "provisionerId": "proj", "workerType": "builder", "priority": "high",
    "routes": ["index.project.build"],
    "scopes": ["secrets:get:project/token"],
    "payload": {"firedBy": "${firedBy}"},
    "metadata": {"name": "n", "description": "d", "owner": "o@example.com", "source": "https://example.com/"}
  }
}`

func TestCheckHook(t *testing.T) {
	ctx := context.Background()
	enough := roleMap{"hook-id:g/h": {"queue:create-task:high:proj/builder", "queue:route:index.project.*", "queue:create-task:project:none", "queue:scheduler-id:-", "secrets:get:project/*"}}
	short := roleMap{"hook-id:g/h": {"queue:create-task:lowest:proj/builder", "queue:scheduler-id:-", "queue:create-task:project:none"}}
	for _, tt := range []struct {
		name     string
		task     string
		in       CheckInput
		roles    ScopeExpander
		settings func(e *schedEnv)
		codes    []string
		check    func(t *testing.T, r CheckReport)
	}{
		{name: "fires", in: CheckInput{Payload: map[string]any{"go": true}}, roles: enough, codes: nil,
			check: func(t *testing.T, r CheckReport) {
				var task map[string]any
				if err := json.Unmarshal(r.Task, &task); err != nil || task["taskGroupId"] == nil || task["deadline"] == nil {
					t.Fatalf("task %s: upstream's defaults missing", r.Task)
				}
				if r.RequiredScopes == nil || !strings.Contains(string(r.RequiredScopes), "queue:route:index.project.build") || r.MissingScopes != nil {
					t.Fatalf("scopes %v / %v", r.RequiredScopes, r.MissingScopes)
				}
			}},
		{name: "roles unknown", in: CheckInput{Payload: map[string]any{"go": true}}, codes: []string{WarnRolesUnknown}},
		{name: "missing scopes", in: CheckInput{Payload: map[string]any{"go": true}}, roles: short, codes: []string{WarnMissingScopes},
			check: func(t *testing.T, r CheckReport) {
				missing := string(r.MissingScopes)
				for _, want := range []string{"secrets:get:project/token", "queue:route:index.project.build", "queue:create-task:high:proj/builder"} {
					if !strings.Contains(missing, want) {
						t.Errorf("missing %s does not name %s", missing, want)
					}
				}
				if strings.Contains(missing, "scheduler-id") {
					t.Errorf("missing %s names a held scope", missing)
				}
			}},
		{name: "payload schema", in: CheckInput{Payload: []any{}}, roles: enough, codes: []string{WarnPayloadSchema, WarnRenderError}},
		{name: "declined", in: CheckInput{Payload: map[string]any{"go": false}}, roles: enough, codes: []string{WarnDeclined}},
		{name: "schedule", in: CheckInput{FiredBy: FiredBySchedule}, roles: enough, codes: nil,
			check: func(t *testing.T, r CheckReport) {
				if !strings.Contains(string(r.Task), `"firedBy":"schedule"`) {
					t.Fatalf("task %s", r.Task)
				}
			}},
		{name: "task schema", task: `{"provisionerId":"p","workerType":"w","payload":{}}`, in: CheckInput{Payload: map[string]any{}}, roles: enough, codes: []string{WarnTaskSchema}},
		{name: "render error", task: `{"x":{"$eval":"payload.n + 1"}}`, in: CheckInput{Payload: map[string]any{"n": "s"}}, codes: []string{WarnRenderError}},
		{name: "paused and filtered", in: CheckInput{Payload: map[string]any{"go": true}}, roles: enough,
			settings: func(e *schedEnv) {
				if _, err := e.svc.Operations.PutSettings(ctx, "g", "h", Settings{Filters: []string{`payload.branch == "main"`}, Paused: &PauseState{Reason: "INC-1"}}); err != nil {
					t.Fatal(err)
				}
			},
			codes: []string{WarnPaused, WarnFiltered},
			check: func(t *testing.T, r CheckReport) {
				if !strings.Contains(r.Warnings[0].Message, "INC-1") || !strings.Contains(r.Warnings[1].Message, `payload.branch == "main"`) {
					t.Fatalf("warnings %+v", r.Warnings)
				}
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newOperateEnv(t, func(o *Options) { o.Roles = tt.roles })
			in := input("h", "0 0 * * * *")
			in.TriggerSchema = json.RawMessage(`{"type":"object"}`)
			in.Task = json.RawMessage(checkedTask)
			if tt.task != "" {
				in.Task = json.RawMessage(tt.task)
			}
			if _, err := e.svc.Definitions.CreateHook(ctx, "g", "h", in); err != nil {
				t.Fatal(err)
			}
			if tt.settings != nil {
				tt.settings(e)
			}
			rep, err := e.svc.Operations.CheckHook(ctx, "g", "h", tt.in)
			if err != nil {
				t.Fatal(err)
			}
			var codes []string
			for _, w := range rep.Warnings {
				codes = append(codes, w.Code)
			}
			if !slices.Equal(codes, tt.codes) {
				t.Fatalf("warnings %+v, want codes %v", rep.Warnings, tt.codes)
			}
			if len(rep.NextScheduledDates) != 5 || !rep.NextScheduledDates[0].Equal(ten) || !rep.NextScheduledDates[4].Equal(ten.Add(4*time.Hour)) {
				t.Fatalf("next dates %v", rep.NextScheduledDates)
			}
			if tt.check != nil {
				tt.check(t, rep)
			}
			// A pre-check creates and records nothing.
			if e.queue.taskCount() != 0 || len(e.decisions(t, "g", "h")) != 0 {
				t.Fatal("the pre-check fired the hook")
			}
		})
	}
}

func TestCheckHookErrors(t *testing.T) {
	ctx := context.Background()
	e := newOperateEnv(t)
	e.operableHook(t, "g", "h")
	if _, err := e.svc.Operations.CheckHook(ctx, "g", "nope", CheckInput{}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing hook: %v", err)
	}
	if _, err := e.svc.Operations.CheckHook(ctx, "g", "h", CheckInput{FiredBy: "cron"}); !errors.Is(err, ErrInvalid) {
		t.Fatalf("unknown firedBy: %v", err)
	}
}

var _ ScopeExpander = (*auth.Static)(nil)
