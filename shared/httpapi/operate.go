package httpapi

import (
	"fmt"
	"net/http"
	"strconv"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/store"
)

// The names of the routes that operate hooks: pauses at three levels, the
// decision log and replay.
const (
	RouteHookPause          = "hookPause"
	RoutePauseHook          = "pauseHook"
	RouteResumeHook         = "resumeHook"
	RouteHookGroupPause     = "hookGroupPause"
	RoutePauseHookGroup     = "pauseHookGroup"
	RouteResumeHookGroup    = "resumeHookGroup"
	RouteKillSwitch         = "killSwitch"
	RouteEngageKillSwitch   = "engageKillSwitch"
	RouteReleaseKillSwitch  = "releaseKillSwitch"
	RouteListDecisions      = "listDecisions"
	RouteDecision           = "decision"
	RouteReplayDecision     = "replayDecision"
	RouteCheckHook          = "checkHook"
	decisionIDPattern       = `^[A-Za-z0-9._:-]{1,64}$`
	maxDecisionsPage        = 1000
	defaultDecisionsPageLen = 100
)

// operateRoutes declares the routes that pause, inspect and replay fires.
//
// Scopes: pausing a hook takes hooks:modify-hook like any change to it, or
// hookline:pause:<g>/<h>, which an on-call role can hold without the right
// to edit hooks; a group needs the same for every hook in it (<g>/*). The
// kill switch has its own scope, hookline:kill-switch. Reading a pause
// takes the read scope of its level; the decision log takes
// listLastFires's scope, and a replay triggerHook's.
func (rt *Router) operateRoutes() []*route {
	hookPath := []string{"hooks", "<hookGroupId>", "<hookId>"}
	groupPath := []string{"hook-groups", "<hookGroupId>"}
	pauseHook := auth.AnyOf(auth.Scope("hooks:modify-hook:<hookGroupId>/<hookId>"), auth.Scope("hookline:pause:<hookGroupId>/<hookId>"))
	pauseGroup := auth.AnyOf(auth.Scope("hooks:modify-hook:<hookGroupId>/*"), auth.Scope("hookline:pause:<hookGroupId>/*"))
	killSwitch := auth.Scope("hookline:kill-switch")
	readDecisions := auth.Scope("hooks:list-last-fires:<hookGroupId>/<hookId>")
	return []*route{
		{name: RouteHookPause, method: http.MethodGet, base: HooklineBasePath, segments: sub(hookPath, "pause"),
			scopes: auth.Scope("hooks:get:<hookGroupId>:<hookId>"), output: schemas.PauseStatus, handle: rt.getPause},
		{name: RoutePauseHook, method: http.MethodPut, base: HooklineBasePath, segments: sub(hookPath, "pause"),
			scopes: pauseHook, input: schemas.PauseRequest, output: schemas.PauseStatus, handle: rt.setPause(true)},
		{name: RouteResumeHook, method: http.MethodDelete, base: HooklineBasePath, segments: sub(hookPath, "pause"),
			scopes: pauseHook, output: schemas.PauseStatus, handle: rt.setPause(false)},

		{name: RouteHookGroupPause, method: http.MethodGet, base: HooklineBasePath, segments: sub(groupPath, "pause"),
			scopes: auth.Scope("hooks:list-hooks:<hookGroupId>"), output: schemas.PauseStatus, handle: rt.getPause},
		{name: RoutePauseHookGroup, method: http.MethodPut, base: HooklineBasePath, segments: sub(groupPath, "pause"),
			scopes: pauseGroup, input: schemas.PauseRequest, output: schemas.PauseStatus, handle: rt.setPause(true)},
		{name: RouteResumeHookGroup, method: http.MethodDelete, base: HooklineBasePath, segments: sub(groupPath, "pause"),
			scopes: pauseGroup, output: schemas.PauseStatus, handle: rt.setPause(false)},

		{name: RouteKillSwitch, method: http.MethodGet, base: HooklineBasePath, segments: []string{"pause"},
			scopes: auth.Scope("hooks:list-hooks:"), output: schemas.PauseStatus, handle: rt.getPause},
		{name: RouteEngageKillSwitch, method: http.MethodPut, base: HooklineBasePath, segments: []string{"pause"},
			scopes: killSwitch, input: schemas.PauseRequest, output: schemas.PauseStatus, handle: rt.setPause(true)},
		{name: RouteReleaseKillSwitch, method: http.MethodDelete, base: HooklineBasePath, segments: []string{"pause"},
			scopes: killSwitch, output: schemas.PauseStatus, handle: rt.setPause(false)},

		{name: RouteListDecisions, method: http.MethodGet, base: HooklineBasePath, segments: sub(hookPath, "decisions"),
			scopes: readDecisions, output: schemas.ListDecisionsResponse, query: []string{"continuationToken", "limit"}, handle: rt.listDecisions},
		{name: RouteDecision, method: http.MethodGet, base: HooklineBasePath, segments: sub(hookPath, "decisions", "<decisionId>"),
			scopes: readDecisions, output: schemas.Decision, handle: rt.decision},
		{name: RouteReplayDecision, method: http.MethodPost, base: HooklineBasePath, segments: sub(hookPath, "decisions", "<decisionId>", "replay"),
			scopes: auth.Scope("hooks:trigger-hook:<hookGroupId>/<hookId>"), output: schemas.Decision, handle: rt.replayDecision},
		// Reading what a fire would render is like reading the hook.
		{name: RouteCheckHook, method: http.MethodPost, base: HooklineBasePath, segments: sub(hookPath, "check"),
			scopes: auth.Scope("hooks:get:<hookGroupId>:<hookId>"), input: schemas.CheckHookRequest, output: schemas.CheckHookResponse,
			readOnly: true, handle: rt.checkHook},
		// Listing a schedule is like reading the hook; a backfill fires it.
		{name: RouteHookSchedule, method: http.MethodGet, base: HooklineBasePath, segments: sub(hookPath, "schedule"),
			scopes: auth.Scope("hooks:get:<hookGroupId>:<hookId>"), output: schemas.ScheduleListing, query: []string{"from", "count"}, handle: rt.hookSchedule},
		{name: RouteBackfillHook, method: http.MethodPost, base: HooklineBasePath, segments: sub(hookPath, "backfill"),
			scopes: auth.Scope("hooks:trigger-hook:<hookGroupId>/<hookId>"), input: schemas.BackfillRequest, output: schemas.BackfillResponse, handle: rt.backfillHook},
	}
}

