package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// PurgedNumber stands for a purged phone number where the schema needs
// one.
const PurgedNumber = "purged"

// PurgeCounts is what one purge emptied.
type PurgeCounts struct {
	InboundEvents   int64 `json:"inbound_events"`
	Messages        int64 `json:"messages"`
	ChannelRequests int64 `json:"channel_requests"`
	HotlineIDs      int64 `json:"hotline_ids"`
}

// PurgeBefore empties what people wrote and their numbers from everything
// older than cutoff: the bodies and senders of processed inbound events
// (hotline texts and CHANNEL requests included), the bodies and recipients
// of messages (except those of pages not yet resolved, kept until the page
// closes), the requesters of channel requests, and hotline ids. Rows stay,
// with their times, statuses and outcomes, for the audit log. It runs in
// batches of batch rows per table and is safe to repeat.
func (s *Store) PurgeBefore(ctx context.Context, cutoff time.Time, batch int) (PurgeCounts, error) {
	var c PurgeCounts
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		steps := []struct {
			n *int64
			q string
		}{
			{&c.InboundEvents, `
				UPDATE inbound_events SET body = '', digits = '', from_number = '` + PurgedNumber + `', purged_at = now()
				WHERE id IN (SELECT id FROM inbound_events
					WHERE received_at < $1 AND purged_at IS NULL AND processed_at IS NOT NULL LIMIT $2)`},
			{&c.Messages, `
				UPDATE messages SET body = '', subject = '', recipient = '', purged_at = now()
				WHERE id IN (SELECT m.id FROM messages m
					WHERE m.created_at < $1 AND m.purged_at IS NULL
					  AND NOT (m.purpose = '` + PurposePage + `' AND EXISTS (
						SELECT 1 FROM pages p WHERE p.id::text = m.ref AND p.status <> 'resolved'))
					LIMIT $2)`},
			{&c.ChannelRequests, `
				UPDATE channel_requests SET requester = ''
				WHERE id IN (SELECT id FROM channel_requests WHERE created_at < $1 AND requester <> '' LIMIT $2)`},
			{&c.HotlineIDs, `
				DELETE FROM hotline_ids WHERE (channel_id, sender) IN (
					SELECT channel_id, sender FROM hotline_ids WHERE created_at < $1 LIMIT $2)`},
		}
		for _, st := range steps {
			tag, err := tx.Exec(ctx, st.q, cutoff, batch)
			if err != nil {
				return err
			}
			*st.n = tag.RowsAffected()
		}
		return nil
	})
	if err != nil {
		return c, fmt.Errorf("purge: %w", err)
	}
	return c, nil
}

// purgeChannelTx empties what only a deleted channel needed: the bodies
// and recipients of its messages, and the bodies and senders of the texts
// its number received.
func purgeChannelTx(ctx context.Context, tx pgx.Tx, id int64, number string) error {
	if _, err := tx.Exec(ctx, `
		UPDATE messages SET body = '', subject = '', recipient = '', purged_at = now()
		WHERE purged_at IS NULL AND (ref = $1 OR ref IN (SELECT b.id FROM channel_broadcasts b WHERE b.channel_id = $2))`,
		fmt.Sprintf("channel:%d", id), id); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, `
		UPDATE inbound_events SET body = '', digits = '', from_number = '`+PurgedNumber+`', purged_at = now()
		WHERE to_number = $1 AND purged_at IS NULL AND processed_at IS NOT NULL`, number)
	return err
}
