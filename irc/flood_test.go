package irc

import (
	"testing"
	"time"
)

func TestBucket_BurstThenRate(t *testing.T) {
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b := newBucket(3, 2, t0)
	for i := range 3 {
		if w := b.reserve(t0, false); w != 0 {
			t.Fatalf("burst line %d waits %s", i, w)
		}
	}
	if w := b.reserve(t0, false); w != 500*time.Millisecond {
		t.Fatalf("4th line waits %s, want 500ms", w)
	}
	if w := b.reserve(t0, false); w != time.Second {
		t.Fatalf("5th line waits %s, want 1s (queued behind the 4th)", w)
	}
	if w := b.reserve(t0, true); w != 0 {
		t.Fatalf("urgent line waits %s", w)
	}
	if w := b.reserve(t0, false); w != 2*time.Second {
		t.Fatalf("line after an urgent one waits %s, want 2s", w)
	}
	b.reset(t0.Add(time.Hour))
	if w := b.reserve(t0.Add(time.Hour), false); w != 0 {
		t.Fatalf("after reset waits %s", w)
	}
	// A long idle refills no more than the burst.
	t1 := t0.Add(2 * time.Hour)
	for range 3 {
		b.reserve(t1, false)
	}
	if w := b.reserve(t1, false); w == 0 {
		t.Fatal("idle refilled beyond the burst")
	}
}

func TestBackoff_DoublesCapsAndJitters(t *testing.T) {
	min, max := time.Second, time.Minute
	tests := []struct {
		n    int
		r    float64
		want time.Duration
	}{
		{0, 0, 500 * time.Millisecond},
		{0, 0.999999, time.Second - time.Microsecond},
		{1, 0, time.Second},
		{3, 0.5, 6 * time.Second},
		{10, 0, 30 * time.Second},
		{100, 1, time.Minute},
	}
	for _, tt := range tests {
		got := backoff(tt.n, min, max, tt.r)
		if d := got - tt.want; d < -time.Millisecond || d > time.Millisecond {
			t.Errorf("backoff(%d, r=%v) = %s, want %s", tt.n, tt.r, got, tt.want)
		}
	}
}

func TestISupport_ParseAndFold(t *testing.T) {
	is := defaultISupport()
	is.parse([]string{"LINELEN=1024", "NICKLEN=30", "CHANTYPES=#", "CASEMAPPING=rfc1459", "MONITOR=30", "WHOX", "STATUSMSG=@+"})
	if is.LineLen != 1024 || is.NickLen != 30 || is.Monitor != 30 || !is.WHOX || is.ChanTypes != "#" {
		t.Fatalf("parsed %+v", is)
	}
	if is.Fold("Joe[1]\\~") != "joe{1}|^" {
		t.Fatalf("rfc1459 fold = %q", is.Fold("Joe[1]\\~"))
	}
	if !is.IsChannel("@#ops") || is.IsChannel("&local") || is.IsChannel("joe") {
		t.Fatal("IsChannel wrong")
	}
	is.parse([]string{"CASEMAPPING=ascii", "-LINELEN", "-MONITOR"})
	if is.Fold("Joe[1]") != "joe[1]" || is.LineLen != 512 || is.Monitor != 0 {
		t.Fatalf("after reset %+v, fold %q", is, is.Fold("Joe[1]"))
	}
	is.parse([]string{"CASEMAPPING=strict-rfc1459"})
	if is.Fold("A[~") != "a{~" {
		t.Fatalf("strict fold = %q", is.Fold("A[~"))
	}
}
