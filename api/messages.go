package api

import (
	"time"

	"github.com/klaxonhq/klaxon"
)

// CreateMessageRequest is the body of POST /api/v1/messages.
type CreateMessageRequest struct {
	Channel string `json:"channel"`
	To      string `json:"to"`
	Body    string `json:"body"`
	Subject string `json:"subject,omitempty"`
}

// MessageCreated answers POST /api/v1/messages (202).
type MessageCreated struct {
	ID         string `json:"id"`
	Status     string `json:"status"`
	WorkflowID string `json:"workflow_id"`
}

// Message is GET /api/v1/messages/{id}: the message, its attempts and the
// provider's status callbacks.
type Message struct {
	ID           string        `json:"id"`
	Medium       klaxon.Medium `json:"medium"`
	From         string        `json:"from,omitempty"`
	To           string        `json:"to"`
	Subject      string        `json:"subject,omitempty"`
	Body         string        `json:"body"`
	ThreadKey    string        `json:"thread_key,omitempty"`
	Priority     int           `json:"priority,omitempty"`
	IgnoreOptOut bool          `json:"ignore_opt_out,omitempty"`
	Purpose      string        `json:"purpose,omitempty"`
	Ref          string        `json:"ref,omitempty"`
	Status       string        `json:"status"`
	ProviderID   string        `json:"provider_id,omitempty"`
	ErrorKind    string        `json:"error_kind,omitempty"`
	ErrorCode    string        `json:"error_code,omitempty"`
	ErrorReason  string        `json:"error_reason,omitempty"`
	CreatedAt    time.Time     `json:"created_at"`
	UpdatedAt    time.Time     `json:"updated_at"`
	Channel      klaxon.Medium `json:"channel"`
	Attempts     []Attempt     `json:"attempts"`
	Events       []StatusEvent `json:"events"`
}

// Attempt is one try to hand a message to its provider.
type Attempt struct {
	Lane        string     `json:"lane"`
	Attempt     int        `json:"attempt"`
	StartedAt   time.Time  `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at,omitempty"`
	Outcome     string     `json:"outcome"`
	ProviderID  string     `json:"provider_id,omitempty"`
	ErrorKind   string     `json:"error_kind,omitempty"`
	ErrorCode   string     `json:"error_code,omitempty"`
	ErrorReason string     `json:"error_reason,omitempty"`
}

// StatusEvent is one provider status callback.
type StatusEvent struct {
	Status     string    `json:"status"`
	Detail     string    `json:"detail,omitempty"`
	ErrorCode  string    `json:"error_code,omitempty"`
	ReceivedAt time.Time `json:"received_at"`
}

// OTPRequest is the body of POST /api/v1/otp: a phone number or a user.
type OTPRequest struct {
	Phone string `json:"phone,omitempty"`
	User  string `json:"user,omitempty"`
}

// OTPSent answers POST /api/v1/otp (201).
type OTPSent struct {
	ID string `json:"id"`
	// ExpiresIn is the code's life in seconds.
	ExpiresIn int `json:"expires_in"`
}

// CodeRequest is the body of every code check: POST /api/v1/otp/{id}/check
// and POST /api/v1/contacts/{id}/verify. A nil Code is a missing field.
type CodeRequest struct {
	Code *string `json:"code"`
}

// OTPCheck answers POST /api/v1/otp/{id}/check.
type OTPCheck struct {
	Valid bool `json:"valid"`
}
