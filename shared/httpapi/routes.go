package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/store"
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
		{
			name: "getHookStatus", method: http.MethodGet, segments: sub(hookPath, "status"),
			scopes: auth.Scope("hooks:status:<hookGroupId>/<hookId>"), output: schemas.HookStatus,
			handle: rt.hookStatus,
		},
		{
			name: "triggerHook", method: http.MethodPost, segments: sub(hookPath, "trigger"),
			scopes: auth.Scope("hooks:trigger-hook:<hookGroupId>/<hookId>"), input: schemas.TriggerHook, output: schemas.TriggerHookResponse,
			handle: rt.triggerHook,
		},
		{
			name: "getTriggerToken", method: http.MethodGet, segments: sub(hookPath, "token"),
			scopes: auth.Scope("hooks:get-trigger-token:<hookGroupId>/<hookId>"), output: schemas.TriggerTokenResponse,
			secret: true, handle: rt.getTriggerToken,
		},
		{
			name: "resetTriggerToken", method: http.MethodPost, segments: sub(hookPath, "token"),
			scopes: auth.Scope("hooks:reset-trigger-token:<hookGroupId>/<hookId>"), output: schemas.TriggerTokenResponse,
			handle: rt.resetTriggerToken,
		},
		rt.tokenRoute(),
		{
			name: "listLastFires", method: http.MethodGet, segments: sub(hookPath, "last-fires"),
			scopes: auth.Scope("hooks:list-last-fires:<hookGroupId>/<hookId>"), output: schemas.ListLastFiresResponse,
			query:  []string{"continuationToken", "limit"},
			handle: rt.listLastFires,
		},
	}
}

// tokenRoute is upstream's public token route, triggerHookWithToken.
func (rt *Router) tokenRoute() *route {
	return &route{
		name: "triggerHookWithToken", method: http.MethodPost, segments: []string{"hooks", "<hookGroupId>", "<hookId>", "trigger", "<token>"},
		input: schemas.TriggerHook, output: schemas.TriggerHookResponse,
		authenticate: rt.checkTriggerToken, handle: rt.triggerHookWithToken,
	}
}

// webhookRoutes are the public routes that fire a hook for a delivery
// carrying its own credentials: the webhook function's (NewWebhookRouter).
func (rt *Router) webhookRoutes() []*route {
	return []*route{rt.tokenRoute(), rt.webhookRoute()}
}

func sub(base []string, more ...string) []string {
	return append(append([]string{}, base...), more...)
}

func emptyObject(*request) (any, error) { return struct{}{}, nil }

func (rt *Router) ping(*request) (any, error) {
	return map[string]any{"alive": true, "uptime": rt.now().Sub(rt.started).Seconds()}, nil
}

// heartbeat checks that the store answers; upstream's is a stub.
func (rt *Router) heartbeat(r *request) (any, error) {
	if _, err := rt.svc.Definitions.ListHookGroups(r.ctx); err != nil {
		return nil, fmt.Errorf("httpapi: heartbeat: %w", err)
	}
	return struct{}{}, nil
}

func (rt *Router) versionInfo(*request) (any, error) {
	return map[string]string{"source": "https://github.com/hookline/hookline", "version": rt.version, "commit": "", "build": ""}, nil
}

func (rt *Router) listHookGroups(r *request) (any, error) {
	groups, err := rt.svc.Definitions.ListHookGroups(r.ctx)
	if err != nil {
		return nil, err
	}
	return map[string]any{"groups": groups}, nil
}

func (rt *Router) listHooks(r *request) (any, error) {
	defs, err := rt.svc.Definitions.ListHooks(r.ctx, r.params["hookGroupId"])
	if err != nil {
		return nil, err
	}
	// The definitions are stored as the JSON the API answers; join them
	// instead of decoding and re-encoding each one.
	out := []byte(`{"hooks":[`)
	for i, d := range defs {
		if i > 0 {
			out = append(out, ',')
		}
		out = append(out, d...)
	}
	return json.RawMessage(append(out, "]}"...)), nil
}

func (rt *Router) hook(r *request) (any, error) {
	return rt.svc.Definitions.GetHookJSON(r.ctx, r.params["hookGroupId"], r.params["hookId"])
}

