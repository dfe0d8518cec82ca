package dynamo

import "time"

// SetNow replaces the clock that dates the history counts and the chunk
// generations.
func SetNow(s *Store, now func() time.Time) { s.now = now }
