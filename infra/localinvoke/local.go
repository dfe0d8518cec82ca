package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"gopkg.in/yaml.v3"

	"github.com/hookline/hookline/shared/auth"
	"github.com/hookline/hookline/shared/secrets/secretstest"
	"github.com/hookline/hookline/shared/store/dynamo"
	"github.com/hookline/hookline/shared/taskcluster/localqueue"
)

// region is the one the function and the local servers agree on.
const region = "us-east-1"

// functionEnv reads the variables of function id from an env-vars file.
func functionEnv(path, id string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("env-vars file: %w", err)
	}
	var file map[string]map[string]string
	if err := json.Unmarshal(data, &file); err != nil {
		return nil, fmt.Errorf("env-vars file %s: %w", path, err)
	}
	env, ok := file[id]
	if !ok {
		var ids []string
		for k := range file {
			ids = append(ids, k)
		}
		return nil, fmt.Errorf("%s has no variables for %s (it has %s)", path, id, strings.Join(ids, ", "))
	}
	return env, nil
}

// functionTimeout reads function id's Timeout (seconds) from the SAM
// template, or the Globals' (SAM's default, 3, without either). The
// emulator gives each invocation that long.
func functionTimeout(path, id string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, fmt.Errorf("template: %w", err)
	}
	var tpl struct {
		Globals struct {
			Function struct {
				Timeout int `yaml:"Timeout"`
			} `yaml:"Function"`
		} `yaml:"Globals"`
		Resources map[string]struct {
			Type       string `yaml:"Type"`
			Properties struct {
				Timeout int `yaml:"Timeout"`
			} `yaml:"Properties"`
		} `yaml:"Resources"`
	}
	if err := yaml.Unmarshal(data, &tpl); err != nil {
		return 0, fmt.Errorf("template %s: %w", path, err)
	}
	fn, ok := tpl.Resources[id]
	if !ok || fn.Type != "AWS::Serverless::Function" {
		return 0, fmt.Errorf("%s has no AWS::Serverless::Function %s", path, id)
	}
	for _, t := range []int{fn.Properties.Timeout, tpl.Globals.Function.Timeout} {
		if t > 0 {
			return t, nil
		}
	}
	return 3, nil
}

// localClients is the clients document local-invoke's Secrets Manager
// stand-in holds: anonymous callers manage hooks, so the sample events need
// no Hawk signature.
const localClients = `{"anonymousScopes":["hooks:*","assume:hook-id:*"]}`

// local is what localinvoke starts around the function: dynalite, a
// Taskcluster queue and an SQS endpoint, each only when the function's
// variables call for it.
type local struct {
	logf func(format string, a ...any)
	// shared are the variables start set that any function run against
	// the same servers needs (endpoints, store, credentials).
	shared   map[string]string
	dynalite *exec.Cmd
	stdin    io.Closer
	exited   chan struct{}
	servers  []*http.Server
	queue    *localqueue.Queue
	tmp      string
}

