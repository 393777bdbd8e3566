package api

import (
	"time"

	"github.com/klaxonhq/klaxon"
)

// UserRequest is the body of POST /api/v1/users.
type UserRequest struct {
	Handle   string `json:"handle"`
	Name     string `json:"name"`
	Timezone string `json:"timezone,omitempty"`
}

// User is a person Klaxon can reach, as GET /api/v1/users lists them.
type User struct {
	ID        int64     `json:"id"`
	Handle    string    `json:"handle"`
	Name      string    `json:"name"`
	Timezone  string    `json:"timezone"`
	CreatedAt time.Time `json:"created_at"`
}

// UserDetail is a user with their contact methods: GET
// /api/v1/users/{handle} and the answer of POST /api/v1/users.
type UserDetail struct {
	User
	Contacts []Contact `json:"contacts"`
}

// UserList is GET /api/v1/users.
type UserList struct {
	Users []User `json:"users"`
}

// ContactRequest is the body of POST /api/v1/users/{handle}/contacts.
type ContactRequest struct {
	Type    string `json:"type"`
	Address string `json:"address"`
}

// Contact is one way to reach a user, with its verification under way or
// last ended.
type Contact struct {
	ID           int64         `json:"id"`
	UserID       int64         `json:"user_id"`
	Type         klaxon.Medium `json:"type"`
	Address      string        `json:"address"`
	Status       string        `json:"status"`
	VerifiedAt   *time.Time    `json:"verified_at,omitempty"`
	CreatedAt    time.Time     `json:"created_at"`
	Verification *Verification `json:"verification,omitempty"`
}

// ContactList is GET /api/v1/users/{handle}/contacts.
type ContactList struct {
	Contacts []Contact `json:"contacts"`
}

// Verification is a contact's verification, without its code.
type Verification struct {
	ID           string     `json:"id"`
	Status       string     `json:"status"`
	Sends        int        `json:"sends"`
	AttemptsLeft int        `json:"attempts_left"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty"`
}

// ContactVerified answers POST /api/v1/contacts/{id}/verify.
type ContactVerified struct {
	ID     int64  `json:"id"`
	Status string `json:"status"`
}
