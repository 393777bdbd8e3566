package workflows

import "time"

// InboundText is one text a person sent to one of Klaxon's numbers, as the
// inbound pipeline hands it, durable and deduplicated, to the feature that
// owns the number it was sent to.
type InboundText struct {
	// EventID is the inbound event's row id in Postgres.
	EventID    int64
	SID        string // Twilio MessageSid
	From       string // E.164
	To         string // E.164: which of our numbers
	Body       string
	ReceivedAt time.Time
	// Brand names Klaxon in what the text starts (a page's emails).
	Brand string
}

// InboundKeypress is a key pressed during a call Klaxon placed.
type InboundKeypress struct {
	EventID int64
	CallSID string
	From    string
	To      string
	Digits  string
	// MessageID is the delivery pipeline's id of the call's message.
	MessageID string
}
