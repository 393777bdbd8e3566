package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/channel"
	"github.com/klaxonhq/klaxon/internal/dev/simulator"
)

// People of the channel tests.
const (
	eAlice    = "+15557770001"
	eBob      = "+15557770002"
	eSubOne   = "+15557770011"
	eStranger = "+15557770099"
)

// addPool puts n numbers in the reserve pool through the API.
func (h *harness) addPool(n int) []string {
	h.t.Helper()
	var out []string
	for i := range n {
		p := fmt.Sprintf("+1555444%04d", i)
		if st := h.api(http.MethodPost, "/api/v1/numbers", map[string]string{"phone": p}, nil); st != http.StatusCreated {
			h.t.Fatalf("add number %s: %d", p, st)
		}
		out = append(out, p)
	}
	return out
}

// cli runs a maintainer CLI command against the harness's API and returns
// its output and error.
func (h *harness) cli(args ...string) (string, error) {
	h.t.Helper()
	env := map[string]string{"KLAXON_API_URL": h.baseURL, "KLAXON_API_TOKEN": hToken}
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err := run(ctx, args, func(k string) string { return env[k] }, &out, &errOut)
	return out.String(), err
}

// from matches texts sent from a number whose body is exactly body.
func from(number, body string) func(simulator.Message) bool {
	return func(m simulator.Message) bool { return m.From == number && m.Body == body }
}

// maintainerSawNoAdmin fails when any text to the maintainer reveals one of
// the numbers.
func (h *harness) maintainerSawNoAdmin(numbers ...string) {
	h.t.Helper()
	for _, m := range h.sim.Inbox(hMaintainer) {
		for _, n := range numbers {
			if strings.Contains(m.Body, n) {
				h.t.Errorf("maintainer text %q reveals an admin's number", m.Body)
			}
		}
	}
}

func TestE2E_Channels_RequestAndChannelOverSMS(t *testing.T) {
	// The operator's own links; the social one is not set, so its line is
	// left out.
	links := channel.Links{Privacy: "https://ops.example/privacy", HowTo: "https://ops.example/how-to", Donate: "https://ops.example/give"}
	h := newHarness(t, harnessOptions{Env: map[string]string{
		"KLAXON_PRIVACY_URL": links.Privacy, "KLAXON_HOWTO_URL": links.HowTo, "KLAXON_DONATE_URL": links.Donate,
	}})
	h.addPool(10)

	h.text(eStranger, hSignupNumber, "REQUEST")
	h.waitSMS(eStranger, from(hSignupNumber, channel.RequestText("Klaxon", links)))

	h.text(eAlice, hSignupNumber, "CHANNEL "+eAlice+", "+eBob)
	created := h.waitText(eAlice, "Your Klaxon channel has been created!")
	if created.From != hSignupNumber {
		t.Fatalf("answer came from %s", created.From)
	}
	phone := strings.TrimSuffix(strings.Split(created.Body, "\n")[1], ".")
	if created.Body != channel.CreatedText("Klaxon", phone) {
		t.Fatalf("answer = %q", created.Body)
	}
	for _, a := range []string{eAlice, eBob} {
		h.waitSMS(a, from(phone, channel.WelcomeAdminText("Klaxon", eAlice, phone, links)))
	}
	h.waitSMS(hMaintainer, from(hSignupNumber, "A new channel was just created. There are now `1` active channels."))
	h.maintainerSawNoAdmin(eAlice, eBob)

	// The maintainers' listing shows counts, never members.
	var list struct {
		Channels []map[string]any `json:"channels"`
	}
	if st := h.api(http.MethodGet, "/api/v1/channels", nil, &list); st != http.StatusOK {
		t.Fatalf("list: %d", st)
	}
	found := false
	for _, c := range list.Channels {
		if c["phone"] == phone {
			found = true
			if c["admins"] != float64(2) || c["subscribers"] != float64(0) {
				t.Errorf("channel = %v", c)
			}
		}
		for _, v := range c {
			if s, ok := v.(string); ok && (s == eAlice || s == eBob) {
				t.Errorf("listing reveals a member: %v", c)
			}
		}
	}
	if !found {
		t.Fatalf("new channel %s not listed: %v", phone, list)
	}
}

