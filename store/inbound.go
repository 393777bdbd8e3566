package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon"
)

// Kinds of inbound event.
const (
	InboundSMS      = klaxon.InboundSMS
	InboundKeypress = klaxon.InboundKeypress
)

// InboundEvent is one text or keypress that reached one of Klaxon's numbers,
// made durable before the webhook was answered.
type InboundEvent struct {
	ID   int64  `json:"id"`
	Kind string `json:"kind"`
	// DedupKey is the MessageSid of a text, or the gather's own key for a
	// keypress (e.g. CallSid + ":" + Digits + ":" + the gather's number). The
	// same key again is the same event.
	DedupKey string `json:"dedup_key"`
	// From is the person: the sender of a text; for a keypress on a call
	// Klaxon placed, the number that was called. Events of one From are
	// processed in arrival order.
	From string `json:"from"`
	// To is which of our numbers they reached.
	To          string     `json:"to"`
	Body        string     `json:"body,omitempty"`
	Digits      string     `json:"digits,omitempty"`
	CallSID     string     `json:"call_sid,omitempty"`
	MessageID   string     `json:"message_id,omitempty"`
	ReceivedAt  time.Time  `json:"received_at"`
	HandedAt    *time.Time `json:"handed_at,omitempty"`
	ProcessedAt *time.Time `json:"processed_at,omitempty"`
	Outcome     string     `json:"outcome,omitempty"`
}

const inboundColumns = `id, kind, dedup_key, from_number, to_number, body, digits, call_sid, message_id,
	received_at, handed_at, processed_at, outcome`

func scanInbound(r pgx.Row) (InboundEvent, error) {
	var e InboundEvent
	err := r.Scan(&e.ID, &e.Kind, &e.DedupKey, &e.From, &e.To, &e.Body, &e.Digits, &e.CallSID, &e.MessageID,
		&e.ReceivedAt, &e.HandedAt, &e.ProcessedAt, &e.Outcome)
	return e, err
}

// RecordInbound makes an inbound event durable. It returns the stored event
// and fresh=true the first time its dedup key is seen; a repeat (Twilio
// retrying a webhook) returns the event already stored and fresh=false, and
// changes nothing.
func (s *Store) RecordInbound(ctx context.Context, e InboundEvent) (InboundEvent, bool, error) {
	err := s.pool.QueryRow(ctx, `
		INSERT INTO inbound_events (kind, dedup_key, from_number, to_number, body, digits, call_sid, message_id)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (dedup_key) DO NOTHING
		RETURNING id, received_at`,
		e.Kind, e.DedupKey, e.From, e.To, e.Body, e.Digits, e.CallSID, e.MessageID).Scan(&e.ID, &e.ReceivedAt)
	if err == nil {
		return e, true, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return e, false, fmt.Errorf("record inbound: %w", err)
	}
	old, err := scanInbound(s.pool.QueryRow(ctx, `SELECT `+inboundColumns+` FROM inbound_events WHERE dedup_key = $1`, e.DedupKey))
	if err != nil {
		return e, false, fmt.Errorf("record inbound: %w", notFound(err))
	}
	return old, false, nil
}

// InboundEventByID returns an inbound event, or klaxon.ErrNotFound.
func (s *Store) InboundEventByID(ctx context.Context, id int64) (InboundEvent, error) {
	e, err := scanInbound(s.pool.QueryRow(ctx, `SELECT `+inboundColumns+` FROM inbound_events WHERE id = $1`, id))
	if err != nil {
		return e, fmt.Errorf("inbound event: %w", notFound(err))
	}
	return e, nil
}

// UnhandedInbound returns up to limit events not yet handed to Temporal, in
// arrival order, with their id, kind, dedup key, sender and arrival time.
func (s *Store) UnhandedInbound(ctx context.Context, limit int) ([]InboundEvent, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, kind, dedup_key, from_number, received_at FROM inbound_events
		WHERE handed_at IS NULL ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("unhanded inbound: %w", err)
	}
	evs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (InboundEvent, error) {
		var e InboundEvent
		err := r.Scan(&e.ID, &e.Kind, &e.DedupKey, &e.From, &e.ReceivedAt)
		return e, err
	})
	if err != nil {
		return nil, fmt.Errorf("unhanded inbound: %w", err)
	}
	return evs, nil
}

