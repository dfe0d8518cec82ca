package httpapi

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/hooks"
)

// HooklineBasePath is where Hookline's own API is served: what upstream
// has no room for (docs/architecture.md, "Extensions beyond upstream"). Its errors,
// authentication and scopes work as in the hooks API.
const HooklineBasePath = "/api/hookline/v1"

// RouteInfo describes one route of Hookline's own API, for deployment
// descriptions and their tests.
type RouteInfo struct {
	// Name is the route's name, as Options.Only takes it.
	Name string
	// Method is the HTTP method.
	Method string
	// Path is the full path with {param} placeholders, as API Gateway
	// writes routes.
	Path string
	// Public routes need no Taskcluster credentials.
	Public bool
}

// The names of Hookline's own routes.
const (
	RouteHookSettings       = "hookSettings"
	RouteUpdateHookSettings = "updateHookSettings"
	// RouteTriggerWebhook is the public signed webhook route,
	// POST /api/hookline/v1/hooks/<hookGroupId>/<hookId>/webhook.
	RouteTriggerWebhook = "triggerWebhook"
)

// HooklineRoutes lists the routes of Hookline's own API.
func HooklineRoutes() []RouteInfo {
	var rt Router
	rt.webhook = newWebhookState(WebhookOptions{})
	var out []RouteInfo
	for _, ro := range rt.hooklineRoutes() {
		path := HooklineBasePath
		for _, s := range ro.segments {
			if name, ok := cutParam(s); ok {
				s = "{" + name + "}"
			}
			path += "/" + s
		}
		out = append(out, RouteInfo{Name: ro.name, Method: ro.method, Path: path, Public: ro.scopes.IsZero()})
	}
	return out
}

// hooklineRoutes declares Hookline's own API, under HooklineBasePath.
func (rt *Router) hooklineRoutes() []*route {
	hookPath := []string{"hooks", "<hookGroupId>", "<hookId>"}
	return append([]*route{
		{
			name: RouteHookSettings, method: http.MethodGet, base: HooklineBasePath, segments: sub(hookPath, "settings"),
			scopes: auth.Scope("hooks:get:<hookGroupId>:<hookId>"), output: schemas.HookSettingsResponse,
			handle: rt.hookSettings,
		},
		{
			name: RouteUpdateHookSettings, method: http.MethodPut, base: HooklineBasePath, segments: sub(hookPath, "settings"),
			scopes: auth.Scope("hooks:modify-hook:<hookGroupId>/<hookId>"), input: schemas.HookSettings, output: schemas.HookSettingsResponse,
			handle: rt.updateHookSettings,
		},
		rt.webhookRoute(),
	}, append(append(rt.operateRoutes(), rt.whoAmIRoutes()...), rt.outcomeRoutes()...)...)
}

// webhookRoute is the public signed webhook route. Public: the delivery
// authenticates itself (webhook.go).
func (rt *Router) webhookRoute() *route {
	return &route{
		name: RouteTriggerWebhook, method: http.MethodPost, base: HooklineBasePath, segments: []string{"hooks", "<hookGroupId>", "<hookId>", "webhook"},
		output: schemas.TriggerHookResponse, anyQuery: true, maxBody: rt.webhook.maxBody,
		authenticate: rt.checkWebhookAllowance, handle: rt.triggerWebhook,
	}
}

func cutParam(seg string) (string, bool) {
	if len(seg) > 2 && seg[0] == '<' && seg[len(seg)-1] == '>' {
		return seg[1 : len(seg)-1], true
	}
	return "", false
}

func (rt *Router) hookSettings(r *request) (any, error) {
	st, err := rt.svc.Operations.GetSettings(r.ctx, r.params["hookGroupId"], r.params["hookId"])
	if err != nil {
		return nil, err
	}
	return st.View(), nil
}

func (rt *Router) updateHookSettings(r *request) (any, error) {
	var in hooks.Settings
	data, err := json.Marshal(r.body)
	if err != nil {
		return nil, fmt.Errorf("httpapi: re-encode body: %w", err)
	}
	if err := json.Unmarshal(data, &in); err != nil {
		return nil, fmt.Errorf("httpapi: decode settings: %w", err)
	}
	if in.Paused != nil {
		in.Paused.By = r.caller.ClientID
	}
	st, err := rt.svc.Operations.PutSettings(r.ctx, r.params["hookGroupId"], r.params["hookId"], in)
	if err != nil {
		return nil, err
	}
	return st.View(), nil
}
