package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/api"
	"github.com/klaxonhq/klaxon/internal/dev/simulator"
	"github.com/klaxonhq/klaxon/store"
)

// reportRotationLatencies reports the p50, p99 and max of a sample.
func reportRotationLatencies(b *testing.B, lat []time.Duration) {
	b.Helper()
	if len(lat) == 0 {
		return
	}
	slices.Sort(lat)
	at := func(p float64) time.Duration { return lat[int(float64(len(lat)-1)*p)] }
	b.ReportMetric(float64(at(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(at(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}

// BenchmarkRotations_APIOnCall measures GET /api/v1/rotations/{name}/oncall
// over HTTP for a rotation with 50 members and 100 overrides, at random
// instants across the overrides' span (so every answer weighs the
// overrides), one request at a time.
func BenchmarkRotations_APIOnCall(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	ctx := context.Background()
	var members []string
	for i := range 50 {
		handle := fmt.Sprintf("m%02d", i)
		members = append(members, handle)
		rotationPerson(b, h, handle, fmt.Sprintf("+1555558%04d", i))
	}
	start := time.Now().Add(-90 * 24 * time.Hour).Truncate(time.Hour)
	if code := h.api(http.MethodPost, "/api/v1/rotations", map[string]any{
		"name": "big", "timezone": "America/New_York", "members": members, "shift_days": 1,
		"start": start.Format(time.RFC3339), "reminder_minutes": 0,
	}, nil); code != http.StatusCreated {
		b.Fatalf("create: %d", code)
	}
	// 100 overrides over the next ~60 days, written directly (the API
	// refuses none of them, but each would re-plan the workflow).
	t := time.Now().Add(time.Hour).Truncate(time.Minute)
	first := t
	for i := range 100 {
		s := t.Add(time.Duration(i%7+1) * 3 * time.Hour)
		e := s.Add(time.Duration(i%5+1) * 4 * time.Hour)
		if _, err := h.store.AddOverride(ctx, "big", store.NewOverride{User: members[(i*7)%50], Start: s, End: e}, time.Now()); err != nil {
			b.Fatal(err)
		}
		t = e
	}
	span := t.Sub(first)
	rng := rand.New(rand.NewPCG(5, 6))
	for range 50 { // warm the pool and caches
		h.api(http.MethodGet, "/api/v1/rotations/big/oncall", nil, nil)
	}
	var lat []time.Duration
	for b.Loop() {
		at := first.Add(time.Duration(rng.Int64N(int64(span)))).UTC().Format(time.RFC3339)
		t0 := time.Now()
		var oc api.OnCall
		if code := h.api(http.MethodGet, "/api/v1/rotations/big/oncall?at="+at, nil, &oc); code != http.StatusOK || oc.User == nil {
			b.Fatalf("oncall: %d %+v", code, oc)
		}
		lat = append(lat, time.Since(t0))
	}
	reportRotationLatencies(b, lat)
}

// BenchmarkRotations_HandoffLateness measures, on the dev server, how late
// handoff texts reach the simulator: each iteration adds a two-second
// override starting a second or two from now and times both of its
// handoffs (to the cover at its start, back at its end) from the scheduled
// instant to the SMS arriving at the simulator. Two seconds keep the
// per-recipient rate limit (1 text/s) from spacing a person's "off call"
// and "now on call" texts, which would measure the limiter, not the
// handoff.
func BenchmarkRotations_HandoffLateness(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	const owner, cover = "+15555559001", "+15555559002"
	rotationPerson(b, h, "owner", owner)
	rotationPerson(b, h, "cover", cover)
	if code := h.api(http.MethodPost, "/api/v1/rotations", map[string]any{
		"name": "late", "timezone": "UTC", "members": []string{"owner"}, "shift_days": 1,
		"start": time.Now().Add(-time.Hour).Format(time.RFC3339), "reminder_minutes": 0,
	}, nil); code != http.StatusCreated {
		b.Fatalf("create: %d", code)
	}
	// The new rotation tells owner at once; wait for it, so the workflow
	// is settled.
	h.waitText(owner, "You are now on call for late")
	wait := func(to, substr string, after time.Time) simulator.Message {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		m, err := h.sim.WaitMessage(ctx, to, func(m simulator.Message) bool {
			return strings.Contains(m.Body, substr) && !m.Created.Before(after.Add(-time.Second))
		})
		if err != nil {
			b.Fatalf("no %q text to %s: %v", substr, to, err)
		}
		return m
	}
	var lat []time.Duration
	for b.Loop() {
		start := time.Now().Add(1500 * time.Millisecond).Truncate(time.Second)
		end := start.Add(2 * time.Second)
		if code := h.api(http.MethodPost, "/api/v1/rotations/late/overrides", map[string]string{
			"user": "cover", "start": start.Format(time.RFC3339), "end": end.Format(time.RFC3339),
		}, nil); code != http.StatusCreated {
			b.Fatalf("override: %d", code)
		}
		in := wait(cover, "You are now on call for late", start)
		back := wait(owner, "You are now on call for late", end)
		lat = append(lat, in.Created.Sub(start), back.Created.Sub(end))
	}
	reportRotationLatencies(b, lat)
}
