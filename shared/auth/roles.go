package auth

import (
	"errors"
	"fmt"
	"strings"
)

// Role grants its scopes to whoever holds assume:<RoleID>. A RoleID ending in
// "*" matches every role id with that prefix, and "<..>" in its scopes is
// replaced by the part of the assumed id that the "*" matched.
type Role struct {
	RoleID string   `json:"roleId"`
	Scopes []string `json:"scopes"`
}

// Errors from compiling roles. Their messages follow Taskcluster's
// InvalidScopeError and DependencyCycleError.
var (
	errInvalidRoleScope = errors.New("invalid role scope")
	errRoleCycle        = errors.New("role dependency cycle")
)

const paramToken = "<..>"

type rule struct {
	id     string
	prefix string // id without its trailing "*" when star is set
	star   bool
	scopes []string
}

// Roles is a compiled, validated, acyclic set of roles that expands scope
// sets. It is immutable and safe for concurrent use.
type Roles struct {
	rules []rule
}

// CompileRoles validates roles the way Taskcluster does when roles are saved
// (valid ids and scopes, at most one "<..>" per scope of a parameterised
// role and none right after a "*", no dependency cycles) and compiles them.
func CompileRoles(roles []Role) (*Roles, error) {
	rs := &Roles{rules: make([]rule, 0, len(roles))}
	seen := make(map[string]bool, len(roles))
	for i, r := range roles {
		if r.RoleID == "" || !ValidScope(r.RoleID) {
			return nil, fmt.Errorf("auth: roles[%d]: roleId %q must be non-empty printable ASCII", i, r.RoleID)
		}
		if seen[r.RoleID] {
			return nil, fmt.Errorf("auth: roles[%d]: duplicate roleId %q", i, r.RoleID)
		}
		seen[r.RoleID] = true
		ru := rule{id: r.RoleID, prefix: r.RoleID, scopes: append([]string(nil), r.Scopes...)}
		if strings.HasSuffix(r.RoleID, "*") {
			ru.star, ru.prefix = true, r.RoleID[:len(r.RoleID)-1]
		}
		for _, s := range r.Scopes {
			if !ValidScope(s) {
				return nil, fmt.Errorf("auth: role %q: %w: scope %q is not printable ASCII", r.RoleID, errInvalidRoleScope, s)
			}
			if !ru.star {
				continue
			}
			if strings.Count(s, paramToken) > 1 {
				return nil, fmt.Errorf("auth: role %q: %w: parameterized scope '%s' contains multiple '<..>'", r.RoleID, errInvalidRoleScope, s)
			}
			if strings.HasSuffix(s, "*"+paramToken) {
				return nil, fmt.Errorf("auth: role %q: %w: parameterized scope '%s' ends with '*<..>' which implies an ambiguous kleene", r.RoleID, errInvalidRoleScope, s)
			}
		}
		rs.rules = append(rs.rules, ru)
	}
	if err := rs.checkCycles(); err != nil {
		return nil, err
	}
	return rs, nil
}

// assumeInput returns the role input a held scope expands (the id after
// "assume:", or "*" for the star scopes that satisfy every assume: scope).
func assumeInput(s string) (string, bool) {
	if rest, ok := strings.CutPrefix(s, "assume:"); ok {
		return rest, true
	}
	switch s {
	case "*", "a*", "as*", "ass*", "assu*", "assum*", "assume*":
		return "*", true
	}
	return "", false
}

// match reports whether the rule applies to the input and with which
// parameter for "<..>" (only meaningful for star rules).
func (r *rule) match(input string) (param string, ok bool) {
	kleene := strings.HasSuffix(input, "*")
	x := input
	if kleene {
		x = input[:len(input)-1]
	}
	switch {
	case !r.star && !kleene:
		return "", input == r.id
	case !r.star && kleene:
		return "", strings.HasPrefix(r.id, x)
	case r.star && !kleene:
		if strings.HasPrefix(input, r.prefix) {
			return input[len(r.prefix):], true
		}
		return "", false
	default: // star rule, kleene input
		if strings.HasPrefix(x, r.prefix) {
			return x[len(r.prefix):] + "*", true
		}
		if strings.HasPrefix(r.prefix, x) {
			return "*", true
		}
		return "", false
	}
}

