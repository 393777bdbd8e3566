// Package chat is what the SMS ↔ chat bridge knows of a chat network: a
// connection that delivers what people say and sends what Klaxon says.
// IRC and Matrix each provide a Network; the bridge holds their
// connections and treats chat as one more medium and inbound owner.
package chat

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// Network names.
const (
	IRC    = "irc"
	Matrix = "matrix"
)

// ErrNotConnected is returned by Send while the network's connection is
// down; the caller retries later (outbound lines wait in Temporal).
var ErrNotConnected = errors.New("chat: not connected")

// Sender is who said something, as the network tells it.
type Sender struct {
	// Nick is the IRC nick, or the Matrix user id.
	Nick string
	// Account is the identity the server vouches for (an IRC services
	// account, a Matrix user id); empty when the server vouches for none.
	Account string
	// Display is a human form of the sender (a Matrix display name).
	Display string
}

// Message is one line said in chat.
type Message struct {
	Network string
	// ID is the network's id of the message (a Matrix event id, an IRCv3
	// msgid), when it has one; it makes redelivery harmless.
	ID     string
	Sender Sender
	// Target is where it was said: a channel or room, or the bot's own
	// name for a private message.
	Target string
	// Private is true for a message addressed to the bot alone.
	Private bool
	Text    string
	Time    time.Time
	// ThreadOf is the event a Matrix message replies to or threads under,
	// or the event a reaction is to.
	ThreadOf string
	// Reaction, when set, makes the message an emoji reaction (a Matrix
	// m.reaction's key, variation selectors removed, so ✅ is "\u2705") to
	// the message ThreadOf names, rather than a line of text; Text is empty.
	Reaction string
	// PageID is the page whose message ThreadOf is, when the network keeps
	// one message per page (Matrix): a ✅ on it from a linked user
	// acknowledges that page.
	PageID int64
}

// ReactionAck is the reaction that acknowledges a page.
const ReactionAck = "\u2705"

// Page events, for PageLine.Event.
const (
	PageOpened    = "opened"
	PageAcked     = "acked"
	PageResolved  = "resolved"
	PageEscalated = "escalated"
)

// PageLine says which page an outgoing line is about, so a network with
// threads keeps a page's events together: its first line (or one with
// Event PageOpened) becomes the page's message, later ones thread under it,
// and Headline, when set, replaces the page's message in place (its status
// edited in). Networks without threads just say Text.
type PageLine struct {
	ID    int64
	Event string
	// Headline is the page's message as it should read now.
	Headline string
}

// Outgoing is one thing to say in chat.
type Outgoing struct {
	// Target is a channel or room, or a nick/user id for a private message.
	Target string
	Text   string
	// Notice asks for a notice (IRC NOTICE) rather than a message, so
	// other bots do not answer it; on Matrix every line is an m.notice.
	Notice bool
	// ThreadOf, where the network has threads, puts the line under an
	// earlier message (a page's first announcement).
	ThreadOf string
	// Edit, where the network can edit, replaces the bot's earlier message
	// with this id by Text, in place (Matrix m.replace), instead of saying
	// a new line.
	Edit string
	// Page, when set, is the page the line is about.
	Page *PageLine
	// Conversation, when set, groups lines that belong together, such as
	// the texts of one person relayed into a room ("sms:" and the user):
	// where the network has threads, a line joins the thread of the last
	// one with the same key said within a conversation window.
	Conversation string
}

// Network is a connection to one chat network.
type Network interface {
	// Name is IRC or Matrix.
	Name() string
	// Run connects, and reconnects until ctx is done, delivering every
	// message people say to handle. It returns ctx's error on shutdown.
	Run(ctx context.Context, handle func(context.Context, Message)) error
	// Send says out and returns the network's id of what was sent (empty
	// where the network has none). It returns ErrNotConnected (wrapped)
	// while disconnected, and returns only once the line has left.
	Send(ctx context.Context, out Outgoing) (string, error)
	// Connected reports whether the connection is up now.
	Connected() bool
	// Vouches reports whether the network vouches for senders' identities
	// (IRC with accounts, Matrix always).
	Vouches() bool
}

// Headline is a page's message as it reads after event (PageOpened,
// PageAcked, PageResolved), its status in brackets — "Page 3 [acked by
// alice]: derp is broken" — so a room whose network edits messages shows
// where every page stands without reading its thread. It is "" for
// events that leave the status as it was.
func Headline(pageID int64, event, by, summary string) string {
	var status string
	switch event {
	case PageOpened:
		status = "open"
	case PageAcked:
		status = "acked"
	case PageResolved:
		status = "resolved"
	default:
		return ""
	}
	if by != "" && event != PageOpened {
		status += " by " + by
	}
	return fmt.Sprintf("Page %d [%s]: %s", pageID, status, summary)
}
