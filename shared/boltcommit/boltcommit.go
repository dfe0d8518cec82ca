// Package boltcommit commits concurrent bbolt writes in groups: one
// transaction and one fsync for every write that arrived while the
// previous commit ran. Each write is durable when its call returns.
package boltcommit

import (
	"errors"
	"fmt"
	"sync"
	"sync/atomic"

	bolt "go.etcd.io/bbolt"
)

// ErrClosed is returned for writes after Close.
var ErrClosed = errors.New("boltcommit: closed")

// maxGroup bounds how many writes share one transaction.
const maxGroup = 512

// Committer runs writes in shared bbolt transactions, one commit (and
// fsync) for every write that arrived while the previous commit ran.
//
// It replaces bbolt's Batch, which starts a batch on a timer
// (MaxBatchDelay): when every caller waits for its write before sending
// the next, a long delay idles the disk and a short one splits the callers
// into small batches that queue behind each other's commits. With 16
// callers on the 2-core test machine (BenchmarkCreateTaskParallel, median
// of 7 interleaved runs) Batch gave about 1,150 tasks/s at bbolt's default
// 10ms, 3,200 at 2ms and 3,700 at 1ms; this gives about 4,600, and a lone
// write commits at once instead of waiting for the timer. There is no delay
// to tune.
//
// With 16 callers a group holds about 8 writes: the callers settle into two
// cohorts that take turns. Waiting for the other cohort (tried: callers
// answered by one commit come back within a commit's time) doubled the
// group size but not the throughput, which is CPU-bound there, so the loop
// never waits.
type Committer struct {
	db      *bolt.DB
	writes  chan *write // unbuffered: a write is accepted only by the loop
	quit    chan struct{}
	stopped chan struct{}
	once    sync.Once
	// commits and committed count transactions and the writes they held.
	commits, committed atomic.Int64
}

// write is one caller's transaction function and where its outcome goes.
type write struct {
	fn   func(*bolt.Tx) error
	done chan error // buffered(1)
}

// New starts a committer for db; Close stops it.
func New(db *bolt.DB) *Committer {
	g := &Committer{db: db, writes: make(chan *write), quit: make(chan struct{}), stopped: make(chan struct{})}
	go g.loop()
	return g
}

// Do runs fn in a committed transaction, possibly shared with others. fn
// may run more than once (when another write in its group fails), so it
// must start from scratch each time. An error from fn fails only that
// write.
func (g *Committer) Do(fn func(*bolt.Tx) error) error {
	w := &write{fn: fn, done: make(chan error, 1)}
	select {
	case g.writes <- w:
	case <-g.quit:
		return ErrClosed
	}
	// The write is in the loop's hands and will commit or fail; waiting
	// is the only way to learn which.
	return <-w.done
}

// Close stops the loop after the write in progress.
func (g *Committer) Close() {
	g.once.Do(func() { close(g.quit) })
	<-g.stopped
}

func (g *Committer) loop() {
	defer close(g.stopped)
	group := make([]*write, 0, maxGroup)
	for {
		select {
		case w := <-g.writes:
			group = append(group[:0], w)
		case <-g.quit:
			return
		}
		// Everyone who queued up while the last commit ran joins this one.
	fill:
		for len(group) < maxGroup {
			select {
			case w := <-g.writes:
				group = append(group, w)
			default:
				break fill
			}
		}
		g.commit(group)
		clear(group) // drop references to finished writes
	}
}

// commit runs the group in one transaction. If one write fails, the
// transaction is rolled back and every write runs alone, so a failure
// stays its caller's.
func (g *Committer) commit(group []*write) {
	failed := false
	err := g.db.Update(func(tx *bolt.Tx) error {
		for _, w := range group {
			if err := safeCall(w.fn, tx); err != nil {
				failed = true
				return err
			}
		}
		return nil
	})
	// Count before answering: a caller whose Do has returned must find
	// its write in Stats.
	g.commits.Add(1)
	g.committed.Add(int64(len(group)))
	if err == nil || !failed || len(group) == 1 {
		for _, w := range group {
			w.done <- err
		}
		return
	}
	for _, w := range group {
		w.done <- g.db.Update(func(tx *bolt.Tx) error { return safeCall(w.fn, tx) })
	}
}

// safeCall turns a panic in fn into an error, so that one bad write can
// neither kill the loop nor leave its group waiting.
func safeCall(fn func(*bolt.Tx) error, tx *bolt.Tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic in write: %v", p)
		}
	}()
	return fn(tx)
}

// Stats returns how many transactions were committed and how many writes
// they held, for benchmarks' average group size. A write is counted before
// its Do returns.
func (g *Committer) Stats() (commits, writes int64) { return g.commits.Load(), g.committed.Load() }
