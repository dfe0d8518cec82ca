package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/hooks"
)

// hooksRoutes declares the hooks v1 API: path, scopes and schemas as in
// upstream's API reference (schemas/references/api.json; a test keeps the
// two in step).
func (rt *Router) hooksRoutes() []*route {
	hookPath := []string{"hooks", "<hookGroupId>", "<hookId>"}
	modify := auth.AllOf(auth.Scope("hooks:modify-hook:<hookGroupId>/<hookId>"), auth.Scope("assume:hook-id:<hookGroupId>/<hookId>"))
	return []*route{
		{name: "ping", method: http.MethodGet, segments: []string{"ping"}, handle: rt.ping},
		{name: "lbheartbeat", method: http.MethodGet, segments: []string{"__lbheartbeat__"}, handle: emptyObject},
		{name: "version", method: http.MethodGet, segments: []string{"__version__"}, handle: rt.versionInfo},
		{name: "heartbeat", method: http.MethodGet, segments: []string{"__heartbeat__"}, handle: rt.heartbeat},
		{
			name: "listHookGroups", method: http.MethodGet, segments: []string{"hooks"},
			scopes: auth.Scope("hooks:list-hooks:"), output: schemas.ListHookGroupsResponse,
			handle: rt.listHookGroups,
		},
		{
			name: "listHooks", method: http.MethodGet, segments: []string{"hooks", "<hookGroupId>"},
			scopes: auth.Scope("hooks:list-hooks:<hookGroupId>"), output: schemas.ListHooksResponse,
			handle: rt.listHooks,
		},
		{
			name: "hook", method: http.MethodGet, segments: hookPath,
			scopes: auth.Scope("hooks:get:<hookGroupId>:<hookId>"), output: schemas.HookDefinition,
			handle: rt.hook,
		},
		{
			name: "createHook", method: http.MethodPut, segments: hookPath,
			scopes: modify, input: schemas.CreateHookRequest, output: schemas.HookDefinition,
			handle: rt.createHook,
		},
		{
			name: "updateHook", method: http.MethodPost, segments: hookPath,
			scopes: modify, input: schemas.CreateHookRequest, output: schemas.HookDefinition,
			handle: rt.updateHook,
		},
		{
			name: "removeHook", method: http.MethodDelete, segments: hookPath,
			scopes: auth.Scope("hooks:modify-hook:<hookGroupId>/<hookId>"),
			handle: rt.removeHook,
		},
	}
}

func emptyObject(*request) (any, error) { return struct{}{}, nil }

func (rt *Router) ping(*request) (any, error) {
	return map[string]any{"alive": true, "uptime": rt.now().Sub(rt.started).Seconds()}, nil
}

// heartbeat checks that the store answers; upstream's is a stub.
func (rt *Router) heartbeat(r *request) (any, error) {
	if _, err := rt.svc.ListHookGroups(r.ctx); err != nil {
		return nil, fmt.Errorf("httpapi: heartbeat: %w", err)
	}
	return struct{}{}, nil
}

func (rt *Router) versionInfo(*request) (any, error) {
	return map[string]string{"source": "https://github.com/hookline/hookline", "version": rt.version, "commit": "", "build": ""}, nil
}

func (rt *Router) listHookGroups(r *request) (any, error) {
	groups, err := rt.svc.ListHookGroups(r.ctx)
	if err != nil {
		return nil, err
	}
	return map[string]any{"groups": groups}, nil
}

func (rt *Router) listHooks(r *request) (any, error) {
	defs, err := rt.svc.ListHooks(r.ctx, r.params["hookGroupId"])
	if err != nil {
		return nil, err
	}
	return map[string]any{"hooks": defs}, nil
}

func (rt *Router) hook(r *request) (any, error) {
	return rt.svc.GetHook(r.ctx, r.params["hookGroupId"], r.params["hookId"])
}

func (rt *Router) createHook(r *request) (any, error) {
	in, err := hookInput(r.body)
	if err != nil {
		return nil, err
	}
	return rt.svc.CreateHook(r.ctx, r.params["hookGroupId"], r.params["hookId"], in)
}

func (rt *Router) updateHook(r *request) (any, error) {
	in, err := hookInput(r.body)
	if err != nil {
		return nil, err
	}
	return rt.svc.UpdateHook(r.ctx, r.params["hookGroupId"], r.params["hookId"], in)
}

func (rt *Router) removeHook(r *request) (any, error) {
	if err := rt.svc.RemoveHook(r.ctx, r.params["hookGroupId"], r.params["hookId"]); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

// hookInput converts a validated, defaulted body into the domain's Input.
func hookInput(body map[string]any) (hooks.Input, error) {
	var in hooks.Input
	data, err := json.Marshal(body)
	if err != nil {
		return in, fmt.Errorf("httpapi: re-encode body: %w", err)
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return in, fmt.Errorf("httpapi: decode hook input: %w", err)
	}
	return in, nil
}
