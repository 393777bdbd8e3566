package simulator_test

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/klaxonhq/klaxon/internal/dev/simulator"
)

// pageTwiML is a page call: the summary, a menu, and a goodbye for when
// nothing is pressed.
const pageTwiML = `<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Say voice="alice">Page 3: derp is broken.</Say>
  <Gather action="/twilio/voice/gather?m=msg-1" method="POST" numDigits="1" timeout="5">
    <Say loop="2">Press 1 to acknowledge.</Say>
    <Pause length="1"/>
  </Gather>
  <Say>Goodbye.</Say>
</Response>`

// placeCall places a page call to `to` with every status event requested.
func placeCall(t *testing.T, e *env, to string, amd bool) *openapi.ApiV2010Call {
	t.Helper()
	p := (&openapi.CreateCallParams{}).SetTo(to).SetFrom(klaxonNum).
		SetUrl(e.hooks.URL + "/twilio/voice?m=msg-1").
		SetStatusCallback(e.hooks.URL + "/twilio/voice/status").
		SetStatusCallbackMethod(http.MethodPost).
		SetStatusCallbackEvent([]string{"initiated", "ringing", "answered", "completed"})
	if amd {
		p.SetMachineDetection("Enable")
	}
	c, err := e.api.CreateCall(p)
	if err != nil {
		t.Fatalf("create call: %v", err)
	}
	if !strings.HasPrefix(*c.Sid, "CA") || len(*c.Sid) != 34 || *c.Status != "queued" || *c.To != to || *c.Direction != "outbound-api" {
		t.Fatalf("call = sid %s status %s to %s direction %s", *c.Sid, *c.Status, *c.To, *c.Direction)
	}
	return c
}

func TestCall_HumanHearsPageAndPressesDigit(t *testing.T) {
	e := newEnv(t)
	e.hooks.twiml("/twilio/voice", pageTwiML)
	e.hooks.twiml("/twilio/voice/gather", `<Response><Say>Acknowledged. Thank you.</Say><Hangup/><Say>unheard</Say></Response>`)
	e.sim.SetBehaviour(alice, simulator.Behaviour{Press: "1"})

	c := placeCall(t, e, alice, true)
	got, err := e.sim.WaitCall(t.Context(), alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	wantTranscript := []string{"Page 3: derp is broken.", "Press 1 to acknowledge.", "Press 1 to acknowledge.", "Acknowledged. Thank you."}
	if got.SID != *c.Sid || got.Status != "completed" || got.AnsweredBy != "human" ||
		!slices.Equal(got.Transcript, wantTranscript) || !slices.Equal(got.Digits, []string{"1"}) {
		t.Errorf("call = %+v", got)
	}

	voice := e.hooks.requests("/twilio/voice")
	if len(voice) != 1 {
		t.Fatalf("%d TwiML fetches, want 1", len(voice))
	}
	f := voice[0].Form
	if f.Get("CallSid") != *c.Sid || f.Get("AccountSid") != testSID || f.Get("From") != klaxonNum || f.Get("To") != alice ||
		f.Get("CallStatus") != "in-progress" || f.Get("Direction") != "outbound-api" || f.Get("ApiVersion") != "2010-04-01" ||
		f.Get("AnsweredBy") != "human" {
		t.Errorf("TwiML fetch fields = %v", f)
	}
	gather := e.hooks.requests("/twilio/voice/gather")
	if len(gather) != 1 || gather[0].Form.Get("Digits") != "1" || gather[0].Form.Get("CallSid") != *c.Sid {
		t.Errorf("gather posts = %v", gather)
	}

	status := e.hooks.waitN(t, "/twilio/voice/status", 4)
	if s := field(status, "CallStatus"); !slices.Equal(s, []string{"initiated", "ringing", "in-progress", "completed"}) {
		t.Errorf("status callbacks = %v", s)
	}
	if d := status[3].Form.Get("CallDuration"); d == "" {
		t.Errorf("completed callback has no CallDuration: %v", status[3].Form)
	}
	fetched, err := e.api.FetchCall(*c.Sid, nil)
	if err != nil {
		t.Fatal(err)
	}
	if *fetched.Status != "completed" || *fetched.AnsweredBy != "human" {
		t.Errorf("fetched call = %s answered by %v", *fetched.Status, fetched.AnsweredBy)
	}
}

func TestCall_MachineNeverPresses(t *testing.T) {
	e := newEnv(t)
	e.hooks.twiml("/twilio/voice", pageTwiML)
	e.sim.SetBehaviour(alice, simulator.Behaviour{Answer: "machine", Press: "1"})

	placeCall(t, e, alice, true)
	got, err := e.sim.WaitCall(t.Context(), alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"Page 3: derp is broken.", "Press 1 to acknowledge.", "Press 1 to acknowledge.", "Goodbye."}
	if got.Status != "completed" || got.AnsweredBy != "machine_start" || len(got.Digits) != 0 || !slices.Equal(got.Transcript, want) {
		t.Errorf("call = %+v", got)
	}
	if f := e.hooks.requests("/twilio/voice")[0].Form; f.Get("AnsweredBy") != "machine_start" {
		t.Errorf("AnsweredBy = %q, want machine_start", f.Get("AnsweredBy"))
	}
	if n := len(e.hooks.requests("/twilio/voice/gather")); n != 0 {
		t.Errorf("%d gather posts, want none", n)
	}
}

func TestCall_GatherVariants(t *testing.T) {
	tests := []struct {
		name       string
		press      string
		gather     string
		wantPath   string
		wantDigits string
		wantKey    string
	}{
		{"digits end at finishOnKey", "42#9", `<Gather action="/g">`, "/g", "42", "#"},
		{"numDigits cuts input", "123", `<Gather action="/g" numDigits="2">`, "/g", "12", ""},
		{"no action posts to the document", "7", `<Gather numDigits="1">`, "/doc", "7", ""},
		{"empty result posts no Digits with actionOnEmptyResult", "", `<Gather action="/g" actionOnEmptyResult="true">`, "/g", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			var fetched atomic.Bool
			e.hooks.handle("/doc", func(url.Values) (int, string) {
				if fetched.Swap(true) {
					return http.StatusOK, `<Response><Hangup/></Response>`
				}
				return http.StatusOK, `<Response>` + tt.gather + `<Say>Menu</Say></Gather></Response>`
			})
			e.hooks.twiml("/g", `<Response><Say>Done</Say></Response>`)
			e.sim.SetBehaviour(alice, simulator.Behaviour{Press: tt.press})
			_, err := e.api.CreateCall((&openapi.CreateCallParams{}).SetTo(alice).SetFrom(klaxonNum).SetUrl(e.hooks.URL + "/doc"))
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.sim.WaitCall(t.Context(), alice, nil); err != nil {
				t.Fatal(err)
			}
			posts := e.hooks.requests(tt.wantPath)
			last := posts[len(posts)-1].Form
			if last.Has("Digits") != (tt.press != "") || last.Get("Digits") != tt.wantDigits || last.Get("FinishedOnKey") != tt.wantKey {
				t.Errorf("action post = %v, want Digits %q FinishedOnKey %q", last, tt.wantDigits, tt.wantKey)
			}
		})
	}
}

