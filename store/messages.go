package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon"
)

// MessageRecord is a message as the audit log holds it.
type MessageRecord struct {
	klaxon.Message
	Status      string    `json:"status"`
	ProviderID  string    `json:"provider_id,omitempty"`
	ErrorKind   string    `json:"error_kind,omitempty"`
	ErrorCode   string    `json:"error_code,omitempty"`
	ErrorReason string    `json:"error_reason,omitempty"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
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

// CreateMessage records a new queued message. It is idempotent: the same id
// again changes nothing.
func (s *Store) CreateMessage(ctx context.Context, m klaxon.Message) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO messages (id, medium, sender, recipient, subject, body, thread_key, priority, purpose, ref)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (id) DO NOTHING`,
		m.ID, m.Medium, m.From, m.To, m.Subject, m.Body, m.ThreadKey, int(m.Priority), m.Purpose, m.Ref)
	if err != nil {
		return fmt.Errorf("create message: %w", err)
	}
	return nil
}

// AttemptState is what a sending activity needs to know before it calls the
// provider.
type AttemptState struct {
	// ProviderID is set when an earlier attempt was already accepted: the
	// message must not be sent again.
	ProviderID string
	// Status is the message's current status.
	Status string
	// OptedOut reports that the recipient texted STOP.
	OptedOut bool
	// Unsettled, when not zero, is when the earliest earlier attempt that
	// never recorded an outcome began: its worker may have died after the
	// provider took the message.
	Unsettled time.Time
}

// BeginAttempt records the message if it is new, records the start of one
// delivery attempt (once per lane and attempt number), and returns what the
// sender must check, all in one round trip.
func (s *Store) BeginAttempt(ctx context.Context, m klaxon.Message, lane string, attempt int) (AttemptState, error) {
	var st AttemptState
	var providerID *string
	var unsettled *time.Time
	err := s.pool.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO messages (id, medium, sender, recipient, subject, body, thread_key, priority, purpose, ref)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
			ON CONFLICT (id) DO NOTHING
			RETURNING provider_id, status
		), att AS (
			INSERT INTO delivery_attempts (message_id, lane, attempt)
			SELECT $1, $11, $12
			WHERE NOT EXISTS (SELECT 1 FROM messages WHERE id = $1 AND (provider_id IS NOT NULL OR status_rank >= 4))
			ON CONFLICT DO NOTHING
		), cur AS (
			SELECT provider_id, status FROM ins
			UNION ALL
			SELECT provider_id, status FROM messages WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM ins)
		)
		SELECT cur.provider_id, cur.status, EXISTS (SELECT 1 FROM opt_outs WHERE number = $4 AND sender IN ($3, '')),
			(SELECT min(started_at) FROM delivery_attempts
			 WHERE message_id = $1 AND outcome = 'started' AND (lane, attempt) <> ($11, $12))
		FROM cur`,
		m.ID, m.Medium, m.From, m.To, m.Subject, m.Body, m.ThreadKey, int(m.Priority), m.Purpose, m.Ref,
		lane, attempt).Scan(&providerID, &st.Status, &st.OptedOut, &unsettled)
	if err != nil {
		return st, fmt.Errorf("begin attempt: %w", err)
	}
	if unsettled != nil {
		st.Unsettled = *unsettled
	}
	if providerID != nil {
		st.ProviderID = *providerID
	}
	return st, nil
}

// TakeSendSlot claims sender's next send slot if it is due, and moves the
// next one interval later; otherwise it reports how long until the slot is
// due. Every worker claims here, so the rate holds across them. Times are
// the database's, so the workers' clocks do not matter. A slot is due a
// little early (a tenth of the interval, at most 50 ms), so that a worker
// whose own limiter keeps the same pace is not refused for a hair; the next
// slot still counts from this one's, so the rate holds on average.
func (s *Store) TakeSendSlot(ctx context.Context, sender string, interval time.Duration) (granted bool, wait time.Duration, err error) {
	var waitUS int64
	early := min(interval/10, 50*time.Millisecond)
	err = s.pool.QueryRow(ctx, `
		WITH clock AS (SELECT clock_timestamp() AS now, clock_timestamp() + make_interval(secs => $3) AS due_by),
		claim AS (
			INSERT INTO send_slots AS s (sender, next_at)
			SELECT $1, now + make_interval(secs => $2) FROM clock
			ON CONFLICT (sender) DO UPDATE
				SET next_at = GREATEST(s.next_at, (SELECT now FROM clock)) + make_interval(secs => $2)
				WHERE s.next_at <= (SELECT due_by FROM clock)
			RETURNING true
		)
		SELECT EXISTS (SELECT 1 FROM claim),
			COALESCE((SELECT (EXTRACT(EPOCH FROM next_at - (SELECT due_by FROM clock)) * 1e6)::bigint
			          FROM send_slots WHERE sender = $1), 0)`,
		sender, interval.Seconds(), early.Seconds()).Scan(&granted, &waitUS)
	if err != nil {
		return false, 0, fmt.Errorf("take send slot: %w", err)
	}
	return granted, max(time.Duration(waitUS)*time.Microsecond, 0), nil
}

// ProviderIDsInUse reports which of ids are already recorded as some
// message's provider id.
func (s *Store) ProviderIDsInUse(ctx context.Context, ids []string) (map[string]bool, error) {
	rows, err := s.pool.Query(ctx, `SELECT provider_id FROM messages WHERE provider_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("provider ids in use: %w", err)
	}
	used, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("provider ids in use: %w", err)
	}
	out := make(map[string]bool, len(used))
	for _, id := range used {
		out[id] = true
	}
	return out, nil
}

