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
	ID        int64     `json:"id"`
	Handle    string    `json:"handle"`
	Name      string    `json:"name"`
	Timezone  string    `json:"timezone"`
	CreatedAt time.Time `json:"created_at"`
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

// CreateUser adds a user. A taken handle is an EConflict error.
func (s *Store) CreateUser(ctx context.Context, u User) (User, error) {
	err := s.pool.QueryRow(ctx, `
		INSERT INTO users (handle, name, timezone) VALUES ($1, $2, $3)
		RETURNING id, created_at`, u.Handle, u.Name, u.Timezone).Scan(&u.ID, &u.CreatedAt)
	if isUniqueViolation(err, "") {
		return u, klaxon.Errorf(klaxon.EConflict, "The handle %q is taken.", u.Handle)
	}
	if err != nil {
		return u, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// UserByHandle returns the user with handle, or klaxon.ErrNotFound.
func (s *Store) UserByHandle(ctx context.Context, handle string) (User, error) {
	var u User
	err := s.pool.QueryRow(ctx, `SELECT id, handle, name, timezone, created_at FROM users WHERE handle = $1`, handle).
		Scan(&u.ID, &u.Handle, &u.Name, &u.Timezone, &u.CreatedAt)
	if err != nil {
		return u, fmt.Errorf("user by handle: %w", notFound(err))
	}
	return u, nil
}

// UserByID returns the user with id, or klaxon.ErrNotFound.
func (s *Store) UserByID(ctx context.Context, id int64) (User, error) {
	var u User
	err := s.pool.QueryRow(ctx, `SELECT id, handle, name, timezone, created_at FROM users WHERE id = $1`, id).
		Scan(&u.ID, &u.Handle, &u.Name, &u.Timezone, &u.CreatedAt)
	if err != nil {
		return u, fmt.Errorf("user by id: %w", notFound(err))
	}
	return u, nil
}

// ListUsers returns every user, by handle.
func (s *Store) ListUsers(ctx context.Context) ([]User, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, handle, name, timezone, created_at FROM users ORDER BY handle`)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	users, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (User, error) {
		var u User
		err := r.Scan(&u.ID, &u.Handle, &u.Name, &u.Timezone, &u.CreatedAt)
		return u, err
	})
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
