package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/hookline/hookline/shared/auth"
)

// `hookline work` is a small worker for `hookline serve`'s local queue (or
// any Taskcluster queue): it claims tasks of one task queue with
// claimWork, runs each task's payload.command (an array: the program and
// its arguments) with TASK_ID and RUN_ID in its environment, and reports
// the run completed (exit 0), failed (any other exit, or past
// payload.maxRunTime seconds) or exception/malformed-payload (no command).
// It signs with TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN, which
// need queue:claim-work:<provisionerId>/<workerType> and
// queue:worker-id:<workerGroup>/<workerId>; each run is reported with the
// credentials claimWork gave it. It is for trying hooks out: it runs
// commands as the user who starts it, with no isolation.

// workResult is the JSON line printed for each task run.
type workResult struct {
	TaskID   string `json:"taskId"`
	RunID    int    `json:"runId"`
	Result   string `json:"result"`
	ExitCode int    `json:"exitCode"`
	Error    string `json:"error,omitempty"`
}

func runWork(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	fs := flag.NewFlagSet("hookline work", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := getenv("HOOKLINE_ADDR")
	if addr == "" {
		addr = "127.0.0.1:8080"
	}
	rootURL := fs.String("root-url", "http://"+addr, "the queue's root URL: `hookline serve`'s, or a Taskcluster deployment's")
	provisioner := fs.String("provisioner", "", "the provisionerId of the tasks to run (required)")
	workerType := fs.String("worker-type", "", "the workerType of the tasks to run (required)")
	group := fs.String("worker-group", "local", "this worker's workerGroup")
	id := fs.String("worker-id", "hookline-work", "this worker's workerId")
	once := fs.Bool("once", false, "run one task, then exit")
	maxRun := fs.Duration("max-run-time", 10*time.Minute, "the longest a task may run when its payload sets no maxRunTime")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if *provisioner == "" || *workerType == "" || fs.NArg() > 0 {
		fmt.Fprintln(stderr, "usage: hookline work --provisioner P --worker-type W [--root-url URL] [--worker-group G] [--worker-id I] [--once] [--max-run-time D]")
		return 2
	}
	creds := auth.Credentials{ClientID: getenv("TASKCLUSTER_CLIENT_ID"), AccessToken: getenv("TASKCLUSTER_ACCESS_TOKEN")}
	if creds.ClientID == "" || creds.AccessToken == "" {
		fmt.Fprintln(stderr, "hookline work: TASKCLUSTER_CLIENT_ID and TASKCLUSTER_ACCESS_TOKEN must name a client with queue:claim-work and queue:worker-id scopes (`hookline serve` prints its root client)")
		return 2
	}
	w := &worker{base: strings.TrimRight(*rootURL, "/") + "/api/queue/v1", creds: creds, group: *group, id: *id,
		maxRun: *maxRun, hc: &http.Client{Timeout: time.Minute}, stderr: stderr}
	enc := json.NewEncoder(stdout)
	for ctx.Err() == nil {
		claims, err := w.claim(ctx, *provisioner, *workerType)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			fmt.Fprintln(stderr, "hookline work:", err)
			return 1
		}
		for _, c := range claims {
			res := w.run(ctx, c)
			enc.Encode(res)
			if res.Error != "" && res.Result == "" {
				return 1
			}
		}
		if *once && len(claims) > 0 {
			return 0
		}
	}
	return 0
}

type worker struct {
	base      string
	creds     auth.Credentials
	group, id string
	maxRun    time.Duration
	hc        *http.Client
	stderr    io.Writer
}

type claimedRun struct {
	Status struct {
		TaskID string `json:"taskId"`
	} `json:"status"`
	RunID int `json:"runId"`
	Task  struct {
		Payload json.RawMessage `json:"payload"`
	} `json:"task"`
	Credentials struct {
		ClientID    string `json:"clientId"`
		AccessToken string `json:"accessToken"`
		Certificate string `json:"certificate"`
	} `json:"credentials"`
}

func (w *worker) claim(ctx context.Context, provisioner, workerType string) ([]claimedRun, error) {
	var out struct {
		Tasks []claimedRun `json:"tasks"`
	}
	body := map[string]any{"workerGroup": w.group, "workerId": w.id, "tasks": 1}
	if err := w.call(ctx, w.creds, "/claim-work/"+provisioner+"/"+workerType, body, &out); err != nil {
		return nil, fmt.Errorf("claimWork: %w", err)
	}
	return out.Tasks, nil
}

// run runs one claimed task and reports it.
func (w *worker) run(ctx context.Context, c claimedRun) workResult {
	res := workResult{TaskID: c.Status.TaskID, RunID: c.RunID}
	runCreds := auth.Credentials{ClientID: c.Credentials.ClientID, AccessToken: c.Credentials.AccessToken, Certificate: c.Credentials.Certificate}
	var payload struct {
		Command    []string `json:"command"`
		MaxRunTime int      `json:"maxRunTime"`
	}
	report, reason := "completed", ""
	if err := json.Unmarshal(c.Task.Payload, &payload); err != nil || len(payload.Command) == 0 {
		report, reason = "exception", "malformed-payload"
		res.Error = "payload.command must be an array of strings: the program and its arguments"
	} else {
		limit := w.maxRun
		if payload.MaxRunTime > 0 {
			limit = time.Duration(payload.MaxRunTime) * time.Second
		}
		rctx, cancel := context.WithTimeout(ctx, limit)
		cmd := exec.CommandContext(rctx, payload.Command[0], payload.Command[1:]...)
		cmd.Env = append(os.Environ(), "TASK_ID="+c.Status.TaskID, fmt.Sprintf("RUN_ID=%d", c.RunID))
		cmd.Stdout, cmd.Stderr = w.stderr, w.stderr
		err := cmd.Run()
		cancel()
		var exit *exec.ExitError
		switch {
		case err == nil:
		case errors.As(err, &exit):
			report, res.ExitCode = "failed", exit.ExitCode()
			if rctx.Err() != nil {
				res.Error = "the task ran past its maxRunTime"
			}
		default:
			report, res.Error = "failed", err.Error()
		}
	}
	var body any
	if reason != "" {
		body = map[string]string{"reason": reason}
	}
	path := fmt.Sprintf("/task/%s/runs/%d/%s", c.Status.TaskID, c.RunID, report)
	if err := w.call(ctx, runCreds, path, body, nil); err != nil {
		res.Error = "report " + report + ": " + err.Error()
		return res
	}
	res.Result = report
	return res
}

// call POSTs body, signed with creds, and decodes the answer into out.
func (w *worker) call(ctx context.Context, creds auth.Credentials, path string, body, out any) error {
	var data []byte
	if body != nil {
		var err error
		if data, err = json.Marshal(body); err != nil {
			return err
		}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.base+path, bytes.NewReader(data))
	if err != nil {
		return err
	}
	if data != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if err := auth.SignRequest(req, creds, nil, time.Now()); err != nil {
		return err
	}
	resp, err := w.hc.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%d %s", resp.StatusCode, bytes.TrimSpace(answer))
	}
	if out != nil {
		return json.Unmarshal(answer, out)
	}
	return nil
}
