package irc

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestClient_RegistersJoinsAndTalks(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			t.Parallel()
			s := srv.start(t, testEnvNone)
			joe := dialPeer(t, s.Addr, "joe")
			joe.join("#ops")
			b := startBot(t, fast(Config{Server: s.Addr, Nick: "klaxon", Channels: []string{"#ops"}}))
			b.connected(t)
			joe.expect("the bot joining", 10*time.Second, func(m Message) bool { return m.Command == "JOIN" && m.Source.Nick == "klaxon" })
			if !b.Connected() || b.Nick() != "klaxon" {
				t.Fatalf("Connected %v, Nick %q", b.Connected(), b.Nick())
			}

			joe.say("#ops", "klaxon: poke alice")
			ev := b.expect(t, "joe's message", 10*time.Second, isKind(KindMessage))
			if ev.Nick != "joe" || ev.Target != "#ops" || ev.Private || ev.Text != "klaxon: poke alice" || !strings.HasSuffix(ev.UserHost, "@127.0.0.1") {
				t.Fatalf("event %+v", ev)
			}
			// InspIRCd offers account-tag (it has accounts, through services
			// not linked here); ngircd has none. joe is logged in to none.
			if ev.Vouched() || ev.Account != "" || b.HasAccounts() != (srv.name == "inspircd") || ev.ServerHasAccounts != b.HasAccounts() {
				t.Fatalf("event %+v, HasAccounts %v", ev, b.HasAccounts())
			}
			joe.say("klaxon", "hello bot")
			ev = b.expect(t, "joe's private message", 10*time.Second, isKind(KindMessage))
			if !ev.Private || ev.Text != "hello bot" || ev.Target != "klaxon" {
				t.Fatalf("private event %+v", ev)
			}

			ctx := context.Background()
			if err := b.Say(ctx, "#ops", "joe: alice is Alice <time:Tue 15:04 CET>"); err != nil {
				t.Fatal(err)
			}
			m := joe.expect("the bot's line", 10*time.Second, func(m Message) bool { return m.Command == "PRIVMSG" })
			if m.Source.Nick != "klaxon" || m.Param(0) != "#ops" || m.Param(1) != "joe: alice is Alice <time:Tue 15:04 CET>" {
				t.Fatalf("joe got %+v", m)
			}
			if err := b.Notice(ctx, "joe", "psst\nQUIT :injected"); err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"psst", "QUIT :injected"} {
				m = joe.expect("the bot's notice", 10*time.Second, func(m Message) bool { return m.Command == "NOTICE" && m.Source.Nick == "klaxon" })
				if m.Param(1) != want {
					t.Fatalf("notice %q, want %q", m.Param(1), want)
				}
			}
		})
	}
}

func TestClient_SayWhileDisconnectedFails(t *testing.T) {
	c, err := New(Config{Server: "127.0.0.1:1", Nick: "klaxon"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Say(context.Background(), "#ops", "hi"); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("Say while disconnected = %v, want ErrNotConnected", err)
	}
	if err := c.Say(context.Background(), "#ops x", "hi"); !errors.Is(err, ErrInvalid) {
		t.Fatalf("Say to a bad target = %v, want ErrInvalid", err)
	}
}

func TestNew_RefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"no port":     {Server: "irc.example", Nick: "k"},
		"no nick":     {Server: "irc.example:6667"},
		"nick space":  {Server: "irc.example:6667", Nick: "a b"},
		"bad channel": {Server: "irc.example:6667", Nick: "k", Channels: []string{"#a,#b"}},
		"missing CA":  {Server: "irc.example:6697", Nick: "k", TLS: true, CAFile: "/nonexistent/ca.pem"},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

// A 2,000-byte message of multibyte runes arrives whole and in order: on
// ngircd without the bot being dropped for a long line, on InspIRCd without
// being cut.
func TestClient_SplitsLongLinesToFitTheServer(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			t.Parallel()
			s := srv.start(t, testEnvNone)
			sayLongMessage(t, s.Addr, "klaxon", "#ops")
		})
	}
	// InspIRCd allows 30-byte nicks and 64-byte channels: the budget
	// shrinks with both.
	t.Run("inspircd long nick and channel", func(t *testing.T) {
		t.Parallel()
		s := servers[1].start(t, testEnvNone)
		sayLongMessage(t, s.Addr, "klaxon-bot-with-a-long-nick", "#an-operations-channel-with-a-really-long-name-0123")
	})
}