func TestE2E_Channels_SignupSadPaths(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.text(eStranger, hSignupNumber, "CHANNEL ABC")
	h.waitSMS(eStranger, from(hSignupNumber, "'ABC' is not a valid phone number. Phone numbers must include country codes prefixed by a '+'."))
	h.text(eStranger, hSignupNumber, "channel")
	h.waitSMS(eStranger, from(hSignupNumber, channel.ChannelFormatText()))
	// `REQUEST for supplies` on the signup channel, whose hotline is off.
	h.text(eStranger, hSignupNumber, "REQUEST for supplies")
	h.waitSMS(eStranger, from(hSignupNumber, channel.DidntUnderstandText()))
	h.text(hMaintainer, hSignupNumber, "REQUEST for supplies")
	h.waitSMS(hMaintainer, from(hSignupNumber, channel.NoCommandText()))
}

func TestE2E_Channels_NoNumbersRefusesOverSMSAndCLI(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	refusal := "Sorry, Klaxon is not accepting new channel requests at the moment. Please check again later."
	h.text(eAlice, hSignupNumber, "CHANNEL "+eAlice+", "+eBob)
	h.waitSMS(eAlice, from(hSignupNumber, refusal))
	failed := "Channel creation failed.\n- `0` available phone numbers   \n- `0` active channels "
	h.waitSMS(hMaintainer, from(hDiagnosticsNumber, failed))

	out, err := h.cli("channel", "create", "-a", "+11232225555,+12223334444")
	if err == nil || err.Error() != refusal || out != "" {
		t.Fatalf("cli = %q, %v; want the refusal", out, err)
	}
}

func TestE2E_Channels_CLICreateWithLowReserve(t *testing.T) {
	h := newHarness(t, harnessOptions{Env: map[string]string{"KLAXON_RESERVE_SIZE": "8"}})
	h.addPool(8)
	out, err := h.cli("channel", "create", "-a", "+11232225555,+12223334444")
	if err != nil {
		t.Fatalf("cli: %v", err)
	}
	phone := strings.TrimSpace(out)
	if !strings.HasPrefix(phone, "+1555444") || strings.Count(out, "\n") != 1 {
		t.Fatalf("cli printed %q", out)
	}
	h.waitSMS("+11232225555", from(phone, channel.WelcomeAdminText("Klaxon", "the Klaxon team", phone, channel.Links{})))
	h.waitSMS(hMaintainer, from(hSignupNumber, "A new channel was just created. There are now `1` active channels."))
	h.waitSMS(hMaintainer, from(hDiagnosticsNumber, "New channel created.  \n- `7` available phone numbers \n- `1` active channels "))
	h.maintainerSawNoAdmin("+11232225555", "+12223334444")

	// -p takes a given number; a taken one is refused in one line.
	out, err = h.cli("channel", "create", "-p", "+12522212345", "-a", "+11232225556")
	if err != nil || strings.TrimSpace(out) != "+12522212345" {
		t.Fatalf("cli -p = %q, %v", out, err)
	}
	_, err = h.cli("channel", "create", "-p", phone, "-a", "+11232225557")
	if err == nil || strings.Contains(err.Error(), "\n") {
		t.Fatalf("taken number: %v", err)
	}
	out, err = h.cli("number", "list")
	if err != nil || !strings.Contains(out, phone+"  in use") || !strings.Contains(out, "available") {
		t.Fatalf("number list = %q, %v", out, err)
	}
}

func TestE2E_Channels_APICreateIsIdempotent(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.addPool(3)
	body := map[string]any{"admins": []string{eAlice, eBob}, "request_id": "req-42"}
	var first, second struct {
		Phone string `json:"phone"`
	}
	if st := h.api(http.MethodPost, "/api/v1/channels", body, &first); st != http.StatusCreated || first.Phone == "" {
		t.Fatalf("create: %d %+v", st, first)
	}
	if st := h.api(http.MethodPost, "/api/v1/channels", body, &second); st != http.StatusCreated || second.Phone != first.Phone {
		t.Fatalf("again: %d %+v, want %s", st, second, first.Phone)
	}
	h.waitSMS(eBob, from(first.Phone, channel.WelcomeAdminText("Klaxon", "the Klaxon team", first.Phone, channel.Links{})))
	var nums struct {
		Available int `json:"available"`
	}
	h.api(http.MethodGet, "/api/v1/numbers", nil, &nums)
	if nums.Available != 2 {
		t.Fatalf("available = %d, want 2", nums.Available)
	}
	for _, bad := range []any{
		map[string]any{"admins": []string{}},
		map[string]any{"admins": []string{"ABC"}},
		map[string]any{"admins": []string{eAlice}, "phone": "nope"},
	} {
		var e struct {
			Error string `json:"error"`
		}
		if st := h.api(http.MethodPost, "/api/v1/channels", bad, &e); st != http.StatusBadRequest || e.Error == "" {
			t.Errorf("%v: %d %q", bad, st, e.Error)
		}
	}
}

