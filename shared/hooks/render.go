package hooks

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/jsone"
	"github.com/hookline/hookline/shared/slugid"
)

// renderer turns a hook and a fire into a task: it checks the payload
// against the hook's triggerSchema, evaluates the hook's filters and
// renders its JSON-e template. Compiled schemas, templates and filters are
// cached by content, so one compile serves every fire of a hook. Fires and
// pre-checks share one renderer.
type renderer struct {
	schemaCache   compiledCache[*schemas.UserSchema]
	templateCache compiledCache[*jsone.Template]
	filterCache   compiledCache[*jsone.Expression]
}

// fireContext is the JSON-e context of a fire, upstream's variables plus
// the request's extras. Filters and the template both see it.
func fireContext(req FireRequest, taskID string, created time.Time) map[string]any {
	context := map[string]any{"firedBy": req.FiredBy, "taskId": taskID, "now": isoTime(created)}
	if req.FiredBy != FiredBySchedule {
		context["payload"] = req.Payload
	}
	if req.FiredBy == FiredByTriggerHook {
		context["clientId"] = req.ClientID
	}
	for k, v := range req.Extra {
		if _, standard := context[k]; !standard && k != "clientId" && k != "payload" {
			context[k] = v
		}
	}
	return context
}

func isoTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

// render builds the task definition: JSON-e over the hook's template with
// the fire's context, then upstream's defaults. declined is true when the
// template rendered to null or false. A scheduled fire passes sendAt, the
// time it sends the task: when that is more than createdSlack after the
// task's created, created becomes sendAt and deadline and expires move as
// much (see createdSlack).
func (r *renderer) render(def Definition, context map[string]any, taskID string, created, sendAt time.Time) (task json.RawMessage, declined bool, err error) {
	compiled, err := r.template(def)
	if err != nil {
		return nil, false, err
	}
	nowISO := isoTime(created)
	out, err := compiled.Render(context, jsone.Options{Now: func() time.Time { return created }})
	if err != nil {
		return nil, false, err
	}
	if out == nil || out == false {
		return nil, true, nil
	}
	obj, ok := out.(map[string]any)
	if !ok {
		return nil, false, fmt.Errorf("the task template rendered to %T, not an object", out)
	}
	setDefault(obj, "created", nowISO)
	setDefault(obj, "deadline", created.Add(24*time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"))
	setDefault(obj, "expires", created.Add(30*24*time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"))
	setDefault(obj, "taskGroupId", taskID)
	if !sendAt.IsZero() {
		moveCreated(obj, sendAt)
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return nil, false, fmt.Errorf("hooks: encode rendered task: %w", err)
	}
	return data, false, nil
}

// taskTimeLayout is how the queue writes task times.
const taskTimeLayout = "2006-01-02T15:04:05.000Z"

// moveCreated moves a task's created to sendAt, and its deadline and
// expires as much, when created is more than createdSlack before sendAt.
// Times that are not RFC 3339 strings are left to the queue to refuse.
func moveCreated(task map[string]any, sendAt time.Time) {
	created, ok := taskTime(task["created"])
	if !ok || sendAt.Sub(created) <= createdSlack {
		return
	}
	shiftTaskTimes(task, sendAt.Truncate(time.Millisecond).Sub(created))
}

// shiftTaskTimes moves a task's created, deadline and expires by shift.
func shiftTaskTimes(task map[string]any, shift time.Duration) {
	for _, key := range []string{"created", "deadline", "expires"} {
		if t, ok := taskTime(task[key]); ok {
			task[key] = t.Add(shift).UTC().Format(taskTimeLayout)
		}
	}
}

// refreshedTask is a claimed task created at now instead, with its
// deadline and expires moved as much and everything else as it was
// (numbers keep their digits). ok is false for a task without an RFC 3339
// created.
func refreshedTask(task json.RawMessage, now time.Time) (json.RawMessage, bool) {
	dec := json.NewDecoder(bytes.NewReader(task))
	dec.UseNumber()
	var obj map[string]any
	if dec.Decode(&obj) != nil {
		return nil, false
	}
	created, ok := taskTime(obj["created"])
	if !ok {
		return nil, false
	}
	shiftTaskTimes(obj, now.Truncate(time.Millisecond).Sub(created))
	out, err := json.Marshal(obj)
	return out, err == nil
}

func taskTime(v any) (time.Time, bool) {
	s, ok := v.(string)
	if !ok {
		return time.Time{}, false
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	return t, err == nil
}

// taskCreated reads a rendered task's created; zero when it has none.
func taskCreated(task json.RawMessage) time.Time {
	var t struct {
		Created string `json:"created"`
	}
	if json.Unmarshal(task, &t) != nil {
		return time.Time{}
	}
	c, _ := taskTime(t.Created)
	return c.UTC()
}

// setDefault sets task[key] when it is missing or falsy, as upstream does.
func setDefault(task map[string]any, key string, value any) {
	switch v := task[key].(type) {
	case nil:
	case string:
		if v != "" {
			return
		}
	case bool:
		if v {
			return
		}
	case float64:
		if v != 0 {
			return
		}
	default:
		return
	}
	task[key] = value
}

// checkPayload validates a trigger payload against the hook's triggerSchema
// and, for API and token triggers, the optional payload taskId. It returns
// an ErrInvalid error with upstream's message forms.
func (r *renderer) checkPayload(def Definition, payload any, checkTaskID bool) error {
	compiled, err := r.triggerSchema(def)
	if err != nil {
		return err
	}
	problems, err := schemas.ValidateUser(compiled, payload)
	if err != nil {
		return fmt.Errorf("hooks: validate payload: %w", err)
	}
	if problems != "" {
		return invalid("%s", problems)
	}
	if !checkTaskID {
		return nil
	}
	if obj, ok := payload.(map[string]any); ok {
		if raw, present := obj["taskId"]; present && raw != nil && raw != false && raw != "" {
			id, isString := raw.(string)
			if !isString || !slugid.Valid(id) {
				return invalid("Invalid taskId format: %v", raw)
			}
		}
	}
	return nil
}

func (r *renderer) triggerSchema(def Definition) (*schemas.UserSchema, error) {
	return r.schemaCache.get(def.TriggerSchema, func() (*schemas.UserSchema, error) {
		var schema map[string]any
		if err := json.Unmarshal(def.TriggerSchema, &schema); err != nil {
			return nil, fmt.Errorf("hooks: decode triggerSchema of %s/%s: %w", def.HookGroupID, def.HookID, err)
		}
		// A hook stored before CheckRefCycles was checked at create
		// would take the process down on its first payload.
		if err := schemas.CheckRefCycles(schema); err != nil {
			return nil, invalid("the hook's triggerSchema cannot be used: %s", err)
		}
		compiled, err := schemas.CompileUser(schema)
		if err != nil {
			return nil, invalid("the hook's triggerSchema cannot be used: %s", err)
		}
		return compiled, nil
	})
}

// template returns the hook's compiled task template.
func (r *renderer) template(def Definition) (*jsone.Template, error) {
	return r.templateCache.get(def.Task, func() (*jsone.Template, error) {
		var tmpl any
		dec := json.NewDecoder(bytes.NewReader(def.Task))
		dec.UseNumber()
		if err := dec.Decode(&tmpl); err != nil {
			return nil, fmt.Errorf("hooks: decode task template: %w", err)
		}
		return jsone.Compile(tmpl)
	})
}

// maxCached bounds each compiled-artifact cache.
const maxCached = 1024

// compiledCache keeps compiled trigger schemas, task templates and filters
// by the hash of their text: compiling costs far more than using the
// result. Entries never go stale (the key is the content); the cache is
// emptied when full, which is crude but bounded, and hooks in use refill
// it.
type compiledCache[V any] struct {
	mu      sync.Mutex
	entries map[[sha256.Size]byte]V
}

func (c *compiledCache[V]) get(content []byte, compile func() (V, error)) (V, error) {
	sum := sha256.Sum256(content)
	c.mu.Lock()
	v, ok := c.entries[sum]
	c.mu.Unlock()
	if ok {
		return v, nil
	}
	v, err := compile()
	if err != nil {
		return v, err
	}
	c.mu.Lock()
	if c.entries == nil || len(c.entries) >= maxCached {
		c.entries = map[[sha256.Size]byte]V{}
	}
	c.entries[sum] = v
	c.mu.Unlock()
	return v, nil
}