func sayLongMessage(t *testing.T, addr, nick, channel string) {
	t.Helper()
	joe := dialPeer(t, addr, "joe")
	joe.join(channel)
	b := startBot(t, fast(Config{Server: addr, Nick: nick, Channels: []string{channel}}))
	b.connected(t)
	joe.expect("the bot joining", 10*time.Second, func(m Message) bool { return m.Command == "JOIN" && m.Source.Nick == nick })

	var text strings.Builder
	for i := 0; text.Len() < 1700; i++ {
		fmt.Fprintf(&text, "%d:Grüße-東京-😀 ", i)
	}
	text.WriteString(strings.Repeat("ж", 150)) // one 300-byte word
	want := text.String()
	if err := b.Say(context.Background(), channel, want); err != nil {
		t.Fatal(err)
	}
	var got []string
	for strings.Join(got, "") != strings.ReplaceAll(want, " ", "") {
		m := joe.expect("the rest of the long message", 15*time.Second, func(m Message) bool { return m.Command == "PRIVMSG" })
		raw, _ := Format(Message{Source: m.Source, Command: m.Command, Params: m.Params})
		if len(raw)+2 > 512 || !utf8.ValidString(m.Param(1)) {
			t.Fatalf("relayed line of %d bytes, valid UTF-8 %v", len(raw)+2, utf8.ValidString(m.Param(1)))
		}
		got = append(got, strings.ReplaceAll(m.Param(1), " ", ""))
		if len(got) > 10 {
			t.Fatalf("the message arrived cut or out of order: %q", got)
		}
	}
	if len(got) < 4 {
		t.Fatalf("a 2000-byte message in %d lines", len(got))
	}
	if !b.Connected() {
		t.Fatal("the bot was disconnected")
	}
	select {
	case ev := <-b.events:
		if ev.Kind == KindDisconnected {
			t.Fatal("the bot was disconnected")
		}
	default:
	}
}

// 50 lines said at once reach the channel, all in order, at the default
// flood control, on ngircd with its default penalties; the bot stays.
func TestClient_FloodControlKeepsTheBotOnNgircd(t *testing.T) {
	t.Parallel()
	s := servers[0].start(t, testEnvNone)
	joe := dialPeer(t, s.Addr, "joe")
	joe.join("#ops")
	b := startBot(t, Config{Server: s.Addr, Nick: "klaxon", Channels: []string{"#ops"}})
	b.connected(t)
	ctx := context.Background()
	errs := make(chan error, 1)
	go func() {
		for i := range 50 {
			if err := b.Say(ctx, "#ops", fmt.Sprintf("line %d of the flood", i)); err != nil {
				errs <- err
				return
			}
		}
		errs <- nil
	}()
	for i := range 50 {
		m := joe.expect(fmt.Sprintf("line %d", i), 30*time.Second, func(m Message) bool {
			return m.Command == "PRIVMSG" || m.Command == "KICK" || m.Command == "KILL" || m.Command == "QUIT" && m.Source.Nick == "klaxon"
		})
		if want := fmt.Sprintf("line %d of the flood", i); m.Command != "PRIVMSG" || m.Param(1) != want {
			t.Fatalf("got %s %q, want %q", m.Command, m.Params, want)
		}
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
	if !b.Connected() {
		t.Fatal("the bot was disconnected")
	}
}

func TestClient_TakesAFallbackNickAndRegainsIt(t *testing.T) {
	for _, srv := range servers { // ngircd: ISON; InspIRCd: MONITOR
		t.Run(srv.name, func(t *testing.T) {
			t.Parallel()
			s := srv.start(t, testEnvNone)
			squatter := dialPeer(t, s.Addr, "klaxon")
			b := startBot(t, fast(Config{Server: s.Addr, Nick: "klaxon", Channels: []string{"#ops"}}))
			b.connected(t)
			if b.Nick() != "klaxon_" {
				t.Fatalf("nick %q, want klaxon_", b.Nick())
			}
			squatter.send(Message{Command: "QUIT", Params: []string{"bye"}})
			deadline := time.Now().Add(15 * time.Second)
			for b.Nick() != "klaxon" {
				if time.Now().After(deadline) {
					t.Fatalf("nick still %q", b.Nick())
				}
				time.Sleep(50 * time.Millisecond)
			}
		})
	}
}

func TestClient_RejoinsAfterKick(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			t.Parallel()
			s := srv.start(t, testEnvNone)
			op := dialPeer(t, s.Addr, "op")
			op.join("#ops") // first in: channel operator
			b := startBot(t, fast(Config{Server: s.Addr, Nick: "klaxon", Channels: []string{"#ops"}}))
			b.connected(t)
			isBotJoin := func(m Message) bool { return m.Command == "JOIN" && m.Source.Nick == "klaxon" }
			op.expect("the bot joining", 10*time.Second, isBotJoin)
			op.send(Message{Command: "KICK", Params: []string{"#ops", "klaxon", "out"}})
			op.expect("the kick", 10*time.Second, func(m Message) bool { return m.Command == "KICK" })
			op.expect("the bot rejoining", 10*time.Second, isBotJoin)
			if !b.Connected() {
				t.Fatal("kicked means disconnected?")
			}
		})
	}
}

