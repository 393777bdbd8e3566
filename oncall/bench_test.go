package oncall

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// benchRotation is the benchmark's rotation: 50 members on daily shifts in
// New York, a year old, with 100 overrides spread over the past and next
// few months.
func benchRotation(b *testing.B) *Rotation {
	b.Helper()
	loc := mustLoc(b, "America/New_York")
	start := time.Date(2025, 3, 3, 9, 0, 0, 0, loc)
	members := make([]string, 50)
	for i := range members {
		members[i] = fmt.Sprintf("member%02d", i)
	}
	r := newRotation(b, Spec{Timezone: "America/New_York", ShiftHours: 24, Start: start, Members: members})
	now := start.AddDate(1, 0, 0)
	t := now.AddDate(0, -2, 0)
	for i := range 100 {
		s := t.Add(time.Duration(i%7+1) * 3 * time.Hour)
		e := s.Add(time.Duration(i%5+1) * 4 * time.Hour)
		r.Overrides = append(r.Overrides, Override{ID: int64(i + 1), User: fmt.Sprintf("cover%d", i%9), Start: s, End: e})
		t = e
	}
	if err := r.Validate(); err != nil {
		b.Fatal(err)
	}
	return r
}

// BenchmarkOnCall measures "who is on call" (with the next handoff) for a
// rotation with 50 members and 100 overrides, at random instants within the
// overrides' span, and reports the p50 and p99 of single calls.
func BenchmarkOnCall(b *testing.B) {
	r := benchRotation(b)
	rng := rand.New(rand.NewPCG(3, 4))
	span := r.Overrides[len(r.Overrides)-1].End.Sub(r.Overrides[0].Start)
	at := make([]time.Time, 4096)
	for i := range at {
		at[i] = r.Overrides[0].Start.Add(time.Duration(rng.Int64N(int64(span))))
	}
	lat := make([]time.Duration, 0, b.N)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		t0 := time.Now()
		oc := r.At(at[i%len(at)])
		lat = append(lat, time.Since(t0))
		if oc.User == "" {
			b.Fatal("nobody on call")
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	b.ReportMetric(float64(lat[len(lat)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
}