// start brings up what env needs and points env at it; seedEnv, when not
// nil, is the variables of the function that seeds the table, whose
// secrets must be served too.
func (l *local) start(ctx context.Context, o options, env, seedEnv map[string]string) error {
	before := maps.Clone(env)
	defer func() {
		l.shared = map[string]string{}
		for k, v := range env {
			if before[k] != v || k == "HOOKLINE_STORE" {
				l.shared[k] = v
			}
		}
	}()
	env["AWS_REGION"], env["AWS_DEFAULT_REGION"] = region, region
	// Credentials as Lambda hands them to a function; nothing checks them
	// here, and nothing must reach for real ones.
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID":         "ASIALOCALINVOKE00000",
		"AWS_SECRET_ACCESS_KEY":     "local-invoke-secret-access-key",
		"AWS_SESSION_TOKEN":         "local-invoke-session-token",
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		if _, ok := o.set[k]; !ok {
			env[k] = v
		}
	}
	tmp, err := os.MkdirTemp("", "hookline-local-invoke-")
	if err != nil {
		return err
	}
	l.tmp = tmp
	if _, ok := o.set["AWS_CONFIG_FILE"]; !ok {
		env["AWS_CONFIG_FILE"] = filepath.Join(tmp, "config")
		env["AWS_SHARED_CREDENTIALS_FILE"] = filepath.Join(tmp, "credentials")
	}

	if table, ok := strings.CutPrefix(env["HOOKLINE_STORE"], "dynamodb:"); ok {
		if _, given := o.set["HOOKLINE_STORE"]; !given {
			endpoint, err := l.startDynalite(ctx, o.localDir)
			if err != nil {
				return err
			}
			if err := createTable(ctx, endpoint, table); err != nil {
				return err
			}
			env["AWS_ENDPOINT_URL_DYNAMODB"] = endpoint
			l.logf("store: table %s in dynalite at %s (gone when this ends)", table, endpoint)
		}
	}
	// The credentials the functions read from Secrets Manager: a local
	// stand-in holds the local queue's, and a clients document as the
	// README's trial has it.
	clientID, accessToken := env["TASKCLUSTER_CLIENT_ID"], env["TASKCLUSTER_ACCESS_TOKEN"]
	tcSecret, clientsSecret := env["TASKCLUSTER_CREDENTIALS_SECRET"], env["HOOKLINE_CLIENTS_SECRET"]
	if tcSecret == "" {
		tcSecret = seedEnv["TASKCLUSTER_CREDENTIALS_SECRET"]
	}
	if clientsSecret == "" {
		clientsSecret = seedEnv["HOOKLINE_CLIENTS_SECRET"]
	}
	if tcSecret != "" || clientsSecret != "" {
		if _, given := o.set["AWS_ENDPOINT_URL_SECRETS_MANAGER"]; !given {
			sm := secretstest.NewHandler()
			if tcSecret != "" {
				clientID, accessToken = "local-invoke", "local-invoke-access-token-0123456789"
				creds, _ := json.Marshal(map[string]string{"clientId": clientID, "accessToken": accessToken})
				sm.Put(tcSecret, string(creds))
			}
			if clientsSecret != "" {
				sm.Put(clientsSecret, localClients)
			}
			url, err := l.serve(sm)
			if err != nil {
				return err
			}
			env["AWS_ENDPOINT_URL_SECRETS_MANAGER"] = url
			l.logf("Secrets Manager: a stand-in at %s holds the local queue's credentials and the clients %s", url, localClients)
		}
	}
	if env["TASKCLUSTER_ROOT_URL"] != "" {
		if _, given := o.set["TASKCLUSTER_ROOT_URL"]; !given {
			url, err := l.serveQueue(clientID, accessToken)
			if err != nil {
				return err
			}
			env["TASKCLUSTER_ROOT_URL"] = url
			l.logf("Taskcluster: a local queue at %s takes the tasks", url)
		}
	}
	// Served whatever the function: a -seed api function announces hook
	// changes on its changes queue.
	{
		if _, given := o.set["AWS_ENDPOINT_URL_SQS"]; !given {
			url, err := l.serve(http.HandlerFunc(l.sqs))
			if err != nil {
				return err
			}
			env["AWS_ENDPOINT_URL_SQS"] = url
			l.logf("SQS: messages are shown here, not sent")
		}
	}
	return nil
}

// close stops everything start started.
func (l *local) close() {
	for _, s := range l.servers {
		s.Close()
	}
	if l.queue != nil {
		l.queue.Close()
	}
	if l.dynalite != nil {
		l.stdin.Close()
		select {
		case <-l.exited:
		case <-time.After(5 * time.Second):
			l.dynalite.Process.Kill()
			<-l.exited
		}
	}
	if l.tmp != "" {
		os.RemoveAll(l.tmp)
	}
}

// dynaliteScript starts dynalite in memory on a port the kernel picks,
// reports the port, and exits when its stdin closes, so it cannot outlive
// localinvoke.
const dynaliteScript = `
const dynalite = require('dynalite');
const server = dynalite({createTableMs: 0, deleteTableMs: 0, updateTableMs: 0});
server.listen(0, '127.0.0.1', () => process.stdout.write('listening ' + server.address().port + '\n'));
process.stdin.on('end', () => process.exit(0));
process.stdin.on('error', () => process.exit(0));
process.stdin.resume();
`

