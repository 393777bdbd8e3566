package store

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/klaxonhq/klaxon"
	"github.com/klaxonhq/klaxon/paging"
)

// clip shortens s for an error message.
func clip(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// CreatePolicy stores a validated policy. A taken name is EConflict.
func (s *Store) CreatePolicy(ctx context.Context, p paging.Policy) (paging.Policy, error) {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `
			INSERT INTO escalation_policies (name, repeat_count) VALUES ($1, $2)
			RETURNING id, created_at`, p.Name, p.Repeat).Scan(&p.ID, &p.CreatedAt); err != nil {
			return err
		}
		for i, st := range p.Steps {
			if _, err := tx.Exec(ctx, `
				INSERT INTO escalation_steps (policy_id, position, delay_seconds) VALUES ($1, $2, $3)`,
				p.ID, i, st.DelaySeconds); err != nil {
				return err
			}
			for j, t := range st.Targets {
				if _, err := tx.Exec(ctx, `
					INSERT INTO escalation_step_targets (policy_id, position, ord, target) VALUES ($1, $2, $3, $4)`,
					p.ID, i, j, t); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if isUniqueViolation(err, "escalation_policies_name_key") {
		return p, klaxon.Errorf(klaxon.EConflict, "A policy named %q exists already.", p.Name)
	}
	if err != nil {
		return p, fmt.Errorf("create policy: %w", err)
	}
	return p, nil
}

// PolicyByName returns a policy with its steps, or klaxon.ErrNotFound.
func (s *Store) PolicyByName(ctx context.Context, name string) (paging.Policy, error) {
	ps, err := s.policies(ctx, name)
	if err != nil {
		return paging.Policy{}, fmt.Errorf("policy by name: %w", err)
	}
	if len(ps) == 0 {
		return paging.Policy{}, fmt.Errorf("policy by name: %w", klaxon.ErrNotFound)
	}
	return ps[0], nil
}

// ListPolicies returns every policy with its steps, by name.
func (s *Store) ListPolicies(ctx context.Context) ([]paging.Policy, error) {
	ps, err := s.policies(ctx, "")
	if err != nil {
		return nil, fmt.Errorf("list policies: %w", err)
	}
	return ps, nil
}

// policies loads the policy named name, or all of them for "".
func (s *Store) policies(ctx context.Context, name string) ([]paging.Policy, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT p.id, p.name, p.repeat_count, p.created_at, s.position, s.delay_seconds,
		       COALESCE(array_agg(t.target ORDER BY t.ord) FILTER (WHERE t.target IS NOT NULL), '{}')
		FROM escalation_policies p
		JOIN escalation_steps s ON s.policy_id = p.id
		LEFT JOIN escalation_step_targets t ON t.policy_id = s.policy_id AND t.position = s.position
		WHERE $1 = '' OR p.name = $1
		GROUP BY p.id, s.policy_id, s.position
		ORDER BY p.name, s.position`, name)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []paging.Policy
	for rows.Next() {
		var p paging.Policy
		var st paging.PolicyStep
		var pos int
		if err := rows.Scan(&p.ID, &p.Name, &p.Repeat, &p.CreatedAt, &pos, &st.DelaySeconds, &st.Targets); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].ID != p.ID {
			out = append(out, p)
		}
		last := &out[len(out)-1]
		last.Steps = append(last.Steps, st)
	}
	return out, rows.Err()
}

// SetNotificationRules replaces a user's notification rules; none means the
// defaults.
func (s *Store) SetNotificationRules(ctx context.Context, userID int64, rules []paging.NotificationRule) error {
	for _, r := range rules {
		if !r.Medium.Valid() {
			return klaxon.Errorf(klaxon.EInvalid, `Unknown medium %q: use "sms", "voice" or "email".`, clip(string(r.Medium), 20))
		}
		if r.DelaySeconds < 0 || r.DelaySeconds > paging.MaxDelaySeconds {
			return klaxon.Errorf(klaxon.EInvalid, "delay_seconds must be between 0 and %d.", paging.MaxDelaySeconds)
		}
	}
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM notification_rules WHERE user_id = $1`, userID); err != nil {
			return err
		}
		for _, r := range rules {
			if _, err := tx.Exec(ctx, `
				INSERT INTO notification_rules (user_id, medium, delay_seconds) VALUES ($1, $2, $3)
				ON CONFLICT DO NOTHING`, userID, r.Medium, r.DelaySeconds); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set notification rules: %w", err)
	}
	return nil
}

// NotificationRules returns a user's rules in the order they fire (by delay,
// then sms, voice, email), or the defaults when the user has set none.
func (s *Store) NotificationRules(ctx context.Context, userID int64) ([]paging.NotificationRule, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT medium, delay_seconds FROM notification_rules WHERE user_id = $1
		ORDER BY delay_seconds, CASE medium WHEN 'sms' THEN 0 WHEN 'voice' THEN 1 ELSE 2 END`, userID)
	if err != nil {
		return nil, fmt.Errorf("notification rules: %w", err)
	}
	rules, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (paging.NotificationRule, error) {
		var n paging.NotificationRule
		err := r.Scan(&n.Medium, &n.DelaySeconds)
		return n, err
	})
	if err != nil {
		return nil, fmt.Errorf("notification rules: %w", err)
	}
	if len(rules) == 0 {
		return paging.DefaultNotificationRules(), nil
	}
	return rules, nil
}

// Reachability returns a user's verified contact methods (in the order of
// Contacts) and notification rules (as NotificationRules) in one round trip:
// what a page step needs to know about each person it reaches.
func (s *Store) Reachability(ctx context.Context, userID int64) ([]Contact, []paging.NotificationRule, error) {
	b := &pgx.Batch{}
	var contacts []Contact
	var rules []paging.NotificationRule
	b.Queue(`
		SELECT id, user_id, type, address, status, verified_at, created_at
		FROM contact_methods WHERE user_id = $1 AND status = 'verified'
		ORDER BY CASE type WHEN 'sms' THEN 0 WHEN 'voice' THEN 1 ELSE 2 END, created_at, id`, userID).
		Query(func(rows pgx.Rows) error {
			var err error
			contacts, err = pgx.CollectRows(rows, scanContact)
			return err
		})
	b.Queue(`
		SELECT medium, delay_seconds FROM notification_rules WHERE user_id = $1
		ORDER BY delay_seconds, CASE medium WHEN 'sms' THEN 0 WHEN 'voice' THEN 1 ELSE 2 END`, userID).
		Query(func(rows pgx.Rows) error {
			var err error
			rules, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (paging.NotificationRule, error) {
				var n paging.NotificationRule
				err := r.Scan(&n.Medium, &n.DelaySeconds)
				return n, err
			})
			return err
		})
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return nil, nil, fmt.Errorf("reachability: %w", err)
	}
	if len(rules) == 0 {
		rules = paging.DefaultNotificationRules()
	}
	return contacts, rules, nil
}
