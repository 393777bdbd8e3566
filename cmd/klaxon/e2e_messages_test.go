package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/klaxonhq/klaxon/internal/dev/mailsink"
	"github.com/klaxonhq/klaxon/internal/dev/simulator"
)

type messageAnswer struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Channel  string `json:"channel"`
	To       string `json:"to"`
	Error    string `json:"error"`
	Attempts []struct {
		Lane      string `json:"lane"`
		Outcome   string `json:"outcome"`
		ErrorKind string `json:"error_kind"`
	} `json:"attempts"`
	Events []struct {
		Status string `json:"status"`
	} `json:"events"`
}

func TestE2E_Messages_EachMediumReachesItsProvider(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const to = "+15555550123"

	var sms messageAnswer
	if code := h.api(http.MethodPost, "/api/v1/messages", map[string]string{"channel": "sms", "to": to, "body": "disk full on db-1"}, &sms); code != http.StatusAccepted {
		t.Fatalf("sms: status %d, error %q", code, sms.Error)
	}
	got := h.waitText(to, "disk full on db-1")
	if got.From != hPagingNumber {
		t.Errorf("sms from %s, want the paging number", got.From)
	}
	var last messageAnswer
	h.eventually("sms delivered in the audit log", func() bool {
		h.api(http.MethodGet, "/api/v1/messages/"+sms.ID, nil, &last)
		if last.Status == "delivered" && len(last.Events) >= 2 && len(last.Attempts) == 1 {
			return true
		}
		t.Logf("message so far: %+v", last)
		return false
	})

	var voice messageAnswer
	if code := h.api(http.MethodPost, "/api/v1/messages", map[string]string{"channel": "voice", "to": "(555) 555-0124", "body": "the database is down"}, &voice); code != http.StatusAccepted {
		t.Fatalf("voice: status %d, error %q", code, voice.Error)
	}
	call := waitCall(t, h, "+15555550124")
	// Read as a person would say it: capitalised, a sentence, a pause and
	// "again" before the repeat.
	if want := []string{"This is Klaxon.", "The database is down.", "Again: The database is down.", "Goodbye."}; !slices.Equal(call.Transcript, want) {
		t.Errorf("call transcript %q, want %q", call.Transcript, want)
	}

	var mail messageAnswer
	if code := h.api(http.MethodPost, "/api/v1/messages", map[string]string{"channel": "email", "to": "alice@example.com", "body": "hello by mail", "subject": "Klaxon test"}, &mail); code != http.StatusAccepted {
		t.Fatalf("email: status %d, error %q", code, mail.Error)
	}
	m := h.waitMail("alice@example.com", func(m mailsink.Mail) bool { return m.Subject == "Klaxon test" })
	if !strings.Contains(m.Body, "hello by mail") || m.MessageID == "" {
		t.Errorf("mail = %+v", m)
	}
}

func waitCall(t *testing.T, h *harness, to string) simulator.Call {
	t.Helper()
	var call simulator.Call
	h.eventually("a finished call to "+to, func() bool {
		for _, c := range h.sim.Calls(to) {
			if c.Status == "completed" {
				call = c
				return true
			}
		}
		return false
	})
	return call
}

