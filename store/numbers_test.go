package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/store"
)

func TestClaimNumber_FiveRequestsRaceForTheLastNumber(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	if _, err := db.Store.AddNumber(ctx, "+15550001001"); err != nil {
		t.Fatal(err)
	}
	const n = 5
	var wg sync.WaitGroup
	got := make([]string, n)
	errs := make([]error, n)
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			got[i], errs[i] = db.Store.ClaimNumber(ctx, fmt.Sprintf("req-%d", i), "")
		}()
	}
	close(start)
	wg.Wait()
	winners := 0
	for i := range n {
		switch {
		case errs[i] == nil:
			winners++
			if got[i] != "+15550001001" {
				t.Errorf("request %d got %s", i, got[i])
			}
		case errors.Is(errs[i], store.ErrNoNumbers):
		default:
			t.Errorf("request %d: %v", i, errs[i])
		}
	}
	if winners != 1 {
		t.Fatalf("%d requests got the last number, want exactly 1", winners)
	}
	avail, _, err := db.Store.PoolCounts(ctx)
	if err != nil || avail != 0 {
		t.Fatalf("available = %d, %v; want 0", avail, err)
	}
}

func TestClaimNumber_SameRequestGetsTheSameNumber(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	for _, p := range []string{"+15550001001", "+15550001002"} {
		if _, err := db.Store.AddNumber(ctx, p); err != nil {
			t.Fatal(err)
		}
	}
	a, err := db.Store.ClaimNumber(ctx, "req-1", "")
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.Store.ClaimNumber(ctx, "req-1", "")
	if err != nil || a != b {
		t.Fatalf("second claim = %s, %v; want %s", b, err, a)
	}
	avail, _, _ := db.Store.PoolCounts(ctx)
	if avail != 1 {
		t.Fatalf("available = %d, want 1", avail)
	}
	if err := db.Store.ReleaseNumber(ctx, "req-1"); err != nil {
		t.Fatal(err)
	}
	if avail, _, _ = db.Store.PoolCounts(ctx); avail != 2 {
		t.Fatalf("after release available = %d, want 2", avail)
	}
}

func TestClaimNumber_Wanted(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	// A number not in the pool is added and taken.
	got, err := db.Store.ClaimNumber(ctx, "req-1", "+15550002001")
	if err != nil || got != "+15550002001" {
		t.Fatalf("claim = %s, %v", got, err)
	}
	if _, err := db.Store.CreateChannel(ctx, "req-1", got, []string{"+15559990001"}); err != nil {
		t.Fatal(err)
	}
	// Another request cannot take it.
	_, err = db.Store.ClaimNumber(ctx, "req-2", "+15550002001")
	if klaxon.ErrorCodeOf(err) != klaxon.EConflict {
		t.Fatalf("claim of a used number: %v, want a conflict", err)
	}
}

func TestAddNumber_States(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	n, err := db.Store.AddNumber(ctx, "+15550003001")
	if err != nil || n.Status != store.NumberAvailable {
		t.Fatalf("add = %+v, %v", n, err)
	}
	if n, err = db.Store.AddNumber(ctx, "+15550003001"); err != nil || n.Status != store.NumberAvailable {
		t.Fatalf("add again = %+v, %v", n, err)
	}
	if err := db.Store.RecordFailedNumber(ctx, "+15550003002", "carrier said no"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Store.ClaimNumber(ctx, "req-1", "+15550003001"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Store.CreateChannel(ctx, "req-1", "+15550003001", []string{"+15559990001"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Store.AddNumber(ctx, "+15550003001"); klaxon.ErrorCodeOf(err) != klaxon.EConflict {
		t.Fatalf("adding a number in use: %v, want a conflict", err)
	}
	ns, err := db.Store.ListNumbers(ctx)
	if err != nil || len(ns) != 2 {
		t.Fatalf("list = %+v, %v", ns, err)
	}
	if ns[0].Status != store.NumberInUse || ns[0].ChannelID == nil {
		t.Errorf("first number = %+v, want in use by a channel", ns[0])
	}
	if ns[1].Status != store.NumberFailed || ns[1].Error == "" {
		t.Errorf("second number = %+v, want failed with its reason", ns[1])
	}
	// A failed number added by hand becomes available.
	if n, err = db.Store.AddNumber(ctx, "+15550003002"); err != nil || n.Status != store.NumberAvailable {
		t.Fatalf("re-add failed number = %+v, %v", n, err)
	}
	// So does the number of a deleted channel.
	if err := db.Store.DeleteChannel(ctx, "+15550003001"); err != nil {
		t.Fatal(err)
	}
	if n, err = db.Store.AddNumber(ctx, "+15550003001"); err != nil || n.Status != store.NumberAvailable {
		t.Fatalf("re-add deleted channel's number = %+v, %v", n, err)
	}
}