func TestE2E_Channels_BroadcastAndHotlineRoundTrip(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.addPool(1)
	var ch struct {
		Phone string `json:"phone"`
	}
	if st := h.api(http.MethodPost, "/api/v1/channels", map[string]any{"admins": []string{eAlice}}, &ch); st != http.StatusCreated {
		t.Fatalf("create: %d", st)
	}
	h.text(eSubOne, ch.Phone, "JOIN")
	h.waitSMS(eSubOne, from(ch.Phone, channel.JoinedText()))

	h.text(eAlice, ch.Phone, "BROADCAST march at noon")
	h.waitSMS(eSubOne, from(ch.Phone, "march at noon"))
	h.waitSMS(eAlice, from(ch.Phone, "[BROADCAST] march at noon"))
	h.eventually("broadcast progress", func() bool {
		var view struct {
			Subscribers int `json:"subscribers"`
			Broadcasts  []struct {
				Recipients, Sent, Delivered int
				Done                        bool
			} `json:"broadcasts"`
		}
		h.api(http.MethodGet, "/api/v1/channels/"+ch.Phone, nil, &view)
		return view.Subscribers == 1 && len(view.Broadcasts) == 1 && view.Broadcasts[0].Done &&
			view.Broadcasts[0].Recipients == 2 && view.Broadcasts[0].Delivered == 2
	})

	h.text(eSubOne, ch.Phone, "is it still on?")
	fwd := h.waitText(eAlice, "] is it still on?")
	if !strings.HasPrefix(fwd.Body, "[HOTLINE @") || strings.Contains(fwd.Body, eSubOne) {
		t.Fatalf("admin got %q", fwd.Body)
	}
	h.waitSMS(eSubOne, from(ch.Phone, channel.HotlineForwardedText()))
	id := strings.TrimPrefix(strings.SplitN(fwd.Body, "]", 2)[0], "[HOTLINE ")
	h.text(eAlice, ch.Phone, "REPLY "+id+" yes, noon")
	h.waitSMS(eSubOne, from(ch.Phone, "[PRIVATE REPLY FROM ADMINS] yes, noon"))
	for _, m := range h.sim.Inbox(eSubOne) {
		if strings.Contains(m.Body, eAlice) {
			t.Errorf("subscriber saw an admin's number: %q", m.Body)
		}
	}
}

func TestE2E_Channels_ProvisionNumbers(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	out, err := h.cli("number", "provision", "-n", "2", "--area-code", "415")
	if err != nil {
		t.Fatalf("provision: %v", err)
	}
	bought := strings.Fields(out)
	if len(bought) != 2 || !strings.HasPrefix(bought[0], "+1415") {
		t.Fatalf("bought %q", out)
	}
	out, err = h.cli("number", "list")
	if err != nil || strings.Count(out, "available") < 2 || !strings.Contains(out, "provisioned") {
		t.Fatalf("list = %q, %v", out, err)
	}
	// A new channel takes a bought number, and its texts reach us.
	cout, err := h.cli("channel", "create", "-a", eAlice)
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	phone := strings.TrimSpace(cout)
	h.waitSMS(eAlice, from(phone, channel.WelcomeAdminText("Klaxon", "the Klaxon team", phone, channel.Links{})))
	h.text(eAlice, phone, "INFO")
	h.waitSMS(eAlice, from(phone, channel.InfoAdminText(phone, 1, 0, true)))
}

