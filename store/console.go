package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/paging"
)

// ConsoleSession is a signed-in browser of the web console. UserID is 0
// for a maintainer who signed in with the API token alone.
type ConsoleSession struct {
	UserID    int64
	Handle    string
	Admin     bool
	CSRF      string
	ExpiresAt time.Time
}

// CreateSession records a console session under the hash of its token.
func (s *Store) CreateSession(ctx context.Context, tokenHash []byte, userID int64, admin bool, csrf string, expires time.Time) error {
	if _, err := s.pool.Exec(ctx, `
		INSERT INTO console_sessions (token_hash, user_id, admin, csrf, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		tokenHash, nullable(userID), admin, csrf, expires); err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// SessionByHash returns the live session whose token hashes to tokenHash,
// or klaxon.ErrNotFound (none, or expired at now).
func (s *Store) SessionByHash(ctx context.Context, tokenHash []byte, now time.Time) (ConsoleSession, error) {
	var cs ConsoleSession
	var uid *int64
	err := s.pool.QueryRow(ctx, `
		SELECT s.user_id, COALESCE(u.handle, ''), s.admin, s.csrf, s.expires_at
		FROM console_sessions s LEFT JOIN users u ON u.id = s.user_id
		WHERE s.token_hash = $1 AND s.expires_at > $2 AND (u.id IS NULL OR u.active)`, tokenHash, now).
		Scan(&uid, &cs.Handle, &cs.Admin, &cs.CSRF, &cs.ExpiresAt)
	if err != nil {
		return cs, fmt.Errorf("session: %w", notFound(err))
	}
	if uid != nil {
		cs.UserID = *uid
	}
	return cs, nil
}

// MakeSessionAdmin lets a session see the admin pages.
func (s *Store) MakeSessionAdmin(ctx context.Context, tokenHash []byte) error {
	if _, err := s.pool.Exec(ctx, `UPDATE console_sessions SET admin = true WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("admin session: %w", err)
	}
	return nil
}

// DeleteSession ends one session.
func (s *Store) DeleteSession(ctx context.Context, tokenHash []byte) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM console_sessions WHERE token_hash = $1`, tokenHash); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}

// SignOutEverywhere ends every session of a user and forgets every device
// they trusted.
func (s *Store) SignOutEverywhere(ctx context.Context, userID int64) error {
	return s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM console_sessions WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("sign out everywhere: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM console_devices WHERE user_id = $1`, userID); err != nil {
			return fmt.Errorf("sign out everywhere: %w", err)
		}
		return nil
	})
}

// TrustDevice records a device a user trusts until expires.
func (s *Store) TrustDevice(ctx context.Context, tokenHash []byte, userID int64, expires time.Time) error {
	if _, err := s.pool.Exec(ctx, `
		INSERT INTO console_devices (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`, tokenHash, userID, expires); err != nil {
		return fmt.Errorf("trust device: %w", err)
	}
	return nil
}

// TrustedDevice reports whether the device token hashing to tokenHash is
// trusted by userID at now.
func (s *Store) TrustedDevice(ctx context.Context, tokenHash []byte, userID int64, now time.Time) (bool, error) {
	var ok bool
	err := s.pool.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM console_devices WHERE token_hash = $1 AND user_id = $2 AND expires_at > $3)`,
		tokenHash, userID, now).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("trusted device: %w", err)
	}
	return ok, nil
}

// ConsoleLogin is a sign-in waiting for its login code.
type ConsoleLogin struct {
	UserID      int64
	ChallengeID string
	Trust       bool
}

// StartLogin ties a login code's challenge to the browser holding the
// token that hashes to tokenHash.
func (s *Store) StartLogin(ctx context.Context, tokenHash []byte, l ConsoleLogin, expires time.Time) error {
	if _, err := s.pool.Exec(ctx, `
		INSERT INTO console_logins (token_hash, user_id, challenge_id, trust, expires_at) VALUES ($1, $2, $3, $4, $5)`,
		tokenHash, l.UserID, l.ChallengeID, l.Trust, expires); err != nil {
		return fmt.Errorf("start login: %w", err)
	}
	return nil
}

// LoginByHash returns the pending sign-in of a browser, or
// klaxon.ErrNotFound.
func (s *Store) LoginByHash(ctx context.Context, tokenHash []byte, now time.Time) (ConsoleLogin, error) {
	var l ConsoleLogin
	err := s.pool.QueryRow(ctx, `
		SELECT user_id, challenge_id, trust FROM console_logins WHERE token_hash = $1 AND expires_at > $2`,
		tokenHash, now).Scan(&l.UserID, &l.ChallengeID, &l.Trust)
	if err != nil {
		return l, fmt.Errorf("login: %w", notFound(err))
	}
	return l, nil
}

// FinishLogin forgets a pending sign-in (and every expired one).
func (s *Store) FinishLogin(ctx context.Context, tokenHash []byte, now time.Time) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM console_logins WHERE token_hash = $1 OR expires_at <= $2`, tokenHash, now); err != nil {
		return fmt.Errorf("finish login: %w", err)
	}
	return nil
}

