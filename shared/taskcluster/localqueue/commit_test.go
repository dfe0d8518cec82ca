package localqueue

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func TestGroupCommit(t *testing.T) {
	db, err := bolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	g := newGroupCommit(db)
	boom := errors.New("boom")
	// 64 concurrent writes, of which every 8th fails and every 16th
	// panics: the others must all commit, each failure stays its own.
	var wg sync.WaitGroup
	errs := make([]error, 64)
	for i := range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = g.do(func(tx *bolt.Tx) error {
				switch {
				case i%16 == 15:
					panic("bad write")
				case i%8 == 7:
					return boom
				}
				return tx.Bucket([]byte("b")).Put(fmt.Appendf(nil, "k%02d", i), []byte("v"))
			})
		}()
	}
	wg.Wait()
	for i, err := range errs {
		switch {
		case i%16 == 15:
			if err == nil || errors.Is(err, boom) {
				t.Errorf("write %d panicked: err = %v", i, err)
			}
		case i%8 == 7:
			if !errors.Is(err, boom) {
				t.Errorf("write %d failed: err = %v", i, err)
			}
		case err != nil:
			t.Errorf("write %d: %v", i, err)
		}
	}
	err = db.View(func(tx *bolt.Tx) error {
		for i := range 64 {
			stored := tx.Bucket([]byte("b")).Get(fmt.Appendf(nil, "k%02d", i)) != nil
			if want := i%8 != 7; stored != want {
				t.Errorf("key %d stored = %v, want %v", i, stored, want)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if g.committed.Load() != 64 || g.commits.Load() < 1 || g.commits.Load() > 64 {
		t.Errorf("%d writes in %d commits", g.committed.Load(), g.commits.Load())
	}
	g.close()
	g.close() // idempotent
	if err := g.do(func(*bolt.Tx) error { return nil }); !errors.Is(err, errClosed) {
		t.Errorf("write after close: %v", err)
	}
}
