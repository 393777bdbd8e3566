package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/paging"
)

// Service is a monitored thing whose alerts page a target, reached through
// its integration key (kept only as a hash).
type Service struct {
	ID           int64
	Name         string
	Target       string
	KeyHash      string
	CreatedAt    time.Time
	KeyRotatedAt time.Time
}

const serviceColumns = `id, name, target, key_hash, created_at, key_rotated_at`

func scanService(r pgx.Row) (Service, error) {
	var s Service
	err := r.Scan(&s.ID, &s.Name, &s.Target, &s.KeyHash, &s.CreatedAt, &s.KeyRotatedAt)
	return s, err
}

// CreateService records a service; a taken name is klaxon.EConflict.
func (s *Store) CreateService(ctx context.Context, name, target, keyHash string) (Service, error) {
	sv, err := scanService(s.pool.QueryRow(ctx, `
		INSERT INTO services (name, target, key_hash) VALUES ($1, $2, $3) RETURNING `+serviceColumns,
		name, target, keyHash))
	if isUniqueViolation(err, "services_name_key") {
		return sv, klaxon.Errorf(klaxon.EConflict, "A service named %q already exists.", name)
	}
	if err != nil {
		return sv, fmt.Errorf("create service: %w", err)
	}
	return sv, nil
}

// ServiceByName returns the service called name, or klaxon.ErrNotFound.
func (s *Store) ServiceByName(ctx context.Context, name string) (Service, error) {
	sv, err := scanService(s.pool.QueryRow(ctx, `SELECT `+serviceColumns+` FROM services WHERE name = $1`, name))
	if err != nil {
		return sv, fmt.Errorf("service %s: %w", name, notFound(err))
	}
	return sv, nil
}

// ServiceByKeyHash returns the service whose key hashes to keyHash, or
// klaxon.ErrNotFound.
func (s *Store) ServiceByKeyHash(ctx context.Context, keyHash string) (Service, error) {
	sv, err := scanService(s.pool.QueryRow(ctx, `SELECT `+serviceColumns+` FROM services WHERE key_hash = $1`, keyHash))
	if err != nil {
		return sv, fmt.Errorf("service by key: %w", notFound(err))
	}
	return sv, nil
}

// Services lists every service by name.
func (s *Store) Services(ctx context.Context) ([]Service, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+serviceColumns+` FROM services ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Service, error) { return scanService(r) })
	if err != nil {
		return nil, fmt.Errorf("list services: %w", err)
	}
	return out, nil
}

// RotateServiceKey replaces a service's key hash: the old key stops working
// at once.
func (s *Store) RotateServiceKey(ctx context.Context, name, keyHash string) (Service, error) {
	sv, err := scanService(s.pool.QueryRow(ctx, `
		UPDATE services SET key_hash = $2, key_rotated_at = now() WHERE name = $1 RETURNING `+serviceColumns, name, keyHash))
	if err != nil {
		return sv, fmt.Errorf("rotate key of %s: %w", name, notFound(err))
	}
	return sv, nil
}

// DeleteService removes a service; its pages stay, unlinked.
func (s *Store) DeleteService(ctx context.Context, name string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM services WHERE name = $1`, name)
	if err != nil {
		return fmt.Errorf("delete service %s: %w", name, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete service %s: %w", name, klaxon.ErrNotFound)
	}
	return nil
}

// LinkServicePage records that service opened page. Linking again is a
// no-op.
func (s *Store) LinkServicePage(ctx context.Context, serviceID, pageID int64) error {
	if _, err := s.pool.Exec(ctx, `
		INSERT INTO service_pages (page_id, service_id) VALUES ($1, $2) ON CONFLICT (page_id) DO NOTHING`, pageID, serviceID); err != nil {
		return fmt.Errorf("link page %d to service: %w", pageID, err)
	}
	return nil
}

// LatestPageByDedupKey returns the most recent page with the key, whatever
// its status, or klaxon.ErrNotFound.
func (s *Store) LatestPageByDedupKey(ctx context.Context, key string) (paging.Page, error) {
	p, err := scanPage(s.pool.QueryRow(ctx, `
		SELECT `+pageColumns+` FROM pages WHERE dedup_key = $1 ORDER BY created_at DESC, id DESC LIMIT 1`, key))
	if err != nil {
		return p, fmt.Errorf("page by dedup key: %w", notFound(err))
	}
	return p, nil
}

// UpdatePageText replaces a live page's summary and details (an alert group
// that changed) and notes it in the timeline under key, once per key. It
// reports whether anything changed.
func (s *Store) UpdatePageText(ctx context.Context, pageID int64, summary, details, key string) (bool, error) {
	var changed bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `
			UPDATE pages SET summary = $2, details = $3
			WHERE id = $1 AND status <> 'resolved' AND (summary <> $2 OR details <> $3)`, pageID, summary, details)
		if err != nil {
			return err
		}
		if changed = tag.RowsAffected() == 1; !changed {
			return nil
		}
		_, err = tx.Exec(ctx, `
			INSERT INTO page_events (page_id, kind, key, detail) VALUES ($1, 'updated', $2, $3)
			ON CONFLICT (page_id, key) DO NOTHING`, pageID, key, summary)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("update page %d: %w", pageID, err)
	}
	return changed, nil
}

// NotePageEvent adds a timeline entry to a page, once per key.
func (s *Store) NotePageEvent(ctx context.Context, pageID int64, kind, key, detail string) error {
	if _, err := s.pool.Exec(ctx, `
		INSERT INTO page_events (page_id, kind, key, detail) VALUES ($1, $2, $3, $4)
		ON CONFLICT (page_id, key) DO NOTHING`, pageID, kind, key, detail); err != nil {
		return fmt.Errorf("note page %d event: %w", pageID, err)
	}
	return nil
}
