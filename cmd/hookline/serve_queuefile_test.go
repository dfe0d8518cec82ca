package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/hookline/hookline/shared/config"
	"github.com/hookline/hookline/shared/taskcluster/localqueue"
)

// A data directory from before the local queue moved into the store's
// file: serve moves queue.db's tasks there once, renames the old file,
// and serves them.
func TestServeMovesOldQueueFile(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	old, err := localqueue.Open(filepath.Join(dir, "queue.db"))
	if err != nil {
		t.Fatal(err)
	}
	const taskID = "fN1SbArXTPSVFNUvaOlinQ"
	now := time.Now().UTC()
	task, _ := json.Marshal(map[string]any{"provisionerId": "p", "workerType": "w", "created": now.Format(time.RFC3339), "deadline": now.Add(time.Hour).Format(time.RFC3339),
		"payload": map[string]any{}, "metadata": map[string]any{"name": "t", "description": "d", "owner": "o@example.com", "source": "https://example.com"}})
	if _, err := old.CreateTask(ctx, taskID, task, nil); err != nil {
		t.Fatal(err)
	}
	if err := old.Close(); err != nil {
		t.Fatal(err)
	}

	cfg, err := config.Load(envFrom(map[string]string{"HOOKLINE_DATA_DIR": dir}))
	if err != nil {
		t.Fatal(err)
	}
	for range 2 { // the second start finds nothing to move
		local, err := buildServer(ctx, cfg, slog.New(slog.DiscardHandler), io.Discard)
		if err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		local.handler.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "http://localhost/api/queue/v1/task/"+taskID+"/status", nil))
		local.cleanup()
		if rec.Code != http.StatusOK {
			t.Fatalf("task %s: %d %s", taskID, rec.Code, rec.Body)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "queue.db")); !os.IsNotExist(err) {
		t.Errorf("queue.db is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "queue.db.moved")); err != nil {
		t.Errorf("queue.db.moved: %v", err)
	}
}
