package simulator_test

import (
	"errors"
	"net/http"
	"net/url"
	"testing"

	"github.com/klaxonhq/klaxon/internal/dev/simulator"
)

func TestSendSMS_PostsSignedWebhookAndRecordsTwimlReplies(t *testing.T) {
	e := newEnv(t)
	e.sim.AddIncomingNumber(klaxonNum, e.hooks.URL+"/twilio/sms?n=paging")
	e.sim.SetBehaviour(alice, simulator.Behaviour{SMSStatus: "undelivered"})
	e.hooks.twiml("/twilio/sms", `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Message>Page 3 acknowledged.
Reply 3c to resolve.</Message>
  <Message to="+15555550199"><Body>Bob: alice acked page 3</Body></Message>
  <Message></Message>
</Response>`)

	sid, err := e.sim.SendSMS(t.Context(), alice, klaxonNum, "3a")
	if err != nil {
		t.Fatalf("send sms: %v", err)
	}
	got := e.hooks.requests("/twilio/sms")
	if len(got) != 1 {
		t.Fatalf("%d webhooks, want 1", len(got))
	}
	f := got[0].Form
	want := url.Values{
		"MessageSid": {sid}, "SmsSid": {sid}, "SmsMessageSid": {sid}, "AccountSid": {testSID},
		"From": {alice}, "To": {klaxonNum}, "Body": {"3a"}, "NumMedia": {"0"}, "NumSegments": {"1"},
		"ApiVersion": {"2010-04-01"}, "FromCountry": {"US"},
	}
	for k, v := range want {
		if f.Get(k) != v[0] {
			t.Errorf("%s = %q, want %q", k, f.Get(k), v[0])
		}
	}
	if f.Has("MessagingServiceSid") {
		t.Errorf("MessagingServiceSid sent: %q", f.Get("MessagingServiceSid"))
	}

	msgs := e.sim.Messages()
	if len(msgs) != 3 {
		t.Fatalf("messages = %+v, want the text and two replies", msgs)
	}
	if in := msgs[0]; in.SID != sid || in.Direction != "inbound" || in.From != alice || in.To != klaxonNum || in.Body != "3a" {
		t.Errorf("inbound = %+v", in)
	}
	if r := msgs[1]; r.Direction != "outbound-reply" || r.From != klaxonNum || r.To != alice ||
		r.Body != "Page 3 acknowledged.\nReply 3c to resolve." {
		t.Errorf("reply = %+v", r)
	}
	if r := msgs[2]; r.To != "+15555550199" || r.Body != "Bob: alice acked page 3" {
		t.Errorf("second reply = %+v", r)
	}
	// Replies are delivered as any message is, per the phone's behaviour.
	reply, err := e.sim.WaitMessage(t.Context(), alice, func(m simulator.Message) bool {
		return m.Direction == "outbound-reply" && m.Status == "undelivered"
	})
	if err != nil {
		t.Fatal(err)
	}
	if reply.ErrorCode != 30003 {
		t.Errorf("reply error code = %d, want 30003", reply.ErrorCode)
	}
	if inbox := e.sim.Inbox(alice); len(inbox) != 1 || inbox[0].SID != msgs[1].SID {
		t.Errorf("inbox = %+v, want only the reply", inbox)
	}
}

func TestSendSMS_UsesInboundURLForNumbersWithoutSmsUrl(t *testing.T) {
	e := newEnv(t)
	if _, err := e.sim.SendSMS(t.Context(), alice, klaxonNum, "hello"); err != nil {
		t.Fatal(err)
	}
	if got := e.hooks.requests("/twilio/sms"); len(got) != 1 || got[0].Form.Get("Body") != "hello" {
		t.Errorf("webhooks = %v", got)
	}
}

func TestSendSMS_FailsWhenWebhookRefuses(t *testing.T) {
	tests := []struct {
		name   string
		status int
	}{
		{"forbidden", http.StatusForbidden},
		{"server error", http.StatusInternalServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.hooks.handle("/twilio/sms", func(url.Values) (int, string) { return tt.status, "no" })
			sid, err := e.sim.SendSMS(t.Context(), alice, klaxonNum, "hello")
			if err == nil {
				t.Fatal("send sms succeeded")
			}
			if sid == "" || len(e.sim.Messages()) != 1 {
				t.Errorf("sid %q, %d messages: the text should be recorded anyway", sid, len(e.sim.Messages()))
			}
		})
	}
	t.Run("nowhere to post", func(t *testing.T) {
		sim := simulator.New(simulator.Config{AuthToken: testToken})
		t.Cleanup(sim.Close)
		if _, err := sim.SendSMS(t.Context(), alice, klaxonNum, "hello"); !errors.Is(err, simulator.ErrNoWebhook) {
			t.Errorf("err = %v, want ErrNoWebhook", err)
		}
	})
}
