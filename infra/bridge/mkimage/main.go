// Command mkimage builds the bridge's container image without a Docker
// engine: one layer holding the static bridge binary, the CA certificates
// of the build machine and a non-root user, written as a tarball that
// `docker load` (and podman, and crane) read. `make image` runs it.
//
//	go run ./infra/bridge/mkimage -binary dist/bridge/bridge -arch amd64 \
//	    -certs /etc/ssl/certs/ca-certificates.crt -tag hookline/bridge:dev -o dist/bridge-image.tar
package main

import (
	"archive/tar"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The image's layout.
const (
	binaryPath = "/usr/local/bin/bridge"
	certsPath  = "/etc/ssl/certs/ca-certificates.crt"
	uid        = 65532 // distroless's nonroot
	home       = "/home/nonroot"
)

// spec is what goes into the image.
type spec struct {
	Binary, Certs []byte
	Arch, Version string
	// Created stamps files and config; a fixed time makes builds of the
	// same inputs byte-identical.
	Created time.Time
}

func main() {
	binary := flag.String("binary", "", "static linux bridge binary (required)")
	certs := flag.String("certs", "/etc/ssl/certs/ca-certificates.crt", "CA certificate bundle to include")
	arch := flag.String("arch", "amd64", "image architecture (GOARCH of the binary)")
	tag := flag.String("tag", "hookline/bridge:dev", "image name and tag recorded in the tarball")
	out := flag.String("o", "dist/bridge-image.tar", "output tarball")
	flag.Parse()
	if err := build(*binary, *certs, *arch, *tag, *out); err != nil {
		fmt.Fprintln(os.Stderr, "mkimage:", err)
		os.Exit(1)
	}
}

func build(binaryFile, certsFile, arch, tag, out string) error {
	if binaryFile == "" {
		return errors.New("-binary is required")
	}
	bin, err := os.ReadFile(binaryFile)
	if err != nil {
		return err
	}
	certs, err := os.ReadFile(certsFile)
	if err != nil {
		return fmt.Errorf("CA certificates: %w", err)
	}
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("tag %q: %w", tag, err)
	}
	created := time.Unix(0, 0).UTC()
	if epoch := os.Getenv("SOURCE_DATE_EPOCH"); epoch != "" {
		var secs int64
		if _, err := fmt.Sscan(epoch, &secs); err != nil {
			return fmt.Errorf("SOURCE_DATE_EPOCH %q: %w", epoch, err)
		}
		created = time.Unix(secs, 0).UTC()
	}
	img, err := image(spec{Binary: bin, Certs: certs, Arch: arch, Version: ref.TagStr(), Created: created})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	tmp := out + ".tmp"
	if err := tarball.WriteToFile(tmp, ref, img); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

// image assembles the image: one layer on nothing, run as the non-root
// user, the bridge as entrypoint.
func image(s spec) (v1.Image, error) {
	layerTar, err := rootfs(s)
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) {
		return io.NopCloser(bytes.NewReader(layerTar)), nil
	})
	if err != nil {
		return nil, err
	}
	img, err := mutate.Append(empty.Image, mutate.Addendum{
		Layer:   layer,
		History: v1.History{Created: v1.Time{Time: s.Created}, CreatedBy: "hookline infra/bridge/mkimage", Comment: "bridge binary, CA certificates, nonroot user"},
	})
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.OS, cf.Architecture, cf.Created = "linux", s.Arch, v1.Time{Time: s.Created}
	cf.Config = v1.Config{
		Entrypoint: []string{binaryPath},
		User:       fmt.Sprintf("%d:%d", uid, uid),
		WorkingDir: home,
		Env: []string{
			"PATH=/usr/local/bin",
			"SSL_CERT_FILE=" + certsPath,
			// Reachable by the orchestrator's health checks and scrapers.
			"HOOKLINE_BRIDGE_ADDR=0.0.0.0:9090",
		},
		ExposedPorts: map[string]struct{}{"9090/tcp": {}},
		StopSignal:   "SIGTERM",
		Labels: map[string]string{
			"org.opencontainers.image.title":       "hookline-bridge",
			"org.opencontainers.image.description": "Hookline Pulse bridge: Pulse (AMQP) hook queues to the trigger queue (SQS)",
			"org.opencontainers.image.version":     s.Version,
		},
	}
	return mutate.ConfigFile(img, cf)
}

// rootfs is the layer: directories, /etc/passwd and /etc/group with the
// nonroot user, the certificates and the binary.
func rootfs(s spec) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	dir := func(name string, mode int64, owner int) error {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: name + "/", Mode: mode, Uid: owner, Gid: owner, ModTime: s.Created, Format: tar.FormatPAX})
	}
	file := func(name string, mode int64, data []byte) error {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: mode, Size: int64(len(data)), ModTime: s.Created, Format: tar.FormatPAX}); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	steps := []func() error{
		func() error { return dir("etc", 0o755, 0) },
		func() error { return dir("etc/ssl", 0o755, 0) },
		func() error { return dir("etc/ssl/certs", 0o755, 0) },
		func() error { return dir("home", 0o755, 0) },
		func() error { return dir(home[1:], 0o700, uid) },
		func() error { return dir("tmp", 0o1777, 0) },
		func() error { return dir("usr", 0o755, 0) },
		func() error { return dir("usr/local", 0o755, 0) },
		func() error { return dir("usr/local/bin", 0o755, 0) },
		func() error {
			return file("etc/passwd", 0o644, fmt.Appendf(nil, "root:x:0:0:root:/root:/sbin/nologin\nnonroot:x:%d:%d:nonroot:%s:/sbin/nologin\n", uid, uid, home))
		},
		func() error { return file("etc/group", 0o644, fmt.Appendf(nil, "root:x:0:\nnonroot:x:%d:\n", uid)) },
		func() error { return file(certsPath[1:], 0o644, s.Certs) },
		func() error { return file(binaryPath[1:], 0o755, s.Binary) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