// FinishAttempt records a provider's acceptance of a message: the attempt's
// outcome, the provider id, and the status, folding in any status callbacks
// that arrived before the id was known (the provider may call back before it
// has answered us).
func (s *Store) FinishAttempt(ctx context.Context, id, lane string, attempt int, r klaxon.Receipt) error {
	status := r.Status
	if klaxon.StatusRank(status) < 0 {
		status = klaxon.StatusSent
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockProviderID(ctx, tx, r.ProviderID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `
			WITH a AS (
				UPDATE delivery_attempts SET finished_at = now(), outcome = 'accepted', provider_id = $4
				WHERE message_id = $1 AND lane = $2 AND attempt = $3
			)
			UPDATE messages m SET provider_id = $4, updated_at = now(),
				(status, status_rank) = (
					SELECT c.status, c.rank FROM (
						SELECT m.status, m.status_rank AS rank, 0 AS o
						UNION ALL SELECT $5::text, $6::int, 1
						UNION ALL SELECT e.status, e.rank, 2 FROM status_events e WHERE e.provider_id = $4
					) c ORDER BY c.rank DESC, c.o LIMIT 1)
			WHERE m.id = $1`,
			id, lane, attempt, r.ProviderID, status, klaxon.StatusRank(status))
		return err
	})
	if err != nil {
		return fmt.Errorf("finish attempt: %w", err)
	}
	return nil
}

// lockProviderID serialises, per provider id, the recording of a provider's
// acceptance and of its status callbacks: either may come first, and each
// must see what the other committed.
func lockProviderID(ctx context.Context, tx pgx.Tx, providerID string) error {
	_, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended($1, 0))`, providerID)
	return err
}

// FailAttempt records a failed attempt. When final is set the message itself
// is marked with the status (failed, suppressed or canceled) and reason.
func (s *Store) FailAttempt(ctx context.Context, id, lane string, attempt int, final bool, status string, de *klaxon.DeliveryError) error {
	kind, code, reason := de.Kind, de.Code, de.Reason
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			UPDATE delivery_attempts SET finished_at = now(), outcome = 'failed',
				error_kind = $4, error_code = $5, error_reason = $6
			WHERE message_id = $1 AND lane = $2 AND attempt = $3`,
			id, lane, attempt, kind, code, reason); err != nil {
			return err
		}
		if !final {
			return nil
		}
		_, err := tx.Exec(ctx, `
			UPDATE messages SET status = $2, status_rank = 4, error_kind = $3, error_code = $4,
				error_reason = $5, updated_at = now()
			WHERE id = $1 AND status_rank < 4`, id, status, kind, code, reason)
		return err
	})
	if err != nil {
		return fmt.Errorf("fail attempt: %w", err)
	}
	return nil
}

// Outcomes of an attempt that ended before it reached the provider (an
// attempt that did reach it is accepted or failed).
const (
	// AttemptQueued: the first, fast attempt found the sending number at
	// its rate limit and handed the message to the retrying lane.
	AttemptQueued = "queued"
	// AttemptCanceled: the message was canceled (its page acknowledged)
	// while the attempt waited.
	AttemptCanceled = "canceled"
	// AttemptInterrupted: the attempt was stopped (a stopping worker, a
	// timeout) while it waited, before the provider had the message.
	AttemptInterrupted = "interrupted"
)

// EndAttempt records the outcome of an attempt that ended before it called
// the provider (AttemptQueued, AttemptCanceled, AttemptInterrupted), so
// that no attempt is left "started" and the next one knows that this one
// sent nothing. An attempt that already has an outcome keeps it.
func (s *Store) EndAttempt(ctx context.Context, id, lane string, attempt int, outcome, kind, reason string) error {
	if _, err := s.pool.Exec(ctx, `
		UPDATE delivery_attempts SET finished_at = now(), outcome = $4, error_kind = $5, error_reason = $6
		WHERE message_id = $1 AND lane = $2 AND attempt = $3 AND outcome = 'started'`,
		id, lane, attempt, outcome, kind, reason); err != nil {
		return fmt.Errorf("end attempt: %w", err)
	}
	return nil
}

