package store_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/paging"
	"github.com/klaxonhq/klaxon/store"
)

func newPage(target, dedup string) paging.Page {
	return paging.Page{Target: target, Summary: "derp is broken", DedupKey: dedup}
}

func TestCreatePage_SameLiveDedupKeyReturnsTheSamePage(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	first, created, err := db.Store.CreatePage(ctx, newPage("user:alice", "disk-full"))
	if err != nil || !created || first.ID == 0 || first.Status != paging.StatusOpen {
		t.Fatalf("first: %+v created=%v err=%v", first, created, err)
	}
	again, created, err := db.Store.CreatePage(ctx, newPage("user:alice", "disk-full"))
	if err != nil || created || again.ID != first.ID {
		t.Fatalf("same key while open: %+v created=%v err=%v; want page %d", again, created, err, first.ID)
	}
	if _, err := db.Store.AckPage(ctx, first.ID, "alice", "api"); err != nil {
		t.Fatal(err)
	}
	again, created, err = db.Store.CreatePage(ctx, newPage("user:alice", "disk-full"))
	if err != nil || created || again.ID != first.ID || again.Status != paging.StatusAcked {
		t.Fatalf("same key while acked: %+v created=%v err=%v; want acked page %d", again, created, err, first.ID)
	}
	if _, err := db.Store.ResolvePage(ctx, first.ID, "alice", "api"); err != nil {
		t.Fatal(err)
	}
	fresh, created, err := db.Store.CreatePage(ctx, newPage("user:alice", "disk-full"))
	if err != nil || !created || fresh.ID == first.ID {
		t.Fatalf("same key after resolve: %+v created=%v err=%v; want a new page", fresh, created, err)
	}
	other, created, err := db.Store.CreatePage(ctx, newPage("user:alice", ""))
	if err != nil || !created || other.ID == fresh.ID {
		t.Fatalf("no key: %+v created=%v err=%v", other, created, err)
	}
	evs, err := db.Store.PageEvents(ctx, first.ID)
	if err != nil {
		t.Fatal(err)
	}
	kinds := []string{}
	for _, e := range evs {
		kinds = append(kinds, e.Kind)
	}
	if len(kinds) != 3 || kinds[0] != paging.EventCreated || kinds[1] != paging.EventAcked || kinds[2] != paging.EventResolved {
		t.Errorf("timeline kinds = %v, want [created acked resolved]", kinds)
	}
}

func TestCreatePage_ConcurrentSameKeyMakesOnePage(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	const n = 16
	ids := make([]int64, n)
	var created sync.Map
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, c, err := db.Store.CreatePage(ctx, newPage("user:alice", "burst"))
			if err != nil {
				t.Error(err)
				return
			}
			ids[i] = p.ID
			if c {
				created.Store(i, true)
			}
		}()
	}
	wg.Wait()
	count := 0
	created.Range(func(any, any) bool { count++; return true })
	if count != 1 {
		t.Errorf("%d creations, want 1", count)
	}
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("ids differ: %v", ids)
		}
	}
}

func TestCreatePage_ConstraintsRefuseNonsense(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	tests := []struct {
		name string
		p    paging.Page
	}{
		{"bad target", paging.Page{Target: "team:x", Summary: "s"}},
		{"empty summary", paging.Page{Target: "user:alice"}},
		{"bad mode", paging.Page{Target: "user:alice", Summary: "s", Mode: "shout"}},
		{"bad urgency", paging.Page{Target: "user:alice", Summary: "s", Urgency: "meh"}},
		{"negative escalation", paging.Page{Target: "user:alice", Summary: "s", EscalateAfterSeconds: -1}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := db.Store.CreatePage(ctx, tc.p); err == nil {
				t.Fatal("stored, want a constraint violation")
			}
		})
	}
}

