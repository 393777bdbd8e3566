package store

import (
	"context"
	"fmt"
)

// OptOut records that number texted an opt-out keyword (STOP and its
// synonyms); nothing but the confirmation is sent to it afterwards.
func (s *Store) OptOut(ctx context.Context, number, keyword string) error {
	_, err := s.pool.Exec(ctx, `
		INSERT INTO opt_outs (number, keyword) VALUES ($1, $2)
		ON CONFLICT (number) DO NOTHING`, number, keyword)
	if err != nil {
		return fmt.Errorf("opt out: %w", err)
	}
	return nil
}

// OptIn removes number's opt-out (it texted START).
func (s *Store) OptIn(ctx context.Context, number string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM opt_outs WHERE number = $1`, number); err != nil {
		return fmt.Errorf("opt in: %w", err)
	}
	return nil
}

// IsOptedOut reports whether number has opted out.
func (s *Store) IsOptedOut(ctx context.Context, number string) (bool, error) {
	var out bool
	err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM opt_outs WHERE number = $1)`, number).Scan(&out)
	if err != nil {
		return false, fmt.Errorf("is opted out: %w", err)
	}
	return out, nil
}