// MarkInboundHanded records that an event's workflow exists.
func (s *Store) MarkInboundHanded(ctx context.Context, id int64) error {
	if _, err := s.pool.Exec(ctx, `UPDATE inbound_events SET handed_at = now() WHERE id = $1 AND handed_at IS NULL`, id); err != nil {
		return fmt.Errorf("mark inbound handed: %w", err)
	}
	return nil
}

// BeginInbound returns an event and, when an earlier event of the same
// sender (received at most klaxon.InboundTurnMaxAge before it) is not processed
// yet, that event's id and dedup key: the caller waits its turn so that
// one person's texts are handled in the order they arrived.
func (s *Store) BeginInbound(ctx context.Context, id int64) (e InboundEvent, before InboundEvent, err error) {
	e, err = s.InboundEventByID(ctx, id)
	if err != nil {
		return e, before, fmt.Errorf("begin inbound: %w", err)
	}
	err = s.pool.QueryRow(ctx, `
		SELECT id, dedup_key FROM inbound_events
		WHERE from_number = $1 AND id < $2 AND processed_at IS NULL
		  AND received_at > $3::timestamptz - $4 * interval '1 second'
		ORDER BY id LIMIT 1`, e.From, e.ID, e.ReceivedAt, klaxon.InboundTurnMaxAge.Seconds()).Scan(&before.ID, &before.DedupKey)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return e, before, fmt.Errorf("begin inbound: %w", err)
	}
	return e, before, nil
}

// FinishInbound marks an event processed with its outcome (once: a repeat
// keeps the first outcome) and returns the next unprocessed event of the
// same sender, if any, whose workflow may be waiting for its turn.
func (s *Store) FinishInbound(ctx context.Context, id int64, outcome string) (next InboundEvent, err error) {
	var from string
	err = s.pool.QueryRow(ctx, `
		WITH upd AS (
			UPDATE inbound_events SET processed_at = now(), handed_at = COALESCE(handed_at, now()), outcome = $2
			WHERE id = $1 AND processed_at IS NULL
			RETURNING from_number
		)
		SELECT from_number FROM upd
		UNION ALL
		SELECT from_number FROM inbound_events WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM upd)`, id, outcome).Scan(&from)
	if err != nil {
		return next, fmt.Errorf("finish inbound: %w", notFound(err))
	}
	err = s.pool.QueryRow(ctx, `
		SELECT id, dedup_key FROM inbound_events
		WHERE from_number = $1 AND id > $2 AND processed_at IS NULL
		ORDER BY id LIMIT 1`, from, id).Scan(&next.ID, &next.DedupKey)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return next, fmt.Errorf("finish inbound: %w", err)
	}
	return next, nil
}

// InboundCounts is how many inbound events are in each stage.
type InboundCounts struct {
	Total, Unhanded, Unprocessed int64
}

// CountInbound counts inbound events by stage, for tests and health.
func (s *Store) CountInbound(ctx context.Context) (InboundCounts, error) {
	var c InboundCounts
	err := s.pool.QueryRow(ctx, `
		SELECT count(*), count(*) FILTER (WHERE handed_at IS NULL), count(*) FILTER (WHERE processed_at IS NULL)
		FROM inbound_events`).Scan(&c.Total, &c.Unhanded, &c.Unprocessed)
	if err != nil {
		return c, fmt.Errorf("count inbound: %w", err)
	}
	return c, nil
}

// ClaimReply reports whether Klaxon may send an automatic reply from our
// number `to` to `from` now, and if so records it: at most one per pair
// every `every`, so two robots can never text each other forever.
func (s *Store) ClaimReply(ctx context.Context, from, to string, every time.Duration) (bool, error) {
	tag, err := s.pool.Exec(ctx, `
		INSERT INTO inbound_replies (from_number, to_number) VALUES ($1, $2)
		ON CONFLICT (from_number, to_number) DO UPDATE SET replied_at = now()
		WHERE inbound_replies.replied_at <= now() - make_interval(secs => $3)`,
		from, to, every.Seconds())
	if err != nil {
		return false, fmt.Errorf("claim reply: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}
