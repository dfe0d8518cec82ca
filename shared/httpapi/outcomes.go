package httpapi

import (
	"net/http"
	"strconv"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/store"
)

// The routes of task outcomes and notifications.
const (
	// RouteHookOutcomeStatus is getHookStatus with outcomes,
	// GET /api/hookline/v1/hooks/<hookGroupId>/<hookId>/status.
	RouteHookOutcomeStatus = "hookOutcomeStatus"
	// RouteListNotifications lists a hook's notifications,
	// GET /api/hookline/v1/hooks/<hookGroupId>/<hookId>/notifications.
	RouteListNotifications = "listNotifications"
)

// outcomeRoutes declares the routes of outcomes and notifications. Both
// read what getHookStatus and listLastFires read, under their scopes.
func (rt *Router) outcomeRoutes() []*route {
	hookPath := []string{"hooks", "<hookGroupId>", "<hookId>"}
	return []*route{
		{name: RouteHookOutcomeStatus, method: http.MethodGet, base: HooklineBasePath, segments: sub(hookPath, "status"),
			scopes: auth.Scope("hooks:status:<hookGroupId>/<hookId>"), output: schemas.HooklineHookStatus, handle: rt.hookOutcomeStatus},
		{name: RouteListNotifications, method: http.MethodGet, base: HooklineBasePath, segments: sub(hookPath, "notifications"),
			scopes: auth.Scope("hooks:list-last-fires:<hookGroupId>/<hookId>"), output: schemas.ListNotificationsResponse,
			query: []string{"continuationToken", "limit"}, handle: rt.listNotifications},
	}
}

func (rt *Router) hookOutcomeStatus(r *request) (any, error) {
	return rt.svc.Firing.StatusWithOutcomes(r.ctx, r.params["hookGroupId"], r.params["hookId"])
}

func (rt *Router) listNotifications(r *request) (any, error) {
	page := store.Page{Token: r.query.Get("continuationToken"), Limit: defaultDecisionsPageLen}
	if v := r.query.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, newAPIError(http.StatusBadRequest, CodeInvalidRequestArguments, "query-string parameter 'limit' given as '%s' must be a positive integer (at most %d is used)", v, maxDecisionsPage)
		}
		page.Limit = min(n, maxDecisionsPage)
	}
	return rt.svc.Notifications.List(r.ctx, r.params["hookGroupId"], r.params["hookId"], page)
}