// AckLink is a one-click acknowledge link of a page email.
type AckLink struct {
	PageID int64
	// Handle is whom the email went to: the acknowledgement is theirs.
	Handle string
	UsedAt *time.Time
}

// CreateAckLink records the hash of a page email's acknowledge link.
func (s *Store) CreateAckLink(ctx context.Context, tokenHash []byte, pageID int64, messageID, handle string) error {
	if _, err := s.pool.Exec(ctx, `
		INSERT INTO ack_links (token_hash, page_id, message_id, user_handle) VALUES ($1, $2, $3, $4)`,
		tokenHash, pageID, messageID, handle); err != nil {
		return fmt.Errorf("create ack link: %w", err)
	}
	return nil
}

// AckLinkByHash returns the link whose token hashes to tokenHash, or
// klaxon.ErrNotFound.
func (s *Store) AckLinkByHash(ctx context.Context, tokenHash []byte) (AckLink, error) {
	var l AckLink
	err := s.pool.QueryRow(ctx, `SELECT page_id, user_handle, used_at FROM ack_links WHERE token_hash = $1`, tokenHash).
		Scan(&l.PageID, &l.Handle, &l.UsedAt)
	if err != nil {
		return l, fmt.Errorf("ack link: %w", notFound(err))
	}
	return l, nil
}

// UseAckLink marks a link used, once: false when it already was (or does
// not exist).
func (s *Store) UseAckLink(ctx context.Context, tokenHash []byte) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE ack_links SET used_at = now() WHERE token_hash = $1 AND used_at IS NULL`, tokenHash)
	if err != nil {
		return false, fmt.Errorf("use ack link: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// PageFilter narrows the console's page list; empty fields match any.
type PageFilter struct {
	Status  string
	Service string
	Target  string
	Limit   int
}

// ListedPage is a page of the console's list, with the service that opened
// it, if one did.
type ListedPage struct {
	paging.Page
	Service string
}

// FilterPages returns pages matching f, newest first.
func (s *Store) FilterPages(ctx context.Context, f PageFilter) ([]ListedPage, error) {
	if f.Limit <= 0 {
		f.Limit = 100
	}
	rows, err := s.pool.Query(ctx, `
		SELECT p.id, p.target, p.summary, p.details, p.mode, p.urgency, COALESCE(p.dedup_key, ''),
			COALESCE(p.escalate_after_seconds, 0), p.requested_by, p.status, p.created_at, p.acked_at, p.acked_by,
			p.resolved_at, p.resolved_by, COALESCE(sv.name, '')
		FROM pages p
		LEFT JOIN service_pages sp ON sp.page_id = p.id
		LEFT JOIN services sv ON sv.id = sp.service_id
		WHERE ($1 = '' OR p.status = $1) AND ($2 = '' OR sv.name = $2) AND ($3 = '' OR p.target = $3)
		ORDER BY p.id DESC LIMIT $4`, f.Status, f.Service, f.Target, f.Limit)
	if err != nil {
		return nil, fmt.Errorf("filter pages: %w", err)
	}
	ps, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ListedPage, error) {
		var p ListedPage
		err := r.Scan(&p.ID, &p.Target, &p.Summary, &p.Details, &p.Mode, &p.Urgency, &p.DedupKey,
			&p.EscalateAfterSeconds, &p.RequestedBy, &p.Status, &p.CreatedAt, &p.AckedAt, &p.AckedBy, &p.ResolvedAt,
			&p.ResolvedBy, &p.Service)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("filter pages: %w", err)
	}
	return ps, nil
}

// DeleteContact removes one of a user's contact methods; another user's or
// a missing one is klaxon.ErrNotFound.
func (s *Store) DeleteContact(ctx context.Context, userID, contactID int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM contact_methods WHERE id = $1 AND user_id = $2`, contactID, userID)
	if err != nil {
		return fmt.Errorf("delete contact: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete contact: %w", klaxon.ErrNotFound)
	}
	return nil
}
