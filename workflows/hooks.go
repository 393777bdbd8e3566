package workflows

import (
	"time"

	"github.com/klaxonhq/klaxon/code"
)

// InboundText is one text a person sent to one of Klaxon's numbers, as the
// inbound pipeline hands it, durable and deduplicated, to the feature that
// owns the number it was sent to.
type InboundText struct {
	// EventID is the inbound event's row id in Postgres.
	EventID int64
	SID     string // Twilio MessageSid
	// From is the sender (E.164) in histories recorded before references
	// existed; activities load it by EventID.
	From string
	To   string // E.164: which of our numbers
	// Body is the words of a text to the paging number (a reply or a page
	// request) that is neither a keyword nor a code; empty otherwise.
	Body       string
	ReceivedAt time.Time
	// Brand names Klaxon in what the text starts (a page's emails).
	Brand string
	// IsCode reports that the text is a verification code (whose digits
	// the workflow does not get).
	IsCode bool
}

// isCode reports whether t is a verification code: as the inbound
// activity found, or (a history recorded before it said) as its words read.
func (t InboundText) isCode() bool {
	if t.IsCode {
		return true
	}
	_, ok := code.Normalize(t.Body)
	return ok
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
