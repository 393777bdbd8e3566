package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon"
)

// Subscription is a person's "send me an SMS when …" rule.
type Subscription struct {
	ID       int64
	UserID   int64
	Service  string
	Target   string
	Event    string
	Contains string
	Medium   klaxon.Medium
	Created  time.Time
}

const subscriptionColumns = `id, user_id, service, target, event, contains, medium, created_at`

func scanSubscription(r pgx.Row) (Subscription, error) {
	var s Subscription
	err := r.Scan(&s.ID, &s.UserID, &s.Service, &s.Target, &s.Event, &s.Contains, &s.Medium, &s.Created)
	return s, err
}

// CreateSubscription records a subscription.
func (s *Store) CreateSubscription(ctx context.Context, sub Subscription) (Subscription, error) {
	out, err := scanSubscription(s.pool.QueryRow(ctx, `
		INSERT INTO subscriptions (user_id, service, target, event, contains, medium)
		VALUES ($1, $2, $3, $4, $5, $6) RETURNING `+subscriptionColumns,
		sub.UserID, sub.Service, sub.Target, sub.Event, sub.Contains, string(sub.Medium)))
	if err != nil {
		return out, fmt.Errorf("create subscription: %w", err)
	}
	return out, nil
}

// Subscriptions lists a user's subscriptions, oldest first.
func (s *Store) Subscriptions(ctx context.Context, userID int64) ([]Subscription, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+subscriptionColumns+` FROM subscriptions WHERE user_id = $1 ORDER BY id`, userID)
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Subscription, error) { return scanSubscription(r) })
	if err != nil {
		return nil, fmt.Errorf("list subscriptions: %w", err)
	}
	return out, nil
}

// DeleteSubscription removes one of a user's subscriptions; another user's
// or a missing one is klaxon.ErrNotFound.
func (s *Store) DeleteSubscription(ctx context.Context, userID, id int64) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM subscriptions WHERE id = $1 AND user_id = $2`, id, userID)
	if err != nil {
		return fmt.Errorf("delete subscription: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("delete subscription %d: %w", id, klaxon.ErrNotFound)
	}
	return nil
}

// AnySubscriptions reports whether any subscription may match a page
// event of this kind: when none does, a page need not plan FYIs at all.
func (s *Store) AnySubscriptions(ctx context.Context, event string) (bool, error) {
	var any bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM subscriptions WHERE event IN ('', $1))`, event).Scan(&any); err != nil {
		return false, fmt.Errorf("any subscriptions: %w", err)
	}
	return any, nil
}

// CandidateSubscriptions are the subscriptions whose event, service and
// target fields admit a page event; the caller matches "contains".
func (s *Store) CandidateSubscriptions(ctx context.Context, event, service, target string) ([]Subscription, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT `+subscriptionColumns+` FROM subscriptions
		WHERE event IN ('', $1) AND service IN ('', $2) AND target IN ('', $3)
		ORDER BY id`, event, service, target)
	if err != nil {
		return nil, fmt.Errorf("match subscriptions: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Subscription, error) { return scanSubscription(r) })
	if err != nil {
		return nil, fmt.Errorf("match subscriptions: %w", err)
	}
	return out, nil
}

// ServiceOfPage names the service that opened a page, or "" for none.
func (s *Store) ServiceOfPage(ctx context.Context, pageID int64) (string, error) {
	var name string
	err := s.pool.QueryRow(ctx, `
		SELECT sv.name FROM service_pages sp JOIN services sv ON sv.id = sp.service_id WHERE sp.page_id = $1`, pageID).Scan(&name)
	if err != nil && err != pgx.ErrNoRows {
		return "", fmt.Errorf("service of page %d: %w", pageID, err)
	}
	return name, nil
}

// RecordSubscriptionNotice records that a subscription's FYI for a page
// event is the message messageID; recording it again keeps the first.
// It returns the message id on record.
func (s *Store) RecordSubscriptionNotice(ctx context.Context, subID, pageID int64, event, messageID string) (string, error) {
	var id string
	err := s.pool.QueryRow(ctx, `
		WITH ins AS (
			INSERT INTO subscription_notices (subscription_id, page_id, event, message_id) VALUES ($1, $2, $3, $4)
			ON CONFLICT DO NOTHING RETURNING message_id
		)
		SELECT message_id FROM ins
		UNION ALL
		SELECT message_id FROM subscription_notices WHERE subscription_id = $1 AND page_id = $2 AND event = $3
		LIMIT 1`, subID, pageID, event, messageID).Scan(&id)
	if err != nil {
		return "", fmt.Errorf("record subscription notice: %w", err)
	}
	return id, nil
}