func pauseTarget(r *request) hooks.PauseTarget {
	return hooks.PauseTarget{HookGroupID: r.params["hookGroupId"], HookID: r.params["hookId"]}
}

func (rt *Router) getPause(r *request) (any, error) {
	return rt.svc.Operations.GetPause(r.ctx, pauseTarget(r))
}

func (rt *Router) setPause(pause bool) handlerFunc {
	return func(r *request) (any, error) {
		reason := ""
		if pause {
			reason, _ = r.body["reason"].(string)
		}
		return rt.svc.Operations.SetPause(r.ctx, pauseTarget(r), pause, reason, r.caller.ClientID)
	}
}

func (rt *Router) listDecisions(r *request) (any, error) {
	page := store.Page{Token: r.query.Get("continuationToken"), Limit: defaultDecisionsPageLen}
	if v := r.query.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return nil, newAPIError(http.StatusBadRequest, CodeInvalidRequestArguments, "query-string parameter 'limit' given as '%s' must be a positive integer (at most %d is used)", v, maxDecisionsPage)
		}
		page.Limit = min(n, maxDecisionsPage)
	}
	return rt.svc.Operations.ListDecisions(r.ctx, r.params["hookGroupId"], r.params["hookId"], page)
}

func (rt *Router) decision(r *request) (any, error) {
	return rt.svc.Operations.GetDecision(r.ctx, r.params["hookGroupId"], r.params["hookId"], r.params["decisionId"])
}

// replayDecision re-fires a past decision. The reply is the new decision,
// whatever its outcome; a pause, a payload the triggerSchema now refuses
// or a queue error answer as triggerHook's do.
func (rt *Router) replayDecision(r *request) (any, error) {
	res, err := rt.svc.Operations.Replay(r.ctx, r.params["hookGroupId"], r.params["hookId"], r.params["decisionId"], r.caller.ClientID, r.header.Get("Idempotency-Key"))
	if err != nil {
		return nil, err
	}
	return res.Decision, nil
}

// checkHook pre-checks a hook for a sample fire, against the roles of the
// deployment whose queue creates the tasks when they are known
// (hooks.Options.Roles).
// checkHook renders the hook as a fire would, so it is rate limited per
// hook as webhook deliveries are (HOOKLINE_WEBHOOK_RATE and _BURST): a
// caller who may only read the hook cannot make the service render it
// faster than senders may fire it.
func (rt *Router) checkHook(r *request) (any, error) {
	group, id := r.params["hookGroupId"], r.params["hookId"]
	if l := rt.checks; l != nil {
		if ok, wait := l.allow(hookKey(group, id), rt.now()); !ok {
			return nil, &tooManyRequests{
				message:    fmt.Sprintf("hook %s/%s accepts at most %s pre-checks per second (bursts of %d), as many as webhook deliveries; retry later", group, id, strconv.FormatFloat(l.rate, 'f', -1, 64), int(l.burst)),
				retryAfter: wait,
			}
		}
	}
	in := hooks.CheckInput{Payload: map[string]any{}} // a trigger without a body sends {}
	if p, ok := r.body["payload"]; ok {
		in.Payload = p
	}
	in.FiredBy, _ = r.body["firedBy"].(string)
	in.ClientID, _ = r.body["clientId"].(string)
	if fs, ok := r.body["filters"].([]any); ok {
		in.Filters = make([]string, 0, len(fs))
		for _, f := range fs {
			s, _ := f.(string) // the schema allows only strings
			in.Filters = append(in.Filters, s)
		}
	}
	if in.ClientID == "" {
		in.ClientID = r.caller.ClientID
	}
	return rt.svc.Operations.CheckHook(r.ctx, r.params["hookGroupId"], r.params["hookId"], in)
}
