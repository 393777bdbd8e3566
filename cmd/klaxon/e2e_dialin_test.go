package main

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/internal/dev/simulator"
)

// dial has phone call the paging number, typing keys at its menus, and
// waits for the call to end.
func (h *harness) dial(t *testing.T, from string, keys ...string) simulator.Call {
	t.Helper()
	sid, err := h.sim.Dial(from, hPagingNumber, simulator.DialOptions{Press: keys})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := h.sim.WaitCall(ctx, hPagingNumber, func(c simulator.Call) bool { return c.SID == sid })
	if err != nil {
		t.Fatalf("dial-in call did not end: %v", err)
	}
	return c
}

func heardLine(c simulator.Call, substr string) bool {
	return slices.ContainsFunc(c.Transcript, func(l string) bool { return strings.Contains(l, substr) })
}

func TestDialIn_KnownCallerHearsOpenPagesNewestFirstAndAcksByKey(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const alice = "+15555550141"
	pagingPerson(t, h, "alice", alice, "")
	older, _ := h.createPage(t, map[string]any{"target": "user:alice", "summary": "disk full on db-1"})
	h.waitText(alice, "disk full on db-1")
	newer, _ := h.createPage(t, map[string]any{"target": "user:alice", "summary": "derp is broken"})
	h.waitText(alice, "derp is broken")

	// 1 acknowledges the newest page; the call goes on to the older one,
	// where no key is pressed.
	c := h.dial(t, alice, "1")
	if !heardLine(c, "You have 2 open pages, newest first.") || !heardLine(c, "Page 2, reply code 2: Derp is broken.") || !heardLine(c, "is acknowledged") {
		t.Errorf("heard %q", c.Transcript)
	}
	if i := slices.IndexFunc(c.Transcript, func(l string) bool { return strings.Contains(l, "Derp is broken") }); i < 0 ||
		!heardLine(c, "Page 1, reply code 1: Disk full on db-1.") {
		t.Errorf("the older page was not read after the ack: %q", c.Transcript)
	}
	p := h.waitPageStatus(t, newer, "acked")
	if p.AckedBy != "alice" {
		t.Errorf("acked by %q, want alice", p.AckedBy)
	}
	if h.page(t, older).Status != "open" {
		t.Error("the older page changed without a key")
	}

	// 3 skips the (now acknowledged) newest page, 2 resolves the older one.
	c = h.dial(t, alice, "3", "2")
	if !heardLine(c, "It is acknowledged by alice.") || !heardLine(c, "is resolved") {
		t.Errorf("second call heard %q", c.Transcript)
	}
	h.waitPageStatus(t, older, "resolved")
	if h.page(t, newer).Status != "acked" {
		t.Error("the skipped page changed")
	}
}

func TestDialIn_UnknownCallerHearsOneSentence(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	c := h.dial(t, "+15555550149", "1")
	if len(c.Transcript) != 1 || !strings.Contains(c.Transcript[0], "does not know the number you are calling from") || len(c.Digits) != 0 {
		t.Errorf("unknown caller heard %q, pressed %v", c.Transcript, c.Digits)
	}
	// A known caller with nothing open is told so.
	pagingPerson(t, h, "bob", "+15555550148", "")
	c = h.dial(t, "+15555550148")
	if !heardLine(c, "You have no open pages.") {
		t.Errorf("bob heard %q", c.Transcript)
	}
}

func TestCallBack_TextCall3ReadsThePageInFullAndTakesTheKey(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const carol = "+15555550142"
	pagingPerson(t, h, "carol", carol, "")
	id, code := h.createPage(t, map[string]any{"target": "user:carol", "summary": "api latency high", "details": "p99 over 2s on api-1 and api-2"})
	if code != http.StatusAccepted {
		t.Fatal(code)
	}
	first := h.waitText(carol, "api latency high")
	// The first page to a phone gets code 1.
	if !strings.Contains(first.Body, "1a") {
		t.Fatalf("page text %q has no code 1", first.Body)
	}
	h.sim.SetBehaviour(carol, simulator.Behaviour{Press: "1"})
	h.text(carol, hPagingNumber, "call 1")
	h.waitText(carol, "Calling you now to read page #1")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := h.sim.WaitCall(ctx, carol, func(c simulator.Call) bool { return heardLine(c, "the page you asked for") })
	if err != nil {
		t.Fatal(err)
	}
	if !heardLine(c, "p99 over 2s on api-1 and api-2") || !heardLine(c, "is acknowledged") {
		t.Errorf("call back heard %q", c.Transcript)
	}
	h.waitPageStatus(t, id, "acked")

	// "3r" for a page the phone has no code for is a clear error.
	h.text(carol, hPagingNumber, "3r")
	h.waitText(carol, "No page of this number has reply code 3")
}

func TestSimCLI_CallKlaxonFollowTheCallAndPressKeys(t *testing.T) {
	h := newHarness(t, harnessOptions{})
	const dan = "+15555550143"
	pagingPerson(t, h, "dan", dan, "")
	id, _ := h.createPage(t, map[string]any{"target": "user:dan", "summary": "queue is stuck"})
	h.waitText(dan, "queue is stuck")
	sim := func(args ...string) (string, error) {
		t.Helper()
		env := map[string]string{"KLAXON_SIM_URL": h.simURL}
		var out, errOut strings.Builder
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		err := run(ctx, append([]string{"sim"}, args...), func(k string) string { return env[k] }, &out, &errOut)
		return out.String() + errOut.String(), err
	}
	out, err := sim("call", "--from", dan, "--to", hPagingNumber, "--press", "1")
	if err != nil {
		t.Fatalf("sim call: %v\n%s", err, out)
	}
	for _, want := range []string{"heard: Hello dan.", "Queue is stuck.", "is acknowledged", "call ended: completed"} {
		if !strings.Contains(out, want) {
			t.Errorf("sim call output lacks %q:\n%s", want, out)
		}
	}
	h.waitPageStatus(t, id, "acked")
	if out, err := sim("press", dan, "1"); err == nil || !strings.Contains(err.Error(), "no call is under way") {
		t.Errorf("press with no call: %v %s", err, out)
	}
	if out, err := sim("phone", dan, "person"); err != nil || !strings.Contains(out, "rings until you answer") {
		t.Errorf("sim phone: %v %s", err, out)
	}
	if out, err := sim("phone", dan, "person", "--press", "1"); err == nil {
		t.Errorf("--press with person: no error: %s", out)
	}
}
