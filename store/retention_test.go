package store_test

import (
	"context"
	"strconv"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/store"
)

// After the retention window, what people wrote and their numbers are
// gone — inbound texts (hotline texts and CHANNEL requests among them),
// message bodies and recipients, channel requesters, hotline ids — while
// the rows stay for the audit log; an open page's texts stay until it
// closes, and nothing newer than the window is touched.
func TestPurgeBefore_EmptiesContentAndNumbersKeepsMetadataAndOpenPages(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	q := func(sql string, args ...any) {
		t.Helper()
		if _, err := db.Pool.Exec(ctx, sql, args...); err != nil {
			t.Fatal(err)
		}
	}
	old, _, _ := db.Store.RecordInbound(ctx, store.InboundEvent{Kind: store.InboundSMS, DedupKey: "SMold", From: "+15555550001", To: "+15555550100", Body: "CHANNEL +15555550002"})
	fresh, _, _ := db.Store.RecordInbound(ctx, store.InboundEvent{Kind: store.InboundSMS, DedupKey: "SMnew", From: "+15555550001", To: "+15555550100", Body: "hello"})
	for _, e := range []store.InboundEvent{old, fresh} {
		if _, err := db.Store.FinishInbound(ctx, e.ID, "channel"); err != nil {
			t.Fatal(err)
		}
	}
	open, _, err := db.Store.CreatePage(ctx, newPage("user:alice", ""))
	if err != nil {
		t.Fatal(err)
	}
	msgs := []klaxon.Message{
		{ID: "m-hotline", Medium: klaxon.SMS, To: "+15555550003", Body: "@abc: help me", Purpose: "channel", Ref: "channel:1"},
		{ID: "m-open-page", Medium: klaxon.SMS, To: "+15555550004", Body: "paging.Page 3: disk full", Purpose: store.PurposePage, Ref: strconv.FormatInt(open.ID, 10)},
		{ID: "m-new", Medium: klaxon.SMS, To: "+15555550005", Body: "recent"},
	}
	for _, m := range msgs {
		if err := db.Store.CreateMessage(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Store.AdmitChannelRequest(ctx, "channel-create/SMold", "+15555550001", "sms", 10, time.Hour); err != nil {
		t.Fatal(err)
	}
	q(`INSERT INTO channels (phone) VALUES ('+15555550200')`)
	q(`INSERT INTO hotline_ids (channel_id, sender, handle) SELECT id, '+15555550001', '@abcd' FROM channels`)
	month := `now() - interval '31 days'`
	q(`UPDATE inbound_events SET received_at = `+month+` WHERE id = $1`, old.ID)
	q(`UPDATE messages SET created_at = ` + month + ` WHERE id IN ('m-hotline', 'm-open-page')`)
	q(`UPDATE channel_requests SET created_at = ` + month)
	q(`UPDATE hotline_ids SET created_at = ` + month)

	got, err := db.Store.PurgeBefore(ctx, time.Now().Add(-30*24*time.Hour), 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got != (store.PurgeCounts{InboundEvents: 1, Messages: 1, ChannelRequests: 1, HotlineIDs: 1}) {
		t.Errorf("purged %+v", got)
	}
	e, _ := db.Store.InboundEventByID(ctx, old.ID)
	if e.Body != "" || e.From != store.PurgedNumber || e.Outcome != "channel" || e.ProcessedAt == nil {
		t.Errorf("old inbound event = %+v: body and sender should be gone, metadata kept", e)
	}
	if e, _ := db.Store.InboundEventByID(ctx, fresh.ID); e.Body != "hello" {
		t.Errorf("a recent text was purged: %+v", e)
	}
	for id, want := range map[string]string{"m-hotline": "", "m-open-page": "paging.Page 3: disk full", "m-new": "recent"} {
		m, _, _, err := db.Store.GetMessage(ctx, id)
		if err != nil || m.Body != want {
			t.Errorf("message %s body %q (%v), want %q", id, m.Body, err, want)
		}
	}
	// Resolved, the page's texts go at the next purge; a repeat purges
	// nothing more.
	if _, err := db.Store.ResolvePage(ctx, open.ID, "alice", "api"); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.Store.PurgeBefore(ctx, time.Now().Add(-30*24*time.Hour), 1000); got.Messages != 1 || got.InboundEvents != 0 {
		t.Errorf("second purge %+v, want the resolved page's text only", got)
	}
	if m, _, _, _ := db.Store.GetMessage(ctx, "m-open-page"); m.Body != "" || m.To != "" || m.Status == "" {
		t.Errorf("resolved page's text = %+v", m)
	}
	var requester string
	if err := db.Pool.QueryRow(ctx, `SELECT requester FROM channel_requests`).Scan(&requester); err != nil || requester != "" {
		t.Errorf("channel request requester %q (%v)", requester, err)
	}
}

// Deleting a channel purges what only it needed: its messages' bodies and
// recipients, and the texts its number received.
func TestDeleteChannel_PurgesWhatOnlyItNeeded(t *testing.T) {
	db := testenv.Postgres(t)
	ctx := context.Background()
	ch, err := db.Store.CreateChannel(ctx, "req-1", "+15555550200", []string{"+15555550001"})
	if err != nil {
		t.Fatal(err)
	}
	ev, _, _ := db.Store.RecordInbound(ctx, store.InboundEvent{Kind: store.InboundSMS, DedupKey: "SMh", From: "+15555550009", To: ch.Phone, Body: "tip: the mayor"})
	if _, err := db.Store.FinishInbound(ctx, ev.ID, "channel"); err != nil {
		t.Fatal(err)
	}
	if err := db.Store.CreateMessage(ctx, klaxon.Message{ID: "m-h", Medium: klaxon.SMS, From: ch.Phone, To: "+15555550001",
		Body: "@abc: tip: the mayor", Purpose: "channel", Ref: "channel:" + strconv.FormatInt(ch.ID, 10)}); err != nil {
		t.Fatal(err)
	}
	if err := db.Store.DeleteChannel(ctx, ch.Phone); err != nil {
		t.Fatal(err)
	}
	if m, _, _, _ := db.Store.GetMessage(ctx, "m-h"); m.Body != "" || m.To != "" {
		t.Errorf("a deleted channel's message kept %+v", m)
	}
	if e, _ := db.Store.InboundEventByID(ctx, ev.ID); e.Body != "" || e.From != store.PurgedNumber {
		t.Errorf("a deleted channel's inbound text kept %+v", e)
	}
}
