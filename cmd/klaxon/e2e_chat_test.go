package main

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/internal/dev/mailsink"
	"github.com/klaxonhq/klaxon/internal/testenv"
	"github.com/klaxonhq/klaxon/irc"
	"github.com/klaxonhq/klaxon/store"
)

// ircPerson is a person's own IRC client, on the same real server as the
// bot.
type ircPerson struct {
	c  *irc.Client
	mu sync.Mutex
	// heard are the lines the bot said where this person could hear them.
	heard []irc.Event
}

func joinIRC(t testing.TB, addr, nick string) *ircPerson {
	t.Helper()
	c, err := irc.New(irc.Config{Server: addr, Nick: nick, Channels: []string{"#klaxon"},
		MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	p := &ircPerson{c: c}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = c.Run(ctx, func(_ context.Context, ev irc.Event) {
			if ev.Kind == irc.KindMessage || ev.Kind == irc.KindNotice {
				p.mu.Lock()
				p.heard = append(p.heard, ev)
				p.mu.Unlock()
			}
		})
	}()
	t.Cleanup(func() { cancel(); <-done })
	return p
}

func (p *ircPerson) say(t testing.TB, target, text string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := p.c.Say(ctx, target, text); err != nil {
		t.Fatalf("%s says %q: %v", p.c.Nick(), text, err)
	}
}

// hear waits for a line from the bot that contains want.
func (p *ircPerson) hear(t testing.TB, want string) irc.Event {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		for _, ev := range p.heard {
			if ev.Nick == "klaxon" && strings.Contains(ev.Text, want) {
				p.mu.Unlock()
				return ev
			}
		}
		p.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	t.Fatalf("%s never heard %q; heard %+v", p.c.Nick(), want, p.heard)
	return irc.Event{}
}

// heardAll returns the bot's lines that contain part, in order.
func (p *ircPerson) heardAll(part string) []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []string
	for _, ev := range p.heard {
		if ev.Nick == "klaxon" && strings.Contains(ev.Text, part) {
			out = append(out, ev.Text)
		}
	}
	return out
}

type chatHarness struct {
	*harness
	ircd *testenv.IRCServer
	joe  *ircPerson
}

const (
	aliceNumber = "+15555550123"
	joeNumber   = "+15555550111"
)

// newChatHarness is Klaxon with its bot in #klaxon on a real ngircd, joe
// there with his own client, and alice (Berlin) and joe in the directory.
func newChatHarness(t testing.TB) *chatHarness {
	t.Helper()
	ircd := testenv.StartNgircd(t, testenv.IRCOptions{})
	h := newHarness(t, harnessOptions{Env: map[string]string{
		"KLAXON_IRC_SERVER":      ircd.Addr,
		"KLAXON_IRC_CHANNELS":    "#klaxon",
		"KLAXON_IRC_TRUST_NICKS": "true",
	}})
	ch := &chatHarness{harness: h, ircd: ircd}
	ch.person(t, "alice", "Alice Liddell", "Europe/Berlin", aliceNumber, "alice@example.com")
	ch.person(t, "joe", "Joe Bloggs", "America/Chicago", joeNumber, "")
	h.eventually("the bot on IRC", h.app.irc.Connected)
	ch.joe = joinIRC(t, ircd.Addr, "joe")
	h.eventually("joe on IRC", ch.joe.c.Connected)
	// The bot answers once it holds the connection and joe hears it.
	ch.joe.say(t, "#klaxon", "klaxon: help")
	ch.joe.hear(t, "joe: commands: poke NAME")
	return ch
}

func (ch *chatHarness) person(t testing.TB, handle, name, tz, number, email string) {
	t.Helper()
	ctx := context.Background()
	u, err := ch.store.CreateUser(ctx, store.User{Handle: handle, Name: name, Timezone: tz})
	if err != nil {
		t.Fatal(err)
	}
	add := func(m klaxon.Medium, addr string) {
		c, err := ch.store.AddContact(ctx, store.Contact{UserID: u.ID, Type: m, Address: addr})
		if err != nil {
			t.Fatal(err)
		}
		if err := ch.store.MarkContactVerified(ctx, c.ID); err != nil {
			t.Fatal(err)
		}
	}
	add(klaxon.SMS, number)
	add(klaxon.Voice, number)
	if email != "" {
		add(klaxon.Email, email)
	}
}

