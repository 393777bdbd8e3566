package twilio_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/providers/twilio"
)

const (
	testSID   = "AC00000000000000000000000000000001"
	testToken = "secrettoken"
	testFrom  = "+15005550006"
	testTo    = "+15551234567"
)

// request is one request the canned server received.
type request struct {
	method, path string
	form         url.Values
	user, pass   string
}

// canned is a tiny Twilio-shaped server: every request gets the same
// answer, and every request is recorded.
type canned struct {
	mu      sync.Mutex
	reqs    []request
	status  int
	body    string
	ctype   string
	hang    chan struct{} // when set, the handler blocks until it is closed
	hanging chan struct{} // receives once per request that blocks on hang
}

func (c *canned) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	user, pass, _ := r.BasicAuth()
	c.mu.Lock()
	c.reqs = append(c.reqs, request{method: r.Method, path: r.URL.Path, form: r.Form, user: user, pass: pass})
	status, body, ctype, hang := c.status, c.body, c.ctype, c.hang
	c.mu.Unlock()
	if hang != nil {
		c.hanging <- struct{}{}
		select {
		case <-hang:
		case <-r.Context().Done():
		}
		return
	}
	if ctype == "" {
		ctype = "application/json"
	}
	w.Header().Set("Content-Type", ctype)
	w.WriteHeader(status)
	fmt.Fprint(w, body)
}

func (c *canned) answer(status int, body, ctype string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status, c.body, c.ctype = status, body, ctype
}

func (c *canned) last(t *testing.T) request {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.reqs) == 0 {
		t.Fatal("the server received no request")
	}
	return c.reqs[len(c.reqs)-1]
}

func (c *canned) count() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.reqs)
}

// newCanned starts a canned server on 127.0.0.1 and a Client pointed at it.
func newCanned(t *testing.T, cfg twilio.Config) (*canned, *twilio.Client) {
	t.Helper()
	c := &canned{status: 201, body: `{"sid":"SM123","status":"queued"}`, hanging: make(chan struct{}, 16)}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	cfg.APIURL = srv.URL + cfg.APIURL
	return c, newClient(t, cfg)
}

func newClient(t *testing.T, cfg twilio.Config) *twilio.Client {
	t.Helper()
	if cfg.AccountSID == "" {
		cfg.AccountSID, cfg.AuthToken = testSID, testToken
	}
	if cfg.PublicURL == "" {
		cfg.PublicURL = "https://klaxon.example.com"
	}
	client, err := twilio.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = client.Close() })
	return client
}

func sms() klaxon.Message {
	return klaxon.Message{ID: "msg-1", Medium: klaxon.SMS, From: testFrom, To: testTo, Body: "Page 3: derp is broken."}
}

// deliveryError asserts err is a *klaxon.DeliveryError and returns it.
func deliveryError(t *testing.T, err error) *klaxon.DeliveryError {
	t.Helper()
	if err == nil {
		t.Fatal("want an error, got none")
	}
	var de *klaxon.DeliveryError
	if !errors.As(err, &de) {
		t.Fatalf("error %v (%T) is not a *klaxon.DeliveryError", err, err)
	}
	if strings.Contains(err.Error(), testTo) || (de.Err != nil && strings.Contains(de.Err.Error(), testTo)) {
		t.Errorf("error %q leaks the full phone number", err)
	}
	return de
}

