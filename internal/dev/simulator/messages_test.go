package simulator_test

import (
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/klaxonhq/klaxon/internal/dev/simulator"
)

// sms builds CreateMessage parameters.
func sms(from, to, body, callback string) *openapi.CreateMessageParams {
	p := (&openapi.CreateMessageParams{}).SetFrom(from).SetTo(to).SetBody(body)
	if callback != "" {
		p.SetStatusCallback(callback)
	}
	return p
}

func TestCreateMessage_AnswersQueuedThenCallsBackSentAndDelivered(t *testing.T) {
	e := newEnv(t)
	cb := e.hooks.URL + "/twilio/sms/status?attempt=1"

	msg, err := e.api.CreateMessage(sms(klaxonNum, alice, "Page 3: derp is broken. Reply 3a to ack.", cb))
	if err != nil {
		t.Fatalf("create message: %v", err)
	}
	if msg.Sid == nil || !strings.HasPrefix(*msg.Sid, "SM") || len(*msg.Sid) != 34 {
		t.Fatalf("sid = %v, want SM + 32 hex digits", msg.Sid)
	}
	if *msg.Status != "queued" || *msg.To != alice || *msg.From != klaxonNum ||
		*msg.NumSegments != "1" || *msg.Direction != "outbound-api" || *msg.AccountSid != testSID {
		t.Errorf("message = status %s to %s from %s segments %s direction %s account %s",
			*msg.Status, *msg.To, *msg.From, *msg.NumSegments, *msg.Direction, *msg.AccountSid)
	}

	got := e.hooks.waitN(t, "/twilio/sms/status", 2)
	if statuses := field(got, "MessageStatus"); !slices.Equal(statuses, []string{"sent", "delivered"}) {
		t.Fatalf("callback statuses = %v, want [sent delivered]", statuses)
	}
	for _, r := range got {
		f := r.Form
		if f.Get("MessageSid") != *msg.Sid || f.Get("SmsSid") != *msg.Sid || f.Get("AccountSid") != testSID ||
			f.Get("From") != klaxonNum || f.Get("To") != alice || f.Get("ApiVersion") != "2010-04-01" ||
			f.Get("SmsStatus") != f.Get("MessageStatus") || f.Has("ErrorCode") {
			t.Errorf("callback fields = %v", f)
		}
	}

	fetched, err := e.api.FetchMessage(*msg.Sid, nil)
	if err != nil {
		t.Fatalf("fetch message: %v", err)
	}
	if *fetched.Status != "delivered" || *fetched.Body != "Page 3: derp is broken. Reply 3a to ack." {
		t.Errorf("fetched = %s %q", *fetched.Status, *fetched.Body)
	}
	inbox := e.sim.Inbox(alice)
	if len(inbox) != 1 || inbox[0].SID != *msg.Sid || inbox[0].Status != "delivered" || inbox[0].Direction != "outbound-api" {
		t.Errorf("inbox = %+v", inbox)
	}
}

func TestCreateMessage_FinalStatusFollowsBehaviour(t *testing.T) {
	tests := []struct {
		name      string
		smsStatus string
		statuses  []string
		code      string
	}{
		{name: "delivered by default", statuses: []string{"sent", "delivered"}},
		{name: "undelivered carries 30003", smsStatus: "undelivered", statuses: []string{"sent", "undelivered"}, code: "30003"},
		{name: "failed is never sent and carries 30005", smsStatus: "failed", statuses: []string{"failed"}, code: "30005"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.sim.SetBehaviour(alice, simulator.Behaviour{SMSStatus: tt.smsStatus})
			msg, err := e.api.CreateMessage(sms(klaxonNum, alice, "hi", e.hooks.URL+"/status"))
			if err != nil {
				t.Fatal(err)
			}
			got := e.hooks.waitN(t, "/status", len(tt.statuses))
			if statuses := field(got, "MessageStatus"); !slices.Equal(statuses, tt.statuses) {
				t.Errorf("statuses = %v, want %v", statuses, tt.statuses)
			}
			if code := got[len(got)-1].Form.Get("ErrorCode"); code != tt.code {
				t.Errorf("ErrorCode = %q, want %q", code, tt.code)
			}
			m, err := e.sim.WaitMessage(t.Context(), alice, func(m simulator.Message) bool {
				return m.SID == *msg.Sid && m.Status == tt.statuses[len(tt.statuses)-1]
			})
			if err != nil {
				t.Fatal(err)
			}
			if want := map[string]int{"30003": 30003, "30005": 30005}[tt.code]; m.ErrorCode != want {
				t.Errorf("message error code = %d, want %d", m.ErrorCode, want)
			}
		})
	}
}

