package jsone

import (
	"testing"
	"time"
)

func TestAppendISO(t *testing.T) {
	for _, tm := range []time.Time{
		time.Date(2017, 1, 19, 16, 27, 20, 974_000_000, time.UTC),
		time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(9999, 12, 31, 23, 59, 59, 999_999_999, time.UTC),
		time.Date(2024, 2, 29, 1, 2, 3, 4_000_000, time.UTC),
		time.Date(812, 7, 9, 10, 0, 0, 5_500_000, time.UTC),
	} {
		if got, want := string(appendISO(nil, tm)), tm.Format(isoLayout); got != want {
			t.Errorf("appendISO(%v) = %s, want %s", tm, got, want)
		}
	}
}
