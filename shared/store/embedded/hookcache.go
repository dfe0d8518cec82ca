package embedded

import (
	"bytes"
	"sync"

	"github.com/hookline/hookline/shared/store"
)

// Decoding a hook record is most of what reading a hook costs (the JSON
// decoder scans a definition of a few kilobytes twice: once to check it,
// once to copy it out). hookCache keeps recently read records decoded,
// each beside the exact bytes it was decoded from: a read whose stored
// bytes are the same takes the decoded record. The cache needs no
// invalidation, since every read still reads the stored bytes in its own
// transaction and compares them: a write changes them (its version at
// least), and a stale entry is only memory, until it is replaced or
// evicted.
const (
	// hookCacheMaxBytes bounds the records the cache holds, in bytes.
	hookCacheMaxBytes = 4 << 20
	// hookCacheMaxRecord is the largest record it keeps: larger hooks
	// are rare, and would crowd out the others.
	hookCacheMaxRecord = 64 << 10
)

// defPrefix is how encodeHook starts a record: the definition comes first.
var defPrefix = []byte(`{"def":`)

type hookKey struct{ group, id string }

type cachedHook struct {
	raw  []byte     // the stored record
	hook store.Hook // decoded; its Definition is never handed out as is
}

type hookCache struct {
	mu      sync.RWMutex
	entries map[hookKey]*cachedHook
	bytes   int
}

// get returns the decoded record of data, the stored bytes of the hook,
// when the cache holds it; its Definition is the caller's own copy.
func (c *hookCache) get(group, id string, data []byte) (store.Hook, bool) {
	c.mu.RLock()
	e := c.entries[hookKey{group, id}]
	c.mu.RUnlock()
	if e == nil || !bytes.Equal(e.raw, data) {
		return store.Hook{}, false
	}
	h := e.hook
	h.Definition = bytes.Clone(e.hook.Definition)
	return h, true
}

// put keeps h, decoded from data (which it copies).
func (c *hookCache) put(group, id string, data []byte, h store.Hook) {
	if len(data) > hookCacheMaxRecord {
		return
	}
	e := &cachedHook{raw: bytes.Clone(data), hook: h}
	// The definition is a part of the record: share its bytes.
	if def := e.raw[min(len(defPrefix), len(e.raw)):]; bytes.HasPrefix(e.raw, defPrefix) && bytes.HasPrefix(def, h.Definition) {
		e.hook.Definition = def[:len(h.Definition):len(h.Definition)]
	} else {
		e.hook.Definition = bytes.Clone(h.Definition)
	}
	key := hookKey{group, id}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries == nil {
		c.entries = map[hookKey]*cachedHook{}
	}
	if old := c.entries[key]; old != nil {
		c.bytes -= len(old.raw)
		delete(c.entries, key)
	}
	for k, old := range c.entries {
		if c.bytes+len(e.raw) <= hookCacheMaxBytes {
			break
		}
		// Any entry will do: map order is unspecified, and a hook read
		// often comes back soon.
		c.bytes -= len(old.raw)
		delete(c.entries, k)
	}
	c.entries[key] = e
	c.bytes += len(e.raw)
}
