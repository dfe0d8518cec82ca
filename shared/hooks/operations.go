package hooks

// Operations is the part of the service that operates hooks, beyond
// upstream's API: pauses at three levels (pause.go), a hook's Hookline
// settings (settings.go), its decision log and replays (decisions.go), and
// pre-checks (precheck.go). A replay fires through the shared pipeline.
type Operations struct {
	*pipeline
	checker *Checker
}