func (l *local) startDynalite(ctx context.Context, dir string) (string, error) {
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "dynalite")); err != nil {
		return "", fmt.Errorf("dynalite is not installed in %s (run `npm ci` there, or `make deps`): %w", dir, err)
	}
	cmd := exec.Command("node", "-e", dynaliteScript)
	cmd.Dir = dir
	cmd.Stderr = os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return "", err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return "", err
	}
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start dynalite (needs Node.js): %w", err)
	}
	l.dynalite, l.stdin, l.exited = cmd, stdin, make(chan struct{})
	ports := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if port, ok := strings.CutPrefix(sc.Text(), "listening "); ok {
				ports <- port
				break
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() {
		cmd.Wait()
		close(l.exited)
	}()
	select {
	case port := <-ports:
		return "http://127.0.0.1:" + port, nil
	case <-l.exited:
		return "", errors.New("dynalite exited at start")
	case <-time.After(30 * time.Second):
		return "", errors.New("dynalite did not start within 30s")
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// createTable creates the store's table as the stack defines it
// (dynamo.TableDefinition).
func createTable(ctx context.Context, endpoint, table string) error {
	client := dynamodb.New(dynamodb.Options{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials:  credentials.NewStaticCredentialsProvider("local", "local", ""),
	})
	if _, err := client.CreateTable(ctx, dynamo.TableDefinition(table)); err != nil {
		return fmt.Errorf("create table %s: %w", table, err)
	}
	return nil
}

// serve serves h on a free loopback port and returns its URL.
func (l *local) serve(h http.Handler) (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	l.servers = append(l.servers, srv)
	go srv.Serve(ln)
	return "http://" + ln.Addr().String(), nil
}

// serveQueue serves a local Taskcluster queue that accepts the function's
// credentials with the scopes Hookline's client needs (assume:hook-id:*,
// and through the hook-id:* role the queue's), and reports each task
// created.
func (l *local) serveQueue(clientID, accessToken string) (string, error) {
	q, err := localqueue.Open(filepath.Join(l.tmp, "queue.db"))
	if err != nil {
		return "", err
	}
	l.queue = q
	authz, err := auth.NewStatic(auth.Config{
		Clients: []auth.Client{{ClientID: clientID, AccessToken: accessToken, Scopes: []string{"assume:hook-id:*"}}},
		Roles:   []auth.Role{{RoleID: "hook-id:*", Scopes: []string{"queue:*"}}},
	}, nil)
	if err != nil {
		return "", fmt.Errorf("the local queue cannot take the function's Taskcluster credentials: %w", err)
	}
	handler := q.Handler(authz)
	mux := http.NewServeMux()
	mux.Handle(localqueue.Prefix, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		handler.ServeHTTP(rec, r)
		if taskID, ok := strings.CutPrefix(r.URL.Path, localqueue.Prefix+"task/"); ok && r.Method == http.MethodPut {
			l.logf("Taskcluster: createTask %s answered %d", taskID, rec.status)
		}
	}))
	return l.serve(mux)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(status int) {
	r.status = status
	r.ResponseWriter.WriteHeader(status)
}

// sqs answers SendMessage and SendMessageBatch (the AWS JSON protocol) as
// SQS would, and shows the messages.
func (l *local) sqs(w http.ResponseWriter, r *http.Request) {
	var in struct {
		QueueURL    string `json:"QueueUrl"`
		MessageBody string `json:"MessageBody"`
		Entries     []struct {
			ID          string `json:"Id"`
			MessageBody string `json:"MessageBody"`
		} `json:"Entries"`
	}
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	if err := json.Unmarshal(body, &in); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#InvalidParameterValue", "message": err.Error()})
		return
	}
	receipt := func(id, body string) map[string]any {
		sum := md5.Sum([]byte(body))
		out := map[string]any{"MessageId": fmt.Sprintf("local-%x", sum[:6]), "MD5OfMessageBody": hex.EncodeToString(sum[:])}
		if id != "" {
			out["Id"] = id
		}
		return out
	}
	switch target := r.Header.Get("X-Amz-Target"); target {
	case "AmazonSQS.SendMessage":
		l.logf("SQS: message to %s: %s", in.QueueURL, in.MessageBody)
		json.NewEncoder(w).Encode(receipt("", in.MessageBody))
	case "AmazonSQS.SendMessageBatch":
		var ok []any
		for _, e := range in.Entries {
			l.logf("SQS: message to %s: %s", in.QueueURL, e.MessageBody)
			ok = append(ok, receipt(e.ID, e.MessageBody))
		}
		json.NewEncoder(w).Encode(map[string]any{"Successful": ok, "Failed": []any{}})
	default:
		w.WriteHeader(http.StatusBadRequest)
		json.NewEncoder(w).Encode(map[string]string{"__type": "com.amazonaws.sqs#InvalidAction", "message": "local-invoke does not serve " + target})
	}
}

