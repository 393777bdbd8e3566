package main

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/internal/dev/simulator"
)

// BenchmarkChannels_ChannelTextToWelcome measures, one request at a time,
// the time from the CHANNEL text's webhook to the welcome texts reaching the
// simulator: to the first admin's, and to both admins' (the second waits for
// the new number's rate limit, KLAXON_SEND_RATE=1).
func BenchmarkChannels_ChannelTextToWelcome(b *testing.B) {
	h := newHarness(b, harnessOptions{Env: map[string]string{"KLAXON_SEND_RATE": "1"}})
	ctx := context.Background()
	var first, all []time.Duration
	i := 0
	for b.Loop() {
		b.StopTimer()
		if _, err := h.store.AddNumber(ctx, fmt.Sprintf("+1555443%04d", i)); err != nil {
			b.Fatal(err)
		}
		a1, a2 := fmt.Sprintf("+1555661%04d", i), fmt.Sprintf("+1555662%04d", i)
		i++
		b.StartTimer()
		start := time.Now()
		h.text(a1, hSignupNumber, "CHANNEL "+a1+", "+a2)
		isWelcome := func(m simulator.Message) bool { return len(m.Body) > 8 && m.Body[:8] == "Welcome!" }
		w1 := h.waitSMS(a1, isWelcome)
		w2 := h.waitSMS(a2, isWelcome)
		early, late := w1.Created, w2.Created
		if late.Before(early) {
			early, late = late, early
		}
		first = append(first, early.Sub(start))
		all = append(all, late.Sub(start))
	}
	slices.Sort(first)
	slices.Sort(all)
	b.ReportMetric(ms(percentile(first, 50)), "first-p50-ms")
	b.ReportMetric(ms(percentile(first, 99)), "first-p99-ms")
	b.ReportMetric(ms(percentile(all, 50)), "all-p50-ms")
	b.ReportMetric(ms(percentile(all, 99)), "all-p99-ms")
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// benchChannel makes a channel with one admin and n subscribers, directly
// in the database, and returns its number and admin.
func benchChannel(b *testing.B, h *harness, n int) (number, admin string) {
	b.Helper()
	ctx := context.Background()
	number, admin = "+15554420001", "+15554429999"
	ch, err := h.store.CreateChannel(ctx, "bench", number, []string{admin})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := h.db.Pool.Exec(ctx, `
		INSERT INTO channel_members (channel_id, phone, role)
		SELECT $1, '+1556' || lpad(g::text, 7, '0'), 'subscriber' FROM generate_series(1, $2) g`, ch.ID, n); err != nil {
		b.Fatal(err)
	}
	return number, admin
}

// countFrom counts the texts Klaxon handed to the simulator from number.
func (h *harness) countFrom(number string) int {
	n := 0
	for _, m := range h.sim.Messages() {
		if m.Direction == "outbound-api" && m.From == number {
			n++
		}
	}
	return n
}

// broadcastTimes sends one BROADCAST and waits until every member's text
// reached the simulator; it returns the time from the webhook to the last
// text, and the provider's receipt times of the broadcast's texts.
func broadcastTimes(b *testing.B, h *harness, number, admin string, members, round int, limit time.Duration) (time.Duration, []time.Time) {
	b.Helper()
	before := h.countFrom(number)
	start := time.Now()
	h.text(admin, number, fmt.Sprintf("BROADCAST bench round %d", round))
	deadline := start.Add(limit)
	for h.countFrom(number)-before < members {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d broadcast texts reached the simulator in %v", h.countFrom(number)-before, members, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var times []time.Time
	for _, m := range h.sim.Messages() {
		if m.Direction == "outbound-api" && m.From == number && m.Created.After(start) {
			times = append(times, m.Created)
		}
	}
	slices.SortFunc(times, func(x, y time.Time) int { return x.Compare(y) })
	return times[len(times)-1].Sub(start), times
}

// benchmarkBroadcast measures a broadcast to n subscribers (plus the admin's
// copy) with rate limiting off: seconds until every text is handed to the
// simulator.
func benchmarkBroadcast(b *testing.B, n int) {
	h := newHarness(b, harnessOptions{Env: map[string]string{"KLAXON_SEND_RATE": "0", "KLAXON_LOG_LEVEL": "error"}})
	number, admin := benchChannel(b, h, n)
	round := 0
	var total time.Duration
	for b.Loop() {
		took, _ := broadcastTimes(b, h, number, admin, n+1, round, 10*time.Minute)
		round++
		total += took
	}
	mean := total / time.Duration(round)
	b.ReportMetric(mean.Seconds(), "s/broadcast")
	b.ReportMetric(float64(n+1)/mean.Seconds(), "texts/s")
}

func BenchmarkChannels_Broadcast1000(b *testing.B)  { benchmarkBroadcast(b, 1000) }
func BenchmarkChannels_Broadcast10000(b *testing.B) { benchmarkBroadcast(b, 10000) }

// BenchmarkChannels_BroadcastHeldRate broadcasts to 200 subscribers with
// KLAXON_SEND_RATE=10 and reports the rate achieved at the provider from
// the first text to the last, against the configured one.
func BenchmarkChannels_BroadcastHeldRate(b *testing.B) {
	const rate, n = 10.0, 200
	h := newHarness(b, harnessOptions{Env: map[string]string{"KLAXON_SEND_RATE": "10"}})
	number, admin := benchChannel(b, h, n)
	round := 0
	for b.Loop() {
		_, times := broadcastTimes(b, h, number, admin, n+1, round, 2*time.Minute)
		round++
		achieved := float64(len(times)-1) / times[len(times)-1].Sub(times[0]).Seconds()
		b.ReportMetric(achieved, "achieved/s")
		b.ReportMetric(100*(achieved-rate)/rate, "error-%")
	}
}