func TestCreateMessage_RefusesLikeTwilio(t *testing.T) {
	long := strings.Repeat("x", 1601)
	tests := []struct {
		name   string
		params *openapi.CreateMessageParams
		status int
		code   int
	}{
		{"missing To", (&openapi.CreateMessageParams{}).SetFrom(klaxonNum).SetBody("hi"), 400, 21604},
		{"missing Body", (&openapi.CreateMessageParams{}).SetFrom(klaxonNum).SetTo(alice), 400, 21602},
		{"missing From", (&openapi.CreateMessageParams{}).SetTo(alice).SetBody("hi"), 400, 21603},
		{"To not E.164", sms(klaxonNum, "555-0123", "hi", ""), 400, 21211},
		{"body over 1600 characters", sms(klaxonNum, alice, long, ""), 400, 21617},
		{"magic invalid number", sms(klaxonNum, "+15005550001", "hi", ""), 400, 21211},
		{"magic unroutable number", sms(klaxonNum, "+15005550002", "hi", ""), 400, 21612},
		{"magic opted-out number", sms(klaxonNum, "+15005550004", "hi", ""), 400, 21610},
		{"magic landline", sms(klaxonNum, "+15005550009", "hi", ""), 400, 21614},
		{"magic From not owned", sms("+15005550007", alice, "hi", ""), 400, 21606},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.api.CreateMessage(tt.params)
			var rerr *client.TwilioRestError
			if !errors.As(err, &rerr) {
				t.Fatalf("err = %v, want *client.TwilioRestError", err)
			}
			if rerr.Status != tt.status || rerr.Code != tt.code || rerr.Message == "" ||
				rerr.MoreInfo != "https://www.twilio.com/docs/errors/"+strconv.Itoa(tt.code) {
				t.Errorf("error = %+v, want status %d code %d", rerr, tt.status, tt.code)
			}
		})
	}
	if n := len(e.sim.Messages()); n != 0 {
		t.Errorf("%d messages recorded, want none", n)
	}
}

func TestCreateMessage_MessagingServiceIsAccepted(t *testing.T) {
	e := newEnv(t)
	e.sim.AddIncomingNumber(klaxonNum, "")
	p := (&openapi.CreateMessageParams{}).SetMessagingServiceSid("MG0123456789abcdef0123456789abcdef").
		SetTo(alice).SetBody("hi")
	msg, err := e.api.CreateMessage(p)
	if err != nil {
		t.Fatal(err)
	}
	if *msg.Status != "accepted" || msg.From != nil || *msg.MessagingServiceSid != "MG0123456789abcdef0123456789abcdef" {
		t.Errorf("message = status %s from %v service %v", *msg.Status, msg.From, msg.MessagingServiceSid)
	}
	m, err := e.sim.WaitMessage(t.Context(), alice, func(m simulator.Message) bool { return m.Status == "delivered" })
	if err != nil {
		t.Fatal(err)
	}
	if m.From != klaxonNum {
		t.Errorf("sent from %q, want the service's number %q", m.From, klaxonNum)
	}
}

