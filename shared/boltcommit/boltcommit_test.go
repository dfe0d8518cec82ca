package boltcommit

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
)

func openDB(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "t.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	return db
}

func put(k string) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error { return tx.Bucket([]byte("b")).Put([]byte(k), []byte("v")) }
}

func TestConcurrentWritesAllCommit(t *testing.T) {
	db := openDB(t)
	c := New(db)
	defer c.Close()
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			if err := c.Do(put(fmt.Sprint(i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	n := 0
	db.View(func(tx *bolt.Tx) error { n = tx.Bucket([]byte("b")).Stats().KeyN; return nil })
	if n != 200 {
		t.Fatalf("%d keys, want 200", n)
	}
	commits, writes := c.Stats()
	if writes != 200 || commits < 1 || commits > 200 {
		t.Fatalf("commits %d writes %d", commits, writes)
	}
}

// A failing or panicking write fails alone; the rest of its group commits.
func TestFailureStaysWithItsCaller(t *testing.T) {
	db := openDB(t)
	c := New(db)
	defer c.Close()
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make([]error, 30)
	for i := range 30 {
		wg.Go(func() {
			switch i % 10 {
			case 3:
				errs[i] = c.Do(func(*bolt.Tx) error { return boom })
			case 7:
				errs[i] = c.Do(func(*bolt.Tx) error { panic("bad write") })
			default:
				errs[i] = c.Do(put(fmt.Sprint(i)))
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		switch i % 10 {
		case 3:
			if !errors.Is(err, boom) {
				t.Errorf("write %d: %v", i, err)
			}
		case 7:
			if err == nil {
				t.Errorf("write %d: panic not reported", i)
			}
		default:
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}
	}
}

func TestClosed(t *testing.T) {
	c := New(openDB(t))
	c.Close()
	if err := c.Do(put("x")); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
	c.Close() // idempotent
}
