package main

import (
	"fmt"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// percentile returns the p-th percentile (0..100) of sorted durations.
func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted)-1) * p / 100)
	return sorted[i]
}

func reportLatencies(b *testing.B, lat []time.Duration) {
	slices.Sort(lat)
	b.ReportMetric(float64(percentile(lat, 50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(percentile(lat, 99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
}

// BenchmarkPipeline_APIToProviderLatency measures, at a light load (one
// request at a time), the time from POST /api/v1/messages to the simulator
// receiving the Twilio API call for it.
func BenchmarkPipeline_APIToProviderLatency(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	// Warm up connections, the workflow cache and the JIT-free Go runtime.
	for i := range 20 {
		to := fmt.Sprintf("+1555555%04d", 9000+i)
		h.api(http.MethodPost, "/api/v1/messages", map[string]string{"channel": "sms", "to": to, "body": "warm"}, nil)
		h.waitText(to, "warm")
	}
	var lat []time.Duration
	i := 0
	for b.Loop() {
		to := fmt.Sprintf("+1555556%04d", i%10000)
		body := fmt.Sprintf("bench %d", i)
		i++
		start := time.Now()
		if code := h.api(http.MethodPost, "/api/v1/messages", map[string]string{"channel": "sms", "to": to, "body": body}, nil); code != http.StatusAccepted {
			b.Fatalf("status %d", code)
		}
		m := h.waitText(to, body)
		lat = append(lat, m.Created.Sub(start))
	}
	reportLatencies(b, lat)
}

// BenchmarkPipeline_Throughput measures messages per second through the
// whole pipeline with rate limiting off: 8 concurrent API clients, counted
// until the simulator has received every message.
func BenchmarkPipeline_Throughput(b *testing.B) {
	h := newHarness(b, harnessOptions{})
	var next atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	n := b.N
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(n) {
					return
				}
				to := fmt.Sprintf("+1555557%04d", i%10000)
				if code := h.api(http.MethodPost, "/api/v1/messages", map[string]string{"channel": "sms", "to": to, "body": "load"}, nil); code != http.StatusAccepted {
					b.Errorf("status %d", code)
					return
				}
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(5 * time.Minute)
	for h.countOutbound() < n {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d messages reached the simulator", h.countOutbound(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.ReportMetric(float64(n)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkPipeline_HeldRate sends a burst from one number with
// KLAXON_SEND_RATE=5 and reports the achieved rate at the provider.
func BenchmarkPipeline_HeldRate(b *testing.B) {
	const rate = 5.0
	h := newHarness(b, harnessOptions{Env: map[string]string{"KLAXON_SEND_RATE": "5"}})
	for b.Loop() {
		const burst = 40
		before := len(h.sim.Messages())
		for i := range burst {
			to := fmt.Sprintf("+1555558%04d", i)
			if code := h.api(http.MethodPost, "/api/v1/messages", map[string]string{"channel": "sms", "to": to, "body": "rate"}, nil); code != http.StatusAccepted {
				b.Fatalf("status %d", code)
			}
		}
		deadline := time.Now().Add(time.Minute)
		for h.countOutbound()-before < burst {
			if time.Now().After(deadline) {
				b.Fatal("burst did not drain")
			}
			time.Sleep(10 * time.Millisecond)
		}
		msgs := h.sim.Messages()[before:]
		var times []time.Time
		for _, m := range msgs {
			if m.Direction == "outbound-api" {
				times = append(times, m.Created)
			}
		}
		slices.SortFunc(times, func(a, b time.Time) int { return a.Compare(b) })
		achieved := float64(len(times)-1) / times[len(times)-1].Sub(times[0]).Seconds()
		b.ReportMetric(achieved, "achieved/s")
		b.ReportMetric(100*(achieved-rate)/rate, "error-%")
	}
}

// countOutbound counts the texts Klaxon has handed to the simulator.
func (h *harness) countOutbound() int {
	n := 0
	for _, m := range h.sim.Messages() {
		if m.Direction == "outbound-api" {
			n++
		}
	}
	return n
}
