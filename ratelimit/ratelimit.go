// Package ratelimit spaces out messages per sending number, so that a burst
// queues inside Klaxon instead of failing at the provider or getting the
// number flagged as spam. Waiters of higher priority go first: a page never
// waits behind a broadcast.
package ratelimit

import (
	"container/heap"
	"context"
	"sync"
	"time"
)

// Limiter hands out send slots per key (a sending number) at a fixed rate.
// The zero rate means unlimited. It is safe for concurrent use.
type Limiter struct {
	interval time.Duration
	// tolerance is how far ahead of now a lane's schedule may run: a
	// burst of burst slots is (burst-1) intervals (zero: strict spacing).
	tolerance time.Duration
	now       func() time.Time

	mu   sync.Mutex
	keys map[string]*lane
	seq  uint64
}

type lane struct {
	next    time.Time // earliest instant the next slot may be taken
	waiting waitHeap
	wake    chan struct{} // closed and replaced whenever the head may change
}

// New returns a limiter allowing perSecond slots per second per key; 0 or
// less disables limiting.
func New(perSecond float64) *Limiter {
	l := &Limiter{now: time.Now, keys: map[string]*lane{}}
	if perSecond > 0 {
		l.interval = time.Duration(float64(time.Second) / perSecond)
	}
	return l
}

// RecipientBurst is the burst of the per-recipient limit: a code, an ack's
// confirmation and a page to one person within a second all go at once.
const RecipientBurst = 3

// NewBurst returns a token bucket per key: perSecond slots a second, and
// up to burst at once after an idle spell. Past the burst the rate holds,
// so a loop cannot flood a recipient. 0 or less disables limiting.
func NewBurst(perSecond float64, burst int) *Limiter {
	l := New(perSecond)
	if burst > 1 {
		l.tolerance = time.Duration(burst-1) * l.interval
	}
	return l
}

// Unlimited reports whether the limiter lets everything through at once.
func (l *Limiter) Unlimited() bool { return l.interval == 0 }

// TryTake takes a slot for key if one is free now and nobody is waiting
// ahead; it never blocks.
func (l *Limiter) TryTake(key string) bool {
	if l.interval == 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	ln := l.lane(key)
	now := l.now()
	if len(ln.waiting) > 0 || now.Before(ln.next.Add(-l.tolerance)) {
		return false
	}
	if l.tolerance > 0 && ln.next.After(now) {
		ln.next = ln.next.Add(l.interval) // within the burst
	} else {
		ln.next = now.Add(l.interval)
	}
	return true
}

// Wait blocks until key has a free slot for this caller, higher priority
// callers first and equal priorities in arrival order, or until ctx ends.
func (l *Limiter) Wait(ctx context.Context, key string, priority int) error {
	if l.interval == 0 {
		return nil
	}
	l.mu.Lock()
	ln := l.lane(key)
	l.seq++
	w := &waiter{priority: priority, seq: l.seq}
	heap.Push(&ln.waiting, w)
	ln.signal()
	for waited := false; ; waited = true {
		now := l.now()
		if ln.waiting[0] == w && !now.Before(ln.next.Add(-l.tolerance)) {
			heap.Pop(&ln.waiting)
			if l.tolerance > 0 {
				// A token bucket: an idle lane's schedule starts now, a
				// busy one's runs at most a burst ahead.
				if ln.next.Before(now) {
					ln.next = now
				}
				ln.next = ln.next.Add(l.interval)
				ln.signal()
				l.mu.Unlock()
				return nil
			}
			switch late := now.Sub(ln.next); {
			case !waited && late > l.interval:
				// The lane was idle: start its schedule now.
				ln.next = now
			case late > maxCatchUp:
				// A saturated lane whose waiter woke late (a starved
				// machine) keeps its schedule, owing at most maxCatchUp
				// of slots, so the rate holds on average.
				ln.next = now.Add(-maxCatchUp)
			}
			ln.next = ln.next.Add(l.interval)
			ln.signal()
			l.mu.Unlock()
			return nil
		}
		delay := time.Second
		if ln.waiting[0] == w {
			delay = min(ln.next.Add(-l.tolerance).Sub(now), time.Second)
		}
		wake := ln.wake
		l.mu.Unlock()
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			l.mu.Lock()
			heap.Remove(&ln.waiting, w.index)
			ln.signal()
			l.mu.Unlock()
			return ctx.Err()
		case <-wake:
		case <-t.C:
		}
		t.Stop()
		l.mu.Lock()
	}
}

// Waiting returns how many callers wait for key.
func (l *Limiter) Waiting(key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	if ln, ok := l.keys[key]; ok {
		return len(ln.waiting)
	}
	return 0
}

// maxCatchUp bounds the burst a saturated lane may send to make up for
// slots its waiters woke too late to take.
const maxCatchUp = time.Second

// pruneAt is the number of lanes above which idle ones are dropped: a lane
// nobody waits on whose next slot is past is the same as no lane at all.
const pruneAt = 4096

func (l *Limiter) lane(key string) *lane {
	ln, ok := l.keys[key]
	if !ok {
		if len(l.keys) >= pruneAt {
			now := l.now()
			for k, other := range l.keys {
				if len(other.waiting) == 0 && !now.Before(other.next) {
					delete(l.keys, k)
				}
			}
		}
		ln = &lane{wake: make(chan struct{})}
		l.keys[key] = ln
	}
	return ln
}

func (ln *lane) signal() {
	close(ln.wake)
	ln.wake = make(chan struct{})
}

type waiter struct {
	priority int
	seq      uint64
	index    int
}

type waitHeap []*waiter

func (h waitHeap) Len() int { return len(h) }
func (h waitHeap) Less(i, j int) bool {
	if h[i].priority != h[j].priority {
		return h[i].priority > h[j].priority
	}
	return h[i].seq < h[j].seq
}
func (h waitHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}
func (h *waitHeap) Push(x any) {
	w := x.(*waiter)
	w.index = len(*h)
	*h = append(*h, w)
}
func (h *waitHeap) Pop() any {
	old := *h
	n := len(old)
	w := old[n-1]
	old[n-1] = nil
	*h = old[:n-1]
	return w
}
