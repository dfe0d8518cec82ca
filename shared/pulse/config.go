package pulse

import "github.com/hookline/hookline/shared/config"

// OptionsFromConfig returns the Options the configuration decides; the
// caller adds Hooks, Sink, Failures, Changes and Logger.
func OptionsFromConfig(c config.PulseConfig) Options {
	return Options{
		URL:               c.URL,
		Namespace:         c.Namespace,
		QueueMaxLength:    c.QueueMaxLength,
		Prefetch:          c.Prefetch,
		ReconcileInterval: c.ReconcileInterval,
	}
}
