package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/store"
)

func inboundText(sid, from string) store.InboundEvent {
	return store.InboundEvent{Kind: store.InboundSMS, DedupKey: sid, From: from, To: "+15555550100", Body: "hello " + sid}
}

func TestRecordInbound_SameDedupKeyIsOneEvent(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	first, fresh, err := db.Store.RecordInbound(ctx, inboundText("SM1", "+15555550123"))
	if err != nil || !fresh || first.ID == 0 {
		t.Fatalf("first record: %+v fresh=%v err=%v", first, fresh, err)
	}
	again := inboundText("SM1", "+15555550123")
	again.Body = "a different body must not overwrite the first"
	second, fresh, err := db.Store.RecordInbound(ctx, again)
	if err != nil || fresh {
		t.Fatalf("repeat: fresh=%v err=%v", fresh, err)
	}
	if second.ID != first.ID || second.Body != first.Body {
		t.Fatalf("repeat returned %+v, want the first event %+v", second, first)
	}
	c, err := db.Store.CountInbound(ctx)
	if err != nil || c.Total != 1 {
		t.Fatalf("count = %+v, %v; want one event", c, err)
	}
}

func TestRecordInbound_ConstraintsRefuseNonsense(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	tests := []struct {
		name string
		ev   store.InboundEvent
	}{
		{"unknown kind", store.InboundEvent{Kind: "mms", DedupKey: "SM1", From: "+15555550123", To: "+15555550100"}},
		{"empty dedup key", store.InboundEvent{Kind: "sms", From: "+15555550123", To: "+15555550100"}},
		{"no sender", store.InboundEvent{Kind: "sms", DedupKey: "SM2", To: "+15555550100"}},
		{"body over 1600", store.InboundEvent{Kind: "sms", DedupKey: "SM3", From: "+1", To: "+2", Body: strings.Repeat("a", 1601)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, _, err := db.Store.RecordInbound(ctx, tt.ev); err == nil {
				t.Fatal("stored, want a constraint violation")
			}
		})
	}
}

func TestUnhandedInbound_InArrivalOrderUntilHanded(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	var ids []int64
	for i := range 5 {
		e, _, err := db.Store.RecordInbound(ctx, inboundText(fmt.Sprintf("SM%d", i), "+15555550123"))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	if err := db.Store.MarkInboundHanded(ctx, ids[1]); err != nil {
		t.Fatal(err)
	}
	evs, err := db.Store.UnhandedInbound(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	got := []int64{}
	for _, e := range evs {
		got = append(got, e.ID)
	}
	want := []int64{ids[0], ids[2], ids[3]}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("unhanded = %v, want %v", got, want)
	}
	if evs[0].DedupKey != "SM0" || evs[0].From != "+15555550123" || evs[0].ReceivedAt.IsZero() {
		t.Fatalf("unhanded event lacks what the dispatcher needs: %+v", evs[0])
	}
}

func TestBeginAndFinishInbound_OneSenderTakesTurns(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	a1, _, _ := db.Store.RecordInbound(ctx, inboundText("SMa1", "+15555550001"))
	b1, _, _ := db.Store.RecordInbound(ctx, inboundText("SMb1", "+15555550002"))
	a2, _, _ := db.Store.RecordInbound(ctx, inboundText("SMa2", "+15555550001"))

	_, before, err := db.Store.BeginInbound(ctx, a2.ID)
	if err != nil || before.ID != a1.ID || before.DedupKey != "SMa1" {
		t.Fatalf("a2 before = %+v, %v; want a1", before, err)
	}
	_, before, err = db.Store.BeginInbound(ctx, b1.ID)
	if err != nil || before.ID != 0 {
		t.Fatalf("b1 before = %+v, %v; want none (another sender)", before, err)
	}

	next, err := db.Store.FinishInbound(ctx, a1.ID, "paging")
	if err != nil || next.ID != a2.ID || next.DedupKey != "SMa2" {
		t.Fatalf("next after a1 = %+v, %v; want a2", next, err)
	}
	if _, before, _ = db.Store.BeginInbound(ctx, a2.ID); before.ID != 0 {
		t.Fatalf("a2 still waits for %+v after a1 finished", before)
	}
	// Finishing again keeps the first outcome.
	if _, err := db.Store.FinishInbound(ctx, a1.ID, "other"); err != nil {
		t.Fatal(err)
	}
	e, err := db.Store.InboundEventByID(ctx, a1.ID)
	if err != nil || e.Outcome != "paging" || e.ProcessedAt == nil || e.HandedAt == nil {
		t.Fatalf("a1 = %+v, %v; want processed once with outcome paging", e, err)
	}
	if _, err := db.Store.FinishInbound(ctx, 999999, "x"); err == nil {
		t.Fatal("finishing an unknown event succeeded")
	}
}

func TestClaimReply_AtMostOncePerWindow(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	tests := []struct {
		name     string
		from, to string
		every    time.Duration
		want     bool
	}{
		{"first reply", "+15555550001", "+15555550100", time.Hour, true},
		{"again within the hour", "+15555550001", "+15555550100", time.Hour, false},
		{"another of our numbers", "+15555550001", "+15555550101", time.Hour, true},
		{"another sender", "+15555550002", "+15555550100", time.Hour, true},
		{"window already over", "+15555550001", "+15555550100", 0, true},
	}
	for _, tt := range tests {
		got, err := db.Store.ClaimReply(ctx, tt.from, tt.to, tt.every)
		if err != nil || got != tt.want {
			t.Errorf("%s: ClaimReply = %v, %v; want %v", tt.name, got, err, tt.want)
		}
	}
}

// An earlier event of the same sender still unprocessed long before this
// one arrived is stuck: it holds up nothing that came after it.
func TestBeginInbound_AStuckEarlierEventHoldsUpNothingLater(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	stuck, _, _ := db.Store.RecordInbound(ctx, inboundText("SMstuck", "+15555550001"))
	if _, err := db.Pool.Exec(ctx, `UPDATE inbound_events SET received_at = now() - interval '5 minutes' WHERE id = $1`, stuck.ID); err != nil {
		t.Fatal(err)
	}
	later, _, _ := db.Store.RecordInbound(ctx, inboundText("SMlater", "+15555550001"))
	if _, before, err := db.Store.BeginInbound(ctx, later.ID); err != nil || before.ID != 0 {
		t.Fatalf("a text 5 minutes after a stuck one waits for %+v (%v); want none", before, err)
	}
	recent, _, _ := db.Store.RecordInbound(ctx, inboundText("SMrecent", "+15555550001"))
	if _, before, err := db.Store.BeginInbound(ctx, recent.ID); err != nil || before.ID != later.ID {
		t.Fatalf("a text right after an unprocessed one waits for %+v (%v); want it", before, err)
	}
}
