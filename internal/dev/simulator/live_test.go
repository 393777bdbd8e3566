package simulator_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/internal/dev/simulator"
)

// newLiveEnv is newEnv with live calls spoken fast, Klaxon's voice webhook
// at /twilio/voice, and phones answering as a person unless told otherwise.
func newLiveEnv(t *testing.T) *env {
	t.Helper()
	hooks := newHookServer(t, testToken)
	sim := simulator.New(simulator.Config{
		AccountSID:            testSID,
		AuthToken:             testToken,
		InboundURL:            hooks.URL + "/twilio/sms",
		InboundVoiceURL:       hooks.URL + "/twilio/voice",
		InboundVoiceStatusURL: hooks.URL + "/twilio/voice/status",
		DefaultAnswer:         simulator.AnswerPerson,
		WordTime:              time.Millisecond,
	})
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	t.Cleanup(sim.Close)
	return &env{sim: sim, url: srv.URL, api: twilioAPI(t, srv.URL, testSID, testToken), hooks: hooks}
}

// waitLive waits until the simulator has a live call for which ok holds.
func waitLive(t *testing.T, e *env, ok func(simulator.Call) bool) simulator.Call {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	for {
		for _, c := range e.sim.LiveCalls() {
			if ok(c) {
				return c
			}
		}
		select {
		case <-ctx.Done():
			t.Fatalf("no live call as wanted; live calls: %+v", e.sim.LiveCalls())
		case <-time.After(2 * time.Millisecond):
		}
	}
}

// heard reports whether a call's transcript has line.
func heard(line string) func(simulator.Call) bool {
	return func(c simulator.Call) bool { return slices.Contains(c.Transcript, line) }
}

func TestLiveCall_PersonAnswersThenPressesAtTheMenu(t *testing.T) {
	e := newLiveEnv(t)
	e.hooks.twiml("/twilio/voice", pageTwiML)
	e.hooks.twiml("/twilio/voice/gather", `<Response><Say>Acknowledged. Thank you.</Say></Response>`)

	c := placeCall(t, e, alice, false)
	ringing := waitLive(t, e, func(c simulator.Call) bool { return c.Status == "ringing" })
	if ringing.SID != *c.Sid || !ringing.Live || len(ringing.Transcript) != 0 {
		t.Fatalf("ringing call = %+v", ringing)
	}
	// Nothing is heard, and no key counts, before the person answers.
	if err := e.sim.Press(*c.Sid, "1"); err != nil {
		t.Fatalf("press while ringing: %v", err)
	}
	if err := e.sim.Answer(*c.Sid); err != nil {
		t.Fatal(err)
	}
	if err := e.sim.Answer(*c.Sid); !errors.Is(err, simulator.ErrNotRinging) {
		t.Errorf("second answer: %v, want ErrNotRinging", err)
	}
	got, err := e.sim.WaitCall(t.Context(), alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	// The key typed while it rang is read by the menu, as a real keypad's
	// buffered tone would be heard by Twilio's <Gather>.
	if got.Status != "completed" || !slices.Equal(got.Digits, []string{"1"}) ||
		!slices.Contains(got.Transcript, "Acknowledged. Thank you.") || got.Live {
		t.Errorf("call = %+v", got)
	}
	if g := e.hooks.requests("/twilio/voice/gather"); len(g) != 1 || g[0].Form.Get("Digits") != "1" {
		t.Errorf("gather posts = %v", g)
	}
}

func TestLiveCall_MenuWaitsForTheKeyAndTimesOutWithout(t *testing.T) {
	e := newLiveEnv(t)
	e.hooks.twiml("/twilio/voice", `<Response><Gather action="/twilio/voice/gather" numDigits="1" timeout="1"><Say>Press 1 to acknowledge.</Say></Gather><Say>Goodbye.</Say></Response>`)
	e.hooks.twiml("/twilio/voice/gather", `<Response><Say>Acknowledged.</Say></Response>`)

	// Pressed at the menu, after it has been heard.
	c := placeCall(t, e, alice, false)
	waitLive(t, e, func(c simulator.Call) bool { return c.Status == "ringing" })
	if err := e.sim.Answer(*c.Sid); err != nil {
		t.Fatal(err)
	}
	waitLive(t, e, heard("Press 1 to acknowledge."))
	if err := e.sim.Press(*c.Sid, "1"); err != nil {
		t.Fatal(err)
	}
	sid1 := *c.Sid
	got, err := e.sim.WaitCall(t.Context(), alice, func(c simulator.Call) bool { return c.SID == sid1 })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Transcript, []string{"Press 1 to acknowledge.", "Acknowledged."}) {
		t.Errorf("pressed: transcript %q", got.Transcript)
	}

	// Nothing pressed: the menu's timeout passes and the call goes on.
	c2 := placeCall(t, e, alice, false)
	waitLive(t, e, func(c simulator.Call) bool { return c.SID == *c2.Sid && c.Status == "ringing" })
	if err := e.sim.Answer(*c2.Sid); err != nil {
		t.Fatal(err)
	}
	got, err = e.sim.WaitCall(t.Context(), alice, func(c simulator.Call) bool { return c.SID == *c2.Sid })
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got.Transcript, []string{"Press 1 to acknowledge.", "Goodbye."}) || len(got.Digits) != 0 {
		t.Errorf("not pressed: %+v", got)
	}
	if err := e.sim.Press(*c2.Sid, "1"); !errors.Is(err, simulator.ErrCallEnded) {
		t.Errorf("press after the end: %v, want ErrCallEnded", err)
	}
}

