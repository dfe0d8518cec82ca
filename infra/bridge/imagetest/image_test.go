//go:build integration

package imagetest

import (
	"archive/tar"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/validate"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/hookline/hookline/shared/hooks"
	"github.com/hookline/hookline/shared/pulse"
	"github.com/hookline/hookline/shared/queue/sqstest"
	"github.com/hookline/hookline/shared/testutil"
)

// What the image promises (infra/bridge/mkimage, and the Dockerfile that
// builds the same for users with Docker).
const (
	tag        = "hookline/bridge:imagetest"
	entrypoint = "/usr/local/bin/bridge"
	imageUser  = "65532:65532"
	uid, gid   = 65532, 65532
	// drainTimeout is the bridge's graceful-shutdown bound
	// (pulse.Options.DrainTimeout's default).
	drainTimeout = 20 * time.Second
)

// required skips, or fails under CI=true, when what the test needs is
// missing.
func required(t *testing.T, ok bool, what string) {
	t.Helper()
	if ok {
		return
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is required under CI=true", what)
	}
	t.Skipf("%s is missing", what)
}

func TestBridgeImage(t *testing.T) {
	required(t, runtime.GOOS == "linux", "linux")
	required(t, os.Geteuid() == 0, "root (chroot, namespaces, switching to the image's user)")
	_, err := exec.LookPath("make")
	required(t, err == nil, "make")
	broker := testutil.DialBroker(t) // skips, or fails under CI=true, without RabbitMQ
	broker.Close()
	root := testutil.RepoRoot(t)

	// Build it as a user does.
	out := filepath.Join(t.TempDir(), "bridge-image.tar")
	cmd := exec.Command("make", "-s", "--no-print-directory", "image", "IMAGE_TAG="+tag, "IMAGE_OUT="+out)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("make image: %v\n%s", err, b)
	}
	ref, err := name.NewTag(tag)
	if err != nil {
		t.Fatal(err)
	}
	img, err := tarball.ImageFromPath(out, &ref)
	if err != nil {
		t.Fatalf("read the image: %v", err)
	}
	// Manifest, config and layers agree: digests, sizes, diff IDs.
	if err := validate.Image(img); err != nil {
		t.Fatalf("validate: %v", err)
	}

	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	checkConfig(t, cf)

	rootfs := filepath.Join(t.TempDir(), "rootfs")
	unpack(t, img, rootfs)
	if fi, err := os.Stat(filepath.Join(rootfs, entrypoint)); err != nil || fi.Mode().Perm()&0o111 == 0 {
		t.Fatalf("the entrypoint in the root filesystem: %v %v", fi, err)
	}

	runEntrypoint(t, cf, rootfs)
}