func TestNew_RejectsBadConfig(t *testing.T) {
	tests := []struct {
		name string
		cfg  twilio.Config
		want string
	}{
		{"missing credentials", twilio.Config{PublicURL: "http://x"}, "account SID and auth token are required"},
		{"missing token", twilio.Config{AccountSID: testSID, PublicURL: "http://x"}, "account SID and auth token are required"},
		{"odd characters in token", twilio.Config{AccountSID: testSID, AuthToken: "a:b", PublicURL: "http://x"}, "letters and digits"},
		{"API URL not a URL", twilio.Config{AccountSID: testSID, AuthToken: testToken, APIURL: "://nope", PublicURL: "http://x"}, "API URL"},
		{"API URL without scheme", twilio.Config{AccountSID: testSID, AuthToken: testToken, APIURL: "api.twilio.com", PublicURL: "http://x"}, "API URL"},
		{"missing public URL", twilio.Config{AccountSID: testSID, AuthToken: testToken}, "public URL: is required"},
		{"public URL with query", twilio.Config{AccountSID: testSID, AuthToken: testToken, PublicURL: "http://x/?a=b"}, "public URL"},
		{"from not E.164", twilio.Config{AccountSID: testSID, AuthToken: testToken, PublicURL: "http://x", From: "5551234567"}, "E.164"},
		{"negative timeout", twilio.Config{AccountSID: testSID, AuthToken: testToken, PublicURL: "http://x", Timeout: -1}, "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := twilio.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New error = %v, want one containing %q", err, tt.want)
			}
		})
	}
}

