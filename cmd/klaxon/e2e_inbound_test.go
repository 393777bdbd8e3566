package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/gateway"
	"github.com/klaxonhq/klaxon/store"
)

var codePattern = regexp.MustCompile(`\b\d{6}\b`)

// inbRaw calls the API and returns the whole answer, headers included.
func (h *harness) inbRaw(method, path string, body any) (*http.Response, map[string]any) {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, h.baseURL+path, rd)
	req.Header.Set("Authorization", "Bearer "+hToken)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	_ = json.NewDecoder(resp.Body).Decode(&out)
	return resp, out
}

// waitCode waits for the nth text to number that starts with prefix and
// returns the code it carries.
func (h *harness) waitCode(number, prefix string, nth int) string {
	h.t.Helper()
	var found []string
	h.eventually(fmt.Sprintf("code %d to %s", nth, number), func() bool {
		found = found[:0]
		for _, m := range h.sim.Inbox(number) {
			if strings.HasPrefix(m.Body, prefix) {
				found = append(found, m.Body)
			}
		}
		return len(found) >= nth
	})
	c := codePattern.FindString(found[nth-1])
	if c == "" {
		h.t.Fatalf("no code in %q", found[nth-1])
	}
	return c
}

// contactOf returns the id and verification workflow id of a user's
// contact method with address.
func (h *harness) contactOf(handle, address string) (int64, string) {
	h.t.Helper()
	var out struct {
		Contacts []struct {
			ID           int64  `json:"id"`
			Address      string `json:"address"`
			Verification struct {
				ID string `json:"id"`
			} `json:"verification"`
		} `json:"contacts"`
	}
	if code := h.api(http.MethodGet, "/api/v1/users/"+handle+"/contacts", nil, &out); code != 200 {
		h.t.Fatalf("list contacts: %d", code)
	}
	for _, c := range out.Contacts {
		if c.Address == address {
			return c.ID, c.Verification.ID
		}
	}
	h.t.Fatalf("no contact %s for %s: %+v", address, handle, out)
	return 0, ""
}

func (h *harness) contactStatus(id int64) string {
	h.t.Helper()
	c, err := h.store.ContactByID(context.Background(), id)
	if err != nil {
		h.t.Fatal(err)
	}
	return c.Status
}

