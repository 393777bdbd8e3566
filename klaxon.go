// Package klaxon holds the domain types every other package of Klaxon shares:
// the outbound message that the one delivery pipeline carries, its receipt, and
// the error kinds that the gateway maps to HTTP statuses in one place.
package klaxon

import "time"

// Medium is how a message reaches a person. Every outbound message in Klaxon
// names exactly one; a provider behind one interface serves each.
type Medium string

// The media Klaxon delivers through.
const (
	SMS   Medium = "sms"
	Voice Medium = "voice"
	Email Medium = "email"
	// IRC is a private chat message to a nick, said by the chat bridge.
	IRC Medium = "irc"
	// Matrix is a private Matrix message to a user id (@alice:example.org),
	// said by the chat bridge in the room the bot shares with that person.
	Matrix Medium = "matrix"
)

// Media are the media Klaxon knows, in the order they are listed to people.
func Media() []Medium { return []Medium{SMS, Voice, Email, IRC, Matrix} }

// capabilities are what a medium can do. Code that treats media
// differently asks for a capability, never for a medium by name, so a new
// medium (a chat bridge) is one more case in Medium.capabilities.
type capabilities struct {
	known bool
	// phone: addresses and senders are E.164 numbers.
	phone bool
	// optOuts: a recipient can opt out of a sender (STOP), and nothing but
	// the confirmation reaches them afterwards.
	optOuts bool
	// perSender: the provider limits each sending number's rate.
	perSender bool
	// replies: the recipient can answer a message (a page's reply codes).
	replies bool
	// subject: messages have a subject line and threads.
	subject bool
	// chat is the chat network (package chat's name for it) whose bridge
	// says the messages; empty for media that are not chat.
	chat string
}

func (m Medium) capabilities() capabilities {
	switch m {
	case SMS:
		return capabilities{known: true, phone: true, optOuts: true, perSender: true, replies: true}
	case Voice:
		return capabilities{known: true, phone: true, optOuts: true, perSender: true}
	case Email:
		return capabilities{known: true, subject: true}
	case IRC:
		return capabilities{known: true, chat: "irc"}
	case Matrix:
		return capabilities{known: true, chat: "matrix"}
	default:
		return capabilities{}
	}
}

// Valid reports whether m is a medium Klaxon knows.
func (m Medium) Valid() bool { return m.capabilities().known }

// IsPhone reports whether m's addresses and senders are E.164 numbers
// (SMS, voice): they are normalised, verified and redacted as numbers.
func (m Medium) IsPhone() bool { return m.capabilities().phone }

// HasOptOuts reports whether a recipient can opt out of m's messages from a
// sender by texting STOP to it.
func (m Medium) HasOptOuts() bool { return m.capabilities().optOuts }

// RateLimitedPerSender reports whether m's provider limits the rate of each
// sending number, so messages wait for their sender's slot.
func (m Medium) RateLimitedPerSender() bool { return m.capabilities().perSender }

// TakesReplies reports whether a recipient can answer m's messages, so a
// page's message carries its reply code.
func (m Medium) TakesReplies() bool { return m.capabilities().replies }

// IsChat reports whether m's addresses name people on a chat network, and
// its messages are said by the chat bridge.
func (m Medium) IsChat() bool { return m.capabilities().chat != "" }

// ChatNetwork is the chat network whose bridge says m's messages ("irc",
// "matrix"), or "" when m is not chat.
func (m Medium) ChatNetwork() string { return m.capabilities().chat }

// HasSubject reports whether m's messages have a subject line and threads.
func (m Medium) HasSubject() bool { return m.capabilities().subject }

// Priority orders messages that wait for the same sending number's rate
// limit: pages and codes go ahead of broadcasts.
type Priority int

// The priorities, lowest first.
const (
	Bulk   Priority = 0 // broadcasts and other fan-out
	Normal Priority = 1 // relays, confirmations, API messages
	Urgent Priority = 2 // pages, verification and login codes
)

// MaxBodyLen is the longest message body Klaxon accepts: Twilio's limit for
// one (concatenated) SMS, applied to every medium so a message fits any.
const MaxBodyLen = 1600

