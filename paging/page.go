package paging

import (
	"time"

	"github.com/klaxonhq/klaxon"
)

// A Page and its timeline's Events travel in Temporal payloads (the page
// workflow loads its page through a local activity) as well as between
// the store and its callers; their JSON tags are that payload form, which
// recorded histories hold, so a tag is never renamed. The REST API has its
// own views.

// Page is something someone must look at now, and how far it has got.
type Page struct {
	ID       int64  `json:"id"`
	Target   string `json:"target"`
	Summary  string `json:"summary"`
	Details  string `json:"details,omitempty"`
	Mode     string `json:"mode"`
	Urgency  string `json:"urgency"`
	DedupKey string `json:"dedup_key,omitempty"`
	// EscalateAfterSeconds, when not zero, overrides the wait before each
	// next medium or step.
	EscalateAfterSeconds int        `json:"escalate_after_seconds,omitempty"`
	RequestedBy          string     `json:"requested_by,omitempty"`
	Status               string     `json:"status"`
	CreatedAt            time.Time  `json:"created_at"`
	AckedAt              *time.Time `json:"acked_at,omitempty"`
	AckedBy              string     `json:"acked_by,omitempty"`
	ResolvedAt           *time.Time `json:"resolved_at,omitempty"`
	ResolvedBy           string     `json:"resolved_by,omitempty"`
}

// SettledBy is who acknowledged the page or, once it is resolved, who
// resolved it; "" while nobody has.
func (p Page) SettledBy() string {
	if p.Status == StatusResolved {
		return p.ResolvedBy
	}
	return p.AckedBy
}

// Kinds of page event.
const (
	EventCreated   = "created"
	EventStep      = "step"
	EventNotified  = "notified"
	EventFailed    = "failed"
	EventCanceled  = "canceled"
	EventDelivery  = "delivery"
	EventReply     = "reply"
	EventAcked     = "acked"
	EventResolved  = "resolved"
	EventSkipped   = "skipped"
	EventExhausted = "exhausted"
)

// Event is one entry of a page's timeline.
type Event struct {
	Kind string `json:"kind"`
	// Key makes recording idempotent within the page; empty never collides.
	Key       string        `json:"-"`
	User      string        `json:"user,omitempty"`
	Medium    klaxon.Medium `json:"medium,omitempty"`
	Contact   string        `json:"contact,omitempty"`
	MessageID string        `json:"message_id,omitempty"`
	Detail    string        `json:"detail,omitempty"`
	// At is when it happened; zero when recording means "now".
	At time.Time `json:"at"`
}