func TestPageTransitions_AreOneWayAndIdempotent(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	p, _, err := db.Store.CreatePage(ctx, newPage("user:alice", ""))
	if err != nil {
		t.Fatal(err)
	}
	tr, err := db.Store.AckPage(ctx, p.ID, "alice", "sms")
	if err != nil || !tr.Changed || tr.Page.Status != paging.StatusAcked || tr.Page.AckedBy != "alice" || tr.Page.AckedAt == nil {
		t.Fatalf("ack: %+v %v", tr, err)
	}
	tr, err = db.Store.AckPage(ctx, p.ID, "bob", "api")
	if err != nil || tr.Changed || tr.Page.AckedBy != "alice" {
		t.Fatalf("second ack: %+v %v; want unchanged, acked by alice", tr, err)
	}
	tr, err = db.Store.ResolvePage(ctx, p.ID, "bob", "api")
	if err != nil || !tr.Changed || tr.Page.Status != paging.StatusResolved || tr.Page.ResolvedBy != "bob" {
		t.Fatalf("resolve: %+v %v", tr, err)
	}
	tr, err = db.Store.AckPage(ctx, p.ID, "carol", "api")
	if err != nil || tr.Changed || tr.Page.Status != paging.StatusResolved {
		t.Fatalf("late ack: %+v %v; want unchanged and resolved", tr, err)
	}
	if _, err := db.Store.AckPage(ctx, 999999, "x", ""); klaxon.ErrorCodeOf(err) != klaxon.ENotFound {
		t.Errorf("ack of a missing page: %v, want not found", err)
	}
}