// MarkMessage sets a final status on a message that is not final yet (for
// example canceled, when a page is acknowledged before its text was sent).
func (s *Store) MarkMessage(ctx context.Context, id, status, kind, reason string) error {
	_, err := s.pool.Exec(ctx, `
		UPDATE messages SET status = $2, status_rank = 4, error_kind = $3, error_reason = $4, updated_at = now()
		WHERE id = $1 AND status_rank < 4`, id, status, kind, reason)
	if err != nil {
		return fmt.Errorf("mark message: %w", err)
	}
	return nil
}

// ApplyStatus records a provider status callback once, and moves the
// message's status forward (never backward) when its provider id is known.
// It returns whether the callback was new, and the id of the message it
// belongs to (empty when not yet known).
func (s *Store) ApplyStatus(ctx context.Context, providerID, status, detail, errorCode string) (fresh bool, messageID string, err error) {
	rank := klaxon.StatusRank(status)
	var mid *string
	err = s.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockProviderID(ctx, tx, providerID); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `
			WITH ev AS (
				INSERT INTO status_events (provider_id, status, rank, detail, error_code)
				VALUES ($1, $2, $5, $3, $4)
				ON CONFLICT (provider_id, status) DO NOTHING
				RETURNING 1
			), upd AS (
				UPDATE messages SET status = $2, status_rank = $5, updated_at = now(),
					error_code = CASE WHEN $4 <> '' THEN $4 ELSE error_code END
				WHERE provider_id = $1 AND status_rank < $5 AND EXISTS (SELECT 1 FROM ev)
				RETURNING id
			)
			SELECT EXISTS (SELECT 1 FROM ev), (SELECT id FROM messages WHERE provider_id = $1)`,
			providerID, status, detail, errorCode, rank).Scan(&fresh, &mid)
	})
	if err != nil {
		return false, "", fmt.Errorf("apply status: %w", err)
	}
	if mid != nil {
		messageID = *mid
	}
	return fresh, messageID, nil
}

// GetMessage returns a message with its attempts and status events.
func (s *Store) GetMessage(ctx context.Context, id string) (MessageRecord, []Attempt, []StatusEvent, error) {
	var m MessageRecord
	var providerID *string
	var prio int
	err := s.pool.QueryRow(ctx, `
		SELECT id, medium, sender, recipient, subject, body, thread_key, priority, purpose, ref,
		       status, provider_id, error_kind, error_code, error_reason, created_at, updated_at
		FROM messages WHERE id = $1`, id).Scan(
		&m.ID, &m.Medium, &m.From, &m.To, &m.Subject, &m.Body, &m.ThreadKey, &prio, &m.Purpose, &m.Ref,
		&m.Status, &providerID, &m.ErrorKind, &m.ErrorCode, &m.ErrorReason, &m.CreatedAt, &m.UpdatedAt)
	if err != nil {
		return m, nil, nil, fmt.Errorf("get message: %w", notFound(err))
	}
	m.Priority = klaxon.Priority(prio)
	if providerID != nil {
		m.ProviderID = *providerID
	}
	rows, err := s.pool.Query(ctx, `
		SELECT lane, attempt, started_at, finished_at, outcome, COALESCE(provider_id, ''), error_kind, error_code, error_reason
		FROM delivery_attempts WHERE message_id = $1 ORDER BY started_at, lane DESC, attempt`, id)
	if err != nil {
		return m, nil, nil, fmt.Errorf("get message attempts: %w", err)
	}
	attempts, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Attempt, error) {
		var a Attempt
		err := r.Scan(&a.Lane, &a.Attempt, &a.StartedAt, &a.FinishedAt, &a.Outcome, &a.ProviderID, &a.ErrorKind, &a.ErrorCode, &a.ErrorReason)
		return a, err
	})
	if err != nil {
		return m, nil, nil, fmt.Errorf("get message attempts: %w", err)
	}
	var events []StatusEvent
	if m.ProviderID != "" {
		rows, err := s.pool.Query(ctx, `
			SELECT status, detail, error_code, received_at FROM status_events
			WHERE provider_id = $1 ORDER BY received_at, id`, m.ProviderID)
		if err != nil {
			return m, nil, nil, fmt.Errorf("get message events: %w", err)
		}
		events, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (StatusEvent, error) {
			var e StatusEvent
			err := r.Scan(&e.Status, &e.Detail, &e.ErrorCode, &e.ReceivedAt)
			return e, err
		})
		if err != nil {
			return m, nil, nil, fmt.Errorf("get message events: %w", err)
		}
	}
	return m, attempts, events, nil
}
