package store

import (
	"context"
	"fmt"
)

// OptOut records that number texted an opt-out keyword (STOP and its
// synonyms) to our number sender: nothing but the confirmation is sent from
// sender to number afterwards. Other senders are not affected, as with
// carriers and Twilio.
func (s *Store) OptOut(ctx context.Context, number, sender, keyword string) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO opt_outs (number, sender, keyword) VALUES ($1, $2, $3)
		ON CONFLICT (number, sender) DO NOTHING`, number, sender, keyword)
	if err != nil {
		return fmt.Errorf("opt out: %w", err)
	}
	return nil
}

// OptIn removes number's opt-out from sender (it texted START).
func (s *Store) OptIn(ctx context.Context, number, sender string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM opt_outs WHERE number = $1 AND sender IN ($2, '')`, number, sender); err != nil {
		return fmt.Errorf("opt in: %w", err)
	}
	return nil
}

// IsOptedOut reports whether number has opted out of texts from sender.
func (s *Store) IsOptedOut(ctx context.Context, number, sender string) (bool, error) {
	var out bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM opt_outs WHERE number = $1 AND sender IN ($2, ''))`, number, sender).Scan(&out)
	if err != nil {
		return false, fmt.Errorf("is opted out: %w", err)
	}
	return out, nil
}
