package api

import (
	"time"

	"github.com/klaxonhq/klaxon"
)

// CreatePageRequest is the body of POST /api/v1/pages.
type CreatePageRequest struct {
	Target   string `json:"target"`
	Summary  string `json:"summary"`
	Details  string `json:"details,omitempty"`
	DedupKey string `json:"dedup_key,omitempty"`
	Mode     string `json:"mode,omitempty"`
	// Urgency is "high" (the default: escalates) or "low" (one text per
	// person, never a call).
	Urgency              string `json:"urgency,omitempty"`
	EscalateAfterSeconds *int   `json:"escalate_after_seconds,omitempty"`
}

// PageCreated answers POST /api/v1/pages: 202 for a new page, 200 for the
// live page with the same dedup key.
type PageCreated struct {
	ID         int64  `json:"id"`
	WorkflowID string `json:"workflow_id"`
	Status     string `json:"status"`
	// Deduplicated reports that a live page with the same dedup key was
	// returned instead of a new one.
	Deduplicated bool `json:"deduplicated"`
}

// Page is a page as GET /api/v1/pages lists it.
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

// PageDetail is GET /api/v1/pages/{id}: the page and its timeline.
type PageDetail struct {
	Page
	WorkflowID string      `json:"workflow_id"`
	Events     []PageEvent `json:"events"`
}

// PageEvent is one entry of a page's timeline.
type PageEvent struct {
	Kind      string        `json:"kind"`
	User      string        `json:"user,omitempty"`
	Medium    klaxon.Medium `json:"medium,omitempty"`
	Contact   string        `json:"contact,omitempty"`
	MessageID string        `json:"message_id,omitempty"`
	Detail    string        `json:"detail,omitempty"`
	At        time.Time     `json:"at"`
}

// PageList is GET /api/v1/pages.
type PageList struct {
	Pages []Page `json:"pages"`
}

// PageActionRequest is the body of POST /api/v1/pages/{id}/ack and /resolve.
type PageActionRequest struct {
	By string `json:"by,omitempty"`
}

// PageAction answers an acknowledgement or resolution.
type PageAction struct {
	ID      int64  `json:"id"`
	Status  string `json:"status"`
	AckedBy string `json:"acked_by,omitempty"`
	// ResolvedBy is set once resolved.
	ResolvedBy string `json:"resolved_by,omitempty"`
	// Changed is false when the page was already in that state.
	Changed bool   `json:"changed"`
	Message string `json:"message"`
}

// PolicyStep is one step of an escalation policy: whom to page, then how
// long to wait before the next step.
type PolicyStep struct {
	Targets      []string `json:"targets"`
	DelaySeconds int      `json:"delay_seconds"`
}

// PolicyRequest is the body of POST /api/v1/policies.
type PolicyRequest struct {
	Name   string       `json:"name"`
	Repeat int          `json:"repeat"`
	Steps  []PolicyStep `json:"steps"`
}

// Policy is an escalation policy: ordered steps, run again Repeat more times
// after the last one.
type Policy struct {
	ID        int64        `json:"id"`
	Name      string       `json:"name"`
	Repeat    int          `json:"repeat"`
	Steps     []PolicyStep `json:"steps"`
	CreatedAt time.Time    `json:"created_at"`
}

// PolicyList is GET /api/v1/policies.
type PolicyList struct {
	Policies []Policy `json:"policies"`
}

// NotificationRule is when one medium reaches a person, in seconds from
// their first notification of a page.
type NotificationRule struct {
	Medium       klaxon.Medium `json:"medium"`
	DelaySeconds int           `json:"delay_seconds"`
}

// NotificationRules is the body of PUT and the answer of GET
// /api/v1/users/{handle}/notification-rules. An empty list restores the
// defaults (text at once, call at 2 minutes, email at 5).
type NotificationRules struct {
	Rules []NotificationRule `json:"rules"`
}
