package irc

import (
	"math/rand/v2"
	"sync"
	"time"
)

// bucket is the token bucket every line the client sends passes through:
// burst lines at once, then rate lines a second. A reservation takes a
// token and says how long to wait for it, so waiters are served in the
// order they reserved.
type bucket struct {
	mu     sync.Mutex
	burst  float64
	rate   float64
	tokens float64
	last   time.Time
}

func newBucket(burst int, rate float64, now time.Time) *bucket {
	return &bucket{burst: float64(burst), rate: rate, tokens: float64(burst), last: now}
}

// reset fills the bucket: a new connection starts with the server's flood
// counters at zero.
func (b *bucket) reset(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.tokens, b.last = b.burst, now
}

// reserve takes one token and returns how long to wait before the line may
// be sent. An urgent line (PONG, PING, QUIT, registration) never waits but
// still counts: it takes its token on credit, and the lines behind it wait
// the longer.
func (b *bucket) reserve(now time.Time, urgent bool) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if now.After(b.last) {
		b.tokens += b.rate * now.Sub(b.last).Seconds()
		if b.tokens > b.burst {
			b.tokens = b.burst
		}
		b.last = now
	}
	b.tokens--
	if urgent || b.tokens >= 0 {
		return 0
	}
	return time.Duration(-b.tokens / b.rate * float64(time.Second))
}

// backoff is how long to wait before connection attempt n (0 is the first
// retry): min doubled n times, capped at max, with "equal jitter" — half of
// it fixed, half random (r in [0,1)) — so many clients restarted together
// do not reconnect in step.
func backoff(n int, min, max time.Duration, r float64) time.Duration {
	d := max
	if n < 32 {
		if e := min << n; e > 0 && e < max {
			d = e
		}
	}
	return d/2 + time.Duration(r*float64(d/2))
}

// defaultJitter is the jitter source of a Client; tests inject their own.
func defaultJitter() float64 { return rand.Float64() }
