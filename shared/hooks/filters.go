package hooks

import (
	"strings"
	"time"

	"github.com/hookline/hookline/shared/jsone"
)

// checkFilters refuses filters that could never be evaluated: too many,
// too long, empty, or not JSON-e expressions.
func checkFilters(filters []string) error {
	if len(filters) > maxFilters {
		return invalid("a hook may have at most %d filters, not %d; combine them with &&", maxFilters, len(filters))
	}
	for i, f := range filters {
		if strings.TrimSpace(f) == "" {
			return invalid("filters[%d] is empty; give a JSON-e expression such as payload.ref == \"refs/heads/main\"", i)
		}
		if len(f) > maxFilterLength {
			return invalid("filters[%d] is longer than %d characters", i, maxFilterLength)
		}
		if _, err := jsone.CompileExpression(f); err != nil {
			return invalid("filters[%d] is not a JSON-e expression: %s", i, err)
		}
	}
	return nil
}

// filterVerdict is what a hook's filters decided.
type filterVerdict struct {
	pass bool
	// filter is the first filter that did not pass, and err its
	// evaluation error, if it failed to evaluate.
	filter string
	err    error
}

// evaluateFilters runs the filters in order against the fire context; the
// first that is not truthy (or fails to evaluate) stops the fire. A filter
// that cannot be evaluated (a property of null, say) does not fire the
// hook: a filter exists to keep fires out, and an error is no evidence the
// fire was wanted.
func (r *renderer) evaluateFilters(filters []string, context map[string]any, now time.Time) filterVerdict {
	for _, f := range filters {
		x, err := r.filterCache.get([]byte(f), func() (*jsone.Expression, error) { return jsone.CompileExpression(f) })
		if err != nil {
			return filterVerdict{filter: f, err: err}
		}
		v, err := x.Evaluate(context, jsone.Options{Now: func() time.Time { return now }})
		if err != nil {
			return filterVerdict{filter: f, err: err}
		}
		if !jsone.Truthy(v) {
			return filterVerdict{filter: f}
		}
	}
	return filterVerdict{pass: true}
}