func TestCreateMessage_CountsSegments(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{"160 GSM characters fit one", strings.Repeat("a", 160), "1"},
		{"161 GSM characters take two", strings.Repeat("a", 161), "2"},
		{"extension characters count twice", strings.Repeat("{", 81), "2"},
		{"70 UCS-2 characters fit one", strings.Repeat("é", 69) + "☃", "1"},
		{"71 UCS-2 characters take two", strings.Repeat("☃", 71), "2"},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			msg, err := e.api.CreateMessage(sms(klaxonNum, alice, tt.body, ""))
			if err != nil {
				t.Fatal(err)
			}
			if *msg.NumSegments != tt.want {
				t.Errorf("num_segments = %s, want %s", *msg.NumSegments, tt.want)
			}
		})
	}
}

func TestREST_RefusesBadCredentials(t *testing.T) {
	e := newEnv(t)
	tests := []struct {
		name       string
		sid, token string
		status     int
		code       int
	}{
		{"wrong token", testSID, "ffffffffffffffffffffffffffffffff", 401, 20003},
		{"other account", "ACffffffffffffffffffffffffffffffff", testToken, 401, 20003},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := twilioAPI(t, e.url, tt.sid, tt.token)
			_, err := api.CreateMessage(sms(klaxonNum, alice, "hi", ""))
			var rerr *client.TwilioRestError
			if !errors.As(err, &rerr) || rerr.Status != tt.status || rerr.Code != tt.code {
				t.Fatalf("err = %v, want status %d code %d", err, tt.status, tt.code)
			}
		})
	}
	t.Run("no credentials", func(t *testing.T) {
		resp, err := http.Post(e.url+"/2010-04-01/Accounts/"+testSID+"/Messages.json", "application/x-www-form-urlencoded", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("status %d, WWW-Authenticate %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
		}
	})
	if n := len(e.sim.Messages()); n != 0 {
		t.Errorf("%d messages recorded, want none", n)
	}
}

func TestFailNext_FailsTheNextCreates(t *testing.T) {
	tests := []struct {
		name       string
		n          int
		httpStatus int
		code       int
		wantStatus int
	}{
		{"service unavailable", 2, 503, 0, 503},
		{"rate limited", 1, 429, 20429, 429},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			e.sim.FailNext(tt.n, tt.httpStatus, tt.code)
			for i := range tt.n {
				_, err := e.api.CreateMessage(sms(klaxonNum, alice, "hi", ""))
				var rerr *client.TwilioRestError
				if !errors.As(err, &rerr) || rerr.Status != tt.wantStatus || rerr.Code != tt.code {
					t.Fatalf("attempt %d: err = %v, want status %d code %d", i+1, err, tt.wantStatus, tt.code)
				}
			}
			if _, err := e.api.CreateMessage(sms(klaxonNum, alice, "hi", "")); err != nil {
				t.Fatalf("after %d failures: %v", tt.n, err)
			}
			if n := len(e.sim.Messages()); n != 1 {
				t.Errorf("%d messages recorded, want 1", n)
			}
		})
	}
	t.Run("non-JSON 502", func(t *testing.T) {
		e := newEnv(t)
		e.sim.FailNext(1, 0, -1)
		_, err := e.api.CreateMessage(sms(klaxonNum, alice, "hi", ""))
		var rerr *client.TwilioRestError
		if err == nil || errors.As(err, &rerr) || !strings.Contains(err.Error(), "502") {
			t.Fatalf("err = %v, want a decoding error naming 502", err)
		}
	})
}

func TestREST_CountsRequests(t *testing.T) {
	e := newEnv(t)
	for range 3 {
		if _, err := e.api.CreateMessage(sms(klaxonNum, alice, "hi", "")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := e.api.FetchMessage("SM00000000000000000000000000000000", nil); err == nil {
		t.Fatal("fetching an unknown message succeeded")
	}
	if got := e.sim.Requests(); got != 4 {
		t.Errorf("Requests() = %d, want 4", got)
	}
}
