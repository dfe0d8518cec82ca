package httpapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/hookline/hookline/shared/hooks"
)

// The names of the schedule routes: the listing and backfill.
const (
	RouteHookSchedule = "hookSchedule"
	RouteBackfillHook = "backfillHook"
)

// defaultScheduleCount is how many fires a listing shows unless asked.
const defaultScheduleCount = 10

// hookSchedule lists a hook's next fires (?from=<RFC 3339>&count=N).
func (rt *Router) hookSchedule(r *request) (any, error) {
	var from time.Time
	if v := r.query.Get("from"); v != "" {
		t, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, newAPIError(http.StatusBadRequest, CodeInvalidRequestArguments, "query-string parameter 'from' given as '%s' must be an RFC 3339 time, such as 2026-12-24T18:00:00Z", v)
		}
		from = t
	}
	count := defaultScheduleCount
	if v := r.query.Get("count"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > hooks.MaxScheduleListing {
			return nil, newAPIError(http.StatusBadRequest, CodeInvalidRequestArguments, "query-string parameter 'count' given as '%s' must be a whole number from 1 to %d", v, hooks.MaxScheduleListing)
		}
		count = n
	}
	return rt.svc.Operations.ListSchedule(r.ctx, r.params["hookGroupId"], r.params["hookId"], from, count)
}

// backfillHook fires a hook's past slots in a range; the body passed
// backfill-request.json, so the times parse.
func (rt *Router) backfillHook(r *request) (any, error) {
	var req hooks.BackfillRequest
	for name, dst := range map[string]*time.Time{"from": &req.From, "to": &req.To} {
		s, _ := r.body[name].(string)
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, newAPIError(http.StatusBadRequest, CodeInputError, "%s %q must be an RFC 3339 time, such as 2026-12-24T18:00:00Z", name, s)
		}
		*dst = t
	}
	if m, ok := r.body["max"].(json.Number); ok {
		// The schema keeps max an integer from 1 to 1000.
		n, _ := m.Int64()
		req.Max = int(n)
	}
	return rt.svc.Operations.Backfill(r.ctx, r.params["hookGroupId"], r.params["hookId"], req)
}
