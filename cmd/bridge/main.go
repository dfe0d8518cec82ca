// Command bridge is the Pulse bridge: it keeps a queue per hook with
// bindings on the Pulse broker, forwards their messages to the trigger
// queue (SQS), and publishes hook-created/updated/deleted for the changes
// the API announces. It serves /healthz and /metrics on
// HOOKLINE_BRIDGE_ADDR. It runs as a container (see infra/bridge).
package main

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, os.Stderr); err != nil {
		slog.Error("bridge stopped", "err", err)
		os.Exit(1)
	}
}
