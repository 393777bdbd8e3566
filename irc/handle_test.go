package irc

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// FuzzHandle: whatever a server sends, line after line, the client's
// handlers do not panic.
func FuzzHandle(f *testing.F) {
	for _, s := range []string{
		":s 904\n:s 005\n:s 001\n:s 433\n:s 354 me 152\n:s CAP\n:s CAP * LS\n:s CAP * ACK\nAUTHENTICATE +\n",
		":s CAP * LS * :sasl=PLAIN account-tag\n:s CAP * LS :extended-join\n:s CAP me ACK :sasl extended-join\nAUTHENTICATE +\n:s 903\n",
		":s 001 klaxon :Welcome klaxon!k@h\n:s 005 klaxon LINELEN=0 NICKLEN=-1 CHANTYPES= CASEMAPPING= MONITOR=x :ok\n:s 376\n",
		":klaxon!k@h JOIN\n:a!b@c JOIN #x * \n:a!b@c KICK\n:a!b@c KICK #x klaxon\n:a NICK\n:klaxon NICK\n:a!b@c ACCOUNT\n:a!b@c QUIT\n",
		":a!b@c PRIVMSG klaxon :\x01\n:a!b@c PRIVMSG #x :\x01PING\x01\n:a!b@c NOTICE #x :\x01VERSION\x01\n:a!b@c PRIVMSG\n@label=k1 :s 401\n:s 303\n:s 731\n:s 396\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, input string) {
		c, err := New(Config{Server: "127.0.0.1:6667", Nick: "klaxon", Password: "pw", Channels: []string{"#x"}})
		if err != nil {
			t.Fatal(err)
		}
		c.rejoinDelay = 0
		ours, theirs := net.Pipe()
		go func() { _, _ = io.Copy(io.Discard, theirs) }()
		events := make(chan Event, 1<<16)
		s := newSession(c, ours, events)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		for _, line := range strings.Split(input, "\n") {
			m, err := Parse(line)
			if err != nil {
				continue
			}
			_ = s.handle(ctx, m)
		}
		s.close(nil)
		_ = theirs.Close()
	})
}

func TestTextBudget_AssumesTheWorstUntilItKnowsItsHost(t *testing.T) {
	c, err := New(Config{Server: "127.0.0.1:6667", Nick: "klaxon"})
	if err != nil {
		t.Fatal(err)
	}
	ours, theirs := net.Pipe()
	defer ours.Close()
	defer theirs.Close()
	s := newSession(c, ours, nil)
	// ":klaxon!~" + 10 + "@" + 63 + " PRIVMSG #ops :" + text + CRLF = 512
	if got, want := s.textBudget("PRIVMSG", "#ops"), 512-(1+6+1+1+10+1+63+1+7+1+4+2+2); got != want {
		t.Fatalf("unknown host: budget %d, want %d", got, want)
	}
	s.userHost = "~klaxon@127.0.0.1"
	s.nick = "k"
	if got, want := s.textBudget("PRIVMSG", "#ops"), 512-(1+6+1+17+1+7+1+4+2+2); got != want {
		t.Fatalf("known host, shorter fallback nick: budget %d, want %d (the wanted nick may return)", got, want)
	}
	// A line over LINELEN is refused before it is written: ngircd would
	// drop the connection for it.
	err = s.send(context.Background(), Message{Command: "PRIVMSG", Params: []string{"#ops", strings.Repeat("x", 510)}}, false)
	if !errors.Is(err, ErrInvalid) {
		t.Fatalf("send of an over-long line = %v, want ErrInvalid", err)
	}
}
