package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/store"
)

func TestCreateChannel_IdempotentPerRequest(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	admins := []string{"+15559990001", "+15559990002"}
	a, err := db.Store.CreateChannel(ctx, "req-1", "+15550001001", admins)
	if err != nil {
		t.Fatal(err)
	}
	b, err := db.Store.CreateChannel(ctx, "req-1", "+15550001001", admins)
	if err != nil || b.ID != a.ID {
		t.Fatalf("again = %+v, %v; want channel %d", b, err, a.ID)
	}
	if b.Admins != 2 || b.Subscribers != 0 || !b.HotlineOn || b.Kind != store.KindRegular {
		t.Errorf("channel = %+v", b)
	}
	// Another request for the same number is refused by the database.
	if _, err := db.Store.CreateChannel(ctx, "req-2", "+15550001001", admins); klaxon.ErrorCodeOf(err) != klaxon.EConflict {
		t.Fatalf("second channel on the number: %v, want a conflict", err)
	}
	_, active, _ := db.Store.PoolCounts(ctx)
	if active != 1 {
		t.Fatalf("active = %d, want 1", active)
	}
}

func TestEnsureSystemChannels(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	maint := []string{"+15559990199"}
	for range 2 {
		if err := db.Store.EnsureSystemChannels(ctx, "+15555550101", "+15555550102", maint); err != nil {
			t.Fatal(err)
		}
	}
	su, err := db.Store.SystemChannel(ctx, store.KindSignup)
	if err != nil || su.Phone != "+15555550101" || su.Admins != 1 || su.HotlineOn {
		t.Fatalf("signup = %+v, %v", su, err)
	}
	if _, err := db.Store.SystemChannel(ctx, store.KindDiagnostics); err != nil {
		t.Fatal(err)
	}
	// System numbers are ours but never in the pool, nor counted as
	// active channels.
	avail, active, _ := db.Store.PoolCounts(ctx)
	if avail != 0 || active != 0 {
		t.Fatalf("counts = %d, %d", avail, active)
	}
	if ours, _ := db.Store.IsOurNumber(ctx, "+15555550101"); !ours {
		t.Fatal("the signup number is not ours")
	}
	// A new maintainer is added; a moved signup number moves the channel.
	if err := db.Store.EnsureSystemChannels(ctx, "+15555550111", "", append(maint, "+15559990198")); err != nil {
		t.Fatal(err)
	}
	su, err = db.Store.SystemChannel(ctx, store.KindSignup)
	if err != nil || su.Phone != "+15555550111" || su.Admins != 2 {
		t.Fatalf("moved signup = %+v, %v", su, err)
	}
}

func TestMembers_JoinLeaveAndLastAdmin(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	c, err := db.Store.CreateChannel(ctx, "req-1", "+15550001001", []string{"+15559990001"})
	if err != nil {
		t.Fatal(err)
	}
	m, changed, err := db.Store.AddMember(ctx, c.ID, "+15558880001", store.RoleSubscriber)
	if err != nil || !changed || m.Role != store.RoleSubscriber {
		t.Fatalf("join = %+v %v %v", m, changed, err)
	}
	if _, changed, _ = db.Store.AddMember(ctx, c.ID, "+15558880001", store.RoleSubscriber); changed {
		t.Fatal("joining twice changed something")
	}
	if _, changed, _ = db.Store.AddMember(ctx, c.ID, "+15559990001", store.RoleSubscriber); changed {
		t.Fatal("an admin joining was demoted")
	}
	if role, _ := db.Store.RoleOf(ctx, c.ID, "+15559990001"); role != store.RoleAdmin {
		t.Fatalf("role = %q", role)
	}
	if _, err := db.Store.RemoveMember(ctx, c.ID, "+15559990001", ""); !errors.Is(err, store.ErrLastAdmin) {
		t.Fatalf("last admin leaving: %v", err)
	}
	// Promote the subscriber, then the first admin may leave.
	if _, changed, _ = db.Store.AddMember(ctx, c.ID, "+15558880001", store.RoleAdmin); !changed {
		t.Fatal("promotion changed nothing")
	}
	if removed, err := db.Store.RemoveMember(ctx, c.ID, "+15559990001", store.RoleAdmin); err != nil || !removed {
		t.Fatalf("remove = %v, %v", removed, err)
	}
	if removed, err := db.Store.RemoveMember(ctx, c.ID, "+15550000000", ""); err != nil || removed {
		t.Fatalf("remove a stranger = %v, %v", removed, err)
	}
	page, err := db.Store.MembersPage(ctx, c.ID, 0, 10)
	if err != nil || len(page) != 1 || page[0].Phone != "+15558880001" {
		t.Fatalf("page = %+v, %v", page, err)
	}
}

