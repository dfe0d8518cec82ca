package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"
)

// A fire answered 200 is durable: serve is killed with SIGKILL right after
// each answer, restarted over the same data directory, and both the task
// (local queue) and the fire record (listLastFires) are there. The task
// and the records commit in one transaction (localqueue.Joint), fsync'd
// before the answer.
func TestServeFireSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts serve as a subprocess several times")
	}
	dir := t.TempDir()
	c := startChild(t, dir)
	c.must(t, http.MethodPut, "/api/hooks/v1/hooks/durable/one", childHook("one"), http.StatusOK)
	var fired []string
	for i := range 5 {
		// Every other fire names its taskId through an idempotency key,
		// so the claim commits with them too.
		req, _ := http.NewRequest(http.MethodPost, c.base+"/api/hooks/v1/hooks/durable/one/trigger", stringsReader(`{"n":`+strconv.Itoa(i)+`}`))
		req.Header.Set("Content-Type", "application/json")
		if i%2 == 1 {
			req.Header.Set("Idempotency-Key", "fire-"+strconv.Itoa(i))
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var out struct{ TaskID string }
		err = json.NewDecoder(resp.Body).Decode(&out)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			c.kill(t) // at once: nothing may be left for after the answer
		}
		if err != nil || resp.StatusCode != http.StatusOK || out.TaskID == "" {
			t.Fatalf("fire %d: %d %v %+v", i, resp.StatusCode, err, out)
		}
		fired = append(fired, out.TaskID)
		c = startChild(t, dir)
		checkFired(t, c, "durable/one", fired)
	}
}

// Concurrent fires, killed mid-stream: every fire answered 200 before the
// kill is there after the restart.
func TestServeConcurrentFiresSurviveKill(t *testing.T) {
	if testing.Short() {
		t.Skip("starts serve as a subprocess several times")
	}
	dir := t.TempDir()
	c := startChild(t, dir)
	c.must(t, http.MethodPut, "/api/hooks/v1/hooks/durable/many", childHook("many"), http.StatusOK)
	for round := range 3 {
		var (
			mu    sync.Mutex
			fired []string
			wg    sync.WaitGroup
		)
		stop := make(chan struct{})
		client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 10 * time.Second}
		for w := range 8 {
			wg.Go(func() {
				for n := 0; ; n++ {
					select {
					case <-stop:
						return
					default:
					}
					code, body, err := c.do(client, http.MethodPost, "/api/hooks/v1/hooks/durable/many/trigger", `{"n":`+strconv.Itoa(w*1000+n)+`}`)
					if err != nil {
						return // the kill cut the connection
					}
					var out struct{ TaskID string }
					if code != http.StatusOK || json.Unmarshal(body, &out) != nil || out.TaskID == "" {
						t.Errorf("fire: %d %s", code, body)
						return
					}
					mu.Lock()
					fired = append(fired, out.TaskID)
					mu.Unlock()
				}
			})
		}
		// Kill once some fires were answered, while others are on
		// their way.
		deadline := time.Now().Add(20 * time.Second)
		for {
			mu.Lock()
			n := len(fired)
			mu.Unlock()
			if n >= 50*(round+1) || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		c.kill(t)
		close(stop)
		wg.Wait()
		client.CloseIdleConnections()
		if len(fired) == 0 {
			t.Fatal("no fire was answered before the kill")
		}
		c = startChild(t, dir)
		checkFired(t, c, "durable/many", fired)
		t.Logf("round %d: %d fires answered before the kill, all there after the restart", round, len(fired))
	}
}

// checkFired checks that each taskId is a task of the local queue and has
// a fire record of the hook.
func checkFired(t *testing.T, c *child, hook string, taskIDs []string) {
	t.Helper()
	records := map[string]bool{}
	token := ""
	for {
		path := "/api/hooks/v1/hooks/" + hook + "/last-fires"
		if token != "" {
			path += "?continuationToken=" + url.QueryEscape(token)
		}
		var page struct {
			LastFires []struct {
				TaskID string `json:"taskId"`
				Result string `json:"result"`
			} `json:"lastFires"`
			ContinuationToken string `json:"continuationToken"`
		}
		if err := json.Unmarshal(c.must(t, http.MethodGet, path, "", http.StatusOK), &page); err != nil {
			t.Fatal(err)
		}
		for _, f := range page.LastFires {
			records[f.TaskID] = f.Result == "success"
		}
		if token = page.ContinuationToken; token == "" {
			break
		}
	}
	for _, id := range taskIDs {
		if !records[id] {
			t.Errorf("task %s: no successful fire record after the restart", id)
		}
		if code, body, err := c.do(http.DefaultClient, http.MethodGet, "/api/queue/v1/task/"+id, ""); err != nil || code != http.StatusOK {
			t.Errorf("task %s: not in the local queue after the restart: %d %v %s", id, code, err, body)
		}
	}
}
