package activities

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/klaxonhq/klaxon/store"
)

// Retention purges what people wrote and their numbers once they are
// older than Window (KLAXON_RETENTION), keeping the rows as the audit
// log's metadata.
type Retention struct {
	Store  *store.Store
	Window time.Duration
	Logger *slog.Logger
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

// purgeBatch bounds one purge transaction per table.
const purgeBatch = 5000

// PurgeCounts is what one purge emptied: the retention workflow's result.
type PurgeCounts struct {
	InboundEvents   int64 `json:"inbound_events"`
	Messages        int64 `json:"messages"`
	ChannelRequests int64 `json:"channel_requests"`
	HotlineIDs      int64 `json:"hotline_ids"`
}

// Purge empties everything older than the window, batch by batch, and
// returns how much it emptied.
func (r *Retention) Purge(ctx context.Context) (PurgeCounts, error) {
	now := time.Now
	if r.Now != nil {
		now = r.Now
	}
	cutoff := now().Add(-r.Window)
	var total PurgeCounts
	for {
		c, err := r.Store.PurgeBefore(ctx, cutoff, purgeBatch)
		if err != nil {
			return total, fmt.Errorf("retention: %w", err)
		}
		total.InboundEvents += c.InboundEvents
		total.Messages += c.Messages
		total.ChannelRequests += c.ChannelRequests
		total.HotlineIDs += c.HotlineIDs
		if c.InboundEvents < purgeBatch && c.Messages < purgeBatch && c.ChannelRequests < purgeBatch && c.HotlineIDs < purgeBatch {
			break
		}
	}
	if r.Logger != nil {
		r.Logger.InfoContext(ctx, "retention purge", "before", cutoff, "inbound_events", total.InboundEvents,
			"messages", total.Messages, "channel_requests", total.ChannelRequests, "hotline_ids", total.HotlineIDs)
	}
	return total, nil
}
