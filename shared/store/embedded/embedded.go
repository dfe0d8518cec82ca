package embedded

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/hookline/hookline/shared/boltcommit"
	"github.com/hookline/hookline/shared/store"
)

var (
	bucketHooks    = []byte("hooks")
	bucketClaims   = []byte("claims")
	bucketDue      = []byte("due")
	bucketFires    = []byte("fires")
	bucketSettings = []byte("settings")
	// bucketAwaited indexes the fire records whose task outcome is
	// awaited (history.go); bucketNotifications and bucketNotifyDue hold
	// notifications and their due index (notifications.go).
	bucketAwaited       = []byte("awaited")
	bucketNotifications = []byte("notifications")
	bucketNotifyDue     = []byte("notifyDue")
)

// Store is the bbolt-backed store.
type Store struct {
	db     *bolt.DB
	commit *boltcommit.Committer
	// hooks keeps hook records decoded (hookcache.go).
	hooks hookCache
}

var (
	_ store.Store   = (*Store)(nil)
	_ store.Expirer = (*Store)(nil)
)

// Options tune the store; nil means defaults.
type Options struct {
	// Timeout bounds the wait for the file lock held by another process.
	// Zero means 5 seconds.
	Timeout time.Duration
}

// Open opens (creating if needed) the database file at path.
func Open(path string, opts *Options) (*Store, error) {
	timeout := 5 * time.Second
	if opts != nil && opts.Timeout > 0 {
		timeout = opts.Timeout
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("embedded: create data dir: %w", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: timeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return nil, fmt.Errorf("embedded: open %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketHooks, bucketClaims, bucketDue, bucketFires, bucketSettings, bucketAwaited, bucketNotifications, bucketNotifyDue} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("embedded: init buckets: %w", err)
	}
	return &Store{db: db, commit: boltcommit.New(db)}, nil
}

// Close stops the committer and closes the database file.
func (s *Store) Close() error {
	s.commit.Close()
	return s.db.Close()
}

// write runs fn in a durable read-write transaction shared with other
// writers. fn may run more than once (when another write of its group
// fails), so it must read what it needs inside the transaction and decide
// before it writes. The store's own refusals (conflict, not found) are
// fn's answer, not a failure: they are returned to the caller without
// rolling back the writes that share the transaction.
func (s *Store) write(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	var refusal error
	err := s.commit.Do(func(tx *bolt.Tx) error {
		refusal = nil
		err := fn(tx)
		if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
			refusal = err
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	return refusal
}

func (s *Store) read(ctx context.Context, fn func(*bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

func pageLimit(p store.Page) int {
	if p.Limit <= 0 {
		return store.DefaultPageLimit
	}
	return p.Limit
}

// seekAfter positions c on the first key strictly after `after` ("" means
// the first key).
func seekAfter(c *bolt.Cursor, after string) ([]byte, []byte) {
	if after == "" {
		return c.First()
	}
	k, v := c.Seek([]byte(after))
	if k != nil && bytes.Equal(k, []byte(after)) {
		return c.Next()
	}
	return k, v
}
