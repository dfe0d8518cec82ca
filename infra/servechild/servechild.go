// Package servechild runs `hookline serve` as a child process for the
// repository's tools (benchhttp, bodyload, apifuzz): a fresh data
// directory, a free loopback port, a clean environment, the log in a file,
// and what /proc says of the process (CPU time, memory). The tools had
// each their own copy of this; one copy keeps their servers started,
// measured and stopped the same way.
package servechild

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Options say how to start the child.
type Options struct {
	// Binary is the hookline executable.
	Binary string
	// Env is added to the clean environment, after the Go runtime's
	// settings passed through: a caller's GOGC here wins.
	Env []string
	// Parent is where the data directory is made (os.TempDir() if
	// empty), Prefix the start of its name ("serve-" if empty).
	Parent, Prefix string
}

// passedThrough are the caller's variables the child gets: the Go
// runtime's settings a measurement may pin, and where temporary files go.
var passedThrough = []string{"GOMAXPROCS", "GOGC", "GOMEMLIMIT", "GODEBUG", "TMPDIR"}

// readyWithin is how long Start waits for the child to answer ping.
const readyWithin = 30 * time.Second

// Child is a running `hookline serve`.
type Child struct {
	Addr string // host:port it listens on
	Base string // http://Addr
	Dir  string // its data directory (and HOME), removed by Stop
	Log  string // the file its standard error (the log) goes to

	cmd     *exec.Cmd
	done    chan struct{} // closed when the process has ended
	waitErr error         // how it ended, once done is closed
}

// Start starts opts.Binary serve and waits until it answers ping. The
// environment holds only PATH, HOME and HOOKLINE_ADDR/HOOKLINE_DATA_DIR
// (both fresh), the passed-through Go settings and opts.Env: nothing of
// the caller's Hookline, Taskcluster or AWS settings leaks in.
func Start(ctx context.Context, opts Options) (*Child, error) {
	if _, err := os.Stat(opts.Binary); err != nil {
		return nil, fmt.Errorf("hookline binary: %w", err)
	}
	prefix := opts.Prefix
	if prefix == "" {
		prefix = "serve-"
	}
	dir, err := os.MkdirTemp(opts.Parent, prefix)
	if err != nil {
		return nil, err
	}
	// A free port chosen here: the server says where it listens only at
	// log level info, which Env may change.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	c := &Child{Addr: addr, Base: "http://" + addr, Dir: dir, Log: filepath.Join(dir, "serve.log"), done: make(chan struct{})}
	c.cmd = exec.Command(opts.Binary, "serve")
	c.cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir, "HOOKLINE_ADDR=" + addr, "HOOKLINE_DATA_DIR=" + dir}
	for _, k := range passedThrough {
		if v, ok := os.LookupEnv(k); ok {
			c.cmd.Env = append(c.cmd.Env, k+"="+v)
		}
	}
	c.cmd.Env = append(c.cmd.Env, opts.Env...)
	// The log goes to a file, as a service's log does: a pipe would have
	// this process read every line, on the CPU it shares with the server.
	logFile, err := os.Create(c.Log)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	defer logFile.Close() // the child has its own descriptor
	c.cmd.Stdout, c.cmd.Stderr = io.Discard, logFile
	if err := c.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	go func() {
		c.waitErr = c.cmd.Wait()
		close(c.done)
	}()
	if err := c.waitReady(ctx); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

func (c *Child) waitReady(ctx context.Context) error {
	deadline := time.After(readyWithin)
	for c.Ping() != nil {
		select {
		case <-c.done:
			return fmt.Errorf("hookline serve exited: %v\n%s", c.waitErr, c.Tail(40))
		case <-deadline:
			return fmt.Errorf("hookline serve did not answer ping within %s\n%s", readyWithin, c.Tail(40))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
	return nil
}

// Ping asks the child's ping endpoint, on a new connection, and says why
// it got no 200.
func (c *Child) Ping() error {
	hc := http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{Proxy: nil, DisableKeepAlives: true}}
	res, err := hc.Get(c.Base + "/api/hooks/v1/ping")
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("ping answered %d", res.StatusCode)
	}
	return nil
}

// Pid is the child's process id.
func (c *Child) Pid() int { return c.cmd.Process.Pid }

// Signal sends sig to the child.
func (c *Child) Signal(sig os.Signal) error { return c.cmd.Process.Signal(sig) }

// Exited reports whether the child has ended, and how.
func (c *Child) Exited() (bool, error) {
	select {
	case <-c.done:
		return true, c.waitErr
	default:
		return false, nil
	}
}

// Stop interrupts the child (it closes its store), kills it if it has
// not ended within 15 s, and removes its data directory. It may be
// called more than once.
func (c *Child) Stop() {
	_ = c.cmd.Process.Signal(os.Interrupt)
	select {
	case <-c.done:
	case <-time.After(15 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	os.RemoveAll(c.Dir)
}

// Head is the first n lines of the child's log.
func (c *Child) Head(n int) []string {
	f, err := os.Open(c.Log)
	if err != nil {
		return nil
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() && len(lines) < n {
		lines = append(lines, sc.Text())
	}
	return lines
}

// Tail is the last n lines of the child's log, each cut to 2,000 bytes,
// under a line saying what they are.
func (c *Child) Tail(n int) string {
	data, _ := os.ReadFile(c.Log)
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	for i, l := range lines {
		if len(l) > 2000 {
			lines[i] = l[:2000] + "…"
		}
	}
	return "hookline serve's last log lines:\n" + strings.Join(lines, "\n")
}

// CPU is the child's CPU time so far (user and system, from
// /proc/<pid>/stat), or 0 where there is no /proc.
func (c *Child) CPU() time.Duration {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.Pid()))
	if err != nil {
		return 0
	}
	// The fields after the command name, which is in parentheses and
	// may hold spaces: utime and stime are the 14th and 15th fields.
	rest := string(data)
	if i := strings.LastIndexByte(rest, ')'); i >= 0 {
		rest = rest[i+1:]
	}
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	// Linux reports clock ticks of 1/100 s (USER_HZ) to user space.
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

// Memory is what /proc/<pid>/status says of a process's memory, in kB.
// RSS is RssAnon (heap, stacks) + RssFile (mapped files: bbolt's pages)
// + RssShmem; HWM is the peak of RSS.
type Memory struct {
	RSS, HWM, Anon, File, Shmem int64
}

// Memory is the child's memory now, zero where there is no /proc.
func (c *Child) Memory() Memory {
	m, _ := ReadMemory(c.Pid())
	return m
}

// ErrNoProc is ReadMemory's error where /proc/<pid>/status cannot be read
// (not Linux, or the process is gone).
var ErrNoProc = errors.New("no /proc/<pid>/status")

// ReadMemory reads the memory of process pid from /proc/<pid>/status.
func ReadMemory(pid int) (Memory, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return Memory{}, fmt.Errorf("%w: %w", ErrNoProc, err)
	}
	var m Memory
	for line := range strings.SplitSeq(string(data), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(value), "kB")), 10, 64)
		if err != nil {
			continue
		}
		switch name {
		case "VmRSS":
			m.RSS = kb
		case "VmHWM":
			m.HWM = kb
		case "RssAnon":
			m.Anon = kb
		case "RssFile":
			m.File = kb
		case "RssShmem":
			m.Shmem = kb
		}
	}
	return m, nil
}

// LoadAvg is the machine's load (uptime's three figures), or "unknown":
// the tools print it beside their figures, which a busy machine skews.
func LoadAvg() string {
	data, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(data))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