func TestE2E_ChatBridgeOnNgircd(t *testing.T) {
	ch := newChatHarness(t)
	joe := ch.joe

	// IRC → SMS: joe texts alice by nick.
	joe.say(t, "#klaxon", "klaxon: sms alice where are you?")
	if m := ch.waitText(aliceNumber, "joe> where are you?"); m.From != hPagingNumber || m.Body != "joe> where are you?" {
		t.Fatalf("alice got %q from %s", m.Body, m.From)
	}
	joe.hear(t, "joe: your text to a\u200blice is on its way.")

	// SMS → IRC: alice's answer lands in the team channel.
	ch.text(aliceNumber, hPagingNumber, "stuck in traffic, 10 min")
	if ev := joe.hear(t, "[SMS] <a\u200blice> stuck in traffic, 10 min"); ev.Target != "#klaxon" {
		t.Fatalf("the relay went to %q", ev.Target)
	}

	// poke answers with her local time in Berlin and the end of her number.
	joe.say(t, "#klaxon", "!poke alice")
	ev := joe.hear(t, "joe: alice is Alice Liddell <time:")
	berlin, _ := time.LoadLocation("Europe/Berlin")
	zone := time.Now().In(berlin).Format("MST")
	if !strings.Contains(ev.Text, " "+zone+"> <mobile:…0123>") {
		t.Fatalf("poke said %q (want a %s time and …0123)", ev.Text, zone)
	}

	// get NAME now: a blast page — her phone, her mail, and the channel told.
	joe.say(t, "#klaxon", "klaxon, get alice now: derp is broken")
	joe.hear(t, "joe: paging a\u200blice now on every channel (page ")
	ch.waitText(aliceNumber, "joe needs you in #klaxon now: derp is broken")
	ch.waitMail("alice@example.com", func(m mailsink.Mail) bool { return strings.Contains(m.Subject+m.Body, "derp is broken") })
	joe.hear(t, "opened for user:a\u200blice by j\u200boe: joe needs you in #klaxon now: derp is broken")

	// A stranger's number is not relayed, and is told so.
	ch.text("+15555550777", hPagingNumber, "hello?")
	ch.waitText("+15555550777", "your text was not relayed to chat")
}

func TestE2E_ChatLinesWaitWhileTheServerIsDown(t *testing.T) {
	ch := newChatHarness(t)
	joe := ch.joe
	ch.ircd.Kill()
	ch.eventually("the bot disconnected", func() bool { return !ch.app.irc.Connected() })
	const n = 8
	for i := range n {
		ch.text(aliceNumber, hPagingNumber, fmt.Sprintf("while away %d", i))
	}
	// Every text is relayed (and so waiting in the outbox) before the
	// server comes back.
	ch.eventually("the relays queued", func() bool {
		var count int
		_ = ch.db.Pool.QueryRow(context.Background(), `SELECT count(*) FROM chat_lines WHERE body LIKE '%while away%'`).Scan(&count)
		return count == n
	})
	if err := ch.ircd.Start(); err != nil {
		t.Fatal(err)
	}
	ch.eventually("joe back on IRC", joe.c.Connected)
	joe.hear(t, fmt.Sprintf("while away %d", n-1))
	time.Sleep(time.Second)
	got := joe.heardAll("while away")
	if len(got) != n {
		t.Fatalf("joe heard %d lines, want %d once each: %q", len(got), n, got)
	}
	for i, s := range got {
		if !strings.HasSuffix(s, fmt.Sprintf("while away %d", i)) {
			t.Fatalf("line %d is %q: out of order: %q", i, s, got)
		}
	}
}

// TestE2E_ChatContactVerifiedByPrivateMessage adds an IRC nick as a
// contact method: its code arrives as a private message from the bot, and
// the code verifies it.
func TestE2E_ChatContactVerifiedByPrivateMessage(t *testing.T) {
	ch := newChatHarness(t)
	if code := ch.api(http.MethodPost, "/api/v1/users/joe/contacts", map[string]string{"type": "irc", "address": "joe"}, nil); code/100 != 2 {
		t.Fatalf("add irc contact: %d", code)
	}
	id, _ := ch.contactOf("joe", "joe")
	ev := ch.joe.hear(t, "code")
	if !ev.Private {
		t.Fatalf("the code was said in %q, not privately", ev.Target)
	}
	code := codePattern.FindString(ev.Text)
	if code == "" {
		t.Fatalf("no code in %q", ev.Text)
	}
	if status := ch.api(http.MethodPost, fmt.Sprintf("/api/v1/contacts/%d/verify", id), map[string]string{"code": code}, nil); status != 200 {
		t.Fatalf("verify: %d", status)
	}
	if s := ch.contactStatus(id); s != store.ContactVerified {
		t.Fatalf("contact is %s", s)
	}
	if code := ch.api(http.MethodPost, "/api/v1/users/joe/contacts", map[string]string{"type": "irc", "address": "not a nick"}, nil); code != 400 {
		t.Fatalf("a bad nick was taken: %d", code)
	}
}