func TestHotlineID_StablePerSenderScopedToChannel(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	a, _ := db.Store.CreateChannel(ctx, "req-1", "+15550001001", []string{"+15559990001"})
	b, _ := db.Store.CreateChannel(ctx, "req-2", "+15550001002", []string{"+15559990001"})
	id1, err := db.Store.HotlineID(ctx, a.ID, "+15558880001")
	if err != nil || !strings.HasPrefix(id1, "@") || len(id1) < 5 {
		t.Fatalf("id = %q, %v", id1, err)
	}
	if again, _ := db.Store.HotlineID(ctx, a.ID, "+15558880001"); again != id1 {
		t.Fatalf("id changed: %q then %q", id1, again)
	}
	other, _ := db.Store.HotlineID(ctx, a.ID, "+15558880002")
	if other == id1 {
		t.Fatal("two senders share an id")
	}
	if sender, err := db.Store.HotlineSender(ctx, a.ID, id1); err != nil || sender != "+15558880001" {
		t.Fatalf("sender = %q, %v", sender, err)
	}
	// The id means nothing on another channel.
	if _, err := db.Store.HotlineSender(ctx, b.ID, id1); !errors.Is(err, klaxon.ErrNotFound) {
		t.Fatalf("id on another channel: %v", err)
	}
}

func TestAdmitChannelRequest_FloodLimitPerSender(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	for i, want := range []bool{true, true, true, false, false} {
		ok, err := db.Store.AdmitChannelRequest(ctx, "req-"+string(rune('a'+i)), "+15558880001", "sms", 3, time.Hour)
		if err != nil || ok != want {
			t.Fatalf("request %d admitted = %v, %v; want %v", i, ok, err, want)
		}
	}
	// The same request asked again gets the same answer.
	if ok, _ := db.Store.AdmitChannelRequest(ctx, "req-a", "+15558880001", "sms", 3, time.Hour); !ok {
		t.Fatal("a retried admitted request was refused")
	}
	// Another sender is not affected.
	if ok, _ := db.Store.AdmitChannelRequest(ctx, "req-z", "+15558880002", "sms", 3, time.Hour); !ok {
		t.Fatal("another sender was refused")
	}
}

func TestBroadcasts_ProgressFromTheDeliveryLog(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	c, _ := db.Store.CreateChannel(ctx, "req-1", "+15550001001", []string{"+15559990001"})
	if err := db.Store.StartBroadcast(ctx, "broadcast/SM1", c.ID); err != nil {
		t.Fatal(err)
	}
	for i, to := range []string{"+15558880001", "+15558880002", "+15558880003"} {
		m := klaxon.Message{ID: "bc-" + string(rune('a'+i)), Medium: klaxon.SMS, To: to, Body: "hi", Ref: "broadcast/SM1"}
		if _, err := db.Store.BeginAttempt(ctx, m, "first", 1); err != nil {
			t.Fatal(err)
		}
		switch i {
		case 0:
			_ = db.Store.FinishAttempt(ctx, m.ID, "first", 1, klaxon.Receipt{ProviderID: "SMa", Status: "queued"})
			_, _, _ = db.Store.ApplyStatus(ctx, "SMa", "delivered", "", "")
		case 1:
			_ = db.Store.FailAttempt(ctx, m.ID, "first", 1, true, klaxon.StatusFailed, &klaxon.DeliveryError{Kind: "InvalidNumber"})
		}
	}
	if err := db.Store.FinishBroadcast(ctx, "broadcast/SM1", 3); err != nil {
		t.Fatal(err)
	}
	bs, err := db.Store.Broadcasts(ctx, c.ID, 5)
	if err != nil || len(bs) != 1 {
		t.Fatalf("broadcasts = %+v, %v", bs, err)
	}
	b := bs[0]
	if b.Recipients != 3 || !b.Done || b.Sent != 1 || b.Delivered != 1 || b.Failed != 1 || b.Queued != 1 {
		t.Fatalf("progress = %+v", b)
	}
}