func (rt *Router) createHook(r *request) (any, error) {
	in, err := hooks.DecodeInput(r.body)
	if err != nil {
		return nil, err
	}
	return rt.svc.Definitions.CreateHook(r.ctx, r.params["hookGroupId"], r.params["hookId"], in)
}

func (rt *Router) updateHook(r *request) (any, error) {
	in, err := hooks.DecodeInput(r.body)
	if err != nil {
		return nil, err
	}
	return rt.svc.Definitions.UpdateHook(r.ctx, r.params["hookGroupId"], r.params["hookId"], in)
}

func (rt *Router) removeHook(r *request) (any, error) {
	if err := rt.svc.Definitions.RemoveHook(r.ctx, r.params["hookGroupId"], r.params["hookId"]); err != nil {
		return nil, err
	}
	return struct{}{}, nil
}

func (rt *Router) hookStatus(r *request) (any, error) {
	return rt.svc.Firing.Status(r.ctx, r.params["hookGroupId"], r.params["hookId"])
}

// triggerReply is the triggerHook answer: the taskId, and again under
// status for clients older than Taskcluster v42; {} when declined.
func triggerReply(res hooks.FireResult) any {
	if res.Declined || res.TaskID == "" {
		return struct{}{}
	}
	return map[string]any{"taskId": res.TaskID, "status": map[string]string{"taskId": res.TaskID}}
}

func (rt *Router) triggerHook(r *request) (any, error) {
	res, err := rt.svc.Firing.TriggerHook(r.ctx, r.params["hookGroupId"], r.params["hookId"], r.body, r.caller.ClientID, r.header.Get("Idempotency-Key"))
	if err != nil {
		return nil, err
	}
	return triggerReply(res), nil
}

// checkTriggerToken is the token route's authenticate step: the token is
// checked, and wrong ones counted, before the body is read.
func (rt *Router) checkTriggerToken(r *request) error {
	group, id := r.params["hookGroupId"], r.params["hookId"]
	now := rt.now()
	if err := rt.credentials.check(r.source, group, id, now); err != nil {
		rt.log.WarnContext(r.ctx, "trigger token attempt rate limited", "hookGroupId", group, "hookId", id, "source", r.source)
		return err
	}
	t, err := rt.svc.Firing.VerifyTriggerToken(r.ctx, group, id, r.params["token"])
	if err != nil {
		var se *hooks.SignatureError
		if errors.As(err, &se) {
			if se.Reason == hooks.ReasonBadToken {
				rt.credentials.failed(r.source, group, id, now)
			}
			rt.log.WarnContext(r.ctx, "trigger token refused", "hookGroupId", group, "hookId", id, "reason", se.Reason, "source", r.source)
		}
		return err
	}
	r.verified = t
	return nil
}

func (rt *Router) triggerHookWithToken(r *request) (any, error) {
	t, ok := r.verified.(*hooks.TokenTarget)
	if !ok {
		return nil, errors.New("httpapi: triggerHookWithToken: the token was not verified")
	}
	res, err := rt.svc.Firing.FireWithToken(r.ctx, t, r.body, r.header.Get("Idempotency-Key"))
	if err != nil {
		return nil, err
	}
	return triggerReply(res), nil
}

func (rt *Router) getTriggerToken(r *request) (any, error) {
	token, err := rt.svc.Definitions.TriggerToken(r.ctx, r.params["hookGroupId"], r.params["hookId"])
	if err != nil {
		return nil, err
	}
	return map[string]string{"token": token}, nil
}

func (rt *Router) resetTriggerToken(r *request) (any, error) {
	token, err := rt.svc.Definitions.ResetTriggerToken(r.ctx, r.params["hookGroupId"], r.params["hookId"])
	if err != nil {
		return nil, err
	}
	return map[string]string{"token": token}, nil
}

func (rt *Router) listLastFires(r *request) (any, error) {
	page := store.Page{Token: r.query.Get("continuationToken")}
	if v := r.query.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, newAPIError(http.StatusBadRequest, CodeInvalidRequestArguments, "query-string parameter 'limit' given as '%s' must be a positive integer (at most %d is used)", v, hooks.MaxLastFiresPage)
		}
		page.Limit = n
	}
	entries, next, err := rt.svc.Firing.ListLastFires(r.ctx, r.params["hookGroupId"], r.params["hookId"], page)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"lastFires": entries}
	if next != "" {
		out["continuationToken"] = next
	}
	return out, nil
}
