package irc

import (
	"strings"
	"time"
	"unicode/utf8"
)

// Kind is what an Event reports.
type Kind int

// The kinds of events.
const (
	// KindMessage is a PRIVMSG to a channel or to the bot.
	KindMessage Kind = iota + 1
	// KindNotice is a NOTICE; by convention a bot never answers one.
	KindNotice
	// KindAction is a CTCP ACTION ("/me waves"): Text is the action.
	KindAction
	// KindConnected is the client registered and joining its channels.
	KindConnected
	// KindDisconnected is the connection lost (Run reconnects).
	KindDisconnected
)

// String names the kind, for logs.
func (k Kind) String() string {
	switch k {
	case KindMessage:
		return "message"
	case KindNotice:
		return "notice"
	case KindAction:
		return "action"
	case KindConnected:
		return "connected"
	case KindDisconnected:
		return "disconnected"
	}
	return "unknown"
}

// Event is what Run delivers: something said, or the connection's state.
// The client's own messages echoed back by the server are not delivered,
// nor CTCP other than ACTION.
//
// Identity: Nick and UserHost are whatever the sender chose or connected
// from — anyone can take a free nick, so a nick alone proves nothing.
// Account is the services account the server vouches for (from the
// account-tag on the message, or, where the server sends none, from what
// extended-join, account-notify or a WHOX lookup said of that nick while it
// shared a channel with the bot); it is empty when the sender is not
// logged in or the server has no accounts (see Vouched and
// ServerHasAccounts).
type Event struct {
	Kind     Kind
	Nick     string
	UserHost string
	Account  string
	// ServerHasAccounts tells that the server has accounts (it offered SASL
	// or account-tag): there, a sender without Account is not logged in.
	ServerHasAccounts bool
	// Target is the channel said in, or the bot's nick for a private
	// message; Private tells which.
	Target  string
	Private bool
	// Text is valid UTF-8 (invalid bytes become U+FFFD); IRC formatting
	// codes are left in.
	Text string
	// Time is the server's time of the message (server-time) or, without
	// it, when the client read it.
	Time time.Time
	// ID is the server's message id (IRCv3 msgid), when it gives one.
	ID string
}

// Vouched reports whether the server vouches for the sender: it has
// accounts and the sender is logged in to one. A caller that acts on
// commands compares Account with the account it expects; when Vouched is
// false, only the nick is known and trusting it must be an explicit
// choice.
func (e Event) Vouched() bool { return e.ServerHasAccounts && e.Account != "" }

func validText(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}