// Message is one outbound notification as the delivery pipeline carries it.
//
// In a workflow's hands a message holds references, never a person's
// address or private words (the claim check): the delivery activity fills
// To, and expands the references in Body, from Postgres at the edge. A
// message is either written to Postgres before it is delivered (its record
// already holds recipient and body: To and ToRef are empty), or names its
// recipient with ToRef and may quote private text in Body with
// {{REF}} placeholders. Refs are "contact:ID" (a contact method's address),
// "member:ID" (a channel member's number), "sender:ID" (who sent inbound
// event ID), "text:ID" (the words of inbound event ID), "claim:ID" (a value
// a workflow was handed by reference) and "challenge:ID" (where a code
// challenge sends its codes).
type Message struct {
	// ID is stable and unique: the idempotency key of the whole delivery.
	ID     string `json:"id"`
	Medium Medium `json:"medium"`
	// From is the sending number (SMS, voice) or address (email): one of
	// Klaxon's own, never a person's; empty means the configured default.
	From string `json:"from,omitempty"`
	// To is an E.164 number or an email address. Only the delivery
	// activity and the providers see it filled; histories recorded before
	// references existed have it too.
	To string `json:"to,omitempty"`
	// ToRef names the recipient (see the type's comment).
	ToRef   string `json:"to_ref,omitempty"`
	Subject string `json:"subject,omitempty"`
	Body    string `json:"body,omitempty"`
	// ThreadKey groups emails into one thread (e.g. every email of a page).
	ThreadKey string   `json:"thread_key,omitempty"`
	Priority  Priority `json:"priority,omitempty"`
	// IgnoreOptOut is set only for the confirmation of an opt-out keyword.
	IgnoreOptOut bool `json:"ignore_opt_out,omitempty"`
	// Purpose names what sent it ("api", "page", "verify", "broadcast", ...),
	// for the audit log and metrics.
	Purpose string `json:"purpose,omitempty"`
	// Ref links the message to what it belongs to (a page id, a channel id).
	Ref string `json:"ref,omitempty"`
	// Text, when set, names the text Body (and Subject) are — "page.sms",
	// "page.email" — and Vars its variables: an operator's override of that
	// text (KLAXON_TEXTS) replaces them when the message is sent.
	Text string            `json:"text,omitempty"`
	Vars map[string]string `json:"vars,omitempty"`
}

// Kinds of inbound event: a text, or a key pressed during a call Klaxon
// placed.
const (
	InboundSMS      = "sms"
	InboundKeypress = "keypress"
)

// Receipt is what a provider answers when it accepts a message.
type Receipt struct {
	// ProviderID is the provider's id: a Twilio MessageSid or CallSid, or the
	// email Message-ID.
	ProviderID string `json:"provider_id"`
	// Status is the provider's first status ("queued", "sent", ...).
	Status string `json:"status"`
}

// Message statuses as Klaxon records them, in the order a delivery moves
// through them. Status callbacks are applied monotonically by rank.
const (
	StatusQueued      = "queued"
	StatusSending     = "sending"
	StatusSent        = "sent"
	StatusRinging     = "ringing"
	StatusAnswered    = "in-progress"
	StatusDelivered   = "delivered"
	StatusCompleted   = "completed"
	StatusUndelivered = "undelivered"
	StatusNoAnswer    = "no-answer"
	StatusBusy        = "busy"
	StatusFailed      = "failed"
	StatusCanceled    = "canceled"
	StatusSuppressed  = "suppressed"
)

// StatusRank orders statuses so that a late or repeated callback never moves
// a message backwards. Final statuses share the top rank: the first one wins.
func StatusRank(status string) int {
	switch status {
	case StatusQueued, "accepted", "scheduled":
		return 0
	case StatusSending, "initiated":
		return 1
	case StatusSent, StatusRinging:
		return 2
	case StatusAnswered:
		return 3
	case StatusDelivered, StatusCompleted, StatusUndelivered, StatusNoAnswer, StatusBusy,
		StatusFailed, StatusCanceled, StatusSuppressed, "read", "receiving", "received":
		return 4
	default:
		return -1
	}
}

// Clock tells the time; tests pass a controllable one.
type Clock interface{ Now() time.Time }

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time.
func (SystemClock) Now() time.Time { return time.Now() }

// Envelope is m as a workflow carries a message already written to
// Postgres: its id, medium, sender and bookkeeping, without its recipient,
// subject or body, which the delivery activity loads from the record.
func (m Message) Envelope() Message {
	m.To, m.ToRef, m.Subject, m.Body = "", "", "", ""
	return m
}

// Placeholder is how a message body quotes the value behind a reference
// (see Message): the delivery activity expands it at the edge.
func Placeholder(ref string) string { return "{{" + ref + "}}" }

// InboundTurnMaxAge bounds the order in which one sender's texts are
// handled: a text waits for the sender's earlier ones, but not for one
// received more than this before it and still unprocessed, which is stuck
// and holds up nothing that came after.
const InboundTurnMaxAge = time.Minute