func TestCall_EndsWithoutAnswer(t *testing.T) {
	tests := []struct {
		answer    string
		want      string
		callbacks []string
	}{
		{"busy", "busy", []string{"initiated", "busy"}},
		{"no-answer", "no-answer", []string{"initiated", "ringing", "no-answer"}},
		{"fail", "failed", []string{"failed"}},
	}
	for _, tt := range tests {
		t.Run(tt.answer, func(t *testing.T) {
			e := newEnv(t)
			e.sim.SetBehaviour(alice, simulator.Behaviour{Answer: tt.answer})
			placeCall(t, e, alice, false)
			got, err := e.sim.WaitCall(t.Context(), alice, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got.Status != tt.want || len(got.Transcript) != 0 {
				t.Errorf("call = %+v, want status %s and nothing heard", got, tt.want)
			}
			status := e.hooks.requests("/twilio/voice/status")
			if s := field(status, "CallStatus"); !slices.Equal(s, tt.callbacks) {
				t.Errorf("status callbacks = %v, want %v", s, tt.callbacks)
			}
			if n := len(e.hooks.requests("/twilio/voice")); n != 0 {
				t.Errorf("%d TwiML fetches, want none", n)
			}
		})
	}
}

func TestCall_CompletedIsAlwaysCalledBack(t *testing.T) {
	e := newEnv(t)
	e.hooks.twiml("/twilio/voice", `<Response><Say>Hello</Say></Response>`)
	_, err := e.api.CreateCall((&openapi.CreateCallParams{}).SetTo(alice).SetFrom(klaxonNum).
		SetUrl(e.hooks.URL + "/twilio/voice").SetStatusCallback(e.hooks.URL + "/status"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.WaitCall(t.Context(), alice, nil); err != nil {
		t.Fatal(err)
	}
	if s := field(e.hooks.requests("/status"), "CallStatus"); !slices.Equal(s, []string{"completed"}) {
		t.Errorf("status callbacks = %v, want only completed", s)
	}
}

func TestCall_CancelWhileRinging(t *testing.T) {
	e := newEnv(t)
	e.hooks.twiml("/twilio/voice", pageTwiML)
	e.sim.SetBehaviour(alice, simulator.Behaviour{RingDelay: time.Hour})
	c := placeCall(t, e, alice, false)
	e.hooks.waitFor(t, "/twilio/voice/status", func(got []hookRequest) bool {
		return slices.Contains(field(got, "CallStatus"), "ringing")
	})

	updated, err := e.api.UpdateCall(*c.Sid, (&openapi.UpdateCallParams{}).SetStatus("canceled"))
	if err != nil {
		t.Fatalf("cancel: %v", err)
	}
	if *updated.Status != "canceled" {
		t.Errorf("update answered status %s, want canceled", *updated.Status)
	}
	got, err := e.sim.WaitCall(t.Context(), alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "canceled" || len(got.Transcript) != 0 {
		t.Errorf("call = %+v", got)
	}
	if s := field(e.hooks.requests("/twilio/voice/status"), "CallStatus"); !slices.Equal(s, []string{"initiated", "ringing", "canceled"}) {
		t.Errorf("status callbacks = %v", s)
	}
	if n := len(e.hooks.requests("/twilio/voice")); n != 0 {
		t.Errorf("%d TwiML fetches for a canceled call", n)
	}
}

func TestCall_HangUpMidCall(t *testing.T) {
	e := newEnv(t)
	e.sim.SetBehaviour(alice, simulator.Behaviour{Press: "1"})
	e.hooks.twiml("/twilio/voice", `<Response><Gather action="/ack"><Say>Press 1</Say></Gather></Response>`)
	// Acknowledging the page hangs the call up while Klaxon is still
	// answering the keypress, as a workflow may.
	e.hooks.handle("/ack", func(f url.Values) (int, string) {
		if _, err := e.api.UpdateCall(f.Get("CallSid"), (&openapi.UpdateCallParams{}).SetStatus("completed")); err != nil {
			t.Errorf("hang up: %v", err)
		}
		return http.StatusOK, `<Response><Say>Acknowledged</Say></Response>`
	})
	placeCall(t, e, alice, false)
	got, err := e.sim.WaitCall(t.Context(), alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "completed" || !slices.Equal(got.Transcript, []string{"Press 1"}) {
		t.Errorf("call = %+v, want completed before the acknowledgement was heard", got)
	}

	// Hanging up a call that has ended is Twilio's 21220.
	_, err = e.api.UpdateCall(got.SID, (&openapi.UpdateCallParams{}).SetStatus("completed"))
	var rerr *client.TwilioRestError
	if !errors.As(err, &rerr) || rerr.Status != 400 || rerr.Code != 21220 {
		t.Errorf("hanging up an ended call: err = %v, want 400 code 21220", err)
	}
}

func TestCall_InlineTwimlAndRedirectLoopsEnd(t *testing.T) {
	e := newEnv(t)
	e.hooks.twiml("/loop", `<Response><Say>again</Say><Redirect>/loop</Redirect></Response>`)
	twiml := `<Response><Say>Hello <emphasis>there</emphasis>,
	  friend.</Say><Redirect method="GET">` + e.hooks.URL + `/loop?x=1&amp;y=2</Redirect></Response>`
	_, err := e.api.CreateCall((&openapi.CreateCallParams{}).SetTo(alice).SetFrom(klaxonNum).SetTwiml(twiml))
	if err != nil {
		t.Fatal(err)
	}
	got, err := e.sim.WaitCall(t.Context(), alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "completed" || got.Transcript[0] != "Hello there, friend." {
		t.Errorf("call = %+v", got)
	}
	// The inline document counts as the first of 20.
	if n := len(e.hooks.requests("/loop")); n != 19 {
		t.Errorf("%d documents fetched, want 19", n)
	}
}

func TestCall_BadTwimlIsAnApplicationError(t *testing.T) {
	e := newEnv(t)
	e.hooks.handle("/twilio/voice", func(url.Values) (int, string) { return http.StatusInternalServerError, "oops" })
	placeCall(t, e, alice, false)
	got, err := e.sim.WaitCall(t.Context(), alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "completed" || len(got.Transcript) != 1 || !strings.Contains(got.Transcript[0], "application error") {
		t.Errorf("call = %+v", got)
	}
}

func TestCreateCall_RefusesLikeTwilio(t *testing.T) {
	tests := []struct {
		name   string
		params *openapi.CreateCallParams
		code   int
	}{
		{"missing To", (&openapi.CreateCallParams{}).SetFrom(klaxonNum).SetUrl("http://x/y"), 21201},
		{"missing From", (&openapi.CreateCallParams{}).SetTo(alice).SetUrl("http://x/y"), 21213},
		{"missing Url", (&openapi.CreateCallParams{}).SetTo(alice).SetFrom(klaxonNum), 21205},
		{"relative Url", (&openapi.CreateCallParams{}).SetTo(alice).SetFrom(klaxonNum).SetUrl("/voice"), 21205},
		{"To not E.164", (&openapi.CreateCallParams{}).SetTo("5550123").SetFrom(klaxonNum).SetUrl("http://x/y"), 21211},
		{"magic unroutable", (&openapi.CreateCallParams{}).SetTo("+15005550002").SetFrom(klaxonNum).SetUrl("http://x/y"), 21214},
	}
	e := newEnv(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.api.CreateCall(tt.params)
			var rerr *client.TwilioRestError
			if !errors.As(err, &rerr) || rerr.Status != 400 || rerr.Code != tt.code {
				t.Fatalf("err = %v, want 400 code %d", err, tt.code)
			}
		})
	}
	if _, err := e.api.FetchCall("CA00000000000000000000000000000000", nil); err == nil {
		t.Error("fetching an unknown call succeeded")
	}
}