func TestE2E_Messages_BadInputIsRefusedAndStoresNothing(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	cases := []struct {
		name   string
		body   any
		status int
		want   string
	}{
		{"unknown channel", map[string]string{"channel": "fax", "to": "+15555550123", "body": "x"}, 400, "Unknown channel"},
		{"missing channel", map[string]string{"to": "+15555550123", "body": "x"}, 400, `"channel" is required`},
		{"invalid number", map[string]string{"channel": "sms", "to": "abc", "body": "x"}, 400, "not a valid phone number"},
		{"short number", map[string]string{"channel": "sms", "to": "+1555", "body": "x"}, 400, "not a valid phone number"},
		{"invalid email", map[string]string{"channel": "email", "to": "not-an-address", "body": "x"}, 400, "not a valid email"},
		{"invalid Matrix id", map[string]string{"channel": "matrix", "to": "alice@example.org", "body": "x"}, 400, "not a Matrix user id"},
		{"empty body", map[string]string{"channel": "sms", "to": "+15555550123", "body": "  "}, 400, `"body" is required`},
		{"body too long", map[string]string{"channel": "sms", "to": "+15555550123", "body": strings.Repeat("a", 1601)}, 400, "limit is 1600"},
		{"not json", "nope", 400, "not valid JSON"},
		{"wrong type", map[string]any{"channel": "sms", "to": 5551234, "body": "x"}, 400, `"to" must be a string`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out struct {
				Error string `json:"error"`
			}
			if code := h.api(http.MethodPost, "/api/v1/messages", c.body, &out); code != c.status {
				t.Fatalf("status %d, want %d (%q)", code, c.status, out.Error)
			}
			if !strings.Contains(out.Error, c.want) {
				t.Errorf("error %q, want it to mention %q", out.Error, c.want)
			}
		})
	}
	var n int
	if err := h.db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM messages`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d messages stored after bad requests, want 0", n)
	}
	if len(h.sim.Messages()) != 0 {
		t.Errorf("simulator got %d messages, want none", len(h.sim.Messages()))
	}
}

func TestE2E_Messages_RequiresToken(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	req, _ := http.NewRequest(http.MethodPost, h.baseURL+"/api/v1/messages", strings.NewReader(`{}`))
	req.Header.Set("Authorization", "Bearer wrong")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("status %d, want 401", resp.StatusCode)
	}
}

func TestE2E_Messages_ProviderDownRetriesThenDelivers(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.sim.FailNext(3, http.StatusServiceUnavailable, 0)
	var out messageAnswer
	if code := h.api(http.MethodPost, "/api/v1/messages", map[string]string{"channel": "sms", "to": "+15555550130", "body": "retry me"}, &out); code != http.StatusAccepted {
		t.Fatalf("status %d: %s", code, out.Error)
	}
	h.waitText("+15555550130", "retry me")
	var m messageAnswer
	h.eventually("the audit log to show the failed attempts and the delivery", func() bool {
		h.api(http.MethodGet, "/api/v1/messages/"+out.ID, nil, &m)
		return m.Status == "delivered" && len(m.Attempts) == 4
	})
	for i, a := range m.Attempts[:3] {
		if a.Outcome != "failed" || a.ErrorKind != "ProviderUnavailable" {
			t.Errorf("attempt %d = %+v, want a failed ProviderUnavailable", i, a)
		}
	}
	if m.Attempts[3].Outcome != "accepted" {
		t.Errorf("last attempt = %+v", m.Attempts[3])
	}
	if n := len(h.sim.Inbox("+15555550130")); n != 1 {
		t.Errorf("%d texts delivered, want 1", n)
	}
}

func TestE2E_Messages_PermanentFailureIsRecordedWithReason(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	var out messageAnswer
	if code := h.api(http.MethodPost, "/api/v1/messages", map[string]string{"channel": "sms", "to": "+15005550001", "body": "x"}, &out); code != http.StatusAccepted {
		t.Fatalf("status %d: %s", code, out.Error)
	}
	var m struct {
		Status      string `json:"status"`
		ErrorKind   string `json:"error_kind"`
		ErrorReason string `json:"error_reason"`
		Attempts    []any  `json:"attempts"`
	}
	h.eventually("the message to be marked failed", func() bool {
		h.api(http.MethodGet, "/api/v1/messages/"+out.ID, nil, &m)
		return m.Status == "failed"
	})
	if m.ErrorKind != "InvalidNumber" || m.ErrorReason == "" || len(m.Attempts) != 1 {
		t.Errorf("failed message = %+v; want InvalidNumber, a reason, and no retries", m)
	}
}

func TestE2E_Messages_WorkerKilledMidDeliveryDeliversEachOnce(t *testing.T) {
	// One message per second per number: five texts take four seconds, and
	// the worker dies after the second.
	h := newHarness(t, harnessOptions{SplitWorker: true, Env: map[string]string{"KLAXON_SEND_RATE": "1"}})
	recipients := []string{"+15555550141", "+15555550142", "+15555550143", "+15555550144", "+15555550145"}
	for _, to := range recipients {
		var out messageAnswer
		if code := h.api(http.MethodPost, "/api/v1/messages", map[string]string{"channel": "sms", "to": to, "body": "once only"}, &out); code != http.StatusAccepted {
			t.Fatalf("status %d: %s", code, out.Error)
		}
	}
	h.eventually("two texts out", func() bool { return len(h.sim.Messages()) >= 2 })
	h.stopWorker()
	sentBefore := len(h.sim.Messages())
	h.startWorker()
	for _, to := range recipients {
		h.waitText(to, "once only")
	}
	// Give any duplicate a chance to show up before counting.
	h.eventually("every message delivered in the audit log", func() bool {
		var n int
		_ = h.db.Pool.QueryRow(t.Context(), `SELECT count(*) FROM messages WHERE status = 'delivered'`).Scan(&n)
		return n == len(recipients)
	})
	for _, to := range recipients {
		if n := len(h.sim.Inbox(to)); n != 1 {
			t.Errorf("%s got %d texts, want exactly 1", to, n)
		}
	}
	t.Logf("%d texts were out before the worker was killed", sentBefore)
}

func TestE2E_Messages_QueuedWhileWorkerDownAreDeliveredWhenItReturns(t *testing.T) {
	h := newHarness(t, harnessOptions{SplitWorker: true})
	h.stopWorker()
	var out messageAnswer
	if code := h.api(http.MethodPost, "/api/v1/messages", map[string]string{"channel": "sms", "to": "+15555550150", "body": "waited"}, &out); code != http.StatusAccepted {
		t.Fatalf("status %d: %s", code, out.Error)
	}
	if n := len(h.sim.Messages()); n != 0 {
		t.Fatalf("a text went out with no worker running")
	}
	h.startWorker()
	h.waitText("+15555550150", "waited")
}
