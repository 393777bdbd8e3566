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
	// Nick is the user's chat nick; it defaults to the handle.
	Nick string `json:"nick,omitempty"`
	// MatrixID links the user's Matrix account (@name:server).
	MatrixID   string `json:"matrix_id,omitempty"`
	IRCAccount string `json:"irc_account,omitempty"`
}

// UserPatch is the body of PATCH /api/v1/users/{handle}: the fields
// present are changed; an empty matrix_id or irc_account unlinks it.
type UserPatch struct {
	Name       *string `json:"name,omitempty"`
	Timezone   *string `json:"timezone,omitempty"`
	Nick       *string `json:"nick,omitempty"`
	MatrixID   *string `json:"matrix_id,omitempty"`
	IRCAccount *string `json:"irc_account,omitempty"`
	// Active reactivates (true) or deactivates (false) a user.
	Active *bool `json:"active,omitempty"`
}

// User is a person Klaxon can reach, as GET /api/v1/users lists them.
type User struct {
	ID         int64  `json:"id"`
	Handle     string `json:"handle"`
	Name       string `json:"name"`
	Timezone   string `json:"timezone"`
	Nick       string `json:"nick"`
	MatrixID   string `json:"matrix_id,omitempty"`
	IRCAccount string `json:"irc_account,omitempty"`
	// Source is "api" or "ldap": where the user's record is kept.
	Source string `json:"source"`
	// LDAPDN is the directory entry a user synchronised from LDAP comes
	// from.
	LDAPDN string `json:"ldap_dn,omitempty"`
	// Active is false for people removed from the directory.
	Active        bool       `json:"active"`
	DeactivatedAt *time.Time `json:"deactivated_at,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
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