func TestSendSMS_PostsMessageWithStatusCallback(t *testing.T) {
	srv, client := newCanned(t, twilio.Config{PublicURL: "https://klaxon.example.com/"})
	r, err := client.SendSMS(context.Background(), sms())
	if err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	if r.ProviderID != "SM123" || r.Status != "queued" {
		t.Errorf("receipt = %+v, want SM123/queued", r)
	}
	req := srv.last(t)
	if req.method != http.MethodPost || req.path != "/2010-04-01/Accounts/"+testSID+"/Messages.json" {
		t.Errorf("request = %s %s", req.method, req.path)
	}
	if req.user != testSID || req.pass != testToken {
		t.Errorf("basic auth = %q/%q", req.user, req.pass)
	}
	want := map[string]string{
		"To":             testTo,
		"From":           testFrom,
		"Body":           "Page 3: derp is broken.",
		"StatusCallback": "https://klaxon.example.com/twilio/sms/status",
	}
	for k, v := range want {
		if got := req.form.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func TestSendSMS_UsesConfiguredFromWhenMessageHasNone(t *testing.T) {
	srv, client := newCanned(t, twilio.Config{From: "+15005550007"})
	m := sms()
	m.From = ""
	if _, err := client.SMS().Send(context.Background(), m); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := srv.last(t).form.Get("From"); got != "+15005550007" {
		t.Errorf("From = %q, want the configured number", got)
	}
}

func TestSendSMS_APIURLPathIsKept(t *testing.T) {
	srv, client := newCanned(t, twilio.Config{APIURL: "/fake/twilio"})
	if _, err := client.SendSMS(context.Background(), sms()); err != nil {
		t.Fatalf("SendSMS: %v", err)
	}
	if got, want := srv.last(t).path, "/fake/twilio/2010-04-01/Accounts/"+testSID+"/Messages.json"; got != want {
		t.Errorf("path = %q, want %q", got, want)
	}
}

func TestSendSMS_RefusesBadMessagesWithoutCallingTwilio(t *testing.T) {
	tests := []struct {
		name     string
		mutate   func(*klaxon.Message)
		wantKind string
	}{
		{"recipient not E.164", func(m *klaxon.Message) { m.To = "555-1234" }, "InvalidNumber"},
		{"sender not E.164", func(m *klaxon.Message) { m.From = "KLAXON" }, "InvalidNumber"},
		{"no sender anywhere", func(m *klaxon.Message) { m.From = "" }, "InvalidRequest"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, client := newCanned(t, twilio.Config{})
			m := sms()
			tt.mutate(&m)
			_, err := client.SendSMS(context.Background(), m)
			de := deliveryError(t, err)
			if !de.Permanent || de.Kind != tt.wantKind {
				t.Errorf("got %+v, want permanent %s", de, tt.wantKind)
			}
			if klaxon.ErrorCodeOf(err) != klaxon.EInvalid {
				t.Errorf("ErrorCodeOf = %v, want EInvalid", klaxon.ErrorCodeOf(err))
			}
			if srv.count() != 0 {
				t.Errorf("the server got %d requests, want none", srv.count())
			}
		})
	}
}

func twilioError(code, status int, message string) string {
	return fmt.Sprintf(`{"code": %d, "message": %q, "more_info": "https://www.twilio.com/docs/errors/%d", "status": %d}`,
		code, message, code, status)
}

func TestSendSMS_ClassifiesTwilioAnswers(t *testing.T) {
	tests := []struct {
		name          string
		status        int
		body, ctype   string
		wantPermanent bool
		wantKind      string
		wantCode      string
	}{
		{"invalid number", 400, twilioError(21211, 400, "The 'To' number "+testTo+" is not a valid phone number."), "", true, "InvalidNumber", "21211"},
		{"unreachable number", 400, twilioError(21214, 400, "'To' phone number cannot be reached"), "", true, "InvalidNumber", "21214"},
		{"opted out", 400, twilioError(21610, 400, "Attempt to send to unsubscribed recipient"), "", true, "OptedOut", "21610"},
		{"cannot route", 400, twilioError(21612, 400, "The 'To' phone number is not currently reachable"), "", true, "CannotRoute", "21612"},
		{"not mobile", 400, twilioError(21614, 400, "'To' number is not a valid mobile number"), "", true, "NotMobile", "21614"},
		{"body too long", 400, twilioError(21617, 400, "The concatenated message body exceeds the 1600 character limit"), "", true, "BodyTooLong", "21617"},
		{"authentication code", 401, twilioError(20003, 401, "Authenticate"), "", true, "AuthFailed", "20003"},
		{"forbidden", 403, `{"message": "Forbidden"}`, "", true, "AuthFailed", "http 403"},
		{"unauthorized without JSON", 401, "Unauthorized", "text/plain", true, "AuthFailed", "http 401"},
		{"other 4xx", 400, twilioError(21606, 400, "The 'From' phone number provided is not a valid message-capable Twilio phone number"), "", true, "Rejected", "21606"},
		{"not found", 404, twilioError(20404, 404, "The requested resource was not found"), "", true, "Rejected", "20404"},
		{"throttled code", 429, twilioError(20429, 429, "Too Many Requests"), "", false, "Throttled", "20429"},
		{"throttled status", 429, "slow down", "text/plain", false, "Throttled", "http 429"},
		{"server error without code", 503, twilioError(0, 503, "Service Unavailable"), "", false, "ProviderUnavailable", "http 503"},
		{"server error with code", 500, twilioError(20500, 500, "Internal Server Error"), "", false, "ProviderUnavailable", "20500"},
		{"HTML gateway error", 502, "<html><body>Bad Gateway</body></html>", "text/html", false, "ProviderUnavailable", "http 502"},
		{"empty error body", 504, "", "text/plain", false, "ProviderUnavailable", "http 504"},
		{"non-JSON 4xx from a proxy", 400, "<html>Bad Request</html>", "text/html", false, "ProviderUnavailable", "http 400"},
		{"unreadable success", 201, "not json", "text/plain", false, "ProviderUnavailable", "http 201"},
		{"success without sid", 201, `{"status":"queued"}`, "", false, "ProviderUnavailable", "http 201"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, client := newCanned(t, twilio.Config{})
			srv.answer(tt.status, tt.body, tt.ctype)
			_, err := client.SendSMS(context.Background(), sms())
			de := deliveryError(t, err)
			if de.Permanent != tt.wantPermanent || de.Kind != tt.wantKind || de.Code != tt.wantCode {
				t.Errorf("got permanent=%v kind=%s code=%q (%v), want permanent=%v kind=%s code=%q",
					de.Permanent, de.Kind, de.Code, err, tt.wantPermanent, tt.wantKind, tt.wantCode)
			}
		})
	}
}

