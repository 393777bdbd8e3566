package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon/paging"
)

// UserByVerifiedPhone returns the user one of whose verified SMS or voice
// contact methods is number, or klaxon.ErrNotFound.
func (s *Store) UserByVerifiedPhone(ctx context.Context, number string) (User, error) {
	var u User
	err := s.pool.QueryRow(ctx, `
		SELECT u.id, u.handle, u.name, u.timezone, u.created_at FROM users u
		JOIN contact_methods c ON c.user_id = u.id
		WHERE c.address = $1 AND c.type IN ('sms', 'voice') AND c.status = 'verified'
		ORDER BY u.id LIMIT 1`, number).Scan(&u.ID, &u.Handle, &u.Name, &u.Timezone, &u.CreatedAt)
	if err != nil {
		return u, fmt.Errorf("user by phone: %w", notFound(err))
	}
	return u, nil
}

// CallerPage is an unresolved page a phone has a reply code for, as a
// dial-in reads it.
type CallerPage struct {
	paging.Page
	// Code is the phone's reply code of the page ("3" of "3a").
	Code int
}

// CallerPages lists the unresolved pages number has live reply codes for,
// newest first.
func (s *Store) CallerPages(ctx context.Context, number string) ([]CallerPage, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT rc.code, p.id, p.target, p.summary, p.details, p.mode, p.urgency, COALESCE(p.dedup_key, ''),
			COALESCE(p.escalate_after_seconds, 0), p.requested_by, p.status, p.created_at, p.acked_at, p.acked_by,
			p.resolved_at, p.resolved_by
		FROM page_reply_codes rc JOIN pages p ON p.id = rc.page_id
		WHERE rc.phone = $1 AND rc.freed_at IS NULL AND p.status <> 'resolved'
		ORDER BY p.created_at DESC, p.id DESC LIMIT 50`, number)
	if err != nil {
		return nil, fmt.Errorf("pages of caller: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (CallerPage, error) {
		var cp CallerPage
		p := &cp.Page
		err := r.Scan(&cp.Code, &p.ID, &p.Target, &p.Summary, &p.Details, &p.Mode, &p.Urgency, &p.DedupKey,
			&p.EscalateAfterSeconds, &p.RequestedBy, &p.Status, &p.CreatedAt, &p.AckedAt, &p.AckedBy, &p.ResolvedAt, &p.ResolvedBy)
		return cp, err
	})
	if err != nil {
		return nil, fmt.Errorf("pages of caller: %w", err)
	}
	return out, nil
}
