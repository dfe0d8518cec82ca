package httpapi

import (
	"net/http"
	"slices"

	"github.com/hookline/hookline/schemas"
	"github.com/hookline/hookline/shared/auth"
)

// RouteWhoAmI is GET /api/hookline/v1/whoami: the caller's clientId and
// expanded scopes, so a client (the web console) can tell who it signed in
// as and which actions to offer.
const RouteWhoAmI = "whoami"

// whoAmIRoutes declares the whoami route. Its scope expression is AllOf(),
// which every caller satisfies but which, unlike a public route's zero
// expression, makes the authorizer verify the credentials: bad ones are a
// 401, as on any other route, and the scopes are those the deployment's
// authenticator answered (in-process in static mode, the auth service's
// in taskcluster mode).
func (rt *Router) whoAmIRoutes() []*route {
	return []*route{{
		name: RouteWhoAmI, method: http.MethodGet, base: HooklineBasePath, segments: []string{"whoami"},
		scopes: auth.AllOf(), output: schemas.WhoAmIResponse, handle: rt.whoAmI,
	}}
}

// whoAmIReply is the whoami answer.
type whoAmIReply struct {
	ClientID      string   `json:"clientId,omitempty"`
	Authenticated bool     `json:"authenticated"`
	Scopes        []string `json:"scopes"`
}

func (rt *Router) whoAmI(r *request) (any, error) {
	scopes := slices.Clone(r.caller.Scopes)
	if scopes == nil {
		scopes = []string{}
	}
	slices.Sort(scopes)
	return whoAmIReply{ClientID: r.caller.ClientID, Authenticated: r.caller.Authenticated, Scopes: slices.Compact(scopes)}, nil
}