func TestSendSMS_TimeoutIsTransientNetworkError(t *testing.T) {
	srv, client := newCanned(t, twilio.Config{Timeout: 50 * time.Millisecond})
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	srv.mu.Lock()
	srv.hang = hang
	srv.mu.Unlock()
	_, err := client.SendSMS(context.Background(), sms())
	de := deliveryError(t, err)
	if de.Permanent || de.Kind != "Network" || de.Code != "timeout" {
		t.Errorf("got %+v (%v), want transient Network timeout", de, err)
	}
}

func TestSendSMS_HonoursCallerContext(t *testing.T) {
	srv, client := newCanned(t, twilio.Config{Timeout: time.Minute})
	hang := make(chan struct{})
	t.Cleanup(func() { close(hang) })
	srv.mu.Lock()
	srv.hang = hang
	srv.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := client.SendSMS(ctx, sms())
		done <- err
	}()
	<-srv.hanging
	cancel()
	err := <-done
	de := deliveryError(t, err)
	if de.Permanent || de.Kind != "Network" {
		t.Errorf("got %+v, want transient Network", de)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("error %v does not wrap context.Canceled", err)
	}
}

func TestSendSMS_ConnectionRefusedIsTransient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	client := newClient(t, twilio.Config{APIURL: "http://" + addr})
	_, err = client.SendSMS(context.Background(), sms())
	de := deliveryError(t, err)
	if de.Permanent || de.Kind != "Network" {
		t.Errorf("got %+v (%v), want transient Network", de, err)
	}
}

func TestCall_AsksTwilioToFetchTwiMLFromTheGateway(t *testing.T) {
	srv, client := newCanned(t, twilio.Config{PublicURL: "https://klaxon.example.com"})
	srv.answer(201, `{"sid":"CA123","status":"queued"}`, "")
	m := sms()
	m.Medium, m.ID = klaxon.Voice, "page 3/attempt 1"
	r, err := client.Voice().Send(context.Background(), m)
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	if r.ProviderID != "CA123" || r.Status != "queued" {
		t.Errorf("receipt = %+v", r)
	}
	req := srv.last(t)
	if req.path != "/2010-04-01/Accounts/"+testSID+"/Calls.json" {
		t.Errorf("path = %q", req.path)
	}
	want := map[string]string{
		"To":               testTo,
		"From":             testFrom,
		"Url":              "https://klaxon.example.com/twilio/voice?m=page+3%2Fattempt+1",
		"StatusCallback":   "https://klaxon.example.com/twilio/voice/status",
		"MachineDetection": "Enable",
		"Timeout":          "30",
	}
	for k, v := range want {
		if got := req.form.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if got := strings.Join(req.form["StatusCallbackEvent"], " "); got != "initiated ringing answered completed" {
		t.Errorf("StatusCallbackEvent = %q", got)
	}
	if req.form.Has("Twiml") {
		t.Error("Twiml is set; the gateway renders it when the call is answered")
	}
}

func TestCall_RequiresMessageID(t *testing.T) {
	srv, client := newCanned(t, twilio.Config{})
	m := sms()
	m.ID = ""
	de := deliveryError(t, func() error { _, err := client.Call(context.Background(), m); return err }())
	if !de.Permanent || de.Kind != "InvalidRequest" || srv.count() != 0 {
		t.Errorf("got %+v with %d requests, want permanent InvalidRequest and none", de, srv.count())
	}
}

func TestCancelCall(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		wantErr string // kind, or "" for success
	}{
		{"ends the call", 200, `{"sid":"CA123","status":"completed"}`, ""},
		{"already ended is fine", 400, twilioError(21220, 400, "Call is not in-progress. Cannot redirect."), ""},
		{"unknown call", 404, twilioError(20404, 404, "not found"), "Rejected"},
		{"provider down", 503, "down", "ProviderUnavailable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, client := newCanned(t, twilio.Config{})
			srv.answer(tt.status, tt.body, "")
			err := client.CancelCall(context.Background(), "CA123")
			req := srv.last(t)
			if req.path != "/2010-04-01/Accounts/"+testSID+"/Calls/CA123.json" || req.form.Get("Status") != "completed" {
				t.Errorf("request = %s %v", req.path, req.form)
			}
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("CancelCall: %v", err)
				}
				return
			}
			if de := deliveryError(t, err); de.Kind != tt.wantErr {
				t.Errorf("kind = %s, want %s", de.Kind, tt.wantErr)
			}
		})
	}
}