// checkConfig asserts the image's configuration.
func checkConfig(t *testing.T, cf *v1.ConfigFile) {
	t.Helper()
	c := cf.Config
	if cf.OS != "linux" || cf.Architecture != runtime.GOARCH {
		t.Errorf("platform %s/%s, want linux/%s", cf.OS, cf.Architecture, runtime.GOARCH)
	}
	if c.User != imageUser {
		t.Errorf("User %q, want %q (distroless's nonroot)", c.User, imageUser)
	}
	if !slices.Equal(c.Entrypoint, []string{entrypoint}) || len(c.Cmd) != 0 {
		t.Errorf("Entrypoint %q Cmd %q, want [%s] and no Cmd", c.Entrypoint, c.Cmd, entrypoint)
	}
	wantEnv := []string{"HOOKLINE_BRIDGE_ADDR=0.0.0.0:9090", "PATH=/usr/local/bin", "SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt"}
	env := slices.Clone(c.Env)
	slices.Sort(env)
	if diff := cmp.Diff(wantEnv, env); diff != "" {
		t.Errorf("Env (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]struct{}{"9090/tcp": {}}, c.ExposedPorts); diff != "" {
		t.Errorf("ExposedPorts (-want +got):\n%s", diff)
	}
	if c.StopSignal != "SIGTERM" || c.WorkingDir != "/home/nonroot" {
		t.Errorf("StopSignal %q WorkingDir %q", c.StopSignal, c.WorkingDir)
	}
	wantLabels := map[string]string{
		"org.opencontainers.image.title":       "hookline-bridge",
		"org.opencontainers.image.description": "Hookline Pulse bridge: Pulse (AMQP) hook queues to the trigger queue (SQS)",
		"org.opencontainers.image.version":     "imagetest",
	}
	if diff := cmp.Diff(wantLabels, c.Labels); diff != "" {
		t.Errorf("Labels (-want +got):\n%s", diff)
	}
}

// unpack writes the image's flattened root filesystem under dir, with the
// owners and modes the layers give.
func unpack(t *testing.T, img v1.Image, dir string) {
	t.Helper()
	rc := mutate.Extract(img)
	defer rc.Close()
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		target := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(target, dir+string(filepath.Separator)) && target != dir {
			t.Fatalf("layer entry %q escapes the root filesystem", h.Name)
		}
		mode := os.FileMode(h.Mode).Perm()
		if h.Mode&0o1000 != 0 { // /tmp
			mode |= os.ModeSticky
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				t.Fatal(err)
			}
		case tar.TypeReg:
			os.MkdirAll(filepath.Dir(target), 0o755)
			f, err := os.OpenFile(target, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := io.Copy(f, tr); err != nil {
				t.Fatal(err)
			}
			f.Close()
		default:
			t.Fatalf("layer entry %q of type %c: the image holds only directories and files", h.Name, h.Typeflag)
		}
		if err := os.Chown(target, h.Uid, h.Gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(target, mode); err != nil {
			t.Fatal(err)
		}
	}
}

// runEntrypoint runs the image's entrypoint as its user, chrooted into
// rootfs, in new mount and PID namespaces (it is PID 1 there, as in a
// container), with the image's environment and the test's settings over
// it, as `docker run -e` would give them. The network is the host's, so
// RabbitMQ on 127.0.0.1 and the test's SQS endpoint are reachable.
func runEntrypoint(t *testing.T, cf *v1.ConfigFile, rootfs string) {
	t.Helper()
	sqs := sqstest.New(t)
	trigger := sqs.CreateQueue("trigger", 0)
	var rnd [4]byte
	rand.Read(rnd[:])
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	namespace := "hltest-image-" + hex.EncodeToString(rnd[:])
	t.Cleanup(func() { deleteNamespace(t, namespace) })
	env := map[string]string{}
	for _, kv := range cf.Config.Env {
		k, v, _ := strings.Cut(kv, "=")
		env[k] = v
	}
	for k, v := range map[string]string{
		// On loopback, not 0.0.0.0:9090: other tests may hold that port.
		"HOOKLINE_BRIDGE_ADDR":        addr,
		"HOOKLINE_PULSE_URL":          testutil.BrokerURL(),
		"HOOKLINE_PULSE_NAMESPACE":    namespace,
		"HOOKLINE_STORE":              "embedded:/tmp/hooks.db",
		"HOOKLINE_TRIGGER_QUEUE_URL":  trigger,
		"AWS_REGION":                  "us-east-1",
		"AWS_ACCESS_KEY_ID":           "AKIDIMAGETEST",
		"AWS_SECRET_ACCESS_KEY":       "imagetest-secret",
		"AWS_ENDPOINT_URL_SQS":        sqs.URL,
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_CONFIG_FILE":             "/home/nonroot/.aws/config",
		"AWS_SHARED_CREDENTIALS_FILE": "/home/nonroot/.aws/credentials",
	} {
		env[k] = v
	}
	cmd := exec.Command(cf.Config.Entrypoint[0], cf.Config.Cmd...)
	cmd.Dir = cf.Config.WorkingDir
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	output := &testutil.SyncBuffer{}
	cmd.Stdout, cmd.Stderr = output, output
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Chroot:     rootfs,
		Cloneflags: syscall.CLONE_NEWNS | syscall.CLONE_NEWPID,
		Credential: &syscall.Credential{Uid: uid, Gid: gid, Groups: []uint32{}},
		Pdeathsig:  syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start the entrypoint: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-exited
		}
		if t.Failed() {
			t.Logf("bridge output:\n%s", output.String())
		}
	}()

	// Its identity, seen from outside: the image's user, PID 1 of its own
	// PID namespace.
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(status), "\n") {
		fields := strings.Fields(line)
		switch {
		case len(fields) >= 2 && fields[0] == "Uid:" && fields[1] != fmt.Sprint(uid):
			t.Errorf("runs as uid %s, want %d", fields[1], uid)
		case len(fields) >= 2 && fields[0] == "NSpid:" && fields[len(fields)-1] != "1":
			t.Errorf("NSpid %v: not PID 1 of a namespace of its own", fields[1:])
		}
	}
	for _, ns := range []string{"mnt", "pid"} {
		mine, _ := os.Readlink("/proc/self/ns/" + ns)
		its, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/%s", cmd.Process.Pid, ns))
		if its == "" || its == mine {
			t.Errorf("%s namespace %q, the test's is %q: want a new one", ns, its, mine)
		}
	}

	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case err := <-exited:
			t.Fatalf("the bridge exited before /healthz answered 200: %v", err)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("/healthz did not answer 200 within 30s")
		}
	}

	stopped := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Errorf("after SIGTERM: %v, want a clean exit (status 0)", err)
		}
		t.Logf("stopped %.0f ms after SIGTERM", float64(time.Since(stopped).Microseconds())/1000)
	case <-time.After(drainTimeout):
		t.Errorf("still running %v after SIGTERM (the drain timeout)", drainTimeout)
	}
	for _, line := range strings.Split(output.String(), "\n") {
		if strings.Contains(line, `"level":"ERROR"`) {
			t.Errorf("logged an error: %s", line)
		}
	}
}

// deleteNamespace deletes what the bridge declares on the broker for a
// namespace with no hooks: the dropped and parked queues and exchanges and
// the hook-change exchanges (its private queue of changes goes with its
// connection).
func deleteNamespace(t *testing.T, namespace string) {
	conn, err := amqp.Dial(testutil.BrokerURL())
	if err != nil {
		t.Errorf("clean the broker: %v", err)
		return
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		t.Errorf("clean the broker: %v", err)
		return
	}
	defer ch.Close()
	for _, q := range []string{pulse.DroppedQueue(namespace), pulse.ParkedQueue(namespace), pulse.TaskEventsQueue(namespace)} {
		if _, err := ch.QueueDelete(q, false, false, false); err != nil {
			t.Errorf("delete queue %s: %v", q, err)
			return // the channel is closed after an error
		}
	}
	for _, x := range []string{pulse.DroppedExchange(namespace), pulse.ParkedExchange(namespace),
		pulse.ExchangeName(namespace, hooks.HookCreated), pulse.ExchangeName(namespace, hooks.HookUpdated), pulse.ExchangeName(namespace, hooks.HookDeleted)} {
		if err := ch.ExchangeDelete(x, false, false); err != nil {
			t.Errorf("delete exchange %s: %v", x, err)
			return
		}
	}
}
