package twilio_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/dev/simulator"
	"github.com/klaxonhq/klaxon/providers/twilio"
)

// webhook is one request the fake gateway received from the simulator.
type webhook struct {
	path, query string
	form        url.Values
	signed      bool // X-Twilio-Signature matched
}

// gateway stands in for Klaxon's webhook gateway: it records the webhooks
// the simulator sends, checks their signatures, and answers calls with
// TwiML.
type gateway struct {
	url string
	mu  sync.Mutex
	got []webhook
	hit chan webhook
}

func (g *gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	want := simulator.Signature(testToken, g.url+r.URL.RequestURI(), r.PostForm)
	h := webhook{path: r.URL.Path, query: r.URL.RawQuery, form: r.PostForm, signed: r.Header.Get("X-Twilio-Signature") == want}
	g.mu.Lock()
	g.got = append(g.got, h)
	g.mu.Unlock()
	select {
	case g.hit <- h:
	default:
	}
	switch r.URL.Path {
	case twilio.PathVoice:
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?><Response><Say>Page 3: derp is broken.</Say></Response>`)
	case twilio.PathSMS:
		w.Header().Set("Content-Type", "text/xml")
		io.WriteString(w, `<Response/>`)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// wait returns the first webhook, received or still to come, that match
// accepts.
func (g *gateway) wait(t *testing.T, match func(webhook) bool) webhook {
	t.Helper()
	ctx := ctxFor(t)
	g.mu.Lock()
	for _, h := range g.got {
		if match(h) {
			g.mu.Unlock()
			return h
		}
	}
	g.mu.Unlock()
	for {
		select {
		case h := <-g.hit:
			if match(h) {
				return h
			}
		case <-ctx.Done():
			t.Fatal("the expected webhook never came")
		}
	}
}

// hooks returns the webhooks received on path.
func (g *gateway) hooks(path string) []webhook {
	g.mu.Lock()
	defer g.mu.Unlock()
	var out []webhook
	for _, h := range g.got {
		if h.path == path {
			out = append(out, h)
		}
	}
	return out
}

type simEnv struct {
	sim    *simulator.Simulator
	gw     *gateway
	client *twilio.Client
	apiURL string
}

// newSimEnv starts the simulator and a fake gateway on 127.0.0.1, and a
// Client that talks to the one and hands the other's URL to Twilio.
func newSimEnv(t *testing.T) *simEnv {
	t.Helper()
	gw := &gateway{hit: make(chan webhook, 64)}
	gwSrv := httptest.NewServer(gw)
	t.Cleanup(gwSrv.Close)
	gw.url = gwSrv.URL
	sim := simulator.New(simulator.Config{AccountSID: testSID, AuthToken: testToken, InboundURL: gw.url + twilio.PathSMS})
	simSrv := httptest.NewServer(sim.Handler())
	t.Cleanup(simSrv.Close)
	t.Cleanup(sim.Close) // runs first: stops deliveries before the servers go
	client := newClient(t, twilio.Config{APIURL: simSrv.URL, PublicURL: gw.url})
	return &simEnv{sim: sim, gw: gw, client: client, apiURL: simSrv.URL}
}

func ctxFor(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestSimulator_SMSArrivesAndReportsStatus(t *testing.T) {
	env := newSimEnv(t)
	m := sms()
	r, err := env.client.SMS().Send(ctxFor(t), m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	got, err := env.sim.WaitMessage(ctxFor(t), testTo, func(sm simulator.Message) bool {
		return sm.SID == r.ProviderID && sm.Status == "delivered"
	})
	if err != nil {
		t.Fatalf("message never delivered: %v", err)
	}
	if got.From != testFrom || got.Body != m.Body {
		t.Errorf("phone received %+v", got)
	}
	// The delivered status reaches the gateway's status route, signed.
	h := env.gw.wait(t, func(h webhook) bool {
		return h.path == twilio.PathSMSStatus && h.form.Get("MessageStatus") == "delivered"
	})
	if !h.signed || h.form.Get("MessageSid") != r.ProviderID {
		t.Errorf("status callback %+v", h)
	}
}

func TestSimulator_CallFetchesTwiMLFromTheGateway(t *testing.T) {
	env := newSimEnv(t)
	m := sms()
	m.Medium, m.ID = klaxon.Voice, "page-3/1"
	r, err := env.client.Voice().Send(ctxFor(t), m)
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	call, err := env.sim.WaitCall(ctxFor(t), testTo, func(c simulator.Call) bool { return c.SID == r.ProviderID })
	if err != nil {
		t.Fatalf("call never finished: %v", err)
	}
	if call.Status != "completed" || call.AnsweredBy != "human" {
		t.Errorf("call ended %s, answered by %q", call.Status, call.AnsweredBy)
	}
	if !slices.Contains(call.Transcript, "Page 3: derp is broken.") {
		t.Errorf("the phone heard %q", call.Transcript)
	}
	voice := env.gw.hooks(twilio.PathVoice)
	if len(voice) != 1 || voice[0].query != "m="+url.QueryEscape(m.ID) || !voice[0].signed || voice[0].form.Get("CallSid") != r.ProviderID {
		t.Errorf("TwiML fetches = %+v", voice)
	}
	var statuses []string
	for _, h := range env.gw.hooks(twilio.PathVoiceStatus) {
		if !h.signed || h.form.Get("CallSid") != r.ProviderID {
			t.Errorf("status callback %+v", h)
		}
		statuses = append(statuses, h.form.Get("CallStatus"))
	}
	if want := []string{"initiated", "ringing", "in-progress", "completed"}; !slices.Equal(statuses, want) {
		t.Errorf("call statuses = %v, want %v", statuses, want)
	}
}

func TestSimulator_CancelCallEndsARingingCall(t *testing.T) {
	env := newSimEnv(t)
	env.sim.SetBehaviour(testTo, simulator.Behaviour{RingDelay: time.Hour})
	r, err := env.client.Call(ctxFor(t), sms())
	if err != nil {
		t.Fatalf("Call: %v", err)
	}
	env.gw.wait(t, func(h webhook) bool {
		return h.path == twilio.PathVoiceStatus && h.form.Get("CallStatus") == "ringing"
	})
	if err := env.client.CancelCall(ctxFor(t), r.ProviderID); err != nil {
		t.Fatalf("CancelCall: %v", err)
	}
	call, err := env.sim.WaitCall(ctxFor(t), testTo, nil)
	if err != nil {
		t.Fatalf("call never ended: %v", err)
	}
	if call.Status != "completed" && call.Status != "canceled" {
		t.Errorf("call status = %s, want it ended", call.Status)
	}
	if err := env.client.CancelCall(ctxFor(t), r.ProviderID); err != nil {
		t.Errorf("cancelling an ended call: %v", err)
	}
	if len(env.gw.hooks(twilio.PathVoice)) != 0 {
		t.Error("a cancelled call fetched TwiML")
	}
}

func TestSimulator_MagicNumbersArePermanent(t *testing.T) {
	tests := []struct {
		name     string
		to       string
		send     func(*twilio.Client, context.Context, klaxon.Message) (klaxon.Receipt, error)
		wantKind string
		wantCode string
	}{
		{"sms to an invalid number", "+15005550001", (*twilio.Client).SendSMS, "InvalidNumber", "21211"},
		{"sms to a landline", "+15005550009", (*twilio.Client).SendSMS, "NotMobile", "21614"},
		{"sms to an opted-out number", "+15005550004", (*twilio.Client).SendSMS, "OptedOut", "21610"},
		{"sms to an unroutable number", "+15005550002", (*twilio.Client).SendSMS, "CannotRoute", "21612"},
		{"call to an unreachable number", "+15005550002", (*twilio.Client).Call, "InvalidNumber", "21214"},
		{"call to an invalid number", "+15005550001", (*twilio.Client).Call, "Rejected", "21217"},
	}
	env := newSimEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sms()
			m.To = tt.to
			_, err := tt.send(env.client, ctxFor(t), m)
			de := deliveryError(t, err)
			if !de.Permanent || de.Kind != tt.wantKind || de.Code != tt.wantCode {
				t.Errorf("got permanent=%v kind=%s code=%q (%v), want permanent %s %s", de.Permanent, de.Kind, de.Code, err, tt.wantKind, tt.wantCode)
			}
			if strings.Contains(err.Error(), tt.to) {
				t.Errorf("error %q shows the full number", err)
			}
		})
	}
}

func TestSimulator_FailuresAreClassified(t *testing.T) {
	tests := []struct {
		name              string
		status, code      int
		wantKind          string
		wantCode          string
		wantPermanent     bool
		succeedsAfterward bool
	}{
		{"service unavailable", 503, 0, "ProviderUnavailable", "http 503", false, true},
		{"throttled", 429, 20429, "Throttled", "20429", false, true},
		{"non-JSON gateway error", 0, -1, "ProviderUnavailable", "http 502", false, true},
		{"rejected request", 400, 21606, "Rejected", "21606", true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			env := newSimEnv(t)
			env.sim.FailNext(1, tt.status, tt.code)
			_, err := env.client.SendSMS(ctxFor(t), sms())
			de := deliveryError(t, err)
			if de.Permanent != tt.wantPermanent || de.Kind != tt.wantKind || de.Code != tt.wantCode {
				t.Errorf("got permanent=%v kind=%s code=%q (%v), want %v %s %s", de.Permanent, de.Kind, de.Code, err, tt.wantPermanent, tt.wantKind, tt.wantCode)
			}
			if _, err := env.client.SendSMS(ctxFor(t), sms()); err != nil {
				t.Errorf("the next send failed: %v", err)
			}
		})
	}
}

func TestSimulator_WrongCredentialsAreAuthFailed(t *testing.T) {
	env := newSimEnv(t)
	client := newClient(t, twilio.Config{AccountSID: testSID, AuthToken: "wrongtoken", APIURL: env.apiURL, PublicURL: env.gw.url})
	_, err := client.SendSMS(ctxFor(t), sms())
	de := deliveryError(t, err)
	if !de.Permanent || de.Kind != "AuthFailed" {
		t.Errorf("got %+v (%v), want permanent AuthFailed", de, err)
	}
}

func TestSimulator_BuyNumberRoutesInboundSMSToKlaxon(t *testing.T) {
	env := newSimEnv(t)
	numbers, err := env.client.AvailableNumbers(ctxFor(t), "US", "415", 3)
	if err != nil {
		t.Fatalf("AvailableNumbers: %v", err)
	}
	if len(numbers) != 3 {
		t.Fatalf("got %d numbers, want 3: %v", len(numbers), numbers)
	}
	for _, n := range numbers {
		if !strings.HasPrefix(n, "+1415") {
			t.Errorf("number %s is not in area code 415", n)
		}
	}
	sid, err := env.client.BuyNumber(ctxFor(t), numbers[0])
	if err != nil {
		t.Fatalf("BuyNumber: %v", err)
	}
	if !strings.HasPrefix(sid, "PN") {
		t.Errorf("sid = %q", sid)
	}
	// A text to the new number reaches the SmsUrl BuyNumber set.
	if _, err := env.sim.SendSMS(ctxFor(t), testTo, numbers[0], "JOIN"); err != nil {
		t.Fatalf("inbound SMS: %v", err)
	}
	in := env.gw.hooks(twilio.PathSMS)
	if len(in) != 1 || !in[0].signed || in[0].form.Get("Body") != "JOIN" || in[0].form.Get("To") != numbers[0] {
		t.Errorf("inbound webhooks = %+v", in)
	}
	// The bought number is no longer on offer.
	again, err := env.client.AvailableNumbers(ctxFor(t), "US", "415", 30)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(again, numbers[0]) {
		t.Errorf("bought number %s is still available", numbers[0])
	}
}

func TestSimulator_BuyUnavailableNumberIsPermanent(t *testing.T) {
	env := newSimEnv(t)
	_, err := env.client.BuyNumber(ctxFor(t), "+15005550000")
	de := deliveryError(t, err)
	if !de.Permanent {
		t.Errorf("got %+v (%v), want permanent", de, err)
	}
}

// FindSMS finds a text Twilio took, by recipient, sender and words, and only
// one taken after the time asked about (give or take a minute of clock skew).
func TestSimulator_FindSMSFindsWhatTwilioTook(t *testing.T) {
	env := newSimEnv(t)
	m := sms()
	before := time.Now()
	r, err := env.client.SMS().Send(ctxFor(t), m)
	if err != nil {
		t.Fatalf("Send: %v", err)
	}
	other := m
	other.Body = "Page 4: something else."
	if _, err := env.client.SMS().Send(ctxFor(t), other); err != nil {
		t.Fatalf("Send: %v", err)
	}

	found, err := env.client.FindSMS(ctxFor(t), m, before)
	if err != nil {
		t.Fatal(err)
	}
	if len(found) != 1 || found[0].ProviderID != r.ProviderID {
		t.Errorf("FindSMS = %+v, want the one text %s", found, r.ProviderID)
	}
	if found, err := env.client.FindSMS(ctxFor(t), m, time.Now().Add(5*time.Minute)); err != nil || len(found) != 0 {
		t.Errorf("FindSMS for a later start = %+v, %v; want nothing", found, err)
	}
	stranger := m
	stranger.To = "+15555550999"
	if found, err := env.client.FindSMS(ctxFor(t), stranger, before); err != nil || len(found) != 0 {
		t.Errorf("FindSMS to another number = %+v, %v; want nothing", found, err)
	}
}