// historyPayloads returns every payload of a workflow's history as text.
func (h *harness) historyPayloads(workflowID string) []string {
	h.t.Helper()
	it := h.temporal.GetWorkflowHistory(context.Background(), workflowID, "", false, enumspb.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	var out []string
	for it.HasNext() {
		ev, err := it.Next()
		if err != nil {
			h.t.Fatal(err)
		}
		b, err := json.Marshal(ev)
		if err != nil {
			h.t.Fatal(err)
		}
		// Payload data is base64 in the JSON form of the event: decode
		// every string that decodes.
		var walk func(v any)
		walk = func(v any) {
			switch x := v.(type) {
			case map[string]any:
				for _, vv := range x {
					walk(vv)
				}
			case []any:
				for _, vv := range x {
					walk(vv)
				}
			case string:
				if d, err := base64.StdEncoding.DecodeString(x); err == nil && len(d) > 0 {
					out = append(out, string(d))
				}
				out = append(out, x)
			}
		}
		var v any
		_ = json.Unmarshal(b, &v)
		walk(v)
	}
	return out
}

func TestE2E_Verification_SMSCodeThroughTheCLIAndAPI(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const number = "+15555550142"
	if out, err := h.cli("user", "add", "alice", "--name", "Alice Liddell", "--timezone", "Europe/Berlin"); err != nil || !strings.Contains(out, "user alice added") {
		t.Fatalf("user add: %q, %v", out, err)
	}
	out, err := h.cli("contact", "add", "alice", "sms", "(555) 555-0142")
	if err != nil || !strings.Contains(out, "is pending: a code is on its way") {
		t.Fatalf("contact add: %q, %v", out, err)
	}
	code := h.waitCode(number, "Your Klaxon code is ", 1)
	id, challengeID := h.contactOf("alice", number)
	if challengeID == "" || !strings.HasPrefix(challengeID, fmt.Sprintf("verify/contact/%d/", id)) {
		t.Fatalf("verification id = %q", challengeID)
	}

	// The same contact again sends nothing new.
	resp, body := h.inbRaw(http.MethodPost, "/api/v1/users/alice/contacts", map[string]string{"type": "sms", "address": number})
	if resp.StatusCode != 200 || body["status"] != "pending" {
		t.Errorf("adding the same contact again = %d %v, want 200 pending", resp.StatusCode, body)
	}
	// Too soon for a new code: 429 with Retry-After.
	resp, body = h.inbRaw(http.MethodPost, fmt.Sprintf("/api/v1/contacts/%d/resend", id), nil)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(fmt.Sprint(body["error"]), "60 seconds") {
		t.Errorf("resend at once = %d %v (Retry-After %q)", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	// A wrong code and an unknown contact get the same answer.
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for _, path := range []string{fmt.Sprintf("/api/v1/contacts/%d/verify", id), "/api/v1/contacts/999999/verify"} {
		resp, body = h.inbRaw(http.MethodPost, path, map[string]string{"code": wrong})
		if resp.StatusCode != 422 || body["error"] != "That code is not valid." {
			t.Errorf("%s with a wrong code = %d %v", path, resp.StatusCode, body)
		}
	}

	// Until it is used, the code is in the workflow's history only inside
	// the message that carries it.
	for _, p := range h.historyPayloads(challengeID) {
		if strings.Contains(p, code) && !strings.Contains(p, "Your Klaxon code is "+code) {
			t.Errorf("the code is in the history outside its message: %q", p)
		}
	}

	if out, err := h.cli("contact", "verify", fmt.Sprint(id), code); err != nil || !strings.Contains(out, "verified") {
		t.Fatalf("contact verify: %q, %v", out, err)
	}
	if s := h.contactStatus(id); s != store.ContactVerified {
		t.Fatalf("contact is %s, want verified", s)
	}
	// Repeating the right code answers the same; a wrong one still 422.
	resp, body = h.inbRaw(http.MethodPost, fmt.Sprintf("/api/v1/contacts/%d/verify", id), map[string]string{"code": code})
	if resp.StatusCode != 200 || body["status"] != "verified" {
		t.Errorf("repeat of the right code = %d %v", resp.StatusCode, body)
	}
	resp, _ = h.inbRaw(http.MethodPost, fmt.Sprintf("/api/v1/contacts/%d/verify", id), map[string]string{"code": wrong})
	if resp.StatusCode != 422 {
		t.Errorf("wrong code on a verified contact = %d, want 422", resp.StatusCode)
	}
	// The audit log keeps the code's message with its digits masked.
	m, _, _, err := h.store.GetMessage(context.Background(), challengeID+"/code/1")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(m.Body, code) || !strings.Contains(m.Body, "******") {
		t.Errorf("recorded code message = %q, want the code masked", m.Body)
	}
	out, err = h.cli("contact", "list", "alice")
	if err != nil || !strings.Contains(out, number) || !strings.Contains(out, "verified") {
		t.Errorf("contact list = %q, %v", out, err)
	}
}

// One phone is usually added twice, for texts and for calls. A code texted
// back verifies the method whose code it is, whichever was added last.
func TestE2E_Verification_CodeTextedBackWithSMSAndVoiceOnOneNumber(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const number = "+15555550144"
	h.api(http.MethodPost, "/api/v1/users", map[string]string{"handle": "carol", "name": "Carol"}, nil)
	h.api(http.MethodPost, "/api/v1/users/carol/contacts", map[string]string{"type": "sms", "address": number}, nil)
	code := h.waitCode(number, "Your Klaxon code is ", 1)
	h.api(http.MethodPost, "/api/v1/users/carol/contacts", map[string]string{"type": "voice", "address": number}, nil)
	h.eventually("the voice code's call", func() bool { return len(h.sim.Calls(number)) > 0 })

	h.text(number, hPagingNumber, code)
	h.waitText(number, "Thanks! This number is now verified")
	var out struct {
		Contacts []struct {
			Type   string `json:"type"`
			Status string `json:"status"`
		} `json:"contacts"`
	}
	if c := h.api(http.MethodGet, "/api/v1/users/carol/contacts", nil, &out); c != 200 {
		t.Fatalf("list contacts: %d", c)
	}
	got := map[string]string{}
	for _, c := range out.Contacts {
		got[c.Type] = c.Status
	}
	if got["sms"] != store.ContactVerified || got["voice"] == store.ContactVerified {
		t.Errorf("after texting the SMS code back: %v; want sms verified, voice still pending", got)
	}
}

func TestE2E_Verification_CodeTextedBackToThePagingNumber(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const number = "+15555550143"
	h.api(http.MethodPost, "/api/v1/users", map[string]string{"handle": "bob", "name": "Bob"}, nil)
	h.api(http.MethodPost, "/api/v1/users/bob/contacts", map[string]string{"type": "sms", "address": number}, nil)
	code := h.waitCode(number, "Your Klaxon code is ", 1)
	id, _ := h.contactOf("bob", number)

	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	h.text(number, hPagingNumber, wrong)
	h.waitText(number, "That code is not valid. You have 4 tries left.")
	h.text(number, hPagingNumber, code[:3]+" "+code[3:])
	reply := h.waitText(number, "Thanks! This number is now verified")
	if reply.From != hPagingNumber {
		t.Errorf("confirmation from %s, want the paging number", reply.From)
	}
	if s := h.contactStatus(id); s != store.ContactVerified {
		t.Errorf("contact is %s, want verified", s)
	}
}

func TestE2E_Verification_VoiceCallReadsTheDigitsTwice(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const number = "+15555550144"
	h.api(http.MethodPost, "/api/v1/users", map[string]string{"handle": "carol", "name": "Carol"}, nil)
	h.api(http.MethodPost, "/api/v1/users/carol/contacts", map[string]string{"type": "voice", "address": number}, nil)
	call := waitCall(t, h, number)
	spoken := regexp.MustCompile(`Your Klaxon code is (\d), (\d), (\d), (\d), (\d), (\d)\.`)
	var code string
	n := 0
	for _, s := range call.Transcript {
		if m := spoken.FindStringSubmatch(s); m != nil {
			n++
			code = strings.Join(m[1:], "")
		}
	}
	if n != 2 {
		t.Fatalf("the code was read %d times, want twice: %q", n, call.Transcript)
	}
	id, _ := h.contactOf("carol", number)
	if code := h.api(http.MethodPost, fmt.Sprintf("/api/v1/contacts/%d/verify", id), map[string]string{"code": code}, nil); code != 200 {
		t.Fatalf("verify = %d", code)
	}
}

func TestE2E_Verification_EmailCarriesTheCode(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.api(http.MethodPost, "/api/v1/users", map[string]string{"handle": "dave", "name": "Dave"}, nil)
	h.api(http.MethodPost, "/api/v1/users/dave/contacts", map[string]string{"type": "email", "address": "dave@example.com"}, nil)
	mail := h.waitMail("dave@example.com", nil)
	if !strings.Contains(mail.Subject, "Your Klaxon code") {
		t.Errorf("subject = %q", mail.Subject)
	}
	code := codePattern.FindString(mail.Body)
	id, _ := h.contactOf("dave", "dave@example.com")
	if status := h.api(http.MethodPost, fmt.Sprintf("/api/v1/contacts/%d/verify", id), map[string]string{"code": code}, nil); status != 200 {
		t.Fatalf("verify with the mailed code %q = %d", code, status)
	}
}

func TestE2E_OTP_ValidOnceAndThrottled(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	ctx := context.Background()
	const number = "+15555550145"
	u, err := h.store.CreateUser(ctx, store.User{Handle: "erin", Name: "Erin", Timezone: "UTC"})
	if err != nil {
		t.Fatal(err)
	}
	c, err := h.store.AddContact(ctx, store.Contact{UserID: u.ID, Type: klaxon.SMS, Address: number})
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.MarkContactVerified(ctx, c.ID); err != nil {
		t.Fatal(err)
	}

	var created struct {
		ID string `json:"id"`
	}
	if status := h.api(http.MethodPost, "/api/v1/otp", map[string]string{"user": "erin"}, &created); status != 201 || created.ID == "" {
		t.Fatalf("otp for erin = %d %+v", status, created)
	}
	code := h.waitCode(number, "Your Klaxon login code is ", 1)
	check := func(code string) bool {
		var out struct {
			Valid bool `json:"valid"`
		}
		if status := h.api(http.MethodPost, "/api/v1/otp/"+created.ID+"/check", map[string]string{"code": code}, &out); status != 200 {
			t.Fatalf("check = %d", status)
		}
		return out.Valid
	}
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	if check(wrong) {
		t.Error("a wrong code was valid")
	}
	if !check(code) {
		t.Error("the right code was not valid")
	}
	if check(code) {
		t.Error("the code was valid twice")
	}

	// Two more to the same number are allowed; the fourth in 10 minutes
	// is refused with a Retry-After, and sends nothing.
	for i := range 2 {
		if status := h.api(http.MethodPost, "/api/v1/otp", map[string]string{"phone": "(555) 555-0145"}, nil); status != 201 {
			t.Fatalf("otp %d = %d", i+2, status)
		}
	}
	h.waitCode(number, "Your Klaxon login code is ", 3)
	resp, body := h.inbRaw(http.MethodPost, "/api/v1/otp", map[string]string{"phone": number})
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") == "" || !strings.Contains(fmt.Sprint(body["error"]), "Too many login codes") {
		t.Fatalf("fourth otp = %d %v (Retry-After %q)", resp.StatusCode, body, resp.Header.Get("Retry-After"))
	}
	time.Sleep(500 * time.Millisecond)
	n := 0
	for _, m := range h.sim.Inbox(number) {
		if strings.HasPrefix(m.Body, "Your Klaxon login code") {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d login codes were texted, want 3", n)
	}
}

func TestE2E_Inbound_StopAndStartAreMirrored(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const number = "+15555550146"
	h.text(number, hPagingNumber, "STOP")
	h.waitText(number, "You are unsubscribed from Klaxon")
	h.eventually("opt-out recorded", func() bool {
		out, _ := h.store.IsOptedOut(context.Background(), number, hPagingNumber)
		return out
	})
	var msg messageAnswer
	h.api(http.MethodPost, "/api/v1/messages", map[string]string{"channel": "sms", "to": number, "body": "are you there?"}, &msg)
	h.eventually("message to an opted-out number suppressed", func() bool {
		var m messageAnswer
		h.api(http.MethodGet, "/api/v1/messages/"+msg.ID, nil, &m)
		return m.Status == klaxon.StatusSuppressed
	})
	h.text(number, hPagingNumber, "start")
	h.waitText(number, "You are resubscribed to Klaxon")
	h.eventually("opt-out lifted", func() bool {
		out, _ := h.store.IsOptedOut(context.Background(), number, hPagingNumber)
		return !out
	})
}

func TestE2E_Inbound_NumberOfNothingAnswersPolitelyOnceAnHour(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const number, nobody = "+15555550147", "+15555550177"
	h.text(number, nobody, "hello?")
	h.text(number, nobody, "anyone?")
	h.waitText(number, "Sorry, this Klaxon number does not take messages.")
	h.eventually("both texts processed", func() bool {
		c, _ := h.store.CountInbound(context.Background())
		return c.Total == 2 && c.Unprocessed == 0
	})
	time.Sleep(300 * time.Millisecond)
	if n := countTexts(h, number, "does not take messages"); n != 1 {
		t.Errorf("%d polite replies, want 1", n)
	}
}

// signedText posts an inbound-SMS webhook as Twilio would, signed with the
// harness's auth token.
func (h *harness) signedText(sid, from, to, body string) int {
	h.t.Helper()
	form := url.Values{"MessageSid": {sid}, "From": {from}, "To": {to}, "Body": {body}, "AccountSid": {h.cfg.TwilioAccountSID}}
	req, _ := http.NewRequest(http.MethodPost, h.baseURL+"/twilio/sms", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", base64.StdEncoding.EncodeToString(
		gateway.Signature(h.cfg.TwilioAuthToken.Value(), h.cfg.PublicURL+"/twilio/sms", form)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func TestE2E_Inbound_500TextsWhileTheWorkerIsDownAreProcessedExactlyOnce(t *testing.T) {
	h := newHarness(t, harnessOptions{SplitWorker: true})
	h.stopWorker()
	const total, senders, nobody = 500, 50, "+15555550177"
	run := fmt.Sprint(time.Now().UnixNano())
	sid := func(i int) string { return fmt.Sprintf("SM%s%04d", run, i) }
	sender := func(i int) string { return fmt.Sprintf("+1555556%04d", i%senders) }

	var wg sync.WaitGroup
	errs := make(chan error, total)
	for w := range 8 {
		wg.Go(func() {
			for i := w; i < total; i += 8 {
				if code := h.signedText(sid(i), sender(i), nobody, fmt.Sprintf("text %d", i)); code != 200 {
					errs <- fmt.Errorf("text %d answered %d", i, code)
				}
			}
		})
	}
	wg.Wait()
	// Twilio retrying some webhooks: the same MessageSid again.
	for i := 0; i < total; i += 25 {
		if code := h.signedText(sid(i), sender(i), nobody, fmt.Sprintf("text %d", i)); code != 200 {
			t.Fatalf("retried text %d answered %d", i, code)
		}
	}
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	c, err := h.store.CountInbound(context.Background())
	if err != nil || c.Total != total || c.Unprocessed != total {
		t.Fatalf("with the worker down: %+v, %v; want %d stored, none processed", c, err, total)
	}

	h.startWorker()
	deadline := time.Now().Add(4 * time.Minute)
	for {
		c, err = h.store.CountInbound(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if c.Unprocessed == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the worker returned: %+v", c)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// Exactly once: one completed workflow per text, each sender answered
	// once (a polite reply an hour), never twice.
	rows, err := h.db.Pool.Query(context.Background(), `SELECT outcome, count(*) FROM inbound_events GROUP BY outcome`)
	if err != nil {
		t.Fatal(err)
	}
	outcomes := map[string]int{}
	for rows.Next() {
		var o string
		var n int
		if err := rows.Scan(&o, &n); err != nil {
			t.Fatal(err)
		}
		outcomes[o] = n
	}
	rows.Close()
	if outcomes["polite-reply"] != senders || outcomes["ignored"] != total-senders {
		t.Errorf("outcomes = %v, want %d polite replies and %d ignored", outcomes, senders, total-senders)
	}
	h.eventually("every workflow visible as completed", func() bool {
		resp, err := h.temporal.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{
			Query: fmt.Sprintf(`TaskQueue = %q AND KlaxonKind = "inbound" AND ExecutionStatus = "Completed"`, h.cfg.TaskQueue),
		})
		return err == nil && resp.GetCount() == total
	})
	time.Sleep(500 * time.Millisecond)
	for s := range senders {
		if n := countTexts(h, sender(s), "does not take messages"); n != 1 {
			t.Errorf("sender %d got %d replies, want 1", s, n)
		}
	}
}
