package irc

import (
	"bufio"
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/klaxonhq/klaxon/internal/testenv"
)

// peer is a person on the test server: a raw IRC connection driven with
// the package's own framing, so tests see exactly what the server relays.
type peer struct {
	t    testing.TB
	nick string
	conn net.Conn
	in   chan Message
	mu   sync.Mutex
}

// dialPeer connects, optionally requests caps, registers as nick and waits
// for the end of the MOTD.
func dialPeer(t testing.TB, addr, nick string, caps ...string) *peer {
	t.Helper()
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("peer %s: %v", nick, err)
	}
	p := &peer{t: t, nick: nick, conn: conn, in: make(chan Message, 10000)}
	t.Cleanup(func() { _ = conn.Close() })
	go p.read()
	if len(caps) > 0 {
		p.send(Message{Command: "CAP", Params: []string{"REQ", strings.Join(caps, " ")}})
	}
	p.send(Message{Command: "NICK", Params: []string{nick}})
	p.send(Message{Command: "USER", Params: []string{nick, "0", "*", "Test " + nick}})
	if len(caps) > 0 {
		p.expect("CAP ACK", 10*time.Second, func(m Message) bool { return m.Command == "CAP" && m.Param(1) == "ACK" })
		p.send(Message{Command: "CAP", Params: []string{"END"}})
	}
	p.expect("end of MOTD", 10*time.Second, func(m Message) bool { return m.Command == "376" || m.Command == "422" })
	return p
}

func (p *peer) read() {
	r := bufio.NewReaderSize(p.conn, 64<<10)
	defer close(p.in)
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		m, err := Parse(line)
		if err != nil {
			continue
		}
		if m.Command == "PING" {
			p.send(Message{Command: "PONG", Params: m.Params})
			continue
		}
		p.in <- m
	}
}

func (p *peer) send(m Message) {
	line, err := Format(m)
	if err != nil {
		p.t.Errorf("peer %s: format: %v", p.nick, err)
		return
	}
	p.raw(line)
}

func (p *peer) raw(line string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.conn.Write([]byte(line + "\r\n")); err != nil {
		p.t.Errorf("peer %s: write: %v", p.nick, err)
	}
}

func (p *peer) say(target, text string) {
	p.send(Message{Command: "PRIVMSG", Params: []string{target, text}})
}

func (p *peer) join(ch string) {
	p.send(Message{Command: "JOIN", Params: []string{ch}})
	p.expect("own JOIN "+ch, 10*time.Second, func(m Message) bool {
		return m.Command == "JOIN" && m.Source.Nick == p.nick
	})
	p.expect("end of NAMES", 10*time.Second, func(m Message) bool { return m.Command == "366" })
}

// expect reads until a message matches, failing the test after d.
func (p *peer) expect(what string, d time.Duration, match func(Message) bool) Message {
	p.t.Helper()
	deadline := time.After(d)
	for {
		select {
		case m, ok := <-p.in:
			if !ok {
				p.t.Fatalf("peer %s: connection closed waiting for %s", p.nick, what)
			}
			if match(m) {
				return m
			}
		case <-deadline:
			p.t.Fatalf("peer %s: no %s within %s", p.nick, what, d)
		}
	}
}

// bot is a Client running in the background of a test.
type bot struct {
	*Client
	events chan Event
	done   chan error
}

// startBot runs a Client with fast test delays; cfg.Logger defaults to the
// test log.
func startBot(t testing.TB, cfg Config, tune ...func(*Client)) *bot {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = testenv.Logger(t)
	}
	c, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c.rejoinDelay = 200 * time.Millisecond
	c.regainEvery = 500 * time.Millisecond
	for _, f := range tune {
		f(c)
	}
	b := &bot{Client: c, events: make(chan Event, 10000), done: make(chan error, 1)}
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		b.done <- c.Run(ctx, func(_ context.Context, ev Event) { b.events <- ev })
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-b.done:
			if !errors.Is(err, context.Canceled) {
				t.Errorf("Run returned %v, want context.Canceled", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("Run did not return after cancel")
		}
	})
	return b
}

func (b *bot) expect(t testing.TB, what string, d time.Duration, match func(Event) bool) Event {
	t.Helper()
	deadline := time.After(d)
	for {
		select {
		case ev := <-b.events:
			if match(ev) {
				return ev
			}
		case <-deadline:
			t.Fatalf("bot: no %s within %s", what, d)
		}
	}
}

func (b *bot) connected(t testing.TB) {
	t.Helper()
	b.expect(t, "connected event", 30*time.Second, func(ev Event) bool { return ev.Kind == KindConnected })
}

func isKind(k Kind) func(Event) bool { return func(ev Event) bool { return ev.Kind == k } }

// servers are the real servers every behaviour is checked on.
var servers = []struct {
	name  string
	start func(testing.TB, testenv.IRCOptions) *testenv.IRCServer
}{
	{"ngircd", testenv.StartNgircd},
	{"inspircd", testenv.StartInspIRCd},
}

// fast is flood control loose enough for tests that send a few lines.
func fast(cfg Config) Config {
	cfg.Burst, cfg.Rate = 10, 5
	cfg.MinBackoff, cfg.MaxBackoff = 100*time.Millisecond, time.Second
	return cfg
}

var (
	testEnvNone     = testenv.IRCOptions{}
	testEnvPassword = testenv.IRCOptions{Password: "sesame"}
)
