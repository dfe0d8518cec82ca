package httpapi

import "github.com/hookline/hookline/shared/config"

// OptionsFromConfig are the router's options that cfg decides: the
// version __version__ reports and the signed webhook route's limits. The
// caller adds the Authorizer and the Logger, and Only for the webhook
// function (WebhookFunctionRoutes).
func OptionsFromConfig(cfg config.Config) Options {
	w := WebhookOptions{MaxBodyBytes: cfg.Webhook.MaxBodyBytes, Rate: cfg.Webhook.Rate, Burst: cfg.Webhook.Burst}
	if cfg.Webhook.Rate == 0 {
		// In config a rate of 0 turns the limit off; here 0 is the default.
		w.Rate = NoWebhookRateLimit
	}
	return Options{Version: cfg.Version, Webhook: w, CORSOrigins: cfg.Auth.CORSOrigins, PublicURL: cfg.Auth.PublicURL}
}

// WebhookFunctionRoutes are the routes the webhook function serves: the
// public routes that fire a hook for a delivery carrying its own
// credentials, upstream's triggerHookWithToken and Hookline's signed
// webhook route. It is a function of its own so that its concurrency can be
// limited apart from the API's.
func WebhookFunctionRoutes() []string {
	return []string{"triggerHookWithToken", RouteTriggerWebhook}
}

// WebhookLimits are the limits the signed webhook route applies, defaults
// filled in (Rate is NoWebhookRateLimit when there is no rate limit).
func (rt *Router) WebhookLimits() WebhookOptions {
	w := rt.webhook
	o := WebhookOptions{MaxBodyBytes: w.maxBody, Rate: NoWebhookRateLimit}
	if w.limiter != nil {
		o.Rate, o.Burst = w.limiter.rate, int(w.limiter.burst)
	}
	return o
}
