package main

import (
	"context"
	"log/slog"

	"github.com/aws/aws-lambda-go/events"

	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/httpapi"
	"github.com/hookline/hookline/shared/lambdahttp"
	"github.com/hookline/hookline/shared/service"
)

// handler is the webhook function: API Gateway HTTP API events served by
// the router's webhook routes only.
type handler struct {
	svc    *service.Service
	router *httpapi.Router
	serve  func(context.Context, events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error)
	log    *slog.Logger
}

func newHandler(cfg config.Config, svc *service.Service, log *slog.Logger) (*handler, error) {
	opts := httpapi.OptionsFromConfig(cfg)
	opts.Authorizer, opts.Logger = svc.Authorizer, log
	router, err := httpapi.NewWebhookRouter(svc.Hooks, opts)
	if err != nil {
		return nil, err
	}
	return &handler{svc: svc, router: router, serve: lambdahttp.Handler(router), log: log}, nil
}

// handle serves one request. Every HTTP outcome, errors included, is a
// response: a Go error would only become API Gateway's bare 500.
func (h *handler) handle(ctx context.Context, ev events.APIGatewayV2HTTPRequest) (events.APIGatewayV2HTTPResponse, error) {
	return h.serve(ctx, ev)
}

// shutdown runs when Lambda stops the execution environment (SIGTERM):
// the last log line says so, and the store is closed. The logger writes
// each record straight to the runtime's stdout, so nothing else is
// buffered.
func (h *handler) shutdown() {
	h.log.Info("webhook function shutting down")
	if err := h.svc.Close(); err != nil {
		h.log.Error("close store", "err", err)
	}
}
