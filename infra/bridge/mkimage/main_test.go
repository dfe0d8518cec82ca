package main

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// The tarball is what `docker load` reads: a manifest.json naming the tag,
// the config and the layer; the image runs the bridge as the nonroot user
// with the certificates in place; and the same inputs give the same bytes.
func TestBuild(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bridge")
	certs := filepath.Join(dir, "ca.crt")
	os.WriteFile(bin, []byte("\x7fELF not really"), 0o755)
	os.WriteFile(certs, []byte("-----BEGIN CERTIFICATE-----\n"), 0o644)
	out := filepath.Join(dir, "dist", "bridge-image.tar")
	if err := build(bin, certs, "arm64", "hookline/bridge:v1.2.3", out); err != nil {
		t.Fatal(err)
	}

	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var manifest []struct {
		Config           string
		RepoTags, Layers []string
	}
	if err := json.Unmarshal(fileInTar(t, raw, "manifest.json"), &manifest); err != nil {
		t.Fatal(err)
	}
	if len(manifest) != 1 || len(manifest[0].Layers) != 1 || !cmp.Equal(manifest[0].RepoTags, []string{"hookline/bridge:v1.2.3"}) {
		t.Fatalf("manifest.json %+v", manifest)
	}

	tag, _ := name.NewTag("hookline/bridge:v1.2.3")
	img, err := tarball.ImageFromPath(out, &tag)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	if cf.OS != "linux" || cf.Architecture != "arm64" || cf.Config.User != "65532:65532" ||
		!cmp.Equal(cf.Config.Entrypoint, []string{"/usr/local/bin/bridge"}) || cf.Config.Labels["org.opencontainers.image.version"] != "v1.2.3" {
		t.Errorf("config %+v", cf)
	}
	layers, _ := img.Layers()
	rc, _ := layers[0].Uncompressed()
	files := map[string]*tar.Header{}
	contents := map[string]string{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		files[h.Name] = h
		b, _ := io.ReadAll(tr)
		contents[h.Name] = string(b)
	}
	rc.Close()
	if h := files["usr/local/bin/bridge"]; h == nil || h.Mode != 0o755 || contents["usr/local/bin/bridge"] != "\x7fELF not really" {
		t.Errorf("binary %+v", h)
	}
	if contents["etc/ssl/certs/ca-certificates.crt"] != "-----BEGIN CERTIFICATE-----\n" {
		t.Errorf("certificates not included")
	}
	if h := files["home/nonroot/"]; h == nil || h.Uid != 65532 {
		t.Errorf("home %+v", h)
	}
	if !bytes.Contains([]byte(contents["etc/passwd"]), []byte("nonroot:x:65532:65532:")) {
		t.Errorf("passwd %q", contents["etc/passwd"])
	}
	if h := files["tmp/"]; h == nil || h.Mode != 0o1777 {
		t.Errorf("tmp %+v", h)
	}

	again := filepath.Join(dir, "again.tar")
	if err := build(bin, certs, "arm64", "hookline/bridge:v1.2.3", again); err != nil {
		t.Fatal(err)
	}
	raw2, _ := os.ReadFile(again)
	if !bytes.Equal(raw, raw2) {
		t.Error("two builds of the same inputs differ")
	}
}

func TestBuildErrors(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bridge")
	os.WriteFile(bin, []byte("x"), 0o755)
	for _, tt := range []struct{ bin, certs, tag string }{
		{"", "/dev/null", "a:b"},
		{filepath.Join(dir, "missing"), "/dev/null", "a:b"},
		{bin, filepath.Join(dir, "missing"), "a:b"},
		{bin, bin, "Not A Tag!"},
	} {
		if err := build(tt.bin, tt.certs, "amd64", tt.tag, filepath.Join(dir, "o.tar")); err == nil {
			t.Errorf("build(%q, %q, %q): no error", tt.bin, tt.certs, tt.tag)
		}
	}
}

func fileInTar(t *testing.T, raw []byte, name string) []byte {
	t.Helper()
	tr := tar.NewReader(bytes.NewReader(raw))
	for {
		h, err := tr.Next()
		if err != nil {
			t.Fatalf("%s not in the tarball: %v", name, err)
		}
		if h.Name == name {
			b, _ := io.ReadAll(tr)
			return b
		}
	}
}
