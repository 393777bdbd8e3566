package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/redact"
)

// Phone number states in the reserve pool.
const (
	NumberAvailable = "available"
	NumberInUse     = "in_use"
	NumberFailed    = "failed"
)

// Where a pool number came from.
const (
	SourceAdded       = "added"
	SourceProvisioned = "provisioned"
	SourceSystem      = "system"
)

// ErrNoNumbers is returned by ClaimNumber when the pool has no available
// number.
var ErrNoNumbers = errors.New("no phone number is available")

// Number is one phone number Klaxon owns, as the pool tracks it.
type Number struct {
	ID     int64  `json:"id"`
	Phone  string `json:"phone"`
	Status string `json:"status"`
	Source string `json:"source"`
	// Error says why a failed number failed.
	Error string `json:"error,omitempty"`
	// ChannelID is the live channel using the number, if any.
	ChannelID *int64    `json:"channel_id,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// AddNumber puts a number the maintainers own (its SMS webhook already
// pointing at Klaxon) into the pool, ready for a channel. Adding it again is
// harmless; a failed number, or one whose channel was deleted, becomes
// available again; one used by a live channel or a system channel is an
// EConflict error.
func (s *Store) AddNumber(ctx context.Context, number string) (Number, error) {
	var n Number
	var inUse bool
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO phone_numbers (phone) VALUES ($1) ON CONFLICT (phone) DO NOTHING`, number); err != nil {
			return err
		}
		err := tx.QueryRow(ctx, `
			SELECT p.id, p.status, p.source,
			       p.source = 'system' OR EXISTS (SELECT 1 FROM channels c WHERE c.phone = p.phone AND c.deleted_at IS NULL)
			FROM phone_numbers p WHERE p.phone = $1 FOR UPDATE`, number).Scan(&n.ID, &n.Status, &n.Source, &inUse)
		if err != nil || inUse || n.Status == NumberAvailable {
			return err
		}
		n.Status = NumberAvailable
		_, err = tx.Exec(ctx, `
			UPDATE phone_numbers SET status = 'available', claimed_by = NULL, error = '', updated_at = now()
			WHERE id = $1`, n.ID)
		return err
	})
	if err != nil {
		return n, fmt.Errorf("add number: %w", err)
	}
	if inUse {
		return n, klaxon.Errorf(klaxon.EConflict, "%s is already used by a channel.", number)
	}
	return s.numberByID(ctx, n.ID)
}

// RecordProvisioned adds a number bought from the provider to the pool,
// available.
func (s *Store) RecordProvisioned(ctx context.Context, number, providerSID string) (Number, error) {
	var id int64
	err := s.pool.QueryRow(ctx, `
		INSERT INTO phone_numbers (phone, source, provider_sid) VALUES ($1, 'provisioned', $2)
		ON CONFLICT (phone) DO UPDATE SET provider_sid = EXCLUDED.provider_sid, updated_at = now()
		RETURNING id`, number, providerSID).Scan(&id)
	if err != nil {
		return Number{}, fmt.Errorf("record provisioned number: %w", err)
	}
	return s.numberByID(ctx, id)
}