// grant returns scope s of the rule with its parameter filled in.
func (r *rule) grant(s, param string) string {
	if !r.star {
		return s
	}
	i := strings.Index(s, paramToken)
	if i < 0 {
		return s
	}
	if strings.HasSuffix(param, "*") {
		// A star parameter already covers whatever followed <..>.
		return s[:i] + param
	}
	return s[:i] + param + s[i+len(paramToken):]
}

// Expand returns the scopes plus everything the roles grant through
// assume: scopes, transitively, normalized and sorted (see NormalizeScopes).
func (rs *Roles) Expand(scopes []string) []string {
	if rs == nil || len(rs.rules) == 0 {
		return NormalizeScopes(scopes)
	}
	have := make(map[string]struct{}, len(scopes)*2)
	out := make([]string, 0, len(scopes)*2)
	work := make([]string, 0, len(scopes))
	for _, s := range scopes {
		if _, ok := have[s]; !ok {
			have[s] = struct{}{}
			out = append(out, s)
			work = append(work, s)
		}
	}
	for len(work) > 0 {
		s := work[len(work)-1]
		work = work[:len(work)-1]
		input, ok := assumeInput(s)
		if !ok {
			continue
		}
		for i := range rs.rules {
			r := &rs.rules[i]
			param, ok := r.match(input)
			if !ok {
				continue
			}
			for _, g := range r.scopes {
				g = r.grant(g, param)
				if _, ok := have[g]; !ok {
					have[g] = struct{}{}
					out = append(out, g)
					work = append(work, g)
				}
			}
		}
	}
	return NormalizeScopes(out)
}

// checkCycles rejects role sets in which a role can, directly or through
// other roles, grant a scope that assumes itself again: expansion of such a
// set would not terminate once parameters are involved. A parameterised
// scope is treated as its text up to "<..>" followed by "*", which covers
// every value the parameter can take.
func (rs *Roles) checkCycles() error {
	n := len(rs.rules)
	edges := make([][]int, n)
	for i := range rs.rules {
		r := &rs.rules[i]
		for _, s := range r.scopes {
			if j := strings.Index(s, paramToken); r.star && j >= 0 {
				s = s[:j] + "*"
			}
			input, ok := assumeInput(s)
			if !ok {
				continue
			}
			for k := range rs.rules {
				if _, ok := rs.rules[k].match(input); ok && !containsInt(edges[i], k) {
					edges[i] = append(edges[i], k)
				}
			}
		}
	}
	const (
		unvisited = iota
		onStack
		done
	)
	state := make([]int, n)
	var stack []int
	var visit func(i int) []int
	visit = func(i int) []int {
		state[i] = onStack
		stack = append(stack, i)
		for _, k := range edges[i] {
			switch state[k] {
			case onStack:
				start := 0
				for p, v := range stack {
					if v == k {
						start = p
						break
					}
				}
				return append(append([]int(nil), stack[start:]...), k)
			case unvisited:
				if c := visit(k); c != nil {
					return c
				}
			}
		}
		stack = stack[:len(stack)-1]
		state[i] = done
		return nil
	}
	for i := range rs.rules {
		if state[i] != unvisited {
			continue
		}
		if c := visit(i); c != nil {
			names := make([]string, len(c))
			for p, k := range c {
				names[p] = "'assume:" + rs.rules[k].id + "'"
			}
			return fmt.Errorf("auth: %w: Roles may not contain dependency cycles, found: %s", errRoleCycle, strings.Join(names, " -> "))
		}
	}
	return nil
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}