// The server is killed mid-session; the bot notices, retries with backoff,
// and is back in its channel when the server returns.
func TestClient_ReconnectsWhenTheServerReturns(t *testing.T) {
	t.Parallel()
	s := servers[0].start(t, testEnvNone)
	b := startBot(t, fast(Config{Server: s.Addr, Nick: "klaxon", Channels: []string{"#ops"}}))
	b.connected(t)
	s.Kill()
	b.expect(t, "disconnected event", 10*time.Second, isKind(KindDisconnected))
	if err := b.Say(context.Background(), "#ops", "anyone?"); !errors.Is(err, ErrNotConnected) {
		t.Fatalf("Say while the server is down = %v, want ErrNotConnected", err)
	}
	time.Sleep(1500 * time.Millisecond) // a few failed attempts
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	b.connected(t)
	joe := dialPeer(t, s.Addr, "joe")
	joe.join("#ops")
	if err := b.Say(context.Background(), "#ops", "back"); err != nil {
		t.Fatal(err)
	}
	joe.expect("the bot's line after reconnecting", 10*time.Second, func(m Message) bool {
		return m.Command == "PRIVMSG" && m.Source.Nick == "klaxon" && m.Param(1) == "back"
	})
}

// A server that hangs (SIGSTOP: sockets open, nothing answered) is noticed
// by the bot's own PING, and left.
func TestClient_LagTimeoutDropsAHungServer(t *testing.T) {
	t.Parallel()
	s := servers[0].start(t, testEnvNone)
	cfg := fast(Config{Server: s.Addr, Nick: "klaxon", PingInterval: 300 * time.Millisecond, LagTimeout: 700 * time.Millisecond})
	b := startBot(t, cfg)
	b.connected(t)
	s.Freeze()
	b.expect(t, "disconnected event", 10*time.Second, isKind(KindDisconnected))
	s.Thaw()
	b.connected(t)
}

func TestClient_CTCPIsAnsweredNotDelivered(t *testing.T) {
	for _, srv := range servers {
		t.Run(srv.name, func(t *testing.T) {
			t.Parallel()
			s := srv.start(t, testEnvNone)
			joe := dialPeer(t, s.Addr, "joe")
			joe.join("#ops")
			b := startBot(t, fast(Config{Server: s.Addr, Nick: "klaxon", Channels: []string{"#ops"}}))
			b.connected(t)
			joe.expect("the bot joining", 10*time.Second, func(m Message) bool { return m.Command == "JOIN" && m.Source.Nick == "klaxon" })
			joe.say("klaxon", "\x01VERSION\x01")
			m := joe.expect("the VERSION reply", 10*time.Second, func(m Message) bool { return m.Command == "NOTICE" && m.Source.Nick == "klaxon" })
			if m.Param(1) != "\x01VERSION "+Version+"\x01" {
				t.Fatalf("VERSION reply %q", m.Param(1))
			}
			joe.say("#ops", "\x01CLIENTINFO\x01")
			joe.say("#ops", "\x01ACTION waves\x01")
			joe.say("#ops", "klaxon: pages")
			ev := b.expect(t, "an event", 10*time.Second, func(ev Event) bool { return ev.Kind != KindConnected })
			if ev.Kind != KindAction || ev.Text != "waves" {
				t.Fatalf("first event %+v, want the ACTION", ev)
			}
			ev = b.expect(t, "an event", 10*time.Second, func(Event) bool { return true })
			if ev.Kind != KindMessage || ev.Text != "klaxon: pages" {
				t.Fatalf("second event %+v, want the message (no CTCP as text)", ev)
			}
		})
	}
}