func TestAckPage_CancelsItsMessagesNotYetAccepted(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	p, _, err := db.Store.CreatePage(ctx, newPage("user:alice", ""))
	if err != nil {
		t.Fatal(err)
	}
	ref := fmtInt(p.ID)
	queued := klaxon.Message{ID: "page/1/0/1/voice", Medium: klaxon.Voice, To: "+15555550123", Body: "b", Purpose: store.PurposePage, Ref: ref}
	sent := klaxon.Message{ID: "page/1/0/0/sms", Medium: klaxon.SMS, To: "+15555550123", Body: "b", Purpose: store.PurposePage, Ref: ref}
	other := klaxon.Message{ID: "msg_other", Medium: klaxon.SMS, To: "+15555550123", Body: "b", Purpose: "api", Ref: ref}
	for _, m := range []klaxon.Message{queued, sent, other} {
		if _, err := db.Store.BeginAttempt(ctx, m, "retry", 1); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Store.FinishAttempt(ctx, sent.ID, "retry", 1, klaxon.Receipt{ProviderID: "SM1", Status: "queued"}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Store.AckPage(ctx, p.ID, "alice", "api"); err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string]string{queued.ID: klaxon.StatusCanceled, sent.ID: klaxon.StatusQueued, other.ID: klaxon.StatusQueued} {
		m, _, _, err := db.Store.GetMessage(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != want {
			t.Errorf("%s: status %q, want %q", id, m.Status, want)
		}
	}
	pm, err := db.Store.PageOfMessage(ctx, queued.ID)
	if err != nil || pm.PageID != p.ID || pm.Medium != klaxon.Voice {
		t.Errorf("page of message: %+v %v", pm, err)
	}
	if _, err := db.Store.PageOfMessage(ctx, other.ID); klaxon.ErrorCodeOf(err) != klaxon.ENotFound {
		t.Errorf("page of a non-page message: %v, want not found", err)
	}
}

func TestReplyCodes_LowestFreePerPhoneFreedOnResolve(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	const alice, bob = "+15555550123", "+15555550124"
	var pages []paging.Page
	for range 3 {
		p, _, err := db.Store.CreatePage(ctx, newPage("user:alice", ""))
		if err != nil {
			t.Fatal(err)
		}
		pages = append(pages, p)
	}
	alloc := func(p paging.Page, phone string) int {
		t.Helper()
		c, err := db.Store.AllocateReplyCode(ctx, p.ID, phone, 0)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if c := alloc(pages[0], alice); c != 1 {
		t.Errorf("first code %d, want 1", c)
	}
	if c := alloc(pages[0], alice); c != 1 {
		t.Errorf("same page again: %d, want 1", c)
	}
	if c := alloc(pages[1], alice); c != 2 {
		t.Errorf("second page: %d, want 2", c)
	}
	if c := alloc(pages[1], bob); c != 1 {
		t.Errorf("another phone starts at 1, got %d", c)
	}
	if _, err := db.Store.ResolvePage(ctx, pages[0].ID, "alice", "api"); err != nil {
		t.Fatal(err)
	}
	// A late reply finds the resolved page, marked freed.
	rc, err := db.Store.ReplyCodeFor(ctx, alice, 1)
	if err != nil || !rc.Freed || rc.PageID != pages[0].ID {
		t.Errorf("code of a resolved page: %+v %v; want page %d, freed", rc, err, pages[0].ID)
	}
	if c := alloc(pages[2], alice); c != 1 {
		t.Errorf("freed code not reused: %d, want 1", c)
	}
	rc, err = db.Store.ReplyCodeFor(ctx, alice, 1)
	if err != nil || rc.Freed || rc.PageID != pages[2].ID {
		t.Errorf("reused code: %+v %v; want live page %d", rc, err, pages[2].ID)
	}
	if live, err := db.Store.LiveReplyCodes(ctx, alice); err != nil || len(live) != 2 || live[0] != 1 || live[1] != 2 {
		t.Errorf("live codes = %v, %v; want [1 2]", live, err)
	}
	rc, err = db.Store.ReplyCodeFor(ctx, alice, 2)
	if err != nil || rc.PageID != pages[1].ID {
		t.Errorf("code 2: %+v %v", rc, err)
	}
	// A bare "a" means the page most recently texted to the phone.
	notify := func(pageID int64) error {
		_, err := db.Store.RecordNotification(ctx, pageID, nil, alice, "")
		return err
	}
	if err := notify(pages[1].ID); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	if err := notify(pages[2].ID); err != nil {
		t.Fatal(err)
	}
	rc, err = db.Store.ReplyCodeFor(ctx, alice, 0)
	if err != nil || rc.PageID != pages[2].ID || rc.Code != 1 {
		t.Errorf("latest: %+v %v; want page %d code 1", rc, err, pages[2].ID)
	}
	if _, err := db.Store.ReplyCodeFor(ctx, "+15555550999", 0); klaxon.ErrorCodeOf(err) != klaxon.ENotFound {
		t.Errorf("phone with no pages: %v", err)
	}
	if _, err := db.Store.ReplyCodeFor(ctx, alice, 7); klaxon.ErrorCodeOf(err) != klaxon.ENotFound {
		t.Errorf("code never used: %v", err)
	}
}

func TestPageRecipient_OnlyVerifiedContactsOfPagedPeople(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	alice, err := db.Store.CreateUser(ctx, store.User{Handle: "alice", Name: "Alice", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	mallory, err := db.Store.CreateUser(ctx, store.User{Handle: "mallory", Name: "Mallory", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	const alicePhone, malloryPhone, pending = "+15555550123", "+15555550666", "+15555550777"
	for _, c := range []store.Contact{
		{UserID: alice.ID, Type: klaxon.SMS, Address: alicePhone},
		{UserID: mallory.ID, Type: klaxon.SMS, Address: malloryPhone},
		{UserID: alice.ID, Type: klaxon.SMS, Address: pending},
	} {
		added, err := db.Store.AddContact(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if c.Address != pending {
			if err := db.Store.MarkContactVerified(ctx, added.ID); err != nil {
				t.Fatal(err)
			}
		}
	}
	p, _, err := db.Store.CreatePage(ctx, newPage("user:alice", ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Store.AllocateReplyCode(ctx, p.ID, alicePhone, alice.ID); err != nil {
		t.Fatal(err)
	}
	if u, err := db.Store.PageRecipient(ctx, p.ID, alicePhone); err != nil || u.Handle != "alice" {
		t.Errorf("alice: %+v %v", u, err)
	}
	for _, phone := range []string{malloryPhone, pending, "+15555550999"} {
		if _, err := db.Store.PageRecipient(ctx, p.ID, phone); klaxon.ErrorCodeOf(err) != klaxon.ENotFound {
			t.Errorf("%s: %v, want not found", phone, err)
		}
	}
}

func TestReplyCodes_ConcurrentPagesGetDistinctCodes(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	const n = 12
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		p, _, err := db.Store.CreatePage(ctx, newPage("user:alice", ""))
		if err != nil {
			t.Fatal(err)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := db.Store.AllocateReplyCode(ctx, p.ID, "+15555550123", 0)
			if err != nil {
				t.Error(err)
			}
			codes[i] = c
		}()
	}
	wg.Wait()
	seen := map[int]bool{}
	for _, c := range codes {
		if seen[c] || c < 1 || c > n {
			t.Fatalf("codes %v are not 1..%d each once", codes, n)
		}
		seen[c] = true
	}
}

func TestRecordPageEvent_SameKeyRecordsOnce(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	p, _, err := db.Store.CreatePage(ctx, newPage("user:alice", ""))
	if err != nil {
		t.Fatal(err)
	}
	e := paging.Event{Kind: paging.EventNotified, Key: "notified:m1", User: "alice", Medium: klaxon.SMS, Contact: "+1******0123", MessageID: "m1"}
	for range 3 {
		if err := db.Store.RecordPageEvent(ctx, p.ID, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.Store.RecordPageEvent(ctx, p.ID, paging.Event{Kind: paging.EventReply, Detail: "3a"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Store.RecordPageEvent(ctx, p.ID, paging.Event{Kind: paging.EventReply, Detail: "3a"}); err != nil {
		t.Fatal(err)
	}
	evs, err := db.Store.PageEvents(ctx, p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 4 { // created, notified, two replies
		t.Fatalf("%d events, want 4: %+v", len(evs), evs)
	}
	if evs[1].User != "alice" || evs[1].Medium != klaxon.SMS || evs[1].MessageID != "m1" {
		t.Errorf("notified event = %+v", evs[1])
	}
}

func TestClaimErrorReply_LimitsPerPhoneAndRepeatsItsAnswer(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	const phone = "+15555550123"
	var got []bool
	for id := int64(1); id <= 5; id++ {
		ok, err := db.Store.ClaimErrorReply(ctx, phone, id, 3, time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ok)
	}
	want := []bool{true, true, true, false, false}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("claims = %v, want %v", got, want)
		}
	}
	if ok, _ := db.Store.ClaimErrorReply(ctx, phone, 2, 3, time.Hour); !ok {
		t.Error("asking again for an allowed event changed the answer")
	}
	if ok, _ := db.Store.ClaimErrorReply(ctx, "+15555550124", 6, 3, time.Hour); !ok {
		t.Error("another phone is limited by the first one's replies")
	}
}

func TestRecordNotification_WritesOnceAndReturnsEarlyStatuses(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	p, _, err := db.Store.CreatePage(ctx, newPage("user:alice", ""))
	if err != nil {
		t.Fatal(err)
	}
	const phone = "+15555550123"
	if _, err := db.Store.AllocateReplyCode(ctx, p.ID, phone, 0); err != nil {
		t.Fatal(err)
	}
	// The provider called back before the pipeline knew its id.
	if _, _, err := db.Store.ApplyStatus(ctx, "SM1", klaxon.StatusDelivered, "", ""); err != nil {
		t.Fatal(err)
	}
	evs := []paging.Event{{Kind: paging.EventStep, Key: "step/0"}, {Kind: paging.EventNotified, Key: "notified/m1", MessageID: "m1"}}
	for range 2 {
		got, err := db.Store.RecordNotification(ctx, p.ID, evs, phone, "SM1")
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != 1 || got[0].Status != klaxon.StatusDelivered {
			t.Errorf("early statuses = %+v", got)
		}
	}
	timeline, err := db.Store.PageEvents(ctx, p.ID)
	if err != nil || len(timeline) != 3 {
		t.Fatalf("timeline = %+v, %v; want created, step, notified", timeline, err)
	}
	if rc, err := db.Store.ReplyCodeFor(ctx, phone, 0); err != nil || rc.PageID != p.ID {
		t.Errorf("latest page of the phone: %+v %v", rc, err)
	}
}

// A NUL byte in who acknowledged is refused by Postgres for its data, so
// that the activity gives up at once instead of retrying for ever, and the
// page stays open.
func TestAckPage_RefusedDataIsRecognisedAndChangesNothing(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	p, _, err := db.Store.CreatePage(ctx, newPage("user:alice", ""))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Store.AckPage(ctx, p.ID, "ops\x00bot", "api")
	if !store.IsRefusedData(err) {
		t.Fatalf("ack with a NUL byte: %v, want refused data", err)
	}
	got, err := db.Store.GetPage(ctx, p.ID)
	if err != nil || got.Status != paging.StatusOpen {
		t.Fatalf("page after the refused ack = %+v, %v; want open", got, err)
	}
	if _, err := db.Store.AckPage(ctx, p.ID, "ops", "api"); store.IsRefusedData(err) || err != nil {
		t.Fatalf("a good ack: %v", err)
	}
}
