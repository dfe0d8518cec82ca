package apifuzz

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// Report formats a run's figures: requests by status, 5xx, known issues,
// peak RSS and the slowest answers.
func Report(r *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d requests (and %d reads of the checks) in %v; 5xx: %d (and %d 503s of load shedding); peak RSS (VmHWM) %.1f MB\n",
		r.Store, r.Sent, r.Checks, r.Elapsed.Round(time.Millisecond), r.FiveXX, r.Shed, float64(r.PeakRSS)/(1<<20))
	b.WriteString("  by status:")
	for _, s := range slices.Sorted(maps.Keys(r.ByStatus)) {
		fmt.Fprintf(&b, " %d×%d", s, r.ByStatus[s])
	}
	b.WriteString("\n")
	if len(r.Known) > 0 {
		b.WriteString("  known issues met:")
		for _, k := range slices.Sorted(maps.Keys(r.Known)) {
			fmt.Fprintf(&b, " %s×%d", k, r.Known[k])
		}
		b.WriteString("\n")
	}
	b.WriteString("  slowest:\n")
	for _, s := range r.Slowest {
		fmt.Fprintf(&b, "    %v %d %s\n", s.Elapsed.Round(time.Millisecond), s.Status, s.Request)
	}
	return strings.TrimRight(b.String(), "\n")
}
