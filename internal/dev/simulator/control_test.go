package simulator_test

import (
	"encoding/json"
	"errors"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twilio/twilio-go/client"
	openapi "github.com/twilio/twilio-go/rest/api/v2010"

	"github.com/klaxonhq/klaxon/internal/dev/simulator"
)

// postJSON posts body to the simulator and decodes the answer into out.
func postJSON(t *testing.T, target, body string, out any) int {
	t.Helper()
	resp, err := http.Post(target, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("decode %s: %v", target, err)
		}
	}
	return resp.StatusCode
}

// getJSON fetches target and decodes the answer into out.
func getJSON(t *testing.T, target string, out any) {
	t.Helper()
	resp, err := http.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", target, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatalf("decode %s: %v", target, err)
	}
}

func TestControlAPI_DrivesPhones(t *testing.T) {
	e := newEnv(t)
	e.hooks.twiml("/twilio/sms", `<Response><Message>ok</Message></Response>`)
	e.hooks.twiml("/voice", `<Response><Gather action="/g"><Say>Press 1</Say></Gather></Response>`)

	var b map[string]string
	if code := postJSON(t, e.url+"/sim/api/behaviour", `{"number":"+15555550123","press":"1","ring_delay":"0s"}`, &b); code != http.StatusOK {
		t.Fatalf("set behaviour: %d %v", code, b)
	}
	if code := postJSON(t, e.url+"/sim/api/behaviour", `{"number":"+15555550123","answer":"maybe"}`, &b); code != http.StatusBadRequest || b["error"] == "" {
		t.Errorf("bad behaviour: %d %v", code, b)
	}

	var sent map[string]string
	if code := postJSON(t, e.url+"/sim/api/sms", `{"from":"+15555550123","to":"+14155550100","body":"3a"}`, &sent); code != http.StatusOK || !strings.HasPrefix(sent["sid"], "SM") {
		t.Fatalf("sms: %d %v", code, sent)
	}
	var msgs []simulator.Message
	getJSON(t, e.url+"/sim/api/messages?number="+url.QueryEscape(alice), &msgs)
	if len(msgs) != 2 || msgs[0].SID != sent["sid"] || msgs[0].Direction != "inbound" || msgs[1].Body != "ok" {
		t.Errorf("messages = %+v", msgs)
	}

	if _, err := e.api.CreateCall((&openapi.CreateCallParams{}).SetTo(alice).SetFrom(klaxonNum).SetUrl(e.hooks.URL + "/voice")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.sim.WaitCall(t.Context(), alice, nil); err != nil {
		t.Fatal(err)
	}
	var calls []simulator.Call
	getJSON(t, e.url+"/sim/api/calls?number="+url.QueryEscape(alice), &calls)
	if len(calls) != 1 || calls[0].Status != "completed" || calls[0].Digits[0] != "1" || calls[0].Transcript[0] != "Press 1" {
		t.Errorf("calls = %+v", calls)
	}

	var fail map[string]any
	if code := postJSON(t, e.url+"/sim/api/fail", `{"count":1,"http_status":503}`, &fail); code != http.StatusOK {
		t.Fatalf("fail: %d %v", code, fail)
	}
	_, err := e.api.CreateMessage(sms(klaxonNum, alice, "hi", ""))
	var rerr *client.TwilioRestError
	if !errors.As(err, &rerr) || rerr.Status != 503 {
		t.Errorf("after /sim/api/fail: err = %v, want 503", err)
	}
}

func TestControlAPI_RefusesCrossSiteBrowsers(t *testing.T) {
	e := newEnv(t)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, e.url+"/sim/api/sms",
		strings.NewReader(`{"from":"+15555550123","to":"+14155550100","body":"hi"}`))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || len(e.sim.Messages()) != 0 {
		t.Errorf("cross-site post: %d, %d messages", resp.StatusCode, len(e.sim.Messages()))
	}
}

func TestPage_ShowsPhonesEscaped(t *testing.T) {
	e := newEnv(t)
	e.sim.AddIncomingNumber(klaxonNum, "")
	if _, err := e.api.CreateMessage(sms(klaxonNum, alice, `<script>alert("x")</script>`, "")); err != nil {
		t.Fatal(err)
	}
	e.sim.SetBehaviour("+15555550177", simulator.Behaviour{Answer: "busy"})

	resp, err := http.Get(e.url + "/")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	page := string(body)
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(page, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;") {
		t.Error("page lacks the escaped message body")
	}
	text := html.UnescapeString(page)
	// Klaxon's own numbers are listed as Klaxon's, not as people's phones,
	// and a text between them shows once, in the person's timeline.
	if n := strings.Count(page, "&lt;script&gt;alert"); n != 1 {
		t.Errorf("the message is shown %d times, want once", n)
	}
	if strings.Contains(text, "<h2>"+klaxonNum) {
		t.Error("Klaxon's number is listed as a person's phone")
	}
	for _, want := range []string{"<h2>" + alice, "<h2>Klaxon's numbers</h2>", "<strong>" + klaxonNum + "</strong>", "<h2>+15555550177", "calls: busy", `action="/sim/ui/sms"`, `action="/sim/ui/dial"`} {
		if !strings.Contains(text, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(page, `<script>alert`) {
		t.Error("page shows a message body unescaped")
	}

	// The page's forms text Klaxon and come back to the page.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err = noRedirect.PostForm(e.url+"/sim/ui/sms", url.Values{"from": {"(555) 555-0123"}, "to": {klaxonNum}, "body": {"hello"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || !strings.Contains(resp.Header.Get("Location"), "notice=") {
		t.Errorf("form post: %d to %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	if got := e.hooks.requests("/twilio/sms"); len(got) != 1 || got[0].Form.Get("From") != alice {
		t.Errorf("webhooks = %v", got)
	}
}