func TestAvailableNumbers_ListsLocalNumbers(t *testing.T) {
	srv, client := newCanned(t, twilio.Config{})
	srv.answer(200, `{"available_phone_numbers":[{"phone_number":"+15105550100"},{"phone_number":"+15105550101"},{"phone_number":"+15105550102"}],"uri":"/x"}`, "")
	got, err := client.AvailableNumbers(context.Background(), "us", "510", 2)
	if err != nil {
		t.Fatalf("AvailableNumbers: %v", err)
	}
	if strings.Join(got, ",") != "+15105550100,+15105550101" {
		t.Errorf("numbers = %v", got)
	}
	req := srv.last(t)
	if req.method != http.MethodGet || req.path != "/2010-04-01/Accounts/"+testSID+"/AvailablePhoneNumbers/US/Local.json" {
		t.Errorf("request = %s %s", req.method, req.path)
	}
	if req.form.Get("AreaCode") != "510" || req.form.Get("PageSize") != "2" {
		t.Errorf("query = %v", req.form)
	}
}

func TestAvailableNumbers_RefusesBadArguments(t *testing.T) {
	tests := []struct {
		name, country, areaCode string
		n                       int
	}{
		{"country too long", "USA", "", 1},
		{"country not letters", "U1", "", 1},
		{"area code not digits", "US", "5l0", 1},
		{"no numbers asked for", "US", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, client := newCanned(t, twilio.Config{})
			_, err := client.AvailableNumbers(context.Background(), tt.country, tt.areaCode, tt.n)
			if de := deliveryError(t, err); !de.Permanent || srv.count() != 0 {
				t.Errorf("got %+v with %d requests", de, srv.count())
			}
		})
	}
}

func TestBuyNumber_PointsWebhooksAtKlaxon(t *testing.T) {
	srv, client := newCanned(t, twilio.Config{PublicURL: "https://klaxon.example.com"})
	srv.answer(201, `{"sid":"PN123","phone_number":"+15105550100"}`, "")
	sid, err := client.BuyNumber(context.Background(), "+15105550100")
	if err != nil || sid != "PN123" {
		t.Fatalf("BuyNumber = %q, %v", sid, err)
	}
	req := srv.last(t)
	if req.path != "/2010-04-01/Accounts/"+testSID+"/IncomingPhoneNumbers.json" {
		t.Errorf("path = %q", req.path)
	}
	want := map[string]string{
		"PhoneNumber": "+15105550100",
		"SmsUrl":      "https://klaxon.example.com/twilio/sms",
		"SmsMethod":   "POST",
		"VoiceUrl":    "https://klaxon.example.com/twilio/voice",
	}
	for k, v := range want {
		if got := req.form.Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

func BenchmarkSendSMS(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		fmt.Fprint(w, `{"sid":"SM123","status":"queued"}`)
	}))
	b.Cleanup(srv.Close)
	client, err := twilio.New(twilio.Config{AccountSID: testSID, AuthToken: testToken, APIURL: srv.URL, PublicURL: "https://klaxon.example.com"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = client.Close() })
	ctx := context.Background()
	m := sms()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := client.SendSMS(ctx, m); err != nil {
			b.Fatal(err)
		}
	}
}