// InspIRCd with its IRCv3 modules: the bot gets message-tags,
// server-time, msgid and echo-message; its own echoed lines are not
// delivered; client tags with escaped values cross the server intact.
func TestClient_MessageTagsOnInspIRCd(t *testing.T) {
	t.Parallel()
	s := servers[1].start(t, testEnvNone)
	joe := dialPeer(t, s.Addr, "joe", "message-tags", "server-time", "echo-message")
	joe.join("#ops")
	ann := dialPeer(t, s.Addr, "ann", "message-tags")
	ann.join("#ops")
	b := startBot(t, fast(Config{Server: s.Addr, Nick: "klaxon", Channels: []string{"#ops"}}))
	b.connected(t)
	joe.expect("the bot joining", 10*time.Second, func(m Message) bool { return m.Command == "JOIN" && m.Source.Nick == "klaxon" })
	sess := b.current()
	sess.mu.Lock()
	enabled := fmt.Sprint(sess.enabled)
	sess.mu.Unlock()
	for _, c := range []string{"message-tags", "server-time", "echo-message", "labeled-response", "extended-join", "multi-prefix", "account-tag"} {
		if !strings.Contains(enabled, c+":true") {
			t.Errorf("cap %s not enabled: %s", c, enabled)
		}
	}
	if !b.HasAccounts() {
		t.Error("InspIRCd offers account-tag, yet HasAccounts is false")
	}

	if err := b.Say(context.Background(), "#ops", "from the bot"); err != nil {
		t.Fatal(err)
	}
	joe.expect("the bot's line", 10*time.Second, func(m Message) bool { return m.Command == "PRIVMSG" && m.Source.Nick == "klaxon" })

	tags := map[string]string{"+klaxon.test/x": `a b;c\d`}
	joe.send(Message{Tags: tags, Command: "PRIVMSG", Params: []string{"#ops", "tagged"}})
	got := ann.expect("joe's tagged line", 10*time.Second, func(m Message) bool { return m.Command == "PRIVMSG" && m.Source.Nick == "joe" })
	if got.Tags["+klaxon.test/x"] != tags["+klaxon.test/x"] {
		t.Fatalf("client tag arrived as %q", got.Tags)
	}
	ev := b.expect(t, "joe's message", 10*time.Second, isKind(KindMessage))
	if ev.Nick != "joe" || ev.Text != "tagged" || ev.ID == "" || time.Since(ev.Time) > time.Minute {
		t.Fatalf("event %+v (msgid and server-time expected)", ev)
	}
	if !ev.ServerHasAccounts || ev.Vouched() {
		t.Fatalf("joe is logged in to no account: %+v", ev)
	}
}

// Over ngircd's PASS (no SASL offered there), the server password is given.
func TestClient_SendsPASSWhereThereIsNoSASL(t *testing.T) {
	t.Parallel()
	s := servers[0].start(t, testEnvPassword)
	b := startBot(t, fast(Config{Server: s.Addr, Nick: "klaxon", Password: "sesame"}))
	b.connected(t)
	wrong := startBot(t, fast(Config{Server: s.Addr, Nick: "other", Password: "wrong"}))
	time.Sleep(2 * time.Second)
	if wrong.Connected() {
		t.Fatal("registered with a wrong password")
	}
}

// On InspIRCd (echo-message and labeled-response), Say returns once the
// server has confirmed the line, and says so when the server refused it.
func TestClient_SayIsConfirmedOnInspIRCd(t *testing.T) {
	t.Parallel()
	s := servers[1].start(t, testEnvNone)
	joe := dialPeer(t, s.Addr, "joe")
	joe.join("#ops")
	joe.join("#closed") // +n by default: outsiders cannot send to it
	b := startBot(t, fast(Config{Server: s.Addr, Nick: "klaxon", Channels: []string{"#ops"}}))
	b.connected(t)
	ctx := context.Background()
	if err := b.Say(ctx, "#ops", "confirmed"); err != nil {
		t.Fatal(err)
	}
	if err := b.Say(ctx, "nobody", "hello?"); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Say to a missing nick = %v, want ErrRefused with 401", err)
	}
	if err := b.Say(ctx, "#closed", "let me in"); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "404") {
		t.Fatalf("Say to a +n channel = %v, want ErrRefused with 404", err)
	}
	if err := b.Say(ctx, "joe", "still fine"); err != nil {
		t.Fatal(err)
	}
	joe.expect("the private line", 10*time.Second, func(m Message) bool { return m.Command == "PRIVMSG" && m.Param(1) == "still fine" })
}
