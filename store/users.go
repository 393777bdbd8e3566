package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon"
)

// User is a person Klaxon can reach.
type User struct {
	ID       int64
	Handle   string
	Name     string
	Timezone string
	// Nick is what the chat bridge knows the user by; it defaults to the
	// handle and is unique without regard to case.
	Nick string
	// MatrixID is the user's Matrix id (@name:server), if linked.
	MatrixID string
	// IRCAccount is the services account an IRC server vouches for, when
	// it differs from the nick.
	IRCAccount string
	// Source is where the user came from: SourceAPI or SourceLDAP.
	Source string
	// LDAPDN is the directory entry a synchronised user comes from.
	LDAPDN string
	// Active is false for people removed from the directory: they are
	// paged no more, and their history is kept.
	Active        bool
	DeactivatedAt *time.Time
	CreatedAt     time.Time
}

// User sources.
const (
	SourceAPI  = "api"
	SourceLDAP = "ldap"
)

// userColumns are the columns scanUser reads, in its order.
const userColumns = `id, handle, name, timezone, nick, coalesce(matrix_id, ''), coalesce(irc_account, ''),
	source, coalesce(ldap_dn, ''), active, deactivated_at, created_at`

func scanUser(r pgx.Row) (User, error) {
	var u User
	err := r.Scan(&u.ID, &u.Handle, &u.Name, &u.Timezone, &u.Nick, &u.MatrixID, &u.IRCAccount,
		&u.Source, &u.LDAPDN, &u.Active, &u.DeactivatedAt, &u.CreatedAt)
	return u, err
}

// Contact is one way to reach a user.
type Contact struct {
	ID         int64         `json:"id"`
	UserID     int64         `json:"user_id"`
	Type       klaxon.Medium `json:"type"`
	Address    string        `json:"address"`
	Status     string        `json:"status"`
	VerifiedAt *time.Time    `json:"verified_at,omitempty"`
	CreatedAt  time.Time     `json:"created_at"`
}

// Contact statuses.
const (
	ContactPending  = "pending"
	ContactVerified = "verified"
)

// CreateUser adds a user. A taken handle, nick or Matrix id is an
// EConflict error. An empty nick is the handle; an empty source is
// SourceAPI.
func (s *Store) CreateUser(ctx context.Context, u User) (User, error) {
	if u.Nick == "" {
		u.Nick = u.Handle
	}
	if u.Source == "" {
		u.Source = SourceAPI
	}
	row := s.pool.QueryRow(ctx, `
		INSERT INTO users (handle, name, timezone, nick, matrix_id, irc_account, source, ldap_dn)
		VALUES ($1, $2, $3, $4, nullif($5, ''), nullif($6, ''), $7, nullif($8, ''))
		RETURNING `+userColumns, u.Handle, u.Name, u.Timezone, u.Nick, u.MatrixID, u.IRCAccount, u.Source, u.LDAPDN)
	out, err := scanUser(row)
	if err != nil {
		return u, fmt.Errorf("create user: %w", userConflict(err, u))
	}
	return out, nil
}

// userConflict turns a unique violation on users into an EConflict error
// naming what is taken.
func userConflict(err error, u User) error {
	switch {
	case isUniqueViolation(err, "users_nick_lower"):
		return klaxon.Errorf(klaxon.EConflict, "The nick %q is taken.", u.Nick)
	case isUniqueViolation(err, "users_matrix_id"):
		return klaxon.Errorf(klaxon.EConflict, "The Matrix id %q belongs to another user.", u.MatrixID)
	case isUniqueViolation(err, "users_ldap_dn"):
		return klaxon.Errorf(klaxon.EConflict, "Another user comes from the directory entry %q.", u.LDAPDN)
	case isUniqueViolation(err, ""):
		return klaxon.Errorf(klaxon.EConflict, "The handle %q is taken.", u.Handle)
	}
	return err
}

// UserPatch is a change to a user; nil fields are left as they are, and an
// empty MatrixID or IRCAccount clears it.
type UserPatch struct {
	Name       *string
	Timezone   *string
	Nick       *string
	MatrixID   *string
	IRCAccount *string
	// Active reactivates (true) or deactivates (false) the user.
	Active *bool
}

// UpdateUser applies patch to the user with handle and returns the user as
// it now is: klaxon.ErrNotFound when there is none, EConflict when a nick
// or Matrix id is taken.
func (s *Store) UpdateUser(ctx context.Context, handle string, patch UserPatch) (User, error) {
	row := s.pool.QueryRow(ctx, `
		UPDATE users SET
			name        = coalesce($2, name),
			timezone    = coalesce($3, timezone),
			nick        = coalesce($4, nick),
			matrix_id   = CASE WHEN $5::text IS NULL THEN matrix_id ELSE nullif($5, '') END,
			irc_account = CASE WHEN $6::text IS NULL THEN irc_account ELSE nullif($6, '') END,
			active      = coalesce($7, active),
			deactivated_at = CASE
				WHEN $7::boolean IS NULL THEN deactivated_at
				WHEN $7 THEN NULL
				ELSE coalesce(deactivated_at, now()) END
		WHERE handle = $1
		RETURNING `+userColumns, handle, patch.Name, patch.Timezone, patch.Nick, patch.MatrixID, patch.IRCAccount, patch.Active)
	u, err := scanUser(row)
	if err != nil {
		var want User
		if patch.Nick != nil {
			want.Nick = *patch.Nick
		}
		if patch.MatrixID != nil {
			want.MatrixID = *patch.MatrixID
		}
		return u, fmt.Errorf("update user: %w", notFound(userConflict(err, want)))
	}
	return u, nil
}

