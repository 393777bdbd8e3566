package store_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/internal/testenv"
)

// One slot per interval per sending number, whoever asks: the first claim
// is granted, a second at once is told how long to wait, another number is
// not held up, and the slot is granted again once due.
func TestTakeSendSlot_OneSlotPerIntervalPerNumber(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	const interval = 300 * time.Millisecond
	if ok, _, err := db.Store.TakeSendSlot(ctx, "+15555550100", interval); err != nil || !ok {
		t.Fatalf("first claim = %v, %v; want granted", ok, err)
	}
	ok, wait, err := db.Store.TakeSendSlot(ctx, "+15555550100", interval)
	if err != nil || ok {
		t.Fatalf("second claim at once = %v, %v; want refused", ok, err)
	}
	if wait <= 0 || wait > interval {
		t.Errorf("wait %v, want within (0, %v]", wait, interval)
	}
	if ok, _, err := db.Store.TakeSendSlot(ctx, "+15555550101", interval); err != nil || !ok {
		t.Fatalf("another number = %v, %v; want granted", ok, err)
	}
	time.Sleep(wait)
	if ok, _, err := db.Store.TakeSendSlot(ctx, "+15555550100", interval); err != nil || !ok {
		t.Fatalf("claim once due = %v, %v; want granted", ok, err)
	}
}

// Claims racing for one due slot: exactly one wins.
func TestTakeSendSlot_ConcurrentClaimsGrantOne(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	var mu sync.Mutex
	granted := 0
	for range 8 {
		wg.Go(func() {
			ok, _, err := db.Store.TakeSendSlot(ctx, "+15555550100", time.Minute)
			if err != nil {
				t.Error(err)
			}
			if ok {
				mu.Lock()
				granted++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if granted != 1 {
		t.Errorf("%d of 8 racing claims granted, want 1", granted)
	}
}

// BenchmarkTakeSendSlot is the round trip a rate-limited send adds: one
// claim, granted (a new number each time, so none waits).
func BenchmarkTakeSendSlot(b *testing.B) {
	db := testenv.Postgres(b)
	ctx := context.Background()
	i := 0
	for b.Loop() {
		i++
		if ok, _, err := db.Store.TakeSendSlot(ctx, "+1555"+strconv.Itoa(i), time.Second); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