// emulated is the function running under the emulator.
type emulated struct {
	cmd    *exec.Cmd
	url    string
	exited chan struct{}
	out    *lockedWriter
}

// lockedWriter passes the emulator's output on and keeps what it said, so
// that readiness can be told from its first line.
type lockedWriter struct {
	mu  sync.Mutex
	w   io.Writer
	buf bytes.Buffer
}

func (lw *lockedWriter) Write(p []byte) (int, error) {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	if lw.buf.Len() < 1<<16 {
		lw.buf.Write(p)
	}
	return lw.w.Write(p)
}

func (lw *lockedWriter) contains(s string) bool {
	lw.mu.Lock()
	defer lw.mu.Unlock()
	return bytes.Contains(lw.buf.Bytes(), []byte(s))
}

// startEmulator runs the emulator with bootstrap and env, its output on
// stderr, and waits until it takes invocations.
func startEmulator(ctx context.Context, rie, bootstrap, id string, timeout int, env map[string]string, stderr io.Writer) (*emulated, error) {
	bin, err := filepath.Abs(bootstrap)
	if err != nil {
		return nil, err
	}
	if rie, err = filepath.Abs(rie); err != nil {
		return nil, err
	}
	if _, err := os.Stat(rie); err != nil {
		return nil, fmt.Errorf("the Runtime Interface Emulator: %w (`make bin/aws-lambda-rie` builds it)", err)
	}
	addrs, err := freeAddrs(2)
	if err != nil {
		return nil, err
	}
	full := map[string]string{
		// What Lambda sets from the template's function settings.
		"AWS_LAMBDA_FUNCTION_NAME":        "hookline-" + id,
		"AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
		"AWS_LAMBDA_FUNCTION_TIMEOUT":     strconv.Itoa(timeout),
		"AWS_LAMBDA_LOG_FORMAT":           "JSON",
		"AWS_LAMBDA_LOG_LEVEL":            "INFO",
	}
	for k, v := range env {
		full[k] = v
	}
	cmd := exec.Command(rie, "--runtime-interface-emulator-address", addrs[0], "--runtime-api-address", addrs[1], bin)
	cmd.Dir = filepath.Dir(bin)
	for k, v := range full {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	e := &emulated{cmd: cmd, url: "http://" + addrs[0] + "/2015-03-31/functions/function/invocations", exited: make(chan struct{}), out: &lockedWriter{w: stderr}}
	cmd.Stdout, cmd.Stderr = e.out, e.out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the emulator: %w", err)
	}
	go func() {
		cmd.Wait()
		close(e.exited)
	}()
	deadline := time.Now().Add(15 * time.Second)
	for {
		// The emulator names its bootstrap just before it listens.
		if e.out.contains("(rapid) exec '") {
			if conn, err := net.DialTimeout("tcp", addrs[0], time.Second); err == nil {
				conn.Close()
				return e, nil
			}
		}
		select {
		case <-e.exited:
			return nil, errors.New("the emulator exited at start")
		case <-ctx.Done():
			e.stop()
			return nil, ctx.Err()
		case <-time.After(2 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			e.stop()
			return nil, fmt.Errorf("the emulator did not listen on %s within 15s", addrs[0])
		}
	}
}

func freeAddrs(n int) ([]string, error) {
	var addrs []string
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		addrs = append(addrs, ln.Addr().String())
	}
	return addrs, nil
}

// invoke posts event and returns the emulator's answer.
func (e *emulated) invoke(ctx context.Context, event []byte) (int, []byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.url, bytes.NewReader(event))
	if err != nil {
		return 0, nil, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	return res.StatusCode, body, err
}

// stop sends SIGTERM, on which the emulator kills the bootstrap and exits.
func (e *emulated) stop() {
	e.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-e.exited:
	case <-time.After(10 * time.Second):
		e.cmd.Process.Kill()
		<-e.exited
	}
}
