package gateway_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/klaxonhq/klaxon"
)

// A 21610 status callback (the carrier says the recipient opted out) is
// mirrored as an opt-out from the number that really sent the message —
// the paging number for a message that names no sender, never a wildcard
// that would block every sending number — and a mirror that cannot be
// written answers 503, so that Twilio's retry (a duplicate callback by
// then) writes it.
func TestStatusCallback_CarrierOptOutIsMirroredFromTheRealSenderAndRetried(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	ctx := context.Background()
	const to = "+15555550123"
	m := klaxon.Message{ID: "msg_api", Medium: klaxon.SMS, To: to, Body: "x"}
	if _, err := ig.db.Store.BeginAttempt(ctx, m, "first", 1); err != nil {
		t.Fatal(err)
	}
	if err := ig.db.Store.FinishAttempt(ctx, m.ID, "first", 1, klaxon.Receipt{ProviderID: "SMopt", Status: "queued"}); err != nil {
		t.Fatal(err)
	}
	form := url.Values{"MessageSid": {"SMopt"}, "MessageStatus": {"failed"}, "ErrorCode": {"21610"}}
	exec := func(q string) {
		if _, err := ig.db.Pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	exec(`ALTER TABLE opt_outs RENAME TO opt_outs_away`)
	if a := ig.send(t, "/twilio/sms/status", form, inbToken); a.status != http.StatusServiceUnavailable {
		t.Errorf("callback whose opt-out could not be written answered %d, want 503", a.status)
	}
	exec(`ALTER TABLE opt_outs_away RENAME TO opt_outs`)
	if a := ig.send(t, "/twilio/sms/status", form, inbToken); a.status != http.StatusNoContent {
		t.Errorf("Twilio's retry answered %d, want 204", a.status)
	}
	rows, err := ig.db.Pool.Query(ctx, `SELECT sender FROM opt_outs WHERE number = $1`, to)
	if err != nil {
		t.Fatal(err)
	}
	var senders []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		senders = append(senders, s)
	}
	rows.Close()
	if len(senders) != 1 || senders[0] != inbPaging {
		t.Errorf("opt-outs of %s from %q, want one from the paging number %s", to, senders, inbPaging)
	}
}

// A message sent through POST /api/v1/messages is stored with the number
// it is sent from.
func TestCreateMessage_StoresItsRealSender(t *testing.T) {
	ig := newInbGateway(t, nil, nil)
	_, out := ig.apiCall(t, "POST", "/api/v1/messages", `{"channel":"sms","to":"+15555550123","body":"hello"}`)
	var from string
	if err := ig.db.Pool.QueryRow(context.Background(), `SELECT sender FROM messages`).Scan(&from); err != nil {
		t.Fatalf("no message stored (%v): %v", out, err)
	}
	if from != inbPaging {
		t.Errorf("stored sender %q, want the paging number %s", from, inbPaging)
	}
}