func TestE2E_Channels_RequestWhileWorkerDownIsNotLostNorDoubled(t *testing.T) {
	h := newHarness(t, harnessOptions{SplitWorker: true})
	h.addPool(2)
	h.stopWorker()
	h.text(eAlice, hSignupNumber, "CHANNEL "+eAlice+", "+eBob)
	time.Sleep(500 * time.Millisecond) // the request waits, durable, for a worker
	h.startWorker()
	created := h.waitText(eAlice, "Your Klaxon channel has been created!")
	phone := strings.TrimSuffix(strings.Split(created.Body, "\n")[1], ".")
	h.waitSMS(eBob, from(phone, channel.WelcomeAdminText("Klaxon", eAlice, phone, channel.Links{})))
	h.waitSMS(hMaintainer, from(hSignupNumber, "A new channel was just created. There are now `1` active channels."))
	// A restarted worker replays the workflow; nothing is sent twice.
	h.stopWorker()
	h.startWorker()
	h.text(eBob, phone, "INFO")
	h.waitSMS(eBob, from(phone, channel.InfoAdminText(phone, 2, 0, true)))
	welcomes := 0
	for _, m := range h.sim.Inbox(eBob) {
		if strings.HasPrefix(m.Body, "Welcome!") {
			welcomes++
		}
	}
	if welcomes != 1 {
		t.Fatalf("bob got %d welcomes", welcomes)
	}
}

func TestE2E_Channels_FiveAPIRequestsRaceForTheLastNumber(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	h.addPool(1)
	type answer struct {
		status int
		phone  string
		err    string
	}
	answers := make(chan answer, 5)
	for i := range 5 {
		go func() {
			var out struct {
				Phone string `json:"phone"`
				Error string `json:"error"`
			}
			st := h.api(http.MethodPost, "/api/v1/channels", map[string]any{"admins": []string{fmt.Sprintf("+1555777%04d", 100+i)}}, &out)
			answers <- answer{st, out.Phone, out.Error}
		}()
	}
	created := 0
	for range 5 {
		a := <-answers
		switch a.status {
		case http.StatusCreated:
			created++
			if a.phone != "+15554440000" {
				t.Errorf("created on %s", a.phone)
			}
		case http.StatusServiceUnavailable:
			if a.err != "Sorry, Klaxon is not accepting new channel requests at the moment. Please check again later." {
				t.Errorf("refusal = %q", a.err)
			}
		default:
			t.Errorf("answer %+v", a)
		}
	}
	if created != 1 {
		t.Fatalf("%d channels created from one number", created)
	}
}

// TestE2E_Channels_SeedScenariosLiterally runs seed 002's own examples with
// its own numbers: the CHANNEL text and the maintainers' CLI call.
func TestE2E_Channels_SeedScenariosLiterally(t *testing.T) {
	h := newHarness(t, harnessOptions{Env: map[string]string{"KLAXON_RESERVE_SIZE": "8"}})
	h.addPool(10)
	// "WHEN a rando sends CHANNEL +1222333444,+14443332222 to BOOST IT"
	h.text(eStranger, hSignupNumber, "CHANNEL +1222333444,+14443332222")
	created := h.waitText(eStranger, "Your Klaxon channel has been created!")
	phone := strings.TrimSuffix(strings.Split(created.Body, "\n")[1], ".")
	for _, a := range []string{"+1222333444", "+14443332222"} {
		h.waitSMS(a, from(phone, channel.WelcomeAdminText("Klaxon", "the Klaxon team", phone, channel.Links{})))
	}
	h.waitSMS(hMaintainer, from(hSignupNumber, "A new channel was just created. There are now `1` active channels."))

	// "WHEN alice issues boost create-channel -p +1252221234 -a +11232225555,+12223334444"
	out, err := h.cli("channel", "create", "-p", "+1252221234", "-a", "+11232225555,+12223334444")
	if err != nil || out != "+1252221234\n" {
		t.Fatalf("cli = %q, %v", out, err)
	}
	h.waitSMS(hMaintainer, from(hSignupNumber, "A new channel was just created. There are now `2` active channels."))
	// 9 numbers are left of a reserve of 8: no diagnostics.
	time.Sleep(300 * time.Millisecond)
	if d := len(h.sim.Inbox(hMaintainer)); d != 2 {
		t.Fatalf("maintainer got %d texts: %+v", d, h.sim.Inbox(hMaintainer))
	}
	h.maintainerSawNoAdmin("+1222333444", "+14443332222", "+11232225555", "+12223334444", eStranger)
}