// UserByHandle returns the user with handle, or klaxon.ErrNotFound.
func (s *Store) UserByHandle(ctx context.Context, handle string) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE handle = $1`, handle))
	if err != nil {
		return u, fmt.Errorf("user by handle: %w", notFound(err))
	}
	return u, nil
}

// UserByNick returns the user whose nick is nick, without regard to case,
// or klaxon.ErrNotFound.
func (s *Store) UserByNick(ctx context.Context, nick string) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE lower(nick) = lower($1)`, nick))
	if err != nil {
		return u, fmt.Errorf("user by nick: %w", notFound(err))
	}
	return u, nil
}

// UserByMatrixID returns the user linked to a Matrix id, or
// klaxon.ErrNotFound.
func (s *Store) UserByMatrixID(ctx context.Context, matrixID string) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE matrix_id = $1`, matrixID))
	if err != nil {
		return u, fmt.Errorf("user by matrix id: %w", notFound(err))
	}
	return u, nil
}

// UserByID returns the user with id, or klaxon.ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	u, err := scanUser(s.pool.QueryRow(ctx, `SELECT `+userColumns+` FROM users WHERE id = $1`, id))
	if err != nil {
		return u, fmt.Errorf("user by id: %w", notFound(err))
	}
	return u, nil
}

// ListUsers returns every user, by handle.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+userColumns+` FROM users ORDER BY handle`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) { return scanUser(r) })
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return users, nil
}

// AddContact adds a pending contact method, or returns the existing one for
// the same user, type and address.
func (s *Store) AddContact(ctx context.Context, c Contact) (Contact, error) {
	err := s.pool.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO contact_methods (user_id, type, address) VALUES ($1, $2, $3)
			ON CONFLICT (user_id, type, address) DO NOTHING
			RETURNING id, status, verified_at, created_at
		)
		SELECT id, status, verified_at, created_at FROM ins
		UNION ALL
		SELECT id, status, verified_at, created_at FROM contact_methods
		WHERE user_id = $1 AND type = $2 AND address = $3 AND NOT EXISTS (SELECT 1 FROM ins)`,
		c.UserID, c.Type, c.Address).Scan(&c.ID, &c.Status, &c.VerifiedAt, &c.CreatedAt)
	if err != nil {
		return c, fmt.Errorf("add contact: %w", err)
	}
	return c, nil
}

// ContactByID returns a contact method, or klaxon.ErrNotFound.
func (s *Store) ContactByID(ctx context.Context, id int64) (Contact, error) {
	var c Contact
	err := s.pool.QueryRow(ctx, `
		SELECT id, user_id, type, address, status, verified_at, created_at
		FROM contact_methods WHERE id = $1`, id).
		Scan(&c.ID, &c.UserID, &c.Type, &c.Address, &c.Status, &c.VerifiedAt, &c.CreatedAt)
	if err != nil {
		return c, fmt.Errorf("contact by id: %w", notFound(err))
	}
	return c, nil
}

// Contacts returns a user's contact methods; verifiedOnly keeps only the
// ones that may be paged. They come in a stable order: sms, voice, email,
// then oldest first.
func (s *Store) Contacts(ctx context.Context, userID int64, verifiedOnly bool) ([]Contact, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, user_id, type, address, status, verified_at, created_at
		FROM contact_methods
		WHERE user_id = $1 AND ($2 = false OR status = 'verified')
		ORDER BY CASE type WHEN 'sms' THEN 0 WHEN 'voice' THEN 1 ELSE 2 END, created_at, id`, userID, verifiedOnly)
	if err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	cs, err := pgx.CollectRows(rows, scanContact)
	if err != nil {
		return nil, fmt.Errorf("contacts: %w", err)
	}
	return cs, nil
}

// VerifiedContactsByAddress returns the verified contact methods with the
// given address (a phone number texting in, say), with their users.
func (s *Store) VerifiedContactsByAddress(ctx context.Context, address string) ([]Contact, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, user_id, type, address, status, verified_at, created_at
		FROM contact_methods WHERE address = $1 AND status = 'verified' ORDER BY id`, address)
	if err != nil {
		return nil, fmt.Errorf("contacts by address: %w", err)
	}
	cs, err := pgx.CollectRows(rows, scanContact)
	if err != nil {
		return nil, fmt.Errorf("contacts by address: %w", err)
	}
	return cs, nil
}

// MarkContactVerified marks a contact method verified.
func (s *Store) MarkContactVerified(ctx context.Context, id int64) error {
	tag, err := s.pool.Exec(ctx, `
		UPDATE contact_methods SET status = 'verified', verified_at = COALESCE(verified_at, now()) WHERE id = $1`, id)
	if err != nil {
		return fmt.Errorf("mark contact verified: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("mark contact verified: %w", klaxon.ErrNotFound)
	}
	return nil
}

func scanContact(r pgx.CollectableRow) (Contact, error) {
	var c Contact
	err := r.Scan(&c.ID, &c.UserID, &c.Type, &c.Address, &c.Status, &c.VerifiedAt, &c.CreatedAt)
	return c, err
}