func TestLiveCall_DeclinedAndHungUp(t *testing.T) {
	e := newLiveEnv(t)
	e.hooks.twiml("/twilio/voice", pageTwiML)

	c := placeCall(t, e, alice, false)
	waitLive(t, e, func(c simulator.Call) bool { return c.Status == "ringing" })
	if err := e.sim.HangUp(*c.Sid); err != nil {
		t.Fatal(err)
	}
	got, err := e.sim.WaitCall(t.Context(), alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != "no-answer" || len(e.hooks.requests("/twilio/voice")) != 0 {
		t.Errorf("declined call = %+v, %d TwiML fetches", got, len(e.hooks.requests("/twilio/voice")))
	}
	status := e.hooks.waitFor(t, "/twilio/voice/status", func(r []hookRequest) bool {
		return slices.Contains(field(r, "CallStatus"), "no-answer")
	})
	if s := field(status, "CallStatus"); s[len(s)-1] != "no-answer" {
		t.Errorf("status callbacks = %v", s)
	}
}

func TestLiveCall_AutoAnsweringPhoneIsNotLive(t *testing.T) {
	e := newLiveEnv(t)
	e.hooks.twiml("/twilio/voice", pageTwiML)
	e.sim.SetBehaviour(alice, simulator.Behaviour{Answer: simulator.AnswerHuman, Press: "1"})
	c := placeCall(t, e, alice, false)
	got, err := e.sim.WaitCall(t.Context(), alice, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got.Live || !slices.Equal(got.Digits, []string{"1"}) {
		t.Errorf("auto-answered call = %+v", got)
	}
	if err := e.sim.Press(*c.Sid, "1"); !errors.Is(err, simulator.ErrCallEnded) && !errors.Is(err, simulator.ErrNotLive) {
		t.Errorf("press on an auto-answered call: %v", err)
	}
	if err := e.sim.Press("CAnope", "1"); !errors.Is(err, simulator.ErrNoCall) {
		t.Errorf("press on no call: %v", err)
	}
	if err := e.sim.Press(*c.Sid, "12a"); err == nil {
		t.Error("press of a letter: no error")
	}
}

func TestDial_PhoneCallsKlaxonAndPressesThroughMenus(t *testing.T) {
	e := newLiveEnv(t)
	e.hooks.twiml("/twilio/voice", `<Response><Say>You have 2 open pages.</Say>
		<Gather action="/twilio/voice/gather?step=1" numDigits="1" timeout="5"><Say>Page 3: derp is broken. Press 1 to acknowledge, 3 for the next page.</Say></Gather></Response>`)
	e.hooks.handle("/twilio/voice/gather", func(f url.Values) (int, string) {
		if f.Get("Digits") == "3" {
			return http.StatusOK, `<Response><Gather action="/twilio/voice/gather?step=2" numDigits="1"><Say>Page 2: disk full. Press 1 to acknowledge.</Say></Gather></Response>`
		}
		return http.StatusOK, `<Response><Say>Acknowledged.</Say><Hangup/></Response>`
	})

	sid, err := e.sim.Dial(alice, klaxonNum, simulator.DialOptions{Press: []string{"3", "1"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.WaitCall(t.Context(), klaxonNum, nil); err != nil {
		t.Fatal(err)
	}
	status := e.hooks.waitN(t, "/twilio/voice/status", 1)
	if f := status[0].Form; f.Get("CallSid") != sid || f.Get("CallStatus") != "completed" || f.Get("Direction") != "inbound" {
		t.Errorf("status callback = %v", f)
	}
	voice := e.hooks.requests("/twilio/voice")
	if len(voice) != 1 {
		t.Fatalf("%d voice webhooks, want 1", len(voice))
	}
	if f := voice[0].Form; f.Get("From") != alice || f.Get("To") != klaxonNum || f.Get("Direction") != "inbound" || f.Get("CallSid") != sid {
		t.Errorf("voice webhook = %v", f)
	}
	g := e.hooks.requests("/twilio/voice/gather")
	if d := field(g, "Digits"); !slices.Equal(d, []string{"3", "1"}) {
		t.Errorf("digits posted = %v, want [3 1]", d)
	}
	if live := e.sim.LiveCalls(); len(live) != 0 {
		t.Errorf("calls still live: %+v", live)
	}
}

func TestDial_RefusesBadNumbersAndKeys(t *testing.T) {
	e := newLiveEnv(t)
	for name, tc := range map[string]struct {
		from, to string
		press    []string
	}{
		"caller not E.164": {"555-0123", klaxonNum, nil},
		"callee not E.164": {alice, "klaxon", nil},
		"letters as keys":  {alice, klaxonNum, []string{"1x"}},
		"empty key":        {alice, klaxonNum, []string{""}},
	} {
		if _, err := e.sim.Dial(tc.from, tc.to, simulator.DialOptions{Press: tc.press}); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	if n := len(e.sim.LiveCalls()); n != 0 {
		t.Errorf("%d calls placed by bad dials", n)
	}
}

func TestControlAPI_DialAnswerPressHangUp(t *testing.T) {
	e := newLiveEnv(t)
	e.hooks.twiml("/twilio/voice", `<Response><Gather action="/twilio/voice/gather" numDigits="1" timeout="10"><Say>Press 1.</Say></Gather></Response>`)
	post := func(path string, body any) (int, map[string]string) {
		t.Helper()
		b, _ := json.Marshal(body)
		resp, err := http.Post(e.url+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]string
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp.StatusCode, out
	}
	code, out := post("/sim/api/calls", map[string]any{"from": alice, "to": klaxonNum})
	if code != http.StatusCreated || out["sid"] == "" {
		t.Fatalf("dial: %d %v", code, out)
	}
	sid := out["sid"]
	waitLive(t, e, heard("Press 1."))
	if code, out := post("/sim/api/calls/"+sid+"/press", map[string]string{"digits": "x"}); code != http.StatusBadRequest || out["error"] == "" {
		t.Errorf("bad keys: %d %v", code, out)
	}
	if code, out := post("/sim/api/calls/"+sid+"/answer", nil); code != http.StatusConflict || out["error"] == "" {
		t.Errorf("answer an answered call: %d %v", code, out)
	}
	if code, _ := post("/sim/api/calls/"+sid+"/press", map[string]string{"digits": "1"}); code != http.StatusOK {
		t.Errorf("press: %d", code)
	}
	e.hooks.waitN(t, "/twilio/voice/gather", 1)
	if code, out := post("/sim/api/calls/CAnope/hangup", nil); code != http.StatusNotFound || out["error"] == "" {
		t.Errorf("hang up no call: %d %v", code, out)
	}
	if code, out := post("/sim/api/calls", map[string]any{"from": "nope", "to": klaxonNum}); code != http.StatusBadRequest || out["error"] == "" {
		t.Errorf("dial from a bad number: %d %v", code, out)
	}
}
