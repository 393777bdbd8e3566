package ratelimit

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"
)

// A per-recipient lane is a token bucket: a short burst (a code, an ack's
// confirmation and a page within a second) goes at once, and past it the
// rate holds, so a loop still cannot flood a handset.
func TestBurst_ASmallBurstGoesAtOnceThenTheRateHolds(t *testing.T) {
	l := NewBurst(1, 3)
	now := time.Unix(1000, 0)
	l.now = func() time.Time { return now }
	for i := range 3 {
		if !l.TryTake("+15555550123") {
			t.Fatalf("slot %d of a burst of 3 refused", i+1)
		}
	}
	if l.TryTake("+15555550123") {
		t.Fatal("a fourth slot in the same instant was granted: a loop could flood the handset")
	}
	now = now.Add(time.Second)
	if !l.TryTake("+15555550123") || l.TryTake("+15555550123") {
		t.Fatal("after the burst, not exactly one slot a second")
	}
	// Sixty attempts a second for a minute get about sixty slots.
	got := 0
	for range 3600 {
		now = now.Add(time.Second / 60)
		if l.TryTake("+15555550123") {
			got++
		}
	}
	if got < 59 || got > 61 {
		t.Errorf("a loop for a minute got %d slots, want about 60", got)
	}
	// A lane idle long enough has its whole burst again.
	now = now.Add(10 * time.Second)
	for i := range 3 {
		if !l.TryTake("+15555550123") {
			t.Fatalf("slot %d after an idle spell refused", i+1)
		}
	}
}

// Waiters within the burst do not wait; an urgent one never waits behind
// normal ones for the same person.
func TestBurst_WaitWithinTheBurstIsImmediateAndUrgentGoesFirst(t *testing.T) {
	l := NewBurst(1, 3)
	ctx := context.Background()
	start := time.Now()
	for range 3 {
		if err := l.Wait(ctx, "p", 0); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d > 50*time.Millisecond {
		t.Fatalf("three waits within the burst took %v", d)
	}
	// The bucket is empty: two normal messages queue, then an urgent one.
	done := make(chan int, 3)
	for _, p := range []int{0, 0} {
		go func() { _ = l.Wait(ctx, "p", p); done <- p }()
	}
	time.Sleep(20 * time.Millisecond)
	go func() { _ = l.Wait(ctx, "p", 2); done <- 2 }()
	if first := <-done; first != 2 {
		t.Errorf("first out of the queue had priority %d, want the urgent one", first)
	}
}

// BenchmarkRecipient_PageRightAfterAVerificationText measures how long a
// page's first text waits for the per-recipient limit (1 a second, burst
// 3) when a verification text went to the same person just before: the
// case that waited up to a second. It reports the p99 of that wait.
// burst=1 is the strict spacing it replaced.
func BenchmarkRecipient_PageRightAfterAVerificationText(b *testing.B) {
	for _, burst := range []int{RecipientBurst, 1} {
		b.Run(fmt.Sprintf("burst=%d", burst), func(b *testing.B) { benchPageAfterText(b, burst) })
	}
}

func benchPageAfterText(b *testing.B, burst int) {
	l := NewBurst(1, burst)
	ctx := context.Background()
	waits := make([]time.Duration, 0, b.N)
	for i := 0; b.Loop(); i++ {
		key := "+1555" + time.Now().Format("150405.000000000")
		if err := l.Wait(ctx, key, 0); err != nil { // the verification text
			b.Fatal(err)
		}
		t0 := time.Now()
		if err := l.Wait(ctx, key, 2); err != nil { // the page
			b.Fatal(err)
		}
		waits = append(waits, time.Since(t0))
	}
	sort.Slice(waits, func(i, j int) bool { return waits[i] < waits[j] })
	if len(waits) > 0 {
		b.ReportMetric(float64(waits[len(waits)*99/100].Microseconds())/1000, "p99-ms")
	}
}
