// Package imagetest starts the bridge's container image without a
// container engine: it builds the image with `make image`, checks it with
// go-containerregistry's validate package, unpacks its root filesystem,
// and runs its entrypoint as the image's user in fresh mount and PID
// namespaces, chrooted into that filesystem, against the real RabbitMQ,
// until /healthz answers; then SIGTERM must stop it cleanly within the
// bridge's drain timeout. It holds tests only, with the `integration`
// build tag; they need root (for chroot, namespaces and the user switch),
// which CI has: under CI=true a missing root, RabbitMQ or make is a
// failure, elsewhere a skip.
package imagetest
