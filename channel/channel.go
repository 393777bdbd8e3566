package channel

import "time"

// Channel kinds: a regular channel, or one of the two system channels.
const (
	KindRegular     = "regular"
	KindSignup      = "signup"
	KindDiagnostics = "diagnostics"
)

// Member roles, as stored.
const (
	MemberAdmin      = string(RoleAdmin)
	MemberSubscriber = string(RoleSubscriber)
)

// Channel is an SMS channel. Listings carry counts, never members. Its
// number is one of Klaxon's own.
type Channel struct {
	ID          int64      `json:"id"`
	Phone       string     `json:"phone"`
	Kind        string     `json:"kind"`
	HotlineOn   bool       `json:"hotline_on"`
	Admins      int        `json:"admins"`
	Subscribers int        `json:"subscribers"`
	CreatedAt   time.Time  `json:"created_at"`
	DeletedAt   *time.Time `json:"deleted_at,omitempty"`
}

// Member is someone on a channel. Its ID, not its number, names it in
// message ids, logs and workflows ("member:ID"); Phone is filled only at
// the edge (and in histories recorded before references).
type Member struct {
	ID    int64  `json:"id"`
	Phone string `json:"phone"`
	Role  string `json:"role"`
}