// RecordFailedNumber records a number that could not be provisioned, with
// the reason, so `klaxon number list` shows it.
func (s *Store) RecordFailedNumber(ctx context.Context, number, reason string) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO phone_numbers (phone, status, source, error) VALUES ($1, 'failed', 'provisioned', $2)
		ON CONFLICT (phone) DO UPDATE SET status = 'failed', error = EXCLUDED.error, updated_at = now()
		WHERE phone_numbers.status = 'failed'`, number, reason)
	if err != nil {
		return fmt.Errorf("record failed number: %w", err)
	}
	return nil
}

const numberColumns = `
	SELECT p.id, p.phone, p.status, p.source, p.error, c.id, p.created_at
	FROM phone_numbers p LEFT JOIN channels c ON c.phone = p.phone AND c.deleted_at IS NULL`

func scanNumber(r pgx.Row) (Number, error) {
	var n Number
	err := r.Scan(&n.ID, &n.Phone, &n.Status, &n.Source, &n.Error, &n.ChannelID, &n.CreatedAt)
	return n, err
}

func (s *Store) numberByID(ctx context.Context, id int64) (Number, error) {
	n, err := scanNumber(s.pool.QueryRow(ctx, numberColumns+` WHERE p.id = $1`, id))
	if err != nil {
		return n, fmt.Errorf("number by id: %w", notFound(err))
	}
	return n, nil
}

// ListNumbers returns every number Klaxon owns, oldest first.
func (s *Store) ListNumbers(ctx context.Context) ([]Number, error) {
	rows, err := s.pool.Query(ctx, numberColumns+` ORDER BY p.id`)
	if err != nil {
		return nil, fmt.Errorf("list numbers: %w", err)
	}
	ns, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Number, error) { return scanNumber(r) })
	if err != nil {
		return nil, fmt.Errorf("list numbers: %w", err)
	}
	return ns, nil
}

// ClaimNumber takes a number for the channel request requestID, atomically:
// two simultaneous requests never get the same number (the claim locks the
// row it takes and skips rows others hold; claimed_by is UNIQUE), and the
// same request claiming again gets the number it already has. want, if not
// empty, is the number to take (a maintainer's `channel create -p`): it is
// added to the pool if it is not there, and is an EConflict error if
// something else uses it. With want empty and no number available it
// returns ErrNoNumbers.
func (s *Store) ClaimNumber(ctx context.Context, requestID, want string) (string, error) {
	var got string
	var err error
	if want != "" {
		err = s.pool.QueryRow(ctx, `
			WITH prior AS (
				SELECT phone FROM phone_numbers WHERE claimed_by = $1
			), taken AS (
				INSERT INTO phone_numbers (phone, status, claimed_by)
				SELECT $2, 'in_use', $1 WHERE NOT EXISTS (SELECT 1 FROM prior)
				ON CONFLICT (phone) DO UPDATE SET status = 'in_use', claimed_by = $1, updated_at = now()
				WHERE phone_numbers.status = 'available'
				RETURNING phone
			)
			SELECT phone FROM prior UNION ALL SELECT phone FROM taken`, requestID, want).Scan(&got)
		if errors.Is(err, pgx.ErrNoRows) {
			return "", klaxon.Errorf(klaxon.EConflict, "%s is not available: it is used by a channel or marked failed.", want)
		}
	} else {
		err = s.pool.QueryRow(ctx, `
			WITH prior AS (
				SELECT phone FROM phone_numbers WHERE claimed_by = $1
			), taken AS (
				UPDATE phone_numbers SET status = 'in_use', claimed_by = $1, updated_at = now()
				WHERE status = 'available' AND NOT EXISTS (SELECT 1 FROM prior) AND id = (
					SELECT id FROM phone_numbers WHERE status = 'available'
					ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
				RETURNING phone
			)
			SELECT phone FROM prior UNION ALL SELECT phone FROM taken`, requestID).Scan(&got)
		if errors.Is(err, pgx.ErrNoRows) {
			return "", ErrNoNumbers
		}
	}
	if isUniqueViolation(err, "") {
		// A concurrent claim of the same request won: read what it took.
		err = s.pool.QueryRow(ctx, `SELECT phone FROM phone_numbers WHERE claimed_by = $1`, requestID).Scan(&got)
	}
	if err != nil {
		return "", fmt.Errorf("claim number: %w", err)
	}
	return got, nil
}

// ReleaseNumber returns the number claimed by requestID to the pool, unless
// a channel was made with it.
func (s *Store) ReleaseNumber(ctx context.Context, requestID string) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE phone_numbers SET status = 'available', claimed_by = NULL, updated_at = now()
		WHERE claimed_by = $1 AND NOT EXISTS (SELECT 1 FROM channels WHERE request_id = $1)`, requestID)
	if err != nil {
		return fmt.Errorf("release number: %w", err)
	}
	return nil
}

// PoolCounts returns how many numbers are available and how many regular
// channels are active: the figures the maintainers' notifications give.
func (s *Store) PoolCounts(ctx context.Context) (available, active int, err error) {
	err = s.pool.QueryRow(ctx, `
		SELECT (SELECT count(*) FROM phone_numbers WHERE status = 'available'),
		       (SELECT count(*) FROM channels WHERE kind = 'regular' AND deleted_at IS NULL)`).Scan(&available, &active)
	if err != nil {
		return 0, 0, fmt.Errorf("pool counts: %w", err)
	}
	return available, active, nil
}

// IsOurNumber reports whether number is one Klaxon owns: in the pool, or a
// channel's.
func (s *Store) IsOurNumber(ctx context.Context, number string) (bool, error) {
	var ours bool
	err := s.pool.QueryRow(ctx, `
		SELECT EXISTS (SELECT 1 FROM phone_numbers WHERE phone = $1)
		    OR EXISTS (SELECT 1 FROM channels WHERE phone = $1 AND deleted_at IS NULL)`, number).Scan(&ours)
	if err != nil {
		return false, fmt.Errorf("is our number %s: %w", redact.Number(number), err)
	}
	return ours, nil
}
